"""The mock's states and what the control API does to them: reset, export, import, snapshots, counts.

`MockState` owns the shared state (the database and its store), the base data (the default data
or the `--data` fixtures, read-only), the namespaces made from it, the snapshots and the request
journal. Each operation works on the state a request addresses: the shared one (namespace None)
or a namespace. Every replacement is one step: a request in flight sees the old state or the new.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from mock_server import file_identity, fixtures, rules
from mock_server.database import Database, Record
from mock_server.default_data import default_data
from mock_server.namespaces import Namespaces
from mock_server.overlay import BaseData, Overlay
from mock_server.request_journal import RequestJournal
from mock_server.resources import MockApi
from mock_server.rules import Rules
from mock_server.snapshots import SnapshotInfo, Snapshots, folder_for
from openapi import CONTROL_SPEC_PATH

logger = logging.getLogger(__name__)

ImportMode = Literal["replace", "merge"]


class ApiChangeRefused(ValueError):
    """An edited spec cannot serve the stored records; the message says why."""


_last_read: tuple[object, tuple[fixtures.Tables, str]] | None = None
_handed_over: dict[tuple[Path, tuple[Path, ...], Path], MockState] = {}
"""States opened before the app's lifespan, by database and fixture files (`hand_over`)."""


def read_base(
    data_paths: tuple[Path, ...],
    fmt: fixtures.FixtureFormat,
    checked: str | None = None,
    found: tuple[str, list[bytes]] | None = None,
) -> tuple[fixtures.Tables, str]:
    """The base data (the `--data` files merged in order, else the default data) and its fingerprint.

    Raises `fixtures.FixtureInvalid` listing every problem of every file. `found`: the files'
    fingerprint and bytes, when the caller has taken them already (`_data_fingerprint`), so
    that they are not read and hashed twice. The last result is kept while the files are
    unchanged: the server opens its state twice at start (once to report a bad database or
    fixture in one line), and a large fixture takes seconds to check.
    """
    global _last_read
    key: object
    if found is not None:
        key = (id(fmt), tuple(str(p.resolve()) for p in data_paths), found[0])  # their content
    else:
        try:
            # The whole stat: an edit that keeps the size and the mtime still changes the ctime.
            key = (
                id(fmt),
                *((str(p.resolve()), file_identity.identity_of(p.stat())) for p in data_paths),
            )
        except OSError:
            key = None  # a missing file: read_file reports it
    if key is not None and _last_read is not None and _last_read[0] == key:
        return _last_read[1]
    result = _read_base(data_paths, fmt, checked, found)
    if key is not None:
        _last_read = (key, result)
    return result


def _read_base(
    data_paths: tuple[Path, ...],
    fmt: fixtures.FixtureFormat,
    checked: str | None,
    found: tuple[str, list[bytes]] | None,
) -> tuple[fixtures.Tables, str]:
    if not data_paths:
        tables = fmt.tables_of(default_data())
        return tables, _default_fingerprint(tables)
    found = found or _data_fingerprint(data_paths)
    if found is None:
        return fmt.load_files(data_paths), ""  # raises FixtureInvalid naming the unreadable file
    fingerprint, contents = found
    passed = checked is not None and checked == check_key(fingerprint, fmt.api.spec_path)
    return fmt.load_files(data_paths, checked=passed, contents=contents), fingerprint


def _default_fingerprint(tables: fixtures.Tables) -> str:
    return "default:" + _digest(json.dumps(tables, sort_keys=True).encode())


