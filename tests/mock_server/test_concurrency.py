"""Concurrent writers lose nothing: the store's lock serialises TinyDB across Connexion's worker threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import AUTH, RunningMock


def test_a_thousand_concurrent_creates_all_land_and_the_counts_match(mock: RunningMock) -> None:
    with mock.client() as client:
        before = int(
            client.post("/v2/action-session/index", json={}).headers["X-Pagination-Total-Count"]
        )
        session = client.post(
            "/v2/action-session/create",
            json={"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"},
        ).json()["action_session_id"]

    def create(n: int) -> tuple[int, int]:
        with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=60) as c:
            statuses = []
            for k in range(n * 125, (n + 1) * 125):
                if k % 2:
                    r = c.post(
                        "/v2/action-session/create",
                        json={
                            "action_id": "act-2",
                            "subtenant_id": "sub-9",
                            "tenant_id": "ten-9",
                            "action_session_id": f"conc-{k}",
                        },
                    )
                else:
                    r = c.post(
                        "/v2/action-session-subscription/create",
                        json={
                            "action_session_id": session,
                            "action_subscription_id": f"a{k}",
                            "subtenant_id": "sub-1",
                            "tenant_id": "ten-1",
                            "done": k % 4 // 2,
                        },
                    )
                statuses.append(r.status_code)
            return statuses.count(201), len(statuses)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(create, range(8)))
    assert sum(ok for ok, _ in results) == sum(total for _, total in results) == 1000

    with mock.client() as client:
        sessions = client.post("/v2/action-session/index", json={"filter": {"tenant_id": "ten-9"}})
        assert sessions.headers["X-Pagination-Total-Count"] == "500"
        total = int(
            client.post("/v2/action-session/index", json={}).headers["X-Pagination-Total-Count"]
        )
        assert total == before + 1 + 500
        view = client.get(f"/v2/action-session/view/{session}").json()
        assert (view["count_subscribed"], view["count_done"], view["count_fail"]) == (500, 250, 250)
        subs = client.post(
            "/v2/action-session-subscription/index", json={"filter": {"action_session_id": session}}
        )
        assert subs.headers["X-Pagination-Total-Count"] == "500"
