"""The API's own conventions (Yii2 REST, as `api-brief.md` records them), one named rule each.

Owns what this API promises beyond OpenAPI validity: named and summarised operations, paginated
index operations, the error responses each kind of operation can produce and their shared bodies,
the delete `force` protocol, and opaque ids. The shared error schemas are found by their component
names, `Error` and `ValidationErrors`, the names the contract gives them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from openapi.lint.document import Operation, SpecDocument, join, operations, parameters
from openapi.lint.rule import Hit, Severity, rule
from openapi.lint.walk import holders, names, schema_nodes, schema_roots

ERROR_SCHEMA = "#/components/schemas/Error"
VALIDATION_ERRORS_SCHEMA = "#/components/schemas/ValidationErrors"
PAGINATION_HEADERS = (
    "X-Pagination-Total-Count",
    "X-Pagination-Page-Count",
    "X-Pagination-Current-Page",
    "X-Pagination-Per-Page",
)
# What a JSON body can provoke: malformed (400), too large (413), not JSON (415), invalid (422).
BODY_ERROR_STATUSES = ("400", "413", "415", "422")
_PATH_PARAMETER = re.compile(r"{([^{}]+)}")
_ID_NAME = re.compile(r"(^|_)id$", re.IGNORECASE)


def is_json(media_type: str) -> bool:
    """Whether `media_type` is JSON (`application/json`, `application/problem+json`, ...)."""
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or essence.endswith("+json")


def effective_security(doc: SpecDocument, operation: Operation) -> Any:
    """The operation's security requirements: its own `security`, else the document's."""
    if "security" in operation.data:
        return operation.data["security"]
    return doc.data.get("security")


def _responses(operation: Operation) -> dict[str, Any]:
    responses = operation.data.get("responses")
    return responses if isinstance(responses, dict) else {}


def _success_responses(
    doc: SpecDocument, operation: Operation
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Each 2xx response: its status, the dereferenced response and where it is written."""
    for status, raw in _responses(operation).items():
        if status.startswith("2"):
            response, pointer = doc.deref(raw, join(operation.pointer, "responses", status))
            if isinstance(response, dict):
                yield status, response, pointer


def _json_schema(doc: SpecDocument, response: dict[str, Any], pointer: str) -> tuple[Any, str]:
    """The dereferenced schema of the response's first JSON media type, and where that media
    type writes it (the use site, which is what a reader edits, even when it is a `$ref`)."""
    content = response.get("content")
    for media_type, media in content.items() if isinstance(content, dict) else ():
        if is_json(media_type) and isinstance(media, dict) and "schema" in media:
            use_site = join(pointer, "content", media_type, "schema")
            schema, _ = doc.deref(media["schema"], use_site)
            return schema, use_site
    return None, pointer


def _has_json_body(doc: SpecDocument, operation: Operation) -> bool:
    body, _ = doc.deref(operation.data.get("requestBody"), operation.pointer)
    content = body.get("content") if isinstance(body, dict) else None
    return isinstance(content, dict) and any(is_json(media_type) for media_type in content)


def _is_index(operation: Operation) -> bool:
    return operation.path.rstrip("/").endswith("/index")


@rule(
    "operation-id-and-summary",
    Severity.ERROR,
    "Every operation has an operationId (it names the handler) and a summary.",
)
def operation_id_and_summary(doc: SpecDocument) -> Iterator[Hit]:
    for operation in operations(doc):
        for member in ("operationId", "summary"):
            value = operation.data.get(member)
            if not isinstance(value, str) or not value.strip():
                yield Hit(operation.pointer, f"{operation.label} has no {member}")


@rule(
    "index-pagination-headers",
    Severity.ERROR,
    "Every index operation's success response declares the four X-Pagination-* headers as "
    "required integers.",
)
def index_pagination_headers(doc: SpecDocument) -> Iterator[Hit]:
    for operation in filter(_is_index, operations(doc)):
        for status, response, pointer in _success_responses(doc, operation):
            raw_headers = response.get("headers")
            declared = raw_headers if isinstance(raw_headers, dict) else {}
            by_name = {name.lower(): name for name in declared}
            for wanted in PAGINATION_HEADERS:
                name = by_name.get(wanted.lower())
                if name is None:
                    yield Hit(pointer, f"{operation.label} {status} does not declare {wanted}")
                    continue
                header, header_pointer = doc.deref(declared[name], join(pointer, "headers", name))
                if not isinstance(header, dict):
                    continue
                if header.get("required") is not True:
                    yield Hit(header_pointer, f"{wanted} is always sent: declare it required: true")
                schema, schema_pointer = doc.deref(
                    header.get("schema"), join(header_pointer, "schema")
                )
                if not isinstance(schema, dict) or schema.get("type") != "integer":
                    yield Hit(schema_pointer, f"{wanted} is an integer: declare type: integer")