def _data_fingerprint(
    data_paths: tuple[Path, ...], remembered: Path | None = None
) -> tuple[str, list[bytes]] | None:
    """The fingerprint of the `--data` files and their bytes; None when one cannot be read.

    `remembered`: where the files' stat identities are kept with the fingerprint they had
    (`<db>.data-stat`). When every file still has its identity, the fingerprint is taken from
    there, not hashed again (0.5 s of a restart at 100,000 sessions); the bytes are read either
    way, since a reopened database's base is the files as they were at start.
    """
    contents: list[bytes] = []
    identities: list[file_identity.Identity | None] = []
    try:
        for path in data_paths:
            content, identity = file_identity.read_identified(path)
            contents.append(content)
            identities.append(identity)
        names = [str(path.resolve()) for path in data_paths]
    except OSError:
        return None
    files = [
        [name, list(identity) if identity else None]
        for name, identity in zip(names, identities, strict=True)
    ]
    kept = _remembered(remembered, files) if remembered is not None else None
    if kept is not None:
        logger.info("the --data files are unchanged since they were hashed (by their stat)")
        return kept, contents
    digest = hashlib.sha256()
    for name, content in zip(names, contents, strict=True):
        # Three updates rather than one concatenation: that copied the whole file once more.
        digest.update(name.encode() + b"\0")
        digest.update(content)
        digest.update(b"\0")
    fingerprint = "data:" + digest.hexdigest()
    if remembered is not None and all(identities):
        file_identity.remember(remembered, {"fingerprint": fingerprint, "files": files})
    return fingerprint, contents


def _remembered(remembered: Path, files: list[list[Any]]) -> str | None:
    """The fingerprint `remembered` keeps for exactly these files with these identities."""
    if not all(identity for _name, identity in files):
        return None
    kept = file_identity.recall(remembered)
    if kept is None or kept.get("files") != files:
        return None
    fingerprint = kept.get("fingerprint")
    return fingerprint if isinstance(fingerprint, str) and fingerprint.startswith("data:") else None


