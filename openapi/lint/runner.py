"""Running the lint rules: the ordered rule table, and the structural gate in front of it.

Owns which rules exist and in what order, and the one policy between them: when the document is
not structurally valid OpenAPI 3.0, only the structural findings are reported, because every other
rule assumes the shapes that validity guarantees.
"""

from __future__ import annotations

from openapi.findings import Finding, Severity, report_order
from openapi.lint.components import components_unused
from openapi.lint.conventions import (
    delete_blocked_response,
    delete_force_parameter,
    error_responses_declared,
    error_schemas_shared,
    ids_not_uuid,
    index_array_body,
    index_pagination_headers,
    operation_id_and_summary,
    path_parameter_example,
)
from openapi.lint.document import SpecDocument, load
from openapi.lint.examples import example_access_mode, example_valid
from openapi.lint.links import links_resolve
from openapi.lint.rule import LintRule
from openapi.lint.security import security_declared
from openapi.lint.structure import STRUCTURE_RULE_NAME, oas_structure

RULES: tuple[LintRule, ...] = (
    oas_structure,
    example_valid,
    example_access_mode,
    operation_id_and_summary,
    index_pagination_headers,
    index_array_body,
    error_responses_declared,
    error_schemas_shared,
    delete_force_parameter,
    delete_blocked_response,
    path_parameter_example,
    security_declared,
    links_resolve,
    ids_not_uuid,
    components_unused,
)
"""Every rule, structural validity first."""


def lint_document(doc: SpecDocument) -> list[Finding]:
    """Every finding of every rule on `doc`, in report order (most severe first)."""
    findings = oas_structure.run(doc)
    if any(finding.severity is Severity.ERROR for finding in findings):
        findings.append(
            Finding(
                rule=STRUCTURE_RULE_NAME,
                severity=Severity.INFO,
                message="the other rules did not run: they need a structurally valid document",
                file=doc.source,
                pointer="",
                line=doc.line_of(""),
            )
        )
        return sorted(findings, key=report_order)
    for each in RULES:
        if each is not oas_structure:
            findings.extend(each.run(doc))
    return sorted(findings, key=report_order)


def lint(source: str) -> list[Finding]:
    """Lint the spec at `source` (a path or `git:REV:PATH`); `SpecError` if unreadable."""
    return lint_document(load(source))
