"""What a person sees: live progress while the run goes, then each failure with its title, the
clause it breaks, the request and response that show it and a curl line, then a summary line.
Also the JUnit XML file, one test case per check.
"""

from __future__ import annotations

import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TextIO

from conformance.config import Settings
from conformance.runner import Listener, Outcome, Result

MARKS = {"passed": "ok", "failed": "FAIL", "skipped": "skip"}


class ConsoleProgress(Listener):
    """One line per check as it ends, and notes from long phases, on `stream`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._total = 0
        self._done = 0
        self._begun = time.monotonic()

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def started(self, settings: Settings, names: list[str]) -> None:
        """Announce the run."""
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


def render(result: Result) -> str:
    """The failures and the summary line."""
    lines: list[str] = []
    for n, finding in enumerate(result.findings, 1):
        lines.append("")
        lines.append(f"{n}. {finding.title}")
        lines.append(f"   check:    {finding.check}")
        lines.append(f"   contract: {finding.clause}")
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
    notes = [(o.name, n) for o in result.outcomes for n in o.notes]
    if notes:
        lines.append("")
        lines.append("Notes (not failures):")
        lines.extend(f"  - {name}: {text}" for name, text in notes)
    lines.append("")
    lines.append(summary(result))
    return "\n".join(lines)


def summary(result: Result) -> str:
    """One line: verdict, counts, requests, time, seed."""
    checks = [o for o in result.outcomes if o.name not in ("setup",)]
    verdict = "CONFORMS" if result.ok else "VIOLATIONS FOUND"
    if result.aborted is not None:
        verdict = "INCOMPLETE" + ("" if result.ok else ", VIOLATIONS FOUND")
    return (
        f"{verdict}: {len(result.findings)} failure(s); checks {result.count('passed')} passed, "
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


def write_junit(result: Result, path: Path) -> None:
    """One <testcase> per check, a <failure> per finding, the seed as a property."""
    suite = ET.Element(
        "testsuite",
        name="conformance",
        tests=str(len(result.outcomes)),
        failures=str(result.count("failed")),
        skipped=str(result.count("skipped")),
        time=f"{result.seconds:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("base_url", result.settings.base_url),
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
        for finding in outcome.findings:
            failure = ET.SubElement(case, "failure", message=finding.title)
            failure.text = "\n".join(
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
        if outcome.status == "skipped":
            ET.SubElement(case, "skipped")
        if outcome.notes:
            ET.SubElement(case, "system-out").text = "\n".join(outcome.notes)
    suites = ET.Element("testsuites")
    suites.append(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
