"""Spectral (`spectral:oas`) and Redocly (`recommended`) find nothing in the project's spec.

Both run from the repository's pinned `node_modules` (package.json, package-lock.json), installed
here with `npm ci` when missing or older than the lock file; without npm the tests are skipped.
Warnings count: the contract is meant to be clean, not merely error-free.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from openapi import CONTROL_SPEC_PATH, SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
# Redocly otherwise sends usage data and prints update and Node-version banners.
QUIET_ENV = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}
TIMEOUT = 120


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **QUIET_ENV},
        check=False,
    )


def spectral(node_bin: Path, spec: Path, output: Path) -> list[dict[str, Any]]:
    """Spectral's findings on `spec` at every severity (its JSON goes to a file: on a clean
    spec it also prints a sentence to stdout)."""
    completed = _run(
        [
            str(node_bin / "spectral"),
            "lint",
            "--ruleset",
            str(ROOT / ".spectral.yaml"),
            "--format",
            "json",
            "--output",
            str(output),
            "--fail-severity",
            "hint",
            str(spec),
        ]
    )
    assert output.exists(), completed.stderr
    results: list[dict[str, Any]] = json.loads(output.read_text(encoding="utf-8"))
    return results


def redocly(node_bin: Path, spec: Path) -> dict[str, Any]:
    """Redocly's JSON report on `spec` (its banners go to stderr)."""
    completed = _run(
        [
            str(node_bin / "redocly"),
            "lint",
            "--config",
            str(ROOT / "redocly.yaml"),
            "--format",
            "json",
            str(spec),
        ]
    )
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


@pytest.fixture
def spec_with_unused_schema(tmp_path: Path) -> Path:
    """The project's spec with one more, unused, schema: both tools must see it."""
    spec = tmp_path / "openapi.yaml"
    text = SPEC_PATH.read_text(encoding="utf-8")
    spec.write_text(text.rstrip("\n") + "\n    NeverUsed:\n      type: string\n", encoding="utf-8")
    return spec


def test_spectral_finds_nothing_in_the_spec(node_bin: Path, tmp_path: Path) -> None:
    results = spectral(node_bin, SPEC_PATH, tmp_path / "spectral.json")
    assert [(r["code"], r["range"]["start"]["line"] + 1, r["message"]) for r in results] == []


def test_redocly_finds_nothing_in_the_spec(node_bin: Path) -> None:
    report = redocly(node_bin, SPEC_PATH)
    problems = [(p["ruleId"], p["severity"], p["message"]) for p in report["problems"]]
    assert problems == []
    assert report["totals"]["errors"] == report["totals"]["warnings"] == 0


def test_spectral_reports_an_unused_component(
    node_bin: Path, spec_with_unused_schema: Path, tmp_path: Path
) -> None:
    results = spectral(node_bin, spec_with_unused_schema, tmp_path / "spectral.json")
    assert ("oas3-unused-component", ["components", "schemas", "NeverUsed"]) in [
        (r["code"], r["path"]) for r in results
    ]


def test_redocly_reports_an_unused_component(node_bin: Path, spec_with_unused_schema: Path) -> None:
    report = redocly(node_bin, spec_with_unused_schema)
    assert ("no-unused-components", "#/components/schemas/NeverUsed") in [
        (p["ruleId"], p["location"][0]["pointer"]) for p in report["problems"]
    ]


def test_spectral_finds_nothing_in_the_control_spec(node_bin: Path, tmp_path: Path) -> None:
    results = spectral(node_bin, CONTROL_SPEC_PATH, tmp_path / "spectral.json")
    assert [(r["code"], r["range"]["start"]["line"] + 1, r["message"]) for r in results] == []


def test_redocly_finds_nothing_in_the_control_spec(node_bin: Path) -> None:
    report = redocly(node_bin, CONTROL_SPEC_PATH)
    problems = [(p["ruleId"], p["severity"], p["message"]) for p in report["problems"]]
    assert problems == []
    assert report["totals"]["errors"] == report["totals"]["warnings"] == 0
