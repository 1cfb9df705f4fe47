"""The API's behaviour over stored records: create, view, update, delete and index.

It owns the rules the spec cannot express (references, id uniqueness, date order, computed
fields, delete with force and cascade) and computes derived fields in one place (`_answer`).
It reaches the records only through `mock_server.database.Records` (the database, or a namespace's
overlay), and every write goes through one transaction so that a change is applied whole or
not at all.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mock_server import query
from mock_server.database import Record, Records
from mock_server.domain_errors import (
    DeleteBlocked,
    IdTaken,
    InvalidRecord,
    Problem,
    RecordNotFound,
    Related,
    label,
)
from mock_server.resources import ACTION_ID, ACTION_TABLE, HISTORIZED, MockApi, Resource

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
"""The session members computed from its subscriptions and days; its other computed members are
joined from its action."""
DAY_FORMULAS = (ACTION_ID,)
"""The day member taken from its session; its other computed members are joined from the action."""


class Rules:
    """The mock's state and rules. Plain dicts in and out; thread-safe through the database lock."""

    def __init__(self, db: Records, api: MockApi) -> None:
        self._db = db
        self._api = api
        self._resources = api.resources
        self._answerers: dict[str, Callable[[Record], dict[str, Any]]] = {
            name: self._answer_plain(name) for name in self._resources
        }
        self._answerers[SESSION] = self._answer_session
        self._answerers[DAY] = self._answer_date
        session, day = self._resources[SESSION], self._resources[DAY]
        self._session_joined = tuple(f for f in session.computed if f not in SESSION_FORMULAS)
        self._day_joined = tuple(f for f in day.computed if f not in DAY_FORMULAS)

    def resource(self, name: str) -> Resource:
        """The resource `name` as this API describes it."""
        return self._resources[name]

    # -- operations ------------------------------------------------------------------------
    def index(self, name: str, search: Mapping[str, Any]) -> query.Page:
        resource = self._resources[name]
        fields = resource.fields
        conditions = query.conditions_of(search.get("filter"), fields)
        sort = query.unalias_sort(search.get("sort"), resource.sort_aliases)
        sort_field = sort[1:] if isinstance(sort, str) and sort.startswith("-") else sort
        # Computing joined and counted fields for every record is what makes an index slow on a
        # large table; when neither the filter nor the sort needs them, work on the stored
        # records and compute them for the page alone.
        needs_answers = sort_field in resource.computed or any(
            f in resource.computed for f in conditions
        )
        history = bool(search.get("history", False))
        with self._db.reading():
            answer = self._answerers[name]
            records: list[dict[str, Any]] = [
                raw for raw in self._db.iter_raw(name) if history or not raw.get(HISTORIZED, False)
            ]
            if needs_answers:
                records = [answer(raw) for raw in records]
            if conditions:
                records = [r for r in records if query.matches(r, conditions, fields)]
            records = query.sort_records(records, sort, fields, resource.id_field)
            page = query.paginate(
                records, search.get("per-page"), search.get("page"), self._api.pagination
            )
            if not needs_answers:
                page = dataclasses.replace(page, items=[answer(raw) for raw in page.items])
        return page

    def view(self, name: str, record_id: str) -> dict[str, Any]:
        resource = self._resources[name]
        with self._db.reading():
            raw = self._db.get(name, record_id)
            if raw is None:
                raise RecordNotFound(resource.entity, record_id)
            return self._answerers[name](raw)

    def create(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        resource = self._resources[name]
        record: dict[str, Any] = {f: None for f in resource.stored}
        record.update(resource.defaults)
        record.update(_writable(resource, body, include_id=True))
        with self._db.transaction():
            self._check(resource, record)
            record_id = record.get(resource.id_field)
            if record_id is None:
                record_id = record[resource.id_field] = str(uuid.uuid4())
            elif self._db.contains(name, record_id):
                raise IdTaken(resource.entity, record_id)
            self._db.insert(name, record)
            return _stored(resource, record)

    def update(self, name: str, record_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        resource = self._resources[name]
        changes = _writable(resource, body, include_id=False)
        with self._db.transaction():
            current = self._db.get(name, record_id)
            if current is None:
                raise RecordNotFound(resource.entity, record_id)
            merged = {**current, **changes}
            self._check(resource, merged)
            if changes:
                self._db.update(name, record_id, changes)
            return _stored(resource, merged)

    def delete(self, name: str, record_id: str, *, force: bool) -> None:
        resource = self._resources[name]
        with self._db.transaction():
            if not self._db.contains(name, record_id):
                raise RecordNotFound(resource.entity, record_id)
            related = self._related(resource, record_id)
            if related and not force:
                raise DeleteBlocked(resource.entity, record_id, related)
            for table in resource.dependents:
                entity = self._resources[table].entity
                self._db.remove(table, [r.id for r in related if r.entity == entity])
            self._db.remove(name, [record_id])

    # -- rules ---------------------------------------------------------------------------------
    def rule_problems(
        self, name: str, body: Mapping[str, Any], record_id: str | None = None
    ) -> list[Problem]:
        """The rules the spec cannot state that a create (or an update of `record_id`) breaks.

        Callable on a body that also breaks its schema, so that one answer lists every problem.
        """
        resource = self._resources[name]
        with self._db.reading():
            current = self._db.get(name, record_id) if record_id is not None else {}
            if current is None:
                return []  # the update will answer 404
            record = {**current, **_writable(resource, body, include_id=record_id is None)}
            return self._problems(resource, record)

    def record_problems(self, name: str, record: Mapping[str, Any]) -> list[Problem]:
        """The rules a complete stored record breaks (fixture loading: many records, no writes
        under way, so without taking the lock for each)."""
        return self._problems(self._resources[name], record)

    def _check(self, resource: Resource, record: Mapping[str, Any]) -> None:
        problems = self._problems(resource, record)
        if problems:
            raise InvalidRecord(problems)

    def _problems(self, resource: Resource, record: Mapping[str, Any]) -> list[Problem]:
        problems = []
        for field, table in resource.references.items():
            value = record.get(field)
            if isinstance(value, str) and not self._db.contains(table, value):
                target = (
                    "Action" if table == ACTION_TABLE else _words(self._resources[table].entity)
                )
                problems.append(Problem(field, f'{target} "{value}" does not exist.'))
        if resource.ordered_pair is not None:
            first, second = resource.ordered_pair
            try:
                begins = query.parse_datetime(record[first])
                ends = query.parse_datetime(record[second])
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # the spec's format check reports malformed dates
            else:
                if ends < begins:
                    problems.append(
                        Problem(second, f"{label(second)} must be no earlier than {label(first)}.")
                    )
        return problems

    def _related(self, resource: Resource, record_id: str) -> list[Related]:
        related = []
        for table in resource.dependents:
            dependent = self._resources[table]
            assert dependent.parent_field is not None
            for record in self._db.find(table, dependent.parent_field, record_id):
                related.append(Related(dependent.entity, record[dependent.id_field]))
        return related

    # -- answers: stored fields plus joined and computed ones, computed here only ----------------
    def _answer_plain(self, name: str) -> Callable[[Record], dict[str, Any]]:
        resource = self._resources[name]
        return lambda raw: _stored(resource, raw)

    def _action_fields(self, action_id: Any, joined: tuple[str, ...]) -> dict[str, Any]:
        action = self._db.get(ACTION_TABLE, action_id) if isinstance(action_id, str) else None
        action = action or {}
        return {k: action.get(k) for k in joined}

    def _answer_session(self, raw: Record) -> dict[str, Any]:
        session = self._resources[SESSION]
        answer = _stored(session, raw)
        answer.update(self._action_fields(raw.get(ACTION_ID), self._session_joined))
        session_id = raw[session.id_field]
        subscription = self._resources[SUBSCRIPTION]
        done = [
            s.get("done")
            for s in self._db.find(subscription.name, _parent(subscription), session_id)
        ]
        answer["count_subscribed"] = len(done)
        answer["count_done"] = done.count(1)
        answer["count_fail"] = done.count(0)
        answer["count_unknown"] = done.count(-1)
        day = self._resources[DAY]
        days = self._db.find(day.name, _parent(day), session_id)
        answer["date_begin"] = _day_of(days, "date_begin", min)
        answer["date_end"] = _day_of(days, "date_end", max)
        return answer

    def _answer_date(self, raw: Record) -> dict[str, Any]:
        day = self._resources[DAY]
        answer = _stored(day, raw)
        session = self._db.get(SESSION, raw.get(_parent(day)) or "") or {}
        answer[ACTION_ID] = session.get(ACTION_ID)
        answer.update(self._action_fields(session.get(ACTION_ID), self._day_joined))
        return answer


def _words(entity: str) -> str:
    """`ActionSession` -> "Action Session", as a message shows an entity to a person."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entity)


def _writable(resource: Resource, body: Mapping[str, Any], *, include_id: bool) -> dict[str, Any]:
    """The members a client may set: stored fields only; the id only on create."""
    return {
        k: v
        for k, v in body.items()
        if k in resource.stored and (include_id or k != resource.id_field)
    }


def _parent(resource: Resource) -> str:
    assert resource.parent_field is not None
    return resource.parent_field


def _stored(resource: Resource, raw: Mapping[str, Any]) -> dict[str, Any]:
    return {f: raw.get(f) for f in resource.stored}


def _day_of(days: Iterable[Record], field: str, pick: Callable[..., Any]) -> str | None:
    """The calendar day (as written) of the earliest begin or the latest end among the days."""
    instants = []
    for day in days:
        try:
            instants.append((query.parse_datetime(day[field]), day[field]))
        except (KeyError, TypeError, ValueError):
            continue  # only hand-edited data holds a value the spec would refuse
    if not instants:
        return None
    return str(pick(instants)[1])[:10]
