"""The app factory: wires the spec, the store, security, validation and error shapes together.

Nothing happens at import time; `create_app(settings)` builds a new, independent app each call,
and the database is opened in the app's lifespan and closed (compacted) when it ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from connexion import AsyncApp
from connexion.middleware import MiddlewarePosition
from connexion.resolver import RelativeResolver

from mock_server import control, errors
from mock_server.allow import AllowFromSpec
from mock_server.journal import JournalMiddleware, RequestJournal
from mock_server.limits import BodySizeLimit
from mock_server.namespaces import NamespaceError, NamespaceMiddleware, namespace_error
from mock_server.reload import FixtureWatcher
from mock_server.security import security_map
from mock_server.settings import Settings
from mock_server.state import MockState
from mock_server.storage import Database
from mock_server.store import Store
from mock_server.validation import CollectingJSONBodyValidator
from openapi import CONTROL_SPEC_PATH, SPEC_PATH

logger = logging.getLogger(__name__)


def open_state(settings: Settings, journal: RequestJournal | None = None) -> MockState:
    """Open the database named by the settings, made from the base data (default or `--data`)."""
    return MockState.open(
        settings.db_path,
        settings.data_paths,
        journal=journal if journal is not None else RequestJournal(settings.journal_size),
        max_namespaces=settings.max_namespaces,
        namespace_ttl=settings.namespace_ttl,
    )


def open_store(settings: Settings) -> tuple[Database, Store]:
    """Open (or create from the base data) the database named by the settings."""
    state = open_state(settings)
    return state.db, state.store


def create_app(settings: Settings | None = None) -> AsyncApp:
    """A new mock app for `settings` (defaults: `Settings()`)."""
    settings = settings or Settings()
    journal = RequestJournal(settings.journal_size)

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[dict[str, object]]:
        state = open_state(settings, journal)
        watcher = None
        if settings.reload and settings.data_paths:
            paths = settings.data_paths
            watcher = FixtureWatcher(paths, lambda: state.rebase(paths)).start()
        try:
            yield {"store": state.store, "mock": state}
        finally:
            if watcher is not None:
                watcher.stop()
            state.close()

    app = AsyncApp(
        __name__,
        lifespan=lifespan,
        security_map=security_map(enabled=settings.auth, tokens=settings.tokens),
        validator_map={"body": {"application/json": CollectingJSONBodyValidator}},
    )
    app.add_api(
        SPEC_PATH,
        resolver=RelativeResolver("mock_server.handlers"),
        validate_responses=settings.validate_responses,
        strict_validation=False,
        pythonic_params=False,
    )
    app.add_middleware(
        BodySizeLimit, position=MiddlewarePosition.BEFORE_SWAGGER, max_bytes=settings.max_body_bytes
    )
    # The control API (/__mock/), namespaces and the request journal (issue 8).
    app.add_api(
        CONTROL_SPEC_PATH,
        resolver=RelativeResolver("mock_server.control"),
        validate_responses=settings.validate_responses,
        strict_validation=True,
        pythonic_params=False,
        security_map=control.security_map(
            admin_token=settings.admin_token,
            listens_on_loopback=control.is_loopback(settings.host),
        ),
    )
    # After security, so that only authenticated requests make namespaces; before validation,
    # which must not see `__namespace` and whose rule checks use the namespace's store.
    app.add_middleware(NamespaceMiddleware, position=MiddlewarePosition.BEFORE_VALIDATION)
    # Outermost (but inside ServerErrorMiddleware): they see every answer as the client gets it.
    app.add_middleware(
        JournalMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, journal=journal
    )
    app.add_middleware(
        AllowFromSpec,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        spec_paths=(SPEC_PATH, CONTROL_SPEC_PATH),
    )
    app.add_error_handler(NamespaceError, namespace_error)
    errors.register(app)
    return app
