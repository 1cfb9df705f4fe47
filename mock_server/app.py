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

from mock_server import errors
from mock_server.default_data import default_data
from mock_server.limits import BodySizeLimit
from mock_server.resources import ID_FIELDS
from mock_server.security import security_map
from mock_server.settings import Settings
from mock_server.storage import Database
from mock_server.store import Store
from mock_server.validation import CollectingJSONBodyValidator
from openapi import SPEC_PATH

logger = logging.getLogger(__name__)


def open_store(settings: Settings) -> tuple[Database, Store]:
    """Open (or create from the default data) the database named by the settings."""
    db = Database(settings.db_path, ID_FIELDS, Store.indexes())
    db.open(default_data)
    return db, Store(db)


def create_app(settings: Settings | None = None) -> AsyncApp:
    """A new mock app for `settings` (defaults: `Settings()`)."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[dict[str, Store]]:
        db, store = open_store(settings)
        try:
            yield {"store": store}
        finally:
            db.close()

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
    errors.register(app)
    return app
