"""Comparing two schemas keyword by keyword, from one side of the exchange.

Owns what a schema pair's own keywords mean for clients: type and format, nullability, enums,
request defaults, constraints (bounds, lengths, pattern, multipleOf, uniqueItems), members
(`properties`, `required`, readOnly/writeOnly) and `additionalProperties`. Composition (`allOf`,
`anyOf`, `oneOf`, `not`, discriminators) is `openapi.diff.composition`'s; inner pairs (members,
items) go back to `Comparison.compare_schema`, which compares each pair once per side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openapi.diff.composition import CompositionComparison
from openapi.diff.engine import Comparison
from openapi.diff.nodes import Node, Side, as_list, at, mapping, number, show


def is_widening_type(old: set[str] | None, new: set[str] | None) -> bool:
    """Whether every value of a type in `old` is also of a type in `new` (None: any type)."""
    if new is None:
        return True
    if old is None:
        return False
    return all(t in new or (t == "integer" and "number" in new) for t in old)


def types(schema: Mapping[str, Any]) -> set[str] | None:
    """The types a schema declares (None: any type), null left to `nullable`."""
    declared = schema.get("type")
    if declared is None:
        return None
    if isinstance(declared, list):  # OpenAPI 3.1 spelling; null is nullability, handled apart.
        return {str(t) for t in declared if t != "null"}
    return {str(declared)}


def nullable(schema: Mapping[str, Any]) -> bool:
    """Whether a schema admits null (`nullable: true`, or 3.1's `type: [..., "null"]`)."""
    declared = schema.get("type")
    return schema.get("nullable") is True or (isinstance(declared, list) and "null" in declared)


LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")


class SchemaComparison:
    """Compares the keywords of schema pairs for one `Comparison`."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.composition = CompositionComparison(comparison)

    def compare_body(self, old: Node, new: Node, side: Side) -> None:
        """Compare the keywords of one schema pair (its inner pairs go back to the engine)."""
        if not isinstance(old.value, dict) or not isinstance(new.value, dict):
            if old.value != new.value:
                self.comparison.report(
                    "type-changed",
                    new.pointer,
                    f"schema {show(old.value)} is now {show(new.value)}",
                )
            return
        if not self.composition.compare(old, new, side):
            return
        if not self._compare_type(old, new, side):
            return
        self._compare_nullable(old, new, side)
        self._compare_enum(old, new, side)
        if side == "request":
            self._compare_default(old, new)
        self._compare_constraints(old, new, side)
        self._compare_properties(old, new, side)
        self._compare_additional_properties(old, new, side)
        if "items" in old.value or "items" in new.value:
            self.comparison.compare_schema(
                # A missing `items` allows anything; it is compared as `{}` at the array itself.
                Node(
                    old.value.get("items", {}),
                    at(old, "items") if "items" in old.value else old.pointer,
                ),
                Node(
                    new.value.get("items", {}),
                    at(new, "items") if "items" in new.value else new.pointer,
                ),
                side,
            )

    def _compare_type(self, old: Node, new: Node, side: Side) -> bool:
        """Compare type and format; False when the type changed beyond comparing anything else."""
        old_types, new_types = types(old.value), types(new.value)
        pointer = at(new, "type") if "type" in new.value else new.pointer
        if old_types != new_types:
            message = f"type {show(old.value.get('type'))} is now {show(new.value.get('type'))}"
            widened = is_widening_type(old_types, new_types)
            narrowed = is_widening_type(new_types, old_types)
            if widened:
                self.comparison.by_side(
                    side, "request-type-widened", "response-type-widened", pointer, message
                )
            elif narrowed:
                self.comparison.by_side(
                    side, "request-type-narrowed", "response-type-narrowed", pointer, message
                )
            else:
                self.comparison.report("type-changed", pointer, message)
                return False
        old_format, new_format = old.value.get("format"), new.value.get("format")
        if old_format != new_format:
            message = changed("format", old_format, new_format)
            if old_format is None:
                self.comparison.by_side(
                    side,
                    "request-format-added",
                    "response-format-added",
                    at(new, "format"),
                    message,
                )
            elif new_format is None:
                self.comparison.by_side(
                    side, "request-format-removed", "response-format-removed", new.pointer, message
                )
            else:
                self.comparison.report("format-changed", at(new, "format"), message)
        return True

    def _compare_nullable(self, old: Node, new: Node, side: Side) -> None:
        old_null, new_null = nullable(old.value), nullable(new.value)
        if old_null and not new_null:
            self.comparison.by_side(
                side,
                "request-nullable-removed",
                "response-nullable-removed",
                new.pointer,
                "null is no longer allowed",
            )
        elif new_null and not old_null:
            pointer = at(new, "nullable") if "nullable" in new.value else new.pointer
            self.comparison.by_side(
                side,
                "request-nullable-added",
                "response-nullable-added",
                pointer,
                "null is now allowed",
            )

    def _compare_enum(self, old: Node, new: Node, side: Side) -> None:
        # null in an enum only restates `nullable` (OpenAPI 3.0 needs both); nullability is
        # compared on its own, so it is left out here rather than reported twice.
        def values(schema: Mapping[str, Any]) -> dict[str, Any] | None:
            listed = schema.get("enum")
            if not isinstance(listed, list):
                return None
            return {show(v): v for v in listed if v is not None}

        old_values, new_values = values(old.value), values(new.value)
        if old_values == new_values:
            return
        pointer = at(new, "enum") if "enum" in new.value else new.pointer
        if new_values is None:
            message = "enum removed (any value allowed)"
            self.comparison.by_side(
                side, "request-enum-widened", "response-enum-widened", pointer, message
            )
            return
        if old_values is None:
            message = f"enum {list(new_values)} added"
            self.comparison.by_side(
                side, "request-enum-narrowed", "response-enum-narrowed", pointer, message
            )
            return
        gone = [k for k in old_values if k not in new_values]
        came = [k for k in new_values if k not in old_values]
        if gone:
            message = f"enum values removed: {', '.join(gone)}"
            self.comparison.by_side(
                side, "request-enum-narrowed", "response-enum-narrowed", pointer, message
            )
        if came:
            message = f"enum values added: {', '.join(came)}"
            self.comparison.by_side(
                side, "request-enum-widened", "response-enum-widened", pointer, message
            )

    def _compare_default(self, old: Node, new: Node) -> None:
        missing = object()
        old_default = old.value.get("default", missing)
        new_default = new.value.get("default", missing)
        if old_default is missing and new_default is missing:
            return
        if old_default is missing:
            self.comparison.report(
                "default-added",
                at(new, "default"),
                f"default {show(new_default)} added",
            )
        elif new_default is missing:
            self.comparison.report(
                "default-removed", new.pointer, f"default {show(old_default)} removed"
            )
        elif show(old_default) != show(new_default):
            self.comparison.report(
                "default-changed",
                at(new, "default"),
                f"default {show(old_default)} is now {show(new_default)}",
            )

    def _constraint(self, side: Side, tightened: bool, old: Node, new: Node, keyword: str) -> None:
        old_value, new_value = old.value.get(keyword), new.value.get(keyword)
        message = changed(keyword, old_value, new_value)
        pointer = at(new, keyword) if keyword in new.value else new.pointer
        if tightened:
            self.comparison.by_side(
                side,
                "request-constraint-tightened",
                "response-constraint-tightened",
                pointer,
                message,
            )
        else:
            self.comparison.by_side(
                side,
                "request-constraint-loosened",
                "response-constraint-loosened",
                pointer,
                message,
            )

    def _compare_constraints(self, old: Node, new: Node, side: Side) -> None:
        o, n = old.value, new.value
        for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS):
            old_bound, new_bound = number(o.get(keyword)), number(n.get(keyword))
            if old_bound == new_bound:
                continue
            lower = keyword in LOWER_BOUNDS
            if new_bound is None:
                tightened = False
            elif old_bound is None:
                tightened = True
            else:
                tightened = new_bound > old_bound if lower else new_bound < old_bound
            self._constraint(side, tightened, old, new, keyword)
        for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
            old_flag, new_flag = o.get(keyword, False), n.get(keyword, False)
            if isinstance(old_flag, bool) and isinstance(new_flag, bool) and old_flag != new_flag:
                self._constraint(side, new_flag, old, new, keyword)
        old_unique, new_unique = (
            o.get("uniqueItems", False) is True,
            n.get("uniqueItems", False) is True,
        )
        if old_unique != new_unique:
            self._constraint(side, new_unique, old, new, "uniqueItems")
        for keyword in ("multipleOf", "pattern"):
            old_value, new_value = o.get(keyword), n.get(keyword)
            if old_value == new_value:
                continue
            if old_value is None or new_value is None:
                self._constraint(side, old_value is None, old, new, keyword)
            elif keyword == "multipleOf" and divides(old_value, new_value):
                self._constraint(side, True, old, new, keyword)
            elif keyword == "multipleOf" and divides(new_value, old_value):
                self._constraint(side, False, old, new, keyword)
            else:
                self.comparison.report(
                    "constraint-changed",
                    at(new, keyword),
                    f"{keyword} {show(old_value)} is now {show(new_value)}",
                )

    def _compare_properties(self, old: Node, new: Node, side: Side) -> None:
        old_props = mapping(old.value.get("properties"))
        new_props = mapping(new.value.get("properties"))
        old_required = set(map(str, as_list(old.value.get("required"))))
        new_required = set(map(str, as_list(new.value.get("required"))))
        # readOnly members are ignored when sent, writeOnly ones never come back (OpenAPI 3.0
        # §4.7.25), and `required` applies to a member only on the side where it exists.
        hidden = "readOnly" if side == "request" else "writeOnly"
        names = list(old_props) + [n for n in new_props if n not in old_props]
        names += sorted((old_required | new_required) - set(names))
        for name in names:
            old_prop = (
                self.comparison.resolve(
                    self.comparison.old, old_props[name], at(old, "properties", name)
                )
                if name in old_props
                else None
            )
            new_prop = (
                self.comparison.resolve(
                    self.comparison.new, new_props[name], at(new, "properties", name)
                )
                if name in new_props
                else None
            )
            old_hidden = old_prop is not None and mapping(old_prop.value).get(hidden) is True
            new_hidden = new_prop is not None and mapping(new_prop.value).get(hidden) is True
            old_req = name in old_required and not old_hidden
            new_req = name in new_required and not new_hidden
            old_there = old_prop is not None and not old_hidden
            new_there = new_prop is not None and not new_hidden
            new_pointer = at(new, "properties", name)
            old_pointer = at(old, "properties", name)
            if old_there and not new_there:
                if new_prop is not None:
                    rule = (
                        "request-member-made-read-only"
                        if side == "request"
                        else "response-member-made-write-only"
                    )
                    self.comparison.report(rule, new_pointer, f"member {name!r} is now {hidden}")
                elif side == "request" and self._accepts_extra(new, old_prop):
                    # The new schema accepts more: the member is still valid as an extra one.
                    self.comparison.report(
                        "request-member-undeclared",
                        old_pointer,
                        f"request member {name!r} removed; still accepted as an additional member",
                        "old",
                    )
                else:
                    self.comparison.report(
                        f"{side}-member-removed",
                        old_pointer,
                        f"{side} member {name!r} removed",
                        "old",
                    )
                continue
            if new_there and not old_there:
                kind = "required" if new_req else "optional"
                if side == "request":
                    rule = "request-member-added-required" if new_req else "request-member-added"
                else:
                    rule = "response-member-added"
                self.comparison.report(rule, new_pointer, f"{kind} {side} member {name!r} added")
                continue
            where = (
                new_pointer
                if new_there
                else at(new, "required")
                if "required" in new.value
                else new.pointer
            )
            if new_req and not old_req:
                self.comparison.report(
                    f"{side}-member-made-required", where, f"{side} member {name!r} is now required"
                )
            elif old_req and not new_req:
                self.comparison.report(
                    f"{side}-member-made-optional", where, f"{side} member {name!r} is now optional"
                )
            if old_there and new_there and old_prop is not None and new_prop is not None:
                self.comparison.compare_schema(old_prop, new_prop, side)

    def _accepts_extra(self, schema: Node, member: Node | None) -> bool:
        """Whether `schema` accepts, as an additional member, every value `member` allowed."""
        extra = schema.value.get("additionalProperties", True)
        if extra is True or extra == {}:
            return True
        if not isinstance(extra, dict) or member is None:
            return False
        pointer = at(schema, "additionalProperties")
        return self.comparison.equivalent(
            member, self.comparison.resolve(self.comparison.new, extra, pointer), "request"
        )

    def _compare_additional_properties(self, old: Node, new: Node, side: Side) -> None:
        old_extra = old.value.get("additionalProperties", True)
        new_extra = new.value.get("additionalProperties", True)
        old_pointer = at(old, "additionalProperties")
        new_pointer = at(new, "additionalProperties")
        old_schema = (
            self.comparison.resolve(self.comparison.old, old_extra, old_pointer)
            if isinstance(old_extra, dict)
            else None
        )
        new_schema = (
            self.comparison.resolve(self.comparison.new, new_extra, new_pointer)
            if isinstance(new_extra, dict)
            else None
        )
        # `true` and `{}` both allow anything.
        old_any = old_extra is True or (old_schema is not None and old_schema.value == {})
        new_any = new_extra is True or (new_schema is not None and new_schema.value == {})
        if old_any and new_any:
            return
        if old_schema is None and new_schema is None and show(old_extra) == show(new_extra):
            return  # `false` both times (or the same invalid value): nothing changed.
        if old_schema is not None and new_schema is not None and not old_any and not new_any:
            self.comparison.compare_schema(old_schema, new_schema, side)
            return
        message = (
            f"additionalProperties {describe_extra(old_extra)} is now {describe_extra(new_extra)}"
        )
        pointer = new_pointer if "additionalProperties" in new.value else new.pointer
        # Ordered from "nothing extra" through "extras of one schema" to "anything".
        rank = {False: 0, True: 2}
        old_rank = 2 if old_any else rank.get(old_extra, 1) if isinstance(old_extra, bool) else 1
        new_rank = 2 if new_any else rank.get(new_extra, 1) if isinstance(new_extra, bool) else 1
        if new_rank < old_rank:
            self.comparison.by_side(
                side,
                "request-additional-properties-narrowed",
                "response-additional-properties-narrowed",
                pointer,
                message,
            )
        elif side == "request":
            self.comparison.report("request-additional-properties-widened", pointer, message)
        elif old_rank == 0:
            # A tolerant reader ignores members it does not know, as for response-member-added.
            self.comparison.report("response-additional-properties-allowed", pointer, message)
        else:
            self.comparison.report("response-additional-properties-widened", pointer, message)


def changed(keyword: str, old: Any, new: Any) -> str:
    """A message for `keyword` going from `old` to `new` (None: absent)."""
    if old is None:
        return f"{keyword} {show(new)} added"
    if new is None:
        return f"{keyword} {show(old)} removed"
    return f"{keyword} {show(old)} is now {show(new)}"


def describe_extra(value: Any) -> str:
    """What an `additionalProperties` value allows, in a word."""
    if value is True or value == {}:
        return "any"
    if value is False:
        return "none"
    return "a schema"


def divides(divisor: Any, value: Any) -> bool:
    """Whether `value` is a multiple of `divisor` (for `multipleOf`)."""
    try:
        quotient = value / divisor
    except (TypeError, ZeroDivisionError):
        return False
    return bool(abs(quotient - round(quotient)) < 1e-9)
