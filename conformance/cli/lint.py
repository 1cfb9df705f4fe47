"""`python -m conformance lint [SPEC]`: lint the contract and report findings with file and line.

Exit status: 0 nothing at or above `--fail-on`, 1 findings that are, 2 the spec could not be read
(missing file, bad YAML), with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from conformance.lint import RULES, Severity, SpecLoadError, lint
from conformance.lint.report import exit_status, render_human, render_json
from openapi import SPEC_PATH

UNREADABLE = 2


def _default_source() -> str:
    """The packaged spec, named relative to the current directory when it lies below it."""
    relative = os.path.relpath(SPEC_PATH)
    return str(SPEC_PATH) if relative.startswith("..") else relative


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance lint",
        description="Lint an OpenAPI 3.0 spec: structure, examples and the API's conventions.",
    )
    parser.add_argument(
        "spec",
        nargs="?",
        help="the spec: a file, or git:REV:PATH (default: the packaged openapi/openapi.yaml)",
    )
    parser.add_argument(
        "--format", choices=("human", "json"), default="human", help="output format (human)"
    )
    parser.add_argument(
        "--fail-on",
        choices=[severity.label for severity in sorted(Severity, reverse=True)],
        default="error",
        help="exit 1 when a finding is at least this severe (error)",
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="list the rules and their severities, then exit"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the linter with command-line arguments `argv`; return the exit status."""
    args = _parser().parse_args(list(argv))
    if args.list_rules:
        for each in RULES:
            sys.stdout.write(f"{each.name} ({each.severity.label}): {each.summary}\n")
        return 0
    source: str = args.spec or _default_source()
    try:
        findings = lint(source)
    except SpecLoadError as exc:
        sys.stderr.write(f"conformance lint: {exc}\n")
        return UNREADABLE
    render = render_json if args.format == "json" else render_human
    sys.stdout.write(render(source, findings, len(RULES)))
    return exit_status(findings, Severity.from_label(args.fail_on))
