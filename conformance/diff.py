"""Breaking-change detection between two OpenAPI 3.0 documents.

Owns the rule table (every rule has one fixed severity) and the comparison itself: paths and
operations, parameters, request bodies, responses and their headers, security, and schemas, which
are compared after following local `$ref`s. Reading documents is `conformance.specsource`'s job;
output formats and exit codes belong to `conformance.cli.diff`.

"Breaking" means breaking for an existing client. Data a client *sends* (parameters, request
bodies) breaks when the contract accepts less; data a client *receives* (responses, response
headers) breaks when the contract may produce more, or promises less. A schema used on both sides
is compared once per side, so one edit can be breaking on one side and not on the other.

Each `Change` points at the place of the change: a JSON pointer into the NEW document, or into the
OLD one (`document == "old"`) for things that no longer exist. Because `$ref`s are followed, a
change inside a shared component is reported once, at the component, whichever operations use it;
and moving a schema into `components` (or inlining it) without changing it reports nothing.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

Severity = Literal["breaking", "non-breaking"]
Side = Literal["request", "response"]
Document = Literal["old", "new"]

BREAKING: Severity = "breaking"
NON_BREAKING: Severity = "non-breaking"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PAGINATION_HEADER_PREFIX = "x-pagination-"


class DiffError(Exception):
    """The documents cannot be compared (a `$ref` that does not resolve, an external `$ref`)."""


@dataclass(frozen=True)
class Rule:
    """A named reason for reporting a change, with the severity it always carries."""

    name: str
    severity: Severity
    summary: str


def _rules(*rows: tuple[str, Severity, str]) -> dict[str, Rule]:
    return {name: Rule(name, severity, summary) for name, severity, summary in rows}


B, N = BREAKING, NON_BREAKING

RULES: dict[str, Rule] = _rules(
    # Paths and operations.
    ("path-removed", B, "a path and all its operations were removed"),
    ("operation-removed", B, "an operation (method on a path) was removed"),
    (
        "operation-id-changed",
        B,
        "an operationId changed or was removed (generated clients rename it)",
    ),
    ("path-added", N, "a new path"),
    ("operation-added", N, "a new operation"),
    ("operation-deprecated", N, "an operation was marked deprecated"),
    # Servers (the document's, a path's or an operation's; none declared means "/").
    ("server-removed", B, "a server was removed (clients configured with it lose their base URL)"),
    ("server-changed", B, "the only server changed (every client must move to the new URL)"),
    ("server-added", N, "a server was added"),
    # Parameters.
    ("parameter-removed", B, "a parameter was removed (clients still send it, it is ignored)"),
    ("parameter-added-required", B, "a new required parameter"),
    ("parameter-made-required", B, "an optional parameter became required"),
    ("parameter-moved", B, "a parameter moved to another location (query, header, path, cookie)"),
    ("parameter-renamed", B, "a parameter was renamed"),
    ("parameter-serialization-changed", B, "a parameter's style or explode changed"),
    ("parameter-added", N, "a new optional parameter"),
    ("parameter-made-optional", N, "a required parameter became optional"),
    # Request bodies.
    ("request-body-added-required", B, "a required request body where there was none"),
    ("request-body-made-required", B, "an optional request body became required"),
    ("request-body-removed", B, "the request body was removed (what clients send is ignored)"),
    ("request-media-type-removed", B, "a request media type is no longer accepted"),
    ("request-body-added", N, "an optional request body where there was none"),
    ("request-body-made-optional", N, "a required request body became optional"),
    ("request-media-type-added", N, "a new accepted request media type"),
    # Request members.
    ("request-member-added-required", B, "a new required request member"),
    ("request-member-made-required", B, "an optional request member became required"),
    (
        "request-member-removed",
        B,
        "a request member was removed and the object no longer accepts it as an extra member",
    ),
    ("request-member-made-read-only", B, "a request member became readOnly (it is now ignored)"),
    ("request-member-added", N, "a new optional request member"),
    (
        "request-member-undeclared",
        N,
        "a request member was removed but the object still accepts it (additionalProperties)",
    ),
    ("request-member-made-optional", N, "a required request member became optional"),
    # Responses.
    ("response-status-removed", B, "a response status was removed"),
    ("response-media-type-removed", B, "a response media type was removed"),
    ("response-header-removed", B, "a response header was removed"),
    ("pagination-header-removed", B, "an X-Pagination-* response header was removed"),
    ("response-header-made-optional", B, "a required response header became optional"),
    ("response-status-added", N, "a new response status"),
    ("response-media-type-added", N, "a new response media type"),
    ("response-header-added", N, "a new response header"),
    ("response-header-made-required", N, "an optional response header became required"),
    # Response members.
    ("response-member-removed", B, "a response member was removed"),
    ("response-member-made-optional", B, "a required response member became optional"),
    ("response-member-made-write-only", B, "a response member became writeOnly (no longer sent)"),
    ("response-member-added", N, "a new response member"),
    ("response-member-made-required", N, "an optional response member became required"),
    # Types and formats.
    ("type-changed", B, "a schema's type changed incompatibly"),
    ("format-changed", B, "a schema's format changed"),
    ("request-type-narrowed", B, "a request schema accepts fewer types"),
    ("response-type-widened", B, "a response schema may have more types"),
    ("request-format-added", B, "a request schema gained a format"),
    ("response-format-removed", B, "a response schema lost its format"),
    ("request-type-widened", N, "a request schema accepts more types"),
    ("response-type-narrowed", N, "a response schema has fewer types"),
    ("request-format-removed", N, "a request schema lost its format"),
    ("response-format-added", N, "a response schema gained a format"),
    # Nullability.
    ("request-nullable-removed", B, "a request schema no longer accepts null"),
    ("response-nullable-added", B, "a response schema may now be null"),
    ("request-nullable-added", N, "a request schema now accepts null"),
    ("response-nullable-removed", N, "a response schema is no longer null"),
    # Enums.
    ("request-enum-narrowed", B, "a request enum lost values (or an enum was added)"),
    ("response-enum-widened", B, "a response enum gained values (or its enum was removed)"),
    ("request-enum-widened", N, "a request enum gained values (or its enum was removed)"),
    ("response-enum-narrowed", N, "a response enum lost values (or an enum was added)"),
    # Defaults (request side only: a response default documents nothing a client relies on).
    ("default-changed", B, "a request default changed (clients that omit the value get another)"),
    ("default-removed", B, "a request default was removed"),
    ("default-added", N, "a request default was added"),
    # Constraints.
    ("request-constraint-tightened", B, "a request constraint was tightened"),
    ("response-constraint-loosened", B, "a response constraint was loosened"),
    ("constraint-changed", B, "a constraint changed in a way that is neither tighter nor looser"),
    ("request-constraint-loosened", N, "a request constraint was loosened"),
    ("response-constraint-tightened", N, "a response constraint was tightened"),
    # additionalProperties.
    ("request-additional-properties-narrowed", B, "a request object accepts fewer extra members"),
    ("response-additional-properties-widened", B, "a response map's values may be of more kinds"),
    ("request-additional-properties-widened", N, "a request object accepts more extra members"),
    ("response-additional-properties-narrowed", N, "a response object has fewer extra members"),
    ("response-additional-properties-allowed", N, "a closed response object may now have extras"),
    # Composition (allOf, anyOf, oneOf, not, discriminator).
    ("request-schema-narrowed", B, "a request schema accepts less (a branch removed or added)"),
    ("response-schema-widened", B, "a response schema may be more (a branch added or removed)"),
    ("composition-changed", B, "allOf/anyOf/oneOf/not changed in a way that cannot be ordered"),
    ("discriminator-changed", B, "a discriminator's property or mapping changed"),
    ("request-schema-widened", N, "a request schema accepts more (a branch added or removed)"),
    ("response-schema-narrowed", N, "a response schema may be less (a branch removed or added)"),
    ("discriminator-mapping-added", N, "a discriminator gained a mapping"),
    # Security.
    ("security-tightened", B, "some client that was authorised is not any more"),
    ("security-scheme-changed", B, "a security scheme's type, location, name or URLs changed"),
    ("security-loosened", N, "some client that was not authorised now is"),
)
del B, N


@dataclass(frozen=True)
class Change:
    """One difference between two documents, classified by the rule that decided it."""

    rule: str
    severity: Severity
    pointer: str
    message: str
    document: Document = "new"

    @property
    def breaking(self) -> bool:
        """Whether the change breaks existing clients."""
        return self.severity == BREAKING

    def to_json(self) -> dict[str, str]:
        """The change as the stable JSON object documented in `conformance.cli.diff`."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "pointer": self.pointer,
            "document": self.document,
            "message": self.message,
        }


