"""Breaking-change detection between two OpenAPI 3.0 documents.

"Breaking" means breaking for an existing client. Data a client *sends* (parameters, request
bodies) breaks when the contract accepts less; data a client *receives* (responses, response
headers) breaks when the contract may produce more, or promises less. A schema used on both sides
is compared once per side, so one edit can be breaking on one side and not on the other.

Findings are the shared model (`openapi.findings`): severity `error` for a breaking change, `info`
for a compatible one, a JSON pointer into NEW, or into OLD (the finding's `file`) for things that
no longer exist, and the line there. Because `$ref`s are followed, a change inside a shared
component is reported once, at the component, whichever operations use it; and moving a schema
into `components` (or inlining it) without changing it reports nothing.

The modules, along the comparison's seams: `rules` (the rule table), `nodes` (values and where
they are written), `engine` (the shared state and the once-per-pair memo), `operations`
(documents down to schemas), `schemas` and `composition` (schemas down to keywords), `report`
(lines and order). The command line is `python -m openapi diff` (`openapi.cli`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openapi.diff.engine import Comparison, run_deep
from openapi.diff.operations import OperationComparison
from openapi.diff.report import place
from openapi.diff.rules import BREAKING, NON_BREAKING, RULES, rules_table
from openapi.diff.schemas import SchemaComparison
from openapi.document import LocatedDocument
from openapi.findings import Finding
from openapi.specsource import load_source, require_openapi3

__all__ = [
    "BREAKING",
    "NON_BREAKING",
    "RULES",
    "diff",
    "diff_documents",
    "diff_specs",
    "has_breaking",
    "rules_table",
]


def diff_documents(old: LocatedDocument, new: LocatedDocument) -> list[Finding]:
    """Every change from `old` to `new`, breaking ones first; `SpecError` if a `$ref` cannot be
    followed."""

    # A finding names the file it points into; two inputs named alike must still be told apart.
    old_name = old.source if old.source != new.source else f"{old.source} (old)"

    def compare() -> list[Finding]:
        comparison = Comparison(old.data, new.data, old_name, new.source)
        comparison.compare_body = SchemaComparison(comparison).compare_body
        OperationComparison(comparison).compare_documents()
        return comparison.findings()

    return place(run_deep(compare), {old_name: old, new.source: new})


def diff_specs(
    old: Mapping[str, Any], new: Mapping[str, Any], old_name: str = "OLD", new_name: str = "NEW"
) -> list[Finding]:
    """Compare two documents held in memory (their findings have no lines)."""
    return diff_documents(
        LocatedDocument.from_data(dict(old), old_name),
        LocatedDocument.from_data(dict(new), new_name),
    )


def diff(old_source: str, new_source: str) -> list[Finding]:
    """Compare the specs at two sources (files or `git:REV:PATH`, see `openapi.specsource`)."""
    old = require_openapi3(load_source(old_source))
    new = require_openapi3(load_source(new_source))
    return diff_documents(old, new)


def has_breaking(findings: Iterable[Finding]) -> bool:
    """Whether any of `findings` breaks existing clients."""
    return any(finding.severity is BREAKING for finding in findings)
