"""Pagination: the four headers against each other and the body, the cap, clamping, totals, walks.

Clauses come from the index semantics of the brief and the `X-Pagination-*` header descriptions
of the spec; the page-size cap is the spec's `maximum` of `X-Pagination-Per-Page`.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

from hypothesis import strategies as st

from conformance import index
from conformance.failures import CheckFailure
from conformance.index import Page
from conformance.registry import CheckContext, check
from conformance.world import Scope
from openapi.model import ApiModel

HEADERS_TITLE = "Pagination headers disagree with the body"


def verify_page(
    contract: ApiModel, page: Page, asked_per_page: int | None, title: str = HEADERS_TITLE
) -> None:
    """Fail unless the headers of `page` are integers that agree with each other and its body."""
    pag = contract.pagination
    values = {
        pag.total: page.total,
        pag.page_count: page.page_count,
        pag.current_page: page.current_page,
        pag.per_page: page.per_page,
    }
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise CheckFailure(
            title, f"missing or non-integer header(s): {', '.join(missing)}", page.exchange
        )
    total, pages, current, per_page = page.total, page.page_count, page.current_page, page.per_page
    assert total is not None and pages is not None and current is not None and per_page is not None
    if (
        asked_per_page is not None
        and asked_per_page <= pag.max_per_page
        and per_page != asked_per_page
    ):
        raise CheckFailure(
            title, f"asked per-page {asked_per_page}, {pag.per_page} says {per_page}", page.exchange
        )
    problems = index.paging_problems(pag, total, pages, current, per_page, len(page.records))
    if problems:
        raise CheckFailure(title, problems[0], page.exchange)


def _scope_total(ctx: CheckContext, scope: Scope) -> int:
    page = ctx.fetch(scope.resource, {"filter": scope.filter})
    verify_page(ctx.contract, page, None, ctx.title)
    assert page.total is not None
    return page.total


@check(
    title=HEADERS_TITLE,
    clauses=("page.headers", "index.answer"),
    proven_by=("page_count_floor", "last_page_short", "missing_page_header"),
)
def pagination_headers(ctx: CheckContext) -> None:
    """Every page of every scope, at generated page sizes, agrees with its headers."""
    for scope in ctx.world.scopes.values():
        _pagination_headers_in(ctx, scope)


def _pagination_headers_in(ctx: CheckContext, scope: Scope) -> None:
    cap = ctx.contract.pagination.max_per_page
    total = _scope_total(ctx, scope)

    def prop(per_page: int, page_hint: int) -> None:
        pages = max(math.ceil(total / per_page), 1)
        page = 1 + page_hint % pages
        body = index.search(scope.filter, per_page=per_page, page=page)
        verify_page(ctx.contract, ctx.fetch(scope.resource, body), per_page, ctx.title)

    ctx.property(prop, st.integers(1, min(cap, max(total + 1, 2))), st.integers(0, 1000))
    # The empty result: a filter on an id no server holds.
    empty = {**scope.filter, scope.resource.id_field: ctx.tracker.ghost()}
    page = ctx.fetch(scope.resource, index.search(empty, per_page=5))
    verify_page(ctx.contract, page, 5, ctx.title)
    ctx.expect(page.current_page == 1, "an empty result must be served as page 1", page.exchange)


@check(
    title="Page size is not capped at the contract's maximum",
    clauses=("page.per-page-cap",),
    proven_by=("no_per_page_cap",),
)
def per_page_cap(ctx: CheckContext) -> None:
    """Asking for more than the cap is served at the cap."""
    cap = ctx.contract.pagination.max_per_page
    # Unfiltered too: the whole collection is the likeliest to hold more than a capped page.
    searches = [(s.resource, s.filter) for s in ctx.world.scopes.values()]
    searches += [(r, {}) for r in ctx.contract.resources.values()]
    for (resource, search), asked in itertools.product(searches, (cap + 1, cap * 10)):
        page = ctx.fetch(resource, index.search(search, per_page=asked))
        ctx.expect(
            page.per_page == cap,
            f"asked per-page {asked}: {ctx.contract.pagination.per_page} says {page.per_page}, expected {cap}",
            page.exchange,
        )
        ctx.expect(
            len(page.records) <= cap,
            f"asked per-page {asked}: {len(page.records)} records served, more than {cap}",
            page.exchange,
        )


@check(
    title="A page past the last is not served as the last page",
    clauses=("page.past-last",),
    proven_by=("past_last_page_empty",),
)
def past_last_page(ctx: CheckContext) -> None:
    """Pages beyond the count answer the last page, whatever the size."""
    for scope in ctx.world.scopes.values():
        sort = scope.resource.id_field
        for per_page in (ctx.settings.budget.walk_per_page, 7):
            first = ctx.fetch(
                scope.resource, index.search(scope.filter, per_page=per_page, sort=sort)
            )
            pages = first.page_count or 0
            last = (
                first
                if pages <= 1
                else ctx.fetch(
                    scope.resource,
                    index.search(scope.filter, per_page=per_page, page=pages, sort=sort),
                )
            )
            beyond = ctx.fetch(
                scope.resource,
                index.search(scope.filter, per_page=per_page, page=pages + 3, sort=sort),
            )
            ctx.expect(
                beyond.current_page == max(pages, 1),
                f"asked page {pages + 3} of {pages}: {ctx.contract.pagination.current_page} is {beyond.current_page}, expected {max(pages, 1)}",
                beyond.exchange,
            )
            ids = [r.get(sort) for r in beyond.records]
            ctx.expect(
                ids == [r.get(sort) for r in last.records],
                f"asked page {pages + 3} of {pages}: served {ids}, but the last page holds {[r.get(sort) for r in last.records]}",
                beyond.exchange,
            )


@check(
    title="Total count depends on the page size",
    clauses=("page.total",),
    proven_by=("total_is_page_size",),
)
def total_independent_of_page_size(ctx: CheckContext) -> None:
    """The same search reports the same total at every page size and page."""
    cap = ctx.contract.pagination.max_per_page
    for scope in ctx.world.scopes.values():
        seen: dict[tuple[int, int], int | None] = {}
        first = None
        for per_page, page in ((cap, 1), (1, 1), (2, 2), (5, 1), (3, 1000)):
            result = ctx.fetch(
                scope.resource, index.search(scope.filter, per_page=per_page, page=page)
            )
            seen[(per_page, page)] = result.total
            first = first or result
            if len(set(seen.values())) > 1:
                ctx.fail(f"totals by (per-page, page): {seen}", result.exchange)
        if first is not None and first.total is not None and first.total <= cap:
            ctx.expect(
                len(first.records) == first.total,
                f"{first.total} matching but one full page holds {len(first.records)}",
                first.exchange,
            )


def _tie_field(scope: Scope, records: list[dict[str, Any]]) -> str | None:
    """The sortable field with the most ties among the scope's records (its own, when known)."""
    own = [r for r in records if scope.is_own(r)]
    candidates = [f for f in scope.resource.sortable if f != scope.resource.id_field]
    if not own or not candidates:
        return None
    return min(candidates, key=lambda f: len({repr(r.get(f)) for r in own}))


