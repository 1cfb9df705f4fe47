"""Group commit: concurrent writes share fsyncs, and each is acknowledged only once it is on disk."""

from __future__ import annotations

import errno
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mock_server.database import Database, StorageError
from mock_server.process import MockProcess
from mock_server.resources import read_mock_api
from tests.conftest import AUTH, RunningMock
from tests.mock_server.test_crash_consistency import Writer, _check_state, _total

IDS = {"parent": "pid", "child": "cid"}
INDEXES = {"child": ("pid",)}
THREADS = 16
WRITES_EACH = 8
SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}


def _initial() -> dict[str, list[dict[str, object]]]:
    return {"parent": [{"pid": "p1", "n": 1}], "child": [{"cid": "c1", "pid": "p1"}]}


class JournalSyncs:
    """An `os.fsync` that records, for the journal only, how many bytes each fsync made durable."""

    def __init__(self, journal: Path, delay: float = 0.0) -> None:
        self.journal = journal
        self.delay = delay
        self.real = os.fsync
        self.lock = threading.Lock()
        self.calls = 0
        self.durable_bytes = 0
        self.fail_with: int | None = None

    def __call__(self, fd: int) -> None:
        stat = os.fstat(fd)
        is_journal = self.journal.exists() and os.stat(self.journal).st_ino == stat.st_ino
        if not is_journal:
            self.real(fd)
            return
        time.sleep(self.delay)  # a slow disk: writers pile up behind one fsync
        with self.lock:
            self.calls += 1
            if self.fail_with is not None:
                raise OSError(self.fail_with, os.strerror(self.fail_with))
        self.real(fd)
        with self.lock:
            # Only what was written before the fsync began is known to be on disk after it.
            self.durable_bytes = max(self.durable_bytes, stat.st_size)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    opened = Database(tmp_path / "db.json", IDS, INDEXES)
    opened.open(_initial)
    yield opened
    opened.close()


@pytest.fixture
def syncs(tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch) -> JournalSyncs:
    counting = JournalSyncs(tmp_path / "db.json.journal", delay=0.02)
    monkeypatch.setattr(os, "fsync", counting)
    return counting


def _in_parallel(work: Callable[[int], None], threads: int = THREADS) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def run(k: int) -> None:
        start.wait()
        try:
            work(k)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return errors


def test_concurrent_writes_share_fsyncs_and_each_returns_only_once_its_line_is_durable(
    tmp_path: Path, db: Database, syncs: JournalSyncs
) -> None:
    journal = tmp_path / "db.json.journal"
    acknowledged_unsynced: list[str] = []

    def write(k: int) -> None:
        for n in range(WRITES_EACH):
            cid = f"t{k}-{n}"
            with db.transaction():
                db.insert("child", {"cid": cid, "pid": "p1"})
            # Acknowledged: its line must lie within what an fsync already covered.
            durable = journal.read_bytes()[: syncs.durable_bytes]
            if f'"{cid}"'.encode() not in durable:
                acknowledged_unsynced.append(cid)

    assert _in_parallel(write) == []
    writes = THREADS * WRITES_EACH
    assert acknowledged_unsynced == []
    # One fsync per write would be `writes`; with writers waiting together far fewer are made.
    assert 1 <= syncs.calls <= writes // 3, syncs.calls
    with db.reading():
        assert len(db.find("child", "pid", "p1")) == 1 + writes
    reopened = Database(tmp_path / "db.json", IDS, INDEXES)
    reopened.open(_initial)
    with reopened.reading():
        assert len(reopened.find("child", "pid", "p1")) == 1 + writes
    reopened.close()


