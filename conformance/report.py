"""What a person sees: live progress while the run goes, then each failure with its title, the
clause it breaks, the request and response that show it and a curl line, then the warnings on
guessed clauses, the findings a baseline accepts and its entries that no longer occur, then a
summary line. Also the JUnit XML file, one test case per check. Everything shown passes through
the run's redactor (`conformance.redact`).
"""

from __future__ import annotations

import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TextIO

from conformance.config import Settings
from conformance.failures import Finding
from conformance.redact import redactor_for
from conformance.runner import Listener, Outcome, Result
from conformance.verdict import FAILURE, Verdict, judge

MARKS = {"passed": "ok", "failed": "FAIL", "skipped": "skip"}


class ConsoleProgress(Listener):
    """One line per check as it ends, and notes from long phases, on `stream`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._total = 0
        self._done = 0
        self._begun = time.monotonic()
        self._settings: Settings | None = None

    def _write(self, text: str) -> None:
        if self._settings is not None:  # rebuilt each time: a renewed token is a new secret
            text = redactor_for(self._settings)(text)
        self.stream.write(text + "\n")
        self.stream.flush()

    def started(self, settings: Settings, names: list[str]) -> None:
        """Announce the run."""
        self._settings = settings
        self._total = len(names)
        self._begun = time.monotonic()
        self._write(
            f"conformance: {settings.base_url} profile={settings.profile.value} seed={settings.seed} "
            f"run={settings.run_id} checks={self._total}"
        )

    def check_started(self, name: str) -> None:
        """Show which check is running."""
        if self.stream.isatty():
            self.stream.write(f"  ... {name}\r")
            self.stream.flush()

    def note(self, text: str) -> None:
        """Show a phase of a long check."""
        self._write(f"  ... {text}")

    def check_finished(self, outcome: Outcome) -> None:
        """One line: counter, name, result, time."""
        if outcome.name not in ("setup", "cleanup"):
            self._done += 1
        counter = (
            f"[{self._done}/{self._total}]" if outcome.name not in ("setup", "cleanup") else "[--]"
        )
        self._write(
            f"  {counter:>8} {outcome.name:<36} {MARKS[outcome.status]:<5} {outcome.seconds:6.1f}s"
        )


def _finding_lines(n: int, finding: Finding, extra: list[str]) -> list[str]:
    lines = ["", f"{n}. {finding.title}"]
    lines.append(f"   check:    {finding.check}")
    lines.append(f"   contract: {finding.clause}")
    lines.extend(extra)
    for line in finding.detail.splitlines() or [""]:
        lines.append(f"   why:      {line}")
    if finding.request:
        lines.append("   request:")
        lines.extend(f"     {line}" for line in finding.request.splitlines())
    if finding.response:
        lines.append("   response:")
        lines.extend(f"     {line}" for line in finding.response.splitlines())
    if finding.curl:
        lines.append("   reproduce:")
        lines.extend(f"     {line}" for line in finding.curl.splitlines())
    return lines


def render(result: Result, verdict: Verdict | None = None) -> str:
    """The failures, warnings, baseline matters, notes and the summary line (secrets hidden)."""
    verdict = verdict if verdict is not None else judge(result)
    lines: list[str] = []
    for n, judged in enumerate(verdict.failures, 1):
        extra = [f"   guess:    {judged.guess.describe()} (--strict)"] if judged.guess else []
        lines.extend(_finding_lines(n, judged.finding, extra))
    if verdict.warnings:
        lines.append("")
        lines.append(
            "Warnings: findings that rest only on a clause the contract guessed (x-guess); "
            "they do not fail the run unless --strict:"
        )
        for n, judged in enumerate(verdict.warnings, 1):
            assert judged.guess is not None
            extra = [f"   guess:    {judged.guess.describe()}"]
            lines.extend(_finding_lines(n, judged.finding, extra))
    if verdict.accepted:
        lines.append("")
        lines.append(f"Accepted by the baseline ({len(verdict.accepted)}, not failures):")
        lines.extend(
            f"  - [{j.fingerprint}] {j.finding.check}: {j.finding.title}"
            + (f" ({j.operation})" if j.operation else "")
            for j in verdict.accepted
        )
    if verdict.stale:
        lines.append("")
        lines.append(f"Baseline entries that no longer occur ({len(verdict.stale)}; remove them):")
        lines.extend(
            f"  - [{e.fingerprint}] {e.check}: {e.title}"
            + (f" ({e.operation})" if e.operation else "")
            for e in verdict.stale
        )
    notes = [(o.name, n) for o in result.outcomes for n in o.notes]
    if notes:
        lines.append("")
        lines.append("Notes (not failures):")
        lines.extend(f"  - {name}: {text}" for name, text in notes)
    lines.append("")
    lines.append(summary(result, verdict))
    return redactor_for(result.settings)("\n".join(lines))


def summary(result: Result, verdict: Verdict | None = None) -> str:
    """One line: verdict, counts, requests, time, seed."""
    verdict = verdict if verdict is not None else judge(result)
    checks = [o for o in result.outcomes if o.name not in ("setup",)]
    word = "CONFORMS" if verdict.ok else "VIOLATIONS FOUND"
    if result.aborted is not None:
        word = "INCOMPLETE" + ("" if verdict.ok else ", VIOLATIONS FOUND")
    extras = ""
    if verdict.warnings:
        extras += f", {len(verdict.warnings)} warning(s) on guessed clauses"
    if verdict.accepted:
        extras += f", {len(verdict.accepted)} accepted by the baseline"
    if verdict.stale:
        extras += (
            f", {len(verdict.stale)} baseline entr{'y' if len(verdict.stale) == 1 else 'ies'} gone"
        )
    return (
        f"{word}: {len(verdict.failures)} failure(s){extras}; checks {result.count('passed')} passed, "
        f"{result.count('failed')} failed of {len(checks)}; {result.requests} requests in "
        f"{result.seconds:.1f}s{network_summary(result)} (profile {result.settings.profile.value}, "
        f"seed {result.settings.seed}, run {result.settings.run_id})"
    )


def network_summary(result: Result) -> str:
    """How often the run waited for the server, and what it could not finish ("" if nothing)."""
    waits = result.waits
    parts = []
    if waits.throttled:
        statuses = ", ".join(f"{n}x {s}" for s, n in sorted(waits.by_status.items()))
        parts.append(f"waited out {waits.throttled} throttled answer(s) ({statuses})")
    if waits.retried:
        parts.append(f"sent {waits.retried} request(s) again")
    if parts:
        parts[-1] += f", {waits.seconds:.1f}s of waiting"
    if result.aborted is not None:
        parts.append(f"stopped early: {result.aborted}")
    if result.leftovers:
        parts.append(f"{len(result.leftovers)} record(s) left behind")
    return "; " + "; ".join(parts) if parts else ""


def write_junit(result: Result, path: Path, verdict: Verdict | None = None) -> None:
    """One <testcase> per check, a <failure> per failing finding, the seed as a property;
    warnings and baseline-accepted findings go to the case's <system-out>."""
    verdict = verdict if verdict is not None else judge(result)
    redact = redactor_for(result.settings)
    failing = {id(j.finding) for j in verdict.failures}
    suite = ET.Element(
        "testsuite",
        name="conformance",
        tests=str(len(result.outcomes)),
        failures=str(sum(1 for o in result.outcomes if any(id(f) in failing for f in o.findings))),
        skipped=str(result.count("skipped")),
        time=f"{result.seconds:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("base_url", redact(result.settings.base_url)),
        ("profile", result.settings.profile.value),
        ("seed", str(result.settings.seed)),
        ("run_id", result.settings.run_id),
        ("requests", str(result.requests)),
    ):
        ET.SubElement(props, "property", name=key, value=value)
    if result.aborted is not None:
        # A run that stopped early is an error of the run, not a failure of a check.
        ET.SubElement(props, "property", name="aborted", value=result.aborted)
        suite.set("errors", "1")
        case = ET.SubElement(suite, "testcase", classname="conformance", name="run")
        ET.SubElement(case, "error", message="the run could not be completed").text = result.aborted
    for outcome in result.outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="conformance",
            name=outcome.name,
            time=f"{outcome.seconds:.3f}",
        )
        out = list(outcome.notes)
        for finding in outcome.findings:
            text = "\n".join(
                p
                for p in (
                    finding.clause,
                    finding.detail,
                    finding.request,
                    finding.response,
                    finding.curl,
                )
                if p
            )
            status = verdict.status_of(finding)
            if status == FAILURE:
                failure = ET.SubElement(case, "failure", message=redact(finding.title))
                failure.text = redact(text)
            else:
                out.append(redact(f"[{status}] {finding.title}\n{text}"))
        if outcome.status == "skipped":
            ET.SubElement(case, "skipped")
        if out:
            ET.SubElement(case, "system-out").text = redact("\n".join(out))
    suites = ET.Element("testsuites")
    suites.append(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
