"""A database reopened on the same `--data` files serves at once and reads its base data when
first needed: resets and namespaces still go to exactly the files as they were at start, and a
stop with nothing to save leaves the database file alone."""

from __future__ import annotations

import errno
import json
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server.fixtures import dumps
from mock_server.generate import generate
from mock_server.state import FilesAsRead
from tests.conftest import RunningMock, eventually

READ = "base data of the reopened database read"
NEW_SESSION = {"action_id": "act-a001", "subtenant_id": "sub-x", "tenant_id": "ten-x"}


def _fixture(path: Path) -> tuple[Path, dict[str, Any]]:
    document = generate(40, seed=5)
    path.write_text(dumps(document), encoding="utf-8")
    return path, document


def test_a_reopened_database_keeps_its_changes_and_resets_to_the_fixture_as_it_was_at_start(
    start_mock: Callable[..., RunningMock], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fixture, document = _fixture(tmp_path / "data.json")
    sessions = [s["action_session_id"] for s in document["action-session"]]
    gone, changed = sessions[0], sessions[1]
    first = start_mock(tmp_path / "db.json", data_paths=(fixture,))
    with first.client() as client:
        assert client.delete(f"/v2/action-session/delete/{gone}?force=true").status_code == 204
        assert client.put(f"/v2/action-session/update/{changed}", json={"validity": 7}).is_success
        created = client.post("/v2/action-session/create", json=NEW_SESSION)
        assert created.status_code == 201
        new_id = created.json()["action_session_id"]
        exported = client.get(f"{first.base_url}/__mock/export").json()
    first.stop()
    assert exported != document

    caplog.set_level(logging.INFO, logger="mock_server.state")
    again = start_mock(tmp_path / "db.json", data_paths=(fixture,))
    # Edited after the start: the base stays what the mock started from.
    fixture.write_text(dumps(generate(3, seed=9)), encoding="utf-8")
    with again.client() as client:
        # Served from the database alone, every change kept; the base not read yet.
        assert client.get(f"/v2/action-session/view/{gone}").status_code == 404
        view = client.get(f"/v2/action-session/view/{changed}")
        assert view.status_code == 200 and view.json()["validity"] == 7
        assert client.get(f"/v2/action-session/view/{new_id}").status_code == 200
        assert client.get(f"{again.base_url}/__mock/export").json() == exported
        assert not any(READ in r.getMessage() for r in caplog.records)

        # A namespace starts from the base: the deleted session is there, the created one not.
        spaced = {"X-Mock-Namespace": "reopened"}
        answer = client.get(f"/v2/action-session/view/{gone}", headers=spaced)
        assert answer.status_code == 200
        assert answer.json()["action_session_id"] == gone
        assert client.get(f"/v2/action-session/view/{new_id}", headers=spaced).status_code == 404
        assert sum(READ in r.getMessage() for r in caplog.records) == 1

        reset = client.post(f"{again.base_url}/__mock/reset")
        assert reset.status_code == 200
        assert reset.json()["counts"]["action-session"] == len(sessions)
        assert client.get(f"{again.base_url}/__mock/export").json() == document
        assert client.get(f"/v2/action-session/view/{gone}").status_code == 200
        assert client.get(f"/v2/action-session/view/{new_id}").status_code == 404
        # Read once, by the namespace; the reset used it.
        assert sum(READ in r.getMessage() for r in caplog.records) == 1
    again.stop()

    # The reset reached the disk: it wrote every record the state differed in. (The fixture as
    # it was, so that the database is reopened rather than made again from the edit.)
    fixture.write_text(dumps(document), encoding="utf-8")
    third = start_mock(tmp_path / "db.json", data_paths=(fixture,))
    with third.client() as client:
        assert client.get(f"{third.base_url}/__mock/export").json() == document


def test_a_stop_with_nothing_to_save_leaves_the_database_file_untouched(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    db = tmp_path / "db.json"
    first = start_mock(db)
    with first.client() as client:
        body = {**NEW_SESSION, "action_id": "act-1"}  # the default data's actions
        assert client.post("/v2/action-session/create", json=body).status_code == 201
    first.stop()
    written = db.stat()
    assert (tmp_path / "db.json.journal").stat().st_size == 0  # the write went into the file

    again = start_mock(db)
    with again.client() as client:
        assert client.post("/v2/action-session/index", json={}).status_code == 200
    again.stop()
    kept = db.stat()
    assert (kept.st_ino, kept.st_mtime_ns, kept.st_size) == (
        written.st_ino,
        written.st_mtime_ns,
        written.st_size,
    )
    assert json.loads(db.read_bytes())  # still a whole TinyDB file


def test_a_fixture_edited_right_after_a_restart_is_applied_over_the_reopened_state(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    fixture, document = _fixture(tmp_path / "data.json")
    sessions = document["action-session"]
    gone, edited = sessions[0]["action_session_id"], sessions[1]["action_session_id"]
    first = start_mock(tmp_path / "db.json", data_paths=(fixture,))
    with first.client() as client:
        assert client.delete(f"/v2/action-session/delete/{gone}?force=true").status_code == 204
        created = client.post("/v2/action-session/create", json=NEW_SESSION)
        assert created.status_code == 201
        mine = created.json()["action_session_id"]
    first.stop()

    # Reopened with --reload: the edit is compared with the base the database was made from
    # (read from the bytes kept at start), so only what the edit changed reaches the state.
    again = start_mock(tmp_path / "db.json", data_paths=(fixture,), reload=True)
    sessions[1] = {**sessions[1], "tenant_id": "ten-edited"}
    fixture.write_text(dumps(document), encoding="utf-8")
    with again.client() as client:

        def applied() -> bool:
            view = client.get(f"/v2/action-session/view/{edited}")
            return bool(view.json()["tenant_id"] == "ten-edited")

        assert eventually(applied)
        assert client.get(f"/v2/action-session/view/{mine}").status_code == 200  # kept
        assert client.get(f"/v2/action-session/view/{gone}").status_code == 404  # kept deleted
        assert client.post(f"{again.base_url}/__mock/reset").status_code == 200
        assert client.get(f"/v2/action-session/view/{gone}").status_code == 200
        assert client.get(f"/v2/action-session/view/{mine}").status_code == 404
        assert client.get(f"{again.base_url}/__mock/export").json() == document


FILES = [b'{"actions": []}', bytes(range(256)) * 64, b""]


def test_the_files_bytes_leave_memory_for_an_unnamed_copy_and_come_back_as_they_were(
    tmp_path: Path,
) -> None:
    kept = FilesAsRead(list(FILES), tmp_path)
    kept.wait_written()
    assert not kept.in_memory
    # Read back twice (a base read that failed is read again), and nothing left in the folder.
    assert (kept.contents(), kept.contents()) == (FILES, FILES)
    assert list(tmp_path.iterdir()) == []
    kept.close()


def test_the_files_bytes_stay_in_memory_where_no_copy_can_be_made(tmp_path: Path) -> None:
    kept = FilesAsRead(list(FILES), tmp_path / "gone")
    kept.wait_written()
    assert kept.in_memory
    assert kept.contents() == FILES
    kept.close()


def test_a_copy_the_disk_refuses_midway_is_dropped_and_the_bytes_stay_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []
    real = tempfile.TemporaryFile

    class FullDisk:
        """A real temporary file whose disk fills up after the first write."""

        def __init__(self, **kwargs: Any) -> None:
            self.file = real(**kwargs)
            self.writes = 0
            made.append(self)

        def write(self, data: bytes) -> int:
            self.writes += 1
            if self.writes > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            written: int = self.file.write(data)
            return written

        def __getattr__(self, name: str) -> Any:
            return getattr(self.file, name)

    monkeypatch.setattr(tempfile, "TemporaryFile", FullDisk)
    kept = FilesAsRead(list(FILES), tmp_path)
    kept.wait_written()
    assert kept.in_memory and kept.contents() == FILES
    assert [m.file.closed for m in made] == [True]  # the half-written copy let go at once
    kept.close()
