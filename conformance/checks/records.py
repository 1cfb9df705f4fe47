"""The life of a record, member by member: which members each answer holds, defaults and ids a
create makes, unknown members and ids on update, null as a value, invalid writes and unknown
references refused without a trace, a day's order, and the joined action fields.

Reads run in both profiles; every write is `full` only and aimed at records the check made (or
at ghost ids), so a refused write that a broken server applies anyway changes only the run's data.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from conformance.checks.errors import shape_problem
from conformance.client import Exchange
from conformance.config import Profile
from conformance.registry import FULL, CheckContext, check
from openapi.model import FieldKind, Resource


def _family(
    ctx: CheckContext, seq: int, children: int = 1
) -> list[tuple[Resource, dict[str, Any]]]:
    """A fresh session of the check with `children` records of each child: (resource, record)."""
    session, made = ctx.new_family(seq, children=children)
    out = [(ctx.contract.root, session)]
    for name, records in made.items():
        out += [(ctx.contract.resources[name], r) for r in records]
    return out


def _members(exchange: Exchange) -> set[str]:
    body = exchange.json()
    return set(body) if isinstance(body, dict) else set()


@check(
    title="An answer does not hold the members the contract gives it",
    clauses=("members.read-answers-full", "members.write-answers-stored", "view.answer"),
    proven_by=("null_dates_omitted", "write_answers_full_record"),
)
def answer_members(ctx: CheckContext) -> None:
    """View and index answer every declared member; create and update exactly the stored ones."""
    for scope in ctx.world.scopes.values():
        res = scope.resource
        page = ctx.fetch(res, {"filter": scope.filter, "per-page": 5})
        for record in page.records:
            missing = sorted(set(res.item_fields) - set(record))
            ctx.expect(
                not missing,
                f"index lists {res.entity} {record.get(res.id_field)} without {', '.join(missing)} (null when unset)",
                page.exchange,
            )
        for record in page.records[:2]:
            viewed = ctx.view(res, str(record.get(res.id_field)))
            missing = sorted(set(res.item_fields) - _members(viewed))
            ctx.expect(
                not missing,
                f"view of {res.entity} answers no {', '.join(missing)} (null when unset)",
                viewed,
            )
    if ctx.settings.profile is not Profile.FULL:
        return
    family = _family(ctx, 40, children=0)
    parent = family[0][1][ctx.contract.root.id_field]
    for n, res in enumerate(ctx.contract.resources.values()):
        body = ctx.new_body(res, parent, 40 + n)
        created = ctx.send("POST", res.path("create"), body)
        record = created.json()
        if isinstance(record, dict) and isinstance(record.get(res.id_field), str):
            ctx.tracker.add(res, record[res.id_field])
        ctx.expect(created.status == 201, f"create answered {created.status}", created)
        stored = set(res.stored_fields)
        got = _members(created)
        ctx.expect(
            got == stored,
            f"create of a {res.entity} answers members {sorted(got - stored)} it should not and "
            f"lacks {sorted(stored - got)}: create answers the stored fields only",
            created,
        )
        viewed = ctx.view(res, record[res.id_field])
        missing = sorted(set(res.item_fields) - _members(viewed))
        ctx.expect(not missing, f"view of a new {res.entity} lacks {missing}", viewed)
        updated = ctx.send(
            "PUT", res.path("update", record[res.id_field]), {"data": {**ctx.settings.marker}}
        )
        got = _members(updated)
        ctx.expect(
            updated.status == 200 and got == stored,
            f"update of a {res.entity} answered {updated.status} with members "
            f"{sorted(got - stored)} it should not and without {sorted(stored - got)}",
            updated,
        )


@check(
    title="A create does not apply the declared defaults or make an id",
    clauses=("create.defaults", "create.server-id"),
    proven_by=("defaults_not_applied",),
    profiles=FULL,
)
def create_applies_defaults(ctx: CheckContext) -> None:
    """Created with only its required members, a record holds the declared defaults, else null,
    under a fresh id the server made."""
    family = _family(ctx, 41, children=0)
    parent = family[0][1][ctx.contract.root.id_field]
    for n, res in enumerate(ctx.contract.resources.values()):
        full = ctx.new_body(res, parent, 50 + n)
        body = {k: v for k, v in full.items() if k in res.required_on_create}
        body["data"] = dict(ctx.settings.marker)
        defaults = res.defaults
        ids = []
        for _ in range(2):
            record = ctx.create(res, dict(body))
            ids.append(record[res.id_field])
            for viewed_from, got in (("create", record), ("view", ctx.view(res, ids[-1]).json())):
                wrong = {
                    name: got.get(name, "<absent>")
                    for name in res.stored_fields
                    if name not in body
                    and name != res.id_field
                    and got.get(name, "<absent>") != defaults.get(name)
                }
                ctx.expect(
                    not wrong,
                    f"{viewed_from} of a {res.entity} created without {sorted(wrong)}: "
                    f"{wrong}, expected { ({k: defaults.get(k) for k in wrong}) }",
                )
        ctx.expect(
            all(isinstance(i, str) and i for i in ids) and ids[0] != ids[1],
            f"two creates of a {res.entity} without an id were given ids {ids}, expected two fresh ones",
        )


@check(
    title="An unknown member or an id sent on update was not ignored",
    clauses=("members.unknown-ignored", "update.id-fixed"),
    proven_by=("unknown_member_rejected", "update_renames_id"),
    profiles=FULL,
)
def unknown_members_ignored(ctx: CheckContext) -> None:
    """Unknown members change nothing on create and update; an id member sent on update neither."""
    unknown = f"no_such_member_{ctx.settings.run_id}".replace("-", "_")
    family = _family(ctx, 42, children=0)
    parent = family[0][1][ctx.contract.root.id_field]
    for n, res in enumerate(ctx.contract.resources.values()):
        body = {**ctx.new_body(res, parent, 60 + n), unknown: "x"}
        created = ctx.send("POST", res.path("create"), body)
        record = created.json()
        if isinstance(record, dict) and isinstance(record.get(res.id_field), str):
            ctx.tracker.add(res, record[res.id_field])
        ctx.expect(
            created.status == 201,
            f"create of a {res.entity} with an unknown member answered {created.status}, expected 201",
            created,
        )
        rid = record[res.id_field]
        ctx.expect(unknown not in _members(ctx.view(res, rid)), "an unknown member was stored")
        ghost = ctx.tracker.ghost()
        updated = ctx.send("PUT", res.path("update", rid), {unknown: "y", res.id_field: ghost})
        ctx.expect(
            updated.status == 200,
            f"update of a {res.entity} with an unknown member and an id answered {updated.status}, expected 200",
            updated,
        )
        still = ctx.send("GET", res.path("view", rid))
        moved = ctx.send("GET", res.path("view", ghost))
        if moved.status == 200:  # renamed after all: the run's cleanup must find it there
            ctx.tracker.add(res, ghost)
        ctx.expect(
            still.status == 200 and moved.status == 404,
            f"after an update sending {res.id_field}={ghost!r}, view of the old id answered "
            f"{still.status} and of the new one {moved.status}: the id cannot be changed",
            moved if moved.status != 404 else still,
        )
        ctx.expect(unknown not in _members(still), "an unknown member was stored by update", still)


@check(
    title="An update sending null did not store null",
    clauses=("update.null-clears",),
    proven_by=("update_null_ignored",),
    profiles=FULL,
)
def update_null_clears(ctx: CheckContext) -> None:
    """null sent for a nullable member that holds a value is stored and answered as null."""
    for res, record in _family(ctx, 43):
        rid = record[res.id_field]
        current = ctx.view(res, rid).json()
        for name, kind in res.writable.items():
            # `data` holds the run's marker, which the sweep at the end looks for.
            if not kind.nullable or name == "data" or current.get(name) is None:
                continue
            updated = ctx.send("PUT", res.path("update", rid), {name: None})
            answered = updated.json()
            ctx.expect(
                updated.status == 200 and isinstance(answered, dict) and answered.get(name) is None,
                f"update of {res.entity} {name} to null answered {updated.status} with "
                f"{name}={answered.get(name) if isinstance(answered, dict) else answered!r}",
                updated,
            )
            viewed = ctx.view(res, rid)
            ctx.expect(
                viewed.json().get(name) is None,
                f"after an update of {name} to null, view shows {viewed.json().get(name)!r}",
                viewed,
            )


def _refused(ctx: CheckContext, exchange: Exchange, what: str, member: str) -> None:
    """`exchange` must be a 422 whose entries name `member`."""
    ctx.expect(exchange.status == 422, f"{what} answered {exchange.status}, expected 422", exchange)
    body = exchange.json()
    problem = shape_problem(ctx.contract, 422, body)
    ctx.expect(problem is None, f"{what}: {problem}", exchange)
    ctx.expect(
        any(member in f"{e.get('field')} {e.get('message')}" for e in body),
        f"{what}: no entry of the 422 names {member}",
        exchange,
    )


def _unchanged(ctx: CheckContext, res: Resource, rid: str, before: Any, what: str) -> None:
    after = ctx.view(res, rid)
    ctx.expect(after.json() == before, f"{what} was refused but changed the record", after)


def _not_created(ctx: CheckContext, res: Resource, rid: str, what: str) -> None:
    viewed = ctx.send("GET", res.path("view", rid))
    if viewed.status == 200:
        ctx.tracker.add(res, rid)
    ctx.expect(viewed.status == 404, f"{what} was refused but made {rid}", viewed)


def _bad_values(kind: FieldKind, sample: Any, minimum: float | None) -> list[Any]:
    """Values of a member the contract refuses: the wrong type, outside its enum or below its
    minimum, and null when it is not nullable."""
    bad: list[Any] = []
    if kind.kind != "object":
        bad.append("not-a-number" if isinstance(sample, int) or kind.kind == "integer" else 12345)
    if kind.enum:
        outside = "NOT_A_MEMBER" if kind.kind == "string" else max(kind.enum) + 1
        bad.append(outside)
    if minimum is not None:
        bad.append(int(minimum) - 1)
    if not kind.nullable:
        bad.append(None)
    return bad


@check(
    title="An invalid write was accepted or left a trace",
    clauses=("members.invalid-422", "errors.validation-shape", "errors.validation-complete"),
    proven_by=("null_not_nullable_stored", "validation_first_problem_only"),
    profiles=FULL,
)
def invalid_writes_rejected(ctx: CheckContext) -> None:
    """A missing required member, a member of the wrong type, or null where none is allowed:
    422 naming the member, and nothing created or changed."""
    family = _family(ctx, 44)
    parent = family[0][1][ctx.contract.root.id_field]
    for n, (res, record) in enumerate(family):
        rid = record[res.id_field]
        body = ctx.new_body(res, parent, 70 + n)
        for name in res.required_on_create:
            chosen = ctx.tracker.ghost()
            sent = {k: v for k, v in body.items() if k != name}
            sent[res.id_field] = chosen
            what = f"create of a {res.entity} without {name}"
            _refused(ctx, ctx.send("POST", res.path("create"), sent), what, name)
            _not_created(ctx, res, chosen, what)
        # Every problem of a request is listed, not only the first one found.
        chosen = ctx.tracker.ghost()
        what = f"create of a {res.entity} without any required member"
        answer = ctx.send(
            "POST", res.path("create"), {res.id_field: chosen, "data": ctx.settings.marker}
        )
        for name in res.required_on_create:
            _refused(ctx, answer, what, name)
        _not_created(ctx, res, chosen, what)
        required = next(n for n in res.required_on_create if n != res.id_field)
        chosen = ctx.tracker.ghost()
        what = f"create of a {res.entity} with {required} null"
        sent = {**body, required: None, res.id_field: chosen}
        _refused(ctx, ctx.send("POST", res.path("create"), sent), what, required)
        _not_created(ctx, res, chosen, what)
        before = ctx.view(res, rid).json()
        lowest = {n: f.minimum for n, f in res.updatable.items() if f.minimum is not None}
        for name, kind in res.writable.items():
            if name == res.id_field:
                continue
            for bad in _bad_values(kind, body.get(name), lowest.get(name)):
                what = f"update of {res.entity} {name} to {bad!r}"
                _refused(ctx, ctx.send("PUT", res.path("update", rid), {name: bad}), what, name)
                _unchanged(ctx, res, rid, before, what)


@check(
    title="A reference to a record that does not exist was accepted",
    clauses=("members.unknown-reference-422",),
    proven_by=("move_to_unknown_parent_accepted",),
    profiles=FULL,
)
def unknown_reference_rejected(ctx: CheckContext) -> None:
    """Creating under, or moving to, a session that does not exist is 422 and changes nothing."""
    family = _family(ctx, 45)
    parent = family[0][1][ctx.contract.root.id_field]
    for n, (res, record) in enumerate(family):
        if res.parent_field is None:
            continue
        ghost_parent = ctx.tracker.ghost()
        chosen = ctx.tracker.ghost()
        body = {**ctx.new_body(res, parent, 80 + n), res.parent_field: ghost_parent}
        body[res.id_field] = chosen
        what = f"create of a {res.entity} under an unknown {res.parent_field}"
        _refused(ctx, ctx.send("POST", res.path("create"), body), what, res.parent_field)
        _not_created(ctx, res, chosen, what)
        rid = record[res.id_field]
        before = ctx.view(res, rid).json()
        what = f"moving a {res.entity} to an unknown {res.parent_field}"
        moved = ctx.send("PUT", res.path("update", rid), {res.parent_field: ghost_parent})
        _refused(ctx, moved, what, res.parent_field)
        _unchanged(ctx, res, rid, before, what)
    root = ctx.contract.root
    references = [n for n in ("action_id",) if n in root.writable]
    session = family[0][1]
    before = ctx.view(root, session[root.id_field]).json()
    for name in references:
        what = f"update of a {root.entity} to an unknown {name}"
        updated = ctx.send(
            "PUT", root.path("update", session[root.id_field]), {name: ctx.tracker.ghost()}
        )
        _refused(ctx, updated, what, name)
        _unchanged(ctx, root, session[root.id_field], before, what)


@check(
    title="A day that ends before it begins was accepted",
    clauses=("day.order-422",),
    proven_by=("day_order_unchecked_on_update",),
    profiles=FULL,
)
def day_order_enforced(ctx: CheckContext) -> None:
    """A create or an update that would make a day end before it begins is 422 and changes
    nothing."""
    for res, record in _family(ctx, 46):
        kinds = {n: k.kind for n, k in res.writable.items()}
        if kinds.get("date_begin") != "date-time" or kinds.get("date_end") != "date-time":
            continue
        parent = record[res.parent_field or ""]
        chosen = ctx.tracker.ghost()
        body = {
            **ctx.new_body(res, parent, 90),
            res.id_field: chosen,
            "date_begin": "2024-05-02T09:00:00Z",
            "date_end": "2024-05-01T17:00:00Z",
        }
        what = f"create of a {res.entity} ending before it begins"
        _refused(ctx, ctx.send("POST", res.path("create"), body), what, "date_")
        _not_created(ctx, res, chosen, what)
        rid = record[res.id_field]
        before = ctx.view(res, rid).json()
        what = f"update of a {res.entity}'s date_end to before its date_begin"
        updated = ctx.send("PUT", res.path("update", rid), {"date_end": "2000-01-01T00:00:00Z"})
        _refused(ctx, updated, what, "date_")
        _unchanged(ctx, res, rid, before, what)


@check(
    title="Joined action fields disagree with the record they are joined from",
    clauses=("session.joined", "day.joined"),
    proven_by=("day_joins_wrong_column",),
)
def joined_fields_consistent(ctx: CheckContext) -> None:
    """Sessions of one action show the same action fields; a day shows its session's."""
    root = ctx.contract.root
    joined = [n for n in root.read_only if n.startswith("action_")]
    scope = ctx.world.scopes[root.name]
    sessions = ctx.fetch(root, {"filter": scope.filter, "per-page": 50})
    by_action: dict[Any, set[tuple[Any, ...]]] = defaultdict(set)
    for record in sessions.records:
        by_action[record.get("action_id")].add(tuple(record.get(n) for n in joined))
    for action, seen in by_action.items():
        ctx.expect(
            len(seen) == 1,
            f"sessions of action {action!r} show different {', '.join(joined)}: {sorted(map(str, seen))}",
            sessions.exchange,
        )
    for child in ctx.contract.children(root):
        copied = [n for n in child.read_only if n in root.item_fields or n == "action_id"]
        if not copied or child.name not in ctx.world.scopes:
            continue
        page = ctx.fetch(child, {"filter": ctx.world.scopes[child.name].filter, "per-page": 5})
        for record in page.records:
            session = ctx.view(root, str(record.get(child.parent_field or ""))).json()
            differ = {
                n: (record.get(n), session.get(n))
                for n in copied
                if record.get(n) != session.get(n)
            }
            ctx.expect(
                not differ,
                f"{child.entity} {record.get(child.id_field)} shows (its value, its session's): {differ}",
                page.exchange,
            )
