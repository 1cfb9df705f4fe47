"""The ActionSession mock server: a Connexion 3 app served from the contract, its state in TinyDB."""

from __future__ import annotations
