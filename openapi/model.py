"""The API model read from an OpenAPI 3.0 document: its operations, responses and extensions.

Parts of the kit that need to know what the contract declares (an operation's statuses, their
bodies, headers and examples, the index's sort aliases) read it here rather than restating it.
Loading and `$ref` resolution are `openapi.document`'s.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from openapi.document import HTTP_METHODS, SpecError, load_document, resolve


@dataclass(frozen=True)
class Response:
    """One declared status of an operation: its JSON body schema, headers and examples."""

    status: str
    description: str
    schema: Any
    headers: dict[str, dict[str, Any]]
    examples: dict[str, Any]
    """Named examples (`examples:` of the JSON media type), by name."""
    example: Any = None
    """The media type's `example`, else its first named example; None when it has neither."""


@dataclass(frozen=True)
class Operation:
    """One operation of the document."""

    operation_id: str
    method: str
    path: str
    responses: dict[str, Response]
    request_schema: Any = None
    extensions: dict[str, Any] = field(default_factory=dict)

    def statuses(self) -> list[int]:
        """The numeric statuses the operation declares, in order (`default` and ranges left out)."""
        return sorted(int(s) for s in self.responses if s.isdigit())


def path_pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching the concrete paths of a path template: a parameter matches
    one segment, as Connexion's router does."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


