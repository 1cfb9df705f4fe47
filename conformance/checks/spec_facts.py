"""Facts of the spec the checks need and `conformance.contract` does not (yet) model.

Owns reading, from the contract's document, the declared defaults of a resource's create body,
the minimums of its update body and the sort aliases of its index. Kept apart so that the lead's move of the API model into
`openapi/model.py` can absorb these two functions without touching the checks.
"""

from __future__ import annotations

from typing import Any

from conformance.contract import Contract, Resource


def _resolve(document: dict[str, Any], node: Any) -> Any:
    for _ in range(20):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _request_schema(contract: Contract, resource: Resource, operation: str) -> dict[str, Any]:
    item = contract.document["paths"][resource.paths[operation]]
    op = item[resource.methods[operation].lower()]
    media = _resolve(contract.document, op.get("requestBody", {})).get("content", {})
    schema = _resolve(contract.document, media.get("application/json", {}).get("schema", {}))
    return schema if isinstance(schema, dict) else {}


def create_defaults(contract: Contract, resource: Resource) -> dict[str, Any]:
    """The `default` each member of the create body declares (members without one are absent)."""
    props = _request_schema(contract, resource, "create").get("properties", {})
    out: dict[str, Any] = {}
    for name, schema in props.items():
        resolved = _resolve(contract.document, schema)
        if isinstance(resolved, dict) and "default" in resolved:
            out[name] = resolved["default"]
    return out


def minimums(contract: Contract, resource: Resource) -> dict[str, int | float]:
    """The `minimum` each numeric member of the update body declares (e.g. `validity` >= 0)."""
    props = _request_schema(contract, resource, "update").get("properties", {})
    out: dict[str, int | float] = {}
    for name, schema in props.items():
        resolved = _resolve(contract.document, schema)
        if isinstance(resolved, dict) and isinstance(resolved.get("minimum"), int | float):
            out[name] = resolved["minimum"]
    return out


def sort_aliases(contract: Contract, resource: Resource) -> dict[str, str]:
    """The index's `x-sort-aliases` (alias -> field), e.g. sessions' `name` -> `action_name`."""
    props = _request_schema(contract, resource, "index").get("properties", {})
    sort = _resolve(contract.document, props.get("sort", {}))
    aliases = sort.get("x-sort-aliases", {}) if isinstance(sort, dict) else {}
    return {str(k): str(v) for k, v in aliases.items()}
