"""`--reload`: watch the `--data` fixture files and apply an edit without losing the state.

A thread polls the files' modification times. When one changes (and has stopped changing), the
files are read and checked again: a bad edit is logged with every problem and not applied; a good
one becomes the new base data, and the records the edit changed, added or removed are applied to
the shared state, whose other changes are kept (`MockState.rebase`). The spec is not watched:
Connexion builds its routes and validators once, at start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

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


class FixtureWatcher:
    """A daemon thread calling `on_change()` after the files settle on a new content."""

    def __init__(
        self, paths: tuple[Path, ...], on_change: Callable[[], object], interval: float = 0.3
    ) -> None:
        self.paths = paths
        self.on_change = on_change
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fixture-watcher", daemon=True)

    def start(self) -> FixtureWatcher:
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
                logger.exception("reloading the fixture files failed")
