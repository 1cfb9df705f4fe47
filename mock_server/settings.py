"""The mock's settings: defaults live here, the environment may override them, then the CLI.

This is the only module that reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
    auth: bool = True
    tokens: tuple[str, ...] = ("dev",)
    validate_responses: bool = False
    """Check every answer against the spec (the test suite turns it on); costs speed."""
    max_body_bytes: int = 1 << 20
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
    """Watch the `--data` files and apply an edit without losing the state."""

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
        if (v := env.get(prefix + "AUTH")) is not None:
            values["auth"] = _bool(prefix + "AUTH", v)
        if (v := env.get(prefix + "TOKENS")) is not None:
            values["tokens"] = tuple(t for t in (s.strip() for s in v.split(",")) if t)
        if (v := env.get(prefix + "VALIDATE_RESPONSES")) is not None:
            values["validate_responses"] = _bool(prefix + "VALIDATE_RESPONSES", v)
        if (v := env.get(prefix + "LOG_LEVEL")) is not None:
            values["log_level"] = v.lower()
        if (v := env.get(prefix + "ADMIN_TOKEN")) is not None:
            values["admin_token"] = v or None
        return cls(**values)  # type: ignore[arg-type]


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
