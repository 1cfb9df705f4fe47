"""The `conformance` command line: dispatches to `run` (the default), `cleanup` and `clauses`.

Each sub-command lives in its own module with a `main(argv) -> int`; this module only picks one.
Exit codes are shared: 0 clean, 1 findings, 2 the command could not do its work.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

SUBCOMMANDS = ("cleanup", "clauses")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sub-command named first in `argv` (default: the conformance run)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "cleanup":
        from conformance.cli.cleanup import main as cleanup_main

        return cleanup_main(args[1:])
    if args and args[0] == "clauses":
        from conformance.cli.clauses import main as clauses_main

        return clauses_main(args[1:])
    from conformance.cli.run import main as run_main

    return run_main(args)
