"""`python -m conformance`: check a server against the contract.

Parses flags into `Settings`, calls `conformance.runner.run`, prints the report and maps the
outcome to the exit code: 0 conforms, 1 violations found, 2 the run could not be made.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from conformance import environment
from conformance.ci_options import OPTIONS as CI_OPTIONS
from conformance.ci_options import ci_settings, declared_token_url
from conformance.config import Budget, Network, Profile, References, Settings
from conformance.failures import ConformanceError
from openapi import SPEC_PATH

logger = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConformanceError(f"bad options: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The run command's flags."""
    defaults = References()
    parser = _Parser(
        prog="python -m conformance",
        description="Check an ActionSession API server against the contract.",
        epilog="Every option can also come from the environment as CONFORMANCE_<OPTION> "
        "(CONFORMANCE_BASE_URL, CONFORMANCE_TOKEN, ...); flags win. OAuth2 secrets only from "
        "CONFORMANCE_CLIENT_SECRET and CONFORMANCE_PASSWORD.",
    )
    parser.add_argument("--base-url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--spec", type=Path, default=None, help="the OpenAPI document (default: the packaged one)"
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--token", help="credential sent as Authorization: Bearer TOKEN")
    auth.add_argument("--access-token", help="credential sent as the access-token query parameter")
    parser.add_argument("--profile", choices=[p.value for p in Profile], default=Profile.FULL.value)
    parser.add_argument("--action-id", default=defaults.action_id)
    parser.add_argument("--tenant-id", default=defaults.tenant_id)
    parser.add_argument("--subtenant-id", default=defaults.subtenant_id)
    parser.add_argument(
        "--max-examples", type=int, default=None, help="Schemathesis examples per operation"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="repeat a run (printed by every run)"
    )
    parser.add_argument("--junit-xml", type=Path, default=None)
    parser.add_argument(
        "--workers", type=int, default=None, help="Schemathesis workers (default: --concurrency)"
    )
    parser.add_argument(
        "--check", action="append", default=None, help="run only this check (repeatable)"
    )
    parser.add_argument("--no-schema-layer", action="store_true", help="skip Schemathesis")
    parser.add_argument("--quiet", action="store_true", help="no live progress, only the report")
    # Secrets, TLS, baselines, guesses and CI reports (conformance.ci_options).
    for name, kwargs in CI_OPTIONS:
        parser.add_argument(f"--{name}", **kwargs)
    add_network_options(parser)
    return parser


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """The flags of a run on a real network: pacing, patience, parallelism, leftovers."""
    defaults = Network()
    group = parser.add_argument_group("network")
    group.add_argument(
        "--rate", type=float, default=None, help="at most N requests per second (default: no cap)"
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=defaults.timeout,
        help=f"seconds a request may take before it counts as unanswered (default {defaults.timeout:g})",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        default=defaults.max_retries,
        help=f"retries of one request after 429/503 or no answer (default {defaults.max_retries})",
    )
    group.add_argument(
        "--max-wait",
        type=float,
        default=defaults.max_wait,
        help=f"seconds one request may wait in total between retries (default {defaults.max_wait:g})",
    )
    group.add_argument(
        "--concurrency",
        type=int,
        default=defaults.concurrency,
        help=f"independent checks run at once; 1 is strictly sequential (default {defaults.concurrency})",
    )
    group.add_argument(
        "--leftovers",
        type=Path,
        default=None,
        help="write records cleanup could not delete to this JSON file (for `cleanup --from`)",
    )


def network_from_args(args: argparse.Namespace) -> Network:
    """The network settings the flags ask for; `ConformanceError` on values out of range."""
    if args.rate is not None and args.rate <= 0:
        raise ConformanceError("bad options: --rate must be above 0")
    if args.timeout <= 0 or args.max_wait < 0 or args.max_retries < 0:
        raise ConformanceError(
            "bad options: --timeout must be above 0, --max-retries and --max-wait at least 0"
        )
    if args.concurrency < 1:
        raise ConformanceError("bad options: --concurrency must be at least 1")
    return Network(
        rate=args.rate,
        timeout=args.timeout,
        max_retries=args.max_retries,
        max_wait=args.max_wait,
        concurrency=args.concurrency,
    )


def settings_from_args(argv: Sequence[str]) -> Settings:
    """Parse `argv` into settings; `ConformanceError` on bad options.

    Every option may also come from the environment (`conformance.environment`); flags win.
    """
    parser = build_parser()
    environment.apply_to_parser(parser)
    args = parser.parse_args(list(argv))
    # A credential flag replaces a credential of the other form set in the environment.
    if environment.explicit(parser, args, "access_token"):
        args.token = None
    elif environment.explicit(parser, args, "token"):
        args.access_token = None
    elif args.token is not None and args.access_token is not None:
        raise ConformanceError(
            "bad options: set only one of CONFORMANCE_TOKEN and CONFORMANCE_ACCESS_TOKEN"
        )
    if not args.base_url.startswith(("http://", "https://")):
        raise ConformanceError(
            f"bad options: --base-url must be an http(s) URL, got {args.base_url!r}"
        )
    if (args.workers is not None and args.workers < 1) or (
        args.max_examples is not None and args.max_examples < 1
    ):
        raise ConformanceError("bad options: --workers and --max-examples must be at least 1")
    budget = Budget() if args.max_examples is None else Budget(max_examples=args.max_examples)
    extra: dict[str, object] = {}
    if args.spec is not None:
        extra["spec_path"] = args.spec
    extra.update(
        ci_settings(
            lambda name: getattr(args, name.replace("-", "_")),
            spec_token_url=lambda: declared_token_url(args.spec or SPEC_PATH),
        )
    )
    if "oauth" in extra and (args.token or args.access_token):
        raise ConformanceError("bad options: give a token or OAuth2 options, not both")
    return Settings.create(
        args.base_url,
        seed=args.seed,
        token=args.token or args.access_token,
        token_in_query=args.access_token is not None,
        profile=Profile(args.profile),
        references=References(args.action_id, args.tenant_id, args.subtenant_id),
        budget=budget,
        junit_xml=args.junit_xml,
        workers=args.workers,
        checks=frozenset(args.check) if args.check else None,
        schema_layer=not args.no_schema_layer,
        progress=not args.quiet,
        network=network_from_args(args),
        leftovers=args.leftovers,
        **extra,
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _redact_logs(settings: Settings) -> None:
    from conformance.redact import RedactingFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(settings))


def main(argv: Sequence[str]) -> int:
    """Run the suite; 0 conforms, 1 violations found, 2 the run could not be made."""
    from conformance.credentials import authenticate
    from conformance.outputs import write_error_summary, write_outputs
    from conformance.redact import redactor_for
    from conformance.report import ConsoleProgress, render
    from conformance.runner import Listener, RunAborted, run
    from conformance.verdict import judge

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if list(argv) in (["-h"], ["--help"]):
        build_parser().print_help()
        return 0
    previous = signal.signal(signal.SIGTERM, _interrupt)
    listener = Listener()
    settings: Settings | None = None
    error: str | None = None
    try:
        settings = settings_from_args(argv)
        # The first token is obtained before anything is logged, so the logs hide it too.
        settings = authenticate(settings)
        _redact_logs(settings)
        listener = ConsoleProgress() if settings.progress else Listener()
        result = run(settings, listener)
    except RunAborted as exc:
        # The run started: what it found until it stopped is still reported.
        result, error = exc.result, str(exc)
    except ConformanceError as exc:
        message = f"conformance: error: {exc}"
        print(redactor_for(settings)(message) if settings else message, file=sys.stderr)
        if settings is not None:
            write_error_summary(settings, str(exc))
        return 2
    except KeyboardInterrupt:
        if listener.result is None:
            print("conformance: error: interrupted", file=sys.stderr)
            return 2
        result, error = listener.result, "interrupted (the run's records were cleaned up)"
    except Exception as exc:  # a defect of the suite itself: still one line and exit 2
        logger.debug("the run failed", exc_info=True)
        message = f"conformance: error: the run failed unexpectedly: {exc!r}"
        print(redactor_for(settings)(message) if settings else message, file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    verdict = judge(result)
    print(render(result, verdict))
    try:
        write_outputs(result, verdict)
    except ConformanceError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return 2
    if error is not None:
        message = f"conformance: error: the run could not be completed: {error}"
        print(redactor_for(result.settings)(message), file=sys.stderr)
        return 2
    return 0 if verdict.ok else 1
