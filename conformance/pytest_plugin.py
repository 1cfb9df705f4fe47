"""The suite as a pytest plugin: `pytest -p conformance.pytest_plugin --pyargs conformance ...`.

Owns the pytest options (the CLI's, declared once in `conformance.run_options` and
`conformance.ci_options`; `--base-url` is shared with pytest-base-url when that plugin is
installed, and every option also exists with a `--conformance-` prefix in case another plugin owns
the short name), the session-scoped run, and one test per check so pytest's own
`--junitxml` lists each check. Without a base URL it does nothing: the tests are skipped.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from conformance import environment
from conformance.ci_options import OPTIONS as CI_OPTIONS
from conformance.config import Profile, Settings
from conformance.failures import ConformanceError
from conformance.outputs import write_outputs
from conformance.run_options import NETWORK_OPTIONS, RUN_OPTIONS, run_settings
from conformance.runner import SCHEMA_LAYER, Result, run, selected_checks
from conformance.verdict import Verdict, judge


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the run options, each also as `--conformance-NAME`."""
    group = parser.getgroup("conformance", "ActionSession conformance suite")
    # Secrets, TLS, baselines, guesses and CI reports: declared once in conformance.ci_options.
    for name, kwargs in [*RUN_OPTIONS, *CI_OPTIONS, *NETWORK_OPTIONS]:
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
        declared = dict([*RUN_OPTIONS, *CI_OPTIONS, *NETWORK_OPTIONS])
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
    if not _option(config, "base-url"):
        return None
    token, token_in_query = _credential(config)
    return run_settings(
        lambda name: _option(config, name),
        token=token,
        token_in_query=token_in_query,
        progress=False,
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
