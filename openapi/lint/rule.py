"""What a lint rule is: a check function with the shared `Rule` fields, and the hits it yields.

A lint rule is a named function from a `SpecDocument` to `Hit`s (a JSON pointer and a message);
`LintRule.run` turns hits into the shared `Finding`s by looking up the line of the pointer. Rules
never compute lines. The findings model itself (`Rule`, `Severity`, `Finding`) is
`openapi.findings`, shared with `diff`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from jsonschema.exceptions import ValidationError, best_match

from openapi.findings import Finding, Rule, Severity
from openapi.lint.document import SpecDocument

__all__ = ["Check", "Hit", "LintRule", "Severity", "most_specific", "rule", "shorten"]

MAX_MESSAGE = 160


@dataclass(frozen=True)
class Hit:
    """One problem a rule saw: where (a JSON pointer into the spec) and what."""

    pointer: str
    message: str
    severity: Severity | None = None
    """Overrides the rule's severity for this hit (a rule may also report lesser observations)."""
    line: int | None = None
    """Overrides the line of `pointer`, for what the data no longer shows (a repeated key)."""


Check = Callable[[SpecDocument], Iterable[Hit]]


@dataclass(frozen=True)
class LintRule(Rule):
    """A rule of the linter: the shared rule fields and the function that checks a document."""

    check: Check

    def run(self, doc: SpecDocument) -> list[Finding]:
        """The findings of this rule on `doc`."""
        return [
            Finding(
                rule=self.name,
                severity=hit.severity or self.severity,
                message=hit.message,
                file=doc.source,
                pointer=hit.pointer,
                line=hit.line or doc.line_of(hit.pointer),
            )
            for hit in self.check(doc)
        ]


def rule(name: str, severity: Severity, summary: str) -> Callable[[Check], LintRule]:
    """Make the decorated check function a `Rule` called `name`."""

    def wrap(check: Check) -> LintRule:
        return LintRule(name=name, severity=severity, summary=summary, check=check)

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
