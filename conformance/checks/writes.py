"""Read-your-writes: create, view, list and partial update agree with what was sent; read-only
members are ignored; child records move their parent's counts and dates at once.

Profile `full` only: every record written here is the run's own, made for the check.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from conformance import values
from conformance.registry import FULL, CheckContext, check
from openapi.model import Resource


def _differences(res: Resource, sent: dict[str, Any], got: Any) -> list[str]:
    if not isinstance(got, dict):
        return ["the body is not a JSON object"]
    out = []
    for name, value in sent.items():
        if name not in res.stored_fields:
            continue
        kind = res.writable.get(name) or res.item_fields[name]
        if name not in got or not values.same(kind, got[name], value):
            out.append(f"{name}: sent {value!r}, got {got.get(name, '<absent>')!r}")
    return out


@check(
    title="A created record is not stored as sent",
    clauses=("create.answer", "create.location", "create.listed"),
    proven_by=("create_drops_field", "create_not_listed", "location_missing"),
    profiles=FULL,
)
def create_read_back(ctx: CheckContext) -> None:
    """Create answers, view, Location and index agree with the body sent, for each resource."""
    session, _ = ctx.new_family(1)
    parent = session[ctx.contract.root.id_field]
    for res in ctx.contract.resources.values():
        sent = ctx.new_body(res, parent, 1)
        sent[res.id_field] = f"{ctx.settings.run_id}-rb-{res.entity[-4:].lower()}"
        exchange = ctx.send("POST", res.path("create"), sent)
        body = exchange.json()
        if isinstance(body, dict) and isinstance(body.get(res.id_field), str):
            ctx.tracker.add(res, body[res.id_field])
        ctx.expect(
            exchange.status == 201, f"create answered {exchange.status}, expected 201", exchange
        )
        diff = _differences(res, sent, body)
        ctx.expect(
            not diff, "the create answer differs from the body sent: " + "; ".join(diff), exchange
        )
        record_id = sent[res.id_field]
        location = exchange.headers.get("location", "")
        ctx.expect(
            location.split("?")[0].endswith(res.path("view", record_id)),
            f"Location is {location!r}, expected {res.path('view', record_id)}",
            exchange,
        )
        viewed = ctx.view(res, record_id)
        diff = _differences(res, sent, viewed.json())
        ctx.expect(not diff, "view differs from the body sent: " + "; ".join(diff), viewed)
        listed = ctx.fetch(res, {"filter": {res.id_field: record_id}})
        ctx.expect(
            len(listed.records) == 1,
            f"index filtered by {res.id_field}={record_id!r} listed {len(listed.records)} records, expected the new one",
            listed.exchange,
        )
        diff = _differences(res, sent, listed.records[0])
        ctx.expect(
            not diff, "index differs from the body sent: " + "; ".join(diff), listed.exchange
        )


def _changed_value(res: Resource, name: str, current: Any) -> Any:
    kind = res.writable[name]
    if kind.enum:
        return next(v for v in kind.enum if v != current)
    if kind.kind == "integer":
        return (current or 0) + 1
    if kind.kind == "object":
        return {**(current or {}), "changed": True}
    if kind.kind == "date":
        return "2023-03-03" if current != "2023-03-03" else "2023-04-04"
    if kind.kind == "date-time" and isinstance(current, str):
        # Earlier begins and later ends keep a day ending no earlier than it begins.
        moved = datetime.fromisoformat(current.replace("Z", "+00:00"))
        moved += timedelta(days=-1 if "begin" in name else 1)
        return moved.isoformat().replace("+00:00", "Z")
    # Valid JSON too, since some string fields hold JSON-encoded values.
    return json.dumps(f"changed-{str(current)[:40]}")


def _update_fields(res: Resource) -> list[str]:
    """Writable fields an update can change without breaking references or date order."""
    fixed = {
        res.id_field,
        res.parent_field,
        "action_id",
        "tenant_id",
        "subtenant_id",
        "action_subscription_id",
    }
    return [n for n, k in res.writable.items() if n not in fixed]


def _update_each(ctx: CheckContext, judge: str) -> None:
    session, made = ctx.new_family(2 if judge == "stored" else 3, children=1)
    records = [(ctx.contract.root, session)] + [
        (ctx.contract.resources[n], rs[0]) for n, rs in made.items()
    ]
    for res, record in records:
        record_id = record[res.id_field]
        for name in _update_fields(res)[:5]:
            before = ctx.view(res, record_id).json()
            sent = {name: _changed_value(res, name, before.get(name))}
            if name == "data":
                sent[name] = {**ctx.settings.marker, **sent[name]}
            exchange = ctx.send("PUT", res.path("update", record_id), sent)
            ctx.expect(
                exchange.status == 200,
                f"update of {sent} answered {exchange.status}, expected 200",
                exchange,
            )
            after = ctx.view(res, record_id)
            if judge == "stored":
                diff = _differences(res, sent, exchange.json())
                ctx.expect(
                    not diff,
                    "the update answer does not hold what was sent: " + "; ".join(diff),
                    exchange,
                )
                diff = _differences(res, sent, after.json())
                ctx.expect(
                    not diff,
                    "view after update does not hold what was sent: " + "; ".join(diff),
                    after,
                )
            else:
                unchanged = {
                    k: v for k, v in before.items() if k in res.stored_fields and k not in sent
                }
                diff = _differences(res, unchanged, after.json())
                ctx.expect(
                    not diff,
                    f"update sent only {sorted(sent)} but changed: " + "; ".join(diff),
                    after,
                )


@check(
    title="An update does not store what was sent",
    clauses=("update.answer",),
    proven_by=("update_ignored",),
    profiles=FULL,
)
def update_stores_sent(ctx: CheckContext) -> None:
    """Each updatable field, sent alone, is stored and answered."""
    _update_each(ctx, "stored")


@check(
    title="A partial update changed fields that were not sent",
    clauses=("update.partial",),
    proven_by=("update_wipes_unsent",),
    profiles=FULL,
)
def update_is_partial(ctx: CheckContext) -> None:
    """Sending one field leaves every other stored field as it was."""
    _update_each(ctx, "partial")


def _junk(res: Resource) -> dict[str, Any]:
    """A value of the right type for every read-only field, unlikely to be the computed one."""
    out: dict[str, Any] = {}
    for name in res.read_only:
        kind = res.item_fields[name]
        if kind.enum:
            out[name] = kind.enum[-1]
        elif kind.kind == "integer":
            out[name] = 987
        elif kind.kind == "date":
            out[name] = "1999-09-09"
        elif kind.kind == "date-time":
            out[name] = "1999-09-09T09:09:09Z"
        else:
            out[name] = "client-sent"
    return out


@check(
    title="A read-only field sent by a client was stored",
    clauses=("members.read-only-ignored",),
    proven_by=("readonly_accepted",),
    profiles=FULL,
)
def read_only_ignored(ctx: CheckContext) -> None:
    """Records created or updated with read-only members equal twins created without them."""
    session, _ = ctx.new_family(4)
    parent = session[ctx.contract.root.id_field]
    for res in ctx.contract.resources.values():
        if not res.read_only:
            continue
        body = ctx.new_body(res, parent, 6)
        twin = ctx.create(res, dict(body))
        junk = _junk(res)
        with_junk = ctx.create(res, {**body, **junk})
        reference = ctx.view(res, twin[res.id_field]).json()
        viewed = ctx.view(res, with_junk[res.id_field])
        diff = [
            f"{n}: sent {junk[n]!r}, stored {viewed.json().get(n)!r}, expected {reference.get(n)!r}"
            for n in res.read_only
            if viewed.json().get(n) != reference.get(n)
        ]
        ctx.expect(not diff, "create kept read-only members: " + "; ".join(diff), viewed)
        exchange = ctx.send("PUT", res.path("update", with_junk[res.id_field]), junk)
        ctx.expect(
            exchange.status == 200,
            f"update with only read-only members answered {exchange.status}, expected 200 (they are ignored)",
            exchange,
        )
        viewed = ctx.view(res, with_junk[res.id_field])
        diff = [
            f"{n}: stored {viewed.json().get(n)!r}, expected {reference.get(n)!r}"
            for n in res.read_only
            if viewed.json().get(n) != reference.get(n)
        ]
        ctx.expect(not diff, "update kept read-only members: " + "; ".join(diff), viewed)


def _expected_parent(subs: list[dict[str, Any]], days: list[dict[str, Any]]) -> dict[str, Any]:
    """The brief's computed session fields for these subscriptions and days."""

    def instant(v: str) -> datetime:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))

    return {
        "count_subscribed": len(subs),
        "count_done": sum(1 for s in subs if s.get("done") == 1),
        "count_fail": sum(1 for s in subs if s.get("done") == 0),
        "count_unknown": sum(1 for s in subs if s.get("done", -1) == -1),
        "date_begin": min((instant(d["date_begin"]) for d in days), default=None),
        "date_end": max((instant(d["date_end"]) for d in days), default=None),
    }


