"""The mock's settings: defaults live here, the environment may override them, then the CLI.

This is the only module that reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from openapi import SPEC_PATH

AuthMode = Literal["on", "off", "any"]
"""on: a recognised token; any: any non-empty token (what a real identity provider issues); off: none."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting has a value the mock cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` and the server need to know."""

    host: str = "127.0.0.1"
    port: int = 8080
    db_path: Path = Path("data/mock.json")
    auth: AuthMode = "on"
    tokens: tuple[str, ...] = ("dev",)
    cors: bool = True
    """Answer browsers on other origins (preflights, `Access-Control-*` headers)."""
    cors_origins: tuple[str, ...] = ("*",)
    """The origins a browser may call from; `*` is every origin."""
    latency_ms: tuple[int, int] = (0, 0)
    """Every API answer waits a time drawn uniformly from this range (milliseconds)."""
    fail_rate: float = 0.0
    """The fraction of API requests answered `fail_status` instead, without touching state."""
    fail_status: int = 500
    seed: int | None = None
    """Seeds latency and fail-rate draws, so that a run can be repeated; None: unseeded."""
    header_timeout: float = 10.0
    """Seconds a client has to send a request's headers (from connecting, or from its first byte)."""
    body_timeout: float = 30.0
    """Seconds a client has to send a request's body once its headers are in."""
    idle_timeout: float = 5.0
    """Seconds an idle keep-alive connection stays open."""
    max_connections: int = 500
    """Open connections beyond this are answered 503 and closed (well below a 1,024 file limit)."""
    allowed_hosts: tuple[str, ...] = ()
    """`Host` names answered beside the loopback ones (`*`: any); see `mock_server.hosts`."""
    validate_responses: bool = False
    """Check every answer against the spec (the test suite turns it on); costs speed."""
    max_body_bytes: int = 1 << 20
    max_import_bytes: int = 256 << 20
    """The control API's import takes a whole data set: 100,000 generated sessions are ~140 MB."""
    log_level: str = "info"
    access_log: bool = True
    # -- fixtures, namespaces, the request journal and the control API (issue 8) --
    data_paths: tuple[Path, ...] = ()
    """Fixture files merged in order into the base data (default: the built-in default data)."""
    admin_token: str | None = None
    """Needed by the control API (/__mock/) when set, and always when not listening on loopback."""
    journal_size: int = 1000
    max_namespaces: int = 100
    namespace_ttl: float = 3600.0
    """Seconds after its last use at which a namespace is forgotten."""
    reload: bool = False
    """Watch the spec and the `--data` files and apply an edit without losing the state."""
    spec_path: Path = SPEC_PATH
    """The contract the mock serves: its routes, validation, members and examples."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, overridden by `ACTIONSESSION_MOCK_*` variables."""
        env = os.environ if environ is None else environ
        prefix = "ACTIONSESSION_MOCK_"
        values: dict[str, object] = {}
        if (v := env.get(prefix + "HOST")) is not None:
            values["host"] = v
        if (v := env.get(prefix + "PORT")) is not None:
            values["port"] = _int(prefix + "PORT", v)
        if (v := env.get(prefix + "DB")) is not None:
            values["db_path"] = Path(v)
        if (v := env.get(prefix + "SPEC")) is not None:
            values["spec_path"] = Path(v)
        if (v := env.get(prefix + "AUTH")) is not None:
            values["auth"] = parse_auth(v, prefix + "AUTH")
        if (v := env.get(prefix + "TOKENS")) is not None:
            values["tokens"] = tuple(t for t in (s.strip() for s in v.split(",")) if t)
        if (v := env.get(prefix + "CORS")) is not None:
            values["cors"] = _bool(prefix + "CORS", v)
        if (v := env.get(prefix + "CORS_ORIGINS")) is not None:
            values["cors_origins"] = tuple(o for o in (s.strip() for s in v.split(",")) if o)
        if (v := env.get(prefix + "LATENCY")) is not None:
            values["latency_ms"] = parse_latency(v, prefix + "LATENCY")
        if (v := env.get(prefix + "FAIL_RATE")) is not None:
            values["fail_rate"], values["fail_status"] = parse_fail_rate(v, prefix + "FAIL_RATE")
        for key, name in (
            ("header_timeout", "HEADER_TIMEOUT"),
            ("body_timeout", "BODY_TIMEOUT"),
            ("idle_timeout", "IDLE_TIMEOUT"),
        ):
            if (v := env.get(prefix + name)) is not None:
                values[key] = parse_seconds(v, prefix + name)
        if (v := env.get(prefix + "MAX_CONNECTIONS")) is not None:
            values["max_connections"] = _int(prefix + "MAX_CONNECTIONS", v)
        if (v := env.get(prefix + "ALLOWED_HOSTS")) is not None:
            values["allowed_hosts"] = tuple(h for h in (s.strip() for s in v.split(",")) if h)
        if (v := env.get(prefix + "TOKEN_FILE")) is not None:
            values["tokens"] = read_token_file(Path(v), prefix + "TOKEN_FILE")
        if (v := env.get(prefix + "SEED")) is not None:
            values["seed"] = _int(prefix + "SEED", v)
        if (v := env.get(prefix + "VALIDATE_RESPONSES")) is not None:
            values["validate_responses"] = _bool(prefix + "VALIDATE_RESPONSES", v)
        if (v := env.get(prefix + "LOG_LEVEL")) is not None:
            values["log_level"] = v.lower()
        if (v := env.get(prefix + "ADMIN_TOKEN")) is not None:
            values["admin_token"] = v or None
        return cls(**values)  # type: ignore[arg-type]


