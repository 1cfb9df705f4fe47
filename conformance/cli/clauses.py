"""`python -m conformance clauses`: print the clause-to-check matrix.

Exit 0 when every clause is covered or marked unobservable with its reason, 1 when a clause is
uncovered (so CI can hold the line), 2 on bad options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The command's flags."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance clauses",
        description="Every clause of the contract, the checks that verify it and the broken "
        "servers that prove each check can fail.",
    )
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    return parser


def main(argv: Sequence[str]) -> int:
    """Print the matrix; 1 when a clause is uncovered."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    from conformance.matrix import RENDERERS, UNCOVERED, build

    rows = build()
    sys.stdout.write(RENDERERS[args.format](rows))
    return 1 if any(r.status == UNCOVERED for r in rows) else 0