def test_a_failed_fsync_undoes_exactly_the_writes_it_should_have_made_durable(
    tmp_path: Path, db: Database, syncs: JournalSyncs
) -> None:
    with db.transaction():
        db.insert("child", {"cid": "kept", "pid": "p1"})
    journal = tmp_path / "db.json.journal"
    before = journal.read_bytes()

    syncs.fail_with = errno.EIO
    errors = _in_parallel(lambda k: _insert(db, f"lost-{k}"), threads=4)
    assert len(errors) == 4
    assert {type(e) for e in errors} == {StorageError}
    assert all(str(e).startswith(f"cannot write the journal {journal}") for e in errors)
    # Nothing of the failed writes stays, in memory or on disk; the earlier write does.
    with db.reading():
        assert [c["cid"] for c in db.find("child", "pid", "p1")] == ["c1", "kept"]
    assert journal.read_bytes() == before

    syncs.fail_with = None
    _insert(db, "after")
    with db.reading():
        assert [c["cid"] for c in db.find("child", "pid", "p1")] == ["c1", "kept", "after"]
    assert journal.read_bytes().startswith(before) and b'"after"' in journal.read_bytes()


def _insert(db: Database, cid: str) -> None:
    with db.transaction():
        db.insert("child", {"cid": cid, "pid": "p1"})


def test_sigkill_under_sixteen_concurrent_writers_loses_no_acknowledged_write(
    tmp_path: Path,
) -> None:
    rng = random.Random(1013)
    db = tmp_path / "crash.json"
    writers = [Writer(k, random.Random(7000 + k)) for k in range(THREADS)]
    mock = MockProcess(db).start()
    try:
        with httpx.Client(base_url=mock.base_url, headers=AUTH) as client:
            baseline = {t: _total(client, t) for t in read_mock_api().resources}
        for _ in range(2):
            threads = [threading.Thread(target=w.run, args=(mock.base_url,)) for w in writers]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.5, 1.5))
            mock.kill()
            for thread in threads:
                thread.join(timeout=60)
                assert not thread.is_alive()
            assert [w.unexpected for w in writers] == [None] * THREADS
            mock = MockProcess(db).start()
            with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=30) as client:
                _check_state(client, writers, baseline)
    finally:
        mock.kill()
    assert sum(w.acknowledged for w in writers) > 50


def test_over_http_concurrent_creates_share_fsyncs_and_each_201_follows_its_fsync(
    start_mock: Callable[..., RunningMock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "db.json"
    mock = start_mock(db)
    syncs = JournalSyncs(tmp_path / "db.json.journal", delay=0.02)
    monkeypatch.setattr(os, "fsync", syncs)
    journal = tmp_path / "db.json.journal"
    early: list[str] = []

    def create(k: int) -> None:
        with mock.client() as client:
            for n in range(WRITES_EACH):
                sid = f"gc-{k}-{n}"
                answer = client.post(
                    "/v2/action-session/create", json={**SESSION, "action_session_id": sid}
                )
                assert answer.status_code == 201, answer.text
                if f'"{sid}"'.encode() not in journal.read_bytes()[: syncs.durable_bytes]:
                    early.append(sid)

    assert _in_parallel(create) == []
    assert early == []
    assert 1 <= syncs.calls <= THREADS * WRITES_EACH // 3, syncs.calls


def test_over_http_a_failed_fsync_is_503_and_leaves_nothing_of_the_writes(
    start_mock: Callable[..., RunningMock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock = start_mock(tmp_path / "db.json")
    syncs = JournalSyncs(tmp_path / "db.json.journal")
    monkeypatch.setattr(os, "fsync", syncs)
    syncs.fail_with = errno.EIO
    answers: list[httpx.Response] = []

    def create(k: int) -> None:
        with mock.client() as client:
            answers.append(
                client.post(
                    "/v2/action-session/create", json={**SESSION, "action_session_id": f"x-{k}"}
                )
            )

    assert _in_parallel(create, threads=4) == []
    assert sorted(a.status_code for a in answers) == [503] * 4
    assert answers[0].json()["message"] == (
        "The database cannot be written: the change was not saved. Retry later."
    )
    syncs.fail_with = None
    with mock.client() as client:
        for k in range(4):
            assert client.get(f"/v2/action-session/view/x-{k}").status_code == 404
        assert (
            client.post("/v2/action-session/create", json={**SESSION, "action_session_id": "y-1"})
        ).status_code == 201
