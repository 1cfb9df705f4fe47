"""Where the spec writes schemas: media types, parameters and headers, and the schemas inside them.

Owns the traversal shared by the rules that look at schemas or examples: it visits every object
where it is written (never through a `$ref`, so each is seen once, at the line a reader would edit)
and knows which side of the exchange (request or response) each one belongs to.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openapi.lint.document import HTTP_METHODS, SpecDocument, join


class Side(enum.Enum):
    """Which way an example travels, which decides the readOnly/writeOnly rules it is held to."""

    REQUEST = "request"
    RESPONSE = "response"
    EITHER = "either"


@dataclass(frozen=True)
class Holder:
    """An object that has a `schema` and may have examples: a media type, parameter or header."""

    pointer: str
    side: Side
    what: str


def holders(doc: SpecDocument) -> Iterator[Holder]:
    """Every media type, parameter and header object, where it is written (never through $ref)."""
    paths = doc.data.get("paths")
    for path, item in paths.items() if isinstance(paths, dict) else ():
        if not isinstance(item, dict):
            continue
        item_pointer = join("/paths", path)
        yield from _parameter_list(doc, join(item_pointer, "parameters"))
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            pointer = join(item_pointer, method)
            yield from _parameter_list(doc, join(pointer, "parameters"))
            if _inline(doc, join(pointer, "requestBody")):
                yield from _content(
                    doc, join(pointer, "requestBody", "content"), Side.REQUEST, "request body"
                )
            for status in names(operation.get("responses")):
                if _inline(doc, join(pointer, "responses", status)):
                    yield from _response(doc, join(pointer, "responses", status))
    components = doc.data.get("components")
    components = components if isinstance(components, dict) else {}
    for name in names(components.get("parameters")):
        yield from _parameter_or_header(
            doc, join("/components/parameters", name), Side.REQUEST, "parameter"
        )
    for name in names(components.get("headers")):
        yield from _parameter_or_header(
            doc, join("/components/headers", name), Side.RESPONSE, "header"
        )
    for name in names(components.get("requestBodies")):
        yield from _content(
            doc, join("/components/requestBodies", name, "content"), Side.REQUEST, "request body"
        )
    for name in names(components.get("responses")):
        yield from _response(doc, join("/components/responses", name))


def names(section: Any) -> list[str]:
    if not isinstance(section, dict):
        return []
    return [name for name, value in section.items() if isinstance(value, dict)]


def _inline(doc: SpecDocument, pointer: str) -> bool:
    value = doc.get(pointer)
    return isinstance(value, dict) and "$ref" not in value


def _parameter_list(doc: SpecDocument, pointer: str) -> Iterator[Holder]:
    listed = doc.get(pointer)
    for index in range(len(listed) if isinstance(listed, list) else 0):
        if _inline(doc, join(pointer, index)):
            yield from _parameter_or_header(doc, join(pointer, index), Side.REQUEST, "parameter")


def _response(doc: SpecDocument, pointer: str) -> Iterator[Holder]:
    yield from _content(doc, join(pointer, "content"), Side.RESPONSE, "response body")
    for name in names(doc.get(join(pointer, "headers"))):
        if _inline(doc, join(pointer, "headers", name)):
            yield from _parameter_or_header(
                doc, join(pointer, "headers", name), Side.RESPONSE, "header"
            )


def _content(doc: SpecDocument, pointer: str, side: Side, what: str) -> Iterator[Holder]:
    for media_type in names(doc.get(pointer)):
        yield Holder(join(pointer, media_type), side, what)


def _parameter_or_header(
    doc: SpecDocument, pointer: str, side: Side, what: str
) -> Iterator[Holder]:
    """A parameter or header: its own `schema`, or the media types of its `content` map."""
    yield Holder(pointer, side, what)
    yield from _content(doc, join(pointer, "content"), side, what)


def schema_nodes(doc: SpecDocument, root: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object written under the schema at `root` (itself included), never via $ref."""
    stack = [root]
    while stack:
        pointer = stack.pop()
        schema = doc.get(pointer)
        if not isinstance(schema, dict) or "$ref" in schema:
            continue
        yield pointer, schema
        for name in names(schema.get("properties")):
            stack.append(join(pointer, "properties", name))
        for keyword in ("items", "additionalProperties", "not"):
            if isinstance(schema.get(keyword), dict):
                stack.append(join(pointer, keyword))
        for keyword in ("allOf", "anyOf", "oneOf"):
            branches = schema.get(keyword)
            for index in range(len(branches) if isinstance(branches, list) else 0):
                stack.append(join(pointer, keyword, index))


def schema_roots(doc: SpecDocument, found: list[Holder]) -> list[str]:
    """The pointers of every schema written in the document: components and holders' schemas."""
    roots = [
        join(holder.pointer, "schema")
        for holder in found
        if isinstance(doc.get(join(holder.pointer, "schema")), dict)
    ]
    roots.extend(
        join("/components/schemas", name) for name in names(doc.get("/components/schemas"))
    )
    return roots
