"""The spec as the linter sees it: a `LocatedDocument` with lenient lookups, and the operations.

Owns the view every rule reads: nodes by JSON pointer (None where nothing is), `$ref`s followed
without raising (the structure rule reports the ones that do not resolve), the line of a pointer,
and the table of operations and parameters the rules walk. Reading the text, line numbers,
pointers and `$ref`s themselves are `openapi.document`'s; rules never parse YAML.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from openapi.document import (
    HTTP_METHODS,
    LocatedDocument,
    SpecError,
    parse_located,
    pointer_get,
    ref_pointer,
    resolve_at,
)
from openapi.document import join_pointer as join
from openapi.document import split_pointer as split
from openapi.specsource import load_source

__all__ = ["HTTP_METHODS", "SpecDocument", "display", "join", "load", "parse", "split"]


def display(pointer: str) -> str:
    """`pointer` as people read it in messages: `#/paths/~1v2~1x/get`."""
    return "#" + pointer


# eq=False: a document is equal only to itself, so rules can cache per-document work by identity.
@dataclass(frozen=True, eq=False)
class SpecDocument:
    """A parsed spec as the rules read it: `data` as JSON would hold it, and where each node is."""

    located: LocatedDocument

    @property
    def source(self) -> str:
        """The spec as it was named (a path or `git:REV:PATH`): the file of every finding."""
        return self.located.source

    @property
    def data(self) -> dict[str, Any]:
        """The document's data."""
        return self.located.data

    @property
    def duplicate_keys(self) -> tuple[tuple[str, int], ...]:
        """Members written twice in one mapping (pointer, line of the repeat)."""
        return self.located.duplicate_keys

    def line_of(self, pointer: str) -> int:
        """The line of the node at `pointer`, or of its nearest ancestor present in the file."""
        return self.located.line_of(pointer) or 1

    def get(self, pointer: str) -> Any:
        """The value at `pointer`, or None when nothing is there."""
        try:
            return pointer_get(self.data, pointer)
        except SpecError:
            return None

    def has(self, pointer: str) -> bool:
        """Whether something (even null) is at `pointer`."""
        try:
            pointer_get(self.data, pointer)
        except SpecError:
            return False
        return True

    def ref_target(self, ref: str) -> str | None:
        """The pointer a local `$ref` names when it resolves in this document, else None."""
        try:
            target = ref_pointer(ref)
        except SpecError:
            return None
        return target if self.has(target) else None

    def deref(self, value: Any, pointer: str) -> tuple[Any, str]:
        """Follow `value` (found at `pointer`) through `$ref`s to the object it stands for.

        Returns the object and the pointer it is defined at; an unresolvable or cyclic reference
        gives (None, `pointer`), which rules treat as "nothing to check" because the structure
        rule already reports it.
        """
        try:
            return resolve_at(self.data, value, pointer)
        except SpecError:
            return None, pointer


@dataclass(frozen=True)
class Operation:
    """One operation of the spec and where it sits."""

    path: str
    method: str
    pointer: str
    data: dict[str, Any]
    path_item: dict[str, Any]

    @property
    def label(self) -> str:
        """How messages name the operation: its operationId, else `METHOD /path`."""
        operation_id = self.data.get("operationId")
        if isinstance(operation_id, str) and operation_id:
            return operation_id
        return f"{self.method.upper()} {self.path}"


def operations(doc: SpecDocument) -> Iterator[Operation]:
    """Every operation under `paths`, in file order."""
    paths = doc.data.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item_or_ref in paths.items():
        item, _ = doc.deref(item_or_ref, join("/paths", path))
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield Operation(path, method, join("/paths", path, method), operation, item)


def parameters(doc: SpecDocument, operation: Operation) -> list[tuple[dict[str, Any], str]]:
    """The operation's effective parameters (path-level ones overridden by its own), dereferenced.

    Each comes with the pointer where it is written in the operation or path item, so a finding
    about it points at the use, not at a shared component.
    """
    effective: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    path_pointer = join("/paths", operation.path)
    for owner, owner_pointer in (
        (operation.path_item, path_pointer),
        (operation.data, operation.pointer),
    ):
        listed = owner.get("parameters")
        if not isinstance(listed, list):
            continue
        for index, raw in enumerate(listed):
            use_pointer = join(owner_pointer, "parameters", index)
            parameter, _ = doc.deref(raw, use_pointer)
            if isinstance(parameter, dict):
                key = (str(parameter.get("name")), str(parameter.get("in")))
                effective[key] = (parameter, use_pointer)
    return list(effective.values())


# Members whose values are data, not OpenAPI objects: a `$ref` inside an example is literal text.
_LITERAL_MEMBERS = frozenset({"example", "default", "enum"})


def references(doc: SpecDocument) -> Iterator[tuple[str, str]]:
    """Every `$ref` in the document: the pointer of the object holding it, and its value."""
    return references_in(doc.data, "")


def references_in(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every `$ref` in `value` (found at `pointer`), without following them."""
    stack: list[tuple[Any, str, str | None]] = [(value, pointer, None)]
    while stack:
        node, pointer, parent_key = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield pointer, ref
            in_properties = parent_key == "properties"
            for key, value in node.items():
                if not in_properties and (key in _LITERAL_MEMBERS or key.startswith("x-")):
                    continue
                if key == "value" and _is_example_object(pointer):
                    continue
                stack.append((value, join(pointer, key), key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                stack.append((value, join(pointer, index), parent_key))


def _is_example_object(pointer: str) -> bool:
    tokens = split(pointer)
    return len(tokens) >= 2 and tokens[-2] == "examples"


def load(source: str) -> SpecDocument:
    """Read `source` (a file path, or `git:REV:PATH`) into a `SpecDocument`; `SpecError` if it
    cannot be read, is not YAML (JSON is YAML), or is not a mapping."""
    return SpecDocument(load_source(source))


def parse(text: str, source: str) -> SpecDocument:
    """Parse spec `text` (named `source` in findings) into a `SpecDocument`."""
    return SpecDocument(parse_located(text, source))
