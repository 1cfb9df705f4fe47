"""Linting the contract: OpenAPI 3.0 validity, valid examples, and the API's own conventions.

`lint(source)` reads a spec (a path, or `git:REV:PATH`) and returns `Finding`s, each naming its
rule, severity, message and the file and line of the offending YAML node. `RULES` lists every rule;
`report` formats findings. The command line (`python -m conformance lint`) is
`conformance.cli.lint`.
"""

from __future__ import annotations

from conformance.lint.document import SpecDocument, SpecLoadError, parse
from conformance.lint.rule import Finding, Rule, Severity
from conformance.lint.runner import RULES, lint, lint_document

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "Severity",
    "SpecDocument",
    "SpecLoadError",
    "lint",
    "lint_document",
    "parse",
]
