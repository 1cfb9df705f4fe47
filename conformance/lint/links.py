"""The `links-resolve` rule: every response link names an operation that exists, and only
parameters (and a request body) that operation has.

Owns reading Link objects, written in responses or in `components.links`, and matching their
targets against the operation table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.lint.document import Operation, SpecDocument, join, operations, parameters
from conformance.lint.rule import Hit, Severity, rule
from conformance.lint.walk import names

_LOCATIONS = ("path", "query", "header", "cookie")


def _links(doc: SpecDocument) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Link object where it is written: in operations' responses, component responses and
    `components.links` (a `$ref`'d link is checked at its definition)."""
    response_pointers = [
        join(operation.pointer, "responses", status)
        for operation in operations(doc)
        for status in names(operation.data.get("responses"))
    ]
    response_pointers += [
        join("/components/responses", name) for name in names(doc.get("/components/responses"))
    ]
    for pointer in response_pointers:
        response = doc.get(pointer)
        if not isinstance(response, dict) or "$ref" in response:
            continue
        for name in names(response.get("links")):
            link = response["links"][name]
            if "$ref" not in link:
                yield join(pointer, "links", name), link
    for name in names(doc.get("/components/links")):
        yield join("/components/links", name), doc.get(join("/components/links", name))


def _target(
    doc: SpecDocument, link: dict[str, Any], pointer: str, by_id: dict[str, Operation]
) -> tuple[Operation | None, Hit | None]:
    operation_id = link.get("operationId")
    if isinstance(operation_id, str):
        target = by_id.get(operation_id)
        if target is None:
            return None, Hit(
                join(pointer, "operationId"),
                f"link names operationId {operation_id!r}, which no operation has",
            )
        return target, None
    operation_ref = link.get("operationRef")
    if isinstance(operation_ref, str):
        by_pointer = {"#" + operation.pointer: operation for operation in operations(doc)}
        target = by_pointer.get(operation_ref)
        if target is None:
            return None, Hit(
                join(pointer, "operationRef"),
                f"link operationRef {operation_ref!r} is not an operation of this document",
            )
        return target, None
    return None, Hit(pointer, "link names no operation (operationId or operationRef)")


@rule(
    "links-resolve",
    Severity.ERROR,
    "Links point at existing operationIds and at parameters (and a request body) those "
    "operations have.",
)
def links_resolve(doc: SpecDocument) -> Iterator[Hit]:
    by_id = {
        operation.data["operationId"]: operation
        for operation in operations(doc)
        if isinstance(operation.data.get("operationId"), str)
    }
    for pointer, link in _links(doc):
        target, problem = _target(doc, link, pointer, by_id)
        if problem is not None:
            yield problem
        if target is None:
            continue
        declared = {
            (str(parameter.get("in")), str(parameter.get("name")))
            for parameter, _ in parameters(doc, target)
        }
        for key in names_or_keys(link.get("parameters")):
            location, dot, name = key.partition(".")
            if dot and location in _LOCATIONS:
                known = (location, name) in declared
            else:
                known = any(declared_name == key for _, declared_name in declared)
            if not known:
                yield Hit(
                    join(pointer, "parameters", key),
                    f"link passes parameter {key!r}, which {target.label} does not declare",
                )
        if "requestBody" in link and "requestBody" not in target.data:
            yield Hit(
                join(pointer, "requestBody"),
                f"link passes a request body, but {target.label} takes none",
            )


def names_or_keys(mapping: Any) -> list[str]:
    """The keys of `mapping`, if it is one (link parameters map names to expressions)."""
    return [str(key) for key in mapping] if isinstance(mapping, dict) else []
