"""The index's catalog answers exactly what a scan computes from scratch, after any writes.

The catalog keeps joined fields, counts and dates, buckets and orders up to date as records
change, instead of computing them for every record on every read. These properties build it
first (every sort and filter used once), then apply random creates, updates (moves between
sessions and actions included), deletes (blocked, forced cascades), writes a full disk refuses
(undone), resets and imports; then every index answer and every maintained value is compared
with the from-scratch computation (`Rules.scan_index`, `Rules.view`), in the database and in a
namespace's overlay alike.
"""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server import catalog, database
from mock_server.database import Database, StorageError
from mock_server.domain_errors import DeleteBlocked, IdTaken, InvalidRecord, RecordNotFound
from mock_server.fixtures import fixture_format
from mock_server.overlay import Overlay
from mock_server.resources import (
    ACTION_TABLE,
    DAY,
    HISTORIZED,
    SESSION,
    SUBSCRIPTION,
    read_mock_api,
)
from mock_server.rules import Rules
from tests.mock_server.disks import FaultyDisk

API = read_mock_api()
FORMAT = fixture_format(API)
RESOURCES = API.resources
ID_FIELDS = API.id_fields
SESSIONS = SESSION
SUBS = SUBSCRIPTION
DAYS = DAY

# Names that tie case-insensitively, and an action whose fields are null.
ACTIONS: list[dict[str, Any]] = [
    {"action_id": "act-1", "action_code": "A1", "action_name": "Safety", "action_type": "TRAINING"},
    {"action_id": "act-2", "action_code": "a1", "action_name": "safety", "action_type": "CHECK"},
    {"action_id": "act-3", "action_code": "B2", "action_name": "Évacuation", "action_type": "PER"},
    {"action_id": "act-4", "action_code": None, "action_name": None, "action_type": "HEALTH"},
]
TENANTS = ["ten-1", "ten-2", "Ten-1"]
# Instants of one day in several spellings and offsets: the first and last day must be exact.
INSTANTS = [
    "2024-01-10T09:00:00Z",
    "2024-01-10t09:00:00z",
    "2024-01-10T10:00:00+01:00",
    "2024-01-09T23:30:00-02:00",
    "2024-03-01T00:00:00Z",
    "2023-12-31T23:59:59Z",
    "2024-01-10T09:00:00",
]


def _initial() -> dict[str, list[dict[str, Any]]]:
    sessions = [
        {"action_session_id": f"s-{n}", "action_id": f"act-{1 + n % 4}", "subtenant_id": "sub-1",
         "tenant_id": TENANTS[n % 3], "validity_unit": [None, "MONTH", "YEAR"][n % 3],
         "validity": [None, 12, 3, 12][n % 4], "data": None, "manager": None,
         "assignee": ["Ann", "ann", None][n % 3], "watcher": None,
         **({HISTORIZED: True} if n in (2, 5) else {})}
        for n in range(6)
    ]  # fmt: skip
    subs = [
        {"action_session_subscription_id": f"u-{n}", "action_session_id": f"s-{n % 4}",
         "action_subscription_id": f"as-{n % 3}", "subtenant_id": "sub-1", "tenant_id": TENANTS[n % 2],
         "done": [-1, 0, 1][n % 3], "warning": n % 2, "certificate_id": None,
         "date_begin": ["2024-01-01", None][n % 2], "date_expire": None, "data": None,
         **({HISTORIZED: True} if n == 6 else {})}
        for n in range(8)
    ]  # fmt: skip
    days = [
        {"action_session_date_id": f"d-{n}", "action_session_id": f"s-{n % 3}", "subtenant_id": "sub-1",
         "tenant_id": "ten-1", "date_begin": INSTANTS[n % 4], "date_end": INSTANTS[4], "data": None,
         **({HISTORIZED: True} if n == 1 else {})}
        for n in range(4)
    ]  # fmt: skip
    return {ACTION_TABLE: ACTIONS, SESSIONS: sessions, SUBS: subs, DAYS: days}


def _sort_fields(name: str) -> list[str]:
    fields = [f for f, kind in RESOURCES[name].fields.items() if kind != "object"]
    return fields + (["name"] if name == SESSIONS else [])


