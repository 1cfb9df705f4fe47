"""The contract's guesses: clauses no public source states, marked in the spec with `x-guess`.

The marker convention (on a schema, parameter, response, operation or security scheme)::

    x-guess:
      id: id-syntax                               # stable name, used in reports and baselines
      keywords: [minLength, maxLength, pattern]   # optional: only these keywords are guessed
      note: No public source gives the syntax of client-chosen ids.

Without `keywords` the whole object is the guess. Owns reading the markers, locating the spec node
a Schemathesis failure rests on (`locate`), and deciding which guess, if any, a finding rests on
only (`guess_of`): a failure whose violated keyword is marked as guessed, or a suite check
registered as resting on a guess (`registry.check(..., guess=ID)`) whose marker is still in the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MARKER = "x-guess"


@dataclass(frozen=True)
class Guess:
    """One guessed clause of the contract and where the spec marks it."""

    id: str
    note: str
    pointer: str  # JSON pointer of the marked node
    keywords: tuple[str, ...] = ()  # empty: the whole node is the guess

    def describe(self) -> str:
        """A line a person reads: which clause is a guess and why."""
        where = f"#{self.pointer}" + (f" ({', '.join(self.keywords)})" if self.keywords else "")
        return f"{self.id} at {where}: {self.note}"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key != MARKER:
                yield from _walk(value, f"{pointer}/{_escape(str(key))}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{n}")


def guesses(document: dict[str, Any]) -> list[Guess]:
    """Every `x-guess` marker of the spec, in document order (a marker without a string `id` is
    skipped; tests/conformance/test_guesses.py holds the spec's markers to the convention)."""
    found = []
    for pointer, node in _walk(document, ""):
        marker = node.get(MARKER)
        if isinstance(marker, dict) and isinstance(marker.get("id"), str):
            keywords = marker.get("keywords") or ()
            found.append(
                Guess(
                    id=marker["id"],
                    note=str(marker.get("note", "")),
                    pointer=pointer,
                    keywords=tuple(str(k) for k in keywords),
                )
            )
    return found


def resolve(document: dict[str, Any], pointer: str) -> Any:
    """The node at a JSON pointer of the spec (`None` when there is none)."""
    node: Any = document
    for part in pointer.split("/")[1:]:
        part = _unescape(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _follow(document: dict[str, Any], pointer: str, relative: str) -> str | None:
    """The spec pointer reached by walking `relative` from `pointer`, following `$ref`s."""
    current = pointer
    for part in [p for p in relative.split("/") if p != ""]:
        node = resolve(document, current)
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
            ref = node["$ref"]
            if not ref.startswith("#"):
                return None
            current, node, seen = ref[1:], resolve(document, ref[1:]), seen + 1
        current = f"{current}/{part}"
    return current


def locate(
    document: dict[str, Any],
    method: str,
    path: str,
    *,
    location: str | None,
    parameter: str | None,
    parameter_in: str | None,
) -> str | None:
    """The spec pointer of the keyword a generated request violated or probed: `location` is
    Schemathesis' pointer into the body schema (or into a parameter's schema)."""
    if not location:
        return None
    operation = f"/paths/{_escape(path)}/{method.lower()}"
    if parameter_in in (None, "body"):
        content = resolve(document, f"{operation}/requestBody/content")
        if not isinstance(content, dict) or not content:
            return None
        media = parameter if isinstance(parameter, str) and parameter in content else None
        media = media or str(next(iter(content)))
        return _follow(
            document, f"{operation}/requestBody/content/{_escape(media)}/schema", location
        )
    params = resolve(document, f"{operation}/parameters") or []
    for n, param in enumerate(params):
        if isinstance(param, dict) and "$ref" in param:
            param = resolve(document, param["$ref"][1:])
        if (
            isinstance(param, dict)
            and param.get("name") == parameter
            and param.get("in") == parameter_in
        ):
            return _follow(document, f"{operation}/parameters/{n}", f"schema/{location}")
    return None


def marked(document: dict[str, Any], pointer: str) -> Guess | None:
    """The guess a spec pointer rests on: the keyword it names is guessed, or a node on the way
    to it is wholly a guess."""
    parts = pointer.split("/")
    keyword = _unescape(parts[-1])
    for end in range(len(parts), 0, -1):
        node_pointer = "/".join(parts[:end])
        node = resolve(document, node_pointer)
        marker = node.get(MARKER) if isinstance(node, dict) else None
        if isinstance(marker, dict) and isinstance(marker.get("id"), str):
            keywords = tuple(str(k) for k in marker.get("keywords") or ())
            if keywords and (end != len(parts) - 1 or keyword not in keywords):
                continue
            return Guess(marker["id"], str(marker.get("note", "")), node_pointer, keywords)
    return None


def by_id(document: dict[str, Any]) -> dict[str, Guess]:
    """The spec's guesses by id."""
    return {g.id: g for g in guesses(document)}
