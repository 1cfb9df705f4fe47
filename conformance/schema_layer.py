"""The schema layer, through Schemathesis: status codes, content types, headers, bodies, negative
and positive data, auth, undocumented methods, and use-after-free and availability via links.

Owns the Schemathesis configuration of a run (budget, seed, workers, credential, the one tuning
the contract justifies: a schema-valid request may name a record that does not exist and answer
404/409/422, and a delete may be refused with 400 while related records exist), the safety guard
every generated request passes through (ids it did not create become ghost ids, new records are
marked and tracked, children attach to the run's own session), two suite checks applied to every
generated response (pagination headers, error shape), and turning Schemathesis failures into
`Finding`s.

On a real network every generated request goes through the run's `Network`: it waits for the
rate, a 429 or 503 is waited out and sent again before Schemathesis sees it (a gateway's answer is
not the server's), reads that got no answer are retried, and a request that still got none is a
finding of the layer. Retries running out stop the layer; the runner ends the run (exit 2).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.engine import events, from_schema

# Imported here, once, rather than lazily by engines running side by side: an import can parse
# source (pytest rewrites the asserts of plugins, Schemathesis is one), and CPython 3.11's
# parser is not safe to run in two threads at once.
from schemathesis.engine.run import stateful as _stateful  # noqa: F401
from schemathesis.engine.run import unit as _unit  # noqa: F401
from schemathesis.engine.run.stateful import _executor as _stateful_executor  # noqa: F401

from conformance import world as world_module
from conformance.checks.errors import SHAPE_TITLE, shape_problem
from conformance.checks.pagination import HEADERS_TITLE
from conformance.cleanup import Tracker
from conformance.client import (
    NO_ANSWER_TITLE,
    RETRY_STATUSES,
    ApiClient,
    GaveUp,
    Network,
    id_from_location,
    redact,
)
from conformance.config import DEFAULT_PHASES, Profile, Settings
from conformance.credentials import Credential
from conformance.failures import ConformanceError, Finding
from conformance.guesses import locate, marked
from conformance.index import paging_problems
from openapi.model import ApiModel, Resource

logger = logging.getLogger(__name__)

NAME = "schema_layer"
WRITE_OPERATIONS = ("create", "update", "delete")


class Guard:
    """Rewrites every generated request so it only touches the run's own records."""

    def __init__(
        self,
        settings: Settings,
        contract: ApiModel,
        tracker: Tracker,
        anchor: str | None,
        client: ApiClient | None = None,
    ) -> None:
        self.settings = settings
        self.contract = contract
        self.tracker = tracker
        self.anchor = anchor
        self.client = client
        self._by_template: dict[str, tuple[Resource, str]] = {
            template: (res, op)
            for res in contract.resources.values()
            for op, template in res.paths.items()
        }

    def prepare(self, case: Any) -> None:
        """Make `case` safe to send (called by the `before_call` hook)."""
        found = self._by_template.get(case.operation.path)
        if found is None:
            return
        resource, operation = found
        params = case.path_parameters or {}
        record_id = params.get("id")
        is_read = operation == "view" and case.method.upper() == "GET"
        if (
            record_id is not None
            and not is_read
            and not (isinstance(record_id, str) and self.tracker.owns(resource, record_id))
        ):
            params["id"] = self.tracker.ghost()
        if operation in ("create", "update") and isinstance(case.body, dict):
            self._mark(resource, case.body)

    def _mark(self, resource: Resource, body: dict[str, Any]) -> None:
        """Mark and re-point a body without changing whether it is valid: only values that
        already satisfy their schema are replaced, by other valid values."""
        refs = self.settings.references
        if "data" in resource.writable:
            data = body.get("data")
            if data is None or isinstance(data, dict):
                body["data"] = {**(data or {}), **self.settings.marker}
        replacements = {
            "action_id": refs.action_id,
            "tenant_id": refs.tenant_id,
            "subtenant_id": refs.subtenant_id,
        }
        parent = resource.parent_field
        if parent is not None and self.anchor is not None:
            owned = isinstance(body.get(parent), str) and self.tracker.owns(
                self.contract.root, body[parent]
            )
            if not owned:
                replacements[parent] = self.anchor
        for name, value in replacements.items():
            kind = resource.writable.get(name)
            if kind is not None and kind.admits(body.get(name)) and kind.admits(value):
                body[name] = value

    def observe(self, case: Any, response: Any) -> None:
        """Track what a generated create made (called by the `after_call` hook)."""
        found = self._by_template.get(case.operation.path)
        if found is None or found[1] != "create" or response.status_code != 201:
            return
        resource = found[0]
        try:
            body = response.json()
        except Exception:
            body = None
        record_id = body.get(resource.id_field) if isinstance(body, dict) else None
        if not isinstance(record_id, str):
            location = response.headers.get("location") or response.headers.get("Location")
            record_id = id_from_location(location[0] if isinstance(location, list) else location)
        if record_id:
            self.tracker.add(resource, record_id)


