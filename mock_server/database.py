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
  harmless because each line holds whole records, not increments. From 20,000 records on, a
  thread writes the snapshot from a copy-on-write snapshot of the tables, outside the lock, and
  then swaps it in with the journal's lines written meanwhile (writes do not stall for the
  seconds a large snapshot takes).
- `_KeyedTable` applies TinyDB's updaters to the stored table in place and reports which
  documents they touched, so the storage can journal them and undo them on failure.
- Secondary indexes (declared per table) answer "the records whose field equals X" without a scan.

What the disk may do to it, and what it does then:

- A write is acknowledged only once all of its journal line is on disk (written in a loop, since a
  write may be short, then fsynced). Writes share fsyncs (group commit): a transaction appends
  its line under the lock and lets the lock go; a flusher thread fsyncs whatever has been
  appended by then, outside the lock, and wakes the writers whose lines it made durable. Under
  16 concurrent writers one fsync acknowledges many writes; a lone writer waits one fsync, as
  before. Should that fsync fail, every transaction not yet durable is undone in memory (newest
  first) and cut off the journal, and each of their writers hears the error. A transaction can
  read what an earlier one wrote before that is durable (as in memory it is the state); what it
  answers still waits for its own line, which comes after the earlier one's. A failed or short append is cut off again (the journal is
  truncated back to its last whole line) before the caller hears `StorageFull` (no space left) or
  `StorageError`, and the change is undone in memory: the journal never holds a torn line in the
  middle, and the next write appends after a whole one.
- A snapshot that cannot be written changes nothing a caller sees: the change is already safe in
  the journal. The temporary file is removed, the failure is logged once, and the snapshot is
  retried after a backoff (1 s, doubling up to 60 s) while the journal keeps every change.
