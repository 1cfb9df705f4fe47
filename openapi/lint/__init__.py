"""Linting the contract: OpenAPI 3.0 validity, valid examples, and the API's own conventions.

`lint(source)` reads a spec (a path, or `git:REV:PATH`) and returns `Finding`s (the model shared
with `diff`, `openapi.findings`), each naming its rule, severity, message, JSON pointer and the
file and line of the offending node. `RULES` lists every rule. The command line is
`python -m openapi lint` (`openapi.cli`).
"""

from __future__ import annotations

from openapi.lint.document import SpecDocument, parse
from openapi.lint.rule import LintRule
from openapi.lint.runner import RULES, lint, lint_document

__all__ = ["RULES", "LintRule", "SpecDocument", "lint", "lint_document", "parse"]