CLAUSES = {
    "not_a_server_error": "no 500 for any input a client can send",
    "status_code_conformance": "the statuses the spec documents for the operation",
    "content_type_conformance": "the response content type the spec documents",
    "response_headers_conformance": "the response headers the spec documents",
    "response_schema_conformance": "the response body schema the spec documents",
    "negative_data_rejection": "a request the spec does not admit is rejected (4xx)",
    "positive_data_acceptance": "a request the spec admits is accepted",
    "missing_required_header": "a request without a required header is rejected",
    "ignored_auth": "missing or unrecognised credentials: 401",
    "unsupported_method": "405 carries Allow: only the methods the spec declares are served",
    "allow_header_conformance": "405 carries Allow naming the declared methods",
    "use_after_free": "a deleted record is gone (view 404)",
    "ensure_resource_availability": "a created record is available through the spec's links",
    "conformance_pagination_headers": "index: the four X-Pagination-* headers agree with the body",
    "conformance_error_shape": "errors: one body shape per status",
}

# The Schemathesis checks whose verdict rests on the request's constraints.
_ON_INPUT = frozenset({"negative_data_rejection", "positive_data_acceptance"})

_ACTIVE: Guard | None = None
_ACTIVE_LOCK = threading.Lock()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Route every generated request through the active run's guard and network (inert outside
    a run)."""
    guard = _ACTIVE
    if guard is not None:
        guard.prepare(case)
        if guard.client is not None:
            network = guard.client.network
            network.check()
            network.acquire()
            # requests runs response hooks before Schemathesis sees the answer: a 429 or 503
            # is waited out there and the same prepared request sent again.
            kwargs["hooks"] = {"response": [partial(_wait_out_throttling, guard.client)]}


def _wait_out_throttling(client: ApiClient, response: Any, *args: Any, **kwargs: Any) -> Any:
    """A requests response hook: send the request again while the answer is 429 or 503."""
    network: Network = client.network
    attempt, waited = 0, 0.0
    while response.status_code in RETRY_STATUSES:
        delay = network.wait_out(
            response.status_code, response.headers.get("Retry-After"), attempt, waited
        )
        network.check()
        network.acquire()
        _ = response.content  # read the answer so its connection can be reused
        response.close()
        request = response.request.copy()
        again = response.connection.send(request, **kwargs)
        client.count()
        again.history.append(response)
        again.request = request
        response = again
        attempt, waited = attempt + 1, waited + delay
    return response


@schemathesis.check
def conformance_pagination_headers(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 200 index answer has integer paging headers that agree with its body."""
    guard = _ACTIVE
    if guard is None or response.status_code != 200 or not case.operation.path.endswith("/index"):
        return None
    if case.method.upper() != case.operation.method.upper():
        return None
    pag = guard.contract.pagination
    numbers: dict[str, int] = {}
    for name in (pag.total, pag.page_count, pag.current_page, pag.per_page):
        raw = response.headers.get(name) or response.headers.get(name.lower())
        raw = raw[0] if isinstance(raw, list) else raw
        try:
            numbers[name] = int(raw)
        except (TypeError, ValueError):
            raise Failure(
                operation=case.operation.label,
                title=HEADERS_TITLE,
                message=f"missing or non-integer {name}",
            ) from None
    total, pages, current, per_page = (
        numbers[n] for n in (pag.total, pag.page_count, pag.current_page, pag.per_page)
    )
    try:
        body = response.json()
    except Exception:
        return None
    if not isinstance(body, list):
        return None
    problems = paging_problems(pag, total, pages, current, per_page, len(body))
    if problems:
        raise Failure(
            operation=case.operation.label, title=HEADERS_TITLE, message="; ".join(problems)
        )
    return None


