"""What a lint rule is and what it reports: severities, hits, findings, and the `@rule` decorator.

A rule is a named function from a `SpecDocument` to `Hit`s (a JSON pointer and a message); the
runner turns hits into `Finding`s by looking up the line of the pointer. Rules never compute lines.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from jsonschema.exceptions import ValidationError, best_match

from conformance.lint.document import SpecDocument

MAX_MESSAGE = 160


class Severity(enum.IntEnum):
    """How bad a finding is; ordered, so `--fail-on` is a comparison."""

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
class Hit:
    """One problem a rule saw: where (a JSON pointer into the spec) and what."""

    pointer: str
    message: str
    severity: Severity | None = None
    """Overrides the rule's severity for this hit (a rule may also report lesser observations)."""
    line: int | None = None
    """Overrides the line of `pointer`, for what the data no longer shows (a repeated key)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One reported problem, located in the spec file; sorts by file position."""

    file: str
    line: int
    rule: str
    severity: Severity
    message: str
    pointer: str

    def to_json(self) -> dict[str, str | int]:
        """The machine-readable form used by `--format json`."""
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "pointer": "#" + self.pointer,
        }


Check = Callable[[SpecDocument], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A named check of the spec, with the severity of what it finds and a one-line summary."""

    name: str
    severity: Severity
    summary: str
    check: Check

    def run(self, doc: SpecDocument) -> list[Finding]:
        """The findings of this rule on `doc`."""
        return [
            Finding(
                file=doc.source,
                line=hit.line or doc.line_of(hit.pointer),
                rule=self.name,
                severity=hit.severity or self.severity,
                message=hit.message,
                pointer=hit.pointer,
            )
            for hit in self.check(doc)
        ]


def rule(name: str, severity: Severity, summary: str) -> Callable[[Check], Rule]:
    """Make the decorated check function a `Rule` called `name`."""

    def wrap(check: Check) -> Rule:
        return Rule(name=name, severity=severity, summary=summary, check=check)

    return wrap


def shorten(text: str) -> str:
    """`text` on one line, cut to `MAX_MESSAGE` characters (validators quote whole instances)."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def most_specific(error: ValidationError) -> ValidationError:
    """The likeliest cause of a JSON Schema `error`: a failed `oneOf`/`anyOf` names the branch
    that came closest, down to the innermost one, instead of quoting the whole instance."""
    cause = error
    while cause.context:
        deeper = best_match(cause.context)
        if deeper is None:
            break
        cause = deeper
    return cause
