"""The spec as the linter sees it: JSON-compatible data, the YAML line of every node, local `$ref`s.

Owns turning spec text into a `SpecDocument` (data plus a JSON-pointer → line table), JSON pointer
arithmetic, resolving local references, and the table of operations every rule walks. Rules never
parse YAML or follow `$ref` chains themselves.
"""

from __future__ import annotations

import json
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
    duplicate_keys: tuple[tuple[str, int], ...] = ()
    """Members written twice in one mapping (pointer, line of the repeat); the last one counts."""

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
    try:
        json_data: Any = json.loads(text)
    except ValueError:
        json_data = _NOT_JSON
    if json_data is not _NOT_JSON:
        # JSON is read as JSON (YAML 1.1 reads `1e5` as a string); YAML only supplies the lines.
        # Valid JSON holds tabs only between tokens, where a space means the same to YAML, which
        # rejects tabs there.
        try:
            builder = _Builder(source, text.replace("\t", " "))
        except SpecLoadError:
            builder = None
        if not isinstance(json_data, dict):
            raise SpecLoadError(
                f"{source}: not an OpenAPI document (the top level is not a mapping)"
            )
        if builder is None:
            return SpecDocument(source, json_data, {"": 1})
        return SpecDocument(source, json_data, builder.lines, tuple(builder.duplicates))
    builder = _Builder(source, text)
    if not isinstance(builder.data, dict):
        raise SpecLoadError(f"{source}: not an OpenAPI document (the top level is not a mapping)")
    return SpecDocument(source, builder.data, builder.lines, tuple(builder.duplicates))


_NOT_JSON = object()


class _Builder:
    """Composes YAML text once, building the JSON-compatible data and the line table together."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = []
        self._loader = _JsonCompatibleLoader(text)
        try:
            root = self._loader.get_single_node()
            if root is None:
                raise SpecLoadError(f"{source}: the file is empty")
            self.lines[""] = root.start_mark.line + 1
            self.data: Any = self._build(root, "")
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
            self._loader.dispose()

    def _build(self, node: yaml.Node, pointer: str) -> Any:
        """The JSON-compatible value of `node`, recording the line of every member on the way."""
        if isinstance(node, yaml.MappingNode):
            self._note_duplicates(node, pointer)
            self._loader.flatten_mapping(node)  # `<<` merge keys, as safe_load would apply them
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node)
                child = join(pointer, key)
                self.lines[child] = key_node.start_mark.line + 1
                mapping[key] = self._build(value_node, child)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            for index, item_node in enumerate(node.value):
                child = join(pointer, index)
                self.lines[child] = item_node.start_mark.line + 1
                items.append(self._build(item_node, child))
            return items
        return self._loader.construct_object(node)

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise SpecLoadError(
                f"{self.source}: line {node.start_mark.line + 1}: a mapping key is not a scalar"
            )
        # JSON object keys are strings; an unquoted `200:` response code must still be "200".
        key = self._loader.construct_object(node)
        return "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)

    def _note_duplicates(self, node: yaml.MappingNode, pointer: str) -> None:
        """Record keys written twice in one mapping: YAML loaders silently keep the last one."""
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self._key(key_node)
            if key in seen:
                self.duplicates.append((join(pointer, key), key_node.start_mark.line + 1))
            seen.add(key)
