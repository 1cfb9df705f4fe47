"""The library entry point: `run(settings) -> Result`.

Owns the order of a run (load the contract, reach the server, build the run's data, the semantic
checks, the schema layer) and the promise that, in `full`, everything the run created is deleted
at the end (even when checks fail or the run is interrupted) and the leak check runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from conformance import checks as _checks  # noqa: F401  (registers the checks)
from conformance.cleanup import LEAK_TITLE, Tracker, delete_everything, find_leaks, sweep
from conformance.client import ApiClient
from conformance.config import Profile, Settings
from conformance.contract import Contract, load_contract
from conformance.credentials import authenticate
from conformance.failures import CheckFailure, ConformanceError, Finding
from conformance.registry import REGISTRY, Check, CheckContext
from conformance.tls import verify_for
from conformance.world import World, build_world

logger = logging.getLogger(__name__)

SCHEMA_LAYER = "schema_layer"
SCHEMA_LAYER_CLAUSE = (
    "the OpenAPI document: statuses, content types, headers, bodies, auth, methods, links"
)


@dataclass
class Outcome:
    """How one check ended."""

    name: str
    title: str
    status: str  # "passed", "failed", "skipped"
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    """What a run found."""

    settings: Settings
    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def findings(self) -> list[Finding]:
        """Every failure, in the order found."""
        return [f for o in self.outcomes for f in o.findings]

    @property
    def ok(self) -> bool:
        """Whether the server conforms (no finding)."""
        return not self.findings

    def count(self, status: str) -> int:
        """How many checks ended with `status`."""
        return sum(1 for o in self.outcomes if o.status == status)


class Listener:
    """Receives progress; the console report implements it, the default ignores it."""

    def started(self, settings: Settings, names: list[str]) -> None:
        """The run is about to start these checks."""

    def check_started(self, name: str) -> None:
        """A check starts."""

    def note(self, text: str) -> None:
        """Something worth a progress line."""

    def check_finished(self, outcome: Outcome) -> None:
        """A check ended."""


def selected_checks(settings: Settings) -> list[Check]:
    """The registered checks this run executes, in registration order."""
    chosen = []
    for item in REGISTRY.values():
        if settings.profile not in item.profiles:
            continue
        if (
            settings.checks is not None
            and item.name not in settings.checks
            and item.title not in settings.checks
        ):
            continue
        chosen.append(item)
    return chosen


def _finding(check: Check, exc: CheckFailure) -> Finding:
    ex = exc.exchange
    return Finding(
        check=check.name,
        title=exc.title,
        clause=check.clause,
        detail=exc.detail,
        request=ex.describe_request() if ex else "",
        response=ex.describe_response() if ex else "",
        curl=ex.curl() if ex else "",
    )


def run(settings: Settings, listener: Listener | None = None) -> Result:
    """Check the server at `settings.base_url` against the contract; `ConformanceError` if impossible."""
    listener = listener or Listener()
    started = time.monotonic()
    settings = authenticate(settings)
    contract = load_contract(settings.spec_path)
    tracker = Tracker(contract, settings.run_id)
    client = ApiClient(
        settings.base_url,
        token=settings.token,
        token_in_query=settings.token_in_query,
        timeout=settings.budget.request_timeout,
        may_write=tracker.may_write(settings.profile),
        observe=tracker.observe,
        credential=settings.credential,
        verify=verify_for(settings.ca_bundle),
    )
    result = Result(settings)
    chosen = selected_checks(settings)
    run_schema = settings.schema_layer and (
        settings.checks is None or SCHEMA_LAYER in settings.checks
    )
    listener.started(settings, [c.name for c in chosen] + ([SCHEMA_LAYER] if run_schema else []))
    try:
        _preflight(client, contract)
    except BaseException:
        # Nothing was created yet: there is nothing to clean up, and no cleanup to report.
        client.close()
        raise
    try:
        _run_all(settings, contract, client, tracker, chosen, run_schema, listener, result)
    except KeyboardInterrupt:
        result.interrupted = True
        raise
    finally:
        try:
            if settings.profile is Profile.FULL:
                listener.note("cleanup: deleting every record this run created")
                _cleanup(settings, contract, client, tracker, listener, result)
        finally:
            result.requests = client.requests
            result.seconds = time.monotonic() - started
            client.close()
    return result


def _preflight(client: ApiClient, contract: Contract) -> None:
    exchange = client.send("POST", contract.root.path("index"), {"per-page": 1})
    if exchange.status == 401 and client.token is not None:
        raise ConformanceError(
            f"the server refused the credential given ({exchange.status} on index)"
        )
    if exchange.status == 401:
        raise ConformanceError("the server requires a credential: give --token or --access-token")
    if exchange.status >= 500 or exchange.status == 404:
        raise ConformanceError(
            f"{client.base_url} does not serve the API (index answered {exchange.status})"
        )


def _run_all(
    settings: Settings,
    contract: Contract,
    client: ApiClient,
    tracker: Tracker,
    chosen: list[Check],
    run_schema: bool,
    listener: Listener,
    result: Result,
) -> None:
    listener.check_started("setup")
    begun = time.monotonic()
    try:
        world = build_world(settings, contract, client, tracker)
    except CheckFailure as exc:
        outcome = Outcome(
            "setup",
            exc.title,
            "failed",
            time.monotonic() - begun,
            [
                Finding(
                    "setup",
                    exc.title,
                    "create: 201 with the stored record",
                    exc.detail,
                    *_evidence(exc),
                )
            ],
        )
        result.outcomes.append(outcome)
        listener.check_finished(outcome)
        world = World()
        chosen = [c for c in chosen if settings.profile is Profile.SAFE]
    for check in chosen:
        listener.check_started(check.name)
        begun = time.monotonic()
        ctx = CheckContext(settings, contract, client, world, tracker, check)
        try:
            check.func(ctx)
        except CheckFailure as exc:
            outcome = Outcome(
                check.name, check.title, "failed", time.monotonic() - begun, [_finding(check, exc)]
            )
        except ConformanceError:
            raise
        except Exception as exc:
            # Answers of a shape the check cannot read (a list where a record belongs, a missing
            # member) mean the property could not hold; the run goes on with the other checks.
            logger.debug("check %s could not read the answers", check.name, exc_info=True)
            detail = (
                f"the server's answers could not be read as the contract describes them: {exc!r}"
            )
            finding = Finding(check.name, check.title, check.clause, detail)
            outcome = Outcome(
                check.name, check.title, "failed", time.monotonic() - begun, [finding]
            )
        else:
            outcome = Outcome(check.name, check.title, "passed", time.monotonic() - begun)
        outcome.notes = ctx.notes
        result.outcomes.append(outcome)
        listener.check_finished(outcome)
    if run_schema:
        from conformance.schema_layer import run_schema_layer

        listener.check_started(SCHEMA_LAYER)
        begun = time.monotonic()
        try:
            findings = run_schema_layer(settings, contract, client, tracker, listener.note)
        except CheckFailure as exc:  # the session the generated children attach to
            clause = "create: 201 with the stored record"
            findings = [Finding(SCHEMA_LAYER, exc.title, clause, exc.detail, *_evidence(exc))]
        outcome = Outcome(
            SCHEMA_LAYER,
            "Schemathesis",
            "failed" if findings else "passed",
            time.monotonic() - begun,
            findings,
        )
        result.outcomes.append(outcome)
        listener.check_finished(outcome)


def _evidence(exc: CheckFailure) -> tuple[str, str, str]:
    ex = exc.exchange
    return (ex.describe_request(), ex.describe_response(), ex.curl()) if ex else ("", "", "")


def _cleanup(
    settings: Settings,
    contract: Contract,
    client: ApiClient,
    tracker: Tracker,
    listener: Listener,
    result: Result,
) -> None:
    begun = time.monotonic()
    listener.check_started("cleanup")
    findings: list[Finding] = []
    try:
        problems = delete_everything(client, contract, tracker)
        problems += sweep(client, contract, tracker, settings)
        find_leaks(client, contract, tracker, settings)
        if problems:
            findings.append(
                Finding(
                    "cleanup",
                    LEAK_TITLE,
                    "profile full deletes everything it created",
                    "; ".join(problems),
                )
            )
    except CheckFailure as exc:
        findings.append(
            Finding(
                "cleanup",
                exc.title,
                "profile full deletes everything it created",
                exc.detail,
                *_evidence(exc),
            )
        )
    except ConformanceError as exc:
        findings.append(
            Finding("cleanup", LEAK_TITLE, "profile full deletes everything it created", str(exc))
        )
    outcome = Outcome(
        "cleanup",
        LEAK_TITLE,
        "failed" if findings else "passed",
        time.monotonic() - begun,
        findings,
    )
    result.outcomes.append(outcome)
    listener.check_finished(outcome)
