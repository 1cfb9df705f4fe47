"""The data a run reasons about, and the scope that keeps its assertions to that data.

In the `full` profile the run creates its own records (sessions under the given references, one
of them with subscriptions and days), marks each with the run id in `data`, and tracks them. In
`safe` it only finds existing data. Either way each resource gets a `Scope`: the filter that
selects the records checks look at, and, when known, the ids that are the run's own (assertions
about exact membership are made only about those, so other clients' records never cause a
failure).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from conformance import index
from conformance.cleanup import Tracker
from conformance.client import ApiClient, id_from_location
from conformance.config import Profile, Settings
from conformance.failures import CheckFailure
from openapi.model import ApiModel, Resource

logger = logging.getLogger(__name__)

SETUP_TITLE = "Could not create the records the checks need"


@dataclass(frozen=True)
class Scope:
    """The records of one resource the checks look at."""

    resource: Resource
    filter: dict[str, Any]
    own: frozenset[str] | None = None  # the run's own ids within the filter, when it made them
    exact: bool = False  # the filter selects only the run's own records

    def is_own(self, record: dict[str, Any]) -> bool:
        """Whether a listed record is one of the run's own (always true when unknown)."""
        return self.own is None or record.get(self.resource.id_field) in self.own


@dataclass
class World:
    """The run's data: a scope per resource, and in `full` the records it made."""

    scopes: dict[str, Scope] = field(default_factory=dict)
    parent_id: str | None = None  # a session of the run with subscriptions and days
    created: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # as sent


def build_world(
    settings: Settings, contract: ApiModel, client: ApiClient, tracker: Tracker
) -> World:
    """Create (full) or find (safe) the data checks run on."""
    if settings.profile is Profile.FULL:
        return _create(settings, contract, client, tracker)
    return _discover(settings, contract, client)


def create_record(
    client: ApiClient, tracker: Tracker, resource: Resource, body: dict[str, Any], title: str
) -> dict[str, Any]:
    """Create one record, track it, and return the stored record the server answered."""
    exchange = client.send("POST", resource.path("create"), body)
    stored = exchange.json()
    record_id = stored.get(resource.id_field) if isinstance(stored, dict) else None
    if exchange.status == 201 and isinstance(record_id, str):
        tracker.add(resource, record_id)
        return dict(stored)
    if exchange.status == 201:
        located = id_from_location(exchange.headers.get("location"))
        if located:
            tracker.add(resource, located)
    raise CheckFailure(
        title,
        f"create of a valid {resource.entity} answered {exchange.status}, expected 201 with the record",
        exchange,
    )


def _session_bodies(settings: Settings, n: int) -> list[dict[str, Any]]:
    refs = settings.references
    units = ["YEAR", "MONTH", "DAY", None]
    validity = [None, 0, 1, 1, 2, 2, 2, 3]
    bodies = []
    for i in range(n):
        body: dict[str, Any] = {
            "action_id": refs.action_id,
            "tenant_id": refs.tenant_id,
            "subtenant_id": refs.subtenant_id,
            "validity_unit": units[i % len(units)],
            "validity": validity[i % len(validity)],
            "data": {**settings.marker, "n": i},
            "manager": None if i % 3 == 0 else json.dumps([f"m{i % 4}"]),
            "assignee": None if i % 2 else json.dumps({"u": f"a{i:02d}"}),
            # The same for every session of the world: filtering on it scopes to exactly them.
            "watcher": json.dumps(settings.run_id),
        }
        if i % 2 == 1:
            body["action_session_id"] = f"{settings.run_id}-s{i:02d}"
        bodies.append(body)
    return bodies


def _child_bodies(
    settings: Settings, resource: Resource, parent_id: str, n: int, offset: int = 0
) -> list[dict[str, Any]]:
    refs = settings.references
    bodies = []
    for j in range(n):
        i = j + offset
        body: dict[str, Any] = {
            "tenant_id": refs.tenant_id,
            "subtenant_id": refs.subtenant_id,
            "data": {**settings.marker, "n": i},
        }
        body[resource.parent_field or "action_session_id"] = parent_id
        fields = resource.writable
        if "action_subscription_id" in fields:
            body["action_subscription_id"] = f"{settings.run_id}-a{i:02d}"
        if "done" in fields:
            body["done"] = (-1, 0, 1)[i % 3]
        if "warning" in fields:
            body["warning"] = i % 2
        if "certificate_id" in fields:
            body["certificate_id"] = None if i % 3 == 0 else f"cert-{i % 4}"
        kinds = {k: f.kind for k, f in fields.items()}
        if kinds.get("date_begin") == "date":
            body["date_begin"] = None if i % 4 == 0 else f"2024-0{1 + i % 3}-1{i % 5}"
        if kinds.get("date_expire") == "date":
            body["date_expire"] = None if i % 5 == 0 else f"2025-0{1 + i % 2}-2{i % 4}"
        if kinds.get("date_begin") == "date-time":
            body["date_begin"] = f"2024-02-{10 + i % 7:02d}T0{8 + i % 2}:00:00Z"
            body["date_end"] = f"2024-02-{10 + i % 7 + (i % 2):02d}T17:30:00Z"
        if i % 2 == 1:
            body[resource.id_field] = f"{settings.run_id}-{resource.entity[-4:].lower()}{i:02d}"
        bodies.append(body)
    return bodies


