"""Index pagination: header arithmetic, the per-page cap, page clamping and tie-breaks across pages."""

from __future__ import annotations

import math

import httpx
import pytest

INDEX = "/v2/action-session/index"


def _page(
    client: httpx.Client, path: str, **search: object
) -> tuple[list[dict[str, object]], dict[str, int]]:
    response = client.post(path, json=search)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    headers = {
        name: int(response.headers[f"X-Pagination-{name}"])
        for name in ("Total-Count", "Page-Count", "Current-Page", "Per-Page")
    }
    return response.json(), headers


@pytest.mark.parametrize(
    "path",
    [
        "/v2/action-session/index",
        "/v2/action-session-subscription/index",
        "/v2/action-session-date/index",
    ],
)
@pytest.mark.parametrize("per_page", [1, 7, 10, 100])
def test_headers_agree_with_each_other_and_with_the_body(
    ro_client: httpx.Client, path: str, per_page: int
) -> None:
    body, headers = _page(ro_client, path, **{"per-page": per_page})
    total = headers["Total-Count"]
    assert headers["Per-Page"] == per_page
    assert headers["Page-Count"] == math.ceil(total / per_page)
    assert headers["Current-Page"] == 1
    assert len(body) == min(per_page, total)
    last, last_headers = _page(
        ro_client, path, **{"per-page": per_page, "page": headers["Page-Count"]}
    )
    assert last_headers["Current-Page"] == headers["Page-Count"]
    assert len(last) == total - per_page * (headers["Page-Count"] - 1)


def test_per_page_above_100_is_served_as_100(client: httpx.Client) -> None:
    for n in range(120):
        assert (
            client.post(
                "/v2/action-session-subscription/create",
                json={
                    "action_session_id": "sess-2",
                    "action_subscription_id": f"bulk-{n}",
                    "subtenant_id": "sub-2",
                    "tenant_id": "ten-1",
                },
            ).status_code
            == 201
        )
    body, headers = _page(client, "/v2/action-session-subscription/index", **{"per-page": 500})
    assert headers["Per-Page"] == 100
    assert len(body) == 100
    assert headers["Page-Count"] == math.ceil(headers["Total-Count"] / 100)


def test_a_page_past_the_last_is_served_as_the_last_page(ro_client: httpx.Client) -> None:
    last, headers = _page(ro_client, INDEX, **{"per-page": 10, "page": 10_000})
    assert headers["Current-Page"] == headers["Page-Count"]
    expected, _ = _page(ro_client, INDEX, **{"per-page": 10, "page": headers["Page-Count"]})
    assert last == expected


def test_an_empty_result_has_zero_pages_and_serves_page_one(ro_client: httpx.Client) -> None:
    body, headers = _page(ro_client, INDEX, filter={"tenant_id": "no-such-tenant"}, page=3)
    assert body == []
    assert headers == {"Total-Count": 0, "Page-Count": 0, "Current-Page": 1, "Per-Page": 100}


def test_the_total_does_not_depend_on_the_page_size(ro_client: httpx.Client) -> None:
    totals = {_page(ro_client, INDEX, **{"per-page": n})[1]["Total-Count"] for n in (1, 3, 50, 100)}
    assert len(totals) == 1


@pytest.mark.parametrize(
    "sort", ["tenant_id", "-tenant_id", "validity_unit", "-count_done", "date_begin", None]
)
def test_walking_every_page_gives_each_record_exactly_once_even_with_ties(
    ro_client: httpx.Client, sort: str | None
) -> None:
    search: dict[str, object] = {"per-page": 4}
    if sort:
        search["sort"] = sort
    _, headers = _page(ro_client, INDEX, **search)
    seen: list[object] = []
    for page in range(1, headers["Page-Count"] + 1):
        body, _ = _page(ro_client, INDEX, **search, page=page)
        seen.extend(r["action_session_id"] for r in body)
    everything, _ = _page(ro_client, INDEX, **{"per-page": 100})
    assert len(seen) == len(set(seen)) == headers["Total-Count"]
    assert set(seen) == {r["action_session_id"] for r in everything}


def test_ties_are_broken_by_the_primary_key(ro_client: httpx.Client) -> None:
    body, _ = _page(ro_client, INDEX, sort="tenant_id")
    for tenant in {r["tenant_id"] for r in body}:
        ids = [str(r["action_session_id"]) for r in body if r["tenant_id"] == tenant]
        assert ids == sorted(ids)
