"""A node of one document as the comparison sees it: its value and where it is written.

Owns `Node` (a value and its JSON pointer, after following `$ref`s; a schema merged from `allOf`
parts remembers the part each keyword came from), the pointer of a keyword inside a node, and the
lenient reading of values: a document that is not valid OpenAPI must not crash the comparison,
so where a keyword's value has the wrong JSON type it is read as absent (reporting that is the
linter's job). Pointers and `$ref`s themselves are `openapi.document`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from openapi.document import join_pointer, resolve_at

Side = Literal["request", "response"]
"""Which way data travels: what a client sends, or what it receives."""
Document = Literal["old", "new"]


@dataclass(frozen=True)
class Node:
    """A value in one document and the pointer where it physically is (after following $refs).

    A schema merged from allOf parts has no single place: `origins` maps each keyword it took
    from a part (and `properties/NAME` for each member) to the pointer of that part.
    """

    value: Any
    pointer: str
    origins: Mapping[str, str] | None = None


def origin(node: Node, *tokens: str | int) -> str:
    """The pointer of the schema object holding `tokens` (a keyword, or properties and a name)."""
    if node.origins and tokens:
        if len(tokens) > 1 and f"{tokens[0]}/{tokens[1]}" in node.origins:
            return node.origins[f"{tokens[0]}/{tokens[1]}"]
        if str(tokens[0]) in node.origins:
            return node.origins[str(tokens[0])]
    return node.pointer


def at(node: Node, *tokens: str | int) -> str:
    """The pointer of `tokens` inside `node`, where it physically is."""
    return join_pointer(origin(node, *tokens), *tokens)


def resolve_node(document: Mapping[str, Any], value: Any, pointer: str) -> Node:
    """`value` (found at `pointer`) with its `$ref`s followed; `SpecError` if one leads nowhere."""
    target, where = resolve_at(document, value, pointer)
    return Node(target, where)


def mapping(value: Any) -> dict[str, Any]:
    """`value` if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is an array, else an empty one."""
    return value if isinstance(value, list) else []


def number(value: Any) -> int | float | None:
    """`value` if it is a number (not a boolean), else None."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def show(value: Any) -> str:
    """`value` as canonical JSON text, for messages and for comparing values by content."""
    return json.dumps(value, sort_keys=True, default=str)
