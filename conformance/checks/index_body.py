"""The index body itself: every member optional with its declared default (no body, `per-page`,
`page`, `history`), and malformed members refused with 422. Reads only: both profiles.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.errors import shape_problem
from conformance.registry import CheckContext, check
from openapi.model import Resource


@check(
    title="An index search without a member is not served with the member's default",
    clauses=(
        "index.body-optional",
        "page.per-page-default",
        "page.page-default",
        "history.default-false",
    ),
    proven_by=("default_per_page_20", "history_default_true"),
)
def index_defaults(ctx: CheckContext) -> None:
    """No body, an empty body and explicit defaults all serve the same first page."""
    pag = ctx.contract.pagination
    for res in ctx.contract.resources.values():
        bare = ctx.send("POST", res.path("index"))
        ctx.expect(
            bare.status == 200 and isinstance(bare.json(), list),
            f"index of {res.entity} without a body answered {bare.status}, expected 200 and an array",
            bare,
        )
        per_page = bare.header_int(pag.per_page)
        ctx.expect(
            per_page == min(pag.default_per_page, pag.max_per_page),
            f"without per-page, {pag.per_page} is {per_page}, expected the default {pag.default_per_page}",
            bare,
        )
        current = bare.header_int(pag.current_page)
        ctx.expect(current == 1, f"without page, {pag.current_page} is {current}, expected 1", bare)
        scope = ctx.world.scopes.get(res.name)
        search = {"filter": scope.filter} if scope is not None else {}
        sort = res.id_field
        implicit = ctx.fetch(res, {**search, "sort": sort})
        explicit = ctx.fetch(
            res,
            {**search, "sort": sort, "history": False, "page": 1, "per-page": pag.default_per_page},
        )
        ctx.expect(
            implicit.total == explicit.total
            and _ids(res.id_field, implicit.records) == _ids(res.id_field, explicit.records),
            f"without history, page and per-page: {implicit.total} records; with their defaults "
            f"(history false, page 1, per-page {pag.default_per_page}): {explicit.total}",
            implicit.exchange,
        )
        _history_default(ctx, res)


def _ids(id_field: str, records: list[dict[str, Any]]) -> list[Any]:
    return [r.get(id_field) for r in records]


def _history_default(ctx: CheckContext, res: Resource) -> None:
    """Nothing listed without `history` is missing from `history: false` (the whole collection,
    where historized records are; the run's own records, which come and go, are left out)."""
    sort = {"sort": res.id_field}
    active = ctx.all_records(res, {**sort, "history": False})
    default = ctx.all_records(res, sort)
    if not (active.complete and default.complete):
        return
    marker = ctx.settings.marker

    def foreign(records: list[dict[str, Any]]) -> set[Any]:
        return {
            r.get(res.id_field)
            for r in records
            if not (isinstance(r.get("data"), dict) and marker.items() <= r["data"].items())
        }

    extra = foreign(default.records) - foreign(active.records)
    if extra:  # another client may have created them meanwhile: ask again
        extra -= foreign(ctx.all_records(res, {**sort, "history": False}).records)
    ctx.expect(
        not extra,
        f"without history, {res.entity} index lists {sorted(map(str, extra))[:5]}, which "
        "history: false does not (the default is false)",
        default.pages[-1].exchange,
    )


# A member of each kind the index body declares, malformed.
MALFORMED: tuple[dict[str, Any], ...] = (
    {"per-page": 0},
    {"per-page": "ten"},
    {"page": 0},
    {"page": "two"},
    {"history": "yes"},
    {"sort": 5},
    {"filter": []},
)


@check(
    title="A malformed index body is not refused with 422",
    clauses=("index.bad-body-422",),
    proven_by=("page_zero_clamped",),
)
def index_body_rejected(ctx: CheckContext) -> None:
    """per-page or page below 1 or not integers, a history or sort of the wrong type, a filter
    that is not an object: 422 with the validation shape, for every resource."""
    for res in ctx.contract.resources.values():
        for body in MALFORMED:
            exchange = ctx.send("POST", res.path("index"), body)
            ctx.expect(
                exchange.status == 422,
                f"{res.entity} index with {body} answered {exchange.status}, expected 422",
                exchange,
            )
            problem = shape_problem(ctx.contract, 422, exchange.json())
            ctx.expect(problem is None, f"index with {body}: {problem}", exchange)
