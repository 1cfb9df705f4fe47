"""`python -m conformance diff OLD NEW`: report the changes between two specs, breaking ones first.

OLD and NEW are files or `git:REV:PATH` (see `conformance.specsource`). This module owns the
command line only: flags, the two output formats and the exit code. The comparison is
`conformance.diff.diff_specs`.

Exit codes: 0 nothing that fails the run; 1 a change that fails the run (`--fail-on breaking`, the
default: any breaking change; `--fail-on any`: any change at all; `--fail-on never`: nothing does);
2 the command could not do its work (unreadable input, a `$ref` that does not resolve, bad flags),
with a one-line reason on stderr.

`--format json` writes one JSON object, stable across releases of format version 1:

    {
      "format": "conformance-diff/1",
      "old": "<OLD as given>", "new": "<NEW as given>",
      "summary": {"breaking": <int>, "non-breaking": <int>},
      "changes": [
        {"rule": "<rule name>", "severity": "breaking" | "non-breaking",
         "pointer": "<JSON pointer>", "document": "new" | "old", "message": "<text>"}
      ]
    }

`changes` is ordered breaking first, then by pointer. `pointer` is an RFC 6901 pointer into the
NEW document, or into the OLD one when `document` is "old" (for things that were removed).
`--list-rules` prints every rule with its severity.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from conformance.diff import BREAKING, NON_BREAKING, Change, DiffError, diff_specs, rules_table
from conformance.specsource import SpecSourceError, load_spec

JSON_FORMAT_VERSION = "conformance-diff/1"
FAIL_ON = ("breaking", "any", "never")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m conformance diff`."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance diff",
        description=(
            "Compare two OpenAPI 3.0 specs and classify every change as breaking or non-breaking "
            "for existing clients. OLD and NEW are files or git:REV:PATH (read with git show in "
            "the current repository)."
        ),
        epilog="Exit status: 0 no failing change, 1 a failing change (see --fail-on), 2 bad input.",
    )
    parser.add_argument("old", metavar="OLD", nargs="?", help="the spec clients were built against")
    parser.add_argument("new", metavar="NEW", nargs="?", help="the changed spec")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default), json for machines",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="breaking",
        help="which changes make the exit status 1 (default: breaking)",
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="print every rule and its severity, then exit"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Run `diff` with `argv` (the arguments after `diff`); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.list_rules:
        _safely(lambda: write_rules(sys.stdout))
        return 0
    if args.old is None or args.new is None:
        parser.error("OLD and NEW are required")
    try:
        changes = diff_specs(load_spec(args.old), load_spec(args.new))
    except (SpecSourceError, DiffError) as exc:
        print(f"python -m conformance diff: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        _safely(lambda: write_json(changes, args.old, args.new, sys.stdout))
    else:
        _safely(lambda: write_text(changes, sys.stdout))
    return 1 if fails(changes, args.fail_on) else 0


def _safely(write: Callable[[], None]) -> None:
    """Run `write`; a reader that stopped early (`| head`) does not change the exit status."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def fails(changes: Sequence[Change], fail_on: str) -> bool:
    """Whether `changes` make the run fail under the `--fail-on` policy."""
    if fail_on == "never":
        return False
    if fail_on == "any":
        return bool(changes)
    return any(change.breaking for change in changes)


def write_text(changes: Sequence[Change], out: TextIO) -> None:
    """Write the human report: breaking changes, then non-breaking ones, then a summary line."""
    for severity in (BREAKING, NON_BREAKING):
        group = [c for c in changes if c.severity == severity]
        if not group:
            continue
        out.write(f"{severity.upper()} ({len(group)})\n")
        for change in group:
            where = change.pointer or "(the document root)"
            if change.document == "old":
                where += " (in OLD)"
            out.write(f"  {change.rule}  {where}  {change.message}\n")
    out.write(summary_line(changes) + "\n")


def summary_line(changes: Sequence[Change]) -> str:
    """One line counting the changes by severity."""
    breaking = sum(1 for c in changes if c.breaking)
    if not changes:
        return "No changes."
    return f"{breaking} breaking, {len(changes) - breaking} non-breaking change(s)."


def write_json(changes: Sequence[Change], old: str, new: str, out: TextIO) -> None:
    """Write the machine report documented in this module's docstring."""
    breaking = sum(1 for c in changes if c.breaking)
    report = {
        "format": JSON_FORMAT_VERSION,
        "old": old,
        "new": new,
        "summary": {BREAKING: breaking, NON_BREAKING: len(changes) - breaking},
        "changes": [change.to_json() for change in changes],
    }
    json.dump(report, out, indent=2)
    out.write("\n")


def write_rules(out: TextIO) -> None:
    """Write every rule, one a line: severity, name, what it means."""
    for rule in rules_table():
        out.write(f"{rule.severity:<12}  {rule.name:<40}  {rule.summary}\n")
