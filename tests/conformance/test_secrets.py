"""No credential appears anywhere a run writes: terminal (report, progress, quiet), JSON, JUnit,
Markdown summary (file and $GITHUB_STEP_SUMMARY), HTML, baseline, logs and curl reproductions,
nor in the pytest plugin's output. Each run has findings, so every form shows requests and curl
lines, and the credential travels in the URL (`access-token`) where it is easiest to leak."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conformance.config import OAuth2
from conformance.redact import RedactingFilter, Redactor, redact, redactor_for
from tests.conformance.conftest import Served, settings_for
from tests.conformance_servers.reference import create_app
from tests.conformance_servers.token_endpoint import TokenEndpoint
from tests.serving import serving

SECRET = "leak-canary-7f3b9c2e1d"
CLIENT_SECRET = "client-canary-51ac9e"
# A planted bug both layers see: the suite's checks and Schemathesis (curl samples included).
BUG = "view_returns_list"
CHECKS = "sort_order,create_read_back,credential_forms_accepted"


def _run_cli(tmp_path: Path, env: dict[str, str], *args: str, quiet: bool = True) -> dict[str, str]:
    """Run the CLI with every output form (and once more `--quiet`); what each holds, by name."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    step_summary = out / "step-summary.md"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "GITHUB_"))}
    common = {
        **clean,
        **env,
        "CONFORMANCE_MAX_EXAMPLES": "2",
        "CONFORMANCE_SEED": "7",
        "CONFORMANCE_CHECK": CHECKS + ",schema_layer",
        "GITHUB_STEP_SUMMARY": str(step_summary),
    }
    loud = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            *args,
            "--junit-xml",
            str(out / "junit.xml"),
            "--json",
            str(out / "report.json"),
            "--summary",
            str(out / "summary.md"),
            "--html",
            str(out / "report.html"),
            "--write-baseline",
            str(out / "baseline.json"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=common,
    )
    assert loud.returncode == 1, loud.stderr[-3000:]
    forms = {"stdout": loud.stdout, "stderr (progress, logs)": loud.stderr}
    if quiet:
        silent = subprocess.run(
            [sys.executable, "-m", "conformance", *args, "--quiet"],
            capture_output=True,
            text=True,
            timeout=600,
            env=common,
        )
        assert silent.returncode == 1, silent.stderr[-3000:]
        forms.update({"quiet stdout": silent.stdout, "quiet stderr": silent.stderr})
    for path in sorted(out.iterdir()):
        forms[path.name] = path.read_text(encoding="utf-8")
    assert set(forms) >= {
        "junit.xml",
        "report.json",
        "summary.md",
        "report.html",
        "baseline.json",
        "step-summary.md",
    }
    return forms


def _assert_nowhere(forms: dict[str, str], secrets: list[str]) -> None:
    leaks = [(name, s) for name, text in forms.items() for s in secrets if s in text]
    assert leaks == [], f"secrets written in: {leaks}"


