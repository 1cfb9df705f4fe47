"""A full run leaves other people's data exactly as it was, and cleans up after itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from conformance.runner import Listener, run
from tests.conformance_suite.conftest import SMALL, Served, settings_for

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