def check_key(fingerprint: str, spec_path: Path) -> str:
    """What a fixture's checks depend on: its content, the spec and the code that checks it.

    Written beside the database once the fixture passed them (`<db>.checked`); a start with the
    same key reads the fixture without checking it again.
    """
    digest = hashlib.sha256(fingerprint.encode())
    for source in (spec_path, CONTROL_SPEC_PATH, Path(fixtures.__file__), Path(rules.__file__)):
        digest.update(b"\0" + source.read_bytes())
    return digest.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _records_being_made() -> Iterator[None]:
    """The cyclic garbage collector paused while millions of long-lived records are made, then
    those records moved out of its way (`gc.freeze`).

    Each full collection it started meanwhile walked every record made so far, to find no
    garbage. At 100,000 sessions (alternating runs on a shared 2-core machine) a first start from
    the fixture took 19.7-20.2 s paused, 22.4-23.3 s not; the first reset after a restart, which
    reads the base, 3.3-3.5 s paused, 4.2-4.8 s not.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if paused:
            gc.enable()


def _base_of_reopened(
    db: Database,
    fmt: fixtures.FixtureFormat,
    data_paths: tuple[Path, ...],
    contents: list[bytes],
) -> BaseData:
    with _records_being_made():  # as at start: the base's records live as long as the process
        tables = fmt.load_files(data_paths, checked=True, contents=contents)
        db.lend(tables)
        base = fmt.base_data(tables)
        db.matched(base.tables)
    return base


def _open_database(
    db_path: Path, data_paths: tuple[Path, ...], api: MockApi
) -> tuple[Database, BaseData | _PendingBase]:
    """The database at `db_path` and its base data (see `MockState.open`)."""
    fmt = fixtures.fixture_format(api)
    checked_stamp = db_path.with_name(db_path.name + ".checked")
    try:
        checked: str | None = checked_stamp.read_text(encoding="utf-8").strip()
    except OSError:
        checked = None
    stamp = db_path.with_name(db_path.name + ".base")
    try:
        previous = stamp.read_text(encoding="utf-8").strip()
    except OSError:
        previous = None
    remembered = db_path.with_name(db_path.name + ".data-stat")
    found = _data_fingerprint(data_paths, remembered) if data_paths else None
    if (
        found is not None
        and found[0] == previous
        and checked == check_key(found[0], api.spec_path)
        and db_path.exists()
    ):
        # Reopened on the very files it was made from, which passed the checks of this code and
        # spec: it serves at once and reads its base when first needed. Reading, merging and
        # comparing 100,000 sessions' base data took over half of a restart, and a restart on
        # the same data is the common case (a team's mock, restarted daily).
        db = Database(db_path, api.id_fields, api.indexes)
        db.open(dict)  # it exists: nothing to make it from
        kept = FilesAsRead(found[1], db_path.parent)
        return db, _PendingBase(lambda c: _base_of_reopened(db, fmt, data_paths, c), kept)
    tables, fingerprint = read_base(data_paths, fmt, checked, found)
    base = fmt.base_data(tables)
    db = Database(db_path, api.id_fields, api.indexes)
    made = not db_path.exists()
    db.open(lambda: {name: list(docs.values()) for name, docs in tables.items()})
    # A database older than the stamp was made from the default data.
    if previous != fingerprint and not (previous is None and fingerprint.startswith("default:")):
        logger.warning("the base data changed since %s was made: starting from it", db_path)
        made = True
    # Either way the database learns how it differs from the base's own tables, so that a
    # reset compares only the records written since.
    if made:
        db.replace_all(base.tables)
    else:
        db.compare_with(base.tables)
    if previous != fingerprint:
        stamp.write_text(fingerprint + "\n", encoding="utf-8")
    key = check_key(fingerprint, api.spec_path)
    if data_paths and checked != key:
        try:
            checked_stamp.write_text(key + "\n", encoding="utf-8")
        except OSError as exc:  # only a shortcut for the next start: serve without it
            logger.warning(
                "cannot write %s (%s): the next start checks the fixture again",
                checked_stamp,
                exc.strerror or exc,
            )
    return db, base


class FilesAsRead:
    """The `--data` files' bytes as they were at start, kept for a reopened database's base,
    which is read when first needed (`_PendingBase`), edits to the files or not.

    Held in memory, they were 152 MB of a restart's resident memory at 100,000 sessions, for as
    long as no reset or namespace asked for the base. A thread writes them to an unnamed
    temporary file in the database's folder (the disk the user gave the mock; `/tmp` may be
    memory) and then lets them go: the copy costs the page cache and the disk, not the process,
    and vanishes with the process whichever way it ends. Until the copy is written, or if it
    cannot be (a full disk), they stay in memory.
    """

    def __init__(self, contents: list[bytes], folder: Path) -> None:
        self._contents: list[bytes] | None = contents
        self._copy: tuple[Any, list[int]] | None = None
        self._lock = threading.Lock()
        self._writer = threading.Thread(
            target=self._write, args=(contents, folder), name="keep --data", daemon=True
        )
        self._writer.start()

    def _write(self, contents: list[bytes], folder: Path) -> None:
        copy = None
        try:
            copy = tempfile.TemporaryFile(dir=folder, prefix=".mock-data-")
            for content in contents:
                copy.write(content)
            copy.flush()
        except OSError as exc:
            if copy is not None:
                copy.close()
            logger.debug("--data bytes kept in memory: no copy in %s (%s)", folder, exc)
            return
        with self._lock:
            self._copy = (copy, [len(content) for content in contents])
            self._contents = None

    @property
    def in_memory(self) -> bool:
        """Whether the bytes are held in memory (not yet copied, or not copyable)."""
        with self._lock:
            return self._contents is not None

    def wait_written(self) -> None:
        """Until the copy is written, or has failed."""
        self._writer.join()

    def close(self) -> None:
        """Let the bytes or their copy go (once the base is read, or the state closed)."""
        self._writer.join()
        with self._lock:
            self._contents = None
            if self._copy is not None:
                self._copy[0].close()
                self._copy = None

    def contents(self) -> list[bytes]:
        """The files' bytes, as they were at start (read back from the copy once written)."""
        with self._lock:
            if self._contents is not None:
                return self._contents
            if self._copy is None:
                raise ValueError("the --data files' bytes were let go")
            copy, sizes = self._copy
            copy.seek(0)
            contents = [copy.read(size) for size in sizes]
        if [len(content) for content in contents] != sizes:
            raise OSError(f"the copy of the --data files in {copy.name} was cut short")
        return contents


