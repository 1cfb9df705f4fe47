"""What the mock knows about each resource: its table, id, fields, references and dependents.

The three resources share one set of handlers and one store; everything that differs between them
is declared here. The request and response shapes themselves live in the spec, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["string", "integer", "date", "datetime", "object"]


@dataclass(frozen=True)
class Resource:
    """One resource of the API, served under `/v2/{path}/{index|create|view|update|delete}`."""

    name: str
    """The table name, and the operationId prefix in the spec."""
    path: str
    entity: str
    """The Yii2 model name, as blocked deletes list it in `related`."""
    id_field: str
    stored: dict[str, FieldKind]
    """Stored fields, in answer order, with the kind that decides how they compare and sort."""
    computed: dict[str, FieldKind] = field(default_factory=dict)
    """Joined and computed fields that view and index add; read-only."""
    defaults: dict[str, Any] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    """Stored field -> table in which its value must name a record (else 422)."""
    parent_field: str | None = None
    """The field that ties a record to the action session it belongs to."""
    dependents: tuple[str, ...] = ()
    """Tables whose records are deleted with this one (force) or block its delete."""
    ordered_pair: tuple[str, str] | None = None
    """Two date-time fields where the second must not come before the first."""

    @property
    def fields(self) -> dict[str, FieldKind]:
        """Every field a view answers: stored then computed."""
        return {**self.stored, **self.computed}


ACTION_TABLE = "action"
"""The action catalogue: not served by the API, joined into sessions and days."""

ACTION_FIELDS: dict[str, FieldKind] = {
    "action_code": "string",
    "action_name": "string",
    "action_type": "string",
}

ACTION_SESSION = Resource(
    name="action_session",
    path="action-session",
    entity="ActionSession",
    id_field="action_session_id",
    stored={
        "action_session_id": "string",
        "action_id": "string",
        "validity_unit": "string",
        "validity": "integer",
        "subtenant_id": "string",
        "tenant_id": "string",
        "data": "object",
        "manager": "string",
        "assignee": "string",
        "watcher": "string",
    },
    computed={
        **ACTION_FIELDS,
        "count_subscribed": "integer",
        "count_done": "integer",
        "count_fail": "integer",
        "count_unknown": "integer",
        "date_begin": "date",
        "date_end": "date",
    },
    references={"action_id": ACTION_TABLE},
    dependents=("action_session_subscription", "action_session_date"),
)

ACTION_SESSION_SUBSCRIPTION = Resource(
    name="action_session_subscription",
    path="action-session-subscription",
    entity="ActionSessionSubscription",
    id_field="action_session_subscription_id",
    stored={
        "action_session_subscription_id": "string",
        "action_session_id": "string",
        "action_subscription_id": "string",
        "subtenant_id": "string",
        "tenant_id": "string",
        "done": "integer",
        "warning": "integer",
        "certificate_id": "string",
        "date_begin": "date",
        "date_expire": "date",
        "data": "object",
    },
    defaults={"done": -1, "warning": 0},
    references={"action_session_id": ACTION_SESSION.name},
    parent_field="action_session_id",
)

ACTION_SESSION_DATE = Resource(
    name="action_session_date",
    path="action-session-date",
    entity="ActionSessionDate",
    id_field="action_session_date_id",
    stored={
        "action_session_date_id": "string",
        "action_session_id": "string",
        "subtenant_id": "string",
        "tenant_id": "string",
        "date_begin": "datetime",
        "date_end": "datetime",
        "data": "object",
    },
    computed={"action_id": "string", **ACTION_FIELDS},
    references={"action_session_id": ACTION_SESSION.name},
    parent_field="action_session_id",
    ordered_pair=("date_begin", "date_end"),
)

RESOURCES: dict[str, Resource] = {
    r.name: r for r in (ACTION_SESSION, ACTION_SESSION_SUBSCRIPTION, ACTION_SESSION_DATE)
}

ID_FIELDS: dict[str, str] = {
    ACTION_TABLE: "action_id",
    **{r.name: r.id_field for r in RESOURCES.values()},
}

HISTORIZED = "_historized"
"""Internal flag of records that are no longer active; stored, never answered."""
