"""The registry of semantic checks and the context each one runs with.

A check is a function registered under its own name with `@check(title=..., clauses=...,
proven_by=...)`: the title is the first line of the `CheckFailure` it raises (and what a
broken-server test looks for), `clauses` the ids of the contract clauses it verifies
(`conformance.clauses`), `proven_by` the broken reference servers (`BUGS` of
tests/conformance_servers/reference.py) it fails on when it runs alone against each
(tests/conformance/test_broken_servers.py proves every one), and `profiles` says in which
profiles it may run.

The context gives checks the calls they all make (an index page, every page of a search, a view,
a record's creation) bound to the run's client, contract and title, so a check reads like its
clause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import hypothesis

from conformance import index
from conformance.clauses import BY_ID
from conformance.config import Profile, Settings
from conformance.failures import CheckFailure
from conformance.world import child_body, create_record, new_family, session_body

if TYPE_CHECKING:
    from conformance.cleanup import Tracker
    from conformance.client import ApiClient, Exchange
    from conformance.world import World
    from openapi.model import ApiModel, Resource

CheckFunction = Callable[["CheckContext"], None]


@dataclass(frozen=True)
class Check:
    """One registered property of the contract."""

    name: str
    title: str
    clauses: tuple[str, ...]  # ids in conformance.clauses
    profiles: frozenset[Profile]
    func: CheckFunction
    guess: str | None = None  # the `x-guess` id of the only clause this check rests on
    proven_by: tuple[str, ...] = ()  # broken reference servers this check fails on

    @property
    def clause(self) -> str:
        """The text of the clauses it verifies, as reports quote them."""
        return "; ".join(f"[{c}] {BY_ID[c].text}" for c in self.clauses)


REGISTRY: dict[str, Check] = {}
FULL: tuple[Profile, ...] = (Profile.FULL,)  # the profiles of a check that writes


def check(
    *,
    title: str,
    clauses: tuple[str, ...],
    proven_by: tuple[str, ...],
    profiles: tuple[Profile, ...] = (Profile.SAFE, Profile.FULL),
    guess: str | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under its function's name; it fails by raising `CheckFailure(title, ...)`.

    `guess` names the `x-guess` marker of the spec clause the check rests on when that clause is
    our own guess: while the spec marks it, the check's findings are warnings (unless --strict).
    """
    unknown = [c for c in clauses if c not in BY_ID]
    if not clauses or unknown:
        raise ValueError(f"a check must name known clauses, got {list(clauses)}")

    def register(func: CheckFunction) -> CheckFunction:
        name = func.__name__
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = Check(
            name, title, clauses, frozenset(profiles), func, guess, tuple(proven_by)
        )
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

    def send(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Exchange:
        """One request (a JSON body unless `body` is None); see `ApiClient.send`."""
        if body is None:
            return self.client.send(method, path, **kwargs)
        return self.client.send(method, path, body, **kwargs)

    def fetch(self, resource: Resource, body: dict[str, Any]) -> index.Page:
        """One index page of `resource`; anything but 200 with an array fails this check."""
        return index.fetch(self.client, self.contract, resource, body, self.title)

    def all_records(
        self, resource: Resource, body: dict[str, Any], max_pages: int | None = None
    ) -> index.Walk:
        """Every page of a search at the largest page size (at most the budget's walk pages)."""
        pages = self.settings.budget.max_walk_pages if max_pages is None else max_pages
        return index.all_records(
            self.client, self.contract, resource, body, max_pages=pages, title=self.title
        )

    def walk(self, resource: Resource, body: dict[str, Any], per_page: int) -> index.Walk:
        """Every page of a search at `per_page` (at most the budget's walk pages)."""
        return index.walk(
            self.client,
            self.contract,
            resource,
            body,
            per_page=per_page,
            max_pages=self.settings.budget.max_walk_pages,
            title=self.title,
        )

    def view(self, resource: Resource, record_id: str) -> Exchange:
        """View a record the check knows exists; anything but 200 fails this check."""
        exchange = self.client.send("GET", resource.path("view", record_id))
        self.expect(
            exchange.status == 200,
            f"view of the run's own {resource.entity} {record_id} answered {exchange.status}",
            exchange,
        )
        return exchange

    def create(self, resource: Resource, body: dict[str, Any]) -> dict[str, Any]:
        """Create a record of the run (tracked); anything but 201 with the record fails."""
        return create_record(self.client, self.tracker, resource, body, self.title)

    def new_family(
        self, seq: int, children: int = 0
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        """A fresh session of the run with `children` records of each child resource (its own
        `seq` keeps families of different checks apart)."""
        return new_family(
            self.settings,
            self.contract,
            self.client,
            self.tracker,
            self.title,
            children=children,
            seq=seq,
        )

    def new_body(self, resource: Resource, parent_id: str, n: int) -> dict[str, Any]:
        """A valid create body of `resource` (server-chosen id; children under `parent_id`)."""
        if resource.parent is None:
            return session_body(self.settings, n)
        return child_body(self.settings, resource, parent_id, n)

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
