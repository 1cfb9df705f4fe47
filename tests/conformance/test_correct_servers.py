"""A correct server passes: the reference in both profiles, and safe runs send no writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from conformance.config import Profile
from conformance.runner import run
from tests.conformance.conftest import SMALL, Served, settings_for
from tests.conformance_servers.reference import VARIANTS


@pytest.mark.parametrize("profile", [Profile.FULL, Profile.SAFE], ids=["full", "safe"])
def test_reference_server_conforms(serve: Callable[..., Served], profile: Profile) -> None:
    served = serve()
    result = run(settings_for(served.url, profile=profile))
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]
    assert result.count("passed") >= 18
    assert result.requests > 100


def test_reference_server_without_auth_conforms_when_no_token_is_given(
    serve: Callable[..., Served],
) -> None:
    served = serve(tokens=None)
    result = run(settings_for(served.url, token=None, schema_layer=False))
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]


def test_access_token_in_the_query_is_accepted(serve: Callable[..., Served]) -> None:
    served = serve()
    settings = settings_for(
        served.url, token_in_query=True, checks=frozenset({"auth_enforced", "schema_layer"})
    )
    result = run(settings)
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]
    assert any(b"access-token=dev" not in path.encode() for _, path, _ in served.requests)


DOCUMENTED = {"index": "POST", "create": "POST", "view": "GET", "update": "PUT", "delete": "DELETE"}


def _is_read(method: str, path: str, ghost_prefix: str) -> bool:
    """A request that cannot change data: a read, a search, or an undocumented method that names
    no record or only a ghost id (the server must refuse it with 405)."""
    parts = path.strip("/").split("/")
    action = parts[2] if len(parts) >= 3 else ""
    if method in ("GET", "HEAD") or (method == "POST" and action == "index"):
        return True
    names_nothing_real = len(parts) < 4 or parts[3].startswith(ghost_prefix)
    return DOCUMENTED.get(action) != method and names_nothing_real


def test_safe_profile_sends_no_request_that_can_change_data(serve: Callable[..., Served]) -> None:
    served = serve()
    before = json.dumps(served.store.rows, sort_keys=True)
    every_phase = replace(SMALL, phases=("examples", "coverage", "fuzzing", "stateful"))
    settings = settings_for(served.url, profile=Profile.SAFE, budget=every_phase)
    result = run(settings)
    assert result.ok
    writes = [
        (m, p) for m, p, _ in served.requests if not _is_read(m, p, f"{settings.run_id}-ghost-")
    ]
    assert writes == []
    assert json.dumps(served.store.rows, sort_keys=True) == before


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("profile", [Profile.FULL, Profile.SAFE], ids=["full", "safe"])
def test_behaviours_the_contract_leaves_open_pass(
    serve: Callable[..., Served], variant: str, profile: Profile
) -> None:
    served = serve(variant=variant)
    result = run(settings_for(served.url, profile=profile))
    assert result.ok, [f"{f.title}: {f.detail}" for f in result.findings]
