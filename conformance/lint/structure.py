"""The `oas-structure` rule: the document is a valid OpenAPI 3.0 description whose `$ref`s resolve.

Owns the boundary with openapi-spec-validator: its errors become hits at the offending node, and
anything it raises is reported, not propagated. The runner skips the other rules when this one
finds an error, because they assume the shapes this rule guarantees.
"""

from __future__ import annotations

from collections.abc import Iterator

from openapi_spec_validator import OpenAPIV30SpecValidator

from conformance.lint.document import SpecDocument, display, join, references
from conformance.lint.rule import Hit, Severity, most_specific, rule, shorten

STRUCTURE_RULE_NAME = "oas-structure"


@rule(
    STRUCTURE_RULE_NAME,
    Severity.ERROR,
    "The document validates as OpenAPI 3.0 (openapi-spec-validator) and every $ref resolves.",
)
def oas_structure(doc: SpecDocument) -> Iterator[Hit]:
    version = doc.data.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.0."):
        found = "no `openapi` member" if version is None else f"openapi: {version!r}"
        yield Hit("/openapi", f"this linter checks OpenAPI 3.0 documents; found {found}")
        return
    for pointer, line in doc.duplicate_keys:
        yield Hit(
            pointer, f"{display(pointer)} is written twice; only the last one counts", line=line
        )
    unresolved = list(_unresolved_references(doc))
    yield from unresolved
    if unresolved:
        # openapi-spec-validator stops at the first reference it cannot follow, with an exception.
        return
    try:
        errors = list(OpenAPIV30SpecValidator(doc.data).iter_errors())
    # The validator is a third-party boundary: whatever it raises on a strange document is a
    # finding about that document, not a crash of the linter.
    except Exception as exc:  # noqa: BLE001
        yield Hit("", f"openapi-spec-validator could not check the document: {shorten(str(exc))}")
        return
    for error in errors:
        cause = most_specific(error)
        yield Hit(join("", *cause.absolute_path), shorten(cause.message))


def _unresolved_references(doc: SpecDocument) -> Iterator[Hit]:
    for pointer, ref in references(doc):
        if not ref.startswith("#"):
            yield Hit(
                join(pointer, "$ref"),
                f"external reference {ref!r}: the contract is one file; bundle it before linting",
            )
        elif doc.ref_target(ref) is None:
            yield Hit(
                join(pointer, "$ref"), f"{ref!r} does not resolve to anything in the document"
            )
