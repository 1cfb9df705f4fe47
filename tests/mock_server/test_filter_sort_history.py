"""Index filter, sort and history semantics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

INDEX = "/v2/action-session/index"


def _all(client: httpx.Client, path: str = INDEX, **search: Any) -> list[dict[str, Any]]:
    response = client.post(path, json={"per-page": 100, **search})
    assert response.status_code == 200, response.text
    assert int(response.headers["X-Pagination-Total-Count"]) == len(response.json())
    return list(response.json())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action_type", "TRAINING"),
        ("tenant_id", "ten-2"),
        ("validity_unit", "DAY"),
        ("validity", 12),
        ("count_done", 8),
        ("date_begin", "2024-01-10"),
        ("action_code", "C001"),
    ],
)
def test_filter_returns_exactly_the_matching_part_of_the_unfiltered_set(
    ro_client: httpx.Client, field: str, value: Any
) -> None:
    everything = _all(ro_client)
    filtered = _all(ro_client, filter={field: value})
    assert filtered, "the default data should have a match"
    assert [r["action_session_id"] for r in filtered] == [
        r["action_session_id"] for r in everything if r[field] == value
    ]


def test_filter_conditions_are_anded(ro_client: httpx.Client) -> None:
    both = _all(ro_client, filter={"tenant_id": "ten-1", "action_type": "CHECK"})
    assert both and all(r["tenant_id"] == "ten-1" and r["action_type"] == "CHECK" for r in both)
    assert len(both) < len(_all(ro_client, filter={"tenant_id": "ten-1"}))


def test_null_empty_and_unknown_filter_keys_set_no_condition(ro_client: httpx.Client) -> None:
    everything = _all(ro_client)
    assert (
        _all(
            ro_client,
            filter={"tenant_id": None, "action_type": "", "validity": "", "no_such_field": "x"},
        )
        == everything
    )


@pytest.mark.parametrize(
    ("filter_", "field"),
    [
        ({"date_begin": "AAA"}, "filter.date_begin"),
        ({"validity": "twelve"}, "filter.validity"),
        ({"action_type": "COOKING"}, "filter.action_type"),
        ({"count_done": 1.5}, "filter.count_done"),
    ],
)
def test_filter_value_of_the_wrong_type_or_outside_the_enum_is_422(
    ro_client: httpx.Client, filter_: dict[str, Any], field: str
) -> None:
    response = ro_client.post(INDEX, json={"filter": filter_})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert [e["field"] for e in response.json()] == [field]


def test_subscription_filter_by_session_and_outcome(ro_client: httpx.Client) -> None:
    rows = _all(
        ro_client,
        "/v2/action-session-subscription/index",
        filter={"action_session_id": "sess-1", "done": 1},
    )
    assert len(rows) == 8
    assert {r["action_session_id"] for r in rows} == {"sess-1"}


def test_date_filter_compares_instants_not_spellings(ro_client: httpx.Client) -> None:
    rows = _all(
        ro_client,
        "/v2/action-session-date/index",
        filter={"date_begin": "2024-01-10T10:00:00+01:00"},
    )
    assert [r["action_session_date_id"] for r in rows] == ["sdate-1"]


@pytest.mark.parametrize(
    "field",
    [
        "action_session_id",
        "tenant_id",
        "validity",
        "validity_unit",
        "action_name",
        "count_subscribed",
        "date_begin",
        "date_end",
    ],
)
def test_sort_ascending_and_descending_with_nulls_first_ascending(
    ro_client: httpx.Client, field: str
) -> None:
    def key(r: dict[str, Any]) -> tuple[bool, Any]:
        value = r[field]
        return (
            value is not None,
            value.casefold() if isinstance(value, str) else (value if value is not None else 0),
        )

    ascending = _all(ro_client, sort=field)
    descending = _all(ro_client, sort=f"-{field}")
    assert [key(r) for r in ascending] == sorted(key(r) for r in ascending)
    assert [key(r) for r in descending] == sorted((key(r) for r in descending), reverse=True)
    assert {r["action_session_id"] for r in ascending} == {
        r["action_session_id"] for r in descending
    }


def test_sort_compares_strings_case_insensitively(ro_client: httpx.Client) -> None:
    names = [r["action_name"] for r in _all(ro_client, sort="action_name")]
    assert "safety workshop" in names
    assert names == sorted(names, key=str.casefold)
    assert names != sorted(names)


def test_an_unknown_sort_field_is_ignored(ro_client: httpx.Client) -> None:
    assert _all(ro_client, sort="no_such_field") == _all(ro_client)
    assert _all(ro_client, sort="-no_such_field") == _all(ro_client)


@pytest.mark.parametrize("direction", ["", "-"])
def test_sort_name_is_the_declared_alias_of_action_name(
    ro_client: httpx.Client, direction: str
) -> None:
    by_alias = _all(ro_client, sort=f"{direction}name")
    assert by_alias == _all(ro_client, sort=f"{direction}action_name")
    assert by_alias != _all(ro_client)
    assert _all(ro_client, sort="-no_such_field") == _all(ro_client)


def test_history_false_is_a_strict_subset_of_history_true(ro_client: httpx.Client) -> None:
    active = {r["action_session_id"] for r in _all(ro_client)}
    with_history = {r["action_session_id"] for r in _all(ro_client, history=True)}
    assert active < with_history
    assert active == {r["action_session_id"] for r in _all(ro_client, history=False)}


def test_historized_sessions_are_viewable_and_count_their_historized_subscriptions(
    ro_client: httpx.Client,
) -> None:
    active = {r["action_session_id"] for r in _all(ro_client)}
    historized = [r for r in _all(ro_client, history=True) if r["action_session_id"] not in active]
    record = historized[0]
    view = ro_client.get(f"/v2/action-session/view/{record['action_session_id']}")
    assert view.status_code == 200
    assert view.json() == record