@schemathesis.check
def conformance_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error answer has the shape of its status."""
    guard = _ACTIVE
    if guard is None or response.status_code < 400 or response.status_code >= 500:
        return None
    try:
        body = response.json()
    except Exception:
        body = None
    problem = shape_problem(guard.contract, response.status_code, body)
    if problem is not None:
        raise Failure(operation=case.operation.label, title=SHAPE_TITLE, message=problem)
    return None


def _rate(rate: float) -> str:
    """`rate` requests per second as Schemathesis writes a rate limit (whole requests per unit)."""
    return f"{int(rate)}/s" if rate >= 1 else f"{max(1, int(rate * 60))}/m"


def _config(settings: Settings, contract: ApiModel) -> dict[str, Any]:
    budget = settings.budget
    no_reuse = {"extra-data-sources": {"responses": False}}
    config: dict[str, Any] = {
        "base-url": settings.base_url,
        "seed": settings.seed,
        "workers": settings.schema_workers,
        # Schemathesis' own limiter also paces the probes its checks send outside `before_call`.
        **({"rate-limit": _rate(settings.network.rate)} if settings.network.rate else {}),
        "request-timeout": settings.network.timeout,
        "generation": {"max-examples": budget.max_examples, "database": "none"},
        "checks": {
            # A schema-valid request may name a record that does not exist (404, 422) or an id
            # already taken (409); nothing else justifies refusing valid data.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
            },
        },
        "phases": {
            "examples": {**no_reuse, "enabled": "examples" in budget.phases},
            "coverage": {**no_reuse, "enabled": "coverage" in budget.phases},
            "fuzzing": {**no_reuse, "enabled": "fuzzing" in budget.phases},
            "stateful": {
                "enabled": settings.profile is Profile.FULL,
                "max-steps": max(budget.stateful_steps, 2),
            },
        },
        "operations": [],
    }
    # Schemathesis masks every member whose name holds "session" (`action_session_id`), which
    # makes its curl lines unusable here; the credential is hidden by `conformance.redact`.
    config["output"] = {
        "sanitization": {
            "keys-to-sanitize": ["authorization", "cookie", "set-cookie", "access-token"],
            "sensitive-markers": ["token", "secret", "password", "passwd", "auth", "credential"],
        }
    }
    if settings.ca_bundle is not None:
        config["tls-verify"] = str(settings.ca_bundle)
    if settings.token is not None and settings.oauth is None:
        schemes = contract.security_schemes
        if settings.token_in_query:
            name = next((n for n, s in schemes.items() if s.get("type") == "apiKey"), "accessToken")
            config["auth"] = {"openapi": {name: {"api_key": settings.token}}}
        else:
            name = next(
                (n for n, s in schemes.items() if s.get("scheme") == "bearer"), "bearerAuth"
            )
            config["auth"] = {"openapi": {name: {"bearer": settings.token}}}
    reads = [r.paths[op] for r in contract.resources.values() for op in ("index", "view")]
    if settings.network.max_retries > 0:
        # Reads that got no answer are sent again (Schemathesis' own retries, with its backoff);
        # writes never are: one that got no answer may have landed.
        retries = min(settings.network.max_retries, 2)
        config["operations"].append({"include-path": reads, "request-retries": retries})
    deletes = [r.paths["delete"] for r in contract.resources.values()]
    config["operations"].append(
        {
            "include-path": deletes,
            # A documented outcome of a valid delete: refused while related records exist.
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404"]
                }
            },
        }
    )
    if settings.profile is Profile.SAFE:
        writes = [r.paths[op] for r in contract.resources.values() for op in WRITE_OPERATIONS]
        config["operations"].append({"include-path": writes, "enabled": False})
    return config


def _renewing_bearer(schema: Any, credential: Credential) -> None:
    """Send the credential's current token (renewed as it expires) on every generated request."""

    class Bearer:
        def get(self, case: Any, ctx: Any) -> str:
            return credential.current()

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    # No caching by Schemathesis: the credential itself knows when its token expires.
    schema.auth(refresh_interval=None)(Bearer)