class _PendingBase:
    """The base data of a reopened database, read when first needed: by a reset, a namespace,
    a spec or fixture edit. Read on a thread while the mock served, it slowed the first answers
    by seconds (the parse holds the interpreter), so a restart serves first and the first reset
    pays for the base (about 5 s at 100,000 sessions), once. Until then the files' bytes are kept
    (`FilesAsRead`): the base is what the files held at start, edits or not.

    Read in the thread that asks, holding no lock but this one (callers ask before they take the
    database's or the namespaces' lock, which reading it takes).
    """

    def __init__(self, read: Callable[[list[bytes]], BaseData], kept: FilesAsRead) -> None:
        """`read` makes the base from the files' bytes as `kept` (let go once it has)."""
        self._read: Callable[[list[bytes]], BaseData] | None = read
        self._kept = kept
        self._base: BaseData | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """The state closes: let the files' bytes go, read or not."""
        self._kept.close()

    @property
    def done(self) -> bool:
        return self._base is not None

    def result(self) -> BaseData:
        """The base data, read now unless it has been (one reader; the others wait for it)."""
        with self._lock:
            if self._base is None:
                assert self._read is not None
                began = time.perf_counter()
                # An error propagates; the next call tries again.
                self._base = self._read(self._kept.contents())
                self._read = None
                self._kept.close()
                logger.info(
                    "base data of the reopened database read in %.1f s",
                    time.perf_counter() - began,
                )
            return self._base


