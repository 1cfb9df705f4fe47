"""The app factory: wires the spec, the store, security, validation and error shapes together.

Nothing happens at import time; `create_app(settings)` builds a new, independent app each call,
and the database is opened in the app's lifespan and closed (compacted) when it ends.

The request path, outermost first: the operation matched once (`matching`), the Host check, CORS
(so that every answer, errors included, reaches a page on another origin), nosniff, network
steering (latency, delays, faults), Connexion's error boundary, body size and media type, routing,
security, answer steering (forced statuses, failures), validation, the handlers (called directly
for plain requests: `direct`). Connexion's per-operation set-up (decorators, parameter and body
validators) is built once per operation, not per request (`framework`).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from connexion.exceptions import InvalidSpecification
from connexion.middleware import MiddlewarePosition
from connexion.resolver import RelativeResolver

from mock_server import control, error_responses
from mock_server.allow import AllowFromSpec
from mock_server.cors import CORSMiddleware
from mock_server.database import Database
from mock_server.direct import DirectOperations
from mock_server.framework import CompiledParameterValidator, LeanAsyncApp
from mock_server.hosts import LOOPBACK_NAMES, AllowedHosts, is_loopback
from mock_server.limits import BodySizeLimit
from mock_server.matching import LineBreaksInControlPaths, MatchOperation
from mock_server.media import NoSniff, RequestMediaType
from mock_server.namespaces import (
    CONTROL_PREFIX,
    NamespaceError,
    NamespaceMiddleware,
    namespace_error,
)
from mock_server.reload import FileWatcher, SpecReloader
from mock_server.request_journal import JournalMiddleware, RequestJournal
from mock_server.resources import MockApi, read_mock_api
from mock_server.rules import Rules
from mock_server.security import security_map
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.steering import (
    PREFERENCE_APPLIED,
    AnswerSteering,
    ConnectionHandle,
    NetworkSteering,
)
from mock_server.validation import CollectingJSONBodyValidator
from openapi import CONTROL_SPEC_PATH
from openapi.document import SpecError
from openapi.model import Spec, read_spec

EXPOSED_HEADERS = ("Allow", PREFERENCE_APPLIED)
"""Headers the mock itself adds that a page may need to read, beside those the spec declares."""

logger = logging.getLogger(__name__)


def open_state(
    settings: Settings, journal: RequestJournal | None = None, api: MockApi | None = None
) -> MockState:
    """Open the database named by the settings, made from the base data (default or `--data`)."""
    return MockState.open(
        settings.db_path,
        settings.data_paths,
        journal=journal if journal is not None else RequestJournal(settings.journal_size),
        max_namespaces=settings.max_namespaces,
        namespace_ttl=settings.namespace_ttl,
        api=api or read_mock_api(settings.spec_path),
    )


def open_store(settings: Settings, api: MockApi | None = None) -> tuple[Database, Rules]:
    """Open (or create from the base data) the database named by the settings."""
    state = open_state(settings, api=api)
    return state.db, state.store


def create_app(settings: Settings | None = None) -> LeanAsyncApp | SpecReloader:
    """A new mock app for `settings` (defaults: `Settings()`).

    With `settings.reload`, the app is a `SpecReloader` that serves a Connexion app rebuilt from
    the spec each time the file changes; the state (opened once, in the first app's lifespan)
    carries over.
    """
    settings = settings or Settings()
    # The packaged spec's API is read once per process: the command line has read it already.
    api = read_mock_api(settings.spec_path)
    spec = api.model.spec
    journal = RequestJournal(settings.journal_size)
    reloader = (
        SpecReloader(settings.spec_path, lambda s, a: _connexion_app(settings, s, a, journal))
        if settings.reload
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[dict[str, object]]:
        state = open_state(settings, journal, api)
        app.note_checked()
        watchers = []
        if settings.reload and settings.data_paths:
            paths = settings.data_paths
            watchers.append(FileWatcher(paths, lambda: state.rebase(paths)).start())
        if reloader is not None:
            watchers.append(FileWatcher((settings.spec_path,), lambda: reloader.reload(state)))
            watchers[-1].start()
        try:
            yield {"store": state.store, "mock": state}
        finally:
            for watcher in watchers:
                watcher.stop()
            state.close()

    app = _connexion_app(settings, spec, api, journal, lifespan)
    if reloader is None:
        return app
    reloader.serve(app)
    return reloader


def _add_api(app: LeanAsyncApp, spec: Spec, **options: Any) -> None:
    """Serve `spec` on `app`; a document Connexion refuses is a `SpecError` naming the file."""
    try:
        app.add_checked_api(copy.deepcopy(spec.document), **options)
    except InvalidSpecification as exc:
        # Connexion's message is jsonschema's, schema dump included: the first line and where.
        where = ".".join(str(part) for part in exc.path) or "the document's root"
        raise SpecError(
            f"{spec.path}: not a valid OpenAPI 3.0 document: {exc.message} (at {where})"
        ) from exc


def _connexion_app(
    settings: Settings,
    spec: Spec,
    api: MockApi,
    journal: RequestJournal,
    lifespan: Callable[[Any], AbstractAsyncContextManager[dict[str, object]]] | None = None,
) -> LeanAsyncApp:
    """The Connexion app serving `spec`: routes, security, validation, middlewares."""
    app = LeanAsyncApp(
        __name__,
        # In the database's folder, for every database in it: which specs passed Connexion's
        # check (a fresh database is a common start, and the specs are the same).
        checked_stamp=settings.db_path.with_name(".mock-spec-checked"),
        lifespan=lifespan,
        security_map=security_map(mode=settings.auth, tokens=settings.tokens),
        validator_map={
            "parameter": CompiledParameterValidator,
            "body": {"application/json": CollectingJSONBodyValidator},
        },
    )
    control_spec = read_spec(CONTROL_SPEC_PATH)
    # The documents as the kit read them, not the files: Connexion's own reading (pure-Python
    # YAML) took 0.6 s of every start. The contract's `$ref`s are local (`openapi.document`
    # resolves no other kind), so no base URI is lost. Copies: Connexion fills in defaults.
    _add_api(
        app,
        spec,
        resolver=RelativeResolver("mock_server.handlers"),
        validate_responses=settings.validate_responses,
        strict_validation=False,
        pythonic_params=False,
    )
    # Middlewares added at one position run in the order added, the first outermost.
    app.add_middleware(ConnectionHandle, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(MatchOperation, position=MiddlewarePosition.BEFORE_EXCEPTION, spec=spec)
    if is_loopback(settings.host) or settings.allowed_hosts:
        app.add_middleware(
            AllowedHosts,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            names=(*LOOPBACK_NAMES, settings.host, *settings.allowed_hosts),
        )
    if settings.cors:
        app.add_middleware(
            CORSMiddleware,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            origins=settings.cors_origins,
            methods=spec.methods(),
            expose_headers=sorted(spec.response_headers()) + list(EXPOSED_HEADERS),
        )
    app.add_middleware(NoSniff, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # The journal sees every request that reached the mock, faults and delays included, and
    # every answer as the client gets it but for the CORS headers.
    app.add_middleware(
        JournalMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, journal=journal
    )
    app.add_middleware(
        AllowFromSpec,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        specs=(spec, control_spec),
    )
    app.add_middleware(
        NetworkSteering,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        spec=spec,
        latency_ms=settings.latency_ms,
        seed=settings.seed,
    )
    app.add_middleware(
        BodySizeLimit,
        position=MiddlewarePosition.BEFORE_SWAGGER,
        max_bytes=settings.max_body_bytes,
        larger={f"{CONTROL_PREFIX}/import": settings.max_import_bytes},
    )
    app.add_middleware(RequestMediaType, position=MiddlewarePosition.BEFORE_SWAGGER)
    app.add_middleware(
        LineBreaksInControlPaths, position=MiddlewarePosition.BEFORE_SWAGGER, spec=control_spec
    )
    # The control API (/__mock/), namespaces and the request journal (issue 8).
    _add_api(
        app,
        control_spec,
        resolver=RelativeResolver("mock_server.control"),
        validate_responses=settings.validate_responses,
        strict_validation=True,
        pythonic_params=False,
        security_map=control.security_map(
            admin_token=settings.admin_token,
            listens_on_loopback=is_loopback(settings.host),
        ),
    )
    # After security, so that only authenticated requests make namespaces; before validation,
    # which must not see `__namespace` and whose rule checks use the namespace's store.
    app.add_middleware(NamespaceMiddleware, position=MiddlewarePosition.BEFORE_VALIDATION)
    app.add_middleware(
        AnswerSteering,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        spec=spec,
        pagination=api.pagination,
        fail_rate=settings.fail_rate,
        fail_status=settings.fail_status,
        seed=settings.seed,
    )
    # After validation, of requests and of answers (`--validate-responses`): a plain request
    # skips only Connexion's context, second routing and handler decorators (`direct`).
    app.add_middleware(DirectOperations, position=MiddlewarePosition.BEFORE_CONTEXT, spec=spec)
    app.add_error_handler(NamespaceError, namespace_error)
    error_responses.register(app)
    return app
