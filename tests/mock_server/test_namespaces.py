"""Namespaces: each client's own state over the base data, bounded, listed, reset and deleted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import AUTH, RunningMock

SESSION = {"action_id": "act-1", "subtenant_id": "sub-9", "tenant_id": "ten-9"}


def _ns(name: str) -> dict[str, str]:
    return {"X-Mock-Namespace": name}


@pytest.fixture
def control(mock: RunningMock) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{mock.base_url}/__mock", timeout=30) as c:
        yield c


def test_a_namespace_sees_its_own_changes_and_nobody_else_does(client: httpx.Client) -> None:
    created = client.post("/v2/action-session/create", json=SESSION, headers=_ns("a"))
    assert created.status_code == 201
    new_id = created.json()["action_session_id"]
    assert client.get(f"/v2/action-session/view/{new_id}", headers=_ns("a")).status_code == 200
    assert client.get(f"/v2/action-session/view/{new_id}", headers=_ns("b")).status_code == 404
    assert client.get(f"/v2/action-session/view/{new_id}").status_code == 404

    deleted = client.delete("/v2/action-session/delete/sess-1?force=true", headers=_ns("b"))
    assert deleted.status_code == 204
    assert client.get("/v2/action-session/view/sess-1", headers=_ns("b")).status_code == 404
    assert client.get("/v2/action-session/view/sess-1", headers=_ns("a")).status_code == 200
    # The cascade stayed in b too: a still counts sess-1's ten subscriptions.
    index = client.post(
        "/v2/action-session-subscription/index",
        json={"filter": {"action_session_id": "sess-1"}},
        headers=_ns("a"),
    )
    assert index.headers["X-Pagination-Total-Count"] == "10"


def test_the_query_parameter_names_a_namespace_and_is_removed_before_validation(
    client: httpx.Client,
) -> None:
    deleted = client.delete("/v2/action-session/delete/sess-2", params={"__namespace": "q"})
    assert deleted.status_code == 204
    # `force` still parses: the namespace parameter did not disturb the query.
    blocked = client.delete(
        "/v2/action-session/delete/sess-1", params={"__namespace": "q", "force": "false"}
    )
    assert blocked.status_code == 400
    assert len(blocked.json()["related"]) == 11
    assert client.get("/v2/action-session/view/sess-2", headers=_ns("q")).status_code == 404
    assert client.get("/v2/action-session/view/sess-2").status_code == 200


def test_an_invalid_namespace_name_is_400(client: httpx.Client) -> None:
    answer = client.get("/v2/action-session/view/sess-1", headers=_ns("a/b"))
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "name": "Bad Request",
        "message": "A namespace name is 1 to 64 characters: letters, digits, '.-_~'.",
        "code": 0,
        "status": 400,
    }


def test_namespaces_are_listed_reset_and_deleted(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert client.delete("/v2/action-session/delete/sess-2", headers=_ns("w2")).status_code == 204
    assert client.get("/v2/action-session/view/sess-1", headers=_ns("w1")).status_code == 200

    listed = control.get("/namespaces")
    assert listed.status_code == 200
    assert [(n["name"], n["changed_records"]) for n in listed.json()] == [("w1", 0), ("w2", 1)]
    assert listed.json()[1]["counts"]["action-session"] == 47

    reset = control.post("/namespaces/w2/reset")
    assert reset.status_code == 200
    assert reset.json()["namespace"] == "w2"
    assert reset.json()["counts"]["action-session"] == 48
    assert client.get("/v2/action-session/view/sess-2", headers=_ns("w2")).status_code == 200

    assert client.delete("/v2/action-session/delete/sess-2", headers=_ns("w2")).status_code == 204
    assert control.delete("/namespaces/w2").status_code == 204
    assert [n["name"] for n in control.get("/namespaces").json()] == ["w1"]
    assert client.get("/v2/action-session/view/sess-2", headers=_ns("w2")).status_code == 200
    assert control.delete("/namespaces/never").status_code == 404


def test_reset_export_and_import_address_the_namespace_of_the_request(
    client: httpx.Client, control: httpx.Client
) -> None:
    assert client.delete("/v2/action-session/delete/sess-2", headers=_ns("n")).status_code == 204
    exported = control.get("/export", headers=_ns("n")).json()
    assert "sess-2" not in {s["action_session_id"] for s in exported["action-session"]}
    assert control.put("/snapshots/n-state", headers=_ns("n")).status_code == 201

    assert control.post("/reset", headers=_ns("n")).status_code == 200
    assert client.get("/v2/action-session/view/sess-2", headers=_ns("n")).status_code == 200
    restored = control.post("/snapshots/n-state/restore", params={"__namespace": "other"})
    assert restored.json() == {
        "namespace": "other",
        "counts": {
            "actions": 7,
            "action-session": 47,
            "action-session-subscription": 103,
            "action-session-date": 46,
        },
    }
    assert client.get("/v2/action-session/view/sess-2", headers=_ns("other")).status_code == 404
    assert client.get("/v2/action-session/view/sess-2").status_code == 200

    tiny = {"actions": exported["actions"], "action-session": exported["action-session"][:1]}
    assert control.post("/import", json=tiny, headers=_ns("n")).status_code == 200
    index = client.post("/v2/action-session/index", json={}, headers=_ns("n"))
    assert index.headers["X-Pagination-Total-Count"] == "1"
    assert (
        client.post("/v2/action-session/index", json={}).headers["X-Pagination-Total-Count"] == "44"
    )


def test_a_full_registry_answers_503_with_retry_after(
    start_mock: Callable[..., RunningMock],
) -> None:
    mock = start_mock(max_namespaces=2, namespace_ttl=600)
    with mock.client() as client:
        for name in ("one", "two"):
            assert (
                client.get("/v2/action-session/view/sess-1", headers=_ns(name)).status_code == 200
            )
        full = client.get("/v2/action-session/view/sess-1", headers=_ns("three"))
        assert full.status_code == 503
        assert 0 < int(full.headers["retry-after"]) <= 601
        assert full.json()["name"] == "Service Unavailable"
        assert full.json()["message"].startswith("All 2 namespaces are in use (--max-namespaces)")
        # Those in use still work, and deleting one makes room.
        assert client.get("/v2/action-session/view/sess-1", headers=_ns("one")).status_code == 200
        with httpx.Client(base_url=f"{mock.base_url}/__mock", timeout=30) as control:
            assert control.delete("/namespaces/one").status_code == 204
        assert client.get("/v2/action-session/view/sess-1", headers=_ns("three")).status_code == 200


def test_an_idle_namespace_expires_and_starts_again_from_the_base(
    start_mock: Callable[..., RunningMock],
) -> None:
    mock = start_mock(namespace_ttl=0.5)
    with mock.client() as client:
        assert (
            client.delete("/v2/action-session/delete/sess-2", headers=_ns("t")).status_code == 204
        )
        time.sleep(0.8)
        assert client.get("/v2/action-session/view/sess-2", headers=_ns("t")).status_code == 200


def _worker(base_url: str, n: int) -> dict[str, Any]:
    """One end-to-end worker: create, page, update and force-delete in namespace w<n>."""
    headers = {**AUTH, "X-Mock-Namespace": f"w{n}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        mine = []
        for k in range(5):
            answer = client.post(
                "/v2/action-session/create",
                json={**SESSION, "action_session_id": f"w{n}-s{k}", "tenant_id": f"tenant-w{n}"},
            )
            assert answer.status_code == 201, answer.text
            mine.append(answer.json()["action_session_id"])
        sub = client.post(
            "/v2/action-session-subscription/create",
            json={
                "action_session_id": mine[0],
                "action_subscription_id": f"asub-w{n}",
                "subtenant_id": "sub-9",
                "tenant_id": f"tenant-w{n}",
                "done": 1,
            },
        )
        assert sub.status_code == 201
        seen = []
        for page in (1, 2, 3):
            answer = client.post(
                "/v2/action-session/index",
                json={"filter": {"tenant_id": f"tenant-w{n}"}, "per-page": 2, "page": page},
            )
            assert answer.headers["X-Pagination-Total-Count"] == "5"
            seen += [r["action_session_id"] for r in answer.json()]
        updated = client.put(f"/v2/action-session/update/{mine[1]}", json={"validity": 100 + n})
        assert updated.status_code == 200
        assert client.delete(f"/v2/action-session/delete/{mine[0]}").status_code == 400
        assert client.delete(f"/v2/action-session/delete/{mine[0]}?force=true").status_code == 204
        assert client.delete("/v2/action-session/delete/sess-1?force=true").status_code == 204
        # What this worker sees now: its own sessions, every other worker's absent.
        listing = client.post("/v2/action-session/index", json={"per-page": 100, "page": 1})
        everything = [r["action_session_id"] for r in listing.json()]
        for page in range(2, int(listing.headers["X-Pagination-Page-Count"]) + 1):
            more = client.post("/v2/action-session/index", json={"per-page": 100, "page": page})
            everything += [r["action_session_id"] for r in more.json()]
        validity = client.get(f"/v2/action-session/view/{mine[1]}").json()["validity"]
        return {"paged": seen, "all": everything, "validity": validity, "mine": mine}


def test_eight_parallel_workers_each_see_exactly_their_own_changes(
    mock: RunningMock, client: httpx.Client, control: httpx.Client
) -> None:
    base_ids = [
        r["action_session_id"]
        for r in client.post("/v2/action-session/index", json={"per-page": 100}).json()
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: _worker(mock.base_url, n), range(8)))

    for n, result in enumerate(results):
        mine = result["mine"]
        assert sorted(result["paged"]) == sorted(mine)
        expected = [i for i in base_ids if i != "sess-1"] + mine[1:]
        assert result["all"] == expected, f"worker {n}"
        assert result["validity"] == 100 + n
    # The shared state is untouched by all of it.
    after = client.post("/v2/action-session/index", json={"per-page": 100})
    assert [r["action_session_id"] for r in after.json()] == base_ids
    assert client.get("/v2/action-session/view/sess-1").json()["count_subscribed"] == 10
    listed = control.get("/namespaces").json()
    assert [n["name"] for n in listed] == [f"w{n}" for n in range(8)]
    assert all(n["counts"]["action-session"] == 48 - 1 + 4 for n in listed)


def test_an_empty_namespace_header_means_the_shared_state(client: httpx.Client) -> None:
    answer = client.delete("/v2/action-session/delete/sess-2", headers={"X-Mock-Namespace": ""})
    assert answer.status_code == 204
    assert client.get("/v2/action-session/view/sess-2").status_code == 404


def test_an_unauthenticated_request_makes_no_namespace(
    mock: RunningMock, control: httpx.Client
) -> None:
    with httpx.Client(base_url=mock.base_url, timeout=30) as anonymous:
        answer = anonymous.get("/v2/action-session/view/sess-1", headers=_ns("intruder"))
    assert answer.status_code == 401
    assert control.get("/namespaces").json() == []