@rule(
    "index-array-body",
    Severity.ERROR,
    "Every index operation's success response is a JSON array (one page of records).",
)
def index_array_body(doc: SpecDocument) -> Iterator[Hit]:
    for operation in filter(_is_index, operations(doc)):
        for status, response, pointer in _success_responses(doc, operation):
            schema, schema_pointer = _json_schema(doc, response, pointer)
            if not isinstance(schema, dict):
                yield Hit(pointer, f"{operation.label} {status} declares no JSON body schema")
            elif schema.get("type") != "array":
                yield Hit(schema_pointer, f"{operation.label} {status} body is not an array")


@rule(
    "error-responses-declared",
    Severity.ERROR,
    "Operations declare the errors they can produce: 401 when secured, 404 with a path "
    "parameter, 400/413/415/422 with a JSON body.",
)
def error_responses_declared(doc: SpecDocument) -> Iterator[Hit]:
    for operation in operations(doc):
        needed: dict[str, str] = {}
        if effective_security(doc, operation):
            needed["401"] = "it is secured"
        if _PATH_PARAMETER.search(operation.path):
            needed["404"] = "its path names a record"
        if _has_json_body(doc, operation):
            needed.update(dict.fromkeys(BODY_ERROR_STATUSES, "it takes a JSON body"))
        declared = _responses(operation)
        for status, why in needed.items():
            if status not in declared:
                yield Hit(
                    join(operation.pointer, "responses"),
                    f"{operation.label} does not declare {status}, which it can answer: {why}",
                )


@rule(
    "error-schemas-shared",
    Severity.ERROR,
    "Error responses $ref the shared schemas: ValidationErrors for 422, Error (or a schema built "
    "on it) for every other 4xx/5xx; no inline copies.",
)
def error_schemas_shared(doc: SpecDocument) -> Iterator[Hit]:
    reported: set[str] = set()
    for operation in operations(doc):
        for status, raw in _responses(operation).items():
            if status[:1] not in ("4", "5"):
                continue
            response, pointer = doc.deref(raw, join(operation.pointer, "responses", status))
            if not isinstance(response, dict):
                continue
            for hit in _error_body_hits(doc, status, response, pointer):
                # A shared component response is reported once, not once per operation using it.
                if hit.pointer not in reported:
                    reported.add(hit.pointer)
                    yield hit


def _error_body_hits(
    doc: SpecDocument, status: str, response: dict[str, Any], pointer: str
) -> Iterator[Hit]:
    wanted = VALIDATION_ERRORS_SCHEMA if status == "422" else ERROR_SCHEMA
    content = response.get("content")
    json_media = [m for m in content if is_json(m)] if isinstance(content, dict) else []
    if not json_media:
        yield Hit(pointer, f"the {status} response declares no JSON body: it carries {wanted}")
        return
    for media_type in json_media:
        schema_pointer = join(pointer, "content", media_type, "schema")
        schema = doc.get(schema_pointer)
        if status == "422":
            ok = isinstance(schema, dict) and schema.get("$ref") == VALIDATION_ERRORS_SCHEMA
        else:
            ok = _builds_on_error(doc, schema, set())
        if not ok:
            yield Hit(
                schema_pointer if schema is not None else join(pointer, "content", media_type),
                f"the {status} body must $ref {wanted}"
                + ("" if status == "422" else " (or a schema whose allOf includes it)")
                + ", not an inline copy",
            )


def _builds_on_error(doc: SpecDocument, schema: Any, seen: set[str]) -> bool:
    """Whether `schema` is the shared Error: a $ref to it, to a schema whose allOf includes it,
    or a oneOf/anyOf of such schemas (the blocked-delete 400 admits two forms)."""
    if not isinstance(schema, dict):
        return False
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref == ERROR_SCHEMA:
            return True
        if ref in seen:
            return False
        target, _ = doc.deref(schema, "")
        if not isinstance(target, dict):
            return False
        all_of = target.get("allOf")
        branches = all_of if isinstance(all_of, list) else []
        return any(_builds_on_error(doc, branch, seen | {ref}) for branch in branches)
    for keyword in ("oneOf", "anyOf"):
        alternatives = schema.get(keyword)
        if isinstance(alternatives, list) and alternatives:
            return all(_builds_on_error(doc, branch, seen) for branch in alternatives)
    return False


def _is_delete(operation: Operation) -> bool:
    return operation.method == "delete"


