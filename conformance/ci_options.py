"""The run options for CI (issue 9: secrets, TLS, baselines, guesses, reports), declared once for
both front ends: `conformance.cli.run` adds them to its parser, `conformance.pytest_plugin` to
pytest's. `ci_settings` turns their values (and the environment-only secrets) into `Settings`
fields, so both front ends build the same run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conformance import environment
from conformance.baseline import load as load_baseline
from conformance.config import OAuth2
from conformance.failures import ConformanceError

OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "oauth-token-url",
        {
            "help": "obtain the bearer token from this OAuth2 token endpoint (client credentials, "
            "or the password grant with --username); default with --client-id: the spec's tokenUrl"
        },
    ),
    ("client-id", {"help": "OAuth2 client id (the secret: CONFORMANCE_CLIENT_SECRET)"}),
    ("username", {"help": "OAuth2 password grant user (the password: CONFORMANCE_PASSWORD)"}),
    ("oauth-scope", {"help": "OAuth2 scope to request (space-separated)"}),
    (
        "oauth-client-auth",
        {
            "choices": ["basic", "post"],
            "help": "how the client authenticates to the token endpoint: HTTP Basic (default) "
            "or client_id/client_secret in the form",
        },
    ),
    ("ca-bundle", {"type": Path, "help": "PEM file of the CAs to trust (a private CA)"}),
    ("baseline", {"type": Path, "help": "accepted findings: the run fails only on others"}),
    ("write-baseline", {"type": Path, "help": "write this run's findings as a baseline"}),
    (
        "strict",
        {"action": "store_true", "help": "findings resting only on a guessed clause fail too"},
    ),
    (
        "summary",
        {"type": Path, "help": "Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set)"},
    ),
    ("html", {"type": Path, "help": "self-contained HTML report"}),
    ("json", {"type": Path, "help": "the report as JSON"}),
]


def ci_settings(
    get: Callable[[str], Any],
    *,
    spec_token_url: Callable[[], str | None],
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`Settings` fields from the options (`get(name)`, None when unset) and the environment."""
    fields: dict[str, Any] = {}
    client_id = get("client-id")
    token_url = get("oauth-token-url")
    username = get("username")
    if token_url is not None or client_id is not None or username is not None:
        if client_id is None:
            raise ConformanceError("bad options: OAuth2 needs --client-id (CONFORMANCE_CLIENT_ID)")
        token_url = token_url or spec_token_url()
        if not token_url:
            raise ConformanceError("bad options: OAuth2 needs --oauth-token-url")
        if not str(token_url).startswith(("http://", "https://")):
            raise ConformanceError(
                f"bad options: --oauth-token-url must be a URL, got {token_url!r}"
            )
        secret = environment.secret(environment.CLIENT_SECRET, env)
        password = environment.secret(environment.PASSWORD, env)
        if username is None and secret is None:
            raise ConformanceError(
                "bad options: the client-credentials grant needs CONFORMANCE_CLIENT_SECRET "
                "in the environment"
            )
        if username is not None and password is None:
            raise ConformanceError(
                "bad options: the password grant needs CONFORMANCE_PASSWORD in the environment"
            )
        fields["oauth"] = OAuth2(
            token_url=str(token_url),
            client_id=str(client_id),
            client_secret=secret,
            username=username,
            password=password,
            scope=get("oauth-scope"),
            client_auth=get("oauth-client-auth") or "basic",
        )
    for option, name in (
        ("ca-bundle", "ca_bundle"),
        ("baseline", "baseline"),
        ("write-baseline", "write_baseline"),
        ("html", "html"),
        ("json", "json_report"),
    ):
        value = get(option)
        if value is not None:
            fields[name] = Path(value)
    ca_bundle = fields.get("ca_bundle")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConformanceError(f"bad options: --ca-bundle {ca_bundle} is not a file")
    baseline = fields.get("baseline")
    if baseline is not None:
        load_baseline(baseline)  # a baseline that cannot be read stops the run before it starts
    fields["strict"] = bool(get("strict"))
    summary = get("summary")
    if summary is not None:
        fields["summary_md"] = Path(summary)
    step_summary = environment.secret(environment.STEP_SUMMARY, env)
    if step_summary is not None:
        fields["step_summary"] = Path(step_summary)
    return fields


def declared_token_url(spec_path: Path) -> str | None:
    """The tokenUrl of the spec's OAuth2 password (or client-credentials) flow, if any."""
    from openapi.document import SpecError, load_document

    try:
        schemes = load_document(spec_path)["components"]["securitySchemes"]
    except (SpecError, KeyError, TypeError):
        return None
    for scheme in schemes.values():
        flows = scheme.get("flows", {}) if isinstance(scheme, dict) else {}
        for flow in ("clientCredentials", "password"):
            url = flows.get(flow, {}).get("tokenUrl")
            if isinstance(url, str):
                return url
    return None
