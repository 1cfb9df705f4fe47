"""The findings model shared by the spec tools: severities, rules, and what a rule reports.

`lint` and `diff` speak the same language: a `Rule` has a name, a fixed `Severity` and a one-line
summary; a `Finding` is one thing a rule reports, placed by a JSON pointer in a file and at a
line. For `diff`, `error` means a change that breaks existing clients and `info` one that does not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """How much a finding matters; ordered, so `--fail-on` is a comparison."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The lower-case name used in output and on the command line."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Severity:
        """The severity called `label` (`error`, `warning`, `info`)."""
        return cls[label.upper()]


@dataclass(frozen=True)
class Rule:
    """A named reason for reporting something, with the severity its findings carry."""

    name: str
    severity: Severity
    summary: str


@dataclass(frozen=True)
class Finding:
    """One reported problem or change: which rule, how severe, and where (file, line, pointer)."""

    rule: str
    severity: Severity
    message: str
    file: str
    pointer: str
    """An RFC 6901 JSON pointer into `file` ("" is the document itself)."""
    line: int | None = None
    """The line of the node at `pointer`; None for a document held in memory, without text."""

    def to_json(self) -> dict[str, str | int | None]:
        """The machine-readable form both tools print with `--format json`."""
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
        }


def report_order(finding: Finding) -> tuple[int, str, int, str, str, str]:
    """The order findings are reported in: most severe first, then by place in the files."""
    return (
        -finding.severity,
        finding.file,
        finding.line or 0,
        finding.pointer,
        finding.rule,
        finding.message,
    )
