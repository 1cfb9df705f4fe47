"""What the suite knows about the API, read from the OpenAPI document and nowhere else.

Owns loading and validating the spec, and turning it into a small per-resource description: the
paths of the five operations, the id field (from the create response's links), the entity name
used in `related`, filter fields and their kinds, sortable fields, stored and read-only fields,
the parent reference of child resources, the pagination headers and the per-page cap. Checks ask
this module instead of restating the contract in Python.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.failures import ConformanceError

logger = logging.getLogger(__name__)

OPERATIONS = ("index", "create", "view", "update", "delete")


@dataclass(frozen=True)
class FieldKind:
    """How to build, compare and break a value of one field."""

    name: str
    kind: str  # "string", "integer", "date", "date-time", "boolean", "object"
    enum: tuple[Any, ...] | None = None
    nullable: bool = False
    min_length: int = 0
    max_length: int | None = None

    def admits(self, value: Any) -> bool:
        """Whether a string value satisfies this field's length limits (other types: False)."""
        if not isinstance(value, str) or len(value) < self.min_length:
            return False
        return self.max_length is None or len(value) <= self.max_length


@dataclass(frozen=True)
class Resource:
    """One resource of the `/v2/{resource}/{operation}` convention."""

    name: str  # the operationId prefix, e.g. action_session
    entity: str  # the tag, also the `related[].entity` value
    paths: dict[str, str]  # operation -> path template
    methods: dict[str, str]  # operation -> HTTP method
    id_field: str
    item_fields: dict[str, FieldKind]
    stored_fields: tuple[str, ...]
    read_only: tuple[str, ...]
    writable: dict[str, FieldKind]
    required_on_create: tuple[str, ...]
    filter_fields: dict[str, FieldKind]
    parent_field: str | None = None
    parent: str | None = None

    def path(self, operation: str, record_id: str | None = None) -> str:
        """The concrete path of `operation`, with the record id filled in."""
        template = self.paths[operation]
        return template.replace("{id}", record_id) if record_id is not None else template

    @property
    def sortable(self) -> tuple[str, ...]:
        """Fields of the listed record a client can sort by (objects have no order)."""
        return tuple(n for n, f in self.item_fields.items() if f.kind != "object")


@dataclass(frozen=True)
class Pagination:
    """The index paging contract: header names and the per-page limits."""

    total: str
    page_count: str
    current_page: str
    per_page: str
    max_per_page: int
    default_per_page: int


