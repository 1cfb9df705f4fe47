"""A full disk: a write is acknowledged only once all of it is on disk; otherwise 507, nothing kept.

Each scenario runs twice over: on a real tmpfs of 256 KiB filled to the last byte (skipped where
mounting is not allowed), and with faults injected into the same write calls (always).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_server.process import MockProcess
from tests.conftest import AUTH, RunningMock
from tests.mock_server.disks import fill, inject_faults, small_tmpfs

SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}
FULL = {
    "name": "Insufficient Storage",
    "message": "The disk is full: the change was not saved. Free some space and retry.",
    "code": 0,
    "status": 507,
}


def _journal_lines(db: Path) -> list[object]:
    """Every journal line, parsed; fails on a torn line anywhere, the last one included."""
    data = (db.parent / (db.name + ".journal")).read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"torn journal tail: {data[-80:]!r}"
    return [json.loads(line) for line in data.splitlines()]


@pytest.mark.parametrize(
    "free", [pytest.param(0, id="no-byte-left"), pytest.param(25, id="short-write")]
)
def test_a_write_on_a_full_disk_is_507_and_changes_nothing(
    start_mock: Callable[..., RunningMock],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    free: int,
) -> None:
    db = tmp_path / "db.json"
    disk = inject_faults(monkeypatch, ".journal")
    mock = start_mock(db)
    with mock.client() as client:
        before = client.get("/v2/action-session/view/sess-1").json()
        assert client.post("/v2/action-session/create", json=SESSION).status_code == 201
        lines = _journal_lines(db)

        disk.free = free
        refused = [
            client.post(
                "/v2/action-session/create", json={**SESSION, "action_session_id": "lost-1"}
            ),
            client.put("/v2/action-session/update/sess-1", json={"validity": 77}),
            client.delete("/v2/action-session/delete/sess-1", params={"force": "true"}),
            client.put("/v2/action-session-subscription/update/ssub-1", json={"done": 0}),
        ]
        for response in refused:
            assert (response.status_code, response.json()) == (507, FULL)
            assert response.headers["content-type"] == "application/json"
        assert disk.failed_writes >= 4
        # Nothing of the refused writes is on disk (a short write was cut off) or in memory.
        assert _journal_lines(db) == lines
        assert client.get("/v2/action-session/view/lost-1").status_code == 404
        assert client.get("/v2/action-session/view/sess-1").json() == before
        assert client.get("/v2/action-session-subscription/view/ssub-1").json()["done"] == 1
        # Logged once for the run of refusals, not once per request.
        logged = [r.getMessage() for r in caplog.records if r.name == "mock_server.database"]
        assert logged == [
            f"cannot write the journal {db}.journal: the disk is full (No space left on device); "
            "changes are refused until it can be written"
        ]

        disk.free = None  # space freed: writes succeed again, after whole lines only
        created = client.post(
            "/v2/action-session/create", json={**SESSION, "action_session_id": "kept-1"}
        )
        assert created.status_code == 201
        assert len(_journal_lines(db)) == len(lines) + 1
        logged = [r.getMessage() for r in caplog.records if r.name == "mock_server.database"]
        assert logged[-1] == f"the journal {db}.journal can be written again"
    mock.stop()

    with start_mock(db).client() as client:
        assert client.get("/v2/action-session/view/kept-1").status_code == 200
        assert client.get("/v2/action-session/view/lost-1").status_code == 404
        assert client.get("/v2/action-session/view/sess-1").json() == before


def test_a_failing_disk_is_503_and_changes_nothing(
    start_mock: Callable[..., RunningMock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = inject_faults(monkeypatch, ".journal")
    with start_mock(tmp_path / "db.json").client() as client:
        disk.error = 5  # EIO
        response = client.post("/v2/action-session/create", json=SESSION)
        assert (response.status_code, response.json()) == (
            503,
            {
                "name": "Service Unavailable",
                "message": "The database cannot be written: the change was not saved. Retry later.",
                "code": 0,
                "status": 503,
            },
        )
        count = client.post("/v2/action-session/index", json={"history": True})
        disk.error = None
        again = client.post("/v2/action-session/index", json={"history": True})
        assert (
            count.headers["X-Pagination-Total-Count"] == again.headers["X-Pagination-Total-Count"]
        )


def test_on_a_real_full_filesystem_no_acknowledged_write_is_lost(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk") as disk:
        db = disk / "db.json"
        acknowledged: list[str] = []
        refused: list[str] = []
        with MockProcess(db) as mock, httpx.Client(base_url=mock.base_url, headers=AUTH) as client:
            filler = fill(disk)
            # The journal's last page still has room for a few lines; then a line is cut short.
            for n in range(200):
                record_id = f"full-{n}"
                response = client.post(
                    "/v2/action-session/create", json={**SESSION, "action_session_id": record_id}
                )
                if response.status_code == 201:
                    acknowledged.append(record_id)
                    continue
                assert (response.status_code, response.json()) == (507, FULL)
                refused.append(record_id)
                if len(refused) == 3:
                    break
            assert len(refused) == 3
            lines = _journal_lines(db)
            mock.kill()  # a crash on a full disk

        # It starts on the full disk (the snapshot cannot be rewritten: the journal serves).
        with MockProcess(db) as mock, httpx.Client(base_url=mock.base_url, headers=AUTH) as client:
            assert _journal_lines(db) == lines
            for record_id in acknowledged:
                assert client.get(f"/v2/action-session/view/{record_id}").status_code == 200
            for record_id in refused:
                assert client.get(f"/v2/action-session/view/{record_id}").status_code == 404
            filler.unlink()
            response = client.post(
                "/v2/action-session/create", json={**SESSION, "action_session_id": "after"}
            )
            assert response.status_code == 201
            acknowledged.append("after")
            mock.kill()

        with MockProcess(db) as mock, httpx.Client(base_url=mock.base_url, headers=AUTH) as client:
            for record_id in acknowledged:
                assert client.get(f"/v2/action-session/view/{record_id}").status_code == 200
        assert not (disk / "db.json.tmp").exists()