def run_schema_layer(
    settings: Settings,
    contract: ApiModel,
    client: ApiClient,
    tracker: Tracker,
    on_progress: Callable[[str], None] | None = None,
    notes: list[str] | None = None,
) -> list[Finding]:
    """Run Schemathesis over the whole spec; the distinct failures it found.

    What Schemathesis could not do (an error that is not the server's) is added to `notes`.
    """
    global _ACTIVE
    anchor = None
    if settings.profile is Profile.FULL:
        session, _ = world_module.new_family(
            settings,
            contract,
            client,
            tracker,
            "Could not create the records the checks need",
            seq=90,
        )
        anchor = session[contract.root.id_field]
    guard = Guard(settings, contract, tracker, anchor, client)
    config = _config(settings, contract)
    stateful = config["phases"]["stateful"]["enabled"]
    if settings.schema_workers > 1 and stateful and settings.network.rate is None:
        # The stateful phase runs on one thread whatever the workers: over a slow link it is
        # the long pole, so it runs beside the other phases, in an engine of its own. (With a
        # rate the rate is the limit, and one engine keeps Schemathesis' pacing in one place.)
        alone = copy.deepcopy(config)
        for phase in DEFAULT_PHASES:
            alone["phases"][phase]["enabled"] = phase == "stateful"
        config["phases"]["stateful"]["enabled"] = False
        configs = [config, alone]
    else:
        configs = [config]
    findings: dict[tuple[str, str, str, str], Finding] = {}
    crashed: dict[str, str] = {}  # operation label -> what Schemathesis could not do
    lock = threading.Lock()
    with _ACTIVE_LOCK:
        _ACTIVE = guard
        try:
            _drain_all(settings, guard, configs, findings, lock, on_progress, crashed)
            retry = {label: why for label, why in crashed.items() if " /" in label}
            if retry and settings.schema_workers > 1 and client.network.gave_up is None:
                # CPython 3.11's parser is not safe to call from several threads at once (a
                # "SystemError: AST constructor recursion depth mismatch" Hypothesis can hit
                # while describing strategies): the operations it stopped are tested again,
                # on one worker, so that the layer's coverage does not depend on the race.
                again = _retry_config(configs[0], [label.split(" ", 1)[1] for label in retry])
                still: dict[str, str] = {}
                _drain_all(settings, guard, [again], findings, lock, None, still)
                for label in retry:
                    if label not in still:
                        del crashed[label]
                        if notes is not None:
                            notes.append(
                                f"Schemathesis stopped on {label} with several workers "
                                f"({retry[label].split(': ', 1)[-1]}); it was tested again on one"
                            )
        finally:
            _ACTIVE = None
    if notes is not None:
        notes.extend(why for why in crashed.values() if why not in notes)
    # In a stable order, whatever order the workers found them in.
    return [findings[key] for key in sorted(findings)]