def test_a_token_appears_in_no_output_form(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve(BUG, tokens=frozenset({SECRET}))
    forms = _run_cli(
        tmp_path,
        {"CONFORMANCE_ACCESS_TOKEN": SECRET, "CONFORMANCE_BASE_URL": served.url},
    )
    _assert_nowhere(forms, [SECRET])
    # The forms did show the evidence, with the credential as $TOKEN: nothing was just left out.
    for name in ("stdout", "quiet stdout", "junit.xml", "report.json", "report.html", "summary.md"):
        assert "access-token=$TOKEN" in forms[name] or "access-token=%24TOKEN" in forms[name], name
        assert "curl" in forms[name], name
    assert "VIOLATIONS FOUND" in forms["stdout"]
    # Reproductions are complete: nothing but the credential is masked (Schemathesis would
    # mask `action_session_id`, whose name holds "session").
    assert "[Filtered]" not in forms["stdout"]


def test_oauth_secrets_and_issued_tokens_appear_in_no_output_form(tmp_path: Path) -> None:
    password = "password-canary-93be20"
    endpoint = TokenEndpoint({"ci-client": CLIENT_SECRET}, {"alice": password}, lifetime=1.0)
    with (
        serving(endpoint.asgi()) as idp,
        serving(create_app(BUG, endpoint.tokens)) as api,  # type: ignore[arg-type]
    ):
        client_forms = _run_cli(
            tmp_path / "client",
            {"CONFORMANCE_CLIENT_SECRET": CLIENT_SECRET, "CONFORMANCE_BASE_URL": api},
            "--oauth-token-url",
            f"{idp}/token",
            "--client-id",
            "ci-client",
            quiet=False,
        )
        password_forms = _run_cli(
            tmp_path / "password",
            {"CONFORMANCE_PASSWORD": password, "CONFORMANCE_BASE_URL": api},
            "--oauth-token-url",
            f"{idp}/token",
            "--client-id",
            "ci-client",
            "--username",
            "alice",
            "--no-schema-layer",
            quiet=False,
        )
    issued = endpoint.tokens.issued()
    assert len(issued) >= 4  # two runs each, and tokens that lived 1 s were renewed
    _assert_nowhere(client_forms, [CLIENT_SECRET, *issued])
    _assert_nowhere(password_forms, [password, *issued])
    assert "Bearer $TOKEN" in client_forms["stdout"]


def test_pytest_plugin_output_holds_no_token(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve(BUG, tokens=frozenset({SECRET}))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "GITHUB_"))}
    junit = tmp_path / "pytest-junit.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "conformance.pytest_plugin",
            "--pyargs",
            "conformance",
            f"--junitxml={junit}",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
            "--rootdir",
            str(tmp_path),
            "-c",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={
            **clean,
            "CONFORMANCE_BASE_URL": served.url,
            "CONFORMANCE_ACCESS_TOKEN": SECRET,
            "CONFORMANCE_CHECK": CHECKS,
            "CONFORMANCE_NO_SCHEMA_LAYER": "1",
            "CONFORMANCE_HTML": str(tmp_path / "plugin.html"),
        },
    )
    assert done.returncode == 1, done.stdout[-3000:]
    forms = {
        "pytest stdout": done.stdout,
        "pytest stderr": done.stderr,
        "pytest junit": junit.read_text(),
        "html": (tmp_path / "plugin.html").read_text(),
    }
    _assert_nowhere(forms, [SECRET])
    assert "access-token=$TOKEN" in forms["pytest stdout"]


def test_log_records_are_redacted_including_tokens_issued_later() -> None:
    settings = settings_for(
        "https://ci:url-password-1x@api.example",
        token=None,
        oauth=OAuth2("https://idp.example/token", "ci", client_secret=CLIENT_SECRET),
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(settings))
    log = logging.getLogger("tests.secrets")
    log.addHandler(handler)
    try:
        log.warning("sent %s to %s", CLIENT_SECRET, settings.base_url)
        try:
            raise ValueError(f"refused {CLIENT_SECRET}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert CLIENT_SECRET not in text and "url-password-1x" not in text
    assert "sent $CONFORMANCE_CLIENT_SECRET to https://ci:***@api.example" in text
    assert "refused $CONFORMANCE_CLIENT_SECRET" in text


def test_redact_hides_each_encoding_and_spares_short_tokens_inside_words() -> None:
    secret = "a+b/c=d&e secret"
    text = f"raw {secret} query a%2Bb%2Fc%3Dd%26e%20secret form a%2Bb%2Fc%3Dd%26e+secret"
    assert redact(text, [secret]) == "raw $TOKEN query $TOKEN form $TOKEN"
    short = Redactor([("dev", "$TOKEN")])
    assert short("Bearer dev; device development") == "Bearer $TOKEN; device development"
    assert redactor_for(settings_for("http://127.0.0.1:1", token="dev"))("?access-token=dev") == (
        "?access-token=$TOKEN"
    )
