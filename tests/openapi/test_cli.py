"""`python -m openapi`: lint and diff follow one convention (findings, formats, errors, rule lists).

Each test runs both commands on inputs that give each a finding (or the same kind of failure) and
asserts that what a script or a person reads has the same shape in both: the JSON finding's
members, the text line, the stderr line and exit status of an unreadable spec, the columns of
`--list-rules`, and the usage error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from openapi import diff as diff_package
from openapi import lint as lint_package

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = Path(__file__).with_name("lint_fixtures") / "minimal.yaml"
FINDING_MEMBERS = {"rule", "severity", "message", "file", "line", "pointer"}
TEXT_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<severity>error|warning|info) "
    r"(?P<rule>[a-z0-9-]+): (?P<message>.+)$"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m openapi ARGS` in a fresh interpreter, as a user or CI runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "openapi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, Path]:
    """`old`: the minimal spec; `new`: it without its index operation's summary and its delete
    operation (a lint error, a breaking change)."""
    old = tmp_path / "old.yaml"
    old.write_text(MINIMAL.read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))
    del data["paths"]["/v2/thing/index"]["post"]["summary"]
    del data["paths"]["/v2/thing/delete/{id}"]
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return {"old": old, "new": new}


def _commands(specs: dict[str, Path]) -> dict[str, list[str]]:
    return {
        "lint": ["lint", str(specs["new"])],
        "diff": ["diff", str(specs["old"]), str(specs["new"])],
    }


def test_both_give_the_same_json_finding_shape_and_report_members(
    specs: dict[str, Path],
) -> None:
    reports = {}
    for tool, args in _commands(specs).items():
        result = run(*args, "--format", "json")
        assert (result.returncode, result.stderr) == (1, ""), tool
        reports[tool] = json.loads(result.stdout)

    for tool, report in reports.items():
        assert set(report) == {"format", "tool", "inputs", "rules", "findings", "summary"}
        assert (report["format"], report["tool"]) == ("openapi-findings/1", tool)
        assert set(report["summary"]) == {"error", "warning", "info"}
        assert report["findings"], tool
        for finding in report["findings"]:
            assert set(finding) == FINDING_MEMBERS
            assert finding["severity"] in {"error", "warning", "info"}
            assert isinstance(finding["line"], int) and finding["line"] >= 1
            assert finding["pointer"] == "" or finding["pointer"].startswith("/")
    lint_error = next(f for f in reports["lint"]["findings"] if f["severity"] == "error")
    assert lint_error["rule"] == "operation-id-and-summary"
    assert lint_error["file"] == str(specs["new"])
    removed = next(f for f in reports["diff"]["findings"] if f["rule"] == "path-removed")
    assert (removed["severity"], removed["file"]) == ("error", str(specs["old"]))
    assert removed["pointer"] == "/paths/~1v2~1thing~1delete~1{id}"
    lines = specs["old"].read_text(encoding="utf-8").splitlines()
    assert removed["line"] == lines.index("  /v2/thing/delete/{id}:") + 1


def test_both_print_the_same_text_lines_and_summary(specs: dict[str, Path]) -> None:
    for tool, args in _commands(specs).items():
        result = run(*args, "--format", "text")

        assert result.returncode == 1, tool
        *findings, summary = result.stdout.splitlines()
        assert findings, tool
        for line in findings:
            assert TEXT_LINE.match(line), (tool, line)
        assert re.fullmatch(r".+: \d+ errors?, \d+ warnings?, \d+ info \(\d+ rules\)", summary)
        severities = [TEXT_LINE.match(line)["severity"] for line in findings]  # type: ignore[index]
        order = {"error": 0, "warning": 1, "info": 2}
        assert severities == sorted(severities, key=order.__getitem__), tool


def test_both_fail_on_the_same_levels(specs: dict[str, Path]) -> None:
    for tool, args in _commands(specs).items():
        assert run(*args, "--fail-on", "never").returncode == 0, tool
        assert run(*args, "--fail-on", "error").returncode == 1, tool


@pytest.mark.parametrize("tool", ["lint", "diff"])
def test_an_unreadable_spec_is_exit_3_with_one_prefixed_line(tmp_path: Path, tool: str) -> None:
    missing = str(tmp_path / "missing.yaml")
    args = ["lint", missing] if tool == "lint" else ["diff", missing, str(MINIMAL)]

    result = run(*args)

    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == f"openapi {tool}: {missing}: no such file\n"


@pytest.mark.parametrize("tool", ["lint", "diff"])
def test_a_usage_error_is_exit_2_with_one_prefixed_line(tool: str) -> None:
    result = run(tool, "--format", "xml")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"openapi {tool}: argument --format: invalid choice: 'xml'")
    assert result.stderr.count("\n") == 1


def test_list_rules_puts_name_severity_and_summary_in_the_same_columns() -> None:
    layouts = {}
    for tool, rules in (("lint", lint_package.RULES), ("diff", diff_package.RULES.values())):
        result = run(tool, "--list-rules")
        assert (result.returncode, result.stderr) == (0, ""), tool
        lines = result.stdout.splitlines()
        assert len(lines) == len(list(rules)), tool
        starts = set()
        for line in lines:
            name, severity, summary = re.split(r"\s{2,}", line, maxsplit=2)
            assert severity in {"error", "warning", "info"}
            starts.add((line.index(f"  {severity}  ") + 2, line.index(summary)))
        assert len(starts) == 1, (tool, starts)
        layouts[tool] = starts.pop()

    assert layouts["lint"] == layouts["diff"]


def test_no_command_is_a_usage_error_naming_both() -> None:
    result = run()

    assert result.returncode == 2
    assert result.stderr.startswith("openapi: expected a command, lint or diff")