def _searches(rules: Rules, name: str) -> Iterator[dict[str, Any]]:
    """Every sort both ways and none, and a filter on every field by a value some record holds."""
    for history in (False, True):
        yield {"history": history}
        for field in _sort_fields(name):
            for sort in (field, f"-{field}"):
                yield {"sort": sort, "history": history}
    everything = rules.scan_index(name, {"history": True}).items
    for field, kind in RESOURCES[name].fields.items():
        if kind == "object":
            continue
        values = {repr(r[field]): r[field] for r in everything if r[field] is not None}
        for value in list(values.values())[:2]:
            yield {"filter": {field: value}, "sort": f"-{field}"}
            yield {"filter": {field: value, "tenant_id": "ten-1"}, "history": True}
    yield {"filter": {"date_begin": "2024-01-10T08:00:00Z"}}  # an instant spelt another way


def _assert_catalog_matches_a_scan(rules: Rules, container: Database | Overlay) -> None:
    for name in RESOURCES:
        for search in _searches(rules, name):
            # A whole list, and pages some way in, read forwards or backwards in the order.
            for page in ({"per-page": 100}, {"per-page": 2, "page": 2}, {"per-page": 3, "page": 3}):
                body = {**search, **page}
                expected = rules.scan_index(name, body)
                got = rules.index(name, body)
                assert got == expected, (name, body)
        computed = RESOURCES[name].computed
        with container.reading():
            ids = [r[ID_FIELDS[name]] for r in container.iter_raw(name)]
        for record_id in ids:
            answer = rules.view(name, record_id)
            with container.reading():
                catalog = container.catalog(API)
                for field in computed:
                    assert catalog.value(name, record_id, field) == answer[field], (
                        name,
                        record_id,
                        field,
                    )


def _pick(rules: Rules, name: str, n: int) -> str:
    ids = [r[ID_FIELDS[name]] for r in rules.scan_index(name, {"history": True}).items]
    # An unknown id now and then: the write is refused and changes nothing.
    return ids[n % len(ids)] if ids and n % 7 else f"ghost-{n}"


_ops = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "create_session",
                "create_tied_session",
                "recreate_session",
                "recreate_day",
                "update_session",
                "delete_session",
                "force_delete_session",
                "create_sub",
                "update_sub",
                "move_sub",
                "delete_sub",
                "create_day",
                "update_day",
                "move_day",
                "delete_day",
                "full_disk_create_sub",
                "full_disk_force_delete",
                "reset",
                "import_merge",
                "toggle_history",
            ]
        ),  # fmt: skip
        st.integers(0, 40),
        st.integers(0, 40),
    ),
    max_size=18,
)


