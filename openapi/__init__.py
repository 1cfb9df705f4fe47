"""The ActionSession API v2 contract, shipped as package data so installed tools can find it."""

from __future__ import annotations

from pathlib import Path

SPEC_PATH: Path = Path(__file__).with_name("openapi.yaml")
"""The OpenAPI 3.0 document: the only route table of the mock and the suite's default contract."""

CONTROL_SPEC_PATH: Path = Path(__file__).with_name("mock-control.yaml")
"""The OpenAPI 3.0 document of the mock's own control API under `/__mock/` (not part of the contract)."""

__all__ = ["CONTROL_SPEC_PATH", "SPEC_PATH"]
