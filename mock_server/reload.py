"""`--reload`: watch the spec and the `--data` fixture files, and apply an edit without losing the state.

A thread polls the files' modification times (`FileWatcher`). When one changes (and has stopped
changing), it is read and checked again, and a bad edit is logged with every problem and not
applied:

- fixture files: a good edit becomes the new base data, and the records it changed, added or
  removed are applied to the shared state, whose other changes are kept (`MockState.rebase`);
- the spec: Connexion builds routes and validators once per app, so `SpecReloader` builds a new
  app from the edited spec and serves every new request with it, over the same state (database,
  namespaces, snapshots, journal). A member added to a record schema is stored and answered from
  then on. An edit that changes a table's id field or parent reference is refused: the stored
  records and their indexes are keyed by them (restart with a fresh `--db` instead).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import Receive, Scope, Send

from mock_server.framework import LeanAsyncApp
from mock_server.resources import MockApi, mock_api
from openapi.model import Spec, read_api, read_spec

if TYPE_CHECKING:
    from mock_server.state import MockState

logger = logging.getLogger(__name__)

Stamp = tuple[tuple[int, int] | None, ...]


def _stamp(paths: tuple[Path, ...]) -> Stamp:
    stamps: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


class FileWatcher:
    """A daemon thread calling `on_change()` after the files settle on a new content."""

    def __init__(
        self, paths: tuple[Path, ...], on_change: Callable[[], object], interval: float = 0.3
    ) -> None:
        self.paths = paths
        self.on_change = on_change
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="file-watcher", daemon=True)

    def start(self) -> FileWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        seen = _stamp(self.paths)
        while not self._stop.wait(self.interval):
            now = _stamp(self.paths)
            if now == seen:
                continue
            # An editor may write in several steps: wait for one quiet interval.
            if self._stop.wait(self.interval) or _stamp(self.paths) != now:
                continue
            seen = now
            try:
                self.on_change()
            except Exception:  # a watcher that dies would silently stop reloading
                logger.exception("reloading %s failed", ", ".join(map(str, self.paths)))


class SpecReloader:
    """ASGI app: serves the app built from the spec's latest good content.

    The first app (given to `serve`) runs the lifespan, which opens the state; rebuilt apps
    have no lifespan of their own and find the state in each request's scope, where the server
    copies the lifespan's.
    """

    def __init__(self, spec_path: Path, build: Callable[[Spec, MockApi], LeanAsyncApp]) -> None:
        self.spec_path = spec_path
        self.build = build
        self._app: LeanAsyncApp | None = None

    def serve(self, app: LeanAsyncApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._app is not None, "serve() an app first"
        await self._app(scope, receive, send)

    def reload(self, state: MockState) -> bool:
        """Build the app of the spec as it now reads and serve it; False (logged) when it cannot."""
        try:
            spec = read_spec(self.spec_path)
            api = mock_api(read_api(spec))
            app = self.build(spec, api)
            # Connexion validates the document and resolves every operation's handler when it
            # builds its routes, on the first request: build them now, so that a bad edit is
            # refused here rather than answered with errors.
            middleware = app.middleware
            middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()
            state.use_api(api)
        except Exception as exc:  # every reason an edited spec cannot be served
            logger.error("the edited spec %s was not applied: %s", self.spec_path, exc)
            return False
        logger.info("applied the edited spec %s", self.spec_path)
        self._app = app
        app.note_checked()
        return True
