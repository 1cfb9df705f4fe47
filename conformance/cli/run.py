"""`python -m conformance`: check a server against the contract.

Parses flags into `Settings`, calls `conformance.runner.run`, prints the report and maps the
outcome to the exit code: 0 conforms, 1 violations found, 2 the run could not be made.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from conformance import environment
from conformance.ci_options import OPTIONS as CI_OPTIONS
from conformance.config import Network, Settings
from conformance.failures import ConformanceError
from conformance.run_options import NETWORK_OPTIONS, RUN_OPTIONS, network_settings, run_settings

logger = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConformanceError(f"bad options: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The run command's flags: the run options (`conformance.run_options`), the CI options
    (`conformance.ci_options`), the network options and the command's own `--junit-xml` and
    `--quiet`."""
    parser = _Parser(
        prog="python -m conformance",
        description="Check an ActionSession API server against the contract.",
        epilog="Every option can also come from the environment as CONFORMANCE_<OPTION> "
        "(CONFORMANCE_BASE_URL, CONFORMANCE_TOKEN, ...); flags win. OAuth2 secrets only from "
        "CONFORMANCE_CLIENT_SECRET and CONFORMANCE_PASSWORD. `python -m conformance clauses` "
        "prints which clause of the contract each check verifies.",
    )
    auth = parser.add_mutually_exclusive_group()
    for name, kwargs in RUN_OPTIONS:
        if name in ("token", "access-token"):
            auth.add_argument(f"--{name}", **kwargs)
        else:
            parser.add_argument(f"--{name}", required=name == "base-url", **kwargs)
    parser.add_argument("--junit-xml", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true", help="no live progress, only the report")
    # Secrets, TLS, baselines, guesses and CI reports (conformance.ci_options).
    for name, kwargs in CI_OPTIONS:
        parser.add_argument(f"--{name}", **kwargs)
    add_network_options(parser)
    return parser


def add_network_options(parser: argparse.ArgumentParser) -> None:
    """The flags of a run on a real network: pacing, patience, parallelism, leftovers."""
    group = parser.add_argument_group("network")
    for name, kwargs in NETWORK_OPTIONS:
        group.add_argument(f"--{name}", **kwargs)


def _getter(args: argparse.Namespace) -> Callable[[str], Any]:
    return lambda name: getattr(args, name.replace("-", "_"), None)


def network_from_args(args: argparse.Namespace) -> Network:
    """The network settings the flags ask for; `ConformanceError` on values out of range."""
    return network_settings(_getter(args))


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
    return run_settings(
        _getter(args),
        token=args.token or args.access_token,
        token_in_query=args.access_token is not None,
        junit_xml=args.junit_xml,
        progress=not args.quiet,
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
