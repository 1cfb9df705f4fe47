"""Index requests as the suite makes them: one page, or every page of a search.

Owns the index body (`filter`, `per-page`, `page`, `sort`, `history`), reading the four
pagination headers, and walking all pages of a search so checks can reason about whole results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from conformance.client import ApiClient, Exchange
from conformance.failures import CheckFailure
from openapi.model import ApiModel, Pagination, Resource


@dataclass(frozen=True)
class Page:
    """One index answer with its headers read as integers (None when absent or malformed)."""

    exchange: Exchange
    records: list[dict[str, Any]]
    total: int | None
    page_count: int | None
    current_page: int | None
    per_page: int | None


@dataclass
class Walk:
    """Every page of one search, in order."""

    pages: list[Page] = field(default_factory=list)
    complete: bool = True

    @property
    def records(self) -> list[dict[str, Any]]:
        """All records of all pages, in the order served."""
        return [r for p in self.pages for r in p.records]


def paging_problems(
    pagination: Pagination, total: int, pages: int, current: int, per_page: int, served: int
) -> list[str]:
    """Why a page's four header values disagree with each other and with the `served` count.

    The one statement of the arithmetic: pages = ceil(total / per-page) (0 when total is 0), the
    current page within 1..max(pages, 1), every page but the last full, the last holding the rest.
    """
    if per_page < 1:
        return [f"{pagination.per_page} is {per_page}, expected at least 1"]
    expected_pages = math.ceil(total / per_page)
    if pages != expected_pages:
        return [
            f"{pagination.page_count} is {pages}, expected ceil({total} / {per_page}) = {expected_pages}"
        ]
    if not 1 <= current <= max(pages, 1):
        return [f"{pagination.current_page} is {current} with {pages} page(s)"]
    if total == 0:
        expected = 0
    elif current < pages:
        expected = per_page
    else:
        expected = total - (pages - 1) * per_page
    if served != expected:
        return [
            f"page {current} of {pages} ({total} records, {per_page} a page) holds {served} records, expected {expected}"
        ]
    return []


def search(
    filter: dict[str, Any] | None = None,
    *,
    per_page: int | None = None,
    page: int | None = None,
    sort: str | None = None,
    history: bool | None = None,
) -> dict[str, Any]:
    """An index body with only the members given."""
    body: dict[str, Any] = {}
    if filter is not None:
        body["filter"] = filter
    if per_page is not None:
        body["per-page"] = per_page
    if page is not None:
        body["page"] = page
    if sort is not None:
        body["sort"] = sort
    if history is not None:
        body["history"] = history
    return body


def fetch(
    client: ApiClient, contract: ApiModel, resource: Resource, body: dict[str, Any], title: str
) -> Page:
    """One index request; a non-200 or non-array answer fails with `title`."""
    exchange = client.send("POST", resource.path("index"), body)
    records = exchange.json()
    if exchange.status != 200 or not isinstance(records, list):
        raise CheckFailure(
            title,
            f"index with a valid body answered {exchange.status}, expected 200 and a JSON array",
            exchange,
        )
    if not all(isinstance(r, dict) for r in records):
        raise CheckFailure(title, "index answered an array of non-objects", exchange)
    pag = contract.pagination
    return Page(
        exchange=exchange,
        records=records,
        total=exchange.header_int(pag.total),
        page_count=exchange.header_int(pag.page_count),
        current_page=exchange.header_int(pag.current_page),
        per_page=exchange.header_int(pag.per_page),
    )


def walk(
    client: ApiClient,
    contract: ApiModel,
    resource: Resource,
    body: dict[str, Any],
    *,
    per_page: int,
    max_pages: int,
    title: str,
) -> Walk:
    """Fetch pages 1..page count of a search (at most `max_pages`)."""
    result = Walk()
    number = 1
    while True:
        page = fetch(
            client, contract, resource, {**body, "per-page": per_page, "page": number}, title
        )
        result.pages.append(page)
        if page.page_count is None:
            raise CheckFailure(
                title, f"index answered no integer {contract.pagination.page_count}", page.exchange
            )
        if number >= page.page_count:
            return result
        if number >= max_pages:
            result.complete = False
            return result
        number += 1


def all_records(
    client: ApiClient,
    contract: ApiModel,
    resource: Resource,
    body: dict[str, Any],
    *,
    max_pages: int,
    title: str,
) -> Walk:
    """Every record of a search, fetched at the largest page size the contract allows."""
    return walk(
        client,
        contract,
        resource,
        body,
        per_page=contract.pagination.max_per_page,
        max_pages=max_pages,
        title=title,
    )
