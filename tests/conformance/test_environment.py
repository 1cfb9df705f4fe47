"""Every run option can come from the environment (`CONFORMANCE_<FLAG>`), and flags win."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from conformance.cli.run import build_parser, settings_from_args
from conformance.config import Profile
from conformance.environment import apply_to_parser, variable
from conformance.failures import ConformanceError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CONFORMANCE_") or name == "GITHUB_STEP_SUMMARY":
            monkeypatch.delenv(name)


def _long_options() -> list[argparse.Action]:
    return [
        a
        for a in build_parser()._actions
        if any(s.startswith("--") for s in a.option_strings) and a.dest != "help"
    ]


def _sample(action: argparse.Action) -> tuple[str, object]:
    """An environment value for the option and what the parsed option must then hold."""
    if isinstance(action, argparse._StoreTrueAction):
        return "yes", True
    if isinstance(action, argparse._AppendAction):
        return "first, second", ["first", "second"]
    if action.choices is not None:
        choice = list(action.choices)[-1]
        return str(choice), choice
    if callable(action.type):
        return "7", action.type("7")
    return "from-the-environment", "from-the-environment"


@pytest.mark.parametrize("action", _long_options(), ids=lambda a: variable(a.option_strings[0]))
def test_every_option_is_read_from_its_environment_variable(action: argparse.Action) -> None:
    raw, expected = _sample(action)
    parser = build_parser()
    apply_to_parser(parser, {variable(action.option_strings[0]): raw})
    base = [] if action.dest == "base_url" else ["--base-url", "http://127.0.0.1:1"]
    assert getattr(parser.parse_args(base), action.dest) == expected


def test_the_naming_rule() -> None:
    assert variable("--base-url") == "CONFORMANCE_BASE_URL"
    assert variable("--oauth-token-url") == "CONFORMANCE_OAUTH_TOKEN_URL"
    assert variable("--no-schema-layer") == "CONFORMANCE_NO_SCHEMA_LAYER"


def test_a_run_configured_by_the_environment_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "CONFORMANCE_BASE_URL": "https://staging.example/",
        "CONFORMANCE_TOKEN": "tok-123456",
        "CONFORMANCE_PROFILE": "safe",
        "CONFORMANCE_SEED": "42",
        "CONFORMANCE_CHECK": "sort_order, pagination_headers",
        "CONFORMANCE_NO_SCHEMA_LAYER": "true",
        "CONFORMANCE_STRICT": "1",
        "CONFORMANCE_HTML": str(tmp_path / "r.html"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md"),
    }.items():
        monkeypatch.setenv(name, value)
    s = settings_from_args([])
    assert (s.base_url, s.token, s.token_in_query) == (
        "https://staging.example",
        "tok-123456",
        False,
    )
    assert (s.profile, s.seed, s.schema_layer, s.strict) == (Profile.SAFE, 42, False, True)
    assert s.checks == frozenset({"sort_order", "pagination_headers"})
    assert (s.html, s.step_summary, s.summary_md) == (
        tmp_path / "r.html",
        tmp_path / "step.md",
        None,
    )


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("CONFORMANCE_PROFILE", "safe")
    monkeypatch.setenv("CONFORMANCE_TOKEN", "env-token")
    monkeypatch.setenv("CONFORMANCE_MAX_EXAMPLES", "3")
    s = settings_from_args(
        ["--profile", "full", "--access-token", "flag-token", "--max-examples", "5"]
    )
    assert (s.profile, s.token, s.token_in_query) == (Profile.FULL, "flag-token", True)
    assert s.budget.max_examples == 5
    s = settings_from_args(["--base-url", "http://127.0.0.1:2"])
    assert (s.base_url, s.token, s.token_in_query) == ("http://127.0.0.1:2", "env-token", False)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        pytest.param(
            "CONFORMANCE_MAX_EXAMPLES",
            "many",
            "bad options: CONFORMANCE_MAX_EXAMPLES='many': invalid literal for int() with base 10: 'many'",
            id="not-an-integer",
        ),
        pytest.param(
            "CONFORMANCE_QUIET",
            "maybe",
            "bad options: CONFORMANCE_QUIET='maybe' is not a yes/no value (1/0, true/false)",
            id="not-a-switch",
        ),
        pytest.param(
            "CONFORMANCE_PROFILE",
            "fast",
            "bad options: CONFORMANCE_PROFILE='fast' is not one of safe, full",
            id="not-a-choice",
        ),
        pytest.param(
            "CONFORMANCE_ACCESS_TOKEN",
            "second",
            "bad options: set only one of CONFORMANCE_TOKEN and CONFORMANCE_ACCESS_TOKEN",
            id="two-credentials",
        ),
    ],
)
def test_a_bad_environment_value_is_a_bad_option(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("CONFORMANCE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("CONFORMANCE_TOKEN", "first")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConformanceError) as caught:
        settings_from_args([])
    assert str(caught.value) == message


def test_oauth_secrets_are_never_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    options = {s for a in build_parser()._actions for s in a.option_strings}
    assert not options & {"--client-secret", "--password"}
    monkeypatch.setenv("CONFORMANCE_BASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "ci")
    monkeypatch.setenv("CONFORMANCE_USERNAME", "alice")
    with pytest.raises(ConformanceError, match="the password grant needs CONFORMANCE_PASSWORD"):
        settings_from_args([])
    monkeypatch.setenv("CONFORMANCE_PASSWORD", "pw-secret-1")
    s = settings_from_args([])
    assert s.oauth is not None
    assert (s.oauth.grant, s.oauth.username, s.oauth.password) == (
        "password",
        "alice",
        "pw-secret-1",
    )
    # The default token URL is the one the spec declares for its password flow.
    assert s.oauth.token_url.endswith("/protocol/openid-connect/token")
    assert "pw-secret-1" not in repr(s)
