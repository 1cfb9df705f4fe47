"""Reading an OpenAPI document: one YAML/JSON loader, JSON pointers and local `$ref` resolution.

Every part of the kit (the mock, the suite, lint and diff) loads the contract here, so that they
agree on what a document says. Dates stay strings: a YAML `2024-01-10` is the JSON string the API
answers, not a `datetime.date`. The spec tools also read through here with line numbers
(`parse_located`) and follow `$ref`s to where their targets are written (`resolve_at`).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

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


_StringDateCLoader: type[yaml.CSafeLoader] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(yaml.CSafeLoader):
        """The same loader on libyaml's parser."""

    _CLoader.yaml_implicit_resolvers = _StringDateLoader.yaml_implicit_resolvers
    _StringDateCLoader = _CLoader


def parse_yaml(text: str) -> Any:
    """YAML (or JSON) text as data, dates as strings; `yaml.YAMLError` when it is not."""
    if _StringDateCLoader is not None:
        # libyaml parses about 7x faster than the pure-Python parser (the mock reads its two
        # specs at every start). On an error, the pure parser reads the text again so that the
        # message (wording, line and column) is the same with or without libyaml.
        try:
            return yaml.load(text, Loader=_StringDateCLoader)  # noqa: S506 - SafeLoader's rules
        except yaml.YAMLError:
            pass
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


# --- Building pointers, and `$ref`s followed to where their target is written -------------------
# The spec tools (lint, diff) report places, so besides the node they need its pointer.


