"""The example rules: every example in the spec is an instance of the schema it illustrates.

Owns finding examples (schema `example`; `example`/`examples` of media types, parameters and
headers), deciding whether each is request-side or response-side, and validating it with OAS 3.0
semantics (openapi-schema-validator: `nullable`, formats such as date and date-time) plus the
read/write rules: a request example need not hold readOnly members and should not hold them (the
server ignores them, so the example misleads), a response example need not hold writeOnly members
and must not hold them. A schema's own `example` takes the side the schema is used on; a schema
used on both sides (or none) is held to neither side's read/write rules.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jsonschema.exceptions import UnknownType, ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

from openapi.lint.document import (
    SpecDocument,
    display,
    join,
    references_in,
    split,
)
from openapi.lint.rule import Hit, Severity, most_specific, rule, shorten
from openapi.lint.walk import Holder, Side, holders, schema_nodes, schema_roots

_SPEC_URI = "urn:actionsession-lint:spec"


@dataclass(frozen=True)
class _Site:
    """An example and the schema it must satisfy."""

    what: str
    example_pointer: str
    schema_pointer: str
    side: Side
    schema_level: bool = False


@dataclass(frozen=True)
class _Problems:
    invalid: list[Hit]
    access: list[Hit]


@rule(
    "example-valid",
    Severity.ERROR,
    "Every example validates against its schema (OAS 3.0: nullable, formats, readOnly/writeOnly).",
)
def example_valid(doc: SpecDocument) -> Iterator[Hit]:
    yield from _problems(doc).invalid


@rule(
    "example-access-mode",
    Severity.WARNING,
    "Request examples hold no readOnly members; response examples hold no writeOnly members.",
)
def example_access_mode(doc: SpecDocument) -> Iterator[Hit]:
    yield from _problems(doc).access


@functools.lru_cache(maxsize=4)
def _problems(doc: SpecDocument) -> _Problems:
    """Both rules' hits from one pass over the examples (the document is compared by identity)."""
    found = list(holders(doc))
    usage = _schema_usage(doc, found)
    sites = [site for holder in found for site in _example_sites(doc, holder)]
    sites.extend(_schema_sites(doc, found, usage))
    registry: Registry[Any] = Registry().with_resource(
        _SPEC_URI, Resource.from_contents(doc.data, default_specification=DRAFT4)
    )
    validators = {side: _validator_class(doc, side) for side in Side}
    problems = _Problems(invalid=[], access=[])
    for site in sites:
        schema = {"$ref": _SPEC_URI + "#" + quote(site.schema_pointer, safe="/~!$&'()*+,;=:@")}
        validator = validators[site.side](
            schema, registry=registry, format_checker=oas30_format_checker
        )
        # openapi-schema-validator reports a null for a non-nullable type twice ("None for not
        # nullable", then "not of type"): one `type` finding per node is enough.
        seen: set[tuple[object, ...]] = set()
        try:
            errors = list(validator.iter_errors(doc.get(site.example_pointer)))
        # jsonschema trusts its schema; a malformed one (which oas-structure reports, and which
        # stops the runner before this rule) fails inside it with any of these.
        except (Unresolvable, UnknownType, TypeError, AttributeError) as exc:
            message = f"{site.what} example cannot be checked: its schema is malformed ({exc!r})"
            problems.invalid.append(Hit(site.example_pointer, shorten(message)))
            continue
        for error in errors:
            what = "type" if error.validator == "type" else error.message
            key = (what, *error.absolute_path)
            if key not in seen:
                seen.add(key)
                _classify(doc, site, error, problems)
    return problems


def _classify(doc: SpecDocument, site: _Site, error: ValidationError, problems: _Problems) -> None:
    if error.validator in ("readOnly", "writeOnly"):
        # A schema's own example illustrates the value, not a message: a readOnly property's
        # example is not "a request that writes it".
        if site.schema_level and not error.absolute_path:
            return
        member = display(join("", *error.absolute_path))
        problems.access.append(
            Hit(
                join(site.example_pointer, *error.absolute_path),
                f"{site.what} example: {member} {error.message}",
            )
        )
        return
    cause = most_specific(error)
    path = list(cause.absolute_path)
    schema_name = "its schema"
    if site.schema_level:
        schema_name = "the schema it belongs to"
    else:
        ref = doc.get(site.schema_pointer)
        if isinstance(ref, dict) and isinstance(ref.get("$ref"), str):
            schema_name = ref["$ref"]
    at = f" at {display(join('', *path))}" if path else ""
    problems.invalid.append(
        Hit(
            join(site.example_pointer, *path),
            f"{site.what} example does not match {schema_name}{at}: {shorten(cause.message)}",
        )
    )


