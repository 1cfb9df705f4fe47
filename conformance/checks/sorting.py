"""Sort: ascending and `-` descending order for every sortable field; unknown fields ignored.

Sortable fields are the non-object properties of the listed record in the spec. Order is judged
by `conformance.values.order_problem`: nulls first ascending (last descending), strings in
code-point or case-insensitive order, date-times as instants. With the run's own records only
their relative order is judged, so other clients' data cannot fail the check.
"""

from __future__ import annotations

from typing import Any

from conformance import index, values
from conformance.registry import CheckContext, check


@check(
    title="Records are not in the order the sort asks for",
    clauses=("sort.order", "sort.nulls-first", "sort.collation"),
    proven_by=("sort_desc_ignored", "nulls_last"),
)
def sort_order(ctx: CheckContext) -> None:
    """Each sortable field, both directions, orders the scope's records."""
    for scope in ctx.world.scopes.values():
        res = scope.resource
        for name in res.sortable:
            kind = res.item_fields[name]
            for descending in (False, True):
                sort = f"-{name}" if descending else name
                walked = ctx.all_records(res, {"filter": scope.filter, "sort": sort}, max_pages=1)
                # Strings of other clients' records may follow any collation; numbers and dates
                # have one order, so every listed record is judged for those.
                judged = [r for r in walked.records if kind.kind != "string" or scope.is_own(r)]
                listed = [r.get(name) for r in judged]
                problem = values.order_problem(kind, listed, descending)
                if problem is not None:
                    ctx.fail(
                        f"sort {sort!r}: {problem}; values in order served: {listed}",
                        walked.pages[-1].exchange,
                    )


@check(
    title="An unknown sort field is not ignored",
    clauses=("sort.unknown-ignored",),
    proven_by=("unknown_sort_rejected",),
)
def sort_unknown_field_ignored(ctx: CheckContext) -> None:
    """Sorting by a field the resource lacks answers the unsorted result."""
    for scope in ctx.world.scopes.values():
        res = scope.resource
        base = ctx.all_records(res, {"filter": scope.filter}, max_pages=1)
        expected = {r.get(res.id_field) for r in base.records}
        for sort in ("name_of_no_field", "-name_of_no_field"):
            exchange = ctx.send(
                "POST",
                res.path("index"),
                index.search(
                    scope.filter, sort=sort, per_page=ctx.contract.pagination.max_per_page
                ),
            )
            body = exchange.json()
            ctx.expect(
                exchange.status == 200 and isinstance(body, list),
                f"sort {sort!r} answered {exchange.status}, expected 200",
                exchange,
            )
            assert isinstance(body, list)
            got = {r.get(res.id_field) for r in body if isinstance(r, dict)}
            if base.complete and len(base.pages) == 1:
                ctx.expect(
                    got == expected,
                    f"sort {sort!r} listed a different set of records than no sort",
                    exchange,
                )


@check(
    title="The sessions' sort alias `name` does not sort by the action's name",
    clauses=("sort.name-alias",),
    proven_by=("name_alias_ignored",),
    guess="sort-name-alias",
)
def sort_name_alias(ctx: CheckContext) -> None:
    """Sorting by a declared alias orders as sorting by the field it stands for, both ways."""
    cap = ctx.contract.pagination.max_per_page
    marker = ctx.settings.marker

    def foreign(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The run's own records come and go while checks run beside this one.
        return [
            r
            for r in records
            if not (isinstance(r.get("data"), dict) and marker.items() <= r["data"].items())
        ]

    for res in ctx.contract.resources.values():
        for alias, target in res.sort_aliases.items():
            for prefix in ("", "-"):
                by_alias = ctx.fetch(res, {"sort": prefix + alias, "per-page": cap})
                by_field = ctx.fetch(res, {"sort": prefix + target, "per-page": cap})
                got = [r.get(target) for r in foreign(by_alias.records)]
                want = [r.get(target) for r in foreign(by_field.records)]
                ctx.expect(
                    got == want,
                    f"sort {prefix + alias!r} served {target} in the order {got[:8]}, "
                    f"sort {prefix + target!r} in the order {want[:8]}",
                    by_alias.exchange,
                )
                if len(set(map(str, want))) < 2:
                    ctx.note(
                        f"sort {alias!r}: every record listed has the same {target}, so the "
                        "alias cannot be told from an ignored sort"
                    )
