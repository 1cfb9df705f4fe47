"""Delete: blocked without force (400 listing every related record, nothing deleted), force
cascades, nothing related deletes without force, unknown and repeated deletes answer 404.

Profile `full` only; every delete targets a record the run made for the check (or a ghost id).
"""

from __future__ import annotations

from typing import Any

from conformance import index, world
from conformance.config import Profile
from conformance.registry import CheckContext, check
from openapi.model import Resource

FULL = (Profile.FULL,)


def _family(ctx: CheckContext, seq: int) -> tuple[str, list[tuple[Resource, str]]]:
    session, made = world.new_family(
        ctx.settings, ctx.contract, ctx.client, ctx.tracker, ctx.title, children=2, seq=seq
    )
    related = [
        (ctx.contract.resources[name], r[ctx.contract.resources[name].id_field])
        for name, rs in made.items()
        for r in rs
    ]
    return session[ctx.contract.root.id_field], related


@check(
    "blocked_delete_lists_related",
    title="A blocked delete does not answer 400 listing every related record",
    clause="delete of a session with subscriptions or days, force=false: 400, the error object plus `related` listing every record force=true would delete",
    profiles=FULL,
)
def blocked_delete_lists_related(ctx: CheckContext) -> None:
    """The 400 of a blocked delete lists exactly the session's subscriptions and days."""
    root = ctx.contract.root
    sid, related = _family(ctx, 10)
    for params in ({}, {"force": "false"}):
        exchange = ctx.client.send("DELETE", root.path("delete", sid), params=params)
        body = exchange.json()
        ctx.expect(
            exchange.status == 400,
            f"delete without force answered {exchange.status}, expected 400",
            exchange,
        )
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
    "blocked_delete_keeps_everything",
    title="A blocked delete deleted something",
    clause="delete without force of a session with related records: nothing is deleted",
    profiles=FULL,
)
def blocked_delete_keeps_everything(ctx: CheckContext) -> None:
    """After a refused delete the session and all its related records are still there."""
    root = ctx.contract.root
    sid, related = _family(ctx, 11)
    refused = ctx.client.send("DELETE", root.path("delete", sid))
    for res, rid in [(root, sid), *related]:
        exchange = ctx.client.send("GET", res.path("view", rid))
        ctx.expect(
            exchange.status == 200,
            f"after a delete answered {refused.status}, {res.entity} {rid} is gone (view {exchange.status})",
            exchange,
        )
        listed = index.fetch(
            ctx.client, ctx.contract, res, {"filter": {res.id_field: rid}}, ctx.title
        )
        ctx.expect(
            len(listed.records) == 1,
            f"after a refused delete, {res.entity} {rid} is no longer listed",
            listed.exchange,
        )


def _gone(ctx: CheckContext, res: Resource, rid: str, why: str) -> None:
    exchange = ctx.client.send("GET", res.path("view", rid))
    ctx.expect(
        exchange.status == 404,
        f"{why}: view of {res.entity} {rid} answered {exchange.status}, expected 404",
        exchange,
    )
    listed = index.fetch(
        ctx.client, ctx.contract, res, {"filter": {res.id_field: rid}, "history": True}, ctx.title
    )
    ctx.expect(
        not listed.records,
        f"{why}: {res.entity} {rid} is still listed with history=true",
        listed.exchange,
    )


@check(
    "forced_delete_cascades",
    title="A forced delete left the session or a related record behind",
    clause="force=true: 204; the session and all its subscriptions and days are gone (view 404, absent from index even with history=true)",
    profiles=FULL,
)
def forced_delete_cascades(ctx: CheckContext) -> None:
    """force=true deletes the session and every related record."""
    root = ctx.contract.root
    sid, related = _family(ctx, 12)
    exchange = ctx.client.send("DELETE", root.path("delete", sid), params={"force": "true"})
    ctx.expect(
        exchange.status == 204 and not exchange.body,
        f"forced delete answered {exchange.status}, expected 204 without body",
        exchange,
    )
    for res, rid in [(root, sid), *related]:
        _gone(ctx, res, rid, "after a forced delete")
    for child in ctx.contract.children(root):
        listed = index.fetch(
            ctx.client,
            ctx.contract,
            child,
            {"filter": {child.parent_field: sid}, "history": True},
            ctx.title,
        )
        ctx.expect(
            not listed.records,
            f"after a forced delete, {child.entity} records of {sid} are still listed",
            listed.exchange,
        )


@check(
    "unrelated_delete_without_force",
    title="A record with nothing related is not deleted without force",
    clause="delete: nothing related: 204 whatever force says",
    profiles=FULL,
)
def unrelated_delete(ctx: CheckContext) -> None:
    """Sessions without children, subscriptions and days delete without force."""
    root = ctx.contract.root
    records: list[tuple[Resource, str, dict[str, Any]]] = []
    for n, params in enumerate(({}, {"force": "false"}, {"force": "true"})):
        session, made = world.new_family(
            ctx.settings, ctx.contract, ctx.client, ctx.tracker, ctx.title, children=0, seq=20 + n
        )
        records.append((root, session[root.id_field], params))
    parent, _ = world.new_family(
        ctx.settings, ctx.contract, ctx.client, ctx.tracker, ctx.title, children=0, seq=23
    )
    for n, child in enumerate(ctx.contract.children(root)):
        made_child = world.create_record(
            ctx.client,
            ctx.tracker,
            child,
            world.child_body(ctx.settings, child, parent[root.id_field], 60 + n),
            ctx.title,
        )
        records.append((child, made_child[child.id_field], {}))
    for res, rid, params in records:
        exchange = ctx.client.send("DELETE", res.path("delete", rid), params=params)
        ctx.expect(
            exchange.status == 204,
            f"delete of a {res.entity} with nothing related ({params or 'no force'}) answered {exchange.status}, expected 204",
            exchange,
        )
        _gone(ctx, res, rid, "after its delete")


@check(
    "delete_unknown_404",
    title="Deleting an unknown or already deleted record does not answer 404",
    clause="delete: unknown or already deleted id: 404",
    profiles=FULL,
)
def delete_unknown(ctx: CheckContext) -> None:
    """A ghost id and a second delete of the same record answer 404, for every resource."""
    root = ctx.contract.root
    parent, _ = world.new_family(
        ctx.settings, ctx.contract, ctx.client, ctx.tracker, ctx.title, children=0, seq=30
    )
    for n, res in enumerate(ctx.contract.resources.values()):
        exchange = ctx.client.send("DELETE", res.path("delete", ctx.tracker.ghost()))
        ctx.expect(
            exchange.status == 404,
            f"delete of an id no server holds answered {exchange.status}, expected 404",
            exchange,
        )
        body = (
            world.session_body(ctx.settings, 7)
            if res.parent is None
            else world.child_body(ctx.settings, res, parent[root.id_field], 70 + n)
        )
        made = world.create_record(ctx.client, ctx.tracker, res, body, ctx.title)
        rid = made[res.id_field]
        first = ctx.client.send("DELETE", res.path("delete", rid), params={"force": "true"})
        ctx.expect(first.status == 204, f"delete answered {first.status}, expected 204", first)
        again = ctx.client.send("DELETE", res.path("delete", rid), params={"force": "true"})
        ctx.expect(
            again.status == 404,
            f"a second delete of {rid} answered {again.status}, expected 404",
            again,
        )
