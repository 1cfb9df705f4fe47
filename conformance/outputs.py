"""Every file a finished run writes, in one place: JUnit, JSON, Markdown summary, HTML, baseline.

Both front ends (the CLI and the pytest plugin) call `write_outputs`, so a run produces the same
files whichever way it was started, each passed through the run's redactor.
"""

from __future__ import annotations

from pathlib import Path

from conformance import baseline
from conformance.ci_report import render_html, render_json, render_markdown
from conformance.config import Settings
from conformance.failures import ConformanceError
from conformance.redact import redactor_for
from conformance.report import write_junit
from conformance.runner import Result
from conformance.verdict import Verdict


def _write(path: Path, text: str, *, append: bool = False) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConformanceError(f"cannot write {path}: {exc}") from exc


def write_outputs(result: Result, verdict: Verdict) -> None:
    """Write each report file the run's settings ask for."""
    s = result.settings
    if s.junit_xml is not None:
        write_junit(result, s.junit_xml, verdict)
    if s.json_report is not None:
        _write(s.json_report, render_json(result, verdict))
    if s.summary_md is not None:
        _write(s.summary_md, render_markdown(result, verdict))
    if s.step_summary is not None:  # GitHub shows what every step of the job appended
        _write(s.step_summary, render_markdown(result, verdict), append=True)
    if s.html is not None:
        _write(s.html, render_html(result, verdict))
    if s.write_baseline is not None:
        try:
            baseline.write(s.write_baseline, verdict.entries())
        except OSError as exc:
            raise ConformanceError(f"cannot write {s.write_baseline}: {exc}") from exc


def write_error_summary(settings: Settings, message: str) -> None:
    """Tell the CI job page that the run could not be made (exit 2), and why."""
    if settings.step_summary is None:
        return
    text = f"## ⚠️ ActionSession conformance: the run could not be made\n\n{message}\n\n"
    try:
        _write(settings.step_summary, redactor_for(settings)(text), append=True)
    except ConformanceError:
        pass  # the error itself is already on stderr; a summary that cannot be written is moot
