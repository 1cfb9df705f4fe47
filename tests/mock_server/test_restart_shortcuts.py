"""A restart skips hashing the `--data` files and checking the snapshot's records only for files
provably unchanged since (same stat identity, settled before it was taken); any other restart
(a file edited in place with its size and mtime kept, replaced by a copy, written just now)
takes the slow, safe path: the fixture is hashed and applied, the records are checked."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server import file_identity
from mock_server.fixtures import dumps
from mock_server.generate import generate
from tests.conftest import RunningMock

UNHASHED = "the --data files are unchanged since they were hashed"
CHANGED = "the base data changed since"


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
