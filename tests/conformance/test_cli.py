"""`python -m conformance`: exit codes 0/1/2 with a one-line reason, the report, JUnit output."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.registry import REGISTRY
from tests.conformance.conftest import Served
from tests.serving import free_port

QUICK = [
    "--seed",
    "7",
    "--no-schema-layer",
    "--check",
    "pagination_headers",
    "--check",
    "delete_unknown_404",
]


def test_conforming_server_exits_0_with_a_summary(
    serve: Callable[..., Served], capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve()
    assert main(["--base-url", served.url, "--token", "dev", *QUICK]) == 0
    out = capsys.readouterr()
    assert "CONFORMS: 0 failure(s)" in out.out
    assert "requests in" in out.out and "seed 7" in out.out
    assert "pagination_headers" in out.err  # the live progress


def test_violations_exit_1_with_title_clause_evidence_and_curl(
    serve: Callable[..., Served], capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve("delete_unknown_204")
    assert main(["--base-url", served.url, "--token", "dev", *QUICK]) == 1
    out = capsys.readouterr().out
    assert REGISTRY["delete_unknown_404"].title in out
    assert (
        "contract: [delete.unknown-404] delete: an unknown or already deleted id answers 404" in out
    )
    assert "request:" in out and "response:" in out and "204" in out
    assert "curl -X DELETE" in out and '"Authorization: Bearer $TOKEN"' in out
    assert "dev" not in out.split("reproduce:")[1].split("\n")[1]
    assert "VIOLATIONS FOUND: 1 failure(s)" in out


def test_junit_xml_has_a_testcase_per_check_and_a_failure_per_finding(
    serve: Callable[..., Served], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve("delete_unknown_204")
    junit = tmp_path / "out" / "conformance.xml"
    assert (
        main(["--base-url", served.url, "--token", "dev", "--junit-xml", str(junit), *QUICK]) == 1
    )
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert {"pagination_headers", "delete_unknown_404", "cleanup"} <= set(cases)
    failure = cases["delete_unknown_404"].find("failure")
    assert failure is not None and failure.get("message") == REGISTRY["delete_unknown_404"].title
    assert cases["pagination_headers"].find("failure") is None
    assert {p.get("name"): p.get("value") for p in suite.iter("property")}["seed"] == "7"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--profile", "reckless"], id="unknown-profile"),
        pytest.param(["--max-examples", "zero"], id="non-integer-budget"),
        pytest.param(["--token", "a", "--access-token", "b"], id="two-credentials"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--base-url", "http://127.0.0.1:9", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("conformance: error: bad options")


def test_missing_base_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "--base-url" in capsys.readouterr().err


def test_unreachable_server_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base-url", f"http://127.0.0.1:{free_port()}", "--no-schema-layer"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("conformance: error: cannot reach")


def test_invalid_spec_exits_2_with_one_line(
    tmp_path: Path, serve: Callable[..., Served], capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve()
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n")
    assert main(["--base-url", served.url, "--spec", str(spec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "spec" in err[0]


def test_refused_credential_exits_2(
    serve: Callable[..., Served], capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve()
    assert main(["--base-url", served.url, "--token", "wrong"]) == 2
    assert "refused the credential" in capsys.readouterr().err


def test_missing_credential_exits_2(
    serve: Callable[..., Served], capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve()
    assert main(["--base-url", served.url]) == 2
    assert "requires a credential" in capsys.readouterr().err


def test_module_entry_point_returns_the_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--base-url", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("conformance: error: cannot reach")
