"""The `oas-structure` rule: the document is a valid OpenAPI 3.0 description whose `$ref`s resolve.

Owns the boundary with openapi-spec-validator: its errors become hits at the offending node, and
anything it raises is reported, not propagated. The runner skips the other rules when this one
finds an error, because they assume the shapes this rule guarantees.

The validator checks the document twice: against the OpenAPI 3.0 JSON Schema (its errors carry
their path), then object by object (a `default` against its schema, duplicate operationIds, path
parameters), whose errors carry no place at all. Each of its object checks is wrapped here to tag
what it yields with the path of the object it was checking, which becomes a JSON pointer into the
file (following `$ref`s, so the pointer names where the offending node is written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV30SpecValidator
from openapi_spec_validator.validation.exceptions import (
    DuplicateOperationIDError,
    OpenAPIValidationError,
)
from openapi_spec_validator.validation.keywords import KeywordValidator, ValueValidator

from openapi.lint.document import SpecDocument, display, join, references
from openapi.lint.rule import Hit, Severity, most_specific, rule, shorten

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
        errors = list(_LocatingValidator(doc.data).iter_errors())
    # The validator is a third-party boundary: whatever it raises on a strange document is a
    # finding about that document, not a crash of the linter.
    except Exception as exc:  # noqa: BLE001
        yield Hit("", f"openapi-spec-validator could not check the document: {shorten(str(exc))}")
        return
    for error in errors:
        cause = most_specific(error)
        where: Sequence[str | int] = getattr(error, _PLACE, ())
        if isinstance(error, DuplicateOperationIDError):
            where = (*where, "operationId")  # Checked at the operation; the id is the culprit.
        yield Hit(_written_at(doc, [*where, *cause.absolute_path]), shorten(cause.message))


# The attribute a wrapped object check sets on each error it yields: the path it was checking.
_PLACE = "_openapi_lint_place"


def _locating(check: type[KeywordValidator]) -> type[KeywordValidator]:
    """`check` with every error it yields tagged with the path of the object it was given."""
    # A value check is given the schema whose `default` it validates.
    suffix: tuple[str, ...] = ("default",) if issubclass(check, ValueValidator) else ()
    call: Callable[..., Iterator[ValidationError]] = check.__call__

    def located(self: Any, *args: Any, **kwargs: Any) -> Iterator[ValidationError]:
        paths = [arg for arg in args if isinstance(arg, SchemaPath)]
        for error in call(self, *args, **kwargs):
            if not isinstance(error, OpenAPIValidationError):
                # The validator converts other errors into its own on the way out, dropping the
                # tag: convert here, so the tagged object is the one that comes out.
                error = OpenAPIValidationError.create_from(error)
            # The innermost check tags first; the ones it was called from leave the tag alone.
            if paths and not hasattr(error, _PLACE):
                setattr(error, _PLACE, (*paths[-1].parts, *suffix))
            yield error

    return type(check.__name__, (check,), {"__call__": located})


class _LocatingValidator(OpenAPIV30SpecValidator):
    keyword_validators = {
        name: _locating(check) for name, check in OpenAPIV30SpecValidator.keyword_validators.items()
    }


def _written_at(doc: SpecDocument, path: Sequence[str | int]) -> str:
    """The pointer of the node at the validator's `path`, which walks through `$ref`s as if they
    were inlined: each `$ref` met on the way is followed to where its target is written."""
    node: Any = doc.data
    pointer = ""
    for index, token in enumerate(path):
        node, pointer = doc.deref(node, pointer)
        if isinstance(node, dict) and str(token) in node:
            node = node[str(token)]
        elif isinstance(node, list) and isinstance(token, int) and token < len(node):
            node = node[token]
        else:
            return join(pointer, *path[index:])
        pointer = join(pointer, token)
    return pointer


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
