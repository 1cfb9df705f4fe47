"""Run options from the environment: one naming rule for every option, and the only reader of
`os.environ` in the suite.

The rule: option `--NAME-WITH-DASHES` is read from `CONFORMANCE_NAME_WITH_DASHES` (upper case,
dashes as underscores). A flag on the command line overrides the environment, which overrides the
default. Values are converted as the flag's would be: integers and paths as given, switches from
`1/true/yes/on` or `0/false/no/off`, repeatable options from a comma-separated list.

Two secrets have no flag at all, so that they never reach shell history or process lists:
`CONFORMANCE_CLIENT_SECRET` (OAuth2 client secret) and `CONFORMANCE_PASSWORD` (OAuth2 password
grant). `GITHUB_STEP_SUMMARY` is read where GitHub Actions sets it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from typing import Any

from conformance.failures import ConformanceError

PREFIX = "CONFORMANCE_"
CLIENT_SECRET = "CONFORMANCE_CLIENT_SECRET"
PASSWORD = "CONFORMANCE_PASSWORD"
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def variable(option: str) -> str:
    """The environment variable of an option: `--base-url` -> `CONFORMANCE_BASE_URL`."""
    return PREFIX + option.lstrip("-").replace("-", "_").upper()


def environ() -> Mapping[str, str]:
    """The process environment (one place, so tests and callers can pass another mapping)."""
    return os.environ


def secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """A secret that only the environment may give (`None` when unset or empty)."""
    value = (environ() if env is None else env).get(name)
    return value or None


def switch(name: str, raw: str) -> bool:
    """A switch given in the environment; `ConformanceError` for anything but yes/no words."""
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConformanceError(f"bad options: {name}={raw!r} is not a yes/no value (1/0, true/false)")


def convert(name: str, raw: str, *, kind: str, type_: Callable[[str], Any] | None = None) -> Any:
    """An environment value as an option of `kind` (`value`, `switch` or `list`) takes it."""
    if kind == "switch":
        return switch(name, raw)
    if kind == "list":
        return [item.strip() for item in raw.split(",") if item.strip()] or None
    if type_ is None:
        return raw
    try:
        return type_(raw)
    except (TypeError, ValueError) as exc:
        raise ConformanceError(f"bad options: {name}={raw!r}: {exc}") from exc


def _kind(action: argparse.Action) -> str:
    if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
        return "switch"
    if isinstance(action, argparse._AppendAction):
        return "list"
    return "value"


def apply_to_parser(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    """Make the environment the default of every long option of `parser` (flags still win).

    An option required on the command line is no longer required when its variable is set.
    """
    env = environ() if env is None else env
    for action in parser._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if not longs or action.dest in ("help", argparse.SUPPRESS):
            continue
        name = variable(longs[0])
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        kind = _kind(action)
        value = convert(name, raw, kind=kind, type_=action.type if callable(action.type) else None)
        if kind == "switch" and isinstance(action, argparse._StoreFalseAction):
            value = not value
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise ConformanceError(f"bad options: {name}={raw!r} is not one of {choices}")
        action.default = value
        action.required = False


def explicit(parser: argparse.ArgumentParser, args: argparse.Namespace, dest: str) -> bool:
    """Whether `dest` was given on the command line (not left at its, maybe environment, default).

    argparse itself tells an explicit value from the default by identity; so does this.
    """
    action = next(a for a in parser._actions if a.dest == dest)
    return getattr(args, dest) is not action.default


def declared(option: str, kwargs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Any:
    """The environment's value of an option declared with argparse-style `kwargs` (or None)."""
    env = environ() if env is None else env
    name = variable(option)
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    action = kwargs.get("action")
    kind = "switch" if action == "store_true" else "list" if action == "append" else "value"
    type_ = kwargs.get("type")
    value = convert(name, raw, kind=kind, type_=type_ if callable(type_) else None)
    choices = kwargs.get("choices")
    if choices is not None and value not in choices:
        raise ConformanceError(f"bad options: {name}={raw!r} is not one of {', '.join(choices)}")
    return value
