"""Copy-on-write record containers for namespaces: read-only base tables and an overlay of changes.

`BaseData` holds a data set once (the default data, the `--data` fixtures, a snapshot) with the
same secondary indexes as the database. `Overlay` serves the `mock_server.database.Records`
interface over a `BaseData` and keeps, in memory, only the records a client created, changed or
deleted, so fifty namespaces over one large data set hold one copy of it plus their own changes.
Records handed out are copies or read-only views: the base is never written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from mock_server.catalog import Catalog, hashable
from mock_server.database import Record
from mock_server.resources import MockApi

_MISSING: Any = object()
Tables = Mapping[str, Mapping[str, Record]]


# The same keying as the database's indexes: unhashable values compare by their text.
_key = hashable


class BaseData:
    """A read-only data set: each table's records by id, in creation order, with indexes."""

    def __init__(
        self,
        tables: Tables,
        id_fields: Mapping[str, str],
        indexes: Mapping[str, Sequence[str]],
    ) -> None:
        self.id_fields = dict(id_fields)
        self.tables: dict[str, dict[str, Record]] = {
            name: dict(docs) for name, docs in tables.items()
        }
        for table in self.id_fields:
            self.tables.setdefault(table, {})
        self.index_fields = {table: tuple(fields) for table, fields in indexes.items()}
        self._indexes: dict[tuple[str, str], dict[Any, list[str]]] = {}
        for table, fields in self.index_fields.items():
            for field in fields:
                index: dict[Any, list[str]] = {}
                for doc_id, doc in self.tables[table].items():
                    index.setdefault(_key(doc.get(field)), []).append(doc_id)
                self._indexes[(table, field)] = index
        self._catalog: Catalog | None = None
        self._catalog_lock = threading.Lock()
        self._positions: dict[str, dict[str, int]] = {}

    def position(self, table: str, doc_id: str) -> int | None:
        """Where the table lists a record (None when it holds none of that id)."""
        with self._catalog_lock:
            positions = self._positions.get(table)
            if positions is None:
                docs = self.tables.get(table, {})
                positions = self._positions[table] = {i: n for n, i in enumerate(docs)}
        return positions.get(doc_id)

    def catalog(self, api: MockApi) -> Catalog:
        """The index's search structures over this data set, built on first use, shared by every
        namespace that has changed nothing."""
        with self._catalog_lock:
            if self._catalog is None or self._catalog.api is not api:
                tables = self.tables
                self._catalog = Catalog(api, lambda: tables, self._children)
            return self._catalog

    def _children(self, table: str, field: str, value: Any) -> list[Record]:
        docs = self.tables.get(table, {})
        return [docs[i] for i in self.ids_where(table, field, value)]

    def ids_where(self, table: str, field: str, value: Any) -> list[str]:
        return self._indexes[(table, field)].get(_key(value), [])

    def counts(self) -> dict[str, int]:
        return {name: len(docs) for name, docs in self.tables.items()}


