"""Index semantics: filter, sort and paginate a list of answered records, as Yii2 does.

Pure functions over plain dicts; the store decides which records are candidates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openapi.model import Pagination

FieldKind = str
"""A member's kind as `openapi.model.FieldKind.kind` names it (`string`, `date-time`, ...)."""


@dataclass(frozen=True)
class Page:
    """One page of an index answer and the numbers its pagination headers report."""

    items: list[dict[str, Any]]
    total: int
    page: int
    page_count: int
    per_page: int
    pagination: Pagination

    def headers(self) -> dict[str, str]:
        """The four pagination headers, under the names the spec gives them."""
        names = self.pagination
        return {
            names.total: str(self.total),
            names.page_count: str(self.page_count),
            names.current_page: str(self.page),
            names.per_page: str(self.per_page),
        }


def parse_datetime(value: str) -> datetime:
    """An RFC 3339 date-time (either case of `T` and `Z`); a naive one is taken as UTC."""
    parsed = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def comparable(kind: FieldKind, value: Any) -> Any:
    """What a value of a field of `kind` sorts and compares as (None stays None)."""
    if value is None:
        return None
    if kind == "date-time" and isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return value
    if kind == "string" and isinstance(value, str):
        # The mock compares strings case-insensitively, like the production database's collation.
        return value.casefold()
    return value


def matches(
    record: Mapping[str, Any], conditions: Mapping[str, Any], fields: Mapping[str, FieldKind]
) -> bool:
    """Exact equality on every condition; the caller has already dropped null, "" and unknown keys."""
    for name, wanted in conditions.items():
        kind = fields[name]
        have = record.get(name)
        if kind == "date-time":
            if comparable(kind, have) != comparable(kind, wanted):
                return False
        elif have != wanted:
            return False
    return True


def conditions_of(
    filter_: Mapping[str, Any] | None, fields: Mapping[str, FieldKind]
) -> dict[str, Any]:
    """The filter's effective conditions: known, scalar fields whose value is neither null nor ""."""
    if not filter_:
        return {}
    return {
        name: value
        for name, value in filter_.items()
        if name in fields and fields[name] != "object" and value is not None and value != ""
    }


def unalias_sort(sort: Any, aliases: Mapping[str, str]) -> Any:
    """`sort` with an alias (`name`, `-name`) replaced by the field it stands for."""
    if not isinstance(sort, str):
        return sort
    descending = sort.startswith("-")
    field = aliases.get(sort[1:] if descending else sort)
    if field is None:
        return sort
    return f"-{field}" if descending else field


def sort_records(
    records: list[dict[str, Any]], sort: str | None, fields: Mapping[str, FieldKind], id_field: str
) -> list[dict[str, Any]]:
    """Sort by one field (`-` for descending), ties by id; an unknown field keeps storage order."""
    if not sort:
        return records
    descending = sort.startswith("-")
    name = sort[1:] if descending else sort
    kind = fields.get(name)
    if kind is None or kind == "object":
        return records
    # Ties broken by the primary key ascending whatever the direction: the second sort is stable.
    ordered = sorted(records, key=lambda r: str(r[id_field]))

    def key(record: dict[str, Any]) -> tuple[bool, Any]:
        value = comparable(kind, record.get(name))
        return (value is not None, value if value is not None else 0)

    try:
        return sorted(ordered, key=key, reverse=descending)
    except TypeError:
        # Mixed types in one field (only possible in hand-edited data): fall back to text order.
        return sorted(ordered, key=lambda r: (key(r)[0], str(key(r)[1])), reverse=descending)


def bounds(
    total: int, per_page: int | None, page: int | None, pagination: Pagination
) -> tuple[int, int, int]:
    """(page size, the page served, page count) for `total` records: the size capped at the
    spec's limit, the page clamped to the last one."""
    size = min(per_page or pagination.default_per_page, pagination.max_per_page)
    page_count = math.ceil(total / size)
    current = min(page or pagination.first_page, max(page_count, 1))
    return size, current, page_count


def paginate(
    records: Sequence[Any],
    per_page: int | None,
    page: int | None,
    pagination: Pagination,
) -> Page:
    """Cap the page size at the spec's limit, clamp the page to the last one, and slice."""
    total = len(records)
    size, current, page_count = bounds(total, per_page, page, pagination)
    start = (current - 1) * size
    return Page(list(records[start : start + size]), total, current, page_count, size, pagination)
