"""Reads do not wait for reads, nor writes for reads: views and creates answer while indexes run.

The database holds 20,000 sessions (and 40,000 subscriptions), and each index sorts by a computed
field. Once, that computed the counts of every session: a few hundred milliseconds under the
store's lock, and a view queued behind every index in flight. Then indexes scanned a snapshot
outside the lock. Since issue 10 an index reads the catalog the writes keep (a few milliseconds,
under the lock, so that no write changes it mid-search): a view or create behind four index
loops must wait at most for the indexes in flight, not queue behind a convoy of them.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from mock_server.database import Database
from mock_server.default_data import default_data
from mock_server.process import MockProcess
from mock_server.resources import read_mock_api
from tests.conftest import AUTH

API = read_mock_api()

SESSIONS = 20_000
SESSION = {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"}
SLOW_INDEX = {"sort": "-count_done", "per-page": 10, "history": True}


def _large_data() -> Mapping[str, list[dict[str, Any]]]:
    data = {table: list(records) for table, records in default_data().items()}
    for n in range(SESSIONS):
        data["action_session"].append(
            {"action_session_id": f"big-{n}", "action_id": "act-1", "subtenant_id": "sub-1",
             "tenant_id": "ten-1", "validity": n % 7}
        )  # fmt: skip
        for k in range(2):
            data["action_session_subscription"].append(
                {"action_session_subscription_id": f"big-{n}-{k}", "action_session_id": f"big-{n}",
                 "action_subscription_id": f"a-{k}", "subtenant_id": "sub-1", "tenant_id": "ten-1",
                 "done": (n + k) % 3 - 1, "warning": 0}
            )  # fmt: skip
    return data


def _timed(client: httpx.Client, method: str, url: str, **kwargs: Any) -> float:
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)
    assert response.status_code == (201 if url.endswith("/create") else 200), response.text
    return time.perf_counter() - started


def test_views_and_creates_do_not_wait_for_slow_index_requests(tmp_path: Path) -> None:
    db = tmp_path / "big.json"
    database = Database(db, API.id_fields, API.indexes)
    database.open(_large_data)
    database.close()
    with (
        MockProcess(db) as mock,
        httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=120) as client,
    ):
        index_alone = min(
            _timed(client, "POST", "/v2/action-session/index", json=SLOW_INDEX) for _ in range(2)
        )
        view_alone = statistics.median(
            _timed(client, "GET", "/v2/action-session/view/sess-1") for _ in range(10)
        )
        create_alone = statistics.median(
            _timed(client, "POST", "/v2/action-session/create", json=SESSION) for _ in range(5)
        )

        stop = threading.Event()
        indexes_done = []

        def index_loop() -> None:
            with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=120) as own:
                while not stop.is_set():
                    indexes_done.append(
                        _timed(own, "POST", "/v2/action-session/index", json=SLOW_INDEX)
                    )

        loops = [threading.Thread(target=index_loop) for _ in range(4)]
        for loop in loops:
            loop.start()
        try:
            time.sleep(max(index_alone / 2, 0.05))  # every loop has an index in flight
            views = [_timed(client, "GET", "/v2/action-session/view/sess-1") for _ in range(20)]
            creates = [
                _timed(client, "POST", "/v2/action-session/create", json=SESSION) for _ in range(5)
            ]
            # The indexes that started after those creates saw them (a fresh snapshot).
            views.append(_timed(client, "GET", "/v2/action-session/view/sess-1"))
        finally:
            stop.set()
            for loop in loops:
                loop.join()
    print(
        f"\nindex alone {index_alone * 1000:.0f} ms, view alone {view_alone * 1000:.1f} ms; "
        f"behind 4 index loops ({len(indexes_done)} indexes): view median "
        f"{statistics.median(views) * 1000:.1f} ms, max {max(views) * 1000:.1f} ms; "
        f"create median {statistics.median(creates) * 1000:.1f} ms"
    )
    # The index sorted by a computed field answers from the catalog, not by a scan under the
    # lock (a few hundred ms at this size), so the bounds below cannot hide a return of it.
    assert index_alone < 0.1
    # At worst a request waits for the four indexes in flight (one per loop), then runs: the
    # interpreter is shared with them anyway. Measured: view 16.6 ms against 3.1 + 4 x 5 ms on a
    # loaded 2-core machine. A convoy (each request behind several rounds of indexes) or a
    # return of the scan under the lock (hundreds of ms per index) breaks the bound.
    assert statistics.median(views) < view_alone + 4 * index_alone + 0.02
    assert statistics.median(creates) < create_alone + 4 * index_alone + 0.02