def _retry_config(config: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """`config` on one worker, without the stateful phase, for the operations at `paths` only."""
    again = copy.deepcopy(config)
    again["workers"] = 1
    again["phases"]["stateful"]["enabled"] = False
    # First, so that no broader entry decides for the other operations before this one.
    again["operations"].insert(0, {"exclude-path": sorted(set(paths)), "enabled": False})
    return again


def _drain_all(
    settings: Settings,
    guard: Guard,
    configs: list[dict[str, Any]],
    findings: dict[tuple[str, str, str, str], Finding],
    lock: threading.Lock,
    on_progress: Callable[[str], None] | None,
    crashed: dict[str, str],
) -> None:
    """Run an engine per config, side by side, each to its end.

    An engine that dies of a `SystemError` (CPython 3.11's parser raced another thread: under
    pytest, importing a module parses it) runs again, alone and on one worker.
    """
    client = guard.client
    assert client is not None
    document = guard.contract.document
    schemas = [_load(settings, guard, config) for config in configs]
    failed: list[tuple[dict[str, Any], SystemError]] = []
    with ThreadPoolExecutor(len(schemas), thread_name_prefix="schema-layer") as pool:
        running = [
            (
                config,
                pool.submit(_drain, schema, client, findings, lock, on_progress, crashed, document),
            )
            for config, schema in zip(configs, schemas, strict=True)
        ]
        for config, future in running:
            try:
                future.result()
            except SystemError as exc:
                logger.warning("a Schemathesis engine died; running it again", exc_info=exc)
                failed.append((config, exc))
    for config, error in failed:
        alone = copy.deepcopy(config)
        alone["workers"] = 1
        schema = _load(settings, guard, alone)
        _drain(schema, client, findings, lock, on_progress, crashed, document)
        crashed[f"engine {id(config)}"] = (
            f"a Schemathesis engine stopped ({error!r}) and ran again on one worker"
        )


def _load(settings: Settings, guard: Guard, config: dict[str, Any]) -> Any:
    try:
        schema = schemathesis.openapi.from_path(
            str(settings.spec_path), config=SchemathesisConfig.from_dict(config)
        )
    except Exception as exc:
        raise ConformanceError(f"Schemathesis cannot load the spec: {exc}".splitlines()[0]) from exc
    schema.hooks.register_hook_with_name(
        lambda context, case, response: guard.observe(case, response), "after_call"
    )
    if settings.oauth is not None and settings.credential is not None:
        _renewing_bearer(schema, settings.credential)
    return schema


def _drain(
    schema: Any,
    client: ApiClient,
    findings: dict[tuple[str, str, str, str], Finding],
    lock: threading.Lock,
    on_progress: Callable[[str], None] | None,
    crashed: dict[str, str],
    document: dict[str, Any],
) -> None:
    """Run one Schemathesis engine to the end, collecting its findings, and what it could not
    do in `crashed` (by operation label)."""
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished) and on_progress is not None:
            name = getattr(event.phase.name, "value", event.phase.name)
            if name in DEFAULT_PHASES and event.phase.is_enabled:
                done = f"{name} phase done, {client.requests} requests so far"
                on_progress(f"schema layer: {done}")
        elif isinstance(event, events.ScenarioFinished):
            client.count(len(event.recorder.interactions))
            with lock:
                _collect(event, findings, document, client.token)
        elif isinstance(event, events.FatalError):
            raise ConformanceError(f"Schemathesis stopped: {event.exception}".splitlines()[0])
        elif isinstance(event, events.Interrupted):
            raise KeyboardInterrupt
        elif isinstance(event, events.NonFatalError):
            with lock:
                problem = _non_fatal(event, client, findings)
                if problem is not None:
                    crashed.setdefault(event.label, problem)


