"""A full run leaves other people's data exactly as it was, and cleans up after itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from conformance.cleanup import Tracker
from conformance.config import Profile
from conformance.contract import load_contract
from conformance.runner import Listener, run
from openapi import SPEC_PATH
from tests.conformance.conftest import SMALL, Served, settings_for

AUTH = {"Authorization": "Bearer dev"}


def snapshot(url: str, session_id: str) -> bytes:
    """A record the suite did not create, with its subscriptions and days, as the API shows them."""
    with httpx.Client(base_url=url, headers=AUTH) as http:
        parts = [http.get(f"/v2/action-session/view/{session_id}").content]
        for child in ("action-session-subscription", "action-session-date"):
            body = {
                "filter": {"action_session_id": session_id},
                "sort": f"{child.replace('-', '_')}_id",
                "per-page": 100,
            }
            parts.append(http.post(f"/v2/{child}/index", json=body).content)
    return b"\n".join(parts)


def marked_rows(served: Served, run_id: str) -> list[Any]:
    """Rows anywhere in the reference store that carry the run's marker."""
    return [
        row
        for rows in served.store.rows.values()
        for row in rows.values()
        if isinstance(row.get("data"), dict) and row["data"].get("conformance_run") == run_id
    ]


def test_full_run_leaves_a_foreign_record_byte_for_byte_unchanged(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    before = snapshot(served.url, "sess-1")
    rows_before = json.dumps(served.store.rows, sort_keys=True)
    settings = settings_for(
        served.url, budget=replace(SMALL, phases=("examples", "coverage", "stateful"))
    )
    result = run(settings)
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]
    assert snapshot(served.url, "sess-1") == before
    assert json.dumps(served.store.rows, sort_keys=True) == rows_before


def test_full_run_cleans_up_even_when_checks_fail(serve: Callable[..., Served]) -> None:
    served = serve("filter_ignored")
    settings = settings_for(served.url, schema_layer=False)
    result = run(settings)
    assert not result.ok
    assert marked_rows(served, settings.run_id) == []


class _Interrupt(Listener):
    def check_started(self, name: str) -> None:
        if name == "update_is_partial":
            raise KeyboardInterrupt


def test_interrupted_run_still_deletes_what_it_created(serve: Callable[..., Served]) -> None:
    served = serve()
    settings = settings_for(served.url, schema_layer=False)
    with pytest.raises(KeyboardInterrupt):
        run(settings, _Interrupt())
    assert marked_rows(served, settings.run_id) == []
    assert len(served.store.rows["action-session"]) == 44


@pytest.mark.parametrize(
    ("profile", "method", "path", "allowed"),
    [
        pytest.param(
            "full", "DELETE", "/v2/action-session/delete/sess-1", False, id="full-delete-foreign"
        ),
        pytest.param(
            "full", "PUT", "/v2/action-session/update/sess-1", False, id="full-update-foreign"
        ),
        pytest.param(
            "full", "PATCH", "/v2/action-session/view/sess-1", False, id="full-probe-foreign"
        ),
        pytest.param(
            "full", "DELETE", "/v2/action-session/delete/mine", True, id="full-delete-own"
        ),
        pytest.param("full", "POST", "/v2/action-session/create", True, id="full-create"),
        pytest.param("safe", "POST", "/v2/action-session/create", False, id="safe-create"),
        pytest.param(
            "safe", "DELETE", "/v2/action-session/delete/mine", False, id="safe-delete-own"
        ),
        pytest.param("safe", "POST", "/v2/action-session/index", True, id="safe-index"),
        pytest.param("safe", "GET", "/v2/action-session/view/sess-1", True, id="safe-view"),
        pytest.param("safe", "PATCH", "/v2/action-session/index", True, id="safe-probe-index"),
    ],
)
def test_client_refuses_writes_the_profile_forbids(
    profile: str, method: str, path: str, allowed: bool
) -> None:
    contract = load_contract(SPEC_PATH)
    tracker = Tracker(contract, "cnftest")
    tracker.add(contract.root, "mine")
    assert tracker.may_write(Profile(profile))(method, path) is allowed
    assert (
        tracker.may_write(Profile(profile))(method, f"/v2/action-session/view/{tracker.ghost()}")
        is True
    )
