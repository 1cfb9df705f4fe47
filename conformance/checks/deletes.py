"""Delete: blocked without force (400 listing every related record, nothing deleted), force
cascades, nothing related deletes without force, unknown and repeated deletes answer 404.

Profile `full` only; every delete targets a record the run made for the check (or a ghost id).
"""

from __future__ import annotations

from typing import Any

from conformance.checks.errors import shape_problem
from conformance.registry import FULL, CheckContext, check
from openapi.model import Resource


def _family(ctx: CheckContext, seq: int) -> tuple[str, list[tuple[Resource, str]]]:
    session, made = ctx.new_family(seq, children=2)
    related = [
        (ctx.contract.resources[name], r[ctx.contract.resources[name].id_field])
        for name, rs in made.items()
        for r in rs
    ]
    return session[ctx.contract.root.id_field], related


@check(
    title="A blocked delete does not answer 400 listing every related record",
    clauses=("delete.blocked-400", "delete.400-forms"),
    proven_by=("blocked_delete_partial_related", "blocked_delete_bare_related"),
    profiles=FULL,
)
def blocked_delete_lists_related(ctx: CheckContext) -> None:
    """The 400 of a blocked delete lists exactly the session's subscriptions and days."""
    root = ctx.contract.root
    sid, related = _family(ctx, 10)
    for params in ({}, {"force": "false"}):
        exchange = ctx.send("DELETE", root.path("delete", sid), params=params)
        body = exchange.json()
        ctx.expect(
            exchange.status == 400,
            f"delete without force answered {exchange.status}, expected 400",
            exchange,
        )
        # `related` comes on top of the error object, not instead of it.
        problem = shape_problem(ctx.contract, 400, body)
        ctx.expect(problem is None, f"the 400 of a blocked delete: {problem}", exchange)
        listed = body.get("related") if isinstance(body, dict) else None
        ctx.expect(isinstance(listed, list), "the 400 has no `related` array", exchange)
        assert isinstance(listed, list)
        got = {(str(r.get("entity")), str(r.get("id"))) for r in listed if isinstance(r, dict)}
        want = {(res.entity, rid) for res, rid in related}
        ctx.expect(
            got == want and len(listed) == len(want),
            f"`related` lists {sorted(got)}, expected {sorted(want)}",
            exchange,
        )


@check(
    title="A blocked delete deleted something",
    clauses=("delete.blocked-keeps",),
    proven_by=("blocked_delete_deletes",),
    profiles=FULL,
)
def blocked_delete_keeps_everything(ctx: CheckContext) -> None:
    """After a refused delete the session and all its related records are still there."""
    root = ctx.contract.root
    sid, related = _family(ctx, 11)
    refused = ctx.send("DELETE", root.path("delete", sid))
    for res, rid in [(root, sid), *related]:
        exchange = ctx.send("GET", res.path("view", rid))
        ctx.expect(
            exchange.status == 200,
            f"after a delete answered {refused.status}, {res.entity} {rid} is gone (view {exchange.status})",
            exchange,
        )
        listed = ctx.fetch(res, {"filter": {res.id_field: rid}})
        ctx.expect(
            len(listed.records) == 1,
            f"after a refused delete, {res.entity} {rid} is no longer listed",
            listed.exchange,
        )


def _gone(ctx: CheckContext, res: Resource, rid: str, why: str) -> None:
    exchange = ctx.send("GET", res.path("view", rid))
    ctx.expect(
        exchange.status == 404,
        f"{why}: view of {res.entity} {rid} answered {exchange.status}, expected 404",
        exchange,
    )
    listed = ctx.fetch(res, {"filter": {res.id_field: rid}, "history": True})
    ctx.expect(
        not listed.records,
        f"{why}: {res.entity} {rid} is still listed with history=true",
        listed.exchange,
    )


@check(
    title="A forced delete left the session or a related record behind",
    clauses=("delete.force-cascades", "delete.answer"),
    proven_by=("force_no_cascade",),
    profiles=FULL,
)
def forced_delete_cascades(ctx: CheckContext) -> None:
    """force=true deletes the session and every related record."""
    root = ctx.contract.root
    sid, related = _family(ctx, 12)
    exchange = ctx.send("DELETE", root.path("delete", sid), params={"force": "true"})
    ctx.expect(
        exchange.status == 204 and not exchange.body,
        f"forced delete answered {exchange.status}, expected 204 without body",
        exchange,
    )
    for res, rid in [(root, sid), *related]:
        _gone(ctx, res, rid, "after a forced delete")
    for child in ctx.contract.children(root):
        listed = ctx.fetch(child, {"filter": {child.parent_field: sid}, "history": True})
        ctx.expect(
            not listed.records,
            f"after a forced delete, {child.entity} records of {sid} are still listed",
            listed.exchange,
        )


@check(
    title="A record with nothing related is not deleted without force",
    clauses=("delete.nothing-related",),
    proven_by=("delete_requires_force",),
    profiles=FULL,
)
def unrelated_delete_without_force(ctx: CheckContext) -> None:
    """Sessions without children, subscriptions and days delete without force."""
    root = ctx.contract.root
    records: list[tuple[Resource, str, dict[str, Any]]] = []
    for n, params in enumerate(({}, {"force": "false"}, {"force": "true"})):
        session, made = ctx.new_family(20 + n)
        records.append((root, session[root.id_field], params))
    parent, _ = ctx.new_family(23)
    for n, child in enumerate(ctx.contract.children(root)):
        made_child = ctx.create(child, ctx.new_body(child, parent[root.id_field], 60 + n))
        records.append((child, made_child[child.id_field], {}))
    for res, rid, params in records:
        exchange = ctx.send("DELETE", res.path("delete", rid), params=params)
        ctx.expect(
            exchange.status == 204,
            f"delete of a {res.entity} with nothing related ({params or 'no force'}) answered {exchange.status}, expected 204",
            exchange,
        )
        _gone(ctx, res, rid, "after its delete")


@check(
    title="Deleting an unknown or already deleted record does not answer 404",
    clauses=("delete.unknown-404",),
    proven_by=("delete_unknown_204",),
    profiles=FULL,
)
def delete_unknown_404(ctx: CheckContext) -> None:
    """A ghost id and a second delete of the same record answer 404, for every resource."""
    root = ctx.contract.root
    parent, _ = ctx.new_family(30)
    for n, res in enumerate(ctx.contract.resources.values()):
        exchange = ctx.send("DELETE", res.path("delete", ctx.tracker.ghost()))
        ctx.expect(
            exchange.status == 404,
            f"delete of an id no server holds answered {exchange.status}, expected 404",
            exchange,
        )
        body = ctx.new_body(res, parent[root.id_field], 70 + n)
        made = ctx.create(res, body)
        rid = made[res.id_field]
        first = ctx.send("DELETE", res.path("delete", rid), params={"force": "true"})
        ctx.expect(first.status == 204, f"delete answered {first.status}, expected 204", first)
        again = ctx.send("DELETE", res.path("delete", rid), params={"force": "true"})
        ctx.expect(
            again.status == 404,
            f"a second delete of {rid} answered {again.status}, expected 404",
            again,
        )
