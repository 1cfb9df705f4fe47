"""The index operation's search structures, kept up to date as records change: the `Catalog`.

An index at 100,000 sessions cannot compute every session's joined and counted fields and sort
them on every request (a second each). A `Catalog` keeps, per resource and built on first use:

- the historized records (excluded unless `history: true`);
- per filtered field, the records by value (a filter is a look-up, then an intersection);
- per sorted field and direction, the records' ids in answer order (a sort is a walk);
- per session, its subscriptions' outcomes and its days (the counts and the first and last day).

It follows the record container it serves (the database, or a namespace's overlay): the
container calls `changed` for every record a write (or an undo) touches, and `reset` when whole
tables are replaced, always under the container's lock. Each change updates what depends on the
record: its own entries, its session's counts or dates, a session's days (they answer the
session's action). The answer is the same as a scan's, order and ties included: ties by id
ascending in both directions, nulls first ascending, strings by `query.sort_key` (case-
insensitive). Where a field holds values of kinds that do not compare with each other (only
hand-edited data), `search` answers None and the caller scans.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, overload

from mock_server import query
from mock_server.resources import (
    ACTION_ID,
    ACTION_TABLE,
    DAY,
    HISTORIZED,
    SESSION,
    SUBSCRIPTION,
    MockApi,
)

Record = dict[str, Any]
Tables = Mapping[str, Mapping[str, Record]]
Key = tuple[bool, Any]
"""A sort key without the id: (has a value, comparable value or 0)."""

_SESSIONS = SESSION
_SUBSCRIPTIONS = SUBSCRIPTION
_DAYS = DAY
FieldKind = str
_COUNTS = ("count_subscribed", "count_done", "count_fail", "count_unknown")
_NOWHERE = object()
"""The bucket key of a value no filter value can equal (an object or list in a scalar field)."""
_EMPTY: dict[str, None] = {}


_SCALARS = (str, int, float, bool, type(None))
EXACT_SCALARS = frozenset(_SCALARS)
"""The types `hashable` files as they are (exactly these; subclasses are checked)."""
_KEYS = (str, int, float, bool, datetime, type(None))


def hashable(value: Any) -> Any:
    """The key under which the database's secondary indexes file `value`."""
    # A tuple of types, and the exact type first: `isinstance` with a union is several times
    # slower, and this runs for every record when the catalog is built.
    if type(value) in EXACT_SCALARS or isinstance(value, _SCALARS):
        return value
    return repr(value)


def day_of(days: Iterable[Mapping[str, Any]], field: str, pick: Callable[..., Any]) -> str | None:
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


def outcome(done: Any) -> int:
    """Which count a subscription adds to besides `count_subscribed`: 1 done, 2 fail, 3 unknown,
    0 none (as `list.count(1)`, `(0)`, `(-1)` count them)."""
    if done == 1:
        return 1
    if done == 0:
        return 2
    if done == -1:
        return 3
    return 0


_OUTCOMES = {1: 1, 0: 2, -1: 3}


def action_fields(tables: Tables, action_id: Any, joined: Sequence[str]) -> dict[str, Any]:
    """The `joined` members of the action `action_id` names (null when it names none)."""
    action = tables.get(ACTION_TABLE, {}).get(action_id) if isinstance(action_id, str) else None
    action = action or {}
    return {k: action.get(k) for k in joined}


def session_of(tables: Tables, day: Mapping[str, Any], parent_field: str) -> Mapping[str, Any]:
    """The session a day belongs to ({} when none)."""
    parent = day.get(parent_field) or ""
    if not isinstance(parent, _SCALARS):
        return {}
    return tables.get(_SESSIONS, {}).get(parent) or {}  # type: ignore[arg-type]


def _kind_class(value: Any) -> str | None:
    """Values of one class compare with each other; None: null (sorts apart)."""
    if value is None:
        return None
    if isinstance(value, str):
        return "str"
    if isinstance(value, bool | int) or (isinstance(value, float) and not math.isnan(value)):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    return "other"  # never sorted from the catalog: a scan decides what such data gives