def escape_token(token: str | int) -> str:
    """One JSON pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    """`pointer` extended by `tokens`, each escaped (`join_pointer("/paths", "/v2/x")`)."""
    return pointer + "".join("/" + escape_token(token) for token in tokens)


def split_pointer(pointer: str) -> list[str]:
    """The unescaped reference tokens of `pointer` ("" is the root: no tokens)."""
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def ref_pointer(ref: str) -> str:
    """The JSON pointer a local `$ref` names (`#/a/b` -> `/a/b`); `SpecError` for any other `$ref`.

    The fragment of a URI is percent-encoded (RFC 3986), so `%20` stands for a space.
    """
    pointer = unquote(ref[1:]) if ref.startswith("#") else None
    if pointer is None or (pointer and not pointer.startswith("/")):
        raise SpecError(f"{ref} is not a local reference (the spec tools read one-file specs)")
    return pointer


def resolve_at(document: Mapping[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """`node` (found at `pointer`) with local `$ref`s followed, and the pointer where it is written.

    `SpecError` when a `$ref` is not local, leads nowhere, or a chain of them comes back on itself.
    """
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        target = ref_pointer(ref)
        if target in seen:
            raise SpecError(f"{ref} refers back to itself through $refs alone")
        seen.add(target)
        node, pointer = pointer_get(document, target) if target else document, target
    return node, pointer


# --- Reading with line numbers ------------------------------------------------------------------
# Lint and diff name the file and line of what they report. Reading YAML keeps the line of every
# node as it is composed (one pass, about the cost of a plain load). JSON is read by `json` and
# located only when a line is asked for, so a large JSON spec with nothing to report costs no more
# than `json.loads`.


class LocatedDocument:
    """A spec read from text: its data, where it came from, and the line of any pointer in it.

    Equal only to itself (no `__eq__`), so callers may cache work per document by identity.
    """

    def __init__(
        self,
        source: str,
        data: dict[str, Any],
        lines: Mapping[str, int] | None = None,
        duplicate_keys: tuple[tuple[str, int], ...] = (),
        *,
        text: str | None = None,
    ) -> None:
        self.source = source
        self.data = data
        self._lines = lines
        self._duplicates = duplicate_keys
        self._json = _JsonLines(text) if lines is None and text is not None else None

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str) -> LocatedDocument:
        """A document held in memory (no text): `line_of` answers None."""
        return cls(source, data)

    def line_of(self, pointer: str) -> int | None:
        """The line of the node at `pointer`, or of its nearest ancestor written in the file.

        A member's line is its key's line (where a reader looks for `responses:`); None for a
        document that has no text.
        """
        if self._json is not None:
            return self._json.line_of(pointer)
        if self._lines is None:
            return None
        tokens = pointer.split("/")
        while tokens:
            line = self._lines.get("/".join(tokens))
            if line is not None:
                return line
            tokens.pop()
        return 1

    @property
    def duplicate_keys(self) -> tuple[tuple[str, int], ...]:
        """Members written twice in one mapping (pointer, line of the repeat); the last one counts."""
        if self._json is not None:
            return self._json.duplicate_keys(self.source)
        return self._duplicates


def parse_located(text: str, source: str) -> LocatedDocument:
    """Read spec `text` (YAML or JSON; `source` names it in messages) with the line of every node.

    Dates stay strings, as in `load_document`. `SpecError` when the text is not YAML or JSON
    describing a mapping; the message is one line.
    """
    try:
        data: Any = json.loads(text)
    except ValueError:
        pass
    else:
        # JSON is read as JSON: YAML 1.1 reads a few JSON texts differently (`1e5` is a string).
        if not isinstance(data, dict):
            raise SpecError(f"{source}: not an OpenAPI document (the top level is not a mapping)")
        return LocatedDocument(source, data, text=text)
    builder = _LineBuilder(source, text)
    if not isinstance(builder.data, dict):
        raise SpecError(f"{source}: not an OpenAPI document (the top level is not a mapping)")
    return LocatedDocument(source, builder.data, builder.lines, tuple(builder.duplicates))


class _LineBuilder:
    """Composes YAML text once, building the data and the pointer -> line table together."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = []
        self._loader = _StringDateLoader(text)
        try:
            root = self._loader.get_single_node()
            if root is None:
                raise SpecError(f"{source}: the file is empty")
            self.lines[""] = root.start_mark.line + 1
            self.data: Any = self._build(root, "")
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise SpecError(
                f"{source}: not valid YAML{where}: {exc.problem or exc.context}"
            ) from exc
        except yaml.YAMLError as exc:
            raise SpecError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from exc
        except RecursionError as exc:
            raise SpecError(
                f"{source}: the YAML nests too deeply (or an alias refers to itself)"
            ) from exc
        finally:
            self._loader.dispose()

    def _build(self, node: yaml.Node, pointer: str) -> Any:
        """The JSON-compatible value of `node`, recording the line of every member on the way."""
        if isinstance(node, yaml.MappingNode):
            self._note_duplicates(node, pointer)
            self._loader.flatten_mapping(node)  # `<<` merge keys, as a plain load applies them
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node)
                child = join_pointer(pointer, key)
                self.lines[child] = key_node.start_mark.line + 1
                mapping[key] = self._build(value_node, child)
            return mapping
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            for index, item_node in enumerate(node.value):
                child = join_pointer(pointer, index)
                self.lines[child] = item_node.start_mark.line + 1
                items.append(self._build(item_node, child))
            return items
        return self._loader.construct_object(node)

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise SpecError(
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
                self.duplicates.append((join_pointer(pointer, key), key_node.start_mark.line + 1))
            seen.add(key)


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class _JsonLines:
    """Lines of pointers into JSON text, found on demand by walking down to each one.

    Only the containers on the way are scanned, and the siblings before each step are skipped by
    the C decoder, so locating the few places a report names costs a fraction of a parse.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._decoder = json.JSONDecoder()
        # pointer -> (offset of its value, offset of its key, or of the item itself)
        self._places: dict[str, tuple[int, int]] = {}
        start = _JSON_SPACE.match(text, 0)
        root = start.end() if start else 0
        self._places[""] = (root, root)
        self._newlines: list[int] | None = None
        self._duplicates: tuple[tuple[str, int], ...] | None = None

    def line_of(self, pointer: str) -> int:
        place = ""
        offset = self._places[""][1]
        for token in split_pointer(pointer):
            child = join_pointer(place, token)
            if child not in self._places and not self._scan_to(place, token):
                break
            place = child
            offset = self._places[child][1]
        return self._line_at(offset)

    def _scan_to(self, pointer: str, token: str) -> bool:
        """Record the members (or items) of the container at `pointer` up to `token`."""
        text, skip = self._text, self._decoder.raw_decode
        position = self._places[pointer][0]
        if position >= len(text) or text[position] not in "{[":
            return False
        is_object = text[position] == "{"
        position += 1
        index = 0
        while True:
            position = self._space(position)
            if position >= len(text) or text[position] in "}]":
                return False
            if text[position] == ",":
                position = self._space(position + 1)
            if is_object:
                key_at = position
                key, position = skip(text, position)
                position = self._space(position)
                position = self._space(position + 1)  # the colon
                name = str(key)
            else:
                key_at, name = position, str(index)
                index += 1
            child = join_pointer(pointer, name)
            self._places.setdefault(child, (position, key_at))
            if name == token:
                return True
            _, position = skip(text, position)

    def _space(self, position: int) -> int:
        found = _JSON_SPACE.match(self._text, position)
        return found.end() if found else position

    def _line_at(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self._text)]
        return bisect.bisect_right(self._newlines, offset - 1) + 1

    def duplicate_keys(self, source: str) -> tuple[tuple[str, int], ...]:
        """Members written twice: found by a second decode, placed by the YAML builder if any."""
        if self._duplicates is None:
            repeated = False

            def pairs(members: list[tuple[str, Any]]) -> dict[str, Any]:
                nonlocal repeated
                repeated = repeated or len({key for key, _ in members}) != len(members)
                return dict(members)

            json.loads(self._text, object_pairs_hook=pairs)
            found: tuple[tuple[str, int], ...] = ()
            if repeated:
                # Rare, so the slow YAML composer may locate them; JSON holds tabs only between
                # tokens, where a space means the same to YAML, which rejects tabs there.
                try:
                    found = tuple(_LineBuilder(source, self._text.replace("\t", " ")).duplicates)
                except SpecError:
                    found = ()
            self._duplicates = found
        return self._duplicates