def diff_specs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Compare two parsed OpenAPI 3.0 documents; breaking changes first, then by pointer."""

    def compare() -> list[Change]:
        differ = _Differ(old, new)
        differ.compare_documents()
        return differ.changes()

    return sorted(
        set(_with_deep_stack(compare)),
        key=lambda c: (c.severity != BREAKING, c.pointer, c.rule, c.message),
    )


# Schemas nest as deep as the spec's unions and $refs do (public specs reach hundreds of levels,
# each a dozen Python frames): the comparison runs on a thread with room for that.
_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 200_000


def _with_deep_stack(work: Callable[[], list[Change]]) -> list[Change]:
    outcome: list[list[Change]] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            failure.append(exc)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    previous = threading.stack_size(_STACK_BYTES)
    try:
        worker = threading.Thread(target=run, name="conformance-diff", daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    sys.setrecursionlimit(limit)
    if failure:
        raise failure[0]
    return outcome[0]


def has_breaking(changes: Iterable[Change]) -> bool:
    """Whether any of `changes` breaks existing clients."""
    return any(change.breaking for change in changes)


# --- JSON pointers and $ref resolution ------------------------------------------------------------


def escape(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def _join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape(str(token)) for token in tokens)


def _lookup(document: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        raise DiffError(f"external $ref is not supported: {ref}")
    node = document
    fragment = unquote(ref[1:])
    if fragment in ("", "/"):
        return node
    for token in fragment.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise DiffError(f"$ref does not resolve: {ref}")
    return node


@dataclass(frozen=True)
class _Node:
    """A value in one document and the pointer where it physically is (after following $refs).

    A schema merged from allOf parts has no single place: `origins` maps each keyword it took
    from a part (and `properties/NAME` for each member) to the pointer of that part.
    """

    value: Any
    pointer: str
    origins: Mapping[str, str] | None = None


def _origin(node: _Node, *tokens: str | int) -> str:
    """The pointer of the schema object holding `tokens` (a keyword, or properties and a name)."""
    if node.origins and tokens:
        if len(tokens) > 1 and f"{tokens[0]}/{tokens[1]}" in node.origins:
            return node.origins[f"{tokens[0]}/{tokens[1]}"]
        if str(tokens[0]) in node.origins:
            return node.origins[str(tokens[0])]
    return node.pointer


def _at(node: _Node, *tokens: str | int) -> str:
    """The pointer of `tokens` inside `node`, where it physically is."""
    return _join(_origin(node, *tokens), *tokens)


def _resolve(document: Any, value: Any, pointer: str) -> _Node:
    seen: set[str] = set()
    while isinstance(value, dict) and isinstance(value.get("$ref"), str):
        ref = value["$ref"]
        if ref in seen:
            raise DiffError(f"$ref cycle with nothing in between: {ref}")
        seen.add(ref)
        value = _lookup(document, ref)
        pointer = unquote(ref[1:]) or ""
    return _Node(value, pointer)


# A document that is not valid OpenAPI must not crash the comparison: where a keyword's value
# has the wrong JSON type, it is read as absent (the linter is the place to report it).


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _servers(
    document: Mapping[str, Any], pointer: str, *levels: tuple[Any, str]
) -> tuple[Any, str]:
    """The servers in force where the innermost of `levels` declares some (else the document's),
    with the pointer of the object that declares them."""
    found: tuple[Any, str] = (document.get("servers"), pointer)
    for holder, where in levels:
        if "servers" in _mapping(holder):
            found = (_mapping(holder)["servers"], where)
    return found


def _server_urls(servers: Any) -> dict[str, int | None]:
    """Each server's URL (without a trailing slash) and its index; no servers means "/" alone."""
    urls: dict[str, int | None] = {}
    for index, server in enumerate(_list(servers)):
        url = _mapping(server).get("url")
        if isinstance(url, str):
            urls.setdefault(url.rstrip("/") or "/", index)
    return urls or {"/": None}


# --- the comparison -----------------------------------------------------------------------------


_TEMPLATE_PARAM = re.compile(r"\{([^}/]*)\}")


def _template_shape(path: str) -> str:
    """The path with its parameter names blanked, so a renamed path parameter still matches."""
    return _TEMPLATE_PARAM.sub("{}", path)


def _is_widening_type(old: set[str] | None, new: set[str] | None) -> bool:
    """Whether every value of a type in `old` is also of a type in `new` (None: any type)."""
    if new is None:
        return True
    if old is None:
        return False
    return all(t in new or (t == "integer" and "number" in new) for t in old)


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    if isinstance(declared, list):  # OpenAPI 3.1 spelling; null is nullability, handled apart.
        return {str(t) for t in declared if t != "null"}
    return {str(declared)}


def _nullable(schema: Mapping[str, Any]) -> bool:
    declared = schema.get("type")
    return schema.get("nullable") is True or (isinstance(declared, list) and "null" in declared)


_LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")
# Keywords that document a schema without constraining it.
_ANNOTATIONS = frozenset({"title", "description", "example", "examples", "externalDocs"})
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


# A schema pair as compared from one side: the ids of the two resolved schema objects, and the side.
_Key = tuple[int, int, Side]


class _Different(Exception):
    """A trial comparison met its first change: the pair is not equivalent, no need to go on."""


@dataclass
class _Result:
    """What comparing one schema pair found: its own changes and the pairs compared inside it.

    Results form a graph (a pair inside a recursive schema refers back to an enclosing one), so the
    changes of a whole comparison are collected once, at the end, by walking it.
    """

    changes: list[Change] = field(default_factory=list)
    inner: list[_Key] = field(default_factory=list)
    empty: bool = True
    """Nothing found here or in any inner pair (a pair still in progress counts as equal)."""


class _Differ:
    """One comparison: both documents, the result of every schema pair compared, and the stack.

    Every schema pair is compared once per side and its result kept, whether it was compared for
    the report or as a trial (is this union branch the old one?): a nested union is never compared
    again, so the work is linear in the pairs compared, however the unions nest.
    """

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old = old
        self.new = new
        # The operation being compared, named in messages about places inside it. A change inside
        # a shared component is not named for an operation, so it is reported once, not per use.
        self._operation: str | None = None
        self._root = _Result()
        # Where a change goes: the result of the pair being compared (innermost last).
        self._stack: list[_Result] = [self._root]
        self._results: dict[_Key, _Result] = {}
        # What trials found (True: no change), by pair and by the shapes of the two schemas. Trials
        # never fill `_results`: a trial stops at its first change, and a pair it deems equal
        # because a pair further up counts as equal must still be compared for the report.
        self._verdicts: dict[_Key, bool] = {}
        self._verdicts_by_shape: dict[tuple[int, int, Side], bool] = {}
        self._shapes: dict[tuple[int, str], int] = {}
        self._shape_of: dict[tuple[int, int], int] = {}
        # The pairs being compared right now: met again further down (a recursive schema), they
        # count as equal, which is what lets the comparison end.
        self._active: set[_Key] = set()
        # Trials in progress: while one is, a change stops it (`_Different`) instead of counting.
        self._trials = 0
        # Keys are object ids, so the objects must outlive the comparison: a stand-in `{}` for a
        # missing schema would otherwise be freed and its id reused by an unrelated one.
        self._keep: list[Any] = []
        self._targets: dict[tuple[int, str], _Node] = {}
        self._merged: dict[tuple[int, int, str, str], _Node | None] = {}

    def changes(self) -> list[Change]:
        """Every change found: the root's and those of every pair reached from it, once each."""
        found = list(self._root.changes)
        seen: set[_Key] = set()
        pending = list(self._root.inner)
        while pending:
            key = pending.pop()
            if key in seen:
                continue
            seen.add(key)
            result = self._results[key]
            found += result.changes
            pending += result.inner
        return found

    def _resolve(self, document: Mapping[str, Any], value: Any, pointer: str) -> _Node:
        if not (isinstance(value, dict) and isinstance(value.get("$ref"), str)):
            return _Node(value, pointer)
        cache = (id(document), value["$ref"])
        known = self._targets.get(cache)
        if known is not None:
            return known
        try:
            target = _resolve(document, value, pointer)
        except DiffError as exc:
            which = "OLD" if document is self.old else "NEW"
            raise DiffError(f"{which} {pointer}: {exc}") from exc
        self._targets[cache] = target
        return target

    # -- recording -----------------------------------------------------------------------------

    def _report(self, rule: str, pointer: str, message: str, document: Document = "new") -> None:
        if self._trials:
            raise _Different
        if self._operation is not None and pointer.startswith("/paths/"):
            message = f"{self._operation}: {message}"
        result = self._stack[-1]
        result.changes.append(Change(rule, RULES[rule].severity, pointer, message, document))
        result.empty = False

    def _by_side(
        self, side: Side, request_rule: str, response_rule: str, pointer: str, message: str
    ) -> None:
        self._report(request_rule if side == "request" else response_rule, pointer, message)

    def _same_for_report(self, old: _Node, new: _Node, side: Side) -> bool:
        """Whether two schemas compare without any change, compared as for the report.

        For the likeliest partner of a union branch, which is compared for the report anyway when
        nothing else matches: its full result is kept (not reported unless the pair is chosen),
        so an unchanged union costs one comparison per branch, not a trial and then another.
        """
        if self._trials:
            return self._equivalent(old, new, side)
        detached = _Result()
        self._stack.append(detached)
        try:
            self.compare_schema(old, new, side)
        finally:
            self._stack.pop()
        return detached.empty

    def _equivalent(self, old: _Node, new: _Node, side: Side) -> bool:
        """Whether two schemas compare without any change (a trial that reports nothing).

        A trial reports nothing: a pair compared only as a trial is reported only if the report
        itself reaches it.
        """
        self._trials += 1
        try:
            self.compare_schema(old, new, side)
        except _Different:
            return False
        finally:
            self._trials -= 1
        return True

    # -- documents, paths, operations ----------------------------------------------------------

    def compare_documents(self) -> None:
        old_paths = _mapping(self.old.get("paths"))
        new_paths = _mapping(self.new.get("paths"))
        new_by_shape = {_template_shape(p): p for p in new_paths}
        matched_new: set[str] = set()
        for old_path, old_item in old_paths.items():
            new_path = (
                old_path if old_path in new_paths else new_by_shape.get(_template_shape(old_path))
            )
            old_node = self._resolve(self.old, old_item, _join("/paths", old_path))
            if new_path is None:
                pointer = _join("/paths", old_path)
                self._report("path-removed", pointer, f"path {old_path} removed", "old")
                continue
            matched_new.add(new_path)
            new_node = self._resolve(self.new, new_paths[new_path], _join("/paths", new_path))
            self._compare_path_item(old_path, old_node, new_path, new_node)
        for new_path in new_paths:
            if new_path not in matched_new:
                self._report("path-added", _join("/paths", new_path), f"path {new_path} added")
        self._compare_servers(_servers(self.old, ""), _servers(self.new, ""), "servers")
        self._compare_security_schemes()

    def _compare_servers(self, old: tuple[Any, str], new: tuple[Any, str], where: str) -> None:
        """Compare two server lists, each with the pointer of the object that declares it."""
        old_urls, new_urls = _server_urls(old[0]), _server_urls(new[0])
        gone = [url for url in old_urls if url not in new_urls]
        came = [url for url in new_urls if url not in old_urls]

        def at(side: tuple[Any, str], index: int | None) -> str:
            return side[1] if index is None else _join(side[1], "servers", index)

        if len(old_urls) == 1 and len(new_urls) == 1 and gone and came:
            self._report(
                "server-changed",
                at(new, new_urls[came[0]]),
                f"{where}: server {gone[0]} is now {came[0]}",
            )
            return
        for url in gone:
            self._report(
                "server-removed", at(old, old_urls[url]), f"{where}: server {url} removed", "old"
            )
        for url in came:
            self._report("server-added", at(new, new_urls[url]), f"{where}: server {url} added")

    def _compare_path_item(self, old_path: str, old: _Node, new_path: str, new: _Node) -> None:
        old_item, new_item = _mapping(old.value), _mapping(new.value)
        # Servers declared on a path (or an operation) replace the document's for it.
        old_servers = _servers(self.old, "", (old_item, old.pointer))
        new_servers = _servers(self.new, "", (new_item, new.pointer))
        if "servers" in old_item or "servers" in new_item:
            self._compare_servers(old_servers, new_servers, f"path {new_path}")
        for method in HTTP_METHODS:
            old_op, new_op = old_item.get(method), new_item.get(method)
            label = f"{method.upper()} {new_path}"
            if old_op is None and new_op is None:
                continue
            if new_op is None:
                self._report(
                    "operation-removed", _join(old.pointer, method), f"{label} removed", "old"
                )
            elif old_op is None:
                self._report("operation-added", _join(new.pointer, method), f"{label} added")
            else:
                if "servers" in _mapping(old_op) or "servers" in _mapping(new_op):
                    self._compare_servers(
                        _servers(
                            self.old,
                            "",
                            (old_item, old.pointer),
                            (old_op, _join(old.pointer, method)),
                        ),
                        _servers(
                            self.new,
                            "",
                            (new_item, new.pointer),
                            (new_op, _join(new.pointer, method)),
                        ),
                        label,
                    )
                self._compare_operation(
                    label,
                    old_path,
                    old_item,
                    _Node(old_op, _join(old.pointer, method)),
                    new_path,
                    new_item,
                    _Node(new_op, _join(new.pointer, method)),
                )

    def _compare_operation(
        self,
        label: str,
        old_path: str,
        old_item: Mapping[str, Any],
        old: _Node,
        new_path: str,
        new_item: Mapping[str, Any],
        new: _Node,
    ) -> None:
        self._operation = label
        try:
            self._compare_operation_parts(old_path, old_item, old, new_path, new_item, new)
        finally:
            self._operation = None

    def _compare_operation_parts(
        self,
        old_path: str,
        old_item: Mapping[str, Any],
        old: _Node,
        new_path: str,
        new_item: Mapping[str, Any],
        new: _Node,
    ) -> None:
        old_op, new_op = _mapping(old.value), _mapping(new.value)
        old_id, new_id = old_op.get("operationId"), new_op.get("operationId")
        if old_id is not None and old_id != new_id:
            self._report(
                "operation-id-changed",
                _join(new.pointer, "operationId") if new_id is not None else new.pointer,
                f"operationId {old_id!r} is now {new_id!r}",
            )
        if new_op.get("deprecated") is True and old_op.get("deprecated") is not True:
            self._report("operation-deprecated", _join(new.pointer, "deprecated"), "deprecated")
        self._compare_parameters(old_path, old_item, old, new_path, new_item, new)
        self._compare_request_body(old, new)
        self._compare_responses(old, new)
        self._compare_security(old, new)

    # -- parameters ------------------------------------------------------------------------------

    def _parameters(
        self, document: Mapping[str, Any], path_item: Mapping[str, Any], operation: _Node
    ) -> dict[tuple[str, str], tuple[_Node, str]]:
        """The operation's parameters, path-level ones included, keyed by (in, name).

        Each comes with the pointer of its entry in the `parameters` list: a parameter added or
        removed is reported there, a change inside a shared parameter at the parameter itself.
        """
        item_pointer = operation.pointer.rsplit("/", 1)[0]
        found: dict[tuple[str, str], tuple[_Node, str]] = {}
        sources = (
            (path_item.get("parameters"), _join(item_pointer, "parameters")),
            (_mapping(operation.value).get("parameters"), _join(operation.pointer, "parameters")),
        )
        for listed, pointer in sources:
            for index, raw in enumerate(listed if isinstance(listed, list) else []):
                entry = _join(pointer, index)
                node = self._resolve(document, raw, entry)
                param = _mapping(node.value)
                location = str(param.get("in", ""))
                name = str(param.get("name", ""))
                # Header names are case-insensitive on the wire.
                found[(location, name.lower() if location == "header" else name)] = (node, entry)
        return found

    def _compare_parameters(
        self,
        old_path: str,
        old_item: Mapping[str, Any],
        old: _Node,
        new_path: str,
        new_item: Mapping[str, Any],
        new: _Node,
    ) -> None:
        old_entries = self._parameters(self.old, old_item, old)
        new_entries = self._parameters(self.new, new_item, new)
        old_params = {key: node for key, (node, _) in old_entries.items()}
        new_params = {key: node for key, (node, _) in new_entries.items()}
        pairs: list[tuple[tuple[str, str], tuple[str, str]]] = [
            (key, key) for key in old_params if key in new_params
        ]
        removed = [key for key in old_params if key not in new_params]
        added = [key for key in new_params if key not in old_params]

        # A path parameter is identified by its place in the template, not by its name.
        old_names = _TEMPLATE_PARAM.findall(old_path)
        new_names = _TEMPLATE_PARAM.findall(new_path)
        for old_name, new_name in zip(old_names, new_names, strict=False):
            old_key, new_key = ("path", old_name), ("path", new_name)
            if old_name != new_name and old_key in removed and new_key in added:
                self._pair_off(removed, added, pairs, old_key, new_key)
                self._report(
                    "parameter-renamed",
                    new_params[new_key].pointer,
                    f"path parameter {old_name!r} renamed to {new_name!r}",
                )

        for old_key in list(removed):
            moved_to = next((k for k in added if k[1] == old_key[1] and k[0] != old_key[0]), None)
            if moved_to is not None:
                self._pair_off(removed, added, pairs, old_key, moved_to)
                self._report(
                    "parameter-moved",
                    new_params[moved_to].pointer,
                    f"parameter {old_key[1]!r} moved from {old_key[0]} to {moved_to[0]}",
                )

        for location in sorted({k[0] for k in removed}):
            gone = [k for k in removed if k[0] == location]
            came = [k for k in added if k[0] == location]
            if len(gone) == 1 and len(came) == 1:
                old_schema = self._param_schema(self.old, old_params[gone[0]])
                new_schema = self._param_schema(self.new, new_params[came[0]])
                if self._equivalent(old_schema, new_schema, "request"):
                    self._pair_off(removed, added, pairs, gone[0], came[0])
                    self._report(
                        "parameter-renamed",
                        new_params[came[0]].pointer,
                        f"{location} parameter {gone[0][1]!r} renamed to {came[0][1]!r}",
                    )

        for key in removed:
            self._report(
                "parameter-removed",
                old_entries[key][1],
                f"{key[0]} parameter {key[1]!r} removed",
                "old",
            )
        for key in added:
            param = _mapping(new_params[key].value)
            required = param.get("required") is True
            self._report(
                "parameter-added-required" if required else "parameter-added",
                new_entries[key][1],
                f"{'required' if required else 'optional'} {key[0]} parameter {key[1]!r} added",
            )
        for old_key, new_key in pairs:
            self._compare_parameter(new_key, old_params[old_key], new_params[new_key])

    @staticmethod
    def _pair_off(
        removed: list[tuple[str, str]],
        added: list[tuple[str, str]],
        pairs: list[tuple[tuple[str, str], tuple[str, str]]],
        old_key: tuple[str, str],
        new_key: tuple[str, str],
    ) -> None:
        removed.remove(old_key)
        added.remove(new_key)
        pairs.append((old_key, new_key))

    def _param_schema(self, document: Mapping[str, Any], param: _Node) -> _Node:
        value = _mapping(param.value)
        if "schema" in value:
            return self._resolve(document, value["schema"], _join(param.pointer, "schema"))
        # A parameter described by `content` has exactly one media type (OpenAPI 3.0 §4.7.12).
        for media_type, media in _mapping(value.get("content")).items():
            pointer = _join(param.pointer, "content", media_type, "schema")
            return self._resolve(document, _mapping(media).get("schema", {}), pointer)
        return _Node({}, param.pointer)  # No schema allows anything.

    def _compare_parameter(self, key: tuple[str, str], old: _Node, new: _Node) -> None:
        old_param, new_param = _mapping(old.value), _mapping(new.value)
        what = f"{key[0]} parameter {key[1]!r}"
        old_required, new_required = (
            old_param.get("required") is True,
            new_param.get("required") is True,
        )
        if new_required and not old_required:
            self._report("parameter-made-required", new.pointer, f"{what} is now required")
        elif old_required and not new_required:
            self._report("parameter-made-optional", new.pointer, f"{what} is now optional")
        location = key[0]
        old_style = old_param.get("style", _DEFAULT_STYLE.get(location))
        new_style = new_param.get("style", _DEFAULT_STYLE.get(location))
        old_explode = old_param.get("explode", old_style == "form")
        new_explode = new_param.get("explode", new_style == "form")
        if (old_style, old_explode) != (new_style, new_explode):
            self._report(
                "parameter-serialization-changed",
                new.pointer,
                f"{what}: style/explode {old_style}/{old_explode} is now {new_style}/{new_explode}",
            )
        self.compare_schema(
            self._param_schema(self.old, old), self._param_schema(self.new, new), "request"
        )

    # -- request bodies --------------------------------------------------------------------------

    def _compare_request_body(self, old: _Node, new: _Node) -> None:
        old_raw = _mapping(old.value).get("requestBody")
        new_raw = _mapping(new.value).get("requestBody")
        if old_raw is None and new_raw is None:
            return
        if old_raw is None:
            body = self._resolve(self.new, new_raw, _join(new.pointer, "requestBody"))
            required = _mapping(body.value).get("required") is True
            self._report(
                "request-body-added-required" if required else "request-body-added",
                _join(new.pointer, "requestBody"),
                f"{'required' if required else 'optional'} request body added",
            )
            return
        old_body = self._resolve(self.old, old_raw, _join(old.pointer, "requestBody"))
        if new_raw is None:
            pointer = _join(old.pointer, "requestBody")
            self._report("request-body-removed", pointer, "request body removed", "old")
            return
        new_body = self._resolve(self.new, new_raw, _join(new.pointer, "requestBody"))
        old_required = _mapping(old_body.value).get("required") is True
        new_required = _mapping(new_body.value).get("required") is True
        if new_required and not old_required:
            self._report(
                "request-body-made-required",
                new_body.pointer,
                "request body is now required",
            )
        elif old_required and not new_required:
            self._report(
                "request-body-made-optional",
                new_body.pointer,
                "request body is now optional",
            )
        self._compare_content(old_body, new_body, "request")

    def _compare_content(self, old: _Node, new: _Node, side: Side) -> None:
        old_content = {
            k.lower(): (k, v) for k, v in _mapping(_mapping(old.value).get("content")).items()
        }
        new_content = {
            k.lower(): (k, v) for k, v in _mapping(_mapping(new.value).get("content")).items()
        }
        for media_type, (old_key, old_media) in old_content.items():
            if media_type not in new_content:
                self._report(
                    f"{side}-media-type-removed",
                    _join(old.pointer, "content", old_key),
                    f"{side} media type {old_key} removed",
                    "old",
                )
                continue
            new_key, new_media = new_content[media_type]
            self.compare_schema(
                self._media_schema(self.old, old_media, _join(old.pointer, "content", old_key)),
                self._media_schema(self.new, new_media, _join(new.pointer, "content", new_key)),
                side,
            )
        for media_type, (new_key, _) in new_content.items():
            if media_type not in old_content:
                self._report(
                    f"{side}-media-type-added",
                    _join(new.pointer, "content", new_key),
                    f"{side} media type {new_key} added",
                )

    def _media_schema(self, document: Mapping[str, Any], media: Any, pointer: str) -> _Node:
        if "schema" in _mapping(media):
            return self._resolve(document, media["schema"], _join(pointer, "schema"))
        return _Node({}, pointer)  # No schema allows anything.

    # -- responses -------------------------------------------------------------------------------

    def _compare_responses(self, old: _Node, new: _Node) -> None:
        old_pointer, new_pointer = _join(old.pointer, "responses"), _join(new.pointer, "responses")
        # YAML reads an unquoted 200 as an integer; status keys are strings in the spec's model.
        old_responses = {
            str(k).upper(): v for k, v in _mapping(_mapping(old.value).get("responses")).items()
        }
        new_responses = {
            str(k).upper(): v for k, v in _mapping(_mapping(new.value).get("responses")).items()
        }
        new_keys = {str(k).upper(): str(k) for k in _mapping(_mapping(new.value).get("responses"))}
        old_keys = {str(k).upper(): str(k) for k in _mapping(_mapping(old.value).get("responses"))}
        for status, old_raw in old_responses.items():
            old_node = self._resolve(self.old, old_raw, _join(old_pointer, old_keys[status]))
            # A removed status still covered by a range (404 by 4XX), or else by `default`, is
            # compared with what now describes it.
            target = status if status in new_responses else f"{status[:1]}XX"
            if target not in new_responses and status != "DEFAULT":
                target = "DEFAULT"
            if target not in new_responses:
                self._report(
                    "response-status-removed",
                    _join(old_pointer, old_keys[status]),
                    f"response {old_keys[status]} removed",
                    "old",
                )
                continue
            new_node = self._resolve(
                self.new, new_responses[target], _join(new_pointer, new_keys[target])
            )
            self._compare_response(old_node, new_node)
        for status in new_responses:
            if status not in old_responses:
                self._report(
                    "response-status-added",
                    _join(new_pointer, new_keys[status]),
                    f"response {new_keys[status]} added",
                )

    def _compare_response(self, old: _Node, new: _Node) -> None:
        old_headers = {
            k.lower(): (k, v) for k, v in _mapping(_mapping(old.value).get("headers")).items()
        }
        new_headers = {
            k.lower(): (k, v) for k, v in _mapping(_mapping(new.value).get("headers")).items()
        }
        for lowered, (old_name, old_raw) in old_headers.items():
            old_node = self._resolve(self.old, old_raw, _join(old.pointer, "headers", old_name))
            if lowered not in new_headers:
                rule = (
                    "pagination-header-removed"
                    if lowered.startswith(PAGINATION_HEADER_PREFIX)
                    else "response-header-removed"
                )
                pointer = _join(old.pointer, "headers", old_name)
                self._report(rule, pointer, f"header {old_name} removed", "old")
                continue
            new_name, new_raw = new_headers[lowered]
            new_node = self._resolve(self.new, new_raw, _join(new.pointer, "headers", new_name))
            old_required = _mapping(old_node.value).get("required") is True
            new_required = _mapping(new_node.value).get("required") is True
            if old_required and not new_required:
                self._report(
                    "response-header-made-optional",
                    new_node.pointer,
                    f"header {new_name} is now optional",
                )
            elif new_required and not old_required:
                self._report(
                    "response-header-made-required",
                    new_node.pointer,
                    f"header {new_name} is now required",
                )
            self.compare_schema(
                self._param_schema(self.old, old_node),
                self._param_schema(self.new, new_node),
                "response",
            )
        for lowered, (new_name, _) in new_headers.items():
            if lowered not in old_headers:
                pointer = _join(new.pointer, "headers", new_name)
                self._report("response-header-added", pointer, f"header {new_name} added")
        self._compare_content(old, new, "response")

    # -- security --------------------------------------------------------------------------------

    @staticmethod
    def _requirements(
        document: Mapping[str, Any], operation: _Node
    ) -> tuple[list[dict[str, frozenset[str]]], str]:
        op = _mapping(operation.value)
        if "security" in op:
            raw, pointer = op["security"], _join(operation.pointer, "security")
        else:
            # Without a top-level `security` the place is the document itself (pointer "").
            raw = document.get("security", [])
            pointer = "/security" if "security" in document else ""
        alternatives = [
            {
                str(scheme): frozenset(map(str, _list(scopes)))
                for scheme, scopes in _mapping(alt).items()
            }
            for alt in (raw if isinstance(raw, list) else [])
        ]
        # No requirement at all means anonymous access, the same as one empty alternative.
        return alternatives or [{}], pointer

    def _compare_security(self, old: _Node, new: _Node) -> None:
        old_alts, _ = self._requirements(self.old, old)
        new_alts, pointer = self._requirements(self.new, new)

        def satisfies(client: dict[str, frozenset[str]], needed: dict[str, frozenset[str]]) -> bool:
            return all(s in client and scopes <= client[s] for s, scopes in needed.items())

        def describe(alts: list[dict[str, frozenset[str]]]) -> str:
            return " or ".join(
                "+".join(f"{s}{sorted(sc) if sc else ''}" for s, sc in sorted(a.items()))
                or "anonymous"
                for a in alts
            )

        change = f"security {describe(old_alts)} is now {describe(new_alts)}"
        # A client that met some old alternative must still meet some new one.
        if any(not any(satisfies(o, n) for n in new_alts) for o in old_alts):
            self._report("security-tightened", pointer, change)
        if any(not any(satisfies(n, o) for o in old_alts) for n in new_alts):
            self._report("security-loosened", pointer, change)

    def _compare_security_schemes(self) -> None:
        old_schemes = _mapping(_mapping(self.old.get("components")).get("securitySchemes"))
        new_schemes = _mapping(_mapping(self.new.get("components")).get("securitySchemes"))
        for name, old_raw in old_schemes.items():
            if name not in new_schemes:
                continue  # Unused schemes may go; a used one shows up as security-tightened.
            pointer = _join("/components/securitySchemes", name)
            old_node = self._resolve(self.old, old_raw, pointer)
            new_node = self._resolve(self.new, new_schemes[name], pointer)
            old_scheme, new_scheme = _mapping(old_node.value), _mapping(new_node.value)
            old_pointer, pointer = old_node.pointer, new_node.pointer
            for key in ("type", "in", "name", "scheme", "openIdConnectUrl"):
                old_value, new_value = old_scheme.get(key), new_scheme.get(key)
                if key == "scheme" and isinstance(old_value, str) and isinstance(new_value, str):
                    old_value, new_value = old_value.lower(), new_value.lower()
                if old_value != new_value:
                    self._report(
                        "security-scheme-changed",
                        _join(pointer, key) if key in new_scheme else pointer,
                        f"security scheme {name}: {key} {_show(old_value)} "
                        f"is now {_show(new_value)}",
                    )
            old_flows = _mapping(old_scheme.get("flows"))
            new_flows = _mapping(new_scheme.get("flows"))
            for flow, old_flow in old_flows.items():
                new_flow = _mapping(new_flows.get(flow))
                if not new_flow:
                    self._report(
                        "security-scheme-changed",
                        _join(old_pointer, "flows", flow),
                        f"security scheme {name}: {flow} flow removed",
                        "old",
                    )
                    continue
                for url in ("authorizationUrl", "tokenUrl"):
                    if _mapping(old_flow).get(url) != new_flow.get(url):
                        self._report(
                            "security-scheme-changed",
                            _join(pointer, "flows", flow, *([url] if url in new_flow else [])),
                            f"security scheme {name}: {flow} {url} changed",
                        )

    # -- schemas ---------------------------------------------------------------------------------

    def compare_schema(self, old: _Node, new: _Node, side: Side) -> None:
        """Compare two schemas (already resolved or not) as seen from one side of the exchange."""
        # A node that is not a $ref is kept as it is, with the origins of a merged allOf.
        if isinstance(old.value, dict) and "$ref" in old.value:
            old = self._resolve(self.old, old.value, old.pointer)
        if isinstance(new.value, dict) and "$ref" in new.value:
            new = self._resolve(self.new, new.value, new.pointer)
        key: _Key = (id(old.value), id(new.value), side)
        if self._trials:
            self._try_pair(key, old, new, side)
            return
        parent = self._stack[-1]
        known = None if key in self._active else self._results.get(key)
        if known is None and key not in self._active:
            known = self._report_pair(key, old, new, side)
        parent.inner.append(key)
        if known is not None and not known.empty:
            parent.empty = False

    def _report_pair(self, key: _Key, old: _Node, new: _Node, side: Side) -> _Result:
        """Compare a pair for the report (once per side); every change found is kept."""
        result = _Result()
        self._active.add(key)
        self._stack.append(result)
        self._keep.append((old.value, new.value))
        try:
            self._compare_schema_body(old, new, side)
        finally:
            self._stack.pop()
            self._active.discard(key)
        self._results[key] = result
        return result

    def _try_pair(self, key: _Key, old: _Node, new: _Node, side: Side) -> None:
        """Compare a pair in a trial: return if nothing differs, raise `_Different` at the first
        change. Verdicts are kept by pair and by shape: unions repeat the same inline schemas
        (`{type: string}` beside a `$ref`) at many places, and each must not cost a comparison."""
        if key in self._active:
            return
        known = self._results.get(key)
        verdict = self._verdicts.get(key) if known is None else known.empty
        shape = None
        if verdict is None:
            shape = (self._shape(self.old, old.value), self._shape(self.new, new.value), side)
            verdict = self._verdicts_by_shape.get(shape)
        if verdict is not None:
            if not verdict:
                raise _Different
            return
        self._active.add(key)
        self._keep.append((old.value, new.value))
        try:
            self._compare_schema_body(old, new, side)
            verdict = True
        except _Different:
            verdict = False
            raise
        finally:
            self._active.discard(key)
            self._verdicts[key] = bool(verdict)
            if shape is not None:
                self._verdicts_by_shape[shape] = bool(verdict)

    def _shape(self, document: Mapping[str, Any], value: Any) -> int:
        """A number equal for equal schemas of one document (its `$ref`s resolve alike)."""
        key = (id(document), id(value))
        found = self._shape_of.get(key)
        if found is None:
            text = (id(document), _show(value))
            found = self._shapes.setdefault(text, len(self._shapes))
            self._shape_of[key] = found
            self._keep.append(value)  # Its id is the key: it must not be reused by another.
        return found

    def _compare_schema_body(self, old: _Node, new: _Node, side: Side) -> None:
        if not isinstance(old.value, dict) or not isinstance(new.value, dict):
            if old.value != new.value:
                self._report(
                    "type-changed",
                    new.pointer,
                    f"schema {_show(old.value)} is now {_show(new.value)}",
                )
            return
        if not self._compare_composition(old, new, side):
            return
        if not self._compare_type(old, new, side):
            return
        self._compare_nullable(old, new, side)
        self._compare_enum(old, new, side)
        if side == "request":
            self._compare_default(old, new)
        self._compare_constraints(old, new, side)
        self._compare_properties(old, new, side)
        self._compare_additional_properties(old, new, side)
        if "items" in old.value or "items" in new.value:
            self.compare_schema(
                # A missing `items` allows anything; it is compared as `{}` at the array itself.
                _Node(
                    old.value.get("items", {}),
                    _at(old, "items") if "items" in old.value else old.pointer,
                ),
                _Node(
                    new.value.get("items", {}),
                    _at(new, "items") if "items" in new.value else new.pointer,
                ),
                side,
            )

    def _narrowed(self, side: Side, pointer: str, message: str, document: Document = "new") -> None:
        rule = "request-schema-narrowed" if side == "request" else "response-schema-narrowed"
        self._report(rule, pointer, message, document)

    def _widened(self, side: Side, pointer: str, message: str, document: Document = "new") -> None:
        rule = "request-schema-widened" if side == "request" else "response-schema-widened"
        self._report(rule, pointer, message, document)

    def _compare_composition(self, old: _Node, new: _Node, side: Side) -> bool:
        """Compare allOf/anyOf/oneOf/not; False when the schemas differ too much to go on."""
        o, n = old.value, new.value
        # anyOf and oneOf are both unions; oneOf additionally rejects values matching two branches.
        old_union = "oneOf" if "oneOf" in o else "anyOf" if "anyOf" in o else None
        new_union = "oneOf" if "oneOf" in n else "anyOf" if "anyOf" in n else None
        if old_union and new_union:
            if old_union != new_union:
                message = f"{old_union} is now {new_union}"
                if new_union == "oneOf":
                    self._narrowed(side, _at(new, new_union), message)
                else:
                    self._widened(side, _at(new, new_union), message)
            self._compare_branches(old, old_union, new, new_union, side, union=True)
        elif old_union or new_union:
            return self._compare_wrapping(old, old_union, new, new_union, side, union=True)
        if "allOf" in o and "allOf" in n:
            self._compare_branches(old, "allOf", new, "allOf", side, union=False)
        elif "allOf" in o or "allOf" in n:
            return self._compare_wrapping(
                old,
                "allOf" if "allOf" in o else None,
                new,
                "allOf" if "allOf" in n else None,
                side,
                union=False,
            )
        if "not" in o and "not" in n:
            old_not, new_not = _Node(o["not"], _at(old, "not")), _Node(n["not"], _at(new, "not"))
            if not self._equivalent(old_not, new_not, side):
                self._report("composition-changed", _at(new, "not"), "'not' schema changed")
        elif "not" in n:
            self._narrowed(side, _at(new, "not"), "'not' schema added")
        elif "not" in o:
            self._widened(side, _at(old, "not"), "'not' schema removed", "old")
        self._compare_discriminator(old, new)
        return True

    def _compare_wrapping(
        self,
        old: _Node,
        old_kw: str | None,
        new: _Node,
        new_kw: str | None,
        side: Side,
        *,
        union: bool,
    ) -> bool:
        """One side has a composition the other lacks: compare what it amounts to, if we can."""
        wrapped, plain, kw = (new, old, new_kw) if new_kw is not None else (old, new, old_kw)
        assert kw is not None
        document = self.new if new_kw is not None else self.old
        branches = wrapped.value[kw] if isinstance(wrapped.value[kw], list) else []
        # allOf (or a one-branch union) is one schema written in parts: `allOf: [$ref]` next to
        # `nullable: true`, or a base schema plus extra members. Merged, it compares as usual.
        if kw == "allOf" or len(branches) == 1:
            merged = self._merge_all_of(document, wrapped, kw, set())
            if merged is not None:
                if new_kw is not None:
                    self.compare_schema(plain, merged, side)
                else:
                    self.compare_schema(merged, plain, side)
                return False
        pointer = _join(wrapped.pointer, kw)
        which: Document = "new" if new_kw is not None else "old"
        matched = False
        for index, branch in enumerate(branches):
            candidate = _Node(branch, _join(pointer, index))
            pair = (plain, candidate) if new_kw is not None else (candidate, plain)
            if self._equivalent(pair[0], pair[1], side):
                matched = True
                break
        if not matched:
            message = (
                f"the schema became {kw}, and none of its branches is the old schema"
                if new_kw is not None
                else f"the schema is no longer {kw}, and is none of its former branches"
            )
            self._report("composition-changed", pointer, message, which)
            return False
        if new_kw is not None:
            message = f"the schema became {kw} of {len(branches)} branches, one of them the old one"
        else:
            message = f"the schema was {kw} of {len(branches)} branches and is now one of them"
        # Wrapping in a union widens and unwrapping narrows; allOf the other way round.
        if union == (new_kw is not None):
            self._widened(side, pointer, message, which)
        else:
            self._narrowed(side, pointer, message, which)
        return False

    def _merge_all_of(
        self, document: Mapping[str, Any], node: _Node, kw: str, seen: set[int]
    ) -> _Node | None:
        """`node`'s `kw` branches and its other keywords as one schema; None if they conflict.

        The same schema merges to the same object every time, so pairs with it are compared once.
        """
        if seen:
            return self._merge(document, node, kw, seen)
        cache = (id(document), id(node.value), node.pointer, kw)
        if cache not in self._merged:
            merged = self._merge(document, node, kw, seen)
            self._merged[cache] = merged
            self._keep.append(merged)
        return self._merged[cache]

    def _merge(
        self, document: Mapping[str, Any], node: _Node, kw: str, seen: set[int]
    ) -> _Node | None:
        if id(node.value) in seen:
            return None  # An allOf that includes itself cannot be flattened.
        seen = seen | {id(node.value)}
        merged: dict[str, Any] = {k: v for k, v in node.value.items() if k != kw}
        merged["properties"] = dict(_mapping(merged.get("properties")))
        origins: dict[str, str] = dict(node.origins or {})
        required = list(_list(merged.get("required")))
        branches = node.value[kw] if isinstance(node.value[kw], list) else []
        for index, raw in enumerate(branches):
            branch = self._resolve(document, raw, _join(node.pointer, kw, index))
            if not isinstance(branch.value, dict):
                return None
            if "allOf" in branch.value:
                flattened = self._merge_all_of(document, branch, "allOf", seen)
                if flattened is None:
                    return None
                branch = flattened
            for key, value in branch.value.items():
                if key in _ANNOTATIONS:
                    continue
                if key == "properties":
                    for name, schema in _mapping(value).items():
                        if name in merged["properties"]:
                            return None  # Two definitions of one member: no single schema.
                        merged["properties"][name] = schema
                        origins[f"properties/{name}"] = _origin(branch, "properties", name)
                elif key == "required":
                    required += [name for name in _list(value) if name not in required]
                elif key in merged and _show(merged[key]) != _show(value):
                    return None
                else:
                    merged[key] = value
                    origins[key] = _origin(branch, key)
        if required:
            merged["required"] = required
        if not merged["properties"]:
            del merged["properties"]
        return _Node(merged, node.pointer, origins)

    def _compare_branches(
        self, old: _Node, old_kw: str, new: _Node, new_kw: str, side: Side, *, union: bool
    ) -> None:
        old_list = old.value[old_kw] if isinstance(old.value[old_kw], list) else []
        new_list = new.value[new_kw] if isinstance(new.value[new_kw], list) else []
        old_nodes = [_Node(b, _at(old, old_kw, i)) for i, b in enumerate(old_list)]
        new_nodes = [_Node(b, _at(new, new_kw, i)) for i, b in enumerate(new_list)]
        unmatched_old = list(range(len(old_nodes)))
        unmatched_new = list(range(len(new_nodes)))
        pairs: list[tuple[int, int]] = []

        def ref(value: Any) -> Any:
            return value.get("$ref") if isinstance(value, dict) else None

        def match(test: Callable[[int, int, bool], bool]) -> None:
            for i in list(unmatched_old):
                # The likeliest partner first (same $ref, then same place): an unchanged union
                # pairs every branch at its first trial.
                same = ref(old_list[i])
                likely = sorted(
                    unmatched_new, key=lambda j: (same is None or ref(new_list[j]) != same, j != i)
                )
                j = next((j for n, j in enumerate(likely) if test(i, j, n == 0)), None)
                if j is not None:
                    unmatched_old.remove(i)
                    unmatched_new.remove(j)
                    pairs.append((i, j))

        def equivalent(i: int, j: int, likeliest: bool) -> bool:
            if likeliest:
                return self._same_for_report(old_nodes[i], new_nodes[j], side)
            return self._equivalent(old_nodes[i], new_nodes[j], side)

        match(equivalent)
        match(lambda i, j, _: ref(old_list[i]) is not None and ref(old_list[i]) == ref(new_list[j]))
        # What is left pairs up in order; the surplus was added or removed.
        for i, j in list(zip(unmatched_old, unmatched_new, strict=False)):
            unmatched_old.remove(i)
            unmatched_new.remove(j)
            pairs.append((i, j))
        for i, j in pairs:
            # Conservative: a branch that accepts less makes the whole accept less, on both kinds.
            self.compare_schema(old_nodes[i], new_nodes[j], side)
        for i in unmatched_old:
            message = f"{old_kw} branch {i} removed"
            if union:
                self._narrowed(side, old_nodes[i].pointer, message, "old")
            else:
                self._widened(side, old_nodes[i].pointer, message, "old")
        for j in unmatched_new:
            message = f"{new_kw} branch {j} added"
            if union:
                self._widened(side, new_nodes[j].pointer, message)
            else:
                self._narrowed(side, new_nodes[j].pointer, message)

    def _compare_discriminator(self, old: _Node, new: _Node) -> None:
        old_disc = _mapping(old.value.get("discriminator"))
        new_disc = _mapping(new.value.get("discriminator"))
        if not old_disc and not new_disc:
            return
        pointer = _at(new, "discriminator") if new_disc else new.pointer
        if old_disc.get("propertyName") != new_disc.get("propertyName"):
            self._report(
                "discriminator-changed",
                pointer,
                f"discriminator property {_show(old_disc.get('propertyName'))} is now "
                f"{_show(new_disc.get('propertyName'))}",
            )
            return
        old_map, new_map = _mapping(old_disc.get("mapping")), _mapping(new_disc.get("mapping"))
        for value, target in old_map.items():
            if new_map.get(value) != target:
                self._report(
                    "discriminator-changed",
                    pointer,
                    f"discriminator mapping {value!r} removed or changed",
                )
        for value in new_map:
            if value not in old_map:
                self._report(
                    "discriminator-mapping-added", pointer, f"discriminator mapping {value!r} added"
                )

    def _compare_type(self, old: _Node, new: _Node, side: Side) -> bool:
        """Compare type and format; False when the type changed beyond comparing anything else."""
        old_types, new_types = _types(old.value), _types(new.value)
        pointer = _at(new, "type") if "type" in new.value else new.pointer
        if old_types != new_types:
            message = f"type {_show(old.value.get('type'))} is now {_show(new.value.get('type'))}"
            widened = _is_widening_type(old_types, new_types)
            narrowed = _is_widening_type(new_types, old_types)
            if widened:
                self._by_side(
                    side, "request-type-widened", "response-type-widened", pointer, message
                )
            elif narrowed:
                self._by_side(
                    side, "request-type-narrowed", "response-type-narrowed", pointer, message
                )
            else:
                self._report("type-changed", pointer, message)
                return False
        old_format, new_format = old.value.get("format"), new.value.get("format")
        if old_format != new_format:
            message = _changed("format", old_format, new_format)
            if old_format is None:
                self._by_side(
                    side,
                    "request-format-added",
                    "response-format-added",
                    _at(new, "format"),
                    message,
                )
            elif new_format is None:
                self._by_side(
                    side, "request-format-removed", "response-format-removed", new.pointer, message
                )
            else:
                self._report("format-changed", _at(new, "format"), message)
        return True

    def _compare_nullable(self, old: _Node, new: _Node, side: Side) -> None:
        old_null, new_null = _nullable(old.value), _nullable(new.value)
        if old_null and not new_null:
            self._by_side(
                side,
                "request-nullable-removed",
                "response-nullable-removed",
                new.pointer,
                "null is no longer allowed",
            )
        elif new_null and not old_null:
            pointer = _at(new, "nullable") if "nullable" in new.value else new.pointer
            self._by_side(
                side,
                "request-nullable-added",
                "response-nullable-added",
                pointer,
                "null is now allowed",
            )

    def _compare_enum(self, old: _Node, new: _Node, side: Side) -> None:
        # null in an enum only restates `nullable` (OpenAPI 3.0 needs both); nullability is
        # compared on its own, so it is left out here rather than reported twice.
        def values(schema: Mapping[str, Any]) -> dict[str, Any] | None:
            listed = schema.get("enum")
            if not isinstance(listed, list):
                return None
            return {_show(v): v for v in listed if v is not None}

        old_values, new_values = values(old.value), values(new.value)
        if old_values == new_values:
            return
        pointer = _at(new, "enum") if "enum" in new.value else new.pointer
        if new_values is None:
            message = "enum removed (any value allowed)"
            self._by_side(side, "request-enum-widened", "response-enum-widened", pointer, message)
            return
        if old_values is None:
            message = f"enum {list(new_values)} added"
            self._by_side(side, "request-enum-narrowed", "response-enum-narrowed", pointer, message)
            return
        gone = [k for k in old_values if k not in new_values]
        came = [k for k in new_values if k not in old_values]
        if gone:
            message = f"enum values removed: {', '.join(gone)}"
            self._by_side(side, "request-enum-narrowed", "response-enum-narrowed", pointer, message)
        if came:
            message = f"enum values added: {', '.join(came)}"
            self._by_side(side, "request-enum-widened", "response-enum-widened", pointer, message)

    def _compare_default(self, old: _Node, new: _Node) -> None:
        missing = object()
        old_default = old.value.get("default", missing)
        new_default = new.value.get("default", missing)
        if old_default is missing and new_default is missing:
            return
        if old_default is missing:
            self._report(
                "default-added",
                _at(new, "default"),
                f"default {_show(new_default)} added",
            )
        elif new_default is missing:
            self._report("default-removed", new.pointer, f"default {_show(old_default)} removed")
        elif _show(old_default) != _show(new_default):
            self._report(
                "default-changed",
                _at(new, "default"),
                f"default {_show(old_default)} is now {_show(new_default)}",
            )

    def _constraint(
        self, side: Side, tightened: bool, old: _Node, new: _Node, keyword: str
    ) -> None:
        old_value, new_value = old.value.get(keyword), new.value.get(keyword)
        message = _changed(keyword, old_value, new_value)
        pointer = _at(new, keyword) if keyword in new.value else new.pointer
        if tightened:
            self._by_side(
                side,
                "request-constraint-tightened",
                "response-constraint-tightened",
                pointer,
                message,
            )
        else:
            self._by_side(
                side,
                "request-constraint-loosened",
                "response-constraint-loosened",
                pointer,
                message,
            )

    def _compare_constraints(self, old: _Node, new: _Node, side: Side) -> None:
        o, n = old.value, new.value
        for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            old_bound, new_bound = _number(o.get(keyword)), _number(n.get(keyword))
            if old_bound == new_bound:
                continue
            lower = keyword in _LOWER_BOUNDS
            if new_bound is None:
                tightened = False
            elif old_bound is None:
                tightened = True
            else:
                tightened = new_bound > old_bound if lower else new_bound < old_bound
            self._constraint(side, tightened, old, new, keyword)
        for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
            old_flag, new_flag = o.get(keyword, False), n.get(keyword, False)
            if isinstance(old_flag, bool) and isinstance(new_flag, bool) and old_flag != new_flag:
                self._constraint(side, new_flag, old, new, keyword)
        old_unique, new_unique = (
            o.get("uniqueItems", False) is True,
            n.get("uniqueItems", False) is True,
        )
        if old_unique != new_unique:
            self._constraint(side, new_unique, old, new, "uniqueItems")
        for keyword in ("multipleOf", "pattern"):
            old_value, new_value = o.get(keyword), n.get(keyword)
            if old_value == new_value:
                continue
            if old_value is None or new_value is None:
                self._constraint(side, old_value is None, old, new, keyword)
            elif keyword == "multipleOf" and _divides(old_value, new_value):
                self._constraint(side, True, old, new, keyword)
            elif keyword == "multipleOf" and _divides(new_value, old_value):
                self._constraint(side, False, old, new, keyword)
            else:
                self._report(
                    "constraint-changed",
                    _at(new, keyword),
                    f"{keyword} {_show(old_value)} is now {_show(new_value)}",
                )

    def _compare_properties(self, old: _Node, new: _Node, side: Side) -> None:
        old_props = _mapping(old.value.get("properties"))
        new_props = _mapping(new.value.get("properties"))
        old_required = set(map(str, _list(old.value.get("required"))))
        new_required = set(map(str, _list(new.value.get("required"))))
        # readOnly members are ignored when sent, writeOnly ones never come back (OpenAPI 3.0
        # §4.7.25), and `required` applies to a member only on the side where it exists.
        hidden = "readOnly" if side == "request" else "writeOnly"
        names = list(old_props) + [n for n in new_props if n not in old_props]
        names += sorted((old_required | new_required) - set(names))
        for name in names:
            old_prop = (
                self._resolve(self.old, old_props[name], _at(old, "properties", name))
                if name in old_props
                else None
            )
            new_prop = (
                self._resolve(self.new, new_props[name], _at(new, "properties", name))
                if name in new_props
                else None
            )
            old_hidden = old_prop is not None and _mapping(old_prop.value).get(hidden) is True
            new_hidden = new_prop is not None and _mapping(new_prop.value).get(hidden) is True
            old_req = name in old_required and not old_hidden
            new_req = name in new_required and not new_hidden
            old_there = old_prop is not None and not old_hidden
            new_there = new_prop is not None and not new_hidden
            new_pointer = _at(new, "properties", name)
            old_pointer = _at(old, "properties", name)
            if old_there and not new_there:
                if new_prop is not None:
                    rule = (
                        "request-member-made-read-only"
                        if side == "request"
                        else "response-member-made-write-only"
                    )
                    self._report(rule, new_pointer, f"member {name!r} is now {hidden}")
                elif side == "request" and self._accepts_extra(new, old_prop):
                    # The new schema accepts more: the member is still valid as an extra one.
                    self._report(
                        "request-member-undeclared",
                        old_pointer,
                        f"request member {name!r} removed; still accepted as an additional member",
                        "old",
                    )
                else:
                    self._report(
                        f"{side}-member-removed",
                        old_pointer,
                        f"{side} member {name!r} removed",
                        "old",
                    )
                continue
            if new_there and not old_there:
                kind = "required" if new_req else "optional"
                if side == "request":
                    rule = "request-member-added-required" if new_req else "request-member-added"
                else:
                    rule = "response-member-added"
                self._report(rule, new_pointer, f"{kind} {side} member {name!r} added")
                continue
            where = (
                new_pointer
                if new_there
                else _at(new, "required")
                if "required" in new.value
                else new.pointer
            )
            if new_req and not old_req:
                self._report(
                    f"{side}-member-made-required", where, f"{side} member {name!r} is now required"
                )
            elif old_req and not new_req:
                self._report(
                    f"{side}-member-made-optional", where, f"{side} member {name!r} is now optional"
                )
            if old_there and new_there and old_prop is not None and new_prop is not None:
                self.compare_schema(old_prop, new_prop, side)

    def _accepts_extra(self, schema: _Node, member: _Node | None) -> bool:
        """Whether `schema` accepts, as an additional member, every value `member` allowed."""
        extra = schema.value.get("additionalProperties", True)
        if extra is True or extra == {}:
            return True
        if not isinstance(extra, dict) or member is None:
            return False
        pointer = _at(schema, "additionalProperties")
        return self._equivalent(member, self._resolve(self.new, extra, pointer), "request")

    def _compare_additional_properties(self, old: _Node, new: _Node, side: Side) -> None:
        old_extra = old.value.get("additionalProperties", True)
        new_extra = new.value.get("additionalProperties", True)
        old_pointer = _at(old, "additionalProperties")
        new_pointer = _at(new, "additionalProperties")
        old_schema = (
            self._resolve(self.old, old_extra, old_pointer) if isinstance(old_extra, dict) else None
        )
        new_schema = (
            self._resolve(self.new, new_extra, new_pointer) if isinstance(new_extra, dict) else None
        )
        # `true` and `{}` both allow anything.
        old_any = old_extra is True or (old_schema is not None and old_schema.value == {})
        new_any = new_extra is True or (new_schema is not None and new_schema.value == {})
        if old_any and new_any:
            return
        if old_schema is None and new_schema is None and _show(old_extra) == _show(new_extra):
            return  # `false` both times (or the same invalid value): nothing changed.
        if old_schema is not None and new_schema is not None and not old_any and not new_any:
            self.compare_schema(old_schema, new_schema, side)
            return
        message = (
            f"additionalProperties {_describe_extra(old_extra)} is now {_describe_extra(new_extra)}"
        )
        pointer = new_pointer if "additionalProperties" in new.value else new.pointer
        # Ordered from "nothing extra" through "extras of one schema" to "anything".
        rank = {False: 0, True: 2}
        old_rank = 2 if old_any else rank.get(old_extra, 1) if isinstance(old_extra, bool) else 1
        new_rank = 2 if new_any else rank.get(new_extra, 1) if isinstance(new_extra, bool) else 1
        if new_rank < old_rank:
            self._by_side(
                side,
                "request-additional-properties-narrowed",
                "response-additional-properties-narrowed",
                pointer,
                message,
            )
        elif side == "request":
            self._report("request-additional-properties-widened", pointer, message)
        elif old_rank == 0:
            # A tolerant reader ignores members it does not know, as for response-member-added.
            self._report("response-additional-properties-allowed", pointer, message)
        else:
            self._report("response-additional-properties-widened", pointer, message)


def _changed(keyword: str, old: Any, new: Any) -> str:
    if old is None:
        return f"{keyword} {_show(new)} added"
    if new is None:
        return f"{keyword} {_show(old)} removed"
    return f"{keyword} {_show(old)} is now {_show(new)}"


def _describe_extra(value: Any) -> str:
    if value is True or value == {}:
        return "any"
    if value is False:
        return "none"
    return "a schema"


def _divides(divisor: Any, value: Any) -> bool:
    try:
        quotient = value / divisor
    except (TypeError, ZeroDivisionError):
        return False
    return bool(abs(quotient - round(quotient)) < 1e-9)


def rules_table() -> Iterator[Rule]:
    """Every rule, breaking ones first, in the order they are documented."""
    yield from (r for r in RULES.values() if r.severity == BREAKING)
    yield from (r for r in RULES.values() if r.severity == NON_BREAKING)
