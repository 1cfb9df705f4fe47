"""The comparison's engine: both documents, where findings go, and each schema pair once per side.

Owns `Comparison`, the state one comparison shares between `openapi.diff.operations` (documents
down to schemas) and `openapi.diff.schemas` (schemas down to keywords): the two documents and their
file names, the finding recorder (`report`), `$ref` resolution with a cache, and the memo that
makes the work linear in the pairs compared, however deeply unions nest. Every schema pair is
compared once per side and its result kept, whether it was compared for the report or as a trial
(is this union branch the old one?). Also `run_deep`: the stack a deep comparison needs.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from openapi.diff.nodes import Document, Node, Side, resolve_node, show
from openapi.diff.rules import RULES
from openapi.document import SpecError
from openapi.findings import Finding

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

    changes: list[Finding] = field(default_factory=list)
    inner: list[_Key] = field(default_factory=list)
    empty: bool = True
    """Nothing found here or in any inner pair (a pair still in progress counts as equal)."""


class Comparison:
    """One comparison: both documents, the result of every schema pair compared, and the stack.

    Every schema pair is compared once per side and its result kept, whether it was compared for
    the report or as a trial (is this union branch the old one?): a nested union is never compared
    again, so the work is linear in the pairs compared, however the unions nest.
    """

    def __init__(
        self, old: Mapping[str, Any], new: Mapping[str, Any], old_name: str, new_name: str
    ) -> None:
        self.old = old
        self.new = new
        # Findings name the file they point into: OLD's for what was removed, else NEW's.
        self._files: dict[Document, str] = {"old": old_name, "new": new_name}
        # The operation being compared, named in messages about places inside it. A change inside
        # a shared component is not named for an operation, so it is reported once, not per use.
        self.operation: str | None = None
        # How a pair's own keywords are compared (`openapi.diff.schemas`): set by whoever builds
        # the comparison, so that this module, which the schema modules use, does not import them.
        self.compare_body: Callable[[Node, Node, Side], None] = _no_body
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
        self._targets: dict[tuple[int, str], Node] = {}

    def keep(self, value: Any) -> None:
        """Keep `value` alive for the comparison: its id is (part of) a key of the memo."""
        self._keep.append(value)

    def findings(self) -> list[Finding]:
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

    def resolve(self, document: Mapping[str, Any], value: Any, pointer: str) -> Node:
        """`value` with its `$ref`s followed (each `$ref` once); `SpecError` naming the file."""
        if not (isinstance(value, dict) and isinstance(value.get("$ref"), str)):
            return Node(value, pointer)
        cache = (id(document), value["$ref"])
        known = self._targets.get(cache)
        if known is not None:
            return known
        try:
            target = resolve_node(document, value, pointer)
        except SpecError as exc:
            name = self._files["old" if document is self.old else "new"]
            raise SpecError(f"{name}: at {pointer or '/'}: {exc}") from exc
        self._targets[cache] = target
        return target

    # -- recording -----------------------------------------------------------------------------

    def report(self, rule: str, pointer: str, message: str, document: Document = "new") -> None:
        """Record a change found by `rule` at `pointer` into `document` (or, in a trial, stop)."""
        if self._trials:
            raise _Different
        if self.operation is not None and pointer.startswith("/paths/"):
            message = f"{self.operation}: {message}"
        result = self._stack[-1]
        result.changes.append(
            Finding(rule, RULES[rule].severity, message, self._files[document], pointer)
        )
        result.empty = False

    def by_side(
        self, side: Side, request_rule: str, response_rule: str, pointer: str, message: str
    ) -> None:
        """Report the request or the response rule, as `side` says."""
        self.report(request_rule if side == "request" else response_rule, pointer, message)

    def same_for_report(self, old: Node, new: Node, side: Side) -> bool:
        """Whether two schemas compare without any change, compared as for the report.

        For the likeliest partner of a union branch, which is compared for the report anyway when
        nothing else matches: its full result is kept (not reported unless the pair is chosen),
        so an unchanged union costs one comparison per branch, not a trial and then another.
        """
        if self._trials:
            return self.equivalent(old, new, side)
        detached = _Result()
        self._stack.append(detached)
        try:
            self.compare_schema(old, new, side)
        finally:
            self._stack.pop()
        return detached.empty

    def equivalent(self, old: Node, new: Node, side: Side) -> bool:
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

        # -- schema pairs, once each per side -----------------------------------------------------------

    def compare_schema(self, old: Node, new: Node, side: Side) -> None:
        """Compare two schemas (already resolved or not) as seen from one side of the exchange."""
        # A node that is not a $ref is kept as it is, with the origins of a merged allOf.
        if isinstance(old.value, dict) and "$ref" in old.value:
            old = self.resolve(self.old, old.value, old.pointer)
        if isinstance(new.value, dict) and "$ref" in new.value:
            new = self.resolve(self.new, new.value, new.pointer)
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

    def _report_pair(self, key: _Key, old: Node, new: Node, side: Side) -> _Result:
        """Compare a pair for the report (once per side); every change found is kept."""
        result = _Result()
        self._active.add(key)
        self._stack.append(result)
        self._keep.append((old.value, new.value))
        try:
            self.compare_body(old, new, side)
        finally:
            self._stack.pop()
            self._active.discard(key)
        self._results[key] = result
        return result

    def _try_pair(self, key: _Key, old: Node, new: Node, side: Side) -> None:
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
            self.compare_body(old, new, side)
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
            text = (id(document), show(value))
            found = self._shapes.setdefault(text, len(self._shapes))
            self._shape_of[key] = found
            self.keep(value)  # Its id is the key: it must not be reused by another.
        return found


def _no_body(old: Node, new: Node, side: Side) -> None:
    raise AssertionError("Comparison.compare_body was not set")


# Schemas nest as deep as the spec's unions and $refs do (public specs reach hundreds of levels,
# each a dozen Python frames): the comparison runs on a thread with room for that.
_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 200_000

_T = TypeVar("_T")


def run_deep(work: Callable[[], _T]) -> _T:
    """`work()`, run on a thread whose stack and recursion limit fit deeply nested schemas."""
    outcome: list[_T] = []
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
        worker = threading.Thread(target=run, name="openapi-diff", daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    sys.setrecursionlimit(limit)
    if failure:
        raise failure[0]
    return outcome[0]
