"""Durable, thread-safe record storage on TinyDB: the only module that imports TinyDB.

It owns the database file, its journal and the lock. Records are plain dicts keyed by their own
string id, which is also their TinyDB document id, so a lookup by id is one dict access.

Why not TinyDB's defaults: `JSONStorage` re-reads and rewrites the whole file on every operation,
and `Table._update_table` copies the whole table on every write, so each write costs O(n). Here:

- `JournaledStorage` keeps the tables in memory. Each committed transaction is appended to
  `<db>.journal` as one JSON line and fsynced before the caller is answered; once the journal
  holds as many changes as the last snapshot held records, the tables are written as a new snapshot
  (a plain TinyDB JSON file, through a temporary file, fsync and an atomic rename) and the journal
  is emptied. A write therefore costs O(1) amortised, and a crash at any moment leaves on disk the
  old or the new state of every transaction: a torn last journal line is a transaction that was
  never acknowledged, and replaying journal lines over a snapshot that already holds them is
  harmless because each line holds whole records, not increments.
- `_KeyedTable` applies TinyDB's updaters to the stored table in place and reports which
  documents they touched, so the storage can journal them and undo them on failure.
- Secondary indexes (declared per table) answer "the records whose field equals X" without a scan.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from tinydb import TinyDB
from tinydb.storages import Storage as TinyStorage
from tinydb.table import Document, Table

logger = logging.getLogger(__name__)

Record = dict[str, Any]
_MISSING = object()


class StorageError(Exception):
    """The database file cannot be read or written."""


class _TrackedTable(dict[str, Record]):
    """A table's documents; while a write is under way, remembers each touched id and its old value."""

    __slots__ = ("touched",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched: dict[str, Any] | None = None

    def _touch(self, key: str) -> None:
        if self.touched is not None and key not in self.touched:
            # Copy the old value now: TinyDB's update mutates the stored dict in place.
            old = dict.get(self, key, _MISSING)
            self.touched[key] = _MISSING if old is _MISSING else copy.deepcopy(old)

    def __getitem__(self, key: str) -> Record:
        self._touch(key)
        if self.touched is None:
            return dict.__getitem__(self, key)
        # A write is under way and TinyDB's update changes the record in place: give it a copy,
        # so that a record shared with read-only data (the base data a reset swaps in) is never
        # changed behind its back.
        stored: Record = dict.__getitem__(self, key)
        doc = dict(stored)
        dict.__setitem__(self, key, doc)
        return doc

    def __setitem__(self, key: str, value: Record) -> None:
        self._touch(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._touch(key)
        dict.__delitem__(self, key)

    def pop(self, key: str, *default: Any) -> Any:
        self._touch(key)
        return dict.pop(self, key, *default)


class _KeyedTable(Table):
    """A TinyDB table whose document ids are the records' own string ids, written in place."""

    document_id_class = str  # type: ignore[assignment]

    def _update_table(self, updater: Callable[[dict[Any, Mapping[Any, Any]]], None]) -> None:
        storage = self._storage
        assert isinstance(storage, JournaledStorage)
        table = storage.table_dict(self.name)
        table.touched = {}
        try:
            updater(table)  # type: ignore[arg-type]
        finally:
            touched, table.touched = table.touched, None
        storage.record_changes(self.name, touched)
        self.clear_cache()


class JournaledStorage(TinyStorage):
    """TinyDB storage: tables in memory, a snapshot file plus an append-only journal on disk."""

    def __init__(self, path: str | os.PathLike[str], indexes: Mapping[str, Sequence[str]]) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self._tables: dict[str, _TrackedTable] = {}
        self._index_fields = {table: tuple(fields) for table, fields in indexes.items()}
        self._indexes: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
        self._journal: Any = None
        self._journal_changes = 0
        self._snapshot_size = 0
        self._pending: list[tuple[str, str, Any]] | None = None
        self._index_cache: (
            tuple[object, dict[tuple[str, str], dict[Any, dict[str, None]]]] | None
        ) = None

    # -- TinyDB's Storage interface -------------------------------------------------------
    def read(self) -> dict[str, Any]:
        return self._tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        # Only whole-database operations (drop_tables, truncate) come here: keyed writes go
        # through record_changes. Rewrite the snapshot so disk and memory stay one state.
        self._tables = {name: _TrackedTable(docs) for name, docs in data.items()}
        self._rebuild_indexes()
        self.compact()

    def close(self) -> None:
        if self._journal is not None:
            self.compact()
            self._journal.close()
            self._journal = None

    # -- opening ----------------------------------------------------------------------------
    def open(
        self, initial: Callable[[], Mapping[str, Iterable[Record]]], id_fields: Mapping[str, str]
    ) -> None:
        """Load the snapshot and replay the journal, or create the file from `initial()`."""
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError) as exc:
                raise StorageError(f"cannot read the database {self.path}: {exc}") from exc
            if not isinstance(raw, dict):
                raise StorageError(f"{self.path} is not a TinyDB database (expected a JSON object)")
            self._tables = {name: _TrackedTable(docs) for name, docs in raw.items()}
            replayed = self._replay_journal()
            logger.info("opened %s (%d journal transactions replayed)", self.path, replayed)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tables = {
                table: _TrackedTable((rec[id_fields[table]], dict(rec)) for rec in records)
                for table, records in initial().items()
            }
            logger.info("created %s from the default data", self.path)
        for table in self._index_fields:
            self._tables.setdefault(table, _TrackedTable())
        self._rebuild_indexes()
        self.compact()

    def _replay_journal(self) -> int:
        try:
            lines = self.journal_path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StorageError(f"cannot read the journal {self.journal_path}: {exc}") from exc
        count = 0
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                changes = json.loads(line)
            except ValueError:
                if number == len(lines) - 1:
                    # The tail of a write the crash interrupted; it was never acknowledged.
                    logger.warning("ignoring a torn last line in %s", self.journal_path)
                    break
                raise StorageError(f"{self.journal_path} line {number + 1} is corrupt") from None
            for table, doc_id, doc in changes:
                docs = self._tables.setdefault(table, _TrackedTable())
                if doc is None:
                    dict.pop(docs, doc_id, None)
                else:
                    dict.__setitem__(docs, doc_id, doc)
            count += 1
        return count

    # -- transactions -------------------------------------------------------------------------
    def table_dict(self, name: str) -> _TrackedTable:
        return self._tables.setdefault(name, _TrackedTable())

    def record_changes(self, table: str, touched: Mapping[str, Any]) -> None:
        """Index the documents a TinyDB write touched and journal them (now, or at commit)."""
        docs = self._tables[table]
        changes = []
        for doc_id, old in touched.items():
            new = dict.get(docs, doc_id, None)
            self._reindex(table, doc_id, None if old is _MISSING else old, new)
            changes.append((table, doc_id, old))
        if self._pending is not None:
            self._pending.extend(changes)
        else:
            self._pending = changes
            self._commit()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one journal line: all of them reach the disk, or none do."""
        if self._pending is not None:
            yield  # nested: the outer transaction commits
            return
        self._pending = []
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def _commit(self) -> None:
        pending = self._pending or []
        if not pending:
            self._pending = None
            return
        # The last state of each touched document, in first-touch order.
        latest: dict[tuple[str, str], Any] = {}
        for table, doc_id, _old in pending:
            latest[(table, doc_id)] = dict.get(self._tables[table], doc_id, None)
        line = json.dumps([[t, i, d] for (t, i), d in latest.items()], separators=(",", ":"))
        try:
            self._append(line.encode("utf-8") + b"\n")
        except OSError as exc:
            self._rollback()
            raise StorageError(f"cannot write the journal {self.journal_path}: {exc}") from exc
        self._pending = None
        self._journal_changes += len(latest)
        # Compare with the snapshot's size, not the current one: with inserts only, the journal
        # would otherwise never catch up. Rewriting n records every n changes keeps writes O(1).
        if self._journal_changes > max(1000, self._snapshot_size):
            self.compact()

    def _rollback(self) -> None:
        pending, self._pending = self._pending or [], None
        # Undo newest first so each document gets back the value it had before the transaction.
        for table, doc_id, old in reversed(pending):
            docs = self._tables[table]
            current = dict.get(docs, doc_id, None)
            if old is _MISSING:
                dict.pop(docs, doc_id, None)
                restored = None
            else:
                dict.__setitem__(docs, doc_id, old)
                restored = old
            self._reindex(table, doc_id, current, restored)

    def _append(self, data: bytes) -> None:
        if self._journal is None:
            self._journal = open(self.journal_path, "ab", buffering=0)  # noqa: SIM115
        self._journal.write(data)
        os.fsync(self._journal.fileno())

    def compact(self) -> None:
        """Write the tables as a new snapshot, atomically, then empty the journal."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                # dumps, not dump: json.dump streams through the pure-Python encoder.
                fh.write(json.dumps(self._tables, separators=(",", ":")))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            if self._journal is not None:
                self._journal.close()
            self._journal = open(self.journal_path, "wb", buffering=0)  # noqa: SIM115
            os.fsync(self._journal.fileno())
        except OSError as exc:
            raise StorageError(f"cannot write the database {self.path}: {exc}") from exc
        self._journal_changes = 0
        self._snapshot_size = self.size()

    def size(self) -> int:
        return sum(len(docs) for docs in self._tables.values())

    def replace_all(
        self,
        tables: Mapping[str, Mapping[str, Record]],
        only: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Make the tables hold exactly `tables` (records by id, in order), in one transaction.

        Only the records that differ are journaled, so a reset after a few changes writes a few
        records, not the whole database, and a crash leaves the old state or the new one like any
        other transaction. `only` (table, id) pairs, when given, are the only records that can
        differ (the caller knows what changed since the tables last matched): the others are not
        even compared. In memory each table becomes a copy of its dict in `tables` (a C-level
        copy, in its order: a reset answers like a fresh start, unsorted pages included); the
        records themselves are shared, which is safe because a write copies a record before
        changing it (`_TrackedTable.__getitem__`), and the caller never changes them either.
        """
        names = [*self._tables, *(t for t in tables if t not in self._tables)]
        changes = self.differences(tables, only)
        with self.transaction():
            for name in names:
                self._tables[name] = _TrackedTable(tables.get(name, {}))
            self._indexes = self.indexes_for(tables)
            assert self._pending is not None
            self._pending.extend(changes)

    def differences(
        self,
        tables: Mapping[str, Mapping[str, Record]],
        only: Iterable[tuple[str, str]] | None = None,
    ) -> list[tuple[str, str, Any]]:
        """(table, id, current record or _MISSING) for each record that differs from `tables`."""
        candidates: dict[str, list[str]] = {}
        if only is None:
            for name in [*self._tables, *(t for t in tables if t not in self._tables)]:
                wanted = tables.get(name, {})
                gone = [i for i in dict.keys(self.table_dict(name)) if i not in wanted]
                candidates[name] = [*gone, *wanted]
        else:
            for name, doc_id in only:
                candidates.setdefault(name, []).append(doc_id)
        changes: list[tuple[str, str, Any]] = []
        for name, doc_ids in candidates.items():
            current = self.table_dict(name)
            wanted = tables.get(name, {})
            for doc_id in dict.fromkeys(doc_ids):
                have = dict.get(current, doc_id, _MISSING)
                if have != wanted.get(doc_id, _MISSING):
                    changes.append((name, doc_id, have))
        return changes

    def indexes_for(
        self, tables: Mapping[str, Mapping[str, Record]]
    ) -> dict[tuple[str, str], dict[Any, dict[str, None]]]:
        """A fresh copy of the indexes of `tables` (built once per tables object, then copied)."""
        if self._index_cache is None or self._index_cache[0] is not tables:
            built: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
            for table, fields in self._index_fields.items():
                for field in fields:
                    index: dict[Any, dict[str, None]] = {}
                    for doc_id, doc in tables.get(table, {}).items():
                        index.setdefault(_hashable(doc.get(field)), {})[doc_id] = None
                    built[(table, field)] = index
            self._index_cache = (tables, built)
        return {
            key: {value: bucket.copy() for value, bucket in index.items()}
            for key, index in self._index_cache[1].items()
        }

    # -- secondary indexes --------------------------------------------------------------------
    def _rebuild_indexes(self) -> None:
        self._indexes = {}
        for table, fields in self._index_fields.items():
            for field in fields:
                index: dict[Any, dict[str, None]] = {}
                for doc_id, doc in dict.items(self._tables.get(table, {})):
                    index.setdefault(_hashable(doc.get(field)), {})[doc_id] = None
                self._indexes[(table, field)] = index

    def _reindex(self, table: str, doc_id: str, old: Record | None, new: Record | None) -> None:
        for field in self._index_fields.get(table, ()):
            index = self._indexes[(table, field)]
            if old is not None:
                bucket = index.get(_hashable(old.get(field)))
                if bucket is not None:
                    bucket.pop(doc_id, None)
            if new is not None:
                index.setdefault(_hashable(new.get(field)), {})[doc_id] = None

    def indexed_ids(self, table: str, field: str, value: Any) -> list[str]:
        return list(self._indexes[(table, field)].get(_hashable(value), {}))


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is; not every platform allows it.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Records(Protocol):
    """What the domain layer needs of a record container: `Database`, or a namespace's overlay."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def reading(self) -> AbstractContextManager[None]: ...
    def get(self, table: str, doc_id: str) -> Record | None: ...
    def contains(self, table: str, doc_id: str) -> bool: ...
    def iter_raw(self, table: str) -> Iterable[Record]: ...
    def find(self, table: str, field: str, value: Any) -> list[Record]: ...
    def insert(self, table: str, record: Record) -> None: ...
    def update(self, table: str, doc_id: str, fields: Mapping[str, Any]) -> None: ...
    def remove(self, table: str, doc_ids: Iterable[str]) -> None: ...


class Database:
    """The record store the domain layer uses: plain dicts in and out, one lock around everything.

    Reads and writes both take the lock: TinyDB is not thread-safe, and Connexion runs plain
    `def` handlers on worker threads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        id_fields: Mapping[str, str],
        indexes: Mapping[str, Sequence[str]],
    ) -> None:
        self.id_fields = dict(id_fields)
        self.lock = threading.RLock()
        self._db = TinyDB(path, storage=JournaledStorage, indexes=indexes)
        self._db.table_class = _KeyedTable
        storage = self._db.storage
        assert isinstance(storage, JournaledStorage)
        self._storage: JournaledStorage = storage
        self._tinytables = {name: self._db.table(name, cache_size=0) for name in self.id_fields}
        # The tables object the state last matched (replace_all), and the records written since.
        self._matched: object = None
        self._written: set[tuple[str, str]] | None = None

    def open(self, initial: Callable[[], Mapping[str, Iterable[Record]]]) -> None:
        with self.lock:
            self._storage.open(initial, self.id_fields)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def replace_all(self, tables: Mapping[str, Mapping[str, Record]]) -> None:
        """Replace every table at once (reset, import): readers see the old state or the new one.

        Replacing with the same `tables` object again (a reset to the base data) compares only
        the records written since: a reset costs what the tests changed, not the data's size.
        """
        with self.transaction():
            same = tables is self._matched and self._written is not None
            self._storage.replace_all(tables, self._written if same else None)
        self._matched, self._written = tables, set()

    def compare_with(self, tables: Mapping[str, Mapping[str, Record]]) -> None:
        """Learn which records differ from `tables` (a reopened database and its base data), so
        that the first reset to them is as quick as the next ones."""
        with self.lock:
            written = {(t, i) for t, i, _ in self._storage.differences(tables)}
            self._matched, self._written = tables, written
            self._storage.indexes_for(tables)  # built now, at start, rather than in a reset

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; every write inside reaches the disk together, or none does."""
        with self.lock, self._storage.transaction():
            yield

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock so that several reads see one state."""
        with self.lock:
            yield

    # Every method below expects the caller to hold the lock (through `reading` or `transaction`).
    def get(self, table: str, doc_id: str) -> Record | None:
        # TinyDB's annotations say int ids; _KeyedTable's are the records' string ids.
        doc = self._tinytables[table].get(doc_id=doc_id)  # type: ignore[call-overload]
        return dict(doc) if doc is not None else None

    def contains(self, table: str, doc_id: str) -> bool:
        return doc_id in self._storage.read().get(table, {})

    def iter_raw(self, table: str) -> Iterable[Record]:
        """The stored records themselves, read-only, in storage (creation) order."""
        return dict.values(self._storage.read().get(table, {}))

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        """The records whose indexed `field` equals `value`, in creation order of the index."""
        docs = self._storage.read().get(table, {})
        ids = self._storage.indexed_ids(table, field, value)
        return [dict(dict.__getitem__(docs, i)) for i in ids if dict.__contains__(docs, i)]

    def insert(self, table: str, record: Record) -> None:
        doc_id = record[self.id_fields[table]]
        self._note_written(table, [doc_id])
        self._tinytables[table].insert(Document(record, doc_id=doc_id))

    def update(self, table: str, doc_id: str, fields: Mapping[str, Any]) -> None:
        self._note_written(table, [doc_id])
        self._tinytables[table].update(dict(fields), doc_ids=[doc_id])  # type: ignore[list-item]

    def remove(self, table: str, doc_ids: Iterable[str]) -> None:
        ids = list(doc_ids)
        self._note_written(table, ids)
        self._tinytables[table].remove(doc_ids=ids)  # type: ignore[arg-type]

    def _note_written(self, table: str, doc_ids: Iterable[str]) -> None:
        # Noted before the write: a write that fails and is undone is merely compared for nothing.
        if self._written is not None:
            self._written.update((table, doc_id) for doc_id in doc_ids)