@rule(
    "delete-force-parameter",
    Severity.ERROR,
    "Every delete operation declares the boolean `force` query parameter.",
)
def delete_force_parameter(doc: SpecDocument) -> Iterator[Hit]:
    for operation in filter(_is_delete, operations(doc)):
        found = [
            (parameter, pointer)
            for parameter, pointer in parameters(doc, operation)
            if parameter.get("name") == "force" and parameter.get("in") == "query"
        ]
        if not found:
            yield Hit(
                operation.pointer, f"{operation.label} does not declare the `force` query parameter"
            )
            continue
        parameter, pointer = found[0]
        schema, schema_pointer = doc.deref(parameter.get("schema"), join(pointer, "schema"))
        if not isinstance(schema, dict) or schema.get("type") != "boolean":
            yield Hit(schema_pointer, "`force` is a boolean: declare type: boolean")


@rule(
    "path-parameter-example",
    Severity.ERROR,
    "Every path parameter has an example (or a default), so tools such as Dredd can build a URL.",
)
def path_parameter_example(doc: SpecDocument) -> Iterator[Hit]:
    reported: set[str] = set()
    for operation in operations(doc):
        for parameter, use in parameters(doc, operation):
            if parameter.get("in") != "path":
                continue
            # Reported where the parameter is written: once for a shared one, whatever uses it.
            _, written = doc.deref(doc.get(use), use)
            schema, _ = doc.deref(parameter.get("schema"), join(written, "schema"))
            schema = schema if isinstance(schema, dict) else {}
            if (
                "example" in parameter
                or parameter.get("examples")
                or "example" in schema
                or "default" in schema
                or written in reported
            ):
                continue
            reported.add(written)
            yield Hit(
                written,
                f"path parameter {parameter.get('name')!r} of {operation.label} has no example: "
                "tools that call the API from the spec (Dredd) cannot build its URL",
            )


@rule(
    "delete-blocked-response",
    Severity.ERROR,
    "Every delete operation declares the 400 of a blocked delete: an Error with `related`.",
)
def delete_blocked_response(doc: SpecDocument) -> Iterator[Hit]:
    for operation in filter(_is_delete, operations(doc)):
        raw = _responses(operation).get("400")
        if raw is None:
            yield Hit(
                join(operation.pointer, "responses"),
                f"{operation.label} does not declare 400 (a blocked delete, or a bad `force`)",
            )
            continue
        response, pointer = doc.deref(raw, join(operation.pointer, "responses", "400"))
        if not isinstance(response, dict):
            continue
        schema, schema_pointer = _json_schema(doc, response, pointer)
        if not _admits_related(doc, schema, set()):
            yield Hit(
                schema_pointer,
                f"{operation.label} 400 does not admit a blocked delete: no schema with `related`",
            )


def _admits_related(doc: SpecDocument, schema: Any, seen: set[str]) -> bool:
    """Whether some branch of `schema` (through $ref, allOf, anyOf, oneOf) has `related`."""
    if not isinstance(schema, dict):
        return False
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return False
        target, _ = doc.deref(schema, "")
        return _admits_related(doc, target, seen | {ref})
    properties = schema.get("properties")
    if isinstance(properties, dict) and "related" in properties:
        return True
    return any(
        _admits_related(doc, branch, seen)
        for keyword in ("allOf", "anyOf", "oneOf")
        for branch in (schema.get(keyword) or [])
    )


@rule(
    "ids-not-uuid",
    Severity.ERROR,
    "Ids are opaque strings: no id property or parameter is declared format: uuid.",
)
def ids_not_uuid(doc: SpecDocument) -> Iterator[Hit]:
    found = list(holders(doc))
    reported: set[str] = set()
    candidates: list[tuple[str, Any, str]] = []
    for holder in found:
        value = doc.get(holder.pointer)
        if isinstance(value, dict) and isinstance(value.get("name"), str) and "schema" in value:
            candidates.append((value["name"], value["schema"], join(holder.pointer, "schema")))
    for root in schema_roots(doc, found):
        for pointer, schema in schema_nodes(doc, root):
            for name in names(schema.get("properties")):
                prop_pointer = join(pointer, "properties", name)
                candidates.append((name, schema["properties"][name], prop_pointer))
    for name, raw, pointer in candidates:
        if not _ID_NAME.search(name):
            continue
        schema, schema_pointer = doc.deref(raw, pointer)
        if isinstance(schema, dict) and schema.get("format") == "uuid":
            where = join(schema_pointer, "format")
            if where not in reported:
                reported.add(where)
                yield Hit(where, f"`{name}` is an opaque id: do not declare format: uuid")
