"""Filter: exact equality on each given field, ANDed; null and "" ignored; unknown keys ignored;
values of the wrong type or outside the enum rejected with 422.

Filter fields and their kinds come from the spec's `*Filter` schemas. Assertions about exact
membership are made only about the run's own records (or all records of an exact scope).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance import index, values
from conformance.registry import CheckContext, check
from conformance.world import Scope
from openapi.model import FieldKind


def _candidates(
    ctx: CheckContext, scope: Scope
) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The scope's records and the (field, value) conditions worth filtering on."""
    whole = ctx.all_records(scope.resource, {"filter": scope.filter})
    records = whole.records
    own = [r for r in records if scope.is_own(r)]
    pairs: list[tuple[str, Any]] = []
    for name, kind in scope.resource.filter_fields.items():
        if name in scope.filter or kind.kind == "object":
            continue
        for value in {
            repr(r.get(name)): r.get(name) for r in own if r.get(name) not in (None, "")
        }.values():
            pairs.append((name, value))
    return records, pairs


def _one_per_field(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Every filterable field once (then Hypothesis draws more values)."""
    first: dict[str, tuple[str, Any]] = {}
    for name, value in pairs:
        first.setdefault(name, (name, value))
    return list(first.values())


def _filtered(ctx: CheckContext, scope: Scope, name: str, value: Any) -> index.Walk:
    return ctx.all_records(scope.resource, {"filter": {**scope.filter, name: value}})


@check(
    title="A filtered record does not match the filter",
    clauses=("filter.exact-and",),
    proven_by=("filter_ignored",),
)
def filter_matches(ctx: CheckContext) -> None:
    """Every record a filtered index returns has the filtered value."""
    for scope in ctx.world.scopes.values():
        _filter_matches_in(ctx, scope)


def _filter_matches_in(ctx: CheckContext, scope: Scope) -> None:
    _, pairs = _candidates(ctx, scope)
    if pairs:

        def prop(pair: tuple[str, Any]) -> None:
            name, value = pair
            kind = scope.resource.filter_fields[name]
            result = _filtered(ctx, scope, name, value)
            # The probed field first: a server that ignores filters is then reported for the
            # field the property probed, whatever other clients' (or checks') records it lists.
            wanted_values = {name: value, **{k: v for k, v in scope.filter.items() if k != name}}
            for record in result.records:
                for key, wanted in wanted_values.items():
                    if not values.matches(
                        scope.resource.filter_fields.get(key, kind),
                        record.get(key),
                        wanted,
                        loose=True,
                    ):
                        ctx.fail(
                            f"filter {key}={wanted!r} listed {record.get(scope.resource.id_field)!r} with {key}={record.get(key)!r}",
                            result.pages[-1].exchange,
                        )

        for pair in _one_per_field(pairs):
            prop(pair)
        ctx.property(prop, st.sampled_from(pairs))


@check(
    title="A filter result is not the matching part of the unfiltered result",
    clauses=("filter.complete",),
    proven_by=("filter_drops_last",),
)
def filter_complete(ctx: CheckContext) -> None:
    """A filtered index lists every matching record of the unfiltered index."""
    for scope in ctx.world.scopes.values():
        _filter_complete_in(ctx, scope)


def _filter_complete_in(ctx: CheckContext, scope: Scope) -> None:
    records, pairs = _candidates(ctx, scope)
    if pairs:

        def prop(pair: tuple[str, Any]) -> None:
            name, value = pair
            kind = scope.resource.filter_fields[name]
            id_field = scope.resource.id_field
            strict = {
                r.get(id_field)
                for r in records
                if scope.is_own(r) and values.matches(kind, r.get(name), value, loose=False)
            }
            loose = {
                r.get(id_field)
                for r in records
                if values.matches(kind, r.get(name), value, loose=True)
            }
            result = _filtered(ctx, scope, name, value)
            got = {r.get(id_field) for r in result.records}
            exchange = result.pages[-1].exchange
            missing = strict - got if result.complete else set()
            ctx.expect(
                not missing,
                f"filter {name}={value!r} left out matching records {sorted(map(str, missing))}",
                exchange,
            )
            if scope.exact and result.complete:
                extra = got - loose
                ctx.expect(
                    not extra,
                    f"filter {name}={value!r} listed records that do not match: {sorted(map(str, extra))}",
                    exchange,
                )

        for pair in _one_per_field(pairs):
            prop(pair)
        ctx.property(prop, st.sampled_from(pairs))


def _total(ctx: CheckContext, scope: Scope, body_filter: dict[str, Any]) -> index.Page:
    return ctx.fetch(
        scope.resource,
        index.search(
            body_filter, per_page=ctx.contract.pagination.max_per_page, sort=scope.resource.id_field
        ),
    )


@check(
    title="A null or empty filter value is not ignored",
    clauses=("filter.blank-ignored",),
    proven_by=("empty_filter_matches",),
)
def filter_empty_values_ignored(ctx: CheckContext) -> None:
    """Filters of only null or "" values give the unfiltered result."""
    for scope in ctx.world.scopes.values():
        base = _total(ctx, scope, scope.filter)
        for blank in (None, ""):
            extra = {n: blank for n in scope.resource.filter_fields if n not in scope.filter}
            page = _total(ctx, scope, {**scope.filter, **extra})
            ctx.expect(
                page.total == base.total
                and [r.get(scope.resource.id_field) for r in page.records]
                == [r.get(scope.resource.id_field) for r in base.records],
                f"every other filter key set to {blank!r}: {page.total} records, without them {base.total}",
                page.exchange,
            )


@check(
    title="An unknown filter key is not ignored",
    clauses=("filter.unknown-key-ignored",),
    proven_by=("unknown_filter_rejected",),
)
def filter_unknown_key_ignored(ctx: CheckContext) -> None:
    """A filter key the resource does not have changes nothing."""
    for scope in ctx.world.scopes.values():
        base = _total(ctx, scope, scope.filter)
        page = _total(ctx, scope, {**scope.filter, f"no_such_field_{ctx.settings.run_id}": "x"})
        ctx.expect(
            page.exchange.status == 200 and page.total == base.total,
            f"an unknown key gave {page.total} records, without it {base.total}",
            page.exchange,
        )


def wrong_value(kind: FieldKind) -> Any:
    """A value the filter schema of `kind` rejects: the wrong JSON type, format or enum member."""
    if kind.enum is not None and kind.kind == "string":
        return "NOT_A_MEMBER"
    if kind.kind in ("date", "date-time"):
        return "AAA"
    if kind.kind == "integer":
        return "not-a-number"
    return True


@check(
    title="A filter value of the wrong type is accepted",
    clauses=("filter.wrong-type-422",),
    proven_by=("filter_type_unchecked",),
)
def filter_wrong_type_rejected(ctx: CheckContext) -> None:
    """Each filter field given a malformed value answers 422 with the validation shape."""
    for scope in ctx.world.scopes.values():
        for name, kind in scope.resource.filter_fields.items():
            bad = wrong_value(kind)
            exchange = ctx.send("POST", scope.resource.path("index"), {"filter": {name: bad}})
            ctx.expect(
                exchange.status == 422,
                f"filter {name}={bad!r} answered {exchange.status}, expected 422",
                exchange,
            )
            # The status was right: a failure now is the body's, and says so.
            body = exchange.json()
            ctx.expect(
                isinstance(body, list),
                f"filter {name}={bad!r} answered 422 as expected, but its body is "
                f"{type(body).__name__ if body is not None else 'not JSON'}, not the contract's "
                "array of validation errors",
                exchange,
            )