class MockState:
    """Everything the control API manages, for one running mock."""

    def __init__(
        self,
        db: Database,
        db_path: Path,
        base: BaseData | _PendingBase,
        *,
        journal: RequestJournal,
        max_namespaces: int,
        namespace_ttl: float,
        api: MockApi,
    ) -> None:
        self.db = db
        self.api = api
        self.format = fixtures.fixture_format(api)
        self.store = Rules(db, api)
        self._base = base
        self.journal = journal
        self.namespaces = Namespaces(
            lambda: self.base, api, max_namespaces=max_namespaces, ttl=namespace_ttl
        )
        self.snapshots = Snapshots(folder_for(db_path))
        self._stamp = db_path.with_name(db_path.name + ".base")
        self.db_path = db_path
        self.data_paths: tuple[Path, ...] = ()

    @staticmethod
    def open(
        db_path: Path,
        data_paths: tuple[Path, ...],
        *,
        journal: RequestJournal,
        max_namespaces: int,
        namespace_ttl: float,
        api: MockApi,
    ) -> MockState:
        """Open the database, made from the base data when missing or made from other base data.

        A database made from the same base data keeps its state across restarts; one made from
        other data (a fixture file changed, `--data` added or dropped) starts again from the new
        base, as a team editing its fixture expects. A state opened beforehand for the same files
        and handed over (`hand_over`) is taken as it is, with this request journal.
        """
        handed = _handed_over.pop((db_path.resolve(), data_paths, api.spec_path), None)
        if handed is not None:
            handed.journal = journal
            handed._adopt(api)  # the same spec, read again by the app
            return handed
        gc.collect()  # the garbage of start-up, so that none of it is frozen with the records
        # Millions of long-lived records would make each full garbage collection a pause of a
        # second on a large data set (inside a reset, say): move them out of the collector's way.
        # (Collected before the records are read: collected after, it took a second at 100,000.)
        with _records_being_made():
            db, base = _open_database(db_path, data_paths, api)
        state = MockState(
            db,
            db_path,
            base,
            journal=journal,
            max_namespaces=max_namespaces,
            namespace_ttl=namespace_ttl,
            api=api,
        )
        state.data_paths = data_paths
        return state

    @property
    def base(self) -> BaseData:
        """The base data (on a reopened database, read on first use: ask outside any lock)."""
        if isinstance(self._base, _PendingBase):
            self._base = self._base.result()
        return self._base

    @base.setter
    def base(self, base: BaseData) -> None:
        self._base = base

    @property
    def base_ready(self) -> bool:
        """Whether `base` answers at once (else it first reads a reopened database's base)."""
        return not isinstance(self._base, _PendingBase) or self._base.done

    def hand_over(self) -> None:
        """Keep this open state for the next `open` of the same files in this process.

        The command line opens the state before serving (a broken database or fixture is then
        one line on stderr, not a traceback), and the app's lifespan opens it again: reading
        and checking 100,000 sessions twice doubled the start-up.
        """
        _handed_over[(self.db_path.resolve(), self.data_paths, self.api.spec_path)] = self

    def close(self) -> None:
        self.db.close()
        if isinstance(self._base, _PendingBase):
            self._base.close()

    # -- the API served ----------------------------------------------------------------------------
    def use_api(self, api: MockApi) -> None:
        """Serve the same records through `api` (an edited spec) from now on.

        Refused, with `ApiChangeRefused` naming every record it would break, when the stored
        records (the shared state, every namespace, the base data) are not valid under it: a new
        required member they lack, an enum value or a type they no longer fit. Checked and
        applied under the database's write lock, so no write slips in between.
        """
        if api.id_fields != self.api.id_fields or api.indexes != self.api.indexes:
            raise ApiChangeRefused(
                "it changes a table's id field or parent reference, by which the stored records "
                "are kept; restart the mock with a fresh --db to serve it"
            )
        fmt = fixtures.FixtureFormat(api)
        base_data = self.base  # read before the lock, which reading it takes
        with self.db.transaction():
            states: list[tuple[str, Database | Overlay]] = [("shared state", self.db)]
            states += [(f"namespace {n}", overlay) for n, overlay in self.namespaces.overlays()]
            documents = [(name, fmt.document(self._tables(records))) for name, records in states]
            base = {t: d.values() for t, d in base_data.tables.items()}
            documents.append(("base data", fmt.document(base)))
            problems: list[fixtures.FixtureProblem] = []
            for name, document in documents:
                try:
                    fmt.load([(name, document)])
                except fixtures.FixtureInvalid as exc:
                    problems += exc.fixture_problems
            if problems:
                shown = "\n  ".join(str(p) for p in problems[:20])
                more = f"\n  (and {len(problems) - 20} more)" if len(problems) > 20 else ""
                raise ApiChangeRefused(
                    f"{len(problems)} stored records would not be valid under it:\n  {shown}{more}"
                )
            self._adopt(api, fmt)

    def _adopt(self, api: MockApi, fmt: fixtures.FixtureFormat | None = None) -> None:
        """Serve through `api` from now on, without checking the records against it."""
        self.format = fmt or fixtures.fixture_format(api)
        self.namespaces.use_api(api)
        self.store = Rules(self.db, api)
        self.api = api

    # -- reading -------------------------------------------------------------------------------
    def _records(self, namespace: str | None) -> Database | Overlay:
        return self.db if namespace is None else self.namespaces.get(namespace).overlay

    def _tables(self, records: Database | Overlay) -> dict[str, list[Record]]:
        with records.reading():
            return {table: list(records.iter_raw(table)) for table in self.api.id_fields}

    def counts(self, namespace: str | None) -> dict[str, int]:
        """The number of records of each kind, by the fixture's names."""
        tables = self._tables(self._records(namespace))
        return {key: len(tables[table]) for key, table in self.format.keys.items()}

    def summary(self, namespace: str | None) -> dict[str, Any]:
        return {"namespace": namespace, "counts": self.counts(namespace)}

    def export(self, namespace: str | None) -> dict[str, Any]:
        """The addressed state as a fixture document."""
        return self.format.document(self._tables(self._records(namespace)))

    # -- replacing -----------------------------------------------------------------------------
    def _replace(self, namespace: str | None, tables: Mapping[str, Mapping[str, Record]]) -> None:
        if namespace is None:
            self.db.replace_all(tables)
        else:
            self.namespaces.replace(namespace, self.format.base_data(tables))

    def reset(self, namespace: str | None, snapshot: str | None = None) -> dict[str, Any]:
        """Back to the base data, or to snapshot `snapshot`."""
        if snapshot is not None:
            tables = self.snapshots.remembered(snapshot)
            if tables is None:
                document = self.snapshots.read(snapshot)
                tables = self.format.load([(f"snapshot {snapshot}", document)])
                self.snapshots.remember(snapshot, tables)
            self._replace(namespace, tables)
        elif namespace is None:
            self.db.replace_all(self.base.tables)
        else:
            self.namespaces.replace(namespace)
        return self.summary(namespace)

    def import_(self, namespace: str | None, document: Any, mode: ImportMode) -> dict[str, Any]:
        """Replace the addressed state with `document`, or merge it in; all or nothing."""
        if mode == "replace":
            self._replace(namespace, self.format.load([("request body", document)]))
            return self.summary(namespace)
        records = self._records(namespace)
        # Read, check and write under one transaction: no write can slip in between.
        with records.transaction():
            existing = {table: list(records.iter_raw(table)) for table in self.api.id_fields}
            merged = self.format.load([("request body", document)], existing)
            records.replace_all(merged)
        return self.summary(namespace)

    def rebase(self, data_paths: tuple[Path, ...]) -> bool:
        """Take edited fixture files as the new base data, keeping the shared state's own changes.

        The records the edit changed, added or removed are applied to the shared state in one
        transaction; anything else in it stays. A bad edit, or one the shared state's own records
        would break (a client's session naming an action the edit removed), is logged with every
        problem and not applied. Namespaces in use keep their base; new ones and resets take the
        new one. True when applied.
        """
        try:
            tables, fingerprint = read_base(data_paths, self.format)
            base_data = self.base  # read before the lock, which reading it takes
            with self.db.transaction():
                state = {
                    table: {r[self.api.id_fields[table]]: r for r in self.db.iter_raw(table)}
                    for table in self.api.id_fields
                }
                for table, new in tables.items():
                    old = base_data.tables.get(table, {})
                    for doc_id in [*old, *(i for i in new if i not in old)]:
                        if old.get(doc_id) != new.get(doc_id):
                            if doc_id in new:
                                state[table][doc_id] = new[doc_id]
                            else:
                                state[table].pop(doc_id, None)
                document = self.format.document({t: docs.values() for t, docs in state.items()})
                documents = [("shared state", document)]
                merged = self.format.load(documents)
                self.db.replace_all(merged)
        except fixtures.FixtureInvalid as exc:
            logger.error(
                "the edited fixture files were not applied (%d problems):\n  %s",
                len(exc.fixture_problems),
                "\n  ".join(str(p) for p in exc.fixture_problems),
            )
            return False
        self.base = self.format.base_data(tables)
        self._stamp.write_text(fingerprint + "\n", encoding="utf-8")
        logger.info("applied the edited fixture files")
        return True

    def save_snapshot(self, namespace: str | None, name: str) -> tuple[SnapshotInfo, bool]:
        records = self._records(namespace)
        with records.reading():
            tables = {
                table: {r[self.api.id_fields[table]]: r for r in records.iter_raw(table)}
                for table in self.api.id_fields
            }
        saved = self.snapshots.save(
            name, self.format.document({t: d.values() for t, d in tables.items()})
        )
        self.snapshots.remember(name, tables)
        return saved

    def health(self, namespace: str | None) -> dict[str, Any]:
        return {
            "status": "ready",
            "namespace": namespace,
            "counts": self.counts(namespace),
            "namespaces": len(self.namespaces),
            "snapshots": len(self.snapshots.list()),
            "journal": {"size": len(self.journal), "capacity": self.journal.capacity},
        }
