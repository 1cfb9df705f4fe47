"""The suite as a pytest plugin: `pytest -p conformance.pytest_plugin --pyargs conformance ...`.

Owns the pytest options (the CLI's flags; `--base-url` is shared with pytest-base-url when that
plugin is installed, and every option also exists with a `--conformance-` prefix in case another
plugin owns the short name), the session-scoped run, and one test per check so pytest's own
`--junitxml` lists each check. Without a base URL it does nothing: the tests are skipped.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from conformance import environment
from conformance.ci_options import OPTIONS as CI_OPTIONS
from conformance.ci_options import ci_settings, declared_token_url
from conformance.config import Budget, Network, Profile, References, Settings
from conformance.failures import ConformanceError
from conformance.outputs import write_outputs
from conformance.runner import SCHEMA_LAYER, Result, run, selected_checks
from conformance.verdict import Verdict, judge
from openapi import SPEC_PATH

OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("base-url", {"help": "the server under test, e.g. http://127.0.0.1:8080"}),
    ("spec", {"help": "the OpenAPI document (default: the packaged one)"}),
    ("token", {"help": "credential sent as Authorization: Bearer TOKEN"}),
    ("access-token", {"help": "credential sent as the access-token query parameter"}),
    ("profile", {"choices": [p.value for p in Profile], "help": "safe or full (default)"}),
    ("action-id", {"help": "existing action new sessions use (default act-1)"}),
    ("tenant-id", {"help": "existing tenant (default ten-1)"}),
    ("subtenant-id", {"help": "existing office (default sub-1)"}),
    ("max-examples", {"type": int, "help": "Schemathesis examples per operation"}),
    ("seed", {"type": int, "help": "repeat a run"}),
    ("workers", {"type": int, "help": "Schemathesis workers"}),
    ("check", {"action": "append", "help": "run only this check (repeatable)"}),
    ("no-schema-layer", {"action": "store_true", "help": "skip Schemathesis"}),
]

# A run on a real network (the CLI's flags of the same names).
NETWORK_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("rate", {"type": float, "help": "at most N requests per second"}),
    ("timeout", {"type": float, "help": "seconds a request may take before it is unanswered"}),
    ("max-retries", {"type": int, "help": "retries of one request after 429/503 or no answer"}),
    ("max-wait", {"type": float, "help": "seconds one request may wait between retries"}),
    ("concurrency", {"type": int, "help": "independent checks run at once (1: sequential)"}),
    ("leftovers", {"help": "JSON file for records cleanup could not delete"}),
]


def _network(config: pytest.Config) -> dict[str, Any]:
    """The `network` and `leftovers` settings from the options given (defaults otherwise)."""
    given = {
        field: _option(config, name)
        for name, field in (
            ("rate", "rate"),
            ("timeout", "timeout"),
            ("max-retries", "max_retries"),
            ("max-wait", "max_wait"),
            ("concurrency", "concurrency"),
        )
    }
    leftovers = _option(config, "leftovers")
    return {
        "network": Network(**{k: v for k, v in given.items() if v is not None}),
        "leftovers": Path(leftovers) if leftovers else None,
    }


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the run options, each also as `--conformance-NAME`."""
    group = parser.getgroup("conformance", "ActionSession conformance suite")
    # Secrets, TLS, baselines, guesses and CI reports: declared once in conformance.ci_options.
    for name, kwargs in [*OPTIONS, *CI_OPTIONS, *NETWORK_OPTIONS]:
        dest = "conformance_" + name.replace("-", "_")
        try:
            group.addoption(f"--{name}", f"--conformance-{name}", dest=dest, **kwargs)
        except (ValueError, argparse.ArgumentError):
            # another plugin owns --NAME (pytest-base-url owns --base-url, pytest --strict,
            # pytest-html --html)
            group.addoption(f"--conformance-{name}", dest=dest, **kwargs)


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption("conformance_" + name.replace("-", "_"), default=None)
    if value is None and name == "base-url":
        value = config.getoption("base_url", default=None)  # pytest-base-url's option
    if value is None or value is False:  # not on the command line: CONFORMANCE_NAME, if set
        declared = dict([*OPTIONS, *CI_OPTIONS])
        from_env = environment.declared(name, declared.get(name, {}))
        value = value if from_env is None else from_env
    return value


def _credential(config: pytest.Config) -> tuple[str | None, bool]:
    """The token and whether it goes in the query; a flag beats the environment."""
    for name, in_query in (("access-token", True), ("token", False)):
        given = config.getoption("conformance_" + name.replace("-", "_"), default=None)
        if given is not None:
            return given, in_query
    token, access = _option(config, "token"), _option(config, "access-token")
    if token is not None and access is not None:
        raise ConformanceError(
            "bad options: set only one of CONFORMANCE_TOKEN and CONFORMANCE_ACCESS_TOKEN"
        )
    return (token, False) if token is not None else (access, access is not None)


def settings_from_config(config: pytest.Config) -> Settings | None:
    """Settings from the pytest options; None when no base URL was given."""
    base_url = _option(config, "base-url")
    if not base_url:
        return None
    refs = References()
    token, token_in_query = _credential(config)
    extra: dict[str, Any] = _network(config)
    if _option(config, "spec"):
        extra["spec_path"] = Path(_option(config, "spec"))
    extra.update(
        ci_settings(
            lambda name: _option(config, name),
            spec_token_url=lambda: declared_token_url(extra.get("spec_path", SPEC_PATH)),
        )
    )
    if "oauth" in extra and token is not None:
        raise ConformanceError("bad options: give a token or OAuth2 options, not both")
    examples = _option(config, "max-examples")
    return Settings.create(
        base_url,
        seed=_option(config, "seed"),
        token=token,
        token_in_query=token_in_query,
        profile=Profile(_option(config, "profile") or Profile.FULL.value),
        references=References(
            _option(config, "action-id") or refs.action_id,
            _option(config, "tenant-id") or refs.tenant_id,
            _option(config, "subtenant-id") or refs.subtenant_id,
        ),
        budget=Budget() if examples is None else Budget(max_examples=examples),
        workers=_option(config, "workers"),
        checks=frozenset(_option(config, "check")) if _option(config, "check") else None,
        schema_layer=not _option(config, "no-schema-layer"),
        progress=False,
        **extra,
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per check the run makes, plus the schema layer and the cleanup."""
    if "conformance_check" not in metafunc.fixturenames:
        return
    settings = settings_from_config(metafunc.config)
    profile = settings.profile if settings is not None else Profile.FULL
    probe = settings or Settings(base_url="", profile=profile)
    names = [c.name for c in selected_checks(probe)]
    if probe.schema_layer and (probe.checks is None or SCHEMA_LAYER in probe.checks):
        names.append(SCHEMA_LAYER)
    if profile is Profile.FULL:
        names.append("cleanup")
    metafunc.parametrize("conformance_check", names)


@pytest.fixture(scope="session")
def conformance_result(request: pytest.FixtureRequest) -> Result:
    """The whole run, made once per pytest session."""
    settings = settings_from_config(request.config)
    if settings is None:
        pytest.skip("no --base-url given: the conformance suite does not run")
    try:
        result = run(settings)
        write_outputs(result, judge(result))
    except ConformanceError as exc:
        pytest.fail(f"the conformance run could not be made: {exc}", pytrace=False)
    return result


@pytest.fixture(scope="session")
def conformance_verdict(conformance_result: Result) -> Verdict:
    """The run's findings judged against its baseline, guesses and strictness."""
    return judge(conformance_result)