@dataclass(frozen=True)
class Spec:
    """An OpenAPI 3.0 document and what the kit reads from it."""

    path: Path
    document: dict[str, Any]
    operations: dict[str, Operation]
    _routes: list[tuple[str, re.Pattern[str], Operation]] = field(
        default_factory=list, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for op in self.operations.values():
            # A path parameter matches one segment, as Connexion's router does.
            self._routes.append((op.method, path_pattern(op.path), op))

    def match(self, method: str, path: str) -> Operation | None:
        """The operation that serves `method` on the concrete `path`, if the document has one."""
        for op_method, pattern, op in self._routes:
            if op_method == method.upper() and pattern.match(path):
                return op
        return None

    @property
    def base_path(self) -> str:
        """The path of the first server's URL (`/__mock`), which prefixes every path served."""
        servers = self.document.get("servers") or [{"url": ""}]
        return urlparse(str(servers[0].get("url", ""))).path.rstrip("/")

    def path_methods(self) -> list[tuple[str, list[str]]]:
        """Each path as served (the base path in front) with the methods the document gives it,
        upper case, in the document's order."""
        return [
            (self.base_path + path, [m.upper() for m in HTTP_METHODS if m in item])
            for path, item in (self.document.get("paths") or {}).items()
            if isinstance(item, Mapping)
        ]

    def methods(self) -> set[str]:
        """Every HTTP method some operation uses."""
        return {op.method for op in self.operations.values()}

    def response_headers(self) -> set[str]:
        """Every response header some operation declares."""
        return {
            h for op in self.operations.values() for r in op.responses.values() for h in r.headers
        }

    def resolve(self, node: Any) -> Any:
        """`node` with its `$ref` followed."""
        return resolve(self.document, node)

    def sort_aliases(self, operation_id: str) -> dict[str, str]:
        """`x-sort-aliases` of the index request's `sort` member: alias -> the field it sorts by."""
        schema = self.resolve(self.operations[operation_id].request_schema or {})
        sort = self.resolve(schema.get("properties", {}).get("sort", {}))
        aliases = sort.get("x-sort-aliases", {}) if isinstance(sort, Mapping) else {}
        return {str(k): str(v) for k, v in aliases.items()}


def _response(document: dict[str, Any], status: str, raw: Any) -> Response:
    node = resolve(document, raw)
    media = resolve(document, node.get("content", {}).get("application/json", {}))
    examples = {
        str(name): resolve(document, example).get("value")
        for name, example in (media.get("examples") or {}).items()
    }
    headers = {
        str(name): resolve(document, header) for name, header in (node.get("headers") or {}).items()
    }
    return Response(
        status=status,
        description=str(node.get("description", "")),
        schema=media.get("schema"),
        headers=headers,
        examples=examples,
        example=media["example"] if "example" in media else next(iter(examples.values()), None),
    )


def _operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            raw = item.get(method)
            if not isinstance(raw, Mapping) or "operationId" not in raw:
                continue
            body = resolve(document, raw.get("requestBody") or {})
            media = body.get("content", {}).get("application/json", {})
            yield Operation(
                operation_id=str(raw["operationId"]),
                method=method.upper(),
                path=str(path),
                responses={
                    str(status): _response(document, str(status), response)
                    for status, response in (raw.get("responses") or {}).items()
                },
                request_schema=media.get("schema"),
                extensions={k: v for k, v in raw.items() if k.startswith("x-")},
            )


def read_spec(path: str | Path) -> Spec:
    """Read the document at `path` into a `Spec`."""
    document = load_document(path)
    return Spec(
        path=Path(path),
        document=document,
        operations={op.operation_id: op for op in _operations(document)},
    )


# -- the API model: the resources of the `/v2/{resource}/{operation}` convention -----------------

RESOURCE_OPERATIONS = ("index", "create", "view", "update", "delete")
"""The five operations every resource of the convention has; their operationIds are
`{resource}.{operation}`."""


class ModelError(SpecError):
    """The document is valid OpenAPI but does not describe the convention the kit serves."""


@dataclass(frozen=True)
class FieldKind:
    """How to build, compare and break a value of one field, reduced from its schema."""

    name: str
    kind: str
    """`string`, `integer`, `number`, `boolean`, `date`, `date-time` or `object`."""
    enum: tuple[Any, ...] | None = None
    nullable: bool = False
    min_length: int = 0
    max_length: int | None = None
    default: Any = None
    has_default: bool = False
    minimum: float | None = None

    def admits(self, value: Any) -> bool:
        """Whether a string value satisfies this field's length limits (other types: False)."""
        if not isinstance(value, str) or len(value) < self.min_length:
            return False
        return self.max_length is None or len(value) <= self.max_length


@dataclass(frozen=True)
class Resource:
    """One resource: its five operations, id, members and their kinds, as the spec states them."""

    name: str
    """The operationId prefix, e.g. `action_session`."""
    entity: str
    """The index operation's first tag: the model name a blocked delete lists in `related`."""
    paths: dict[str, str]
    """Operation -> path template (`/v2/action-session/view/{id}`)."""
    methods: dict[str, str]
    """Operation -> HTTP method, upper case."""
    id_field: str
    """The member the create answer's `view` link passes as `id`."""
    item_fields: dict[str, FieldKind]
    """Every member of a listed (and viewed) record, in the schema's order."""
    stored_fields: tuple[str, ...]
    """The members create and update answer: what a record stores."""
    read_only: tuple[str, ...]
    writable: dict[str, FieldKind]
    """The members a create request may send (the id included)."""
    required_on_create: tuple[str, ...]
    updatable: dict[str, FieldKind]
    """The members an update request may send."""
    filter_fields: dict[str, FieldKind]
    sort_aliases: dict[str, str] = field(default_factory=dict)
    """`x-sort-aliases` of the index's `sort`: alias -> the member it sorts by."""
    parent_field: str | None = None
    """The member naming the record of another resource that this one belongs to."""
    parent: str | None = None

    def path(self, operation: str, record_id: str | None = None) -> str:
        """The concrete path of `operation`, with the record id filled in as it is."""
        template = self.paths[operation]
        return template.replace("{id}", record_id) if record_id is not None else template

    @property
    def sortable(self) -> tuple[str, ...]:
        """Members of the listed record a client can sort by (objects have no order)."""
        return tuple(n for n, f in self.item_fields.items() if f.kind != "object")

    @property
    def computed(self) -> tuple[str, ...]:
        """Members a view answers that are not stored: joined or computed by the server."""
        return tuple(n for n in self.item_fields if n not in self.stored_fields)

    @property
    def defaults(self) -> dict[str, Any]:
        """Values the create request schema gives a member the client leaves out."""
        return {n: f.default for n, f in self.writable.items() if f.has_default}


@dataclass(frozen=True)
class Pagination:
    """The index paging contract: the four header names and the per-page limits."""

    total: str
    page_count: str
    current_page: str
    per_page: str
    max_per_page: int
    default_per_page: int
    first_page: int = 1

    def headers(self) -> tuple[str, str, str, str]:
        """The four header names: total, page count, current page, per page."""
        return (self.total, self.page_count, self.current_page, self.per_page)


@dataclass(frozen=True)
class ApiModel:
    """The API the spec describes: resources by name, paging, error shapes, security."""

    spec: Spec
    resources: dict[str, Resource]
    pagination: Pagination
    error_required: tuple[str, ...]
    validation_item_required: tuple[str, ...]
    security_schemes: dict[str, Any] = field(default_factory=dict)
    error_names: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """The `name` each error status's example gives (e.g. 413 -> "Payload Too Large")."""

    @property
    def path(self) -> Path:
        return self.spec.path

    @property
    def document(self) -> dict[str, Any]:
        return self.spec.document

    @property
    def root(self) -> Resource:
        """The resource the others depend on (the one without a parent)."""
        return next(r for r in self.resources.values() if r.parent is None)

    def children(self, parent: Resource) -> list[Resource]:
        """Resources whose records point at a record of `parent`."""
        return [r for r in self.resources.values() if r.parent == parent.name]

    def documented_methods(self, template: str) -> list[str]:
        """The methods the spec declares on a path, upper case."""
        item = self.document["paths"].get(template, {})
        return [m.upper() for m in item if m in HTTP_METHODS]


def read_api(spec: Spec) -> ApiModel:
    """The API model of `spec`; `ModelError` when it does not follow the convention."""
    try:
        return _api(spec)
    except (KeyError, IndexError, TypeError, StopIteration, AttributeError) as exc:
        raise ModelError(
            f"the spec {spec.path} does not describe the ActionSession convention: missing {exc}"
        ) from exc


def _kind(document: Mapping[str, Any], name: str, schema: Any) -> FieldKind:
    """Reduce a (possibly anyOf'd, nullable) schema to the kind of its non-empty values."""
    schema = resolve(document, schema)
    nullable = bool(schema.get("nullable"))
    if "anyOf" in schema or "oneOf" in schema:
        branches = [resolve(document, b) for b in schema.get("anyOf", schema.get("oneOf", []))]
        # The filter schemas add a null-or-"" branch; the kind is the other one.
        real = [b for b in branches if b.get("maxLength") != 0]
        nullable = nullable or len(real) < len(branches)
        schema = real[0] if real else branches[0]
    kind = str(schema.get("type", "object"))
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        kind = str(schema["format"])
    enum = schema.get("enum")
    return FieldKind(
        name=name,
        kind=kind,
        enum=tuple(v for v in enum if v not in (None, "")) if enum else None,
        nullable=nullable or bool(schema.get("nullable")),
        min_length=int(schema.get("minLength", 0)),
        max_length=schema.get("maxLength"),
        default=schema.get("default"),
        has_default="default" in schema,
        minimum=schema["minimum"] if isinstance(schema.get("minimum"), int | float) else None,
    )


def _properties(document: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    schema = resolve(document, schema)
    props: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        props.update(_properties(document, part))
    props.update(schema.get("properties", {}))
    return props


def _json_schema(document: Mapping[str, Any], node: Any) -> Any:
    return resolve(document, resolve(document, node)["content"]["application/json"]["schema"])


def _api(spec: Spec) -> ApiModel:
    document = spec.document
    by_resource: dict[str, dict[str, Operation]] = {}
    for op in spec.operations.values():
        prefix, _, verb = op.operation_id.rpartition(".")
        if verb in RESOURCE_OPERATIONS:
            by_resource.setdefault(prefix, {})[verb] = op
    resources: dict[str, Resource] = {}
    pagination: Pagination | None = None
    for name, ops in by_resource.items():
        if set(ops) != set(RESOURCE_OPERATIONS):
            continue
        raw = {verb: _raw_operation(document, op) for verb, op in ops.items()}
        ok = resolve(document, raw["index"]["responses"]["200"])
        item_props = _properties(document, _json_schema(document, ok)["items"])
        create_ok = resolve(document, raw["create"]["responses"]["201"])
        view_id = next(
            link["parameters"]["id"]
            for link in create_ok.get("links", {}).values()
            if link.get("operationId") == f"{name}.view"
        )
        create_body = _json_schema(document, resolve(document, raw["create"]["requestBody"]))
        update_body = _json_schema(document, resolve(document, raw["update"]["requestBody"]))
        index_body = _json_schema(document, resolve(document, raw["index"]["requestBody"]))
        index_props = _properties(document, index_body)
        if pagination is None:
            pagination = _pagination(document, ok, index_props)
        resources[name] = Resource(
            name=name,
            entity=str((raw["index"].get("tags") or [name])[0]),
            paths={verb: op.path for verb, op in ops.items()},
            methods={verb: op.method for verb, op in ops.items()},
            id_field=str(view_id).split("#/")[-1],
            item_fields={n: _kind(document, n, s) for n, s in item_props.items()},
            stored_fields=tuple(_properties(document, _json_schema(document, create_ok))),
            read_only=tuple(
                n for n, s in item_props.items() if resolve(document, s).get("readOnly")
            ),
            writable={
                n: _kind(document, n, s) for n, s in _properties(document, create_body).items()
            },
            required_on_create=tuple(create_body.get("required", [])),
            updatable={
                n: _kind(document, n, s) for n, s in _properties(document, update_body).items()
            },
            filter_fields={
                n: _kind(document, n, s)
                for n, s in _properties(document, index_props["filter"]).items()
            },
            sort_aliases=spec.sort_aliases(f"{name}.index"),
        )
    if not resources or pagination is None:
        raise ModelError(f"the spec {spec.path} declares no resource with all five operations")
    # A child resource requires, on create, the id field of another resource.
    for name, res in list(resources.items()):
        for other in resources.values():
            if other is not res and other.id_field in res.required_on_create:
                resources[name] = dataclasses.replace(
                    res, parent_field=other.id_field, parent=other.name
                )
    schemas = document.get("components", {}).get("schemas", {})
    error = resolve(document, schemas.get("Error", {}))
    validation = resolve(document, schemas.get("ValidationErrors", {}))
    return ApiModel(
        spec=spec,
        resources=resources,
        pagination=pagination,
        error_required=tuple(error.get("required", ("name", "message", "code", "status"))),
        validation_item_required=tuple(
            resolve(document, validation.get("items", {})).get("required", ("field", "message"))
        ),
        security_schemes=dict(document.get("components", {}).get("securitySchemes", {})),
        error_names=_error_names(document),
    )


def _raw_operation(document: Mapping[str, Any], op: Operation) -> dict[str, Any]:
    return dict(document["paths"][op.path][op.method.lower()])


def _pagination(
    document: Mapping[str, Any], ok: Mapping[str, Any], index_props: Mapping[str, Any]
) -> Pagination:
    headers = ok["headers"]
    names = {n.lower(): n for n in headers}
    per_page_name = names["x-pagination-per-page"]
    per_page_schema = resolve(document, resolve(document, headers[per_page_name])["schema"])
    page_size = resolve(document, index_props["per-page"])
    page = resolve(document, index_props.get("page", {}))
    return Pagination(
        total=names["x-pagination-total-count"],
        page_count=names["x-pagination-page-count"],
        current_page=names["x-pagination-current-page"],
        per_page=per_page_name,
        # The request may ask for more than the cap (it is served the cap); the header says the cap.
        max_per_page=int(per_page_schema["maximum"]),
        default_per_page=int(page_size.get("default", per_page_schema["maximum"])),
        first_page=int(page.get("minimum", 1)),
    )


def _error_names(document: Mapping[str, Any]) -> dict[int, tuple[str, ...]]:
    names: dict[int, set[str]] = {}
    for response in document.get("components", {}).get("responses", {}).values():
        for media in response.get("content", {}).values():
            example = media.get("example")
            if isinstance(example, dict) and isinstance(example.get("status"), int):
                if isinstance(example.get("name"), str):
                    names.setdefault(example["status"], set()).add(example["name"])
    return {status: tuple(sorted(found)) for status, found in names.items()}
