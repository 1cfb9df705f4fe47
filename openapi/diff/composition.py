"""Comparing composed schemas: `allOf`, `anyOf`, `oneOf`, `not` and discriminators.

Owns the meaning of composition for clients: `anyOf`/`oneOf` are unions and `allOf` an
intersection, so a branch added or removed widens or narrows; branches are paired (equal, then
the same `$ref`, then by position) and compared with the same rules; a schema wrapped in (or
unwrapped from) a composition is compared with what it amounts to, `allOf` parts merged into one
schema where they do not conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from openapi.diff.engine import Comparison
from openapi.diff.nodes import Document, Node, Side, as_list, at, mapping, origin, show
from openapi.document import join_pointer

# Keywords that document a schema without constraining it.
ANNOTATIONS = frozenset({"title", "description", "example", "examples", "externalDocs"})


class CompositionComparison:
    """Compares the composition keywords of schema pairs for one `Comparison`."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        # The same schema merges to the same object every time, so pairs with it compare once.
        self._merged: dict[tuple[int, int, str, str], Node | None] = {}

    def _narrowed(self, side: Side, pointer: str, message: str, document: Document = "new") -> None:
        rule = "request-schema-narrowed" if side == "request" else "response-schema-narrowed"
        self.comparison.report(rule, pointer, message, document)

    def _widened(self, side: Side, pointer: str, message: str, document: Document = "new") -> None:
        rule = "request-schema-widened" if side == "request" else "response-schema-widened"
        self.comparison.report(rule, pointer, message, document)

    def compare(self, old: Node, new: Node, side: Side) -> bool:
        """Compare allOf/anyOf/oneOf/not; False when the schemas differ too much to go on."""
        o, n = old.value, new.value
        # anyOf and oneOf are both unions; oneOf additionally rejects values matching two branches.
        old_union = "oneOf" if "oneOf" in o else "anyOf" if "anyOf" in o else None
        new_union = "oneOf" if "oneOf" in n else "anyOf" if "anyOf" in n else None
        if old_union and new_union:
            if old_union != new_union:
                message = f"{old_union} is now {new_union}"
                if new_union == "oneOf":
                    self._narrowed(side, at(new, new_union), message)
                else:
                    self._widened(side, at(new, new_union), message)
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
            old_not, new_not = Node(o["not"], at(old, "not")), Node(n["not"], at(new, "not"))
            if not self.comparison.equivalent(old_not, new_not, side):
                self.comparison.report(
                    "composition-changed", at(new, "not"), "'not' schema changed"
                )
        elif "not" in n:
            self._narrowed(side, at(new, "not"), "'not' schema added")
        elif "not" in o:
            self._widened(side, at(old, "not"), "'not' schema removed", "old")
        self._compare_discriminator(old, new)
        return True

    def _compare_wrapping(
        self,
        old: Node,
        old_kw: str | None,
        new: Node,
        new_kw: str | None,
        side: Side,
        *,
        union: bool,
    ) -> bool:
        """One side has a composition the other lacks: compare what it amounts to, if we can."""
        wrapped, plain, kw = (new, old, new_kw) if new_kw is not None else (old, new, old_kw)
        assert kw is not None
        document = self.comparison.new if new_kw is not None else self.comparison.old
        branches = wrapped.value[kw] if isinstance(wrapped.value[kw], list) else []
        # allOf (or a one-branch union) is one schema written in parts: `allOf: [$ref]` next to
        # `nullable: true`, or a base schema plus extra members. Merged, it compares as usual.
        if kw == "allOf" or len(branches) == 1:
            merged = self._merge_all_of(document, wrapped, kw, set())
            if merged is not None:
                if new_kw is not None:
                    self.comparison.compare_schema(plain, merged, side)
                else:
                    self.comparison.compare_schema(merged, plain, side)
                return False
        pointer = join_pointer(wrapped.pointer, kw)
        which: Document = "new" if new_kw is not None else "old"
        matched = False
        for index, branch in enumerate(branches):
            candidate = Node(branch, join_pointer(pointer, index))
            pair = (plain, candidate) if new_kw is not None else (candidate, plain)
            if self.comparison.equivalent(pair[0], pair[1], side):
                matched = True
                break
        if not matched:
            message = (
                f"the schema became {kw}, and none of its branches is the old schema"
                if new_kw is not None
                else f"the schema is no longer {kw}, and is none of its former branches"
            )
            self.comparison.report("composition-changed", pointer, message, which)
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
        self, document: Mapping[str, Any], node: Node, kw: str, seen: set[int]
    ) -> Node | None:
        """`node`'s `kw` branches and its other keywords as one schema; None if they conflict.

        The same schema merges to the same object every time, so pairs with it are compared once.
        """
        if seen:
            return self._merge(document, node, kw, seen)
        cache = (id(document), id(node.value), node.pointer, kw)
        if cache not in self._merged:
            merged = self._merge(document, node, kw, seen)
            self._merged[cache] = merged
            self.comparison.keep(merged)
        return self._merged[cache]

    def _merge(
        self, document: Mapping[str, Any], node: Node, kw: str, seen: set[int]
    ) -> Node | None:
        if id(node.value) in seen:
            return None  # An allOf that includes itself cannot be flattened.
        seen = seen | {id(node.value)}
        merged: dict[str, Any] = {k: v for k, v in node.value.items() if k != kw}
        merged["properties"] = dict(mapping(merged.get("properties")))
        origins: dict[str, str] = dict(node.origins or {})
        required = list(as_list(merged.get("required")))
        branches = node.value[kw] if isinstance(node.value[kw], list) else []
        for index, raw in enumerate(branches):
            branch = self.comparison.resolve(document, raw, join_pointer(node.pointer, kw, index))
            if not isinstance(branch.value, dict):
                return None
            if "allOf" in branch.value:
                flattened = self._merge_all_of(document, branch, "allOf", seen)
                if flattened is None:
                    return None
                branch = flattened
            for key, value in branch.value.items():
                if key in ANNOTATIONS:
                    continue
                if key == "properties":
                    for name, schema in mapping(value).items():
                        if name in merged["properties"]:
                            return None  # Two definitions of one member: no single schema.
                        merged["properties"][name] = schema
                        origins[f"properties/{name}"] = origin(branch, "properties", name)
                elif key == "required":
                    required += [name for name in as_list(value) if name not in required]
                elif key in merged and show(merged[key]) != show(value):
                    return None
                else:
                    merged[key] = value
                    origins[key] = origin(branch, key)
        if required:
            merged["required"] = required
        if not merged["properties"]:
            del merged["properties"]
        return Node(merged, node.pointer, origins)

    def _compare_branches(
        self, old: Node, old_kw: str, new: Node, new_kw: str, side: Side, *, union: bool
    ) -> None:
        old_list = old.value[old_kw] if isinstance(old.value[old_kw], list) else []
        new_list = new.value[new_kw] if isinstance(new.value[new_kw], list) else []
        old_nodes = [Node(b, at(old, old_kw, i)) for i, b in enumerate(old_list)]
        new_nodes = [Node(b, at(new, new_kw, i)) for i, b in enumerate(new_list)]
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
                return self.comparison.same_for_report(old_nodes[i], new_nodes[j], side)
            return self.comparison.equivalent(old_nodes[i], new_nodes[j], side)

        match(equivalent)
        match(lambda i, j, _: ref(old_list[i]) is not None and ref(old_list[i]) == ref(new_list[j]))
        # What is left pairs up in order; the surplus was added or removed.
        for i, j in list(zip(unmatched_old, unmatched_new, strict=False)):
            unmatched_old.remove(i)
            unmatched_new.remove(j)
            pairs.append((i, j))
        for i, j in pairs:
            # Conservative: a branch that accepts less makes the whole accept less, on both kinds.
            self.comparison.compare_schema(old_nodes[i], new_nodes[j], side)
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

    def _compare_discriminator(self, old: Node, new: Node) -> None:
        old_disc = mapping(old.value.get("discriminator"))
        new_disc = mapping(new.value.get("discriminator"))
        if not old_disc and not new_disc:
            return
        pointer = at(new, "discriminator") if new_disc else new.pointer
        if old_disc.get("propertyName") != new_disc.get("propertyName"):
            self.comparison.report(
                "discriminator-changed",
                pointer,
                f"discriminator property {show(old_disc.get('propertyName'))} is now "
                f"{show(new_disc.get('propertyName'))}",
            )
            return
        old_map, new_map = mapping(old_disc.get("mapping")), mapping(new_disc.get("mapping"))
        for value, target in old_map.items():
            if new_map.get(value) != target:
                self.comparison.report(
                    "discriminator-changed",
                    pointer,
                    f"discriminator mapping {value!r} removed or changed",
                )
        for value in new_map:
            if value not in old_map:
                self.comparison.report(
                    "discriminator-mapping-added", pointer, f"discriminator mapping {value!r} added"
                )