class _Children:
    """Each session's subscriptions' outcomes and days, as the subscription and day tables say."""

    def __init__(self, tables: Tables, sub_parent: str, day_parent: str) -> None:
        self.sub_parent = sub_parent
        self.day_parent_field = day_parent
        self.sub_of: dict[str, tuple[Any, int]] = {}
        self.counts: dict[Any, list[int]] = {}
        # Written out rather than through `_add_sub`: this runs once per subscription at start.
        sub_of, counts_of, exact = self.sub_of, self.counts, EXACT_SCALARS
        for sub_id, sub in tables.get(_SUBSCRIPTIONS, {}).items():
            parent = sub.get(sub_parent)
            if type(parent) not in exact:
                parent = hashable(parent)
            done = sub.get("done")
            kind = _OUTCOMES.get(done, 0) if type(done) is int else outcome(done)
            sub_of[sub_id] = (parent, kind)
            counts = counts_of.get(parent)
            if counts is None:
                counts = counts_of[parent] = [0, 0, 0, 0]
            counts[0] += 1
            if kind:
                counts[kind] += 1
        self.day_parent: dict[str, Any] = {}
        self.days_of: dict[Any, dict[str, Record]] = {}
        for day_id, day in tables.get(_DAYS, {}).items():
            parent = day.get(day_parent)
            if type(parent) not in exact:
                parent = hashable(parent)
            self.day_parent[day_id] = parent
            days = self.days_of.get(parent)
            if days is None:
                days = self.days_of[parent] = {}
            days[day_id] = day
        self._dates: dict[Any, tuple[str | None, str | None]] = {}

    def _add_sub(self, sub_id: str, parent: Any, kind: int) -> None:
        self.sub_of[sub_id] = (parent, kind)
        counts = self.counts.get(parent)
        if counts is None:
            counts = self.counts[parent] = [0, 0, 0, 0]
        counts[0] += 1
        if kind:
            counts[kind] += 1

    def sub_changed(self, sub_id: str, sub: Record | None) -> list[Any]:
        """Follow a subscription's change; the sessions whose counts it changed."""
        touched = []
        old = self.sub_of.pop(sub_id, None)
        if old is not None:
            counts = self.counts[old[0]]
            counts[0] -= 1
            if old[1]:
                counts[old[1]] -= 1
            touched.append(old[0])
        if sub is not None:
            parent = hashable(sub.get(self.sub_parent))
            self._add_sub(sub_id, parent, outcome(sub.get("done")))
            touched.append(parent)
        return touched

    def day_changed(self, day_id: str, day: Record | None) -> list[Any]:
        """Follow a day's change; the sessions whose dates it changed."""
        touched = []
        old = self.day_parent.pop(day_id, _NOWHERE)
        if old is not _NOWHERE:
            self.days_of[old].pop(day_id, None)
            self._dates.pop(old, None)
            touched.append(old)
        if day is not None:
            parent = hashable(day.get(self.day_parent_field))
            self.day_parent[day_id] = parent
            self.days_of.setdefault(parent, {})[day_id] = day
            self._dates.pop(parent, None)
            touched.append(parent)
        return touched

    def dates(self, session_id: str) -> tuple[str | None, str | None]:
        dates = self._dates.get(session_id)
        if dates is None:
            days = self.days_of.get(session_id, {}).values()
            dates = self._dates[session_id] = (
                day_of(days, "date_begin", min),
                day_of(days, "date_end", max),
            )
        return dates


class _TableIndex:
    """One resource's structures: storage order and buckets by field value, each kept for all
    records and for the active ones apart, so that `history: false` costs nothing; and orders by
    field, each holding all the records and counting its historized ones per chunk, so that a
    write keeps one order per field and direction, not two."""

    def __init__(self, records: Iterable[tuple[str, Record]], position: _Position | None) -> None:
        self.historized: set[str] = set()
        self.storage: dict[bool, dict[str, None]] = {True: {}, False: {}}
        """history -> ids in storage order (True: all of them; False: the active ones)."""
        self.seq: dict[str, int] = {}
        self.next_seq = 0
        for doc_id, record in records:
            self.seq[doc_id] = position(doc_id) if position is not None else self.next_seq
            self.next_seq += 1
            self.storage[True][doc_id] = None
            if record.get(HISTORIZED, False):
                self.historized.add(doc_id)
            else:
                self.storage[False][doc_id] = None
        self.buckets: dict[tuple[str, bool], dict[Any, _Bucket]] = {}
        self.bucket_key: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Key]] = {}
        self.classes: dict[str, dict[str, int]] = {}
        self.orders: dict[tuple[str, bool], _Order] = {}
        """(field, descending) -> every id in that order (`_Order.active` skips the historized)."""


_Position = Callable[[str], int]
_Bucket = str | dict[str, None]
"""The ids of the records with one value: a lone id as itself (a field of unique values would
otherwise cost a dict per record), else a dict of them."""


def _bucket_add(buckets: dict[Any, _Bucket], key: Any, doc_id: str) -> None:
    bucket = buckets.get(key)
    if bucket is None:
        buckets[key] = doc_id
    elif isinstance(bucket, str):
        if bucket != doc_id:
            buckets[key] = {bucket: None, doc_id: None}
    else:
        bucket[doc_id] = None


def _bucket_remove(buckets: dict[Any, _Bucket], key: Any, doc_id: str) -> None:
    bucket = buckets.get(key)
    if bucket == doc_id:
        del buckets[key]
    elif isinstance(bucket, dict):
        bucket.pop(doc_id, None)