@check(
    title="A session's counts or dates do not follow its subscriptions and days",
    clauses=("children.parent-follows", "session.counts", "session.dates"),
    proven_by=("counts_not_updated", "dates_not_updated"),
    profiles=FULL,
)
def parent_follows_children(ctx: CheckContext) -> None:
    """Counts and dates of a session track each change to its children."""
    root = ctx.contract.root
    session, _ = ctx.new_family(5)
    sid = session[root.id_field]
    subs_res = next((r for r in ctx.contract.children(root) if "done" in r.writable), None)
    days_res = next((r for r in ctx.contract.children(root) if "date_end" in r.writable), None)
    state: dict[str, dict[str, dict[str, Any]]] = {"subs": {}, "days": {}}

    def verify(
        step: str,
        session: str = sid,
        children: dict[str, dict[str, dict[str, Any]]] | None = None,
    ) -> None:
        now = children if children is not None else state
        expected = _expected_parent(list(now["subs"].values()), list(now["days"].values()))
        viewed = ctx.view(root, session)
        got = viewed.json()
        for name, want in expected.items():
            if name not in got:
                continue
            have = got[name]
            if isinstance(want, datetime):
                ok = isinstance(have, str) and have[:10] == want.date().isoformat()
                want = want.date().isoformat()
            else:
                ok = have == want
            ctx.expect(ok, f"after {step}: {name} is {have!r}, expected {want!r}", viewed)

    verify("creating a session with nothing related")
    if subs_res is not None:
        for n, done in enumerate((1, -1, 0, 1)):
            body = {**ctx.new_body(subs_res, sid, 40 + n), "done": done}
            made = ctx.create(subs_res, body)
            state["subs"][made[subs_res.id_field]] = {"done": done}
        verify("adding subscriptions")
        first = next(iter(state["subs"]))
        exchange = ctx.send("PUT", subs_res.path("update", first), {"done": 0})
        ctx.expect(exchange.status == 200, f"update answered {exchange.status}", exchange)
        state["subs"][first] = {"done": 0}
        verify("changing a subscription's done from 1 to 0")
        exchange = ctx.send("DELETE", subs_res.path("delete", first))
        ctx.expect(exchange.status == 204, f"delete answered {exchange.status}", exchange)
        del state["subs"][first]
        verify("removing a subscription")
        other, _ = ctx.new_family(6)
        moved = next(iter(state["subs"]))
        field = subs_res.parent_field or "action_session_id"
        exchange = ctx.send("PUT", subs_res.path("update", moved), {field: other[root.id_field]})
        ctx.expect(exchange.status == 200, f"update answered {exchange.status}", exchange)
        moved_state = state["subs"].pop(moved)
        verify("moving a subscription to another session")
        verify(
            "moving a subscription here from another session",
            other[root.id_field],
            {"subs": {moved: moved_state}, "days": {}},
        )
    if days_res is not None:
        for n, (begin, end) in enumerate(
            (
                ("2024-03-05T09:00:00Z", "2024-03-05T17:00:00Z"),
                ("2024-03-01T09:00:00Z", "2024-03-02T12:00:00Z"),
            )
        ):
            body = {
                **ctx.new_body(days_res, sid, 50 + n),
                "date_begin": begin,
                "date_end": end,
            }
            made = ctx.create(days_res, body)
            state["days"][made[days_res.id_field]] = {"date_begin": begin, "date_end": end}
        verify("adding days")
        first = next(iter(state["days"]))
        change = {"date_end": "2024-03-09T10:00:00Z"}
        exchange = ctx.send("PUT", days_res.path("update", first), change)
        ctx.expect(exchange.status == 200, f"update answered {exchange.status}", exchange)
        state["days"][first].update(change)
        verify("moving a day's end later")
        elsewhere, _ = ctx.new_family(7)
        field = days_res.parent_field or "action_session_id"
        exchange = ctx.send(
            "PUT", days_res.path("update", first), {field: elsewhere[root.id_field]}
        )
        ctx.expect(exchange.status == 200, f"update answered {exchange.status}", exchange)
        moved_day = state["days"].pop(first)
        verify("moving a day to another session")
        verify(
            "moving a day here from another session",
            elsewhere[root.id_field],
            {"subs": {}, "days": {first: moved_day}},
        )
        for day in list(state["days"]):
            exchange = ctx.send("DELETE", days_res.path("delete", day))
            ctx.expect(exchange.status == 204, f"delete answered {exchange.status}", exchange)
            del state["days"][day]
            verify("removing a day")