class Overlay:
    """A namespace's records: the base's, with this namespace's creates, updates and deletes on top.

    Thread-safe through its own lock; a transaction is undone whole when it raises.
    """

    def __init__(self, base: BaseData) -> None:
        self.base = base
        self.lock = threading.RLock()
        # table -> id -> the record as this namespace sees it, or None when deleted here.
        self._changes: dict[str, dict[str, Record | None]] = {}
        # table -> ids created here that the base lacks, in creation order (and their number).
        self._added: dict[str, dict[str, int]] = {}
        self._index: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
        self._undo: list[tuple[str, str, Any]] | None = None
        # This namespace's own catalog, made once it has changes of its own and is searched.
        self._catalog: Catalog | None = None
        self._view = {table: _OverlayTable(self, table) for table in base.id_fields}

    # -- reading -----------------------------------------------------------------------------
    @contextmanager
    def reading(self) -> Iterator[None]:
        with self.lock:
            yield

    def _current(self, table: str, doc_id: str) -> Record | None:
        changed = self._changes.get(table, {}).get(doc_id, _MISSING)
        if changed is not _MISSING:
            return changed  # type: ignore[no-any-return]
        return self.base.tables.get(table, {}).get(doc_id)

    def get(self, table: str, doc_id: str) -> Record | None:
        doc = self._current(table, doc_id)
        return dict(doc) if doc is not None else None

    def contains(self, table: str, doc_id: str) -> bool:
        return self._current(table, doc_id) is not None

    def iter_raw(self, table: str) -> Iterable[Record]:
        base = self.base.tables.get(table, {})
        changes = self._changes.get(table)
        if not changes:
            return base.values()
        return self._iter_changed(base, changes, self._added.get(table, {}))

    @staticmethod
    def _iter_changed(
        base: Mapping[str, Record], changes: Mapping[str, Record | None], added: Iterable[str]
    ) -> Iterator[Record]:
        for doc_id, doc in base.items():
            changed = changes.get(doc_id, _MISSING)
            if changed is _MISSING:
                yield doc
            elif changed is not None:
                yield changed
        for doc_id in added:
            changed = changes.get(doc_id)
            if changed is not None:
                yield changed

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        changes = self._changes.get(table, {})
        base = self.base.tables.get(table, {})
        found = [
            dict(base[i]) for i in self.base.ids_where(table, field, value) if i not in changes
        ]
        for doc_id in self._index.get((table, field), {}).get(_key(value), {}):
            doc = changes[doc_id]
            if doc is not None:
                found.append(dict(doc))
        return found

    def catalog(self, api: MockApi) -> Catalog:
        """The base data's catalog while this namespace has changed nothing; then its own.

        Its own is built from this namespace's records on its first search (a namespace that
        only reads costs nothing), and follows each of its changes from then on.
        """
        with self.lock:
            if not any(self._changes.values()):
                return self.base.catalog(api)
            if self._catalog is None or self._catalog.api is not api:
                view = self._view
                self._catalog = Catalog(api, lambda: view, self.find, self._position)
            return self._catalog

    def _position(self, table: str, doc_id: str) -> int:
        """Where this namespace lists a record: at the base's place, or after the base's records
        in the order of first creation (a record deleted and created again keeps its place)."""
        position = self.base.position(table, doc_id)
        if position is not None:
            return position
        base = len(self.base.tables.get(table, {}))
        return base + self._added.get(table, {}).get(doc_id, 0)

    def counts(self) -> dict[str, int]:
        """The number of records of each table, as this namespace sees them."""
        counts = self.base.counts()
        for table, changes in self._changes.items():
            base = self.base.tables.get(table, {})
            for doc_id, doc in changes.items():
                if doc_id in base and doc is None:
                    counts[table] -= 1
                elif doc_id not in base and doc is not None:
                    counts[table] = counts.get(table, 0) + 1
        return counts

    def changed(self) -> int:
        """How many records this namespace holds of its own (created, changed or deleted)."""
        return sum(len(changes) for changes in self._changes.values())

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            if self._undo is not None:
                yield  # nested: the outer transaction decides
                return
            self._undo = []
            try:
                yield
            except BaseException:
                undo, self._undo = self._undo, None
                for table, doc_id, before in reversed(undo):
                    self._put(table, doc_id, before)
                raise
            self._undo = None

    def replace_all(self, tables: Mapping[str, Mapping[str, Record]]) -> None:
        """Make this namespace hold exactly `tables`, as changes over its base (one transaction)."""
        with self.transaction():
            for table, id_field in self.base.id_fields.items():
                wanted = tables.get(table, {})
                for doc_id in [doc[id_field] for doc in self.iter_raw(table)]:
                    if doc_id not in wanted:
                        self._set(table, doc_id, None)
                for doc_id, doc in wanted.items():
                    if self._current(table, doc_id) != doc:
                        self._set(table, doc_id, dict(doc))

    def insert(self, table: str, record: Record) -> None:
        self._set(table, record[self.base.id_fields[table]], dict(record))

    def update(self, table: str, doc_id: str, fields: Mapping[str, Any]) -> None:
        current = self._current(table, doc_id)
        if current is not None:
            self._set(table, doc_id, {**current, **fields})

    def remove(self, table: str, doc_ids: Iterable[str]) -> None:
        for doc_id in list(doc_ids):
            if self._current(table, doc_id) is not None:
                self._set(table, doc_id, None)

    def _set(self, table: str, doc_id: str, doc: Record | None) -> None:
        before = self._changes.get(table, {}).get(doc_id, _MISSING)
        if self._undo is not None:
            self._undo.append((table, doc_id, before))
        self._put(table, doc_id, doc)

    def _put(self, table: str, doc_id: str, doc: Any) -> None:
        """Make this namespace's entry for `doc_id` be `doc` (_MISSING: the base's record again)."""
        changes = self._changes.setdefault(table, {})
        old = changes.get(doc_id, _MISSING)
        for field in self.base.index_fields.get(table, ()):
            index = self._index.setdefault((table, field), {})
            if old is not _MISSING and old is not None:
                index.get(_key(old.get(field)), {}).pop(doc_id, None)
            if doc is not _MISSING and doc is not None:
                index.setdefault(_key(doc.get(field)), {})[doc_id] = None
        if doc is _MISSING:
            changes.pop(doc_id, None)
        else:
            changes[doc_id] = doc
            if doc_id not in self.base.tables.get(table, {}):
                added = self._added.setdefault(table, {})
                added.setdefault(doc_id, len(added))
        if self._catalog is not None:
            self._catalog.changed(table, doc_id, self._current(table, doc_id))


class _OverlayTable(Mapping[str, Record]):
    """One table of an overlay as a read-only mapping, in the overlay's order (the catalog's source)."""

    def __init__(self, overlay: Overlay, table: str) -> None:
        self._overlay = overlay
        self._table = table
        self._id_field = overlay.base.id_fields[table]

    def __getitem__(self, doc_id: str) -> Record:
        doc = self._overlay._current(self._table, doc_id)
        if doc is None:
            raise KeyError(doc_id)
        return doc

    def get(self, doc_id: str, default: Any = None) -> Any:
        doc = self._overlay._current(self._table, doc_id)
        return default if doc is None else doc

    def __iter__(self) -> Iterator[str]:
        return (doc[self._id_field] for doc in self._overlay.iter_raw(self._table))

    def __len__(self) -> int:
        return sum(1 for _ in self._overlay.iter_raw(self._table))
