"""The registry of semantic checks and the context each one runs with.

A check is a function registered with `@check(name, title=..., clause=...)`: the title is the first
line of the `CheckFailure` it raises (and what a broken-server test looks for), the clause is the
sentence of the contract it verifies, and `profiles` says in which profiles it may run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import hypothesis

from conformance.config import Profile, Settings
from conformance.failures import CheckFailure

if TYPE_CHECKING:
    from conformance.cleanup import Tracker
    from conformance.client import ApiClient, Exchange
    from conformance.world import World
    from openapi.model import ApiModel

CheckFunction = Callable[["CheckContext"], None]


@dataclass(frozen=True)
class Check:
    """One registered property of the contract."""

    name: str
    title: str
    clause: str
    profiles: frozenset[Profile]
    func: CheckFunction
    guess: str | None = None  # the `x-guess` id of the only clause this check rests on


REGISTRY: dict[str, Check] = {}


def check(
    name: str,
    *,
    title: str,
    clause: str,
    profiles: tuple[Profile, ...] = (Profile.SAFE, Profile.FULL),
    guess: str | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under `name`; it fails by raising `CheckFailure(title, ...)`.

    `guess` names the `x-guess` marker of the spec clause the check rests on when that clause is
    our own guess: while the spec marks it, the check's findings are warnings (unless --strict).
    """

    def register(func: CheckFunction) -> CheckFunction:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = Check(name, title, clause, frozenset(profiles), func, guess)
        return func

    return register


@dataclass
class CheckContext:
    """What a check may use: settings, contract, client, the run's data and its tracker."""

    settings: Settings
    contract: ApiModel
    client: ApiClient
    world: World
    tracker: Tracker
    check: Check
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Record something a person should know that is not a violation."""
        self.notes.append(text)

    @property
    def title(self) -> str:
        """The title this check fails with."""
        return self.check.title

    def fail(self, detail: str, exchange: Exchange | None = None) -> NoReturn:
        """Raise this check's failure."""
        raise CheckFailure(self.check.title, detail, exchange)

    def expect(self, condition: bool, detail: str, exchange: Exchange | None = None) -> None:
        """Fail with `detail` unless `condition` holds."""
        if not condition:
            self.fail(detail, exchange)

    def property(self, func: Callable[..., None], *strategies: Any) -> None:
        """Run `func` as a Hypothesis property under the run's seed and example budget."""
        given: Any = hypothesis.given(*strategies)
        runner: Callable[[], None] = hypothesis.settings(
            max_examples=self.settings.budget.property_examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
        )(hypothesis.seed(self.settings.seed)(given(func)))
        try:
            runner()
        except CheckFailure:
            raise
        except BaseExceptionGroup as group:  # Hypothesis wraps flaky failures
            inner = next((e for e in _leaves(group) if isinstance(e, CheckFailure)), None)
            if inner is not None:
                raise inner from group
            raise


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out
