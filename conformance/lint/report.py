"""Presenting lint findings: the human and JSON formats, the summary, and the exit status.

Owns the output contract of `python -m conformance lint`: one `path:line: severity rule: message`
line per finding then a summary line (human), or one JSON object (machines); exit 0 when nothing
reaches the `--fail-on` severity, else 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from conformance.lint.rule import Finding, Severity

CLEAN = 0
FINDINGS = 1


def counts(findings: Sequence[Finding]) -> dict[Severity, int]:
    """How many findings there are of each severity (every severity present, most severe first)."""
    tally = {severity: 0 for severity in sorted(Severity, reverse=True)}
    for finding in findings:
        tally[finding.severity] += 1
    return tally


def summary(source: str, findings: Sequence[Finding], rules: int) -> str:
    """The closing line of the human format."""
    if not findings:
        return f"{source}: clean ({rules} rules)"
    tally = counts(findings)
    parts = [
        f"{count} {severity.label}{'s' if count != 1 and severity is not Severity.INFO else ''}"
        for severity, count in tally.items()
    ]
    return f"{source}: {', '.join(parts)} ({rules} rules)"


def render_human(source: str, findings: Sequence[Finding], rules: int) -> str:
    """The human format: one line per finding, then the summary."""
    lines = [
        f"{finding.file}:{finding.line}: {finding.severity.label} {finding.rule}: {finding.message}"
        for finding in findings
    ]
    lines.append(summary(source, findings, rules))
    return "\n".join(lines) + "\n"


def render_json(source: str, findings: Sequence[Finding], rules: int) -> str:
    """The machine format: the spec, every finding, and the counts by severity."""
    document = {
        "spec": source,
        "rules": rules,
        "findings": [finding.to_json() for finding in findings],
        "summary": {severity.label: count for severity, count in counts(findings).items()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def exit_status(findings: Sequence[Finding], fail_on: Severity) -> int:
    """1 when some finding is at least as severe as `fail_on`, else 0."""
    return FINDINGS if any(finding.severity >= fail_on for finding in findings) else CLEAN
