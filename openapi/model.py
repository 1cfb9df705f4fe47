"""The API model read from an OpenAPI 3.0 document: its operations, responses and extensions.

Parts of the kit that need to know what the contract declares (an operation's statuses, their
bodies, headers and examples, the index's sort aliases) read it here rather than restating it.
Loading and `$ref` resolution are `openapi.document`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi.document import HTTP_METHODS, load_document, resolve


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
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(op.path))
            self._routes.append((op.method, re.compile(pattern + "$"), op))

    def match(self, method: str, path: str) -> Operation | None:
        """The operation that serves `method` on the concrete `path`, if the document has one."""
        for op_method, pattern, op in self._routes:
            if op_method == method.upper() and pattern.match(path):
                return op
        return None

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
