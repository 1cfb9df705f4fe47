"""The ActionSession conformance suite: checks whether any server honours the contract.

It talks HTTP to a base URL and reads the spec by path; it never imports the mock server.
"""

from __future__ import annotations
