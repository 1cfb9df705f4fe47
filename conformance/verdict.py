"""What a run's findings mean for CI: which fail the run, which are warnings, which are accepted.

A finding is
- `accepted` when its fingerprint is in the `--baseline` file;
- a `warning` when it rests only on a clause the spec marks as a guess (`x-guess`), unless
  `--strict` (the report names the guess);
- otherwise a `failure`.
Baseline entries no run finding matched are reported as stale (the defect is gone; drop them).
The run passes when no finding is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance import baseline as baseline_module
from conformance.baseline import Entry
from conformance.failures import Finding
from conformance.guesses import Guess, by_id, marked
from conformance.registry import REGISTRY
from conformance.runner import Result
from openapi.document import SpecError, load_document

FAILURE = "failure"
WARNING = "warning"
ACCEPTED = "accepted"


@dataclass
class Judged:
    """One finding and what it means for this run."""

    finding: Finding
    status: str  # FAILURE, WARNING or ACCEPTED
    operation: str
    fingerprint: str
    guess: Guess | None = None  # the guessed clause it rests on, if it rests on one only


@dataclass
class Verdict:
    """The run's findings, judged; `ok` decides the exit status."""

    judged: list[Judged] = field(default_factory=list)
    stale: list[Entry] = field(default_factory=list)
    strict: bool = False

    def of(self, status: str) -> list[Judged]:
        """The findings judged `status`."""
        return [j for j in self.judged if j.status == status]

    @property
    def failures(self) -> list[Judged]:
        """Findings that fail the run."""
        return self.of(FAILURE)

    @property
    def warnings(self) -> list[Judged]:
        """Findings resting only on a guess (not failing unless --strict)."""
        return self.of(WARNING)

    @property
    def accepted(self) -> list[Judged]:
        """Findings the baseline accepts."""
        return self.of(ACCEPTED)

    @property
    def ok(self) -> bool:
        """Whether the run passes."""
        return not self.failures

    def status_of(self, finding: Finding) -> str:
        """How `finding` was judged."""
        return next((j.status for j in self.judged if j.finding is finding), FAILURE)

    def entries(self) -> list[Entry]:
        """Every finding as a baseline entry (for --write-baseline)."""
        return [
            Entry(j.fingerprint, j.finding.check, j.operation, j.finding.title) for j in self.judged
        ]


def _document(result: Result) -> dict[str, Any]:
    try:
        return load_document(result.settings.spec_path)
    except SpecError:
        return {}


def _templates(document: dict[str, Any]) -> list[str]:
    paths = document.get("paths")
    return list(paths) if isinstance(paths, dict) else []


def guess_of(
    finding: Finding, document: dict[str, Any], spec_guesses: dict[str, Guess]
) -> Guess | None:
    """The guessed clause `finding` rests on only, or None when it rests on a known clause."""
    if finding.pointer:
        return marked(document, finding.pointer)
    registered = REGISTRY.get(finding.check)
    if registered is not None and registered.guess is not None:
        return spec_guesses.get(registered.guess)
    return None


def judge(result: Result) -> Verdict:
    """Judge every finding of `result` against its settings' baseline, guesses and strictness."""
    settings = result.settings
    document = _document(result)
    spec_guesses = by_id(document)
    templates = _templates(document)
    accepted: dict[str, Entry] = {}
    if settings.baseline is not None:
        accepted = {e.fingerprint: e for e in baseline_module.load(settings.baseline)}
    verdict = Verdict(strict=settings.strict)
    seen: set[str] = set()
    for finding in result.findings:
        operation = baseline_module.operation_of(finding, templates)
        guess = guess_of(finding, document, spec_guesses)
        print_ = baseline_module.fingerprint(finding, operation, guess.id if guess else "")
        if print_ in accepted:
            status = ACCEPTED
            seen.add(print_)
        elif guess is not None and not settings.strict:
            status = WARNING
        else:
            status = FAILURE
        verdict.judged.append(Judged(finding, status, operation, print_, guess))
    # An entry of a check this run did not make (a --check subset) is not known to be gone.
    ran = {o.name for o in result.outcomes}
    verdict.stale = [e for p, e in accepted.items() if p not in seen and e.check in ran]
    return verdict
