"""A snapshot that cannot be written does not change the answer of a write the journal holds.

The journal is compacted into a new snapshot once it holds more changes than the snapshot holds
records and than a minimum; here the database starts with one action and the minimum is 5 (instead
of 1,000), so that a hundred creates cross the threshold many times.
"""

from __future__ import annotations

import errno
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server.database import Database, JournaledStorage
from mock_server.default_data import ACTIONS
from mock_server.resources import read_mock_api
from tests.conftest import RunningMock
from tests.mock_server.disks import inject_faults

API = read_mock_api()

SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO], ids=["disk-full", "io-error"])
def test_a_failed_snapshot_keeps_every_write_acknowledged_and_is_retried_with_backoff(
    start_mock: Callable[..., RunningMock],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: int,
) -> None:
    monkeypatch.setattr(JournaledStorage, "min_compact_changes", 5)
    monkeypatch.setattr(JournaledStorage, "compact_backoff", (1.0, 60.0))
    db = tmp_path / "db.json"
    journal = tmp_path / "db.json.journal"
    small = Database(db, API.id_fields, API.indexes)
    small.open(lambda: {"action": ACTIONS[:1]})
    small.close()
    disk = inject_faults(monkeypatch, ".tmp")
    caplog.set_level(logging.WARNING, logger="mock_server.database")
    mock = start_mock(db)
    created = []
    with mock.client() as client:
        disk.error = error
        started = time.monotonic()
        for n in range(100):
            response = client.post(
                "/v2/action-session/create", json={**SESSION, "action_session_id": f"snap-{n}"}
            )
            assert response.status_code == 201, response.text
            created.append(f"snap-{n}")
        elapsed = time.monotonic() - started
        # Without a backoff every create past the threshold would try again (95 attempts);
        # with waits of 1, 2, 4, ... s there are at most as many as fit in the elapsed time.
        assert 1 <= disk.failed_writes <= 2 + math.ceil(elapsed).bit_length()
        assert not list(tmp_path.glob("*.tmp"))
        failures = [r for r in caplog.records if "cannot write the database" in r.getMessage()]
        assert len(failures) == 1
        assert "every change is safe in the journal" in failures[0].getMessage()

        disk.error = None  # the disk heals: a later write, once the backoff is over, compacts
        deadline = time.monotonic() + 20
        while journal.stat().st_size > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
            response = client.put("/v2/action-session/update/snap-0", json={"validity": 1})
            assert response.status_code == 200
        assert journal.stat().st_size == 0
        assert [r.getMessage() for r in caplog.records if "after" in r.getMessage()] == [
            f"wrote the snapshot {db} after {disk.failed_writes} failed attempts"
        ]
    mock.stop()
    with start_mock(db).client() as client:
        for record_id in created:
            assert client.get(f"/v2/action-session/view/{record_id}").status_code == 200
