"""The conformance suite as pytest tests: `pytest -p conformance.pytest_plugin --pyargs conformance`.

Each check of the run is one test; the run itself is made once (`conformance_result`).
"""

from __future__ import annotations

import pytest

from conformance.report import render
from conformance.runner import Result
from conformance.verdict import FAILURE, Verdict


def test_server_honours(
    conformance_check: str, conformance_result: Result, conformance_verdict: Verdict
) -> None:
    """The check named by the parameter found nothing that fails the run (warnings on guessed
    clauses and findings the baseline accepts do not)."""
    outcome = next((o for o in conformance_result.outcomes if o.name == conformance_check), None)
    if outcome is None:
        pytest.skip(f"{conformance_check} did not run")
    if any(conformance_verdict.status_of(f) == FAILURE for f in outcome.findings):
        partial = Result(
            conformance_result.settings,
            [outcome],
            conformance_result.requests,
            conformance_result.seconds,
        )
        pytest.fail(render(partial), pytrace=False)
