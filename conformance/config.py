"""Settings of one conformance run: target, credential, profile, references, budgets and seed.

Defaults live here and only here. Randomness is driven by `seed` (recorded in the report and the
JUnit file, so a failing run can be repeated); every budget a run spends is in `Budget`.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from openapi import SPEC_PATH

if TYPE_CHECKING:
    from conformance.credentials import Credential

DEFAULT_PHASES = ("examples", "coverage", "fuzzing", "stateful")


class Profile(StrEnum):
    """What a run may send: `safe` only reads and rejected inputs, `full` creates its own data."""

    SAFE = "safe"
    FULL = "full"


@dataclass(frozen=True)
class References:
    """Existing records new sessions point at (the seed's act-1, ten-1, sub-1 by default)."""

    action_id: str = "act-1"
    tenant_id: str = "ten-1"
    subtenant_id: str = "sub-1"


@dataclass(frozen=True)
class Budget:
    """How much a run spends; CI and tests shrink it, the defaults are for real runs."""

    max_examples: int = 12  # Schemathesis examples per operation and phase
    stateful_steps: int = 8  # Schemathesis stateful scenario length
    property_examples: int = 10  # Hypothesis examples per semantic property
    walk_per_page: int = 3  # page size used when walking every page
    max_walk_pages: int = 40  # a walk longer than this is cut short (safe runs on big data)
    subscriptions: int = 11  # records the full profile creates under its session
    days: int = 4
    sessions: int = 8
    phases: tuple[str, ...] = DEFAULT_PHASES  # Schemathesis phases to run


@dataclass(frozen=True)
class OAuth2:
    """Where and how a run obtains its bearer token (client credentials, or the password grant
    when `username` is given). The secrets only ever come from the environment."""

    token_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    scope: str | None = None
    client_auth: str = "basic"  # "basic" (RFC 6749 2.3.1, the default) or "post" (in the form)

    @property
    def grant(self) -> str:
        """The grant type this configuration uses."""
        return "password" if self.username is not None else "client_credentials"


@dataclass(frozen=True)
class Network:
    """How a run behaves on a real network: pacing, patience and parallelism (issue 9).

    A 429 or 503 is waited out as `Retry-After` says and the request sent again; so is a request
    that never reached the server, and a read that got no answer. `max_retries` bounds the retries
    of one request and `max_wait` the seconds one request may spend waiting between them.
    """

    rate: float | None = None  # requests per second the whole run may send; None: no cap
    timeout: float = 10.0  # seconds one request may take before it counts as unanswered
    max_retries: int = 6
    max_wait: float = 60.0
    concurrency: int = 8  # independent checks run at once; 1 is a strict sequential run


@dataclass(frozen=True)
class Settings:
    """Everything a run needs; build with `Settings.create`."""

    base_url: str
    spec_path: Path = SPEC_PATH
    token: str | None = field(default=None, repr=False)
    token_in_query: bool = False
    profile: Profile = Profile.FULL
    references: References = field(default_factory=References)
    budget: Budget = field(default_factory=Budget)
    seed: int = 0
    run_id: str = ""
    junit_xml: Path | None = None
    workers: int | None = None  # Schemathesis workers; None: as many as `network.concurrency`
    checks: frozenset[str] | None = None  # None: every check; else names or titles to run
    schema_layer: bool = True
    progress: bool = True
    # Secrets, TLS, baselines, guesses and CI reports (issue 9: CI).
    oauth: OAuth2 | None = None
    ca_bundle: Path | None = None  # PEM file of the CAs to trust instead of the system's
    baseline: Path | None = None  # accepted findings: only others fail the run
    write_baseline: Path | None = None
    strict: bool = False  # a finding resting only on a guessed clause fails too
    summary_md: Path | None = None  # Markdown summary (--summary)
    step_summary: Path | None = None  # $GITHUB_STEP_SUMMARY: the same summary, appended
    html: Path | None = None
    json_report: Path | None = None
    credential: Credential | None = field(default=None, compare=False, repr=False)
    # Network behaviour and what the run leaves behind (issue 9, network).
    network: Network = field(default_factory=Network)
    leftovers: Path | None = None  # JSON of records cleanup could not delete, for `cleanup --from`

    @classmethod
    def create(cls, base_url: str, *, seed: int | None = None, **kwargs: object) -> Settings:
        """Settings with a fresh run id and a recorded seed (random when not given)."""
        chosen = seed if seed is not None else secrets.randbelow(2**31)
        run_id = f"cnf{uuid.uuid4().hex[:10]}"
        return replace(cls(base_url=base_url.rstrip("/")), seed=chosen, run_id=run_id, **kwargs)  # type: ignore[arg-type]

    @property
    def schema_workers(self) -> int:
        """The Schemathesis layer's workers."""
        return self.workers if self.workers is not None else self.network.concurrency

    @property
    def marker(self) -> dict[str, str]:
        """The member put in `data` of every record this run creates."""
        return {"conformance_run": self.run_id}
