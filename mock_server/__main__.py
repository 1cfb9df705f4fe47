"""`python -m mock_server`: parse flags, build settings, serve `create_app(settings)` with uvicorn."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import socket
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from mock_server import file_identity
from mock_server.fixture_cli import COMMANDS
from mock_server.settings import (
    Settings,
    SettingsError,
    parse_auth,
    parse_fail_rate,
    parse_latency,
    parse_seconds,
    read_token_file,
)

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
        "--auth",
        choices=("on", "off", "any"),
        help="on: a recognised token (--token); any: any non-empty token, such as the real "
        "identity provider's; off: none (default on)",
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
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help="read the recognised tokens from a file, one a line, so that they stay out of "
        "the process list and shell history",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        dest="allowed_hosts",
        metavar="NAME",
        help="a Host name to answer to beside the loopback ones (a defence against DNS "
        "rebinding); repeat for several; * for any",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="an origin browsers may call from, such as http://localhost:5173; repeat for "
        "several (default: * , every origin)",
    )
    parser.add_argument(
        "--no-cors",
        dest="cors",
        action="store_false",
        default=None,
        help="answer no preflight and add no Access-Control-* header",
    )
    parser.add_argument(
        "--latency",
        metavar="MS|MIN-MAX",
        help="delay every API answer by MS, or uniformly from MIN to MAX, milliseconds",
    )
    parser.add_argument(
        "--fail-rate",
        metavar="P[:STATUS]",
        help="answer a fraction P of API requests with 500 (or STATUS), changing nothing",
    )
    parser.add_argument(
        "--seed", type=int, help="seed the --latency and --fail-rate draws, to repeat a run"
    )
    limits = parser.add_argument_group("connection limits")
    for flag, default in (("--header-timeout", 10), ("--body-timeout", 30), ("--idle-timeout", 5)):
        limits.add_argument(flag, metavar="SECONDS", help=f"(default {default})")
    limits.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="open connections beyond N are answered 503 and closed (default 500)",
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
        "--max-import-bytes",
        type=_positive(int),
        metavar="N",
        help="the largest fixture POST /__mock/import takes (default 268435456, 256 MiB)",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        dest="spec_path",
        metavar="FILE",
        help="serve this OpenAPI document instead of the packaged contract (a draft being "
        "edited, say); its resources must follow the same /v2/{resource}/{operation} convention",
    )
    parser.add_argument(
        "--reload",
        action="store_true",
        default=None,
        help="watch the spec and the --data files and apply an edit without losing the state",
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
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        fail = None if args.fail_rate is None else parse_fail_rate(args.fail_rate)
        latency = None if args.latency is None else parse_latency(args.latency)
        file_tokens = None if args.token_file is None else read_token_file(args.token_file)
        timeouts = {
            key: None if getattr(args, key) is None else parse_seconds(getattr(args, key), flag)
            for key, flag in (
                ("header_timeout", "--header-timeout"),
                ("body_timeout", "--body-timeout"),
                ("idle_timeout", "--idle-timeout"),
            )
        }
        if args.max_connections is not None and args.max_connections < 1:
            raise SettingsError("--max-connections must be at least 1")
    except SettingsError as exc:
        parser.error(str(exc))
    overrides = {
        "host": args.host,
        "port": args.port,
        "db_path": args.db,
        "auth": None if args.auth is None else parse_auth(args.auth),
        "tokens": tuple(args.tokens) if args.tokens else file_tokens,
        "allowed_hosts": tuple(args.allowed_hosts) if args.allowed_hosts else None,
        "cors": args.cors,
        "cors_origins": tuple(args.cors_origins) if args.cors_origins else None,
        "latency_ms": latency,
        "fail_rate": None if fail is None else fail[0],
        "fail_status": None if fail is None else fail[1],
        "seed": args.seed,
        **timeouts,
        "max_connections": args.max_connections,
        "validate_responses": args.validate_responses,
        "log_level": args.log_level,
        "access_log": args.access_log,
        "data_paths": tuple(args.data_paths) if args.data_paths else None,
        "admin_token": args.admin_token,
        "journal_size": args.journal_size,
        "max_namespaces": args.max_namespaces,
        "namespace_ttl": args.namespace_ttl,
        "reload": args.reload,
        "spec_path": args.spec_path,
        "max_import_bytes": args.max_import_bytes,
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
    # The database and --data files are read while the modules below are imported.
    file_identity.prefetch((settings.db_path, *settings.data_paths))
    import uvicorn

    from mock_server.app import create_app, open_state
    from mock_server.banner import banner
    from mock_server.connections import guarded_protocol
    from mock_server.database import StorageError
    from mock_server.fixture_cli import fixture_report
    from mock_server.fixtures import FixtureInvalid
    from mock_server.logs import mask_server_logs
    from mock_server.resources import ACTION_TABLE, read_mock_api
    from openapi.document import SpecError

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        api = read_mock_api(settings.spec_path)
        app = create_app(settings)  # before the database: Connexion checks the spec here
    except SpecError as exc:
        print(f"mock_server: {exc}", file=sys.stderr)
        return 2
    try:
        # Opened up front so that a broken database is a clear one-line error, not a trace;
        # then handed to the app's lifespan, which would otherwise open it a second time.
        try:
            state = open_state(settings, api=api)
        finally:
            file_identity.forget_prefetched()
        with state.db.reading():
            actions = [dict(a) for a in state.db.iter_raw(ACTION_TABLE)]
        state.hand_over()
    except StorageError as exc:
        print(f"mock_server: {exc}", file=sys.stderr)
        return 2
    except FixtureInvalid as exc:
        print(fixture_report(exc), file=sys.stderr)
        return 2
    ready = banner(settings, api.model.root.path("index"), actions)

    class AnnouncingServer(uvicorn.Server):
        """Prints the ready message once the socket listens, not before."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                print(ready, flush=True)

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        http=guarded_protocol(
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_connections=settings.max_connections,
        ),
        timeout_keep_alive=settings.idle_timeout,  # type: ignore[arg-type]  # a float works
    )
    # uvicorn configures its loggers in Config(); the filter goes on after that.
    mask_server_logs()
    server = AnnouncingServer(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # Ctrl-C: uvicorn has shut down cleanly and re-raised the signal
    # Not started: uvicorn has logged why (the port is taken, say).
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
