"""`python -m openapi lint`: output formats, exit statuses, and the project's own spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openapi import SPEC_PATH
from openapi.cli import lint_main as main
from openapi.lint import RULES, lint

MINIMAL = Path(__file__).with_name("lint_fixtures") / "minimal.yaml"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def with_unused_schema(tmp_path: Path) -> Path:
    """The minimal spec plus an unused schema: one warning, nothing worse."""
    spec = tmp_path / "spec.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    spec.write_text(text + "    Unused:\n      type: string\n", encoding="utf-8")
    return spec


@pytest.fixture
def with_missing_summary(tmp_path: Path) -> Path:
    """The minimal spec with an operation that has no summary: one error."""
    spec = tmp_path / "spec.yaml"
    text = MINIMAL.read_text(encoding="utf-8").replace("      summary: View a thing\n", "")
    spec.write_text(text, encoding="utf-8")
    return spec


def test_project_spec_is_lint_clean() -> None:
    assert [f"{f.line}: {f.rule}: {f.message}" for f in lint(str(SPEC_PATH))] == []


def test_clean_spec_exits_0_with_a_clean_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(MINIMAL)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{MINIMAL}: clean ({len(RULES)} rules)\n"
    assert err == ""


def test_error_exits_1_with_path_line_severity_rule_message(
    with_missing_summary: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(with_missing_summary)]) == 1
    out, _ = capsys.readouterr()
    line = with_missing_summary.read_text(encoding="utf-8").split("\n").index("    get:") + 1
    assert out.splitlines() == [
        f"{with_missing_summary}:{line}: error operation-id-and-summary: thing.view has no summary",
        f"{with_missing_summary}: 1 error, 0 warnings, 0 info ({len(RULES)} rules)",
    ]


def test_warning_exits_0_by_default_and_1_with_fail_on_warning(
    with_unused_schema: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(with_unused_schema)]) == 0
    assert main([str(with_unused_schema), "--fail-on", "warning"]) == 1
    assert main([str(with_unused_schema), "--fail-on", "info"]) == 1
    out, _ = capsys.readouterr()
    assert "warning components-unused: components.schemas.Unused is never used" in out


def test_json_format_lists_findings_and_counts(
    with_unused_schema: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(with_unused_schema), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    lines = with_unused_schema.read_text(encoding="utf-8").split("\n")
    assert report == {
        "format": "openapi-findings/1",
        "tool": "lint",
        "inputs": {"spec": str(with_unused_schema)},
        "rules": len(RULES),
        "findings": [
            {
                "rule": "components-unused",
                "severity": "warning",
                "message": "components.schemas.Unused is never used",
                "file": str(with_unused_schema),
                "line": lines.index("    Unused:") + 1,
                "pointer": "/components/schemas/Unused",
            }
        ],
        "summary": {"error": 0, "warning": 1, "info": 0},
    }


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(None, "no such file", id="missing-file"),
        pytest.param("openapi: [3.0.3\n", "not valid YAML at line 2", id="bad-yaml"),
        pytest.param("", "the file is empty", id="empty-file"),
        pytest.param("- openapi: 3.0.3\n", "the top level is not a mapping", id="not-a-mapping"),
        pytest.param("a: 1\na: [\n", "not valid YAML", id="unterminated-flow"),
    ],
)
def test_unreadable_spec_exits_3_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, reason: str
) -> None:
    spec = tmp_path / "spec.yaml"
    if content is not None:
        spec.write_text(content, encoding="utf-8")
    assert main([str(spec)]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"openapi lint: {spec}: ")
    assert reason in err


def test_default_spec_is_the_packaged_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    main(["--format", "json"])
    assert json.loads(capsys.readouterr().out)["inputs"] == {"spec": "openapi/openapi.yaml"}


def test_list_rules_names_every_rule_with_its_severity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--list-rules"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert listed == {rule.name: rule.severity.label for rule in RULES}
    assert len(out.splitlines()) == len(RULES)


def test_module_entry_point_routes_lint(with_missing_summary: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi",
            "lint",
            str(with_missing_summary),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    assert json.loads(completed.stdout)["summary"]["error"] == 1
