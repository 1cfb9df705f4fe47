"""`python -m mock_server`: parse flags, build settings, serve `create_app(settings)` with uvicorn."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from mock_server.fixture_cli import COMMANDS
from mock_server.settings import Settings, SettingsError

logger = logging.getLogger("mock_server")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mock_server",
        description="Serve the ActionSession API v2 mock from openapi/openapi.yaml, its state in a TinyDB file.",
    )
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")
    parser.add_argument(
        "--db",
        type=Path,
        help="TinyDB file; created from the default data when missing (default data/mock.json)",
    )
    parser.add_argument(
        "--auth", choices=("on", "off"), help="require a recognised token (default on)"
    )
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="TOKEN",
        help="a recognised token; repeat for several (default: dev)",
    )
    parser.add_argument(
        "--validate-responses",
        action="store_true",
        default=None,
        help="check every answer against the spec (slower; for development)",
    )
    parser.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        default=None,
        help="do not log each request",
    )
    # -- fixtures, namespaces, the request journal and the control API (issue 8) --
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        dest="data_paths",
        metavar="FILE",
        help="a fixture file (JSON or YAML), only ever read; repeat to merge several in order "
        "(default: the built-in default data)",
    )
    parser.add_argument(
        "--admin-token",
        help="token the control API (/__mock/) requires in X-Mock-Admin-Token; needed to serve "
        "it beyond loopback (or ACTIONSESSION_MOCK_ADMIN_TOKEN)",
    )
    parser.add_argument(
        "--journal-size", type=_positive(int), help="requests the journal keeps (default 1000)"
    )
    parser.add_argument(
        "--max-namespaces", type=_positive(int), help="namespaces in use at once (default 100)"
    )
    parser.add_argument(
        "--namespace-ttl",
        type=_positive(float),
        metavar="SECONDS",
        help="forget a namespace unused for this long (default 3600)",
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        default=None,
        help="watch the --data files and apply an edit without losing the state",
    )
    return parser


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value

    return parse


def settings_from_args(argv: Sequence[str] | None, base: Settings) -> Settings:
    """`base` with the flags given in `argv` applied on top."""
    args = _parser().parse_args(argv)
    overrides = {
        "host": args.host,
        "port": args.port,
        "db_path": args.db,
        "auth": None if args.auth is None else args.auth == "on",
        "tokens": tuple(args.tokens) if args.tokens else None,
        "validate_responses": args.validate_responses,
        "log_level": args.log_level,
        "access_log": args.access_log,
        "data_paths": tuple(args.data_paths) if args.data_paths else None,
        "admin_token": args.admin_token,
        "journal_size": args.journal_size,
        "max_namespaces": args.max_namespaces,
        "namespace_ttl": args.namespace_ttl,
        "reload": args.reload,
    }
    settings = dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
    if settings.admin_token is not None and settings.admin_token in settings.tokens:
        raise SettingsError("--admin-token must differ from every API token")
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mock until interrupted; 2 for unusable settings or an unreadable database."""
    # Connexion imports starlette.testclient, which warns on every start; nothing a user can act on.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in COMMANDS:
        return COMMANDS[args[0]](args[1:])
    try:
        settings = settings_from_args(args, Settings.from_env())
    except SettingsError as exc:
        print(f"mock_server: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from mock_server.app import create_app, open_store
    from mock_server.fixture_cli import fixture_report
    from mock_server.fixtures import FixtureInvalid
    from mock_server.storage import StorageError

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        # Open once up front so that a broken database is a clear one-line error, not a trace.
        db, _store = open_store(settings)
        db.close()
    except StorageError as exc:
        print(f"mock_server: {exc}", file=sys.stderr)
        return 2
    except FixtureInvalid as exc:
        print(fixture_report(exc), file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
