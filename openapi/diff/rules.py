"""The rules of `diff`: every kind of change it reports, each with its one fixed severity.

`error` marks a change that breaks existing clients, `info` one that does not. The table is in the
order the README documents it; `rules_table()` lists breaking rules first.
"""

from __future__ import annotations

from collections.abc import Iterator

from openapi.findings import Rule, Severity

BREAKING = Severity.ERROR
NON_BREAKING = Severity.INFO


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


def rules_table() -> Iterator[Rule]:
    """Every rule, breaking ones first, in the order they are documented."""
    yield from (r for r in RULES.values() if r.severity == BREAKING)
    yield from (r for r in RULES.values() if r.severity == NON_BREAKING)