def _validator_class(doc: SpecDocument, side: Side) -> Any:
    """An OAS 3.0 validator whose `required`, `readOnly` and `writeOnly` follow `side`.

    openapi-schema-validator's read/write validators only see readOnly/writeOnly written directly
    on a property, not behind its `$ref` (`count_done: {$ref: Count}` with `Count.readOnly`), so
    `required` is replaced by one that dereferences the property first.
    """

    def exempt(prop: Any) -> bool:
        target, _ = doc.deref(prop, "")
        if not isinstance(target, dict):
            return False
        read_only = target.get("readOnly") is True
        write_only = target.get("writeOnly") is True
        if side is Side.REQUEST:
            return read_only
        if side is Side.RESPONSE:
            return write_only
        return read_only or write_only

    def required(
        validator: Any, names: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object") or not isinstance(names, list):
            return
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        for name in names:
            if isinstance(name, str) and name not in instance and not exempt(properties.get(name)):
                yield ValidationError(f"{name!r} is a required property")

    def read_only(
        validator: Any, flag: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if flag is True and side is Side.REQUEST:
            yield ValidationError("is readOnly: a request does not send it (the server ignores it)")

    def write_only(
        validator: Any, flag: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if flag is True and side is Side.RESPONSE:
            yield ValidationError("is writeOnly: a response must not carry it")

    return extend(
        OAS30Validator,
        validators={"required": required, "readOnly": read_only, "writeOnly": write_only},
    )


def _example_sites(doc: SpecDocument, holder: Holder) -> Iterator[_Site]:
    """The `example` and every `examples` entry of `holder`, to be checked against its schema."""
    value = doc.get(holder.pointer)
    if not isinstance(value, dict) or "schema" not in value:
        return
    schema_pointer = join(holder.pointer, "schema")
    if "example" in value:
        yield _Site(holder.what, join(holder.pointer, "example"), schema_pointer, holder.side)
    examples = value.get("examples")
    for name, raw in examples.items() if isinstance(examples, dict) else ():
        example, example_pointer = doc.deref(raw, join(holder.pointer, "examples", name))
        if isinstance(example, dict) and "value" in example:
            yield _Site(
                f"{holder.what} ({name})",
                join(example_pointer, "value"),
                schema_pointer,
                holder.side,
            )


def _schema_usage(doc: SpecDocument, found: list[Holder]) -> dict[str, set[Side]]:
    """For each component schema, the sides (request, response) it is used on, through any $ref."""
    usage: dict[str, set[Side]] = defaultdict(set)
    queue = [(join(holder.pointer, "schema"), holder.side) for holder in found]
    while queue:
        pointer, side = queue.pop()
        for _, ref in references_in(doc.get(pointer), pointer):
            target = doc.ref_target(ref)
            tokens = split(target) if target is not None else []
            if len(tokens) < 3 or tokens[:2] != ["components", "schemas"]:
                continue
            component = join("/components/schemas", tokens[2])
            if side not in usage[component]:
                usage[component].add(side)
                queue.append((component, side))
    return usage


def _schema_sites(
    doc: SpecDocument, found: list[Holder], usage: dict[str, set[Side]]
) -> Iterator[_Site]:
    """Each schema's own `example`, on the side its outermost written schema is used on."""
    sides = {join(holder.pointer, "schema"): holder.side for holder in found}
    for root in schema_roots(doc, found):
        if root not in sides:
            used_on = usage.get(root, set())
            sides[root] = next(iter(used_on)) if len(used_on) == 1 else Side.EITHER
        for pointer, schema in schema_nodes(doc, root):
            if "example" in schema:
                yield _Site(
                    "schema", join(pointer, "example"), pointer, sides[root], schema_level=True
                )