def _create(settings: Settings, contract: ApiModel, client: ApiClient, tracker: Tracker) -> World:
    root = contract.root
    budget = settings.budget
    world = World()
    sessions = []
    for body in _session_bodies(settings, budget.sessions):
        sessions.append(create_record(client, tracker, root, body, SETUP_TITLE))
    world.created[root.name] = sessions
    parent = sessions[0][root.id_field]
    world.parent_id = parent
    refs = settings.references
    root_filter = {
        k: v
        for k, v in (
            ("tenant_id", refs.tenant_id),
            ("subtenant_id", refs.subtenant_id),
            ("action_id", refs.action_id),
            ("watcher", json.dumps(settings.run_id)),
        )
        if k in root.filter_fields
    }
    exact = "watcher" in root_filter
    world.scopes[root.name] = Scope(root, root_filter, frozenset(tracker.ids(root)), exact=exact)
    for child in contract.children(root):
        n = budget.days if "date_end" in child.writable else budget.subscriptions
        made = [
            create_record(client, tracker, child, body, SETUP_TITLE)
            for body in _child_bodies(settings, child, parent, n)
        ]
        # A second session gets one record too, so parent dates and counts differ across sessions.
        sibling = sessions[1][root.id_field]
        made.append(
            create_record(
                client,
                tracker,
                child,
                _child_bodies(settings, child, sibling, 1, offset=n)[0],
                SETUP_TITLE,
            )
        )
        world.created[child.name] = made
        world.scopes[child.name] = Scope(
            child,
            {child.parent_field or "action_session_id": parent},
            frozenset(r[child.id_field] for r in made[:-1]),
            exact=True,
        )
    return world


def _discover(settings: Settings, contract: ApiModel, client: ApiClient) -> World:
    root = contract.root
    refs = settings.references
    world = World()
    root_filter = {
        k: v
        for k, v in (("tenant_id", refs.tenant_id), ("subtenant_id", refs.subtenant_id))
        if k in root.filter_fields
    }
    world.scopes[root.name] = Scope(root, root_filter)
    listing = index.all_records(
        client, contract, root, {"filter": root_filter}, max_pages=3, title=SETUP_TITLE
    ).records
    for child in contract.children(root):
        # The references' tenant and office select the most varied data; only a child resource
        # without those filters is scoped to the session with the most of its records.
        child_filter = {k: v for k, v in root_filter.items() if k in child.filter_fields}
        if child_filter:
            world.scopes[child.name] = Scope(child, child_filter)
            continue
        best, best_total = None, 0
        for record in listing[:20]:
            record_id = record.get(root.id_field)
            page = index.fetch(
                client,
                contract,
                child,
                {"filter": {child.parent_field: record_id}, "per-page": 1},
                SETUP_TITLE,
            )
            if (page.total or 0) > best_total:
                best, best_total = record_id, page.total or 0
        scope_filter = {child.parent_field or "": best} if best is not None else {}
        world.scopes[child.name] = Scope(child, scope_filter)
    return world


def new_family(
    settings: Settings,
    contract: ApiModel,
    client: ApiClient,
    tracker: Tracker,
    title: str,
    *,
    children: int = 0,
    seq: int = 0,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A fresh session of the run with `children` records of each child resource, for one check."""
    root = contract.root
    body = _session_bodies(settings, 3)[2]
    body["data"] = {**settings.marker, "family": seq}
    body["watcher"] = json.dumps(f"{settings.run_id}-family")  # outside the world's scope
    session = create_record(client, tracker, root, body, title)
    made: dict[str, list[dict[str, Any]]] = {}
    for child in contract.children(root):
        bodies = _child_bodies(
            settings, child, session[root.id_field], children, offset=100 + 10 * seq
        )
        for b in bodies:
            b.pop(child.id_field, None)
        made[child.name] = [create_record(client, tracker, child, b, title) for b in bodies]
    return session, made


def child_body(settings: Settings, child: Resource, parent_id: str, n: int) -> dict[str, Any]:
    """A valid create body of a child record under `parent_id` (server-chosen id)."""
    body = _child_bodies(settings, child, parent_id, 1, offset=200 + n)[0]
    body.pop(child.id_field, None)
    return body


def session_body(settings: Settings, n: int) -> dict[str, Any]:
    """A valid create body of a session under the run's references (server-chosen id)."""
    body = _session_bodies(settings, n + 1)[n]
    body.pop("action_session_id", None)
    body["watcher"] = json.dumps(f"{settings.run_id}-family")  # outside the world's scope
    return body
