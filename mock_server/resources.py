"""What the mock knows about each resource: the spec's model plus the rules the spec cannot state.

Members, their kinds and order, the id field, read-only members, defaults, paths, the parent
reference, sort aliases and paging all come from the spec through `openapi.model`: a member added
to a record schema is stored and answered with no change here. What is declared below is only what
an OpenAPI document cannot say: which table a reference must name, which records go (or block)
when their parent is deleted, which two dates must come in order, and the internal tables and
flags of the storage. The computed members' formulas are the rules' (`mock_server.rules`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi import SPEC_PATH
from openapi.model import ApiModel, Pagination, read_api, read_spec
from openapi.model import Resource as ModelResource

ACTION_TABLE = "action"
"""The action catalogue: not served by the API, joined into sessions and days."""

ACTION_ID = "action_id"
"""The catalogue's id field, and the member through which records join an action."""

HISTORIZED = "_historized"
"""Internal flag of records that are no longer active; stored, never answered."""

SESSION = "action_session"
SUBSCRIPTION = "action_session_subscription"
DAY = "action_session_date"
SESSION_FORMULAS = (
    "count_subscribed",
    "count_done",
    "count_fail",
    "count_unknown",
    "date_begin",
    "date_end",
)
"""The session members computed from its subscriptions and days (`mock_server.rules` has the
formulas); its other computed members are joined from its action."""
DAY_FORMULAS = (ACTION_ID,)
"""The day member taken from its session; its other computed members are joined from the action."""


@dataclass(frozen=True)
class Constraints:
    """What the spec cannot say about one resource."""

    references: dict[str, str] = field(default_factory=dict)
    """Stored member -> table in which its value must name a record (else 422)."""
    dependents: tuple[str, ...] = ()
    """Tables whose records are deleted with this one (force) or block its delete."""
    ordered_pair: tuple[str, str] | None = None
    """Two date-time members where the second must not come before the first."""


CONSTRAINTS: dict[str, Constraints] = {
    "action_session": Constraints(
        references={ACTION_ID: ACTION_TABLE},
        dependents=("action_session_subscription", "action_session_date"),
    ),
    "action_session_subscription": Constraints(references={"action_session_id": "action_session"}),
    "action_session_date": Constraints(
        references={"action_session_id": "action_session"},
        ordered_pair=("date_begin", "date_end"),
    ),
}


@dataclass(frozen=True, eq=False)
class Resource:
    """One resource as the mock serves it: the spec's description and the rules beside it."""

    model: ModelResource
    constraints: Constraints

    @property
    def name(self) -> str:
        """The table name, and the operationId prefix in the spec."""
        return self.model.name

    @property
    def entity(self) -> str:
        """The Yii2 model name, as blocked deletes list it in `related`."""
        return self.model.entity

    @property
    def id_field(self) -> str:
        return self.model.id_field

    @property
    def segment(self) -> str:
        """The resource's path segment (`action-session`): also its fixture section's name."""
        return self.model.paths["index"].rstrip("/").split("/")[-2]

    @functools.cached_property
    def stored(self) -> dict[str, str]:
        """Stored members, in answer order, with the kind that decides how they compare and sort."""
        kinds = self.model.item_fields
        # A stored member the listed record does not show cannot be filtered or sorted by.
        return {n: kinds[n].kind if n in kinds else "object" for n in self.model.stored_fields}

    @functools.cached_property
    def computed(self) -> dict[str, str]:
        """Joined and computed members that view and index add; read-only."""
        return {n: self.model.item_fields[n].kind for n in self.model.computed}

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        """Every member a view answers, stored then computed, with its kind."""
        return {**self.stored, **self.computed}

    @property
    def defaults(self) -> dict[str, Any]:
        return self.model.defaults

    @property
    def parent_field(self) -> str | None:
        """The member that ties a record to the action session it belongs to."""
        return self.model.parent_field

    @property
    def sort_aliases(self) -> dict[str, str]:
        return self.model.sort_aliases

    @property
    def references(self) -> dict[str, str]:
        return self.constraints.references

    @property
    def dependents(self) -> tuple[str, ...]:
        return self.constraints.dependents

    @property
    def ordered_pair(self) -> tuple[str, str] | None:
        return self.constraints.ordered_pair

    def path(self, operation: str, record_id: str | None = None) -> str:
        """The concrete path of `operation` (`/v2/action-session/view/ID`)."""
        return self.model.path(operation, record_id)


@dataclass(frozen=True, eq=False)
class MockApi:
    """The API the mock serves, read from one spec (compared and hashed by identity: one
    reading of a spec is one API, whatever another reading of the same file says)."""

    model: ApiModel
    resources: dict[str, Resource]

    @property
    def spec_path(self) -> Path:
        return self.model.path

    @property
    def pagination(self) -> Pagination:
        return self.model.pagination

    @functools.cached_property
    def id_fields(self) -> dict[str, str]:
        """Every stored table (the action catalogue included) -> its id field."""
        return {ACTION_TABLE: ACTION_ID, **{r.name: r.id_field for r in self.resources.values()}}

    @functools.cached_property
    def indexes(self) -> dict[str, tuple[str, ...]]:
        """The secondary indexes the rules need: each dependent table by its parent member."""
        return {
            r.name: (r.parent_field,) for r in self.resources.values() if r.parent_field is not None
        }

    @functools.cached_property
    def joined(self) -> dict[str, tuple[str, ...]]:
        """Each resource's members joined from the action catalogue: its computed members that no
        formula gives."""
        formulas = {SESSION: SESSION_FORMULAS, DAY: DAY_FORMULAS}
        return {
            name: tuple(f for f in r.computed if f not in formulas.get(name, ()))
            for name, r in self.resources.items()
        }

    def by_segment(self) -> Mapping[str, Resource]:
        return {r.segment: r for r in self.resources.values()}


def mock_api(model: ApiModel) -> MockApi:
    """The mock's view of `model`: each resource with the rules declared for it (none if new)."""
    return MockApi(
        model,
        {
            name: Resource(res, CONSTRAINTS.get(name, Constraints()))
            for name, res in model.resources.items()
        },
    )


def read_mock_api(path: Path = SPEC_PATH) -> MockApi:
    """The mock's API from the spec at `path` as it reads now; the packaged spec is read once."""
    if path == SPEC_PATH:
        return _packaged_api()
    return mock_api(read_api(read_spec(path)))


@functools.cache
def _packaged_api() -> MockApi:
    return mock_api(read_api(read_spec(SPEC_PATH)))