- Opening refuses, with a one-line `StorageError` naming the file (and the journal's line), to
  destroy or ignore what is on disk: a journal without its snapshot, an empty snapshot, a file or
  record of the wrong shape. Only a journal's unterminated last line is dropped: its newline was
  never on disk, so it was never acknowledged. A snapshot whose records passed these checks (at
  an open, or at a close that left the whole state in it) and whose stat identity is unchanged
  since (`<db>.snapshot-stat`; see `file_identity`) is not checked again; the journal always is.

Reads do not wait for reads. `Database.reading` holds the lock only while it reads a few records;
a read that scans a table (an index) takes a snapshot of the tables instead and lets the lock go.
The snapshot is a shallow copy of the tables and indexes that changed since the last one; it
stays valid because a write never changes a stored record or index bucket in place, it replaces it
with a changed copy (copy on write).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import errno
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import msgspec
from tinydb import TinyDB
from tinydb.storages import Storage as TinyStorage
from tinydb.table import Document, Table

from mock_server import file_identity
from mock_server.catalog import EXACT_SCALARS, Catalog, hashable
from mock_server.resources import MockApi

logger = logging.getLogger(__name__)

Record = dict[str, Any]
_MISSING = object()


class StorageError(Exception):
    """The database file cannot be read or written."""


class StorageFull(StorageError):
    """No space is left on the disk (or in the quota): the change was not saved."""


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def _write_error(what: str, exc: OSError) -> StorageError:
    """`StorageFull` when the disk is full, else `StorageError`; one line naming `what` failed."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in _FULL_ERRNOS:
        return StorageFull(f"{what}: the disk is full ({reason})")
    return StorageError(f"{what}: {reason}")


def _write_all(file: Any, data: bytes) -> None:
    """Write every byte of `data` to an unbuffered binary file: on a nearly full disk a write may
    write only part of it. Files are written through the objects `open()` returns, so that a test
    can put its own `open` in this module and inject a full or failing disk's faults."""
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError(errno.ENOSPC, "no byte could be written")
        view = view[written:]


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
        if self.touched is None:
            return dict.__getitem__(self, key)
        self._touch(key)
        # Copy on write: TinyDB's update changes the dict it gets in place, and both a reader's
        # snapshot and the read-only base data a reset swaps in may hold the stored one.
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


@dataclass(frozen=True)
class _Snapshot:
    """The tables and indexes at one moment; nothing in them is ever changed afterwards."""

    tables: Mapping[str, Mapping[str, Record]]
    indexes: Mapping[tuple[str, str], Mapping[Any, Mapping[str, None]]]


class JournaledStorage(TinyStorage):
    """TinyDB storage: tables in memory, a snapshot file plus an append-only journal on disk."""

    min_compact_changes = 1000
    """The journal is compacted once it holds more changes than this and than the snapshot."""
    compact_ratio = 1.0
    """... more changes than this many times the records the last snapshot held."""
    compact_backoff = (1.0, 60.0)
    """Seconds to wait before retrying a failed snapshot: the first wait, doubled up to the last."""
    background_compact_records = 20_000
    """From this many records on, a thread writes the snapshot outside the lock: written inline,
    a snapshot of 200,000 records held every other request for over a second."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        indexes: Mapping[str, Sequence[str]],
        lock: threading.RLock | None = None,
    ) -> None:
        self.path = Path(path)
        # The lock its owner (`Database`) holds around every call: a background compaction takes
        # it for its two short steps. Without one, compaction is always inline.
        self._lock = lock
        self._compactor: threading.Thread | None = None
        self._journal_generation = 0  # counts the times the journal was emptied or replaced
        self._closed = False
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self._checked_stamp = self.path.with_name(self.path.name + ".snapshot-stat")
        self._snapshot_checked = ""
        # The snapshot file as this process last read (a trusted identity) or wrote it: only that
        # file, unchanged, is stamped at close (not one a person edited while the mock ran).
        self._own_identity: file_identity.Identity | None = None
        self._tables: dict[str, _TrackedTable] = {}
        self._index_fields = {table: tuple(fields) for table, fields in indexes.items()}
        self._indexes: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
        self._journal: Any = None
        self._journal_changes = 0
        self._snapshot_size = 0
        self._pending: list[tuple[str, str, Any]] | None = None
        # Group commit: transactions are numbered as their lines are appended; `_durable` is the
        # last one known to be on disk. Each one not yet durable keeps its undo list and the
        # journal's length before its line, in case the fsync that should cover it fails.
        self._written = 0
        self._durable = 0
        self._undurable: list[tuple[int, list[tuple[str, str, Any]], int]] = []
        self._failed: dict[int, StorageError] = {}
        self._flush_lock = lock if lock is not None else threading.RLock()
        self._flush_wanted = threading.Condition(self._flush_lock)
        self._flushed = threading.Condition(self._flush_lock)
        self._flusher: threading.Thread | None = None
        self._async_waiters: list[tuple[int, asyncio.Future[None], asyncio.AbstractEventLoop]] = []
        self._id_fields: dict[str, str] = {}
        # The journal's length up to its last whole line, and whether a failed append could not
        # be cut off again (then the next append cuts it off first).
        self._journal_end = 0
        self._journal_torn = False
        self._appends_failing = False
        self._compact_failures = 0
        self._compact_retry_at = 0.0
        # Copy on write for readers' snapshots: the tables changed since the last snapshot, and
        # the index buckets made since then (by id), which no snapshot can hold.
        self._snapshot: _Snapshot | None = None
        self._snapshot_sources: dict[Any, object] = {}  # the live objects it was copied from
        self._dirty: set[str] = set()
        self._fresh_buckets: set[int] = set()
        # What follows every change of a record (the index's catalog): told under the lock.
        self.listeners: list[ChangeListener] = []
        # Indexes built once for the base data, reused by every reset to it (see `indexes_for`).
        self._index_cache: (
            tuple[object, dict[tuple[str, str], dict[Any, dict[str, None]]]] | None
        ) = None

    # -- TinyDB's Storage interface -------------------------------------------------------
    def read(self) -> dict[str, Any]:
        return self._tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        # Only whole-database operations (drop_tables, truncate) come here: keyed writes go
        # through record_changes. Rewrite the snapshot so disk and memory stay one state.
        old = self._tables
        self._tables = {name: _TrackedTable(docs) for name, docs in data.items()}
        self._rebuild_indexes()
        try:
            self.compact()
        except StorageError:
            # The snapshot could not be written (emptying the journal after it hardly fails):
            # memory goes back to what the disk holds, so that the caller's error is the truth.
            self._tables = old
            self._rebuild_indexes()
            raise

    def close(self) -> None:
        self._closed = True  # a background compaction under way gives up; so does the flusher
        self._flush_wanted.notify_all()
        # An empty journal: the snapshot on disk is the state, and rewriting it took seconds
        # of every stop at 100,000 sessions.
        if self._journal is not None and (self._journal_end or self._journal_torn):
            try:
                self.compact()
            except StorageError as exc:
                logger.warning("%s; every change is kept in %s", exc, self.journal_path)
        if self._journal is not None:
            self._stamp_at_close()
            self._journal.close()
            self._journal = None
        self._wake_async()
        for _number, future, loop in self._async_waiters:
            closed = StorageError(f"the database {self.path} was closed before a write was saved")
            loop.call_soon_threadsafe(_settle, future, closed)
        self._async_waiters = []

    # -- opening ----------------------------------------------------------------------------
    def open(
        self, initial: Callable[[], Mapping[str, Iterable[Record]]], id_fields: Mapping[str, str]
    ) -> None:
        """Load the snapshot and replay the journal, or create the file from `initial()`.

        Raises `StorageError`, one line naming the file, rather than ignore or overwrite what is
        on disk.
        """
        self._id_fields = dict(id_fields)
        self._closed = False
        if self.path.exists():
            self._tables = self._read_snapshot()
            replayed = self._replay_journal()
            created = False
        else:
            journal_size = _size_of(self.journal_path)
            if journal_size:
                raise StorageError(
                    f"{self.path} is missing but its journal {self.journal_path} holds "
                    f"{journal_size} bytes of changes made to it; restore {self.path}, or "
                    f"{self._start_over()}"
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                if isinstance(exc, FileExistsError):
                    reason = "a file of that name is in the way"
                raise StorageError(
                    f"cannot create the folder {self.path.parent} for the database: {reason}"
                ) from exc
            self._tables = {
                table: _TrackedTable((rec[id_fields[table]], dict(rec)) for rec in records)
                for table, records in initial().items()
            }
            created = True
        for table in self._index_fields:
            self._tables.setdefault(table, _TrackedTable())
        self._rebuild_indexes()
        for leftover in self._temporary_files():
            _remove_quietly(leftover)  # an interrupted snapshot: never part of the state
        try:
            if created or self._journal_end:
                self.compact()
            else:
                # The snapshot on disk is the state: rewriting it (a second at 100,000 sessions)
                # would change nothing. Opening the journal for appends still proves, now, that
                # the files can be written (a read-only filesystem is refused at start).
                self._open_journal()
                if self._snapshot_checked == "checked":
                    self._stamp_checked(self._own_identity)
        except StorageFull as exc:
            if created:
                raise
            # The snapshot and the journal on disk hold everything: serve, and refuse writes
            # with 507 until there is room again.
            logger.warning("%s; serving from %s and its journal", exc, self.path)
        if created:
            logger.info("created %s from the default data", self.path)
        else:
            logger.info(
                "opened %s (records %s, %d journal transactions replayed)",
                self.path,
                self._snapshot_checked,
                replayed,
            )

    def _open_journal(self) -> None:
        try:
            self._journal = open(self.journal_path, "ab", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise _write_error(f"cannot write the database {self.path}", exc) from exc
        self._snapshot_size = self.size()

    def _start_over(self) -> str:
        return (
            f"to start over from the default data, move {self.path} and {self.journal_path} "
            "away (or delete them)"
        )

    def _read_snapshot(self) -> dict[str, _TrackedTable]:
        try:
            data, identity = file_identity.read_identified(self.path)
        except OSError as exc:
            raise StorageError(
                f"cannot read the database {self.path}: {exc.strerror or exc}"
            ) from exc
        try:
            # Straight from the bytes: decoding them first (to tell an empty file) copied 167 MB
            # at 100,000 sessions. Whatever msgspec refuses is looked at closely below.
            raw = _DECODER.decode(data)
        except msgspec.DecodeError:
            raw = self._parse_refused(data)
        if not isinstance(raw, dict):
            raise StorageError(
                f"{self.path} is not a TinyDB database (expected a JSON object of tables, "
                f"found {_json_kind(raw)}); {self._start_over()}"
            )
        # The records of a snapshot that passed these checks, unchanged since, are not checked
        # again (0.2 s at 100,000 sessions); any other one is, hand-edited or not.
        trusted = identity is not None and identity == self._checked_identity()
        tables: dict[str, _TrackedTable] = {}
        for name, docs in raw.items():
            if not isinstance(docs, dict):
                raise StorageError(
                    f"{self.path}: table {name!r} is {_json_kind(docs)}, not an object of "
                    f"records by id; {self._start_over()}"
                )
            tables[name] = _TrackedTable(docs)
        if not trusted:
            problem = self._tables_problem(tables)
            if problem is not None:
                raise StorageError(f"{self.path}: {problem}; {self._start_over()}")
        self._snapshot_checked = "unchanged since checked" if trusted else "checked"
        self._own_identity = identity
        return tables

    def _parse_refused(self, data: bytes) -> Any:
        """The snapshot msgspec refused: a precise error, or what `json` reads (NaN, 1e400)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StorageError(f"cannot read the database {self.path}: {exc}") from exc
        if not text.strip():
            raise StorageError(
                f"the database {self.path} is empty (0 bytes of data), so its records are lost "
                f"or were never written; restore it from a copy, or {self._start_over()}"
            )
        try:
            return json.loads(text)  # msgspec has refused it already
        except ValueError as exc:
            raise StorageError(
                f"cannot read the database {self.path}: it is not JSON ({exc}); "
                f"restore it from a copy, or {self._start_over()}"
            ) from exc

    def _tables_problem(self, tables: Mapping[str, Mapping[Any, Any]]) -> str | None:
        """What is wrong with the first bad record of `tables`, or None."""
        for name, docs in tables.items():
            # One comprehension finds the suspects (a method call per record took 1 s at
            # 100,000 sessions); JSON keys are strings, so the rest of the check is theirs.
            id_field = self._id_fields.get(name)
            suspects = [
                doc_id
                for doc_id, doc in docs.items()
                if type(doc) is not dict or (id_field is not None and doc.get(id_field) != doc_id)
            ]
            for doc_id in suspects:
                problem = self._record_problem(name, doc_id, docs[doc_id])
                if problem is not None:
                    return problem
        return None

    # -- what the last check proved ---------------------------------------------------------
    def _checked_identity(self) -> file_identity.Identity | None:
        """The identity of the snapshot file that last passed the record checks, as kept in
        `<db>.snapshot-stat` for these id fields (the checks depend on them)."""
        kept = file_identity.recall(self._checked_stamp)
        if kept is None or kept.get("id_fields") != self._id_fields:
            return None
        return file_identity.as_identity(kept.get("snapshot"))

    def _stamp_checked(self, identity: file_identity.Identity | None) -> None:
        """Keep `identity` as that of a snapshot file whose records pass the checks."""
        if identity is None or identity == self._checked_identity():
            return
        learnt = {"snapshot": list(identity), "id_fields": self._id_fields}
        file_identity.remember(self._checked_stamp, learnt)

    def _note_own_snapshot(self) -> None:
        """Note the identity of the snapshot file this process has just written."""
        try:
            self._own_identity = file_identity.identity_of(self.path.stat())
        except OSError:
            self._own_identity = None

    def _stamp_at_close(self) -> None:
        """At a close that left the whole state in the snapshot (an empty journal), the file as
        this process last read or wrote it: check the records in memory, which are the file's,
        and keep the file's identity for the next start. Waits for the file to settle only when
        it is large (then the wait is small beside the write that made it; a small file costs
        the next start little to check). A file changed by anyone else since is left unstamped."""
        own = self._own_identity
        if own is None or self._journal_end or self._journal_torn or self._compactor is not None:
            return
        if own == self._checked_identity():
            return  # stamped already (changed since or not: the next start sees which)
        if self._tables_problem(self._tables) is not None:
            return  # the next start reports it
        longest = file_identity.SETTLED_NS if self.size() >= self.background_compact_records else 0
        self._stamp_checked(file_identity.wait_settled(self.path, own, longest))

    def _record_problem(self, table: str, doc_id: Any, doc: Any) -> str | None:
        """What is wrong with a record read from disk (None for a deletion), or None."""
        if not isinstance(table, str) or not isinstance(doc_id, str):
            return f"table {table!r} record id {doc_id!r} is not a pair of strings"
        if not isinstance(doc, dict):
            return f"record {doc_id!r} of table {table!r} is {_json_kind(doc)}, not an object"
        id_field = self._id_fields.get(table)
        if id_field is not None and doc.get(id_field) != doc_id:
            return (
                f"record {doc_id!r} of table {table!r} has {id_field} "
                f"{doc.get(id_field)!r}, not its own id"
            )
        return None

    def _replay_journal(self) -> int:
        try:
            data = self.journal_path.read_bytes()
        except FileNotFoundError:
            self._journal_end = 0
            return 0
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise StorageError(f"cannot read the journal {self.journal_path}: {reason}") from exc
        # A line counts once its newline is on disk: a write is acknowledged only after that.
        end = data.rfind(b"\n") + 1
        count = 0
        for number, line in enumerate(data[:end].split(b"\n")[:-1], start=1):
            if not line.strip():
                continue
            where = f"{self.journal_path} line {number}"
            try:
                changes = json.loads(line)
            except ValueError:
                raise StorageError(
                    f"{where} is corrupt (not JSON); every change from there on is unreadable: "
                    f"repair or remove that line, or {self._start_over()}"
                ) from None
            problem = self._changes_problem(changes)
            if problem is not None:
                raise StorageError(f"{where} is corrupt ({problem}); {self._start_over()}")
            for table, doc_id, doc in changes:
                docs = self._tables.setdefault(table, _TrackedTable())
                if doc is None:
                    dict.pop(docs, doc_id, None)
                else:
                    dict.__setitem__(docs, doc_id, doc)
            count += 1
        if end < len(data):
            # The tail of a write a crash interrupted, never acknowledged: cut it off, so that
            # the next append starts a line of its own.
            logger.warning(
                "dropping an unfinished last line (%d bytes, never acknowledged) of %s",
                len(data) - end,
                self.journal_path,
            )
            try:
                os.truncate(self.journal_path, end)
            except OSError as exc:
                raise _write_error(f"cannot repair the journal {self.journal_path}", exc) from exc
        self._journal_end = end
        return count

    def _changes_problem(self, changes: Any) -> str | None:
        if not isinstance(changes, list) or not changes:
            return f"expected a list of [table, id, record] changes, found {_json_kind(changes)}"
        for change in changes:
            if not isinstance(change, list) or len(change) != 3:
                return f"a change is {_json_kind(change)}, not [table, id, record]"
            table, doc_id, doc = change
            if doc is None and isinstance(table, str) and isinstance(doc_id, str):
                continue
            problem = self._record_problem(table, doc_id, doc)
            if problem is not None:
                return problem
        return None

    # -- transactions -------------------------------------------------------------------------
    def table_dict(self, name: str) -> _TrackedTable:
        return self._tables.setdefault(name, _TrackedTable())

    def record_changes(self, table: str, touched: Mapping[str, Any]) -> None:
        """Index the documents a TinyDB write touched and journal them (now, or at commit)."""
        docs = self._tables[table]
        self._dirty.add(table)
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
        start = self._journal_end
        try:
            self._append(line.encode("utf-8") + b"\n")
        except OSError as exc:
            self._rollback()
            error = _write_error(f"cannot write the journal {self.journal_path}", exc)
            if not self._appends_failing:
                # Once per run of failures: every refused write is answered, not logged.
                logger.error("%s; changes are refused until it can be written", error)
                self._appends_failing = True
            raise error from exc
        if self._appends_failing:
            logger.warning("the journal %s can be written again", self.journal_path)
            self._appends_failing = False
        self._written += 1
        self._undurable.append((self._written, pending, start))
        self._pending = None
        self._flush_wanted.notify()
        self._journal_changes += len(latest)
        # Compare with the snapshot's size, not the current one: with inserts only, the journal
        # would otherwise never catch up. Rewriting n records every n changes keeps writes O(1).
        threshold = max(self.min_compact_changes, self.compact_ratio * self._snapshot_size)
        if self._journal_changes > threshold:
            self._compact_when_due()

    def _compact_when_due(self) -> None:
        """Compact now (or start a thread that does), unless a failed attempt's backoff runs.

        The change that triggered it is already durable in the journal, so a failure here is
        logged (once per run of failures) and retried later, never reported to the caller.
        """
        if time.monotonic() < self._compact_retry_at or self._compactor is not None:
            return
        if self._lock is not None and self.size() >= self.background_compact_records:
            # Sync what is appended first: an fsync behind the snapshot's megabytes of writes
            # waits for them on some filesystems (ext4 commits them in the same journal).
            self.sync_now()
            self._compactor = threading.Thread(
                target=self._compact_in_background, name=f"compact {self.path.name}"
            )
            self._compactor.start()
            return
        try:
            self.compact()
        except StorageError as exc:
            self._compact_failed(exc)
            return
        self._compact_succeeded()

    def _compact_failed(self, exc: StorageError) -> None:
        self._compact_failures += 1
        first, most = self.compact_backoff
        delay = min(most, first * 2 ** (self._compact_failures - 1))
        self._compact_retry_at = time.monotonic() + delay
        if self._compact_failures == 1:
            logger.warning(
                "%s; every change is safe in the journal %s, the snapshot is retried with a backoff",
                exc,
                self.journal_path,
            )

    def _compact_succeeded(self) -> None:
        if self._compact_failures:
            logger.warning(
                "wrote the snapshot %s after %d failed attempts", self.path, self._compact_failures
            )
            self._compact_failures = 0
            self._compact_retry_at = 0.0

    def _compact_in_background(self) -> None:
        """Write a snapshot outside the lock, then swap it in with the journal's newer lines.

        On disk, in order: the new snapshot beside the whole old journal (replaying lines the
        snapshot already holds changes nothing), then the journal cut down to the lines written
        since the snapshot was taken. A crash between any two steps leaves a consistent state.
        """
        assert self._lock is not None
        tmp = self.path.with_name(self.path.name + ".next.tmp")
        journal_tmp = self.journal_path.with_name(self.journal_path.name + ".tmp")
        try:
            with self._lock:
                snapshot = self.snapshot()
                generation, offset = self._journal_generation, self._journal_end
                changes, size = self._journal_changes, self.size()
            _write_file(tmp, _encode_tables(snapshot.tables))
            with self._lock:
                if self._closed or generation != self._journal_generation:
                    return  # an inline compaction since (a close, a whole-database write) won
                with open(self.journal_path, "rb") as fh:
                    fh.seek(offset)
                    tail = fh.read(self._journal_end - offset)
                # Open before the rename: this handle follows the file to its new name.
                journal = open(journal_tmp, "ab", buffering=0)  # noqa: SIM115
                try:
                    _write_all(journal, tail)
                    os.fsync(journal.fileno())
                    os.replace(tmp, self.path)
                    _fsync_dir(self.path.parent)
                    os.replace(journal_tmp, self.journal_path)
                except BaseException:
                    journal.close()
                    raise
                _fsync_dir(self.path.parent)
                self._note_own_snapshot()
                if self._journal is not None:
                    self._journal.close()
                self._journal = journal
                self._journal_end = len(tail)
                self._made_durable(self._written)  # the new journal's lines were fsynced
                self._journal_torn = False
                self._journal_generation += 1
                self._journal_changes -= changes
                self._snapshot_size = size
                self._compact_succeeded()
        except OSError as exc:
            with self._lock:
                self._compact_failed(_write_error(f"cannot write the database {self.path}", exc))
        finally:
            _remove_quietly(tmp)
            _remove_quietly(journal_tmp)
            with self._lock:
                self._compactor = None

    # -- group commit ---------------------------------------------------------------------------
    @property
    def written(self) -> int:
        """The number of the last transaction appended to the journal (0: none yet)."""
        return self._written

    def wait_durable(self, number: int) -> None:
        """Return once transaction `number` is on disk; raise `StorageError` if it never will be.

        Call it without holding the lock: waiting lets it go, so that other writers append
        the lines the same fsync will cover.
        """
        with self._flush_lock:
            while not self._settled(number):
                self._ask_for_flush()
                self._flushed.wait()

    async def wait_durable_async(self, number: int) -> None:
        """`wait_durable` for a coroutine: the event loop serves others meanwhile."""
        loop = asyncio.get_running_loop()
        with self._flush_lock:
            if self._settled(number):
                return
            future: asyncio.Future[None] = loop.create_future()
            self._async_waiters.append((number, future, loop))
            self._ask_for_flush()
        await future

    def _settled(self, number: int) -> bool:
        """Under the flush lock: True once transaction `number` is on disk; raises the error it
        failed with, or `StorageError` when the database closed first."""
        failed = self._failed.pop(number, None)
        if failed is not None:
            raise failed
        if self._durable >= number:
            return True
        if self._closed:
            raise StorageError(f"the database {self.path} was closed before a write was saved")
        return False

    def _ask_for_flush(self) -> None:
        """Under the flush lock: wake the flusher thread, starting it if it is not running."""
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(
                target=self._flush, name=f"fsync {self.path.name}", daemon=True
            )
            self._flusher.start()
        self._flush_wanted.notify()

    def _wake_async(self) -> None:
        """Settle the coroutines waiting for transactions now durable (or failed)."""
        waiting = []
        for number, future, loop in self._async_waiters:
            failed = self._failed.pop(number, None)
            if failed is not None:
                loop.call_soon_threadsafe(_settle, future, failed)
            elif self._durable >= number:
                loop.call_soon_threadsafe(_settle, future, None)
            else:
                waiting.append((number, future, loop))
        self._async_waiters = waiting

    def sync_now(self) -> None:
        """Make every appended transaction durable here, holding the lock (a nested caller's)."""
        if self._durable < self._written and self._journal is not None:
            target = self._written
            try:
                os.fsync(self._journal.fileno())
            except OSError as exc:
                self._sync_failed(exc)
            else:
                self._made_durable(target)
            self._flushed.notify_all()

    def _flush(self) -> None:
        """The flusher thread: fsync what was appended, outside the lock, until closed."""
        with self._flush_lock:
            while not self._closed:
                if self._durable >= self._written or self._journal is None:
                    self._flush_wanted.wait()
                    continue
                target, fd = self._written, os.dup(self._journal.fileno())
                error: OSError | None = None
                # The flusher holds the lock exactly once here: let it go for the fsync, so that
                # writers go on appending the lines the next fsync will cover.
                self._flush_lock.release()
                try:
                    os.fsync(fd)
                except OSError as exc:
                    error = exc
                finally:
                    os.close(fd)
                    self._flush_lock.acquire()
                if error is None or self._durable >= target:
                    self._made_durable(target)  # (or a compaction made them durable meanwhile)
                else:
                    self._sync_failed(error)
                self._flushed.notify_all()

    def _made_durable(self, number: int) -> None:
        if number <= self._durable:
            return
        self._durable = number
        keep = 0
        while keep < len(self._undurable) and self._undurable[keep][0] <= number:
            keep += 1
        del self._undurable[:keep]
        self._flushed.notify_all()
        self._wake_async()

    def _sync_failed(self, exc: OSError) -> None:
        """The fsync failed: undo every transaction not yet durable and cut its lines off."""
        error = _write_error(f"cannot write the journal {self.journal_path}", exc)
        undone, self._undurable = self._undurable, []
        for number, changes, _start in reversed(undone):
            self._undo(changes)
            self._failed[number] = error
            self._journal_changes -= len(changes)
        if undone:
            self._journal_end = undone[0][2]
            self._journal_torn = True  # cut off before the next append, if not here
            if self._journal is not None:
                try:
                    self._cut_journal(self._journal.fileno())
                except OSError as cut:
                    logger.error("cannot cut failed writes off %s: %s", self.journal_path, cut)
        self._durable = max(self._durable, self._written)
        self._wake_async()
        if not self._appends_failing:
            logger.error("%s; changes are refused until it can be written", error)
            self._appends_failing = True

    def _temporary_files(self) -> list[Path]:
        return [
            self.path.with_name(self.path.name + ".tmp"),
            self.path.with_name(self.path.name + ".next.tmp"),
            self.journal_path.with_name(self.journal_path.name + ".tmp"),
        ]

    def _rollback(self) -> None:
        pending, self._pending = self._pending or [], None
        self._undo(pending)

    def _undo(self, changes: list[tuple[str, str, Any]]) -> None:
        # Undo newest first so each document gets back the value it had before the transaction.
        for table, doc_id, old in reversed(changes):
            docs = self._tables[table]
            self._dirty.add(table)
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
        fd = self._journal.fileno()
        if self._journal_torn:
            self._cut_journal(fd)
        try:
            _write_all(self._journal, data)  # fsynced by the flusher, for several at once
        except OSError:
            try:
                self._cut_journal(fd)
            except OSError as exc:
                self._journal_torn = True
                logger.error("cannot cut a failed write off %s: %s", self.journal_path, exc)
            raise
        self._journal_end += len(data)

    def _cut_journal(self, fd: int) -> None:
        """Truncate the journal back to its last whole line (truncating needs no free space)."""
        os.ftruncate(fd, self._journal_end)
        os.fsync(fd)
        self._journal_torn = False

    def compact(self) -> None:
        """Write the tables as a new snapshot, atomically, then empty the journal."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            _write_file(tmp, _encode_tables(self._tables))
            os.replace(tmp, self.path)
        except OSError as exc:
            _remove_quietly(tmp)
            raise _write_error(f"cannot write the database {self.path}", exc) from exc
        _fsync_dir(self.path.parent)
        self._note_own_snapshot()
        self._made_durable(self._written)  # the snapshot holds every change made so far
        # The snapshot holds every change now. Should emptying the journal fail, its lines are
        # replayed over a snapshot that already holds them, which changes nothing.
        try:
            if self._journal is None:
                self._journal = open(self.journal_path, "ab", buffering=0)  # noqa: SIM115
            os.ftruncate(self._journal.fileno(), 0)
            os.fsync(self._journal.fileno())
        except OSError as exc:
            raise _write_error(f"cannot empty the journal {self.journal_path}", exc) from exc
        self._journal_end = 0
        self._journal_torn = False
        self._journal_generation += 1
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
            for listener in self.listeners:
                listener.reset()
            # Readers' snapshots hold the old objects; the next snapshot copies the new ones.
            self._snapshot = None
            self._dirty.update(names)
            self._fresh_buckets.clear()
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

    def share(
        self, tables: Mapping[str, Mapping[str, Record]], differing: set[tuple[str, str]]
    ) -> None:
        """Hold the records of `tables` themselves where they equal this state's (every record
        not in `differing`): a reopened database and its base data are then one copy in memory,
        not two. Safe because no stored record is ever changed in place (copy on write)."""
        for name, docs in self._tables.items():
            wanted = tables.get(name, {})
            for doc_id in list(dict.keys(docs)):
                if (name, doc_id) not in differing and doc_id in wanted:
                    dict.__setitem__(docs, doc_id, wanted[doc_id])
        self._snapshot = None

    def lend(self, tables: dict[str, dict[str, Record]], differing: set[tuple[str, str]]) -> None:
        """`share` the other way round: put this state's records, and their id strings, into
        `tables` (in place, each table's order kept) wherever they are not in `differing`."""
        for name, docs in tables.items():
            ours = self._tables.get(name)
            if ours is None:
                continue
            keys = {doc_id: doc_id for doc_id in dict.keys(ours)}  # the key objects themselves
            lent: dict[str, Record] = {}
            for doc_id, doc in docs.items():
                if (name, doc_id) in differing:
                    lent[doc_id] = doc
                else:
                    lent[keys[doc_id]] = dict.__getitem__(ours, doc_id)
            tables[name] = lent

    def indexes_for(
        self, tables: Mapping[str, Mapping[str, Record]]
    ) -> dict[tuple[str, str], dict[Any, dict[str, None]]]:
        """A fresh copy of the indexes of `tables` (built once per tables object, then copied)."""
        if self._index_cache is None or self._index_cache[0] is not tables:
            built: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
            for table, fields in self._index_fields.items():
                for field in fields:
                    built[(table, field)] = _index_of(tables.get(table, {}), field)
            self._index_cache = (tables, built)
        return {
            key: {value: bucket.copy() for value, bucket in index.items()}
            for key, index in self._index_cache[1].items()
        }

    # -- secondary indexes --------------------------------------------------------------------
    def _rebuild_indexes(self) -> None:
        self._snapshot = None
        for listener in self.listeners:
            listener.reset()
        self._indexes = {}
        for table, fields in self._index_fields.items():
            for field in fields:
                self._indexes[(table, field)] = _index_of(self._tables.get(table, {}), field)

    def _reindex(self, table: str, doc_id: str, old: Record | None, new: Record | None) -> None:
        for field in self._index_fields.get(table, ()):
            index = self._indexes[(table, field)]
            if old is not None:
                key = _hashable(old.get(field))
                bucket = index.get(key)
                if bucket is not None and doc_id in bucket:
                    self._own_bucket(index, key).pop(doc_id, None)
            if new is not None:
                self._own_bucket(index, _hashable(new.get(field)))[doc_id] = None
        for listener in self.listeners:
            listener.changed(table, doc_id, new)

    def _own_bucket(self, index: dict[Any, dict[str, None]], key: Any) -> dict[str, None]:
        """The bucket for `key`, copied first unless no snapshot can hold it (copy on write)."""
        bucket = index.get(key)
        if bucket is None or id(bucket) not in self._fresh_buckets:
            bucket = dict(bucket or {})
            index[key] = bucket
            self._fresh_buckets.add(id(bucket))
        return bucket

    def snapshot(self) -> _Snapshot:
        """The tables and indexes as they are now, safe to read without the lock afterwards.

        Call it under the database lock. Tables unchanged since the last snapshot are shared
        with it, so a snapshot after a few writes copies only the tables they changed.
        """
        last = self._snapshot
        sources = self._snapshot_sources
        # A copy is reused only if its table took no write and is still the same object (code
        # that swaps a whole table or index in, rather than writing records, is covered too).
        tables: dict[str, Mapping[str, Record]] = {}
        for name, docs in self._tables.items():
            reuse = last is not None and name not in self._dirty and sources.get(name) is docs
            tables[name] = last.tables[name] if reuse and last is not None else dict(docs)
        indexes: dict[tuple[str, str], Mapping[Any, Mapping[str, None]]] = {}
        for key, index in self._indexes.items():
            reuse = last is not None and key[0] not in self._dirty and sources.get(key) is index
            indexes[key] = last.indexes[key] if reuse and last is not None else dict(index)
        if (
            last is not None
            and len(tables) == len(last.tables)
            and len(indexes) == len(last.indexes)
            and all(tables[name] is last.tables.get(name) for name in tables)
            and all(indexes[key] is last.indexes.get(key) for key in indexes)
        ):
            return last  # nothing changed since
        self._snapshot = _Snapshot(tables, indexes)
        self._snapshot_sources = {**self._tables, **self._indexes}
        self._dirty.clear()
        # Every bucket is shared with this snapshot now.
        self._fresh_buckets.clear()
        return self._snapshot

    def live(self) -> _Snapshot:
        """The tables and indexes themselves, for reads under the lock."""
        return _Snapshot(self._tables, self._indexes)

    def live_tables(self) -> Mapping[str, Mapping[str, Record]]:
        """The tables themselves, for reads under the lock (the catalog's source)."""
        return self._tables

    def indexed_ids(self, table: str, field: str, value: Any) -> list[str]:
        return list(self._indexes[(table, field)].get(_hashable(value), {}))


_DECODER = msgspec.json.Decoder()


def read_json(data: bytes) -> Any:
    """A JSON document: by msgspec (a 167 MB snapshot in 1.2 s of CPU where orjson took 1.5 s
    and `json` 3 s), else by `json`, which also reads what msgspec refuses and `json.dumps` may
    have written (NaN, Infinity). Integers of any size stay exact in both (orjson made floats of
    those beyond 64 bits)."""
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


_hashable = hashable


def _index_of(docs: Mapping[str, Record], field: str) -> dict[Any, dict[str, None]]:
    """The secondary index of `field` over `docs`: the ids holding each value, in table order."""
    # Inlined: for the 473,000 records of 100,000 sessions a call to `hashable` and a throwaway
    # bucket from `setdefault` per record made this 1.1 s of a restart's profile.
    index: dict[Any, dict[str, None]] = {}
    exact = EXACT_SCALARS
    for doc_id, doc in docs.items():
        value = doc.get(field)
        key = value if type(value) in exact else _hashable(value)
        bucket = index.get(key)
        if bucket is None:
            bucket = index[key] = {}
        bucket[doc_id] = None
    return index


def _json_kind(value: Any) -> str:
    """How an error message names a JSON value of the wrong shape."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _encode_tables(tables: Mapping[str, Mapping[str, Record]]) -> bytes:
    """The tables as one TinyDB JSON document, encoded a few hundred records at a time.

    One `json.dumps` of everything would be faster by a little, but it holds the GIL from start
    to end: a background compaction would stop every other thread for as long.
    """
    parts = ["{"]
    for number, (name, docs) in enumerate(tables.items()):
        parts.append(("," if number else "") + json.dumps(name) + ":{")
        items = list(docs.items())
        for start in range(0, len(items), 500):
            chunk = json.dumps(dict(items[start : start + 500]), separators=(",", ":"))
            parts.append(("," if start else "") + chunk[1:-1])
        parts.append("}")
    parts.append("}")
    return "".join(parts).encode("utf-8")


def _write_file(path: Path, data: bytes) -> None:
    """Create or replace `path` with `data`, all of it on disk (fsynced) when this returns."""
    with open(path, "wb", buffering=0) as fh:
        _write_all(fh, data)
        os.fsync(fh.fileno())


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return 0
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _remove_quietly(path: Path) -> None:
    try:
        if path.exists():  # unlink fails on a read-only filesystem even when there is nothing
            path.unlink()
    except OSError as exc:
        logger.warning("cannot remove the temporary file %s: %s", path, exc)


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


class ChangeListener(Protocol):
    """Follows every change of a record (`changed`) and every replacement of whole tables."""

    def changed(self, table: str, doc_id: str, record: Record | None) -> None: ...
    def reset(self) -> None: ...


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return  # its request was cancelled (the client went away)
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class Durability:
    """The transactions a `deferred_durability` block committed, to be awaited on disk."""

    def __init__(self) -> None:
        self._pending: list[tuple[JournaledStorage, int]] = []

    def add(self, storage: JournaledStorage, number: int) -> None:
        self._pending.append((storage, number))

    async def wait(self) -> None:
        """Return once every transaction of the block is on disk; raise `StorageError` if one
        never will be (it was undone, as a synchronous transaction's would be)."""
        pending, self._pending = self._pending, []
        for storage, number in pending:
            await storage.wait_durable_async(number)


_DEFERRED: contextvars.ContextVar[Durability | None] = contextvars.ContextVar(
    "deferred_durability", default=None
)


@contextmanager
def deferred_durability() -> Iterator[Durability]:
    """Transactions inside return before their fsync; await the result's `wait()` after it.

    For a handler on the event loop: its change is made in memory and appended at once, and
    the loop serves other requests while the fsync it shares with them runs.
    """
    durability = Durability()
    token = _DEFERRED.set(durability)
    try:
        yield durability
    finally:
        _DEFERRED.reset(token)


class Records(Protocol):
    """What the domain layer needs of a record container: `Database`, or a namespace's overlay."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def catalog(self, api: MockApi) -> Catalog: ...
    def reading(self) -> AbstractContextManager[None]: ...
    def get(self, table: str, doc_id: str) -> Record | None: ...
    def contains(self, table: str, doc_id: str) -> bool: ...
    def iter_raw(self, table: str) -> Iterable[Record]: ...
    def find(self, table: str, field: str, value: Any) -> list[Record]: ...
    def insert(self, table: str, record: Record) -> None: ...
    def update(self, table: str, doc_id: str, fields: Mapping[str, Any]) -> None: ...
    def remove(self, table: str, doc_ids: Iterable[str]) -> None: ...


class _ReadState:
    """One thread's `Database.reading` block: whether it holds the lock or reads a snapshot."""

    __slots__ = ("holding", "snapshot")

    def __init__(self) -> None:
        self.holding = True
        self.snapshot: _Snapshot | None = None


class Database:
    """The record store the domain layer uses: plain dicts in and out, one lock for writes.

    Writes take the lock for the whole transaction: TinyDB is not thread-safe, and Connexion
    runs plain `def` handlers on worker threads. Reads never wait for reads for long: a
    `reading` block holds the lock while it reads single records, and a scan of a table
    (`iter_raw`) moves it onto a snapshot and lets the lock go.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        id_fields: Mapping[str, str],
        indexes: Mapping[str, Sequence[str]],
    ) -> None:
        self.id_fields = dict(id_fields)
        self.lock = threading.RLock()
        self._db = TinyDB(path, storage=JournaledStorage, indexes=indexes, lock=self.lock)
        self._db.table_class = _KeyedTable
        storage = self._db.storage
        assert isinstance(storage, JournaledStorage)
        self._storage: JournaledStorage = storage
        self._tinytables = {name: self._db.table(name, cache_size=0) for name in self.id_fields}
        self._local = threading.local()
        # The tables object the state last matched (replace_all), and the records written since.
        self._matched: object = None
        self._written: set[tuple[str, str]] | None = None
        self._catalog: Catalog | None = None

    def catalog(self, api: MockApi) -> Catalog:
        """The index's search structures over these tables for `api`, following every write
        (built again when the API served changes: an edited spec may add members to sort by)."""
        with self.lock:
            if self._catalog is None or self._catalog.api is not api:
                if self._catalog is not None:
                    self._storage.listeners.remove(self._catalog)
                self._catalog = Catalog(api, self._storage.live_tables, self._children)
                self._storage.listeners.append(self._catalog)
            return self._catalog

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
            # Inside the lock: a write that lands right after must be noted in the new set.
            self._matched, self._written = tables, set()

    def compare_with(self, tables: Mapping[str, Mapping[str, Record]]) -> None:
        """Learn which records differ from `tables` (a reopened database and its base data), so
        that the first reset to them is as quick as the next ones."""
        with self.lock:
            written = {(t, i) for t, i, _ in self._storage.differences(tables)}
            self._matched, self._written = tables, written
            self._storage.share(tables, written)
            self._storage.indexes_for(tables)  # built now, at start, rather than in a reset

    def lend(self, tables: dict[str, dict[str, Record]]) -> None:
        """Learn which records differ from `tables`, as `compare_with` does, but put this
        state's own objects into `tables` rather than the other way round; then `matched`.

        For the base data of a reopened database, read after it: the base then holds the older
        objects and its own copies are freed whole (shared the other way, the freed records
        were scattered among live ones: 180 MB more at 100,000 sessions). Every write from here
        on is noted too.
        """
        with self.lock:
            differing = {(t, i) for t, i, _ in self._storage.differences(tables)}
            self._storage.lend(tables, differing)
            self._matched, self._written = None, differing

    def matched(self, tables: Mapping[str, Mapping[str, Record]]) -> None:
        """`tables` (made from the ones `lend` filled) is what a reset to the base compares with:
        only the records `lend` found different, or written since, are compared then."""
        with self.lock:
            self._matched = tables
            self._storage.indexes_for(tables)  # built now rather than in the first reset

    def _children(self, table: str, field: str, value: Any) -> list[Record]:
        """The stored records whose indexed `field` equals `value` (under the lock; not copies)."""
        docs = self._storage.live_tables().get(table, {})
        return [docs[i] for i in self._storage.indexed_ids(table, field, value) if i in docs]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; every write inside reaches the disk together, or none does.

        The outermost transaction returns once its writes are on disk (raising `StorageError`
        if they could not be written, and then they are undone), after letting the lock go.
        """
        # Inside a reading block the lock must stay held: the fsync is made there and then.
        holding = self._writing() > 0 or getattr(self._local, "reader", None) is not None
        with self.lock:
            before = self._storage.written
            self._local.writing = self._writing() + 1
            try:
                with self._storage.transaction():
                    yield
            finally:
                self._local.writing -= 1
            committed = self._storage.written if self._storage.written > before else 0
            if committed and holding and not self._writing():
                self._storage.sync_now()
                self._storage.wait_durable(committed)  # durable now, or raises its failure
        if committed and not holding:
            deferred = _DEFERRED.get()
            if deferred is not None:
                deferred.add(self._storage, committed)
            else:
                self._storage.wait_durable(committed)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Make several reads see one state: the lock's, or a snapshot's once a scan begins."""
        if getattr(self._local, "reader", None) is not None or self._writing():
            with self.lock:  # nested: the outer block decides what is read
                yield
            return
        state = _ReadState()
        self.lock.acquire()
        self._local.reader = state
        try:
            yield
        finally:
            self._local.reader = None
            if state.holding:
                self.lock.release()

    def _writing(self) -> int:
        """How deep this thread is in transactions (0: none)."""
        depth: int = getattr(self._local, "writing", 0)
        return depth

    def _view(self) -> _Snapshot:
        """What this thread reads: the snapshot its reading block moved to, else the live tables."""
        state: _ReadState | None = getattr(self._local, "reader", None)
        if state is None or state.snapshot is None or self._writing():
            return self._storage.live()
        return state.snapshot

    # Every method below expects the caller to be inside `reading` or `transaction`.
    def get(self, table: str, doc_id: str) -> Record | None:
        doc = self._view().tables.get(table, {}).get(doc_id)
        return dict(doc) if doc is not None else None

    def contains(self, table: str, doc_id: str) -> bool:
        return doc_id in self._view().tables.get(table, {})

    def iter_raw(self, table: str) -> Iterable[Record]:
        """The stored records themselves, read-only, in storage (creation) order.

        In a reading block, this moves the block onto a snapshot and releases the lock: a scan
        takes as long as the table is large, and other requests must not wait for it.
        """
        state: _ReadState | None = getattr(self._local, "reader", None)
        if state is not None and state.holding and not self._writing():
            state.snapshot = self._storage.snapshot()
            state.holding = False
            self.lock.release()
        return self._view().tables.get(table, {}).values()

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        """The records whose indexed `field` equals `value`, in creation order of the index."""
        view = self._view()
        docs = view.tables.get(table, {})
        ids = view.indexes[(table, field)].get(_hashable(value), {})
        found = (docs.get(i) for i in ids)
        return [dict(doc) for doc in found if doc is not None]

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
