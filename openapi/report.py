"""Presenting findings, the same way for every spec tool: text, JSON, the rule list, exit status.

Owns the output contract of `python -m openapi lint` and `python -m openapi diff`:

- text: one `FILE:LINE: SEVERITY RULE: MESSAGE` line per finding (`FILE: ...` when the place has
  no line), most severe first, then a summary line `SUBJECT: N errors, N warnings, N info (R rules)`
  or `SUBJECT: clean (R rules)`;
- JSON: one object, `{"format": "openapi-findings/1", "tool", "inputs", "rules", "findings",
  "summary"}`, each finding with `rule`, `severity`, `message`, `file`, `line`, `pointer`;
- `--list-rules`: one `NAME  SEVERITY  SUMMARY` line per rule, in fixed columns;
- the exit status: `FINDINGS` when a finding reaches the `--fail-on` severity, else `CLEAN`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from openapi.findings import Finding, Rule, Severity

CLEAN = 0
FINDINGS = 1
USAGE = 2
UNREADABLE = 3

JSON_FORMAT = "openapi-findings/1"
FAIL_ON_NEVER = "never"
FAIL_ON = (*(severity.label for severity in sorted(Severity, reverse=True)), FAIL_ON_NEVER)
"""The `--fail-on` choices: a severity (that or worse fails), or `never`."""

RULE_COLUMN = 40
"""Wide enough for every rule name of both tools, so the two rule lists line up."""
SEVERITY_COLUMN = 7


def counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """How many findings there are of each severity (every severity present, most severe first)."""
    tally = {severity: 0 for severity in sorted(Severity, reverse=True)}
    for finding in findings:
        tally[finding.severity] += 1
    return tally


def summary(subject: str, findings: Sequence[Finding], rules: int) -> str:
    """The closing line of the text format."""
    if not findings:
        return f"{subject}: clean ({rules} rules)"
    parts = [
        f"{count} {severity.label}{'s' if count != 1 and severity is not Severity.INFO else ''}"
        for severity, count in counts(findings).items()
    ]
    return f"{subject}: {', '.join(parts)} ({rules} rules)"


def render_text(subject: str, findings: Sequence[Finding], rules: int) -> str:
    """The text format: one line per finding, then the summary."""
    lines = [
        f"{_place(finding)}: {finding.severity.label} {finding.rule}: {finding.message}"
        for finding in findings
    ]
    lines.append(summary(subject, findings, rules))
    return "\n".join(lines) + "\n"


def _place(finding: Finding) -> str:
    if finding.line is None:
        return f"{finding.file}: {finding.pointer or '(the document root)'}"
    return f"{finding.file}:{finding.line}"


def render_json(
    tool: str, inputs: Mapping[str, str], findings: Sequence[Finding], rules: int
) -> str:
    """The JSON format: the inputs, every finding, and the counts by severity."""
    document = {
        "format": JSON_FORMAT,
        "tool": tool,
        "inputs": dict(inputs),
        "rules": rules,
        "findings": [finding.to_json() for finding in findings],
        "summary": {severity.label: count for severity, count in counts(findings).items()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_rules(rules: Iterable[Rule]) -> str:
    """The `--list-rules` layout: name, severity and summary in fixed columns."""
    return "".join(
        f"{rule.name:<{RULE_COLUMN}}  {rule.severity.label:<{SEVERITY_COLUMN}}  {rule.summary}\n"
        for rule in rules
    )


def exit_status(findings: Iterable[Finding], fail_on: str) -> int:
    """`FINDINGS` when some finding is at least as severe as `fail_on` (a label or `never`)."""
    if fail_on == FAIL_ON_NEVER:
        return CLEAN
    threshold = Severity.from_label(fail_on)
    return FINDINGS if any(finding.severity >= threshold for finding in findings) else CLEAN