def _collect(
    event: events.ScenarioFinished,
    findings: dict[tuple[str, str, str, str], Finding],
    document: dict[str, Any],
    token: str | None = None,
) -> None:
    """Turn the failures of one scenario into findings; the run's credential becomes $TOKEN."""
    recorder = event.recorder
    for case_id, nodes in recorder.checks.items():
        for node in nodes:
            info = node.failure_info
            if info is None:
                continue
            failure = info.failure
            # Only whether a probe was accepted or refused rests on the constraint it probed;
            # a server error, a wrong status or a bad response body are failures whatever it was.
            pointer = _pointer(document, recorder, case_id) if node.name in _ON_INPUT else None
            # A failure resting on a guessed clause must not hide one that rests on a known one.
            guess = marked(document, pointer) if pointer else None
            pointer = pointer if guess else None  # a known constraint needs no pointer
            key = (
                failure.title,
                failure.operation or recorder.label,
                node.name,
                guess.id if guess else "",
            )
            if key in findings or _throttled(recorder, case_id):
                continue
            interaction = recorder.interactions.get(case_id)
            request_text = response_text = ""
            if interaction is not None:
                req = interaction.request
                request_text = f"{req.method} {req.uri}"
                if req.body:
                    request_text += "\n" + req.body.decode("utf-8", "replace")[:1200]
                if interaction.response is not None:
                    resp = interaction.response
                    response_text = (
                        f"{resp.status_code}\n"
                        + (resp.content or b"").decode("utf-8", "replace")[:1200]
                    )
            findings[key] = Finding(
                check=NAME,
                title=failure.title,
                clause=(
                    f"{CLAUSES.get(node.name, 'the OpenAPI document')} "
                    f"[Schemathesis `{node.name}` on {failure.operation or recorder.label}, "
                    f"{getattr(event.phase, 'value', event.phase)} phase]"
                ),
                detail=failure.message,
                request=redact(request_text, token),
                response=response_text,
                # Schemathesis masks the credential; name it as the suite's own curl lines do.
                curl=redact(
                    info.code_sample.replace(
                        "'Authorization: [Filtered]'", '"Authorization: Bearer $TOKEN"'
                    ).replace("access-token=[Filtered]", "access-token=$TOKEN"),
                    token,
                ),
                pointer=pointer or "",
            )


def _pointer(document: dict[str, Any], recorder: Any, case_id: str) -> str | None:
    """The spec node the coverage phase aimed the failing case at (None for other phases)."""
    node = recorder.cases.get(case_id)
    phase = getattr(getattr(getattr(node, "value", None), "meta", None), "phase", None)
    data = getattr(phase, "data", None)
    location = getattr(data, "location", None)
    if node is None or not isinstance(location, str):
        return None
    where = getattr(data, "parameter_location", None)
    operation = node.value.operation
    return locate(
        document,
        operation.method,
        operation.path,
        location=location,
        parameter=getattr(data, "parameter", None),
        parameter_in=getattr(where, "value", where),
    )


def _throttled(recorder: Any, case_id: str) -> bool:
    """Whether the case, or a probe a check sent on its behalf, was answered 429 or 503: that is
    the gateway's answer, not the server's, and proves nothing about the contract. (The requests
    Schemathesis sends itself, outside `before_call`, are not waited out.)"""
    related = {case_id} | {
        cid for cid, node in recorder.cases.items() if getattr(node, "parent_id", None) == case_id
    }
    for cid in related:
        interaction = recorder.interactions.get(cid)
        response = getattr(interaction, "response", None)
        if response is not None and response.status_code in RETRY_STATUSES:
            return True
    return False


def _non_fatal(
    event: events.NonFatalError,
    client: ApiClient,
    findings: dict[tuple[str, str, str, str], Finding],
) -> str | None:
    """A generated request that got no answer is a finding; giving up is the runner's business;
    anything else is Schemathesis' own trouble, returned as a note."""
    error = event.value
    if isinstance(error, GaveUp) or client.network.gave_up is not None:
        return None
    if isinstance(error, requests.Timeout | requests.ConnectionError) and not isinstance(
        error, requests.ConnectTimeout
    ):
        key = (NO_ANSWER_TITLE, event.label, "no_answer", "")
        if key in findings:
            return None
        request = getattr(error, "request", None)
        sent = (
            f"{request.method} {_redact(client, str(request.url))}"
            if request is not None
            else event.label
        )
        findings[key] = Finding(
            check=NAME,
            title=NO_ANSWER_TITLE,
            clause=f"every request is answered [Schemathesis on {event.label}]",
            detail=f"{sent}: {str(error).splitlines()[0] if str(error) else type(error).__name__}",
            request=sent,
            response="no answer",
            curl=_redact(client, event.info.code_sample or ""),
        )
        return None
    logger.warning("schema layer error on %s: %r", event.label, error, exc_info=error)
    text = _redact(client, f"{error!r}".splitlines()[0][:300])
    return f"Schemathesis could not test {event.label}: {event.info.title}: {text}"


def _redact(client: ApiClient, text: str) -> str:
    return redact(text, client.token)
