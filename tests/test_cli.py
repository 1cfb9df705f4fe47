"""The mock's command line: settings flow environment -> flags, defaults in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.__main__ import settings_from_args
from mock_server.settings import Settings, SettingsError


def test_flags_override_the_environment_which_overrides_the_defaults() -> None:
    base = Settings.from_env(
        {
            "ACTIONSESSION_MOCK_PORT": "9000",
            "ACTIONSESSION_MOCK_TOKENS": "a, b",
            "ACTIONSESSION_MOCK_AUTH": "off",
        }
    )
    assert (base.port, base.tokens, base.auth, base.host) == (9000, ("a", "b"), "off", "127.0.0.1")
    settings = settings_from_args(
        ["--port", "9100", "--token", "x", "--token", "y", "--auth", "on", "--db", "d.json"], base
    )
    assert (settings.port, settings.tokens, settings.auth, settings.db_path) == (
        9100,
        ("x", "y"),
        "on",
        Path("d.json"),
    )


def test_defaults_match_the_readme() -> None:
    settings = settings_from_args([], Settings.from_env({}))
    assert settings == Settings()
    assert (settings.host, settings.port, settings.tokens, settings.auth) == (
        "127.0.0.1",
        8080,
        ("dev",),
        "on",
    )
    assert settings.max_body_bytes == 1 << 20


@pytest.mark.parametrize(
    ("name", "value"), [("ACTIONSESSION_MOCK_PORT", "eighty"), ("ACTIONSESSION_MOCK_AUTH", "maybe")]
)
def test_a_bad_environment_value_is_a_settings_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_a_bad_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        settings_from_args(["--auth", "sometimes"], Settings())
    assert exc.value.code == 2
    assert "--auth" in capsys.readouterr().err