@check(
    title="Walking the pages returns a record twice or skips one",
    clauses=("sort.ties-by-key",),
    proven_by=("unstable_ties", "filter_after_paging"),
)
def walk_exactly_once(ctx: CheckContext) -> None:
    """Every page of a search, under unique and heavily tied sorts, lists each record once."""
    budget = ctx.settings.budget
    for scope in ctx.world.scopes.values():
        res = scope.resource
        whole = ctx.all_records(res, {"filter": scope.filter})
        tie = _tie_field(scope, whole.records)
        # Small pages make tie groups straddle page boundaries; big scopes get bigger pages so a
        # walk stays within the budget (a real deployment may hold thousands of records).
        total = whole.pages[0].total or 0
        per_page = max(budget.walk_per_page, math.ceil(total / max(budget.max_walk_pages, 1)))
        sorts = [res.id_field, f"-{res.id_field}"] + ([tie, f"-{tie}"] if tie else [])
        expected = {r.get(res.id_field) for r in whole.records if scope.is_own(r)}
        for sort in sorts:
            walked = ctx.walk(res, {"filter": scope.filter, "sort": sort}, per_page)
            if not walked.complete:
                continue
            ids = [r.get(res.id_field) for r in walked.records]
            twice = sorted(str(i) for i, n in Counter(ids).items() if n > 1)
            last = walked.pages[-1].exchange
            ctx.expect(
                not twice,
                f"sort {sort!r}, {per_page} a page: listed more than once: {', '.join(twice)}",
                last,
            )
            missing = sorted(str(i) for i in expected - set(ids))
            ctx.expect(
                not missing,
                f"sort {sort!r}, {per_page} a page: never listed: {', '.join(missing)}",
                last,
            )
            said = walked.pages[0].total
            ctx.expect(
                len(ids) == said,
                f"sort {sort!r}: the pages hold {len(ids)} records, the total says {said}",
                last,
            )
