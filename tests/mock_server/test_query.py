"""Index semantics as pure functions: conditions, sort order, aliases and paging arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from mock_server import query
from openapi.model import Pagination

PAGING = Pagination(
    total="X-Total",
    page_count="X-Pages",
    current_page="X-Page",
    per_page="X-Per-Page",
    max_per_page=10,
    default_per_page=4,
)
KINDS = {"id": "string", "name": "string", "n": "integer", "at": "date-time", "data": "object"}


def _rows(*values: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"id": i, "name": v} for i, v in values]


def test_a_naive_or_lower_case_date_time_is_read_as_utc() -> None:
    assert query.parse_datetime("2024-01-10t09:00:00z") == datetime(2024, 1, 10, 9, tzinfo=UTC)
    assert query.parse_datetime("2024-01-10T09:00:00") == datetime(2024, 1, 10, 9, tzinfo=UTC)
    offset = query.parse_datetime("2024-01-10T10:00:00+01:00")
    assert offset == datetime(2024, 1, 10, 9, tzinfo=UTC)
    assert offset.utcoffset() == timedelta(hours=1)
    assert offset.tzinfo == timezone(timedelta(hours=1))


def test_null_empty_unknown_and_object_conditions_set_no_condition() -> None:
    filter_ = {"name": "x", "n": None, "id": "", "nope": "y", "data": {"a": 1}}
    assert query.conditions_of(filter_, KINDS) == {"name": "x"}
    assert query.conditions_of(None, KINDS) == {}


def test_date_time_conditions_compare_instants_and_strings_compare_exactly() -> None:
    record = {"at": "2024-01-10T09:00:00Z", "name": "Alpha"}
    assert query.matches(record, {"at": "2024-01-10T10:00:00+01:00"}, KINDS)
    assert not query.matches(record, {"at": "2024-01-10T10:00:00Z"}, KINDS)
    assert query.matches(record, {"name": "Alpha"}, KINDS)
    assert not query.matches(record, {"name": "alpha"}, KINDS)


def test_an_alias_is_replaced_in_either_direction_and_other_sorts_are_kept() -> None:
    aliases = {"name": "action_name"}
    assert query.unalias_sort("name", aliases) == "action_name"
    assert query.unalias_sort("-name", aliases) == "-action_name"
    assert query.unalias_sort("-validity", aliases) == "-validity"
    assert query.unalias_sort(None, aliases) is None


def test_strings_sort_case_insensitively_nulls_first_and_ties_by_id_in_both_directions() -> None:
    rows = _rows(("b", "beta"), ("a", "Beta"), ("c", None), ("d", "alpha"))
    ascending = query.sort_records(rows, "name", KINDS, "id")
    assert [r["id"] for r in ascending] == ["c", "d", "a", "b"]
    descending = query.sort_records(rows, "-name", KINDS, "id")
    # Reversed order, but the tie (beta/Beta) still by id ascending.
    assert [r["id"] for r in descending] == ["a", "b", "d", "c"]


def test_an_unknown_or_object_sort_keeps_the_stored_order() -> None:
    rows = _rows(("b", "x"), ("a", "y"))
    assert query.sort_records(rows, "nope", KINDS, "id") == rows
    assert query.sort_records(rows, "data", KINDS, "id") == rows
    assert query.sort_records(rows, None, KINDS, "id") == rows


def test_date_times_sort_by_instant_not_by_text() -> None:
    rows = [
        {"id": "late", "at": "2024-01-10T09:30:00+00:00"},
        {"id": "early", "at": "2024-01-10T10:00:00+01:00"},
    ]
    assert [r["id"] for r in query.sort_records(rows, "at", KINDS, "id")] == ["early", "late"]


@pytest.mark.parametrize(
    ("per_page", "page", "expected"),
    [
        (None, None, (4, 1, 6, [0, 1, 2, 3])),  # the spec's default size
        (50, None, (10, 1, 3, list(range(10)))),  # capped at the spec's maximum
        (10, 3, (10, 3, 3, list(range(20, 23)))),  # the last, partial page
        (10, 99, (10, 3, 3, list(range(20, 23)))),  # past the last: served as the last
    ],
)
def test_paging_follows_the_specs_default_and_cap(
    per_page: int | None, page: int | None, expected: tuple[int, int, int, list[int]]
) -> None:
    records = [{"id": n} for n in range(23)]
    result = query.paginate(records, per_page, page, PAGING)
    size, current, count, ids = expected
    assert (result.per_page, result.page, result.page_count) == (size, current, count)
    assert [r["id"] for r in result.items] == ids
    assert result.headers() == {
        "X-Total": "23",
        "X-Pages": str(count),
        "X-Page": str(current),
        "X-Per-Page": str(size),
    }


def test_an_empty_list_has_no_pages_and_is_page_one() -> None:
    result = query.paginate([], None, 5, PAGING)
    assert (result.total, result.page_count, result.page, result.items) == (0, 0, 1, [])
