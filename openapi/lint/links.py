"""The `links-resolve` rule: every response link names an operation that exists, passes only
parameters (and a request body) that operation has, and takes its values from places that exist.

Owns reading Link objects (written in responses or in `components.links`), matching their targets
against the operation table, and checking their runtime expressions (`$response.body#/id`,
`$request.path.id`, ...) against the response and operation they are written in. Stateful tests
(Schemathesis) follow these links, so a typo here silently turns a test into a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from openapi.lint.document import Operation, SpecDocument, join, operations, parameters, split
from openapi.lint.rule import Hit, Severity, rule
from openapi.lint.walk import names

_LOCATIONS = ("path", "query", "header", "cookie")
_MAX_DEPTH = 32


@dataclass(frozen=True)
class _Link:
    """A Link object, and the operation and response it is written in when it has them."""

    pointer: str
    data: dict[str, Any]
    source: Operation | None
    response: dict[str, Any] | None


def _links(doc: SpecDocument) -> Iterator[_Link]:
    """Every Link object where it is written: in operations' responses, component responses and
    `components.links` (a `$ref`'d link is checked at its definition)."""
    places: list[tuple[str, Operation | None]] = [
        (join(operation.pointer, "responses", status), operation)
        for operation in operations(doc)
        for status in names(operation.data.get("responses"))
    ]
    places += [
        (join("/components/responses", name), None)
        for name in names(doc.get("/components/responses"))
    ]
    for pointer, source in places:
        response = doc.get(pointer)
        if not isinstance(response, dict) or "$ref" in response:
            continue
        for name in names(response.get("links")):
            link = response["links"][name]
            if "$ref" not in link:
                yield _Link(join(pointer, "links", name), link, source, response)
    for name in names(doc.get("/components/links")):
        pointer = join("/components/links", name)
        yield _Link(pointer, doc.get(pointer), None, None)


@rule(
    "links-resolve",
    Severity.ERROR,
    "Links point at existing operationIds and at parameters (and a request body) those "
    "operations have, with expressions naming what exists.",
)
def links_resolve(doc: SpecDocument) -> Iterator[Hit]:
    by_id = {
        operation.data["operationId"]: operation
        for operation in operations(doc)
        if isinstance(operation.data.get("operationId"), str)
    }
    for link in _links(doc):
        target, problem = _target(doc, link, by_id)
        if problem is not None:
            yield problem
        if target is not None:
            yield from _argument_hits(doc, link, target)
        values = link.data.get("parameters")
        if isinstance(values, dict):
            for key, value in values.items():
                pointer = join(link.pointer, "parameters", str(key))
                yield from _expression_hits(doc, link, value, pointer)
        if "requestBody" in link.data:
            pointer = join(link.pointer, "requestBody")
            yield from _expression_hits(doc, link, link.data["requestBody"], pointer)


def _target(
    doc: SpecDocument, link: _Link, by_id: dict[str, Operation]
) -> tuple[Operation | None, Hit | None]:
    operation_id = link.data.get("operationId")
    if isinstance(operation_id, str):
        target = by_id.get(operation_id)
        if target is None:
            message = f"link names operationId {operation_id!r}, which no operation has"
            return None, Hit(join(link.pointer, "operationId"), message)
        return target, None
    operation_ref = link.data.get("operationRef")
    if isinstance(operation_ref, str):
        by_pointer = {"#" + operation.pointer: operation for operation in operations(doc)}
        target = by_pointer.get(unquote(operation_ref))
        if target is None:
            message = f"link operationRef {operation_ref!r} is not an operation of this document"
            return None, Hit(join(link.pointer, "operationRef"), message)
        return target, None
    return None, Hit(link.pointer, "link names no operation (operationId or operationRef)")


def _argument_hits(doc: SpecDocument, link: _Link, target: Operation) -> Iterator[Hit]:
    """The link's parameters and request body must be ones the target operation takes."""
    declared = {
        (str(parameter.get("in")), str(parameter.get("name")))
        for parameter, _ in parameters(doc, target)
    }
    values = link.data.get("parameters")
    for key in [str(key) for key in values] if isinstance(values, dict) else []:
        location, dot, name = key.partition(".")
        if dot and location in _LOCATIONS:
            known = (location, name) in declared
        else:
            known = any(declared_name == key for _, declared_name in declared)
        if not known:
            yield Hit(
                join(link.pointer, "parameters", key),
                f"link passes parameter {key!r}, which {target.label} does not declare",
            )
    if "requestBody" in link.data and "requestBody" not in target.data:
        yield Hit(
            join(link.pointer, "requestBody"),
            f"link passes a request body, but {target.label} takes none",
        )


def _expression_hits(doc: SpecDocument, link: _Link, value: Any, pointer: str) -> Iterator[Hit]:
    """Problems with the runtime expressions in `value` (a link parameter or request body,
    which may nest expressions inside a literal object, as Schemathesis reads them)."""
    if isinstance(value, dict):
        for key, member in value.items():
            yield from _expression_hits(doc, link, member, join(pointer, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _expression_hits(doc, link, member, join(pointer, index))
    elif isinstance(value, str) and value.startswith("$"):
        problem = _expression_problem(doc, link, value)
        if problem is not None:
            yield Hit(pointer, f"link expression {value!r}: {problem}")


def _expression_problem(doc: SpecDocument, link: _Link, expression: str) -> str | None:
    """Why `expression` names nothing, or None when it names something (or cannot be known)."""
    if expression in ("$url", "$method", "$statusCode"):
        return None
    source, _, rest = expression.partition(".")
    if source not in ("$request", "$response"):
        return "not a runtime expression ($url, $method, $statusCode, $request.…, $response.…)"
    is_request = source == "$request"
    if rest == "body" or rest.startswith("body#"):
        body_owner = _request_body(doc, link.source) if is_request else link.response
        if body_owner is None:
            if is_request and link.source is not None:
                return f"{link.source.label} takes no request body"
            return None
        tokens = split(rest[len("body#") :]) if rest.startswith("body#") else []
        schema = _json_schema(body_owner)
        if schema is not None and not _declares(doc, schema, tokens, 0):
            side = "request" if is_request else "response"
            return f"the {side} body schema declares no {'/'.join(tokens)!r}"
        return None
    location, dot, name = rest.partition(".")
    if not dot or location not in (("path", "query", "header") if is_request else ("header",)):
        return "names no body, parameter or header"
    if is_request:
        if link.source is None:
            return None
        found = any(
            parameter.get("in") == location and _same_name(location, parameter.get("name"), name)
            for parameter, _ in parameters(doc, link.source)
        )
        return None if found else f"{link.source.label} has no {location} parameter {name!r}"
    headers = link.response.get("headers") if link.response is not None else None
    if link.response is None or any(_same_name("header", h, name) for h in headers or {}):
        return None
    return f"the response declares no header {name!r}"


def _same_name(location: str, declared: Any, name: str) -> bool:
    if location == "header":  # HTTP header names are case-insensitive
        return isinstance(declared, str) and declared.lower() == name.lower()
    return bool(declared == name)


def _request_body(doc: SpecDocument, source: Operation | None) -> dict[str, Any] | None:
    if source is None:
        return None
    body, _ = doc.deref(source.data.get("requestBody"), source.pointer)
    return body if isinstance(body, dict) else None


def _json_schema(owner: dict[str, Any]) -> Any:
    content = owner.get("content")
    for media_type, media in content.items() if isinstance(content, dict) else ():
        if media_type.split(";")[0].strip().lower().endswith("json") and isinstance(media, dict):
            return media.get("schema")
    return None


def _declares(doc: SpecDocument, raw: Any, tokens: list[str], depth: int) -> bool:
    """Whether the schema `raw` declares the member at `tokens` (unknown shapes count as yes)."""
    schema, _ = doc.deref(raw, "")
    if not tokens or not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return True
    head, rest = tokens[0], tokens[1:]
    branches = [b for k in ("allOf", "anyOf", "oneOf") for b in schema.get(k) or []]
    if any(_declares_strictly(doc, branch, tokens, depth + 1) for branch in branches):
        return True
    properties = schema.get("properties")
    if isinstance(properties, dict) and head in properties:
        return _declares(doc, properties[head], rest, depth + 1)
    if "items" in schema and head.isdigit():
        return _declares(doc, schema["items"], rest, depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return _declares(doc, extra, rest, depth + 1)
    if extra is True:
        return True
    # A schema that says nothing about members (no properties, items or combinators) is unknown.
    return not (isinstance(properties, dict) or "items" in schema or branches)


def _declares_strictly(doc: SpecDocument, raw: Any, tokens: list[str], depth: int) -> bool:
    """`_declares` for a combinator branch: a branch that says nothing does not declare."""
    schema, _ = doc.deref(raw, "")
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return False
    has_shape = any(k in schema for k in ("properties", "items", "allOf", "anyOf", "oneOf"))
    return has_shape and _declares(doc, schema, tokens, depth)
