"""The spec as the linter sees it: JSON-compatible data, the YAML line of every node, local `$ref`s.

Owns turning spec text into a `SpecDocument` (data plus a JSON-pointer → line table), JSON pointer
arithmetic, resolving local references, and the table of operations every rule walks. Rules never
parse YAML or follow `$ref` chains themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from conformance.specsource import SpecSourceError, load_spec_text

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecLoadError(Exception):
    """The spec could not be read or is not YAML describing a mapping; the message is one line."""


class _JsonCompatibleLoader(yaml.SafeLoader):
    """A YAML loader that reads scalars the way JSON-minded OpenAPI tools do.

    PyYAML follows YAML 1.1, which turns an unquoted `2024-01-10` into a `datetime.date`; Spectral,
    Redocly and every HTTP client see the string, so an example written that way must be checked as
    a string, not rejected (or accepted) for being a date object.
    """


_JsonCompatibleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def escape_token(token: str | int) -> str:
    """One JSON pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """The member name a JSON pointer reference token stands for."""
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    """`pointer` extended by `tokens`, each escaped."""
    return pointer + "".join("/" + escape_token(token) for token in tokens)


def split(pointer: str) -> list[str]:
    """The unescaped reference tokens of `pointer` ("" is the root, no tokens)."""
    return [unescape_token(token) for token in pointer.split("/")[1:]] if pointer else []


def display(pointer: str) -> str:
    """`pointer` as people read it in messages: `#/paths/~1v2~1x/get`."""
    return "#" + pointer


# eq=False: a document is equal only to itself, so rules can cache per-document work by identity.
@dataclass(frozen=True, eq=False)
class SpecDocument:
    """A parsed spec: `data` as JSON would hold it, and the line each node starts on in `source`."""

    source: str
    data: dict[str, Any]
    lines: Mapping[str, int] = field(repr=False)

    def line_of(self, pointer: str) -> int:
        """The line of the node at `pointer`, or of its nearest ancestor present in the file.

        A mapping member's line is its key's line: that is where a reader looks for `responses:`,
        not at the first line of its value.
        """
        tokens = pointer.split("/")
        while tokens:
            line = self.lines.get("/".join(tokens))
            if line is not None:
                return line
            tokens.pop()
        return 1

    def get(self, pointer: str) -> Any:
        """The value at `pointer`, or None when nothing is there."""
        node: Any = self.data
        for token in split(pointer):
            if isinstance(node, dict):
                node = node.get(token)
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def has(self, pointer: str) -> bool:
        """Whether something (even null) is at `pointer`."""
        node: Any = self.data
        for token in split(pointer):
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return False
        return True

    def ref_target(self, ref: str) -> str | None:
        """The pointer a local `$ref` names when it resolves in this document, else None."""
        if not ref.startswith("#"):
            return None
        pointer = ref[1:]
        if pointer and not pointer.startswith("/"):
            return None
        return pointer if self.has(pointer) else None

    def deref(self, value: Any, pointer: str) -> tuple[Any, str]:
        """Follow `value` (found at `pointer`) through `$ref`s to the object it stands for.

        Returns the object and the pointer it is defined at; an unresolvable or cyclic reference
        gives (None, pointer of the last `$ref`), which rules treat as "nothing to check" because
        the structure rule already reports it.
        """
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            target = self.ref_target(value["$ref"])
            if target is None or target in seen:
                return None, pointer
            seen.add(target)
            value, pointer = self.get(target), target
        return value, pointer


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
    """Read `source` (a file path, or `git:REV:PATH`) into a `SpecDocument`.

    Raises `SpecLoadError` when it cannot be read, is not YAML (JSON is YAML), or is not a mapping.
    """
    try:
        text = load_spec_text(source)
    except SpecSourceError as exc:
        raise SpecLoadError(str(exc)) from exc
    return parse(text, source)


def parse(text: str, source: str) -> SpecDocument:
    """Parse spec `text` (named `source` in findings) into a `SpecDocument`."""
    loader = _JsonCompatibleLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SpecLoadError(f"{source}: the file is empty")
        lines: dict[str, int] = {"": root.start_mark.line + 1}
        data = _build(loader, root, "", lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecLoadError(
            f"{source}: not valid YAML{where}: {exc.problem or exc.context}"
        ) from exc
    except yaml.YAMLError as exc:
        raise SpecLoadError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from exc
    except RecursionError as exc:
        raise SpecLoadError(
            f"{source}: the YAML nests too deeply (or an alias refers to itself)"
        ) from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise SpecLoadError(f"{source}: not an OpenAPI document (the top level is not a mapping)")
    return SpecDocument(source, data, lines)


def _build(
    loader: _JsonCompatibleLoader, node: yaml.Node, pointer: str, lines: dict[str, int]
) -> Any:
    """The JSON-compatible value of `node`, recording the line of every member on the way."""
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # `<<` merge keys, as safe_load would apply them
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecLoadError(
                    f"line {key_node.start_mark.line + 1}: a mapping key is not a scalar"
                )
            # JSON object keys are strings; an unquoted `200:` response code must still be "200".
            key = loader.construct_object(key_node)
            key = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
            child = join(pointer, key)
            lines[child] = key_node.start_mark.line + 1
            mapping[key] = _build(loader, value_node, child, lines)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for index, item_node in enumerate(node.value):
            child = join(pointer, index)
            lines[child] = item_node.start_mark.line + 1
            items.append(_build(loader, item_node, child, lines))
        return items
    return loader.construct_object(node)
