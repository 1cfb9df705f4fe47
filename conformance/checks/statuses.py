"""Every status each operation answers, on every resource, with the error body of its status:
unknown ids (404, and nothing created), ids already taken (409, and nothing changed), a write
without a body (400), a body over the size limit (413), a JSON body that is not an object (400,
a guess).

Reads and ghost-id probes run in both profiles; writes to real records are `full` only and aimed
at the check's own records.
"""

from __future__ import annotations

from conformance.checks.errors import shape_problem
from conformance.client import Exchange
from conformance.config import Profile
from conformance.registry import CheckContext, check

# Over the 1 MiB the spec's PayloadTooLarge response names, as an index search a server may read.
OVERSIZED = b'{"filter": {}, "pad": "' + b"x" * (1024 * 1024 + 1024) + b'"}'


def _answers(ctx: CheckContext, exchange: Exchange, status: int, what: str) -> None:
    ctx.expect(
        exchange.status == status, f"{what} answered {exchange.status}, expected {status}", exchange
    )
    problem = shape_problem(ctx.contract, status, exchange.json())
    ctx.expect(problem is None, f"{what}: {problem}", exchange)


@check(
    title="An operation does not answer the status the contract gives it",
    clauses=(
        "view.unknown-404",
        "update.unknown-404",
        "create.id-taken-409",
        "members.body-required-400",
        "errors.too-large-413",
        "errors.malformed-json-400",
        "errors.non-json-415",
        "delete.force-param",
        "delete.400-forms",
    ),
    proven_by=(
        "update_unknown_upserts",
        "child_id_taken_overwrites",
        "no_body_limit",
        "child_force_unchecked",
    ),
)
def statuses_on_every_resource(ctx: CheckContext) -> None:
    """For each resource: view (and, in full, update) of an unknown id 404 and nothing made;
    index with malformed JSON 400, with another media type 415; create with a taken id 409 and
    nothing changed; update without a body 400; delete with force=yes 400 and nothing deleted;
    a body over the limit 413."""
    resources = list(ctx.contract.resources.values())
    for res in resources:
        ghost = ctx.tracker.ghost()
        _answers(
            ctx, ctx.send("GET", res.path("view", ghost)), 404, f"view of an unknown {res.entity}"
        )
        json_type = {"Content-Type": "application/json"}
        malformed = ctx.send("POST", res.path("index"), content=b'{"filter": ', headers=json_type)
        _answers(ctx, malformed, 400, f"{res.entity} index with malformed JSON")
        text = ctx.send(
            "POST", res.path("index"), content=b"per-page=5", headers={"Content-Type": "text/plain"}
        )
        _answers(ctx, text, 415, f"{res.entity} index with a text/plain body")
    root = ctx.contract.root
    _answers(
        ctx,
        ctx.send(
            "POST",
            root.path("index"),
            content=OVERSIZED,
            headers={"Content-Type": "application/json"},
        ),
        413,
        "an index search over 1 MiB",
    )
    if ctx.settings.profile is not Profile.FULL:
        return
    session, made = ctx.new_family(50, children=1)
    records = [(root, session)] + [(ctx.contract.resources[n], rs[0]) for n, rs in made.items()]
    for n, (res, record) in enumerate(records):
        ghost = ctx.tracker.ghost()
        body = ctx.new_body(res, session[root.id_field], 100 + n)
        what = f"update of an unknown {res.entity}"
        _answers(ctx, ctx.send("PUT", res.path("update", ghost), body), 404, what)
        made_it = ctx.send("GET", res.path("view", ghost))
        if made_it.status == 200:
            ctx.tracker.add(res, ghost)
        ctx.expect(made_it.status == 404, f"{what} created it (view {made_it.status})", made_it)
        rid = record[res.id_field]
        before = ctx.view(res, rid).json()
        what = f"create of a {res.entity} with the id of an existing one"
        _answers(ctx, ctx.send("POST", res.path("create"), {**body, res.id_field: rid}), 409, what)
        after = ctx.view(res, rid)
        ctx.expect(after.json() == before, f"{what} was refused but changed it", after)
        what = f"update of a {res.entity} without a body"
        _answers(ctx, ctx.send("PUT", res.path("update", rid)), 400, what)
        what = f"delete of a {res.entity} with force=yes"
        refused = ctx.send("DELETE", res.path("delete", rid), params={"force": "yes"})
        _answers(ctx, refused, 400, what)
        kept = ctx.send("GET", res.path("view", rid))
        ctx.expect(kept.status == 200, f"{what} was refused but deleted it", kept)


@check(
    title="A JSON body that is not an object is not refused with 400",
    clauses=("errors.non-object-body-400",),
    proven_by=("array_body_422",),
    guess="non-object-body-400",
)
def non_object_body_rejected(ctx: CheckContext) -> None:
    """A JSON array as the body of index (and, in full, of create and update) is 400."""
    for res in ctx.contract.resources.values():
        _answers(ctx, ctx.send("POST", res.path("index"), []), 400, f"{res.entity} index with []")
    if ctx.settings.profile is not Profile.FULL:
        return
    root = ctx.contract.root
    _answers(ctx, ctx.send("POST", root.path("create"), [{}]), 400, "create with [{}]")
    own = ctx.tracker.ids(root)
    if own:
        what = "update with [{}]"
        _answers(ctx, ctx.send("PUT", root.path("update", own[0]), [{}]), 400, what)
