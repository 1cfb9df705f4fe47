"""Reading an OpenAPI document: one YAML/JSON loader, JSON pointers and local `$ref` resolution.

Every part of the kit (the mock, the suite, lint and diff) loads the contract here, so that they
agree on what a document says. Dates stay strings: a YAML `2024-01-10` is the JSON string the API
answers, not a `datetime.date`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(ValueError):
    """The document cannot be read, or a `$ref` in it leads nowhere."""


class _StringDateLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: dates stay the strings the API exchanges."""


_StringDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> Any:
    """YAML (or JSON) text as data, dates as strings; `yaml.YAMLError` when it is not."""
    return yaml.load(text, Loader=_StringDateLoader)  # noqa: S506 - a SafeLoader subclass


def load_document(path: str | Path) -> dict[str, Any]:
    """The YAML or JSON document at `path`, dates as strings."""
    try:
        document = parse_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise SpecError(f"{path} is not an OpenAPI document (expected a mapping)")
    return document


def pointer_get(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer (`#/components/schemas/Error` or `/components/...`)."""
    node = document
    for raw in pointer.lstrip("#").split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise SpecError(f"{pointer} leads nowhere")
    return node


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """`node` with a local `$ref` (and chains of them) followed; other nodes as they are."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#") or ref in seen:
            raise SpecError(f"cannot resolve {ref}")
        seen.add(ref)
        node = pointer_get(document, ref)
    return node