class Catalog:
    """Search structures over a record container's tables, kept up to date by its changes.

    `find(table, field, value)` gives the records of a dependent table whose parent field holds
    `value` (the container's own secondary index): until a search needs every session's counts or
    dates, a page's are computed from it, so that the first answer after a start does not wait
    for the catalog to read every subscription. `position(table, id)`, when given, says where the container lists a record it (re)creates;
    without it a (re)created record is listed last, as a dict does.
    """

    def __init__(
        self,
        api: MockApi,
        tables: Callable[[], Tables],
        find: Callable[[str, str, Any], Iterable[Record]],
        position: Callable[[str, str], int] | None = None,
    ) -> None:
        self.api = api
        self._resources = api.resources
        self._sub_parent = api.resources[SUBSCRIPTION].parent_field or ""
        self._day_parent = api.resources[DAY].parent_field or ""
        self._tables = tables
        self._find = find
        self._position = position
        self._lock = threading.RLock()
        self._children: _Children | None = None
        self._indexes: dict[str, _TableIndex] = {}
        self._getters: dict[tuple[str, str], Callable[[str, Record], Any]] = {}
        self._rows: dict[str, Callable[[str, Record, Tables], dict[str, Any]]] = {}
        # The matches of recent deep searches, in order; forgotten at every change.
        self._walks: dict[tuple[Any, ...], list[str]] = {}

    # -- following the container ---------------------------------------------------------------
    def reset(self) -> None:
        """Whole tables were replaced: forget everything (rebuilt on the next search)."""
        with self._lock:
            self._children = None
            self._indexes = {}
            self._walks = {}

    def changed(self, table: str, doc_id: str, _record: Record | None = None) -> None:
        """Record `doc_id` of `table` changed (the container's tables already hold its new state)."""
        with self._lock:
            self._walks.clear()
            if self._children is None and not self._indexes:
                return
            if table == ACTION_TABLE:
                # Actions change only by whole-data operations (import, reload): start over.
                self.reset()
                return
            if table not in self._resources:
                return
            tables = self._tables()
            record = tables.get(table, {}).get(doc_id)
            children = self._children
            rows: list[tuple[str, str]] = [(table, doc_id)]
            if children is not None:
                if table == _SUBSCRIPTIONS:
                    rows += [(_SESSIONS, s) for s in children.sub_changed(doc_id, record)]
                elif table == _DAYS:
                    rows += [(_SESSIONS, s) for s in children.day_changed(doc_id, record)]
                elif table == _SESSIONS and _DAYS in self._indexes:
                    # A day answers its session's action: a session's change reaches its days.
                    rows += [(_DAYS, d) for d in children.days_of.get(doc_id, {})]
            for row_table, row_id in dict.fromkeys(rows):
                if isinstance(row_id, str):
                    self._refresh(row_table, row_id)

    def _refresh(self, table: str, doc_id: str) -> None:
        index = self._indexes.get(table)
        if index is None:
            return
        record = self._tables().get(table, {}).get(doc_id)
        known = doc_id in index.storage[True]
        was_hidden = doc_id in index.historized
        hidden = record is not None and bool(record.get(HISTORIZED, False))
        self._restore(index, table, doc_id, record, known, was_hidden, hidden)
        for field in list(index.bucket_key):
            keys = index.bucket_key[field]
            old = keys.pop(doc_id, _NOWHERE)
            if old is not _NOWHERE:
                for history in (True, False):
                    _bucket_remove(index.buckets[(field, history)], old, doc_id)
            if record is not None:
                new = keys[doc_id] = self._bucket_key(table, field, doc_id, record)
                _bucket_add(index.buckets[(field, True)], new, doc_id)
                if not hidden:
                    _bucket_add(index.buckets[(field, False)], new, doc_id)
        for field in list(index.keys):
            self._resort(index, table, field, doc_id, record, was_hidden, hidden)

    def _restore(
        self,
        index: _TableIndex,
        table: str,
        doc_id: str,
        record: Record | None,
        known: bool,
        was_hidden: bool,
        hidden: bool,
    ) -> None:
        """Keep the storage order and the historized set."""
        if hidden:
            index.historized.add(doc_id)
        else:
            index.historized.discard(doc_id)
        everything, active = index.storage[True], index.storage[False]
        if record is None:
            everything.pop(doc_id, None)
            active.pop(doc_id, None)
            return
        if not known:
            seq = self._position(table, doc_id) if self._position is not None else index.next_seq
            index.next_seq = max(index.next_seq, seq) + 1
            index.seq[doc_id] = seq
            last = next(reversed(everything), None)
            if last is None or index.seq[last] < seq:
                everything[doc_id] = None
                if not hidden:
                    active[doc_id] = None
                return
            # Listed where it once was (a namespace lists a re-created record there): re-sort.
            everything[doc_id] = None
            index.storage[True] = dict.fromkeys(sorted(everything, key=index.seq.__getitem__))
        elif was_hidden == hidden:
            return
        index.storage[False] = {i: None for i in index.storage[True] if i not in index.historized}

    def _resort(
        self,
        index: _TableIndex,
        table: str,
        field: str,
        doc_id: str,
        record: Record | None,
        was_hidden: bool,
        hidden: bool,
    ) -> None:
        keys = index.keys[field]
        classes = index.classes[field]
        old = keys.get(doc_id)
        new = self._sort_key(table, field, doc_id, record) if record is not None else None
        if old == new:
            if was_hidden != hidden and old is not None:
                for desc in (False, True):
                    index.orders[(field, desc)].count_hidden(old, doc_id, hidden)
            return
        if old is not None:
            for desc in (False, True):
                index.orders[(field, desc)].remove(old, doc_id, was_hidden)
            del keys[doc_id]
            _count_class(classes, old, -1)
        if new is not None:
            _count_class(classes, new, +1)
            if len(classes) > 1 or "other" in classes:
                self._forget_order(index, field)  # mixed kinds: a scan sorts this field now
                return
            keys[doc_id] = new
            for desc in (False, True):
                index.orders[(field, desc)].insert(new, doc_id, hidden)

    @staticmethod
    def _forget_order(index: _TableIndex, field: str) -> None:
        index.keys.pop(field, None)
        index.classes.pop(field, None)
        for desc in (False, True):
            index.orders.pop((field, desc), None)

    # -- values ------------------------------------------------------------------------------------
    def _getter(self, table: str, field: str) -> Callable[[str, Record], Any]:
        getter = self._getters.get((table, field))
        if getter is None:
            getter = self._getters[(table, field)] = self._make_getter(table, field)
        return getter

    def _make_getter(self, table: str, field: str) -> Callable[[str, Record], Any]:
        resource = self._resources[table]
        if field in resource.stored:
            return lambda _i, r: r.get(field)
        if table == _SESSIONS:
            kind, n = self._session_member(field)
            if kind == "joined":
                joined = self.api.joined[_SESSIONS]
                return lambda _i, r: action_fields(self._tables(), r.get(ACTION_ID), joined)[field]
            if kind == "count":
                return lambda i, _r: self._counts(i)[n]
            return lambda i, _r: self._dates(i)[n]
        if table == _DAYS:
            parent, joined = self._day_parent, self.api.joined[_DAYS]
            if field == ACTION_ID:
                return lambda _i, r: session_of(self._tables(), r, parent).get(ACTION_ID)
            return lambda _i, r: action_fields(
                self._tables(), session_of(self._tables(), r, parent).get(ACTION_ID), joined
            )[field]
        raise KeyError(f"{table}.{field}")

    def _session_member(self, field: str) -> tuple[str, int]:
        """Where a session's computed `field` comes from: ("joined", 0), its action's member;
        ("count", n), the n-th of its four counts (`_COUNTS`); or ("date", n), its first day
        (0) or its last (1)."""
        if field in self.api.joined[_SESSIONS]:
            return "joined", 0
        if field in _COUNTS:
            return "count", _COUNTS.index(field)
        return "date", 0 if field == "date_begin" else 1

    def value(self, table: str, doc_id: str, field: str) -> Any:
        """The answered value of `field` of a record, from the maintained state (tests compare it
        with the value computed from scratch)."""
        with self._lock:
            record = self._tables().get(table, {}).get(doc_id)
            if record is None:
                raise KeyError(doc_id)
            return self._getter(table, field)(doc_id, record)

    def answers(self, table: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        """The records as view and index answer them: stored fields, then the joined and
        computed ones, from the maintained state."""
        with self._lock:
            tables = self._tables()
            records = tables.get(table, {})
            row = self._rows.get(table)
            if row is None:
                row = self._rows[table] = self._make_row(table)
            return [row(doc_id, records[doc_id], tables) for doc_id in ids]

    def _make_row(self, table: str) -> Callable[[str, Record, Tables], dict[str, Any]]:
        """How `answers` writes one record: what each field's getter gives, with what several
        fields share (the action's members, the counts, the dates) worked out once a record.

        Field by field, an index page of 100 sessions joined the action three times and looked
        up the counts four times and the dates twice: a third of the request.
        """
        resource = self._resources[table]
        stored, fields = frozenset(resource.stored), tuple(resource.fields)
        if table == _SESSIONS:
            joined = self.api.joined[_SESSIONS]
            members = {f: self._session_member(f) for f in fields if f not in stored}
            counts = [(f, n) for f, (kind, n) in members.items() if kind == "count"]
            dates = [(f, n) for f, (kind, n) in members.items() if kind == "date"]

            def computed(doc_id: str, record: Record, tables: Tables) -> dict[str, Any]:
                values = action_fields(tables, record.get(ACTION_ID), joined)
                if counts:
                    four = self._counts(doc_id)
                    values.update((f, four[n]) for f, n in counts)
                if dates:
                    both = self._dates(doc_id)
                    values.update((f, both[n]) for f, n in dates)
                return values

        elif table == _DAYS:
            parent, joined = self._day_parent, self.api.joined[_DAYS]

            def computed(doc_id: str, record: Record, tables: Tables) -> dict[str, Any]:
                action_id = session_of(tables, record, parent).get(ACTION_ID)
                values = action_fields(tables, action_id, joined)
                values[ACTION_ID] = action_id
                return values

        else:
            return lambda _i, record, _t: {f: record.get(f) for f in fields}

        def row(doc_id: str, record: Record, tables: Tables) -> dict[str, Any]:
            values = computed(doc_id, record, tables)
            return {f: record.get(f) if f in stored else values[f] for f in fields}

        return row

    def _counts(self, session_id: str) -> Sequence[int]:
        """The session's four counts, in `_COUNTS` order."""
        if self._children is not None:
            counts = self._children.counts.get(session_id)
            return counts if counts is not None else (0, 0, 0, 0)
        subs = self._find(_SUBSCRIPTIONS, self._sub_parent, session_id)
        outcomes = [outcome(sub.get("done")) for sub in subs]
        return (len(outcomes), outcomes.count(1), outcomes.count(2), outcomes.count(3))

    def _dates(self, session_id: str) -> tuple[str | None, str | None]:
        if self._children is not None:
            return self._children.dates(session_id)
        days = list(self._find(_DAYS, self._day_parent, session_id))
        return day_of(days, "date_begin", min), day_of(days, "date_end", max)

    def _kids(self) -> _Children:
        if self._children is None:
            self._children = _Children(self._tables(), self._sub_parent, self._day_parent)
        return self._children

    def _kind(self, table: str, field: str) -> FieldKind:
        return self._resources[table].fields[field]

    def _bucket_key(self, table: str, field: str, doc_id: str, record: Record) -> Any:
        value = self._getter(table, field)(doc_id, record)
        kind = self._kind(table, field)
        if kind == "date-time":
            value = query.comparable(kind, value)
        return value if isinstance(value, _KEYS) else _NOWHERE

    def _sort_key(self, table: str, field: str, doc_id: str, record: Record) -> Key:
        raw = self._getter(table, field)(doc_id, record)
        value = query.comparable(self._kind(table, field), raw)
        if value is None:
            return _NULL
        if type(value) is str and value == raw:
            value = raw  # already folded (ids, lower-case text): one string in memory, not two
        return (True, value)

    # -- building ----------------------------------------------------------------------------------
    def _follow(self, table: str, field: str) -> None:
        """Before a structure of a computed field is built: follow the sessions' children, on
        which it depends (counts and dates; a day's action, through its session)."""
        if field in self._resources[table].computed:
            self._kids()

    def _index(self, table: str) -> _TableIndex:
        index = self._indexes.get(table)
        if index is None:
            position = self._position
            index = self._indexes[table] = _TableIndex(
                self._tables().get(table, {}).items(),
                (lambda i: position(table, i)) if position is not None else None,
            )
        return index

    def _buckets(self, table: str, field: str, history: bool) -> dict[Any, _Bucket]:
        index = self._index(table)
        buckets = index.buckets.get((field, history))
        if buckets is None:
            self._follow(table, field)
            keys: dict[str, Any] = {}
            everything: dict[Any, _Bucket] = {}
            active: dict[Any, _Bucket] = {}
            hidden = index.historized
            for doc_id, record in self._tables().get(table, {}).items():
                key = keys[doc_id] = self._bucket_key(table, field, doc_id, record)
                _bucket_add(everything, key, doc_id)
                if doc_id not in hidden:
                    _bucket_add(active, key, doc_id)
            index.buckets[(field, True)] = everything
            index.buckets[(field, False)] = active
            index.bucket_key[field] = keys
            buckets = everything if history else active
        return buckets

    def _order(self, table: str, field: str, desc: bool, history: bool) -> _Order | _Active | None:
        index = self._index(table)
        order = index.orders.get((field, desc))
        if order is None:
            self._follow(table, field)
            keys: dict[str, Key] = {}
            classes: dict[str, int] = {}
            shared: dict[Key, Key] = {}  # one key object per distinct value: less memory
            for doc_id, record in self._tables().get(table, {}).items():
                key = self._sort_key(table, field, doc_id, record)
                key = keys[doc_id] = shared.setdefault(key, key)
                _count_class(classes, key, +1)
            if len(classes) > 1 or "other" in classes:
                return None
            # Stable sorts: by id first, then by key. A descending order is held ascending by key
            # with its ties by id descending, and read backwards.
            ascending = sorted(sorted(keys), key=keys.__getitem__)
            held_descending = sorted(sorted(keys, reverse=True), key=keys.__getitem__)
            index.keys[field] = keys
            index.classes[field] = classes
            for way, ids in ((False, ascending), (True, held_descending)):
                index.orders[(field, way)] = _Order(ids, keys, index.historized, way)
            order = index.orders[(field, desc)]
        return order if history else order.active

    # -- searching ---------------------------------------------------------------------------------
    def search(
        self,
        table: str,
        conditions: Mapping[str, Any],
        sort: Any,
        history: bool,
        per_page: int | None,
        page: int | None,
    ) -> query.Page | None:
        """The page an index answers, its records answered, with the numbers of its headers.

        `conditions` as `query.conditions_of` gives them, `sort` as the request gives it (aliases
        resolved). None when the catalog cannot answer exactly (a field of mixed kinds): scan.
        """
        resource = self._resources[table]
        with self._lock:
            index = self._index(table)
            candidates: Collection[str] | None = None
            if conditions:
                buckets = []
                for field, wanted in conditions.items():
                    kind = resource.fields[field]
                    key = query.comparable(kind, wanted) if kind == "date-time" else wanted
                    if key is None or not isinstance(key, _KEYS):
                        return None
                    bucket = self._buckets(table, field, history).get(key, _EMPTY)
                    buckets.append({bucket: None} if isinstance(bucket, str) else bucket)
                buckets.sort(key=len)
                if len(buckets) == 1:
                    candidates = buckets[0]
                else:
                    common = buckets[0].keys() & buckets[1].keys()
                    for other in buckets[2:]:
                        common &= other.keys()
                    candidates = common
            sort_field, desc = _sort_of(sort, resource.fields)
            order: _Order | _Active | dict[str, None]
            keys: dict[str, Key] | None = None
            if sort_field is None:
                order = index.storage[history]
            else:
                sorted_ids = self._order(table, sort_field, desc, history)
                if sorted_ids is None:
                    return None
                order, keys = sorted_ids, index.keys[sort_field]
            total = len(order) if candidates is None else len(candidates)
            pagination = self.api.pagination
            size, current, page_count = query.bounds(total, per_page, page, pagination)
            start = (current - 1) * size
            stop = start + size
            ids: list[str]
            if candidates is None:
                if isinstance(order, dict):
                    ids = list(itertools.islice(order, start, stop))
                else:
                    ids = order[start:stop]
            elif min(stop, total - start) * len(order) > _WALK_RATIO * total * total:
                # Few matches, spread thin: sorting them beats walking past all the others.
                if keys is None:
                    ranked = sorted(candidates, key=index.seq.__getitem__)
                else:
                    # Ties by id ascending in both directions: the second sort is stable.
                    ranked = sorted(sorted(candidates), key=keys.__getitem__, reverse=desc)
                ids = ranked[start:stop]
            elif min(start, total - stop) > _REMEMBER_FROM:
                # Deep in a long list of matches: walk it whole once, and keep it until the next
                # change, for the next pages (a client pages through one search).
                walk = (table, frozenset(conditions.items()), sort_field, desc, history)
                matches = self._walks.get(walk)
                if matches is None:
                    if len(self._walks) >= _REMEMBERED:
                        del self._walks[next(iter(self._walks))]
                    matches = self._walks[walk] = list(filter(candidates.__contains__, order))
                ids = matches[start:stop]
            elif stop <= total - start:
                # Walk the order until the page is found, from the end when that is nearer.
                ids = list(itertools.islice(filter(candidates.__contains__, order), start, stop))
            else:
                backwards = filter(candidates.__contains__, reversed(order))
                ids = list(itertools.islice(backwards, max(total - stop, 0), total - start))
                ids.reverse()
            return query.Page(
                self.answers(table, ids), total, current, page_count, size, pagination
            )


_REMEMBER_FROM = 5_000
"""Matches walked past before a search's whole list of matches is kept for its next pages."""
_REMEMBERED = 8
"""Searches whose matches are kept at once (each holds up to a table's ids)."""
_WALK_RATIO = 4
"""A filter's page is found by walking the order while that passes fewer records than this
many times the matches; else the matches are sorted (a walk step costs about a quarter of a
sort's step per match)."""
_NULL: Key = (False, 0)


def _sort_of(sort: Any, fields: Mapping[str, FieldKind]) -> tuple[str | None, bool]:
    """The field and direction `query.sort_records` sorts by (None: storage order)."""
    if not isinstance(sort, str) or not sort:
        return None, False
    desc = sort.startswith("-")
    name = sort[1:] if desc else sort
    kind = fields.get(name)
    if kind is None or kind == "object":
        return None, False
    return name, desc


def _count_class(classes: dict[str, int], key: Key, delta: int) -> None:
    kind = _kind_class(key[1]) if key[0] else None
    if kind is None:
        return
    count = classes.get(kind, 0) + delta
    if count:
        classes[kind] = count
    else:
        classes.pop(kind, None)


_CHUNK = 512
"""Ids per chunk of an `_Order` as built; a chunk is split in two when it doubles."""


class _Order(Sequence[str]):
    """Every id of a table in one sort order, held in chunks: a write moves the ids of one chunk,
    not all of them.

    As one list, every create at 100,000 sessions moved about twenty lists of 100,000 pointers
    (each sorted field, both directions, with and without history), and a profile of creates
    after a few sorted searches put the sort orders' upkeep at two fifths of the server's time.

    The ids are held ascending by key, each chunk beside the list of its ids' keys, so that C's
    `bisect` finds a place without a Python call or a dictionary look-up per step: first the
    run of ids of equal key, then the id within it, compared as it is. An ascending order holds
    ties by id ascending. A descending one (`reverse`) is read backwards, so it holds its ties
    by id descending, and finds an id among them with a `_Descending` probe (ties read by id
    ascending in both directions).

    The historized ids are held too, and counted per chunk: `active` reads the order without
    them (`history: false`). Kept apart, as they were, each write moved an id in two orders per
    field and direction; a profile of creates at 1,000 sessions, after the index's searches,
    still put that upkeep at a fifth of the server's time.
    """

    __slots__ = (
        "_chunks",
        "_hidden",
        "_hidden_in",
        "_hidden_size",
        "_keys",
        "_last_keys",
        "_lasts",
        "_reverse",
        "_size",
    )

    def __init__(
        self, ids: Iterable[str], keys: Mapping[str, Key], hidden: set[str], reverse: bool = False
    ) -> None:
        """`ids` as held (for `reverse`, the reading order backwards), `keys` their sort keys,
        `hidden` the table's historized ids (the catalog's own set, which it updates before it
        moves an id here)."""
        flat = list(ids)
        self._chunks = [flat[i : i + _CHUNK] for i in range(0, len(flat), _CHUNK)]
        self._keys = [list(map(keys.__getitem__, chunk)) for chunk in self._chunks]
        """Each chunk's ids' keys, in its order."""
        self._lasts = [chunk[-1] for chunk in self._chunks]
        self._last_keys = [chunk_keys[-1] for chunk_keys in self._keys]
        """Each chunk's last id and its key: the chunk a key belongs in is found among these."""
        self._reverse = reverse
        self._size = len(flat)
        self._hidden = hidden
        self._hidden_in = [_count_in(hidden, chunk) for chunk in self._chunks]
        """Each chunk's historized ids, counted: `active` finds a position without a walk."""
        self._hidden_size = sum(self._hidden_in)

    @property
    def active(self) -> _Active:
        """The order without its historized ids."""
        return _Active(self)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[str]:
        if self._reverse:
            return itertools.chain.from_iterable(map(reversed, reversed(self._chunks)))
        return itertools.chain.from_iterable(self._chunks)

    def __reversed__(self) -> Iterator[str]:
        if self._reverse:
            return itertools.chain.from_iterable(self._chunks)
        return itertools.chain.from_iterable(map(reversed, reversed(self._chunks)))

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self.read(index, active=False)

    def read(self, index: int | slice, active: bool) -> str | list[str]:
        """The id(s) at reading position `index`, counting only the active ids if `active`."""
        size = self._size - self._hidden_size if active else self._size
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1:
                return list(self.active if active else self)[index]
            return list(itertools.islice(self._from(start, active), max(stop - start, 0)))
        position = index + size if index < 0 else index
        if not 0 <= position < size:
            raise IndexError(index)
        return next(self._from(position, active))

    def _from(self, start: int, active: bool) -> Iterator[str]:
        """The ids from reading position `start` on (among the active ones, if `active`)."""
        chunks, hidden_in = self._chunks, self._hidden_in
        places = range(len(chunks) - 1, -1, -1) if self._reverse else range(len(chunks))
        for n in places:
            chunk = chunks[n]
            held = len(chunk) - hidden_in[n] if active else len(chunk)
            if start >= held:
                start -= held
                continue
            ids: Iterator[str]
            if self._reverse:
                before = map(reversed, reversed(chunks[:n]))
                ids = itertools.chain(reversed(chunk), itertools.chain.from_iterable(before))
            else:
                after = itertools.islice(chunks, n + 1, None)
                ids = itertools.chain(chunk, itertools.chain.from_iterable(after))
            if active:
                ids = itertools.filterfalse(self._hidden.__contains__, ids)
            return itertools.islice(ids, start, None)
        return iter(())

    def _locate(self, key: Key, doc_id: str) -> tuple[int, int]:
        """The chunk, and the place in it, where (key, doc_id) is or belongs (chunks not empty)."""
        last_keys = self._last_keys
        # Among ids of equal key, a plain id is where an ascending order holds it; the probe
        # of a descending one compares backwards, as that order holds them.
        probe = _Descending(doc_id) if self._reverse else doc_id
        # The first chunk whose last id does not come before (key, doc_id).
        n = bisect.bisect_left(last_keys, key)
        n = bisect.bisect_left(self._lasts, probe, n, bisect.bisect_right(last_keys, key, n))
        if n == len(last_keys):  # after every id
            return n - 1, len(self._chunks[n - 1])
        chunk_keys = self._keys[n]
        lo = bisect.bisect_left(chunk_keys, key)
        hi = bisect.bisect_right(chunk_keys, key, lo)
        return n, bisect.bisect_left(self._chunks[n], probe, lo, hi)

    def insert(self, key: Key, doc_id: str, hidden: bool) -> None:
        """Put `doc_id`, whose sort key is `key`, in its place (`hidden`: it is historized)."""
        self._size += 1
        self._hidden_size += hidden
        if not self._chunks:
            self._chunks.append([doc_id])
            self._keys.append([key])
            self._lasts.append(doc_id)
            self._last_keys.append(key)
            self._hidden_in.append(int(hidden))
            return
        n, at = self._locate(key, doc_id)
        chunk, chunk_keys = self._chunks[n], self._keys[n]
        chunk.insert(at, doc_id)
        chunk_keys.insert(at, key)
        self._hidden_in[n] += hidden
        if at == len(chunk) - 1:
            self._lasts[n], self._last_keys[n] = doc_id, key
        if len(chunk) >= 2 * _CHUNK:
            self._chunks[n : n + 1] = [chunk[:_CHUNK], chunk[_CHUNK:]]
            self._keys[n : n + 1] = [chunk_keys[:_CHUNK], chunk_keys[_CHUNK:]]
            self._lasts[n : n + 1] = [chunk[_CHUNK - 1], chunk[-1]]
            self._last_keys[n : n + 1] = [chunk_keys[_CHUNK - 1], chunk_keys[-1]]
            first = _count_in(self._hidden, self._chunks[n])
            self._hidden_in[n : n + 1] = [first, self._hidden_in[n] - first]

    def remove(self, key: Key, doc_id: str, hidden: bool) -> None:
        """Take out `doc_id`, which is in its place for `key` (`hidden`: counted historized)."""
        n, at = self._locate(key, doc_id)
        chunk, chunk_keys = self._chunks[n], self._keys[n]
        del chunk[at]
        del chunk_keys[at]
        self._size -= 1
        self._hidden_size -= hidden
        self._hidden_in[n] -= hidden
        if not chunk:
            del self._chunks[n], self._keys[n], self._lasts[n], self._last_keys[n]
            del self._hidden_in[n]
        elif at == len(chunk):
            self._lasts[n], self._last_keys[n] = chunk[-1], chunk_keys[-1]

    def count_hidden(self, key: Key, doc_id: str, hidden: bool) -> None:
        """`doc_id`, in its place for `key`, became historized (`hidden`) or active again."""
        n, _ = self._locate(key, doc_id)
        delta = 1 if hidden else -1
        self._hidden_in[n] += delta
        self._hidden_size += delta


class _Active(Sequence[str]):
    """An `_Order` read without its historized ids."""

    __slots__ = ("_order",)

    def __init__(self, order: _Order) -> None:
        self._order = order

    def __len__(self) -> int:
        return self._order._size - self._order._hidden_size

    def __iter__(self) -> Iterator[str]:
        return itertools.filterfalse(self._order._hidden.__contains__, iter(self._order))

    def __reversed__(self) -> Iterator[str]:
        return itertools.filterfalse(self._order._hidden.__contains__, reversed(self._order))

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self._order.read(index, active=True)


def _count_in(members: set[str], ids: Iterable[str]) -> int:
    return sum(map(members.__contains__, ids))


class _Descending(str):
    """An id that compares backwards: the probe that finds an id among ties held by id
    descending. Only the probe is one: `bisect` compares a held id with it, and Python asks
    the subclass's reflected operator first, so the ids held stay plain strings."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)
