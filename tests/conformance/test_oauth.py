"""OAuth2: the run obtains its bearer token from a real token endpoint on loopback, and keeps it
fresh (before `expires_in` runs out, and after a 401 when the token dies early)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from conformance.config import OAuth2
from conformance.runner import run
from tests.conformance.conftest import settings_for
from tests.conformance_servers.reference import create_app
from tests.conformance_servers.token_endpoint import TokenEndpoint
from tests.serving import serving

CLIENT_SECRET = "client-secret-Zq81xV"
PASSWORD = "user-password-Lm42pR"
# Checks that send authenticated requests of every kind, and the auth checks themselves.
CHECKS = frozenset({"credential_forms_accepted", "auth_enforced", "sort_order", "create_read_back"})


@dataclass
class Identity:
    """A token endpoint and a reference server accepting exactly the tokens it issued."""

    endpoint: TokenEndpoint
    token_url: str
    api_url: str


@pytest.fixture
def identity(request: pytest.FixtureRequest) -> Iterator[Identity]:
    lifetime, announced = getattr(request, "param", (3600.0, None))
    endpoint = TokenEndpoint(
        {"ci-client": CLIENT_SECRET}, {"alice": PASSWORD}, lifetime=lifetime, announced=announced
    )
    with serving(endpoint.asgi()) as idp, serving(create_app(None, endpoint.tokens)) as api:  # type: ignore[arg-type]
        yield Identity(endpoint, f"{idp}/token", api)


def _oauth(identity: Identity, **kwargs: str) -> OAuth2:
    return OAuth2(identity.token_url, "ci-client", client_secret=CLIENT_SECRET, **kwargs)


def test_client_credentials_grant_obtains_the_bearer_token(identity: Identity) -> None:
    settings = settings_for(
        identity.api_url, token=None, oauth=_oauth(identity), checks=CHECKS, schema_layer=False
    )
    result = run(settings)
    assert result.ok, [f.detail for f in result.findings]
    assert {o.name for o in result.outcomes if o.status == "passed"} >= CHECKS
    assert identity.endpoint.grants == [
        {"grant_type": "client_credentials", "client_id": "ci-client", "auth": "basic"}
    ]


def test_client_secret_can_go_in_the_form(identity: Identity) -> None:
    oauth = _oauth(identity, client_auth="post")
    result = run(
        settings_for(
            identity.api_url,
            token=None,
            oauth=oauth,
            checks=frozenset({"sort_order"}),
            schema_layer=False,
        )
    )
    assert result.ok
    assert [g["auth"] for g in identity.endpoint.grants] == ["post"]


def test_password_grant_sends_the_user_and_is_accepted(identity: Identity) -> None:
    oauth = OAuth2(identity.token_url, "ci-client", username="alice", password=PASSWORD)
    result = run(
        settings_for(identity.api_url, token=None, oauth=oauth, checks=CHECKS, schema_layer=False)
    )
    assert result.ok, [f.detail for f in result.findings]
    assert identity.endpoint.grants == [
        {"grant_type": "password", "client_id": "ci-client", "auth": "post", "username": "alice"}
    ]


LIFETIME = 0.15
"""Seconds a short-lived token lives: far less than any run, so renewals happen on any machine."""


@pytest.mark.parametrize(
    "identity", [pytest.param((LIFETIME, None), id="expires-in-0.15s")], indirect=True
)
def test_token_is_renewed_before_it_expires_during_the_run(identity: Identity) -> None:
    """Tokens live 0.15 s and say so; a run many times as long (schema layer included, through
    Schemathesis) renews them and no request is refused."""
    result = run(settings_for(identity.api_url, token=None, oauth=_oauth(identity), checks=CHECKS))
    assert result.ok, [(f.title, f.detail) for f in result.findings]
    # The run outlived three tokens, requests all along: no request was refused, and new
    # tokens were fetched as the old ones expired.
    assert result.seconds > 3 * LIFETIME
    assert len(identity.endpoint.grants) >= 3
    assert {g["grant_type"] for g in identity.endpoint.grants} == {"client_credentials"}


@pytest.mark.parametrize(
    "identity", [pytest.param((LIFETIME, 3600.0), id="dies-early-announced-1h")], indirect=True
)
def test_token_refused_before_its_announced_expiry_is_renewed_once(identity: Identity) -> None:
    """A token the server refuses (revoked, or dead before `expires_in`) is renewed on the 401
    and the request repeated, so the run does not fail for it."""
    result = run(
        settings_for(
            identity.api_url, token=None, oauth=_oauth(identity), checks=CHECKS, schema_layer=False
        )
    )
    assert result.ok, [(f.title, f.detail) for f in result.findings]
    assert result.seconds > 2 * LIFETIME
    assert len(identity.endpoint.grants) >= 2


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean, **env},
    )


def test_cli_takes_the_client_secret_from_the_environment_only(identity: Identity) -> None:
    env = {"CONFORMANCE_CLIENT_SECRET": CLIENT_SECRET, "CONFORMANCE_BASE_URL": identity.api_url}
    args = ["--oauth-token-url", identity.token_url, "--client-id", "ci-client"]
    done = _cli(env, *args, "--check", "sort_order", "--no-schema-layer", "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "CONFORMS" in done.stdout
    assert CLIENT_SECRET not in done.stdout + done.stderr

    refused = _cli(
        {**env, "CONFORMANCE_CLIENT_SECRET": "wrong-secret-Kk7"},
        *args,
        "--check",
        "sort_order",
        "--no-schema-layer",
    )
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"conformance: error: the OAuth2 token endpoint {identity.token_url} refused the "
        "client_credentials grant: 401 invalid_client"
    ]

    missing = _cli({"CONFORMANCE_BASE_URL": identity.api_url}, *args)
    assert missing.returncode == 2
    assert "CONFORMANCE_CLIENT_SECRET" in missing.stderr
    assert identity.endpoint.grants[-1]["client_id"] == "ci-client"
