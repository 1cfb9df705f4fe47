"""The ActionSession API v2 contract, shipped as package data so installed tools can find it."""

from __future__ import annotations

from pathlib import Path

SPEC_PATH: Path = Path(__file__).with_name("openapi.yaml")
"""The OpenAPI 3.0 document: the only route table of the mock and the suite's default contract."""

__all__ = ["SPEC_PATH"]