@dataclass(frozen=True)
class Contract:
    """The parsed spec: resources by name, paging, raw document for the schema layer."""

    path: Path
    document: dict[str, Any]
    resources: dict[str, Resource]
    pagination: Pagination
    error_required: tuple[str, ...]
    validation_item_required: tuple[str, ...]
    security_schemes: dict[str, Any] = field(default_factory=dict)
    error_names: dict[int, tuple[str, ...]] = field(default_factory=dict)  # from the examples

    @property
    def root(self) -> Resource:
        """The resource the others depend on (the one without a parent)."""
        return next(r for r in self.resources.values() if r.parent is None)

    def children(self, parent: Resource) -> list[Resource]:
        """Resources whose records point at a record of `parent`."""
        return [r for r in self.resources.values() if r.parent == parent.name]

    def documented_methods(self, template: str) -> list[str]:
        """The methods the spec declares on a path, upper-case."""
        item = self.document["paths"].get(template, {})
        return [m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"}]


def _resolve(document: dict[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ConformanceError(f"spec: only local $ref is supported, got {ref}")
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
        seen += 1
    return node


def _kind(document: dict[str, Any], name: str, schema: Any) -> FieldKind:
    """Reduce a (possibly anyOf'd, nullable) schema to the kind of its non-empty values."""
    schema = _resolve(document, schema)
    nullable = bool(schema.get("nullable"))
    if "anyOf" in schema or "oneOf" in schema:
        branches = [_resolve(document, b) for b in schema.get("anyOf", schema.get("oneOf", []))]
        # The filter schemas add a null-or-"" branch; the kind is the other one.
        real = [b for b in branches if b.get("maxLength") != 0]
        nullable = nullable or len(real) < len(branches)
        schema = real[0] if real else branches[0]
    kind = schema.get("type", "object")
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        kind = schema["format"]
    enum = schema.get("enum")
    enum_values = tuple(v for v in enum if v not in (None, "")) if enum else None
    return FieldKind(
        name,
        kind,
        enum_values,
        nullable or bool(schema.get("nullable")),
        int(schema.get("minLength", 0)),
        schema.get("maxLength"),
    )


def _properties(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    schema = _resolve(document, schema)
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        props.update(_properties(document, part))
    props.update(schema.get("properties", {}))
    return props


def load_contract(path: Path) -> Contract:
    """Read and validate the spec at `path`; `ConformanceError` when it cannot be used."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConformanceError(f"cannot read the spec {path}: {exc}".splitlines()[0]) from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ConformanceError(f"{path} is not an OpenAPI 3 document")
    try:
        from openapi_spec_validator import validate

        validate(document)
    except ImportError:  # pragma: no cover - the validator is a declared dependency
        logger.warning("openapi-spec-validator is missing; the spec is not validated")
    except Exception as exc:
        reason = str(exc).splitlines()[0]
        raise ConformanceError(f"the spec {path} is invalid: {reason}") from exc
    try:
        return _build(path, document)
    except (KeyError, IndexError, TypeError, StopIteration) as exc:
        raise ConformanceError(
            f"the spec {path} does not describe the ActionSession convention: missing {exc}"
        ) from exc


def _build(path: Path, document: dict[str, Any]) -> Contract:
    by_resource: dict[str, dict[str, tuple[str, str, dict[str, Any]]]] = {}
    for template, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            prefix, _, op = operation["operationId"].rpartition(".")
            if op in OPERATIONS:
                by_resource.setdefault(prefix, {})[op] = (template, method.upper(), operation)
    resources: dict[str, Resource] = {}
    pagination: Pagination | None = None
    for name, ops in by_resource.items():
        if set(ops) != set(OPERATIONS):
            continue
        index_op = ops["index"][2]
        ok = index_op["responses"]["200"]
        item_schema = _resolve(document, ok["content"]["application/json"]["schema"])["items"]
        item_props = _properties(document, item_schema)
        create_ok = ops["create"][2]["responses"]["201"]
        links = create_ok.get("links", {})
        view_id = next(
            link["parameters"]["id"]
            for link in links.values()
            if link.get("operationId") == f"{name}.view"
        )
        id_field = view_id.split("#/")[-1]
        record_props = _properties(document, create_ok["content"]["application/json"]["schema"])
        create_body = _resolve(
            document, ops["create"][2]["requestBody"]["content"]["application/json"]["schema"]
        )
        create_props = _properties(document, create_body)
        index_body = _resolve(
            document, index_op["requestBody"]["content"]["application/json"]["schema"]
        )
        filter_props = _properties(document, _properties(document, index_body)["filter"])
        read_only = tuple(n for n, s in item_props.items() if _resolve(document, s).get("readOnly"))
        if pagination is None:
            headers = ok["headers"]
            names = {n.lower(): n for n in headers}
            per_page_name = names["x-pagination-per-page"]
            per_page_schema = _resolve(
                document, _resolve(document, headers[per_page_name])["schema"]
            )
            page_size = _resolve(document, _properties(document, index_body)["per-page"])
            pagination = Pagination(
                total=names["x-pagination-total-count"],
                page_count=names["x-pagination-page-count"],
                current_page=names["x-pagination-current-page"],
                per_page=per_page_name,
                max_per_page=int(per_page_schema["maximum"]),
                default_per_page=int(page_size.get("default", per_page_schema["maximum"])),
            )
        resources[name] = Resource(
            name=name,
            entity=(index_op.get("tags") or [name])[0],
            paths={op: ops[op][0] for op in OPERATIONS},
            methods={op: ops[op][1] for op in OPERATIONS},
            id_field=id_field,
            item_fields={n: _kind(document, n, s) for n, s in item_props.items()},
            stored_fields=tuple(record_props),
            read_only=read_only,
            writable={n: _kind(document, n, s) for n, s in create_props.items()},
            required_on_create=tuple(create_body.get("required", [])),
            filter_fields={n: _kind(document, n, s) for n, s in filter_props.items()},
        )
    if not resources or pagination is None:
        raise ConformanceError(f"the spec {path} declares no resource with all five operations")
    # A child resource requires, on create, the id field of another resource.
    for name, res in list(resources.items()):
        for other in resources.values():
            if other is not res and other.id_field in res.required_on_create:
                resources[name] = Resource(
                    **{**res.__dict__, "parent_field": other.id_field, "parent": other.name}
                )
    schemas = document.get("components", {}).get("schemas", {})
    error = _resolve(document, schemas.get("Error", {}))
    validation = _resolve(document, schemas.get("ValidationErrors", {}))
    return Contract(
        path=path,
        document=document,
        resources=resources,
        pagination=pagination,
        error_required=tuple(error.get("required", ("name", "message", "code", "status"))),
        validation_item_required=tuple(
            _resolve(document, validation.get("items", {})).get("required", ("field", "message"))
        ),
        security_schemes=document.get("components", {}).get("securitySchemes", {}),
        error_names=_error_names(document),
    )


def _error_names(document: dict[str, Any]) -> dict[int, tuple[str, ...]]:
    """The `name` each error response's example gives its status (e.g. "Payload Too Large")."""
    names: dict[int, set[str]] = {}
    for response in document.get("components", {}).get("responses", {}).values():
        for media in response.get("content", {}).values():
            example = media.get("example")
            if isinstance(example, dict) and isinstance(example.get("status"), int):
                if isinstance(example.get("name"), str):
                    names.setdefault(example["status"], set()).add(example["name"])
    return {status: tuple(sorted(found)) for status, found in names.items()}
