"""The `security-declared` rule: every operation is protected by security schemes that exist.

Owns the reading of security requirements: the document's global `security`, an operation's own
(an explicit `security: []` is a deliberate opt-out, reported as information), and the
`components.securitySchemes` they name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openapi.lint.conventions import effective_security
from openapi.lint.document import SpecDocument, join, operations
from openapi.lint.rule import Hit, Severity, rule


def requirement_lists(doc: SpecDocument) -> Iterator[tuple[Any, str]]:
    """The global and every operation's `security` lists, with their pointers."""
    if "security" in doc.data:
        yield doc.data["security"], "/security"
    for operation in operations(doc):
        if "security" in operation.data:
            yield operation.data["security"], join(operation.pointer, "security")


@rule(
    "security-declared",
    Severity.ERROR,
    "Security schemes are declared, and every operation has a requirement naming them.",
)
def security_declared(doc: SpecDocument) -> Iterator[Hit]:
    components = doc.data.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    schemes = schemes if isinstance(schemes, dict) else {}
    if not schemes:
        yield Hit(
            "/components" if isinstance(components, dict) else "",
            "no components.securitySchemes: the API takes a token (OAuth2, bearer, access-token)",
        )
    for requirements, pointer in requirement_lists(doc):
        for index, requirement in enumerate(requirements if isinstance(requirements, list) else []):
            for name in requirement if isinstance(requirement, dict) else {}:
                if name not in schemes:
                    yield Hit(
                        join(pointer, index, name),
                        f"security requirement names {name!r}, which components.securitySchemes "
                        "does not declare",
                    )
    for operation in operations(doc):
        requirements = effective_security(doc, operation)
        if requirements:
            continue
        if "security" in operation.data:
            yield Hit(
                join(operation.pointer, "security"),
                f"{operation.label} opts out of security (security: []): anyone may call it",
                Severity.INFO,
            )
        else:
            yield Hit(
                operation.pointer,
                f"{operation.label} has no security requirement: declare a global `security` "
                "or one on the operation",
            )
