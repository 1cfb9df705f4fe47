"""TLS with a private CA (`--ca-bundle`) and proxies from the usual environment variables,
proven over loopback: an HTTPS server whose certificate a CA made in the test signed, and a
forward proxy named by HTTP_PROXY."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from conformance.config import OAuth2, Profile
from conformance.failures import ConformanceError
from conformance.runner import run
from tests.conformance.conftest import settings_for
from tests.conformance_servers.forward_proxy import ForwardProxy
from tests.conformance_servers.reference import create_app
from tests.conformance_servers.token_endpoint import TokenEndpoint
from tests.serving import serving

CHECKS = frozenset({"sort_order", "credential_forms_accepted", "schema_layer"})


@dataclass
class Tls:
    ca_bundle: Path
    api_url: str
    token_url: str
    endpoint: TokenEndpoint


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[Tls]:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert = tmp_path / "server.pem"
    server.private_key_and_cert_chain_pem.write_to_path(str(cert))
    bundle = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    endpoint = TokenEndpoint({"ci": "tls-client-secret"})
    tokens = endpoint.tokens
    with (
        serving(create_app(None, tokens), certfile=cert) as api,  # type: ignore[arg-type]
        serving(endpoint.asgi(), certfile=cert) as idp,
    ):
        yield Tls(bundle, api, f"{idp}/token", endpoint)


def test_a_private_ca_bundle_lets_the_run_verify_the_server(tls: Tls) -> None:
    """Both layers (the suite's client and Schemathesis) and the token endpoint trust the CA."""
    oauth = OAuth2(tls.token_url, "ci", client_secret="tls-client-secret")
    settings = settings_for(
        tls.api_url, token=None, oauth=oauth, ca_bundle=tls.ca_bundle, checks=CHECKS
    )
    result = run(settings)
    assert result.ok, [(f.title, f.detail) for f in result.findings]
    assert {o.name: o.status for o in result.outcomes}["schema_layer"] == "passed"
    assert result.requests > 50
    assert len(tls.endpoint.grants) == 1


def test_without_the_ca_bundle_the_server_is_not_trusted(tls: Tls) -> None:
    with pytest.raises(
        ConformanceError,
        match=r"^cannot reach https://127\.0\.0\.1:\d+: .*CERTIFICATE_VERIFY_FAILED",
    ):
        run(settings_for(tls.api_url, token=None, checks=CHECKS))


def _clean_env() -> dict[str, str]:
    drop = ("CONFORMANCE_", "GITHUB_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    return {k: v for k, v in os.environ.items() if not k.upper().startswith(drop)}


def test_cli_reads_the_ca_bundle_from_the_environment(tls: Tls) -> None:
    env = {
        **_clean_env(),
        "CONFORMANCE_BASE_URL": tls.api_url,
        "CONFORMANCE_CA_BUNDLE": str(tls.ca_bundle),
        "CONFORMANCE_OAUTH_TOKEN_URL": tls.token_url,
        "CONFORMANCE_CLIENT_ID": "ci",
        "CONFORMANCE_CLIENT_SECRET": "tls-client-secret",
    }
    args = [sys.executable, "-m", "conformance", "--check", "sort_order", "--no-schema-layer"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "CONFORMS" in done.stdout

    env["CONFORMANCE_CA_BUNDLE"] = str(tls.ca_bundle.with_name("missing.pem"))
    missing = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"conformance: error: bad options: --ca-bundle {tls.ca_bundle.with_name('missing.pem')} "
        "is not a file"
    )


def test_requests_go_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = ForwardProxy()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with (
        serving(create_app(None, frozenset({"dev"}))) as api,
        serving(proxy.asgi()) as proxy_url,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        result = run(settings_for(api, profile=Profile.SAFE, checks=CHECKS))
    assert result.ok, [(f.title, f.detail) for f in result.findings]
    assert {host for _, host, _ in proxy.seen} == {api.removeprefix("http://")}
    paths = {path for _, _, path in proxy.seen}
    # The suite's own checks and Schemathesis' generated requests both went through it.
    assert "/v2/action-session/index" in paths
    assert any(p.startswith("/v2/action-session-date/") for p in paths)
    assert len(proxy.seen) >= result.requests > 20
