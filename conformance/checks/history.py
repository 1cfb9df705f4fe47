"""History: `history: false` (the default) lists active records only; `true` adds historized ones,
so the default result is always a subset of the history result."""

from __future__ import annotations

from conformance.registry import CheckContext, check


@check(
    title="The default result is not a subset of the history result",
    clauses=("history.superset",),
    proven_by=("history_only_historized",),
)
def history_superset(ctx: CheckContext) -> None:
    """Every record listed by default is also listed with `history: true`."""
    more = 0
    for res in ctx.contract.resources.values():
        active = ctx.fetch(res, {"per-page": 1})
        every = ctx.fetch(res, {"per-page": 1, "history": True})
        more += (every.total or 0) - (active.total or 0)
    if more == 0:
        ctx.note(
            "history: true lists no record more than the default for any resource: either no "
            "record is historized or the server ignores history (the API cannot tell which)"
        )
    for scope in ctx.world.scopes.values():
        res = scope.resource
        for extra in ({}, {"history": False}):
            default = ctx.all_records(res, {"filter": scope.filter, **extra})
            full = ctx.all_records(res, {"filter": scope.filter, "history": True})
            exchange = full.pages[-1].exchange
            d_total, h_total = default.pages[0].total or 0, full.pages[0].total or 0
            ctx.expect(
                d_total <= h_total,
                f"{d_total} records by default, only {h_total} with history",
                exchange,
            )
            if default.complete and full.complete:
                missing = {r.get(res.id_field) for r in default.records} - {
                    r.get(res.id_field) for r in full.records
                }
                ctx.expect(
                    not missing,
                    f"listed by default but not with history: {sorted(map(str, missing))}",
                    exchange,
                )
