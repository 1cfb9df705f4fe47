"""The conformance suite as pytest tests: `pytest -p conformance.pytest_plugin --pyargs conformance`.

Each check of the run is one test; the run itself is made once (`conformance_result`).
"""

from __future__ import annotations

import pytest

from conformance.report import render
from conformance.runner import Result


def test_server_honours(conformance_check: str, conformance_result: Result) -> None:
    """The check named by the parameter found nothing."""
    outcome = next((o for o in conformance_result.outcomes if o.name == conformance_check), None)
    if outcome is None:
        pytest.skip(f"{conformance_check} did not run")
    if outcome.findings:
        partial = Result(
            conformance_result.settings,
            [outcome],
            conformance_result.requests,
            conformance_result.seconds,
        )
        pytest.fail(render(partial), pytrace=False)
