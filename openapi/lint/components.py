"""The `components-unused` rule: everything under `components` is used by some operation.

Owns the notion of "used": reachable by `$ref` from outside `components` (paths, top-level
security aside), directly or through other used components; a security scheme is used when a
security requirement names it. A component used only by unused components is unused too.
"""

from __future__ import annotations

from collections.abc import Iterator

from openapi.lint.document import SpecDocument, join, references_in, split
from openapi.lint.rule import Hit, Severity, rule
from openapi.lint.security import requirement_lists
from openapi.lint.walk import names

_REFERENCED_SECTIONS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "links",
    "callbacks",
)


def _used(doc: SpecDocument) -> set[str]:
    """The pointers (`/components/<section>/<name>`) of every component reachable by $ref."""
    queue = [(value, join("", key)) for key, value in doc.data.items() if key != "components"]
    used: set[str] = set()
    while queue:
        value, pointer = queue.pop()
        for _, ref in references_in(value, pointer):
            target = doc.ref_target(ref)
            tokens = split(target) if target is not None else []
            if len(tokens) < 3 or tokens[0] != "components":
                continue
            component = join("/components", tokens[1], tokens[2])
            if component not in used:
                used.add(component)
                queue.append((doc.get(component), component))
    return used


@rule(
    "components-unused",
    Severity.WARNING,
    "Nothing in components is unused (schemas, responses, parameters, headers, security "
    "schemes, ...).",
)
def components_unused(doc: SpecDocument) -> Iterator[Hit]:
    used = _used(doc)
    for section in _REFERENCED_SECTIONS:
        for name in names(doc.get(join("/components", section))):
            pointer = join("/components", section, name)
            if pointer not in used:
                yield Hit(pointer, f"components.{section}.{name} is never used")
    named = {
        str(name)
        for requirements, _ in requirement_lists(doc)
        for requirement in (requirements if isinstance(requirements, list) else [])
        if isinstance(requirement, dict)
        for name in requirement
    }
    for name in names(doc.get("/components/securitySchemes")):
        if name not in named:
            yield Hit(
                join("/components/securitySchemes", name),
                f"components.securitySchemes.{name} is named by no security requirement",
            )
