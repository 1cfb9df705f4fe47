"""The operations of the spec: one set of handlers, one instance per resource.

The spec's operationIds (`action_session.view`, ...) name these instances' methods through
Connexion's `RelativeResolver("mock_server.handlers")`. Each entry point takes the request's store
and hands it to the resource's `Operations`, which `mock_server.direct` also calls when it answers
a plain request without Connexion's last layers. Each operation makes one store call and shapes the
HTTP answer; validation is the spec's job and the rules are the store's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from connexion import request
from connexion.lifecycle import ConnexionResponse

from mock_server.database import deferred_durability
from mock_server.rules import Rules

Answer = tuple[Any, int] | tuple[Any, int, dict[str, str]]


def _store() -> Rules:
    store = request.state.store
    assert isinstance(store, Rules)
    return store


class Operations:
    """index, create, view, update and delete of one resource, against the store they are given."""

    def __init__(self, name: str) -> None:
        self.name = name

    # A view reads one record from memory: served on the event loop, it skips the hop to a worker
    # thread and back, which cost about a fifth of a view's time. A write too makes its change in
    # memory on the loop, then awaits its fsync (shared with other writes) without holding it.
    # The index stays a plain `def`, on a worker thread: its first search on a field builds the
    # catalog's structures (seconds at 100,000 sessions), which must not hold the loop.
    def index(self, store: Rules, body: dict[str, Any] | None = None) -> Answer:
        page = store.index(self.name, body or {})
        return page.items, 200, page.headers()

    async def create(self, store: Rules, body: dict[str, Any]) -> Answer:
        with deferred_durability() as saved:
            record = store.create(self.name, body)
        await saved.wait()  # answered only once the change is on disk
        resource = store.resource(self.name)
        # Percent-encoded: an id may hold characters a header cannot carry as they are.
        location = resource.path("view", quote(record[resource.id_field], safe=""))
        return record, 201, {"Location": location}

    async def view(self, store: Rules, id: str) -> Answer:  # noqa: A002 - the spec's name
        return store.view(self.name, id), 200

    async def update(self, store: Rules, id: str, body: dict[str, Any]) -> Answer:  # noqa: A002
        with deferred_durability() as saved:
            record = store.update(self.name, id, body)
        await saved.wait()
        return record, 200

    async def delete(self, store: Rules, id: str, force: bool = False) -> ConnexionResponse:  # noqa: A002
        with deferred_durability() as saved:
            store.delete(self.name, id, force=force)
        await saved.wait()
        return ConnexionResponse(status_code=204)


class ResourceHandlers:
    """Connexion's entry points for one resource: the request's store, then the operation.

    Connexion reads these signatures to know which parameters to pass, so they name the spec's
    parameters (`id`, `body`, `force`) and nothing else.
    """

    def __init__(self, name: str) -> None:
        self.operations = Operations(name)

    def index(self, body: dict[str, Any] | None = None) -> Answer:
        return self.operations.index(_store(), body)

    async def create(self, body: dict[str, Any]) -> Answer:
        return await self.operations.create(_store(), body)

    async def view(self, id: str) -> Answer:  # noqa: A002
        return await self.operations.view(_store(), id)

    async def update(self, id: str, body: dict[str, Any]) -> Answer:  # noqa: A002
        return await self.operations.update(_store(), id, body)

    async def delete(self, id: str, force: bool = False) -> ConnexionResponse:  # noqa: A002
        return await self.operations.delete(_store(), id, force=force)


action_session = ResourceHandlers("action_session")
action_session_subscription = ResourceHandlers("action_session_subscription")
action_session_date = ResourceHandlers("action_session_date")
