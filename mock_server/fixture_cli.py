"""`python -m mock_server export` and `python -m mock_server generate`: fixtures on standard output.

    python -m mock_server export > fixture.json              # the default data, as a fixture
    python -m mock_server export --data a.json --data b.json # those files merged and checked
    python -m mock_server export --url http://127.0.0.1:8080 # the state of a running mock
    python -m mock_server generate --sessions 10000 --seed 7 > big.json

Thin: parse flags, call the library (`fixtures`, `generate`), print; exit 2 with one line (or
the list of a fixture's problems) when something is wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mock_server.fixtures import FixtureInvalid


def fixture_report(exc: FixtureInvalid) -> str:
    """Every problem of a refused fixture, one a line, for standard error."""
    problems = exc.fixture_problems
    lines = [
        f"mock_server: the fixture data is invalid ({len(problems)} problems); nothing loaded:"
    ]
    lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


def export_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mock_server export",
        description="Print the mock's data as a fixture: the default data, --data files merged, "
        "or the state of a running mock (--url).",
    )
    parser.add_argument("--data", type=Path, action="append", default=[], metavar="FILE")
    parser.add_argument("--url", help="base URL of a running mock whose state to export")
    parser.add_argument(
        "--namespace", help="with --url: export this namespace instead of the shared state"
    )
    parser.add_argument("--admin-token", help="with --url: the mock's admin token, if it has one")
    args = parser.parse_args(argv)

    from mock_server import fixtures
    from mock_server.resources import read_mock_api
    from mock_server.state import read_base

    if args.url:
        import httpx

        headers = {}
        if args.admin_token:
            headers["X-Mock-Admin-Token"] = args.admin_token
        if args.namespace:
            headers["X-Mock-Namespace"] = args.namespace
        try:
            answer = httpx.get(f"{args.url.rstrip('/')}/__mock/export", headers=headers, timeout=60)
        except httpx.HTTPError as exc:
            print(f"mock_server: cannot reach {args.url}: {exc}", file=sys.stderr)
            return 2
        if answer.status_code != 200:
            print(
                f"mock_server: {args.url} answered {answer.status_code}: {answer.text[:200]}",
                file=sys.stderr,
            )
            return 2
        sys.stdout.write(fixtures.dumps(answer.json()))
        return 0
    try:
        fmt = fixtures.fixture_format(read_mock_api())
        tables, _ = read_base(tuple(args.data), fmt)
    except fixtures.FixtureInvalid as exc:
        print(fixture_report(exc), file=sys.stderr)
        return 2
    sys.stdout.write(fixtures.dumps(fmt.document({t: d.values() for t, d in tables.items()})))
    return 0


def generate_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mock_server generate",
        description="Print a fixture of realistic, deterministic data: the same seed gives the "
        "same file, byte for byte (with the same Faker version).",
    )
    parser.add_argument("--sessions", type=int, required=True, help="number of action sessions")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.sessions < 0:
        print("mock_server: --sessions must be 0 or more", file=sys.stderr)
        return 2

    from mock_server import fixtures
    from mock_server.generate import generate

    document = generate(args.sessions, args.seed)
    out = sys.stdout
    out.write(fixtures.dumps(document))
    out.flush()
    return 0


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "export": export_main,
    "generate": generate_main,
}
"""Subcommands of `python -m mock_server`; anything else starts the server."""
