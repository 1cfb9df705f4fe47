"""The library entry point: `run(settings) -> Result`.

Owns the order of a run (load the contract, reach the server, build the run's data, the semantic
checks, the schema layer) and the promise that, in `full`, everything the run created is deleted
at the end (even when checks fail, the run gives up or is interrupted) and the leak check runs.

The semantic checks are independent of each other (each works on the run's shared data read-only
or on records of its own), so up to `network.concurrency` of them run at once; their outcomes are
reported in registration order whatever order they finish in. A run that cannot go on (retries
ran out, interrupted) still cleans up and hands its partial result over (`RunAborted.result`).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial

from conformance import checks as _checks  # noqa: F401  (registers the checks)
from conformance.cleanup import (
    LEAK_TITLE,
    Leftover,
    Tracker,
    delete_everything,
    find_leaks,
    leftovers,
    read_back,
    sweep,
    write_leftovers,
)
from conformance.client import ApiClient, GaveUp, Network, NoAnswer, Waits
from conformance.config import Profile, Settings
from conformance.contract import load_contract
from conformance.credentials import authenticate
from conformance.failures import CheckFailure, ConformanceError, Finding
from conformance.registry import REGISTRY, Check, CheckContext
from conformance.tls import verify_for
from conformance.world import World, build_world
from openapi.model import ApiModel

logger = logging.getLogger(__name__)

SCHEMA_LAYER = "schema_layer"
# The brief's clauses the schema layer verifies (by clause id), each with the broken reference
# servers whose failure with the layer alone proves it (tests/conformance/
# test_broken_servers.py runs each).
SCHEMA_LAYER_PROOFS: dict[str, tuple[str, ...]] = {
    "errors.no-500": ("server_error_on_bad_page",),
    "create.location": ("location_missing",),
    "auth.required-401": ("auth_not_enforced",),
    "errors.shape": ("error_shape",),
    "page.headers": ("missing_page_header",),
}


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
    aborted: str | None = None  # why the run could not be completed (exit 2), if it could not
    waits: Waits = field(default_factory=Waits)
    leftovers: list[Leftover] = field(default_factory=list)  # records cleanup could not delete

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

    result: Result | None = None  # set when the run ends, completed or not

    def started(self, settings: Settings, names: list[str]) -> None:
        """The run is about to start these checks."""

    def check_started(self, name: str) -> None:
        """A check starts."""

    def note(self, text: str) -> None:
        """Something worth a progress line."""

    def check_finished(self, outcome: Outcome) -> None:
        """A check ended."""

    def finished(self, result: Result) -> None:
        """The run ended, completed or not: `result` is what it found."""
        self.result = result


class RunAborted(ConformanceError):
    """The run started but could not be completed; `result` holds what it found until then."""

    def __init__(self, reason: str, result: Result) -> None:
        super().__init__(reason)
        self.result = result


class _Serialized(Listener):
    """A listener called from several check threads, one call at a time."""

    def __init__(self, inner: Listener) -> None:
        self.inner = inner
        self._lock = threading.Lock()

    def started(self, settings: Settings, names: list[str]) -> None:
        with self._lock:
            self.inner.started(settings, names)

    def check_started(self, name: str) -> None:
        with self._lock:
            self.inner.check_started(name)

    def note(self, text: str) -> None:
        with self._lock:
            self.inner.note(text)

    def check_finished(self, outcome: Outcome) -> None:
        with self._lock:
            self.inner.check_finished(outcome)

    def finished(self, result: Result) -> None:
        with self._lock:
            self.inner.finished(result)


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
    """Check the server at `settings.base_url` against the contract.

    `ConformanceError` when the run cannot start; `RunAborted` (with the partial result) when it
    started but could not be completed, after cleaning up.
    """
    outer = listener or Listener()
    listener = _Serialized(outer)
    started = time.monotonic()
    settings = authenticate(settings)
    contract = load_contract(settings.spec_path)
    tracker = Tracker(contract, settings.run_id)
    network = Network(settings.network)
    client = ApiClient(
        settings.base_url,
        token=settings.token,
        token_in_query=settings.token_in_query,
        may_write=tracker.may_write(settings.profile),
        network=network,
        is_read=tracker.is_read,
        observe=tracker.observe,
        credential=settings.credential,
        verify=verify_for(settings.ca_bundle),
    )
    client.read_back = partial(read_back, client, contract, tracker, settings)
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
    stopped: ConformanceError | None = None
    try:
        _run_all(settings, contract, client, tracker, chosen, run_schema, listener, result)
    except ConformanceError as exc:
        stopped = exc
        result.aborted = str(exc)
    except KeyboardInterrupt:
        result.interrupted = True
        result.aborted = "interrupted"
        raise
    finally:
        try:
            if settings.profile is Profile.FULL:
                listener.note("cleanup: deleting every record this run created")
                _cleanup(settings, contract, client, tracker, listener, result)
        finally:
            result.requests = client.requests
            result.seconds = time.monotonic() - started
            result.waits = network.waits
            client.close()
            listener.finished(result)
    if stopped is not None:
        raise RunAborted(str(stopped), result) from stopped
    if result.aborted is not None:  # the cleanup gave up
        raise RunAborted(result.aborted, result)
    return result


def _preflight(client: ApiClient, contract: ApiModel) -> None:
    try:
        exchange = client.send("POST", contract.root.path("index"), {"per-page": 1})
    except NoAnswer as exc:
        raise ConformanceError(
            f"{client.base_url} did not answer the first request: {exc.detail}"
        ) from exc
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
    contract: ApiModel,
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
    if not run_schema:
        _run_checks(settings, contract, client, tracker, world, chosen, listener, result)
    elif settings.network.concurrency > 1 and settings.network.rate is None:
        # Over a slow link the schema layer is the long pole: it runs beside the checks. It only
        # touches its own records and ghosts, never the data the checks read. (With a rate, the
        # rate is the limit and the phases run one after the other under one pacing.)
        with ThreadPoolExecutor(1, thread_name_prefix="conformance-schema") as side:
            schema = side.submit(_schema_layer, settings, contract, client, tracker, listener)
            try:
                _run_checks(settings, contract, client, tracker, world, chosen, listener, result)
            except BaseException:
                client.network.stopping = True
                raise
            finally:
                if not client.network.stopping:
                    outcome = schema.result()
                    result.outcomes.append(outcome)
                    listener.check_finished(outcome)
    else:
        _run_checks(settings, contract, client, tracker, world, chosen, listener, result)
        outcome = _schema_layer(settings, contract, client, tracker, listener)
        result.outcomes.append(outcome)
        listener.check_finished(outcome)
    if client.network.gave_up is not None:  # the schema layer's requests ran out of retries
        raise GaveUp(client.network.gave_up)


def _schema_layer(
    settings: Settings, contract: ApiModel, client: ApiClient, tracker: Tracker, listener: Listener
) -> Outcome:
    from conformance.schema_layer import run_schema_layer

    listener.check_started(SCHEMA_LAYER)
    begun = time.monotonic()
    notes: list[str] = []
    try:
        findings = run_schema_layer(settings, contract, client, tracker, listener.note, notes)
    except CheckFailure as exc:  # the session the generated children attach to
        clause = "create: 201 with the stored record"
        findings = [Finding(SCHEMA_LAYER, exc.title, clause, exc.detail, *_evidence(exc))]
    return Outcome(
        SCHEMA_LAYER,
        "Schemathesis",
        "failed" if findings else "passed",
        time.monotonic() - begun,
        findings,
        notes,
    )


def _run_checks(
    settings: Settings,
    contract: ApiModel,
    client: ApiClient,
    tracker: Tracker,
    world: World,
    chosen: list[Check],
    listener: Listener,
    result: Result,
) -> None:
    """Run the semantic checks, `network.concurrency` at a time; outcomes in registration order."""
    outcomes: list[Outcome | None] = [None] * len(chosen)

    def one(i: int, check: Check) -> None:
        listener.check_started(check.name)
        outcomes[i] = _run_check(CheckContext(settings, contract, client, world, tracker, check))
        listener.check_finished(outcomes[i])  # type: ignore[arg-type]

    workers = max(1, min(settings.network.concurrency, len(chosen)))
    try:
        if workers == 1:
            for i, check in enumerate(chosen):
                one(i, check)
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="conformance-check") as pool:
            futures = [pool.submit(one, i, check) for i, check in enumerate(chosen)]
            try:
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            except BaseException:  # interrupted: the checks still running stop at their next send
                client.network.stopping = True
                for future in futures:
                    future.cancel()
                raise
            failed = next((f for f in futures if f.done() and f.exception() is not None), None)
            if failed is not None:
                client.network.stopping = True  # the other checks stop at their next request
                for future in futures:
                    future.cancel()
                raise failed.exception()  # type: ignore[misc]
    finally:
        result.outcomes.extend(o for o in outcomes if o is not None)


def _run_check(ctx: CheckContext, tries: int = 2) -> Outcome:
    """Run one check; `ConformanceError` (the run cannot go on) propagates."""
    check = ctx.check
    begun = time.monotonic()
    try:
        check.func(ctx)
    except SystemError as exc:
        # CPython 3.11's parser is not thread-safe and Hypothesis parses source to describe
        # strategies: the interpreter's trouble, never the server's. The check runs again.
        logger.warning("check %s hit an interpreter error", check.name, exc_info=exc)
        if tries > 1:
            return _run_check(ctx, tries - 1)
        ctx.note(f"the check could not run: {exc!r}")
        outcome = Outcome(check.name, check.title, "skipped", time.monotonic() - begun)
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
        detail = f"the server's answers could not be read as the contract describes them: {exc!r}"
        finding = Finding(check.name, check.title, check.clause, detail)
        outcome = Outcome(check.name, check.title, "failed", time.monotonic() - begun, [finding])
    else:
        outcome = Outcome(check.name, check.title, "passed", time.monotonic() - begun)
    outcome.notes = ctx.notes
    return outcome


def _evidence(exc: CheckFailure) -> tuple[str, str, str]:
    ex = exc.exchange
    return (ex.describe_request(), ex.describe_response(), ex.curl()) if ex else ("", "", "")


def _cleanup(
    settings: Settings,
    contract: ApiModel,
    client: ApiClient,
    tracker: Tracker,
    listener: Listener,
    result: Result,
) -> None:
    begun = time.monotonic()
    listener.check_started("cleanup")
    client.network.fresh()  # the cleanup gets retries of its own, even after the run gave up
    clause = "profile full deletes everything it created"
    findings: list[Finding] = []
    notes: list[str] = []
    gone: set[tuple[str, str]] = set()
    try:
        problems = delete_everything(client, contract, tracker, gone)
        problems += sweep(client, contract, tracker, settings, gone)
        find_leaks(client, contract, tracker, settings, gone)
        if problems:
            findings.append(Finding("cleanup", LEAK_TITLE, clause, "; ".join(problems)))
    except GaveUp as exc:
        notes.append(f"cleanup could not finish: {exc}")
        result.aborted = result.aborted or f"cleanup could not finish: {exc}"
    except CheckFailure as exc:
        findings.append(Finding("cleanup", exc.title, clause, exc.detail, *_evidence(exc)))
    except ConformanceError as exc:
        findings.append(Finding("cleanup", LEAK_TITLE, clause, str(exc)))
    finally:
        result.leftovers = leftovers(contract, tracker, gone)
        if result.leftovers:
            ids = ", ".join(f"{r.entity} {r.id}" for r in result.leftovers[:20])
            more = len(result.leftovers) - 20
            where = (
                f"written to {settings.leftovers}; `python -m conformance cleanup --from "
                f"{settings.leftovers}` deletes them"
                if settings.leftovers is not None
                else "give --leftovers PATH to keep them for `python -m conformance cleanup`"
            )
            notes.append(
                f"{len(result.leftovers)} record(s) left on the server ({ids}"
                + (f" and {more} more" if more > 0 else "")
                + f"): {where}"
            )
            if settings.leftovers is not None:
                write_leftovers(
                    settings.leftovers, settings.base_url, settings.run_id, result.leftovers
                )
        status = "failed" if findings else ("skipped" if result.aborted else "passed")
        outcome = Outcome("cleanup", LEAK_TITLE, status, time.monotonic() - begun, findings, notes)
        result.outcomes.append(outcome)
        listener.check_finished(outcome)
