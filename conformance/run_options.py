"""The options of a run, declared once for both front ends, and the one way they become `Settings`.

`conformance.cli.run` adds them to its argparse parser, `conformance.pytest_plugin` to pytest's
(with the CI options of `conformance.ci_options`); each front end reads a value by option name
(`get("max-examples")`, None when not given) and calls `run_settings`, so the two cannot differ in
defaults, ranges or the settings they build. Declarations carry no defaults: a value not given is
None, and `run_settings` applies the defaults of `Settings`, `References`, `Budget` and `Network`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.ci_options import ci_settings, declared_token_url
from conformance.config import Budget, Network, Profile, References, Settings
from conformance.failures import ConformanceError
from openapi import SPEC_PATH

Option = tuple[str, dict[str, Any]]
Get = Callable[[str], Any]

_REFS = References()
_NET = Network()

RUN_OPTIONS: list[Option] = [
    ("base-url", {"help": "the server, e.g. http://127.0.0.1:8080"}),
    ("spec", {"type": Path, "help": "the OpenAPI document (default: the packaged one)"}),
    ("token", {"help": "credential sent as Authorization: Bearer TOKEN"}),
    ("access-token", {"help": "credential sent as the access-token query parameter"}),
    (
        "profile",
        {"choices": [p.value for p in Profile], "help": "what the run may send (default full)"},
    ),
    ("action-id", {"help": f"existing action the run's sessions use (default {_REFS.action_id})"}),
    ("tenant-id", {"help": f"existing tenant (default {_REFS.tenant_id})"}),
    ("subtenant-id", {"help": f"existing office (default {_REFS.subtenant_id})"}),
    ("max-examples", {"type": int, "help": "Schemathesis examples per operation"}),
    ("seed", {"type": int, "help": "repeat a run (printed by every run)"}),
    ("workers", {"type": int, "help": "Schemathesis workers (default: --concurrency)"}),
    ("check", {"action": "append", "help": "run only this check (repeatable)"}),
    ("no-schema-layer", {"action": "store_true", "help": "skip Schemathesis"}),
]

NETWORK_OPTIONS: list[Option] = [
    ("rate", {"type": float, "help": "at most N requests per second (default: no cap)"}),
    (
        "timeout",
        {
            "type": float,
            "help": f"seconds a request may take before it counts as unanswered (default {_NET.timeout:g})",
        },
    ),
    (
        "max-retries",
        {
            "type": int,
            "help": f"retries of one request after 429/503 or no answer (default {_NET.max_retries})",
        },
    ),
    (
        "max-wait",
        {
            "type": float,
            "help": f"seconds one request may wait in total between retries (default {_NET.max_wait:g})",
        },
    ),
    (
        "concurrency",
        {
            "type": int,
            "help": f"independent checks run at once; 1 is strictly sequential (default {_NET.concurrency})",
        },
    ),
    (
        "leftovers",
        {
            "type": Path,
            "help": "write records cleanup could not delete to this JSON file (for `cleanup --from`)",
        },
    ),
]


def network_settings(get: Get) -> Network:
    """The network settings the options ask for; `ConformanceError` on values out of range."""
    given = {
        field: get(name)
        for name, field in (
            ("rate", "rate"),
            ("timeout", "timeout"),
            ("max-retries", "max_retries"),
            ("max-wait", "max_wait"),
            ("concurrency", "concurrency"),
        )
    }
    network = Network(**{k: v for k, v in given.items() if v is not None})
    if network.rate is not None and network.rate <= 0:
        raise ConformanceError("bad options: --rate must be above 0")
    if network.timeout <= 0 or network.max_wait < 0 or network.max_retries < 0:
        raise ConformanceError(
            "bad options: --timeout must be above 0, --max-retries and --max-wait at least 0"
        )
    if network.concurrency < 1:
        raise ConformanceError("bad options: --concurrency must be at least 1")
    return network


def run_settings(get: Get, *, token: str | None, token_in_query: bool, **fields: Any) -> Settings:
    """`Settings` from the options' values (`get(name)`), the credential the front end chose and
    its own `fields` (progress, junit_xml); `ConformanceError` on bad options."""
    base_url = get("base-url")
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ConformanceError(f"bad options: --base-url must be an http(s) URL, got {base_url!r}")
    workers, examples = get("workers"), get("max-examples")
    if (workers is not None and workers < 1) or (examples is not None and examples < 1):
        raise ConformanceError("bad options: --workers and --max-examples must be at least 1")
    spec = get("spec")
    extra: dict[str, Any] = {}
    if spec is not None:
        extra["spec_path"] = Path(spec)
    extra.update(
        ci_settings(
            get, spec_token_url=lambda: declared_token_url(extra.get("spec_path", SPEC_PATH))
        )
    )
    if "oauth" in extra and token is not None:
        raise ConformanceError("bad options: give a token or OAuth2 options, not both")
    leftovers = get("leftovers")
    checks = get("check")
    return Settings.create(
        base_url,
        seed=get("seed"),
        token=token,
        token_in_query=token_in_query,
        profile=Profile(get("profile") or Profile.FULL.value),
        references=References(
            get("action-id") or _REFS.action_id,
            get("tenant-id") or _REFS.tenant_id,
            get("subtenant-id") or _REFS.subtenant_id,
        ),
        budget=Budget() if examples is None else Budget(max_examples=examples),
        workers=workers,
        checks=frozenset(checks) if checks else None,
        schema_layer=not get("no-schema-layer"),
        network=network_settings(get),
        leftovers=Path(leftovers) if leftovers else None,
        **extra,
        **fields,
    )
