"""A restart skips hashing the `--data` files and checking the snapshot's records only for files
provably unchanged since (same stat identity, settled before it was taken); any other restart
(a file edited in place with its size and mtime kept, replaced by a copy, written just now)
takes the slow, safe path: the fixture is hashed and applied, the records are checked."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from connexion.spec import Specification

from mock_server import file_identity, framework
from mock_server.database import Database, StorageError
from mock_server.default_data import default_data
from mock_server.fixtures import dumps
from mock_server.generate import generate
from mock_server.process import MockProcess, free_port
from mock_server.resources import read_mock_api
from openapi import CONTROL_SPEC_PATH, SPEC_PATH
from openapi.model import read_spec
from tests.conftest import RunningMock

API = read_mock_api()
UNHASHED = "the --data files are unchanged since they were hashed"
CHANGED = "the base data changed since"
SESS_2 = {"action_session_id": "sess-2", "action_id": "act-1"}
CONTROL_TITLE = read_spec(CONTROL_SPEC_PATH).document["info"]["title"]


def _settle(path: Path) -> None:
    """Wait until `path` is old enough for its identity to be trusted (file_identity.SETTLED_NS):
    only such a file can take a shortcut, which these tests want to see refused for edits."""
    stat = path.stat()
    wait = max(stat.st_mtime_ns, stat.st_ctime_ns) + file_identity.SETTLED_NS - time.time_ns()
    if wait > 0:
        time.sleep(wait / 1e9 + 0.01)


def _edit_in_place(path: Path, old: bytes, new: bytes) -> None:
    """Rewrite `old` as `new` in the same file (same inode), size and mtime kept as they were:
    only the change time, which user space cannot set, tells the edit."""
    assert len(old) == len(new)
    before = path.stat()
    data = path.read_bytes()
    assert old in data
    with open(path, "r+b") as fh:
        fh.write(data.replace(old, new, 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )


def test_a_fixture_edited_in_place_with_size_and_mtime_kept_is_hashed_again_and_applied(
    start_mock: Callable[..., RunningMock], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_server.state")
    fixture = tmp_path / "data.json"
    document = generate(20, seed=3)
    session = document["action-session"][0]
    session["validity"] = 11
    fixture.write_text(dumps(document), encoding="utf-8")
    _settle(fixture)
    start_mock(tmp_path / "db.json", data_paths=(fixture,)).stop()
    assert (tmp_path / "db.json.data-stat").exists()

    # Unchanged: the fingerprint comes from the identity, the state is the database's.
    caplog.clear()
    again = start_mock(tmp_path / "db.json", data_paths=(fixture,))
    assert any(UNHASHED in r.getMessage() for r in caplog.records)
    assert not any(CHANGED in r.getMessage() for r in caplog.records)
    again.stop()

    _settle(fixture)
    _edit_in_place(fixture, b'"validity": 11', b'"validity": 12')
    caplog.clear()
    edited = start_mock(tmp_path / "db.json", data_paths=(fixture,))
    assert not any(UNHASHED in r.getMessage() for r in caplog.records)
    assert any(CHANGED in r.getMessage() for r in caplog.records)
    with edited.client() as client:
        view = client.get(f"/v2/action-session/view/{session['action_session_id']}")
    assert view.status_code == 200
    assert view.json()["validity"] == 12


def _start_and_stop(db: Path) -> None:
    with MockProcess(db, args=("--no-access-log", "--log-level", "warning")):
        pass


def _stamped(db: Path) -> file_identity.Identity | None:
    kept = json.loads(db.with_name(db.name + ".snapshot-stat").read_bytes())
    return file_identity.as_identity(kept["snapshot"])


def test_a_snapshot_hand_edited_between_two_starts_is_checked_and_refused(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    _start_and_stop(db)
    _settle(db)
    _start_and_stop(db)  # this start checked the settled snapshot, or trusted it: stamped now
    assert _stamped(db) == file_identity.current(db) is not None

    _settle(db)
    _edit_in_place(db, b'"action_session_id":"sess-2"', b'"action_session_id":"sess-9"')
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--db", str(db), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        f"{db}: record 'sess-2' of table 'action_session' has action_session_id 'sess-9', "
        "not its own id" in result.stderr
    )


def _open(db: Path, caplog: pytest.LogCaptureFixture) -> tuple[Database, str]:
    caplog.clear()
    database = Database(db, API.id_fields, API.indexes)
    database.open(default_data)
    opened = [r.getMessage() for r in caplog.records if r.getMessage().startswith("opened ")]
    return database, opened[-1] if opened else ""


def test_a_close_that_writes_the_snapshot_stamps_it_and_a_copy_put_in_its_place_is_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_server.database")
    db = tmp_path / "db.json"
    database, _ = _open(db, caplog)
    # Large enough to wait for the file to settle at close (as a real data set is).
    database._storage.background_compact_records = 1
    with database.transaction():
        database.update("action_session", "sess-2", {"validity": 3})
    database.close()  # compacts: the snapshot is new, and stamped
    assert _stamped(db) == file_identity.current(db) is not None

    database, opened = _open(db, caplog)
    assert "records unchanged since checked" in opened
    with database.reading():
        assert (database.get("action_session", "sess-2") or {})["validity"] == 3
    database.close()

    # Same bytes, another file (a restored backup): checked again, then trusted.
    shutil.copyfile(db, tmp_path / "copy.json")
    os.replace(tmp_path / "copy.json", db)
    database, opened = _open(db, caplog)
    assert "records checked" in opened
    database.close()


def test_a_snapshot_hand_edited_while_the_database_is_open_is_checked_at_the_next_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_server.database")
    db = tmp_path / "db.json"
    database, _ = _open(db, caplog)
    database._storage.background_compact_records = 1  # would wait for the file to settle
    _settle(db)
    _edit_in_place(db, b'"action_session_id":"sess-2"', b'"action_session_id":"sess-9"')
    _settle(db)
    database.close()  # nothing to save: the edited file stays, and is not the one it wrote
    assert not db.with_name(db.name + ".snapshot-stat").exists()
    with pytest.raises(StorageError, match="has action_session_id 'sess-9', not its own id"):
        Database(db, API.id_fields, API.indexes).open(default_data)


def test_a_snapshot_read_right_after_it_was_written_is_checked_at_every_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mock_server.database")
    db = tmp_path / "db.json"
    db.write_text(json.dumps({"action_session": {"sess-2": SESS_2}}))
    for _ in range(2):
        # Written just now: a second write within the filesystem's clock tick could leave the
        # same stat, so nothing learnt about it is kept.
        os.utime(db)  # a fresh change time, as an editor's save gives
        database, opened = _open(db, caplog)
        database.close()
        assert "records checked" in opened
    assert not db.with_name(db.name + ".snapshot-stat").exists()


def test_a_file_has_a_trusted_identity_only_once_settled_and_any_edit_changes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")
    data, identity = file_identity.read_identified(path)
    assert (data, identity) == (b"0123456789", None)
    assert file_identity.current(path) is None
    _settle(path)
    data, identity = file_identity.read_identified(path)
    assert data == b"0123456789"
    assert identity is not None and identity == file_identity.current(path)
    _edit_in_place(path, b"5", b"X")
    _settle(path)
    assert file_identity.read_identified(path) == (b"01234X6789", file_identity.current(path))
    assert file_identity.current(path) not in (None, identity)


def test_a_prefetched_file_is_taken_once_and_a_later_read_sees_the_file_as_it_is_then(
    tmp_path: Path,
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"as at start")
    _settle(path)
    file_identity.prefetch([path, tmp_path / "missing"])
    assert file_identity.read_identified(path) == (b"as at start", file_identity.current(path))
    path.write_bytes(b"edited after")
    assert file_identity.read_identified(path) == (b"edited after", None)
    with pytest.raises(FileNotFoundError):
        file_identity.read_identified(tmp_path / "missing")  # reported by the reader, as ever

    file_identity.prefetch([path])
    file_identity.forget_prefetched()
    path.write_bytes(b"edited again")
    assert file_identity.read_identified(path)[0] == b"edited again"


def test_a_spec_checked_at_one_start_is_not_checked_at_the_next_in_that_folder_but_an_edited_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_mock: Callable[..., RunningMock]
) -> None:
    checked: list[str] = []
    connexions_check = Specification._validate_spec.__func__

    def counted(cls: type, document: dict[str, Any]) -> None:
        checked.append(document["info"]["title"])
        connexions_check(cls, document)

    monkeypatch.setattr(Specification, "_validate_spec", classmethod(counted))
    stamp = tmp_path / ".mock-spec-checked"
    starts = iter(range(10))

    def start_afresh(**overrides: object) -> None:
        # A new process knows no document until it reads the stamp; each start a new database
        # in the same folder.
        monkeypatch.setattr(framework._CheckedSpecification, "passed", set())
        start_mock(tmp_path / f"db-{next(starts)}.json", **overrides).stop()

    start_afresh()
    titles = [read_spec(SPEC_PATH).document["info"]["title"], CONTROL_TITLE]
    assert checked == titles
    assert len(json.loads(stamp.read_text())["passed"]) == 2

    start_afresh()
    assert checked == titles  # both passed before: neither checked again

    edited = tmp_path / "edited.yaml"
    text = SPEC_PATH.read_text(encoding="utf-8")
    edited.write_text(text.replace("title: ", "title: Edited ", 1), encoding="utf-8")
    start_afresh(spec_path=edited)
    assert checked == [*titles, "Edited " + titles[0]]
    assert len(json.loads(stamp.read_text())["passed"]) == 3


def test_a_start_refused_for_its_database_notes_no_checked_spec(tmp_path: Path) -> None:
    (tmp_path / "db.json").write_text("[]")  # not a TinyDB database: the start is refused
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--db", str(tmp_path / "db.json"), "--port",
         str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json"]