def _apply(op: str, a: int, b: int, rules: Rules, container: Database | Overlay) -> None:
    if op == "create_session":
        rules.create(SESSIONS, {"action_id": f"act-{1 + a % 4}", "subtenant_id": "sub-1",
                                "tenant_id": TENANTS[b % 3], "validity": [None, 12, 0][b % 3],
                                "assignee": ["Bob", "bob", None][a % 3]})  # fmt: skip
    elif op == "create_tied_session":
        # Every stored field as session s-1 has it (the counts and dates as other new ones),
        # and a client-chosen id that sorts before, among or after the others: ties found by
        # id in both directions, in runs of equal keys across chunks, read both ways.
        record_id = [f"0-{a}", f"s-1{a}", f"t-{a}"][b % 3]
        rules.create(SESSIONS, {"action_session_id": record_id, "action_id": "act-2",
                                "subtenant_id": "sub-1", "tenant_id": "ten-2",
                                "validity_unit": "MONTH", "validity": 12, "data": None,
                                "manager": None, "assignee": "ann", "watcher": None})  # fmt: skip
    elif op == "recreate_session":
        # A client-chosen id, deleted just before: where is it listed in storage order now?
        rules.delete(SESSIONS, f"s-{a % 8}", force=True) if b % 2 else None
        rules.create(SESSIONS, {"action_session_id": f"s-{a % 8}", "action_id": "act-2",
                                "subtenant_id": "sub-2", "tenant_id": TENANTS[b % 3]})  # fmt: skip
    elif op == "recreate_day":
        rules.delete(DAYS, f"d-{a % 6}", force=False) if b % 2 else None
        rules.create(DAYS, {"action_session_date_id": f"d-{a % 6}",
                            "action_session_id": _pick(rules, SESSIONS, b), "subtenant_id": "sub-1",
                            "tenant_id": "ten-1", "date_begin": INSTANTS[a % 7],
                            "date_end": INSTANTS[4]})  # fmt: skip
    elif op == "update_session":
        rules.update(SESSIONS, _pick(rules, SESSIONS, a),
                     {"action_id": f"act-{1 + b % 4}", "tenant_id": TENANTS[b % 3]})  # fmt: skip
    elif op in ("delete_session", "force_delete_session"):
        rules.delete(SESSIONS, _pick(rules, SESSIONS, a), force=op.startswith("force"))
    elif op == "create_sub":
        rules.create(SUBS, {"action_session_id": _pick(rules, SESSIONS, a),
                            "action_subscription_id": "as-x", "subtenant_id": "sub-1",
                            "tenant_id": TENANTS[b % 2], "done": [-1, 0, 1][b % 3]})  # fmt: skip
    elif op == "update_sub":
        rules.update(SUBS, _pick(rules, SUBS, a), {"done": [-1, 0, 1][b % 3], "warning": b % 2})
    elif op == "move_sub":
        rules.update(SUBS, _pick(rules, SUBS, a), {"action_session_id": _pick(rules, SESSIONS, b)})
    elif op == "delete_sub":
        rules.delete(SUBS, _pick(rules, SUBS, a), force=False)
    elif op == "create_day":
        rules.create(DAYS, {"action_session_id": _pick(rules, SESSIONS, a),
                            "subtenant_id": "sub-1", "tenant_id": "ten-2",
                            "date_begin": INSTANTS[b % 7], "date_end": INSTANTS[4]})  # fmt: skip
    elif op == "update_day":
        rules.update(DAYS, _pick(rules, DAYS, a),
                     {"date_begin": INSTANTS[b % 7], "date_end": INSTANTS[(b + a) % 7]})  # fmt: skip
    elif op == "move_day":
        rules.update(DAYS, _pick(rules, DAYS, a), {"action_session_id": _pick(rules, SESSIONS, b)})
    elif op == "delete_day":
        rules.delete(DAYS, _pick(rules, DAYS, a), force=False)
    elif op.startswith("full_disk"):
        if not isinstance(container, Database):
            return
        _DISK.error = errno.ENOSPC
        try:
            if op == "full_disk_create_sub":
                _apply("create_sub", a, b, rules, container)
            else:
                _apply("force_delete_session", a, b, rules, container)
        finally:
            _DISK.error = None
    elif op == "reset":
        tables = FORMAT.tables_of(_initial())
        container.replace_all(tables)
    elif op == "toggle_history":
        # A record becomes historized, or active again, in place (only imported data does so
        # today): it leaves or rejoins the active lists where it is.
        name = [SESSIONS, SUBS, DAYS][b % 3]
        record_id = _pick(rules, name, a)
        with container.transaction():
            record = container.get(name, record_id)
            if record is not None:
                container.update(name, record_id, {HISTORIZED: not record.get(HISTORIZED, False)})
    elif op == "import_merge":
        # A whole-data write that changes an action: every session and day answering it follows.
        with container.transaction():
            tables = {t: {r[ID_FIELDS[t]]: r for r in container.iter_raw(t)} for t in ID_FIELDS}
            renamed = dict(tables[ACTION_TABLE]["act-1"], action_name=["zeta", "Safety"][a % 2])
            tables[ACTION_TABLE] = {**tables[ACTION_TABLE], "act-1": renamed}
            container.replace_all(tables)


_DISK = FaultyDisk(lambda name: name.endswith(".journal"))


@contextmanager
def _container(kind: str) -> Iterator[Database | Overlay]:
    if kind == "overlay":
        yield Overlay(FORMAT.base_data(FORMAT.tables_of(_initial())))
        return
    with tempfile.TemporaryDirectory() as work, pytest.MonkeyPatch.context() as patch:
        patch.setattr(database, "open", _DISK.open, raising=False)
        db = Database(Path(work) / "db.json", ID_FIELDS, API.indexes)
        db.open(_initial)
        try:
            yield db
        finally:
            db.close()


