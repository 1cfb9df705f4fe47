"""The suite as a pytest plugin: `pytest --pyargs conformance --base-url URL`, with JUnit output."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from conformance.registry import REGISTRY
from tests.conformance.conftest import Served

REPO = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, url: str) -> tuple[subprocess.CompletedProcess[str], ET.Element]:
    junit = tmp_path / "junit.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conformance.pytest_plugin",
            "--pyargs",
            "conformance",
            "--base-url",
            url,
            "--token",
            "dev",
            "--profile",
            "safe",
            "--seed",
            "3",
            f"--junitxml={junit}",
            "--no-schema-layer",
            "--check",
            "sort_order",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(tmp_path),
            "-c",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    return done, ET.parse(junit).getroot()


def test_plugin_passes_a_conforming_server_one_test_per_check(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve()
    done, junit = _pytest(tmp_path, served.url)
    assert done.returncode == 0, done.stdout[-3000:]
    names = {c.get("name") for c in junit.iter("testcase")}
    assert names == {"test_server_honours[sort_order]"}


def test_plugin_fails_the_test_of_the_broken_check(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve("sort_desc_ignored")
    done, junit = _pytest(tmp_path, served.url)
    assert done.returncode == 1, done.stdout[-3000:]
    failed = {
        c.get("name"): c.find("failure")
        for c in junit.iter("testcase")
        if c.find("failure") is not None
    }
    assert set(failed) == {"test_server_honours[sort_order]"}
    failure = failed["test_server_honours[sort_order]"]
    assert failure is not None
    assert REGISTRY["sort_order"].title in (failure.get("message") or "")
