"""Reports CI systems read: the Markdown summary ($GITHUB_STEP_SUMMARY or --summary), the
self-contained HTML report and the JSON report, each with every finding's evidence."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conformance.outputs import write_outputs
from conformance.runner import run
from conformance.verdict import judge
from tests.conformance.conftest import Served, settings_for


def test_a_failing_run_writes_every_report_with_its_evidence(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve("view_returns_list")
    step = tmp_path / "step-summary.md"
    step.write_text("## An earlier step\n")
    settings = settings_for(
        served.url,
        summary_md=tmp_path / "summary.md",
        step_summary=step,
        html=tmp_path / "report.html",
        json_report=tmp_path / "report.json",
    )
    result = run(settings)
    verdict = judge(result)
    assert len(verdict.failures) >= 2
    write_outputs(result, verdict)

    markdown = (tmp_path / "summary.md").read_text()
    assert markdown.startswith("## ❌ ActionSession conformance: violations found\n")
    assert step.read_text() == "## An earlier step\n" + markdown  # appended, not replaced
    rows = [line for line in markdown.splitlines() if line.startswith("| failure |")]
    assert len(rows) == len(verdict.failures)
    assert markdown.count("<details>") == len(verdict.failures)
    for judged in verdict.failures:
        f = judged.finding
        assert f"`{judged.fingerprint}`" in markdown
        for evidence in (f.request, f.response, f.curl):
            if evidence:
                assert evidence in markdown

    page = (tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    # Self-contained: nothing is fetched from elsewhere (styles inline, no script, no link).
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|@import|url\(", page)
    assert page.count('<section class="failure"') == len(verdict.failures)
    for judged in verdict.failures:
        f = judged.finding
        assert html.escape(f.title) in page
        for evidence in (f.request, f.response, f.curl):
            if evidence:
                assert f"<pre>{html.escape(evidence)}</pre>" in page

    data = json.loads((tmp_path / "report.json").read_text())
    assert data["format"] == "conformance-report/1"
    assert data["ok"] is False
    assert data["summary"]["failures"] == len(verdict.failures)
    assert [f["fingerprint"] for f in data["findings"]] == [j.fingerprint for j in verdict.judged]
    assert all(f["status"] == "failure" for f in data["findings"])
    assert any(f["request"] and f["curl"] for f in data["findings"])
    assert {c["name"] for c in data["checks"]} == {o.name for o in result.outcomes}


def test_a_conforming_run_says_so_in_each_report(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve()
    settings = settings_for(
        served.url,
        checks=frozenset({"sort_order"}),
        schema_layer=False,
        summary_md=tmp_path / "summary.md",
        html=tmp_path / "report.html",
    )
    result = run(settings)
    write_outputs(result, judge(result))
    markdown = (tmp_path / "summary.md").read_text()
    assert markdown.startswith("## ✅ ActionSession conformance: conforms\n")
    assert "| 0 | 0 | 0 | 0 | 2 of 2 |" in markdown  # sort_order and the cleanup passed
    assert "<details>" not in markdown
    page = (tmp_path / "report.html").read_text()
    assert '<h1 class="ok">ActionSession conformance: conforms</h1>' in page
    assert "<section" not in page


def test_a_run_that_cannot_be_made_says_why_on_the_job_page(tmp_path: Path) -> None:
    step = tmp_path / "step.md"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "GITHUB_"))}
    env = {**clean, "GITHUB_STEP_SUMMARY": str(step), "CONFORMANCE_TOKEN": "unreached-token-77"}
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--base-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2
    reason = done.stderr.strip().splitlines()[-1].removeprefix("conformance: error: ")
    assert reason.startswith("cannot reach http://127.0.0.1:9")
    assert step.read_text() == (
        f"## ⚠️ ActionSession conformance: the run could not be made\n\n{reason}\n\n"
    )