@pytest.mark.parametrize("kind", ["database", "overlay"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    ops=_ops,
    warm=st.booleans(),
    ratio=st.sampled_from([0, 4, 10**9]),
    chunk=st.sampled_from([1, 2, 3, 512]),
)
@example(  # a namespace's catalog follows a record deleted and created again (listed in place)
    ops=[("create_sub", 1, 1)] * 5 + [("recreate_session", 1, 1), ("recreate_day", 1, 1)],
    warm=True,
    ratio=4,
    chunk=512,
)
@example(  # long runs of equal keys over chunks of two ids, each place found in both directions
    ops=[("create_tied_session", n, n) for n in range(12)]
    + [("force_delete_session", 3, 0), ("update_session", 8, 1), ("create_tied_session", 1, 2)],
    warm=True,
    ratio=10**9,
    chunk=2,
)
def test_catalog_answers_exactly_what_a_scan_computes_after_random_writes(
    kind: str, ops: list[tuple[str, int, int]], warm: bool, ratio: int, chunk: int
) -> None:
    # Both ways to order a filter's matches (walk the order, or sort the matches) are taken, and
    # sort orders of a few ids per chunk (split and emptied by the writes) as well as of one.
    with _container(kind) as container, pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog, "_CHUNK", chunk)
        patch.setattr(catalog, "_WALK_RATIO", ratio)
        patch.setattr(catalog, "_REMEMBER_FROM", 0 if ratio == 4 else 10**9)
        rules = Rules(container, API)
        if warm:
            # Every structure built before the writes, so that the writes must keep it exact;
            # without, they are built afterwards from the changed data.
            _assert_catalog_matches_a_scan(rules, container)
        for n, (op, a, b) in enumerate(ops, start=1):
            try:
                _apply(op, a, b, rules, container)
            except (InvalidRecord, IdTaken, RecordNotFound, DeleteBlocked, StorageError):
                pass  # refused, or undone: the catalog must have followed the undo too
            if warm and n % 5 == 0:
                # Searched again midway: a namespace's own catalog exists from its first change
                # on, and must follow the changes after it.
                _assert_catalog_matches_a_scan(rules, container)
        _assert_catalog_matches_a_scan(rules, container)


def test_a_descending_probe_compares_backwards_with_plain_ids_on_either_side() -> None:
    # A descending order holds its ties by id descending: the probe that finds a place among
    # them must order backwards whichever side of the comparison it is on.
    probe = catalog._Descending("m")
    assert ("z" < probe, "a" < probe, probe < "z", probe < "a") == (True, False, False, True)
    assert ("z" > probe, "a" > probe, probe > "z", probe > "a") == (False, True, True, False)
    held = ["z", "q", "m", "c", "a"]
    assert sorted(["a", "z", "c", "q", probe], key=catalog._Descending) == held


_order_ops = st.lists(
    st.tuples(
        st.sampled_from(["insert", "remove", "hide", "show"]),
        st.integers(0, 30),
        st.integers(0, 3),
        st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(ops=_order_ops, reverse=st.booleans(), chunk=st.sampled_from([1, 2, 3, 512]))
def test_an_order_reads_every_position_with_and_without_its_historized_ids(
    ops: list[tuple[str, int, int, bool]], reverse: bool, chunk: int
) -> None:
    # One order holds the historized ids too and counts them per chunk: every slice of it, with
    # them and without, is what sorting the ids from scratch gives, after any inserts, removals
    # and ids becoming historized or active again in place.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog, "_CHUNK", chunk)
        keys: dict[str, catalog.Key] = {}
        hidden: set[str] = set()
        order = catalog._Order([], keys, hidden, reverse)
        for op, n, key_value, historized in ops:
            doc_id = f"id-{n:02d}"
            key: catalog.Key = (True, key_value)
            if op == "insert" and doc_id not in keys:
                keys[doc_id] = key
                if historized:
                    hidden.add(doc_id)
                order.insert(key, doc_id, historized)
            elif op == "remove" and doc_id in keys:
                order.remove(keys.pop(doc_id), doc_id, doc_id in hidden)
                hidden.discard(doc_id)
            elif op in ("hide", "show") and doc_id in keys and (doc_id in hidden) != (op == "hide"):
                if op == "hide":
                    hidden.add(doc_id)
                else:
                    hidden.discard(doc_id)
                order.count_hidden(keys[doc_id], doc_id, op == "hide")
        # Ties by id ascending in both directions, as a scan sorts them.
        expected = sorted(sorted(keys), key=keys.__getitem__, reverse=reverse)
        active = [i for i in expected if i not in hidden]
        for held, view in ((expected, order), (active, order.active)):
            assert (len(view), list(view), list(reversed(view))) == (
                len(held),
                held,
                held[::-1],
            )
            for start in range(len(held) + 1):
                for stop in (start, start + 1, start + 2, len(held) + 3):
                    assert view[start:stop] == held[start:stop], (start, stop)
            assert [view[p] for p in range(-len(held), len(held))] == held + held