MAX_DELAY_MS = 60_000
"""The longest wait a latency setting or a `Prefer: delay` may ask for."""


def read_token_file(path: Path, name: str = "--token-file") -> tuple[str, ...]:
    """The tokens in a file, one a line (blank lines and `#` comments skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{name}: cannot read {path}: {exc}") from None
    tokens = tuple(t for t in (line.strip() for line in lines) if t and not t.startswith("#"))
    if not tokens:
        raise SettingsError(f"{name}: {path} holds no token")
    return tokens


def parse_seconds(value: str, name: str) -> float:
    """A positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {value!r}") from None
    if not seconds > 0:
        raise SettingsError(f"{name} must be more than 0 seconds, not {value!r}")
    return seconds


def parse_auth(value: str, name: str = "--auth") -> AuthMode:
    """on, off or any (and the usual spellings of on and off)."""
    lowered = value.strip().lower()
    if lowered in get_args(AuthMode):
        return lowered  # type: ignore[return-value]
    if lowered in _TRUE | _FALSE:
        return "on" if lowered in _TRUE else "off"
    raise SettingsError(f"{name} must be on, off or any, not {value!r}")


def parse_latency(value: str, name: str = "--latency") -> tuple[int, int]:
    """`MS` or `MIN-MAX` milliseconds, each from 0 to `MAX_DELAY_MS`."""
    low, sep, high = value.strip().partition("-")
    try:
        bounds = (int(low), int(high) if sep else int(low))
    except ValueError:
        raise SettingsError(
            f"{name} must be MS or MIN-MAX in milliseconds, not {value!r}"
        ) from None
    if not 0 <= bounds[0] <= bounds[1] <= MAX_DELAY_MS:
        raise SettingsError(
            f"{name} must satisfy 0 <= MIN <= MAX <= {MAX_DELAY_MS} milliseconds, not {value!r}"
        )
    return bounds


def parse_fail_rate(value: str, name: str = "--fail-rate") -> tuple[float, int]:
    """`P` or `P:STATUS`: a fraction from 0 to 1 and an error status (default 500)."""
    rate, sep, status = value.strip().partition(":")
    try:
        fraction = float(rate)
        code = int(status) if sep else 500
    except ValueError:
        raise SettingsError(
            f"{name} must be P or P:STATUS (such as 0.1:503), not {value!r}"
        ) from None
    if not 0.0 <= fraction <= 1.0:
        raise SettingsError(f"{name}: the fraction must be from 0 to 1, not {rate!r}")
    if not 400 <= code <= 599:
        raise SettingsError(f"{name}: the status must be an error status (400-599), not {code}")
    return fraction, code


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {value!r}") from None


def _bool(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise SettingsError(f"{name} must be on or off, not {value!r}")
