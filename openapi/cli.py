"""`python -m openapi lint|diff`: the spec tools' command line, one convention for both.

Owns the flags, the choice of output and the exit status; the work is `openapi.lint.lint` and
`openapi.diff.diff`, the output `openapi.report`. Both commands take `--format text|json`,
`--fail-on error|warning|info|never` (default `error`) and `--list-rules`, print findings on
stdout, and write errors on stderr as one line starting `openapi lint: ` or `openapi diff: `.

Exit status: 0 nothing reaches `--fail-on`; 1 a finding does; 2 a usage error (bad flags or
arguments); 3 a spec cannot be read (missing file, bad YAML or JSON, bad git revision; for diff
also not OpenAPI 3, or a `$ref` that cannot be followed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

from openapi import SPEC_PATH
from openapi.document import SpecError
from openapi.findings import Finding, Rule
from openapi.report import (
    FAIL_ON,
    UNREADABLE,
    USAGE,
    exit_status,
    render_json,
    render_rules,
    render_text,
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors carry the commands' one stderr prefix."""

    def __init__(self, *, prefix: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prefix}: {message} (see --help)\n")
        raise SystemExit(USAGE)


def _common(parser: argparse.ArgumentParser) -> None:
    """The options every spec tool has, with the same names, choices and defaults."""
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (text)"
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="exit 1 when a finding is at least this severe; never: only 0 (error)",
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="list every rule and its severity, then exit"
    )


def _lint_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prefix="openapi lint",
        prog="python -m openapi lint",
        description="Lint an OpenAPI 3.0 spec: structure, examples and the API's conventions.",
    )
    parser.add_argument(
        "spec",
        nargs="?",
        help="the spec: a file, or git:REV:PATH (default: the packaged openapi/openapi.yaml)",
    )
    _common(parser)
    return parser


def _diff_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prefix="openapi diff",
        prog="python -m openapi diff",
        description=(
            "Compare two OpenAPI 3.0 specs and classify every change as breaking (error) or not "
            "(info) for existing clients. OLD and NEW are files or git:REV:PATH (read with git "
            "show in the current repository)."
        ),
    )
    parser.add_argument("old", metavar="OLD", nargs="?", help="the spec clients were built against")
    parser.add_argument("new", metavar="NEW", nargs="?", help="the changed spec")
    _common(parser)
    return parser


def lint_main(argv: Sequence[str]) -> int:
    """`python -m openapi lint` with `argv` (the arguments after `lint`); the exit status."""
    # Imported here, not at the top: each command loads only its own dependencies (lint's
    # validators take a while to import, and diff's wall time on large specs is benchmarked).
    from openapi.lint import RULES, lint

    args = _lint_parser().parse_args(list(argv))
    if args.list_rules:
        return _list(RULES)
    source: str = args.spec or _default_source()
    return _run(
        "openapi lint",
        lambda: lint(source),
        args,
        tool="lint",
        inputs={"spec": source},
        subject=source,
        rules=len(RULES),
    )


def diff_main(argv: Sequence[str]) -> int:
    """`python -m openapi diff` with `argv` (the arguments after `diff`); the exit status."""
    from openapi.diff import RULES, diff, rules_table

    parser = _diff_parser()
    args = parser.parse_args(list(argv))
    if args.list_rules:
        return _list(rules_table())
    if args.old is None or args.new is None:
        parser.error("OLD and NEW are required")
    return _run(
        "openapi diff",
        lambda: diff(args.old, args.new),
        args,
        tool="diff",
        inputs={"old": args.old, "new": args.new},
        subject=f"{args.old} -> {args.new}",
        rules=len(RULES),
    )


def _run(
    prefix: str,
    work: Callable[[], list[Finding]],
    args: argparse.Namespace,
    *,
    tool: str,
    inputs: dict[str, str],
    subject: str,
    rules: int,
) -> int:
    """Run a tool, print its findings in the chosen format, and give the exit status."""
    try:
        findings = work()
    except SpecError as exc:
        sys.stderr.write(f"{prefix}: {' '.join(str(exc).split())}\n")
        return UNREADABLE
    if args.format == "json":
        _write(render_json(tool, inputs, findings, rules))
    else:
        _write(render_text(subject, findings, rules))
    return exit_status(findings, args.fail_on)


def _list(rules: Iterable[Rule]) -> int:
    _write(render_rules(rules))
    return 0


def _write(text: str) -> None:
    """Write `text` to stdout; a reader that stopped early (`| head`) changes no exit status."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _default_source() -> str:
    """The packaged spec, named relative to the current directory when it lies below it."""
    relative = os.path.relpath(SPEC_PATH)
    return str(SPEC_PATH) if relative.startswith("..") else relative


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"lint": lint_main, "diff": diff_main}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named first in `argv` (`lint` or `diff`); the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        if args and args[0] in ("-h", "--help"):
            sys.stdout.write(_USAGE)
            return 0
        sys.stderr.write(f"openapi: expected a command, lint or diff (see --help)\n{_USAGE}")
        return USAGE
    return COMMANDS[args[0]](args[1:])


_USAGE = """usage: python -m openapi lint [SPEC] [--format text|json] [--fail-on LEVEL] [--list-rules]
       python -m openapi diff OLD NEW [--format text|json] [--fail-on LEVEL] [--list-rules]
"""
