"""The ActionSession conformance kit: checks any server against the contract, lints and diffs specs.

It talks HTTP to a base URL and reads the spec by path; it never imports the mock server.
"""

from __future__ import annotations
