"""The mock's command line: settings flow environment -> flags, defaults in one place."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mock_server.__main__ import settings_from_args
from mock_server.process import free_port
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


def _ready_banner(args: list[str], tmp_path: Path) -> tuple[list[str], subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--db", str(tmp_path / "db.json"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("  Actions"):
            break
    return lines, process


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    assert process.stdout is not None
    process.stdout.close()


def test_the_ready_banner_tells_a_newcomer_where_everything_is(tmp_path: Path) -> None:
    port = free_port()
    lines, process = _ready_banner(["--port", str(port), "--cors-origin", "http://x:1"], tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        assert lines == [
            "ActionSession mock is ready",
            f"  API       {base}/v2/",
            f"  Docs      {base}/ui/",
            f"  Spec      {base}/openapi.json",
            f"  Try       curl -s -X POST {base}/v2/action-session/index "
            "-H 'Authorization: Bearer dev'",
            f"  Database  {tmp_path / 'db.json'}",
            "  CORS      http://x:1",
            "  Auth      on: 1 recognised token(s) (dev)",
            "  Actions   act-1 (TRAINING), act-2 (MAINTENANCE), act-3 (HEALTH), act-4 (CHECK), "
            "act-5 (PER), act-6 (TRAINING), act-7 (CHECK)",
        ]
        # The banner is printed once the server listens: its curl line works at once.
        answer = httpx.post(
            f"{base}/v2/action-session/index", headers={"Authorization": "Bearer dev"}
        )
        assert answer.status_code == 200
        assert answer.headers["X-Pagination-Total-Count"] == "44"
        assert httpx.get(f"{base}/ui/").status_code == 200
        assert httpx.get(f"{base}/openapi.json").json()["openapi"] == "3.0.3"
    finally:
        _stop(process)


def test_the_banner_never_prints_a_token_that_is_not_the_development_one(tmp_path: Path) -> None:
    lines, process = _ready_banner(
        ["--port", str(free_port()), "--token", "s3cret-token", "--auth", "on"], tmp_path
    )
    try:
        assert any("Bearer $TOKEN" in line for line in lines)
        assert not any("s3cret-token" in line for line in lines)
    finally:
        _stop(process)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latency", "5-1"], "--latency must satisfy 0 <= MIN <= MAX <= 60000"),
        (["--latency", "soon"], "--latency must be MS or MIN-MAX"),
        (["--fail-rate", "2"], "--fail-rate: the fraction must be from 0 to 1"),
        (["--fail-rate", "0.1:200"], "--fail-rate: the status must be an error status"),
        (["--auth", "maybe"], "--auth"),
    ],
)
def test_bad_steering_flags_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        settings_from_args(args, Settings())
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_steering_settings_come_from_the_environment_and_flags() -> None:
    base = Settings.from_env(
        {
            "ACTIONSESSION_MOCK_CORS_ORIGINS": "http://a:1, http://b:2",
            "ACTIONSESSION_MOCK_LATENCY": "100-200",
            "ACTIONSESSION_MOCK_FAIL_RATE": "0.25:503",
            "ACTIONSESSION_MOCK_SEED": "9",
            "ACTIONSESSION_MOCK_AUTH": "any",
        }
    )
    assert (base.cors_origins, base.latency_ms, base.fail_rate, base.fail_status) == (
        ("http://a:1", "http://b:2"),
        (100, 200),
        0.25,
        503,
    )
    assert (base.seed, base.auth, base.cors) == (9, "any", True)
    flags = settings_from_args(["--no-cors", "--latency", "50", "--fail-rate", "0.5"], base)
    assert (flags.cors, flags.latency_ms, flags.fail_rate, flags.fail_status) == (
        False,
        (50, 50),
        0.5,
        500,
    )
