"""Whether a file is unchanged since it was last read, told by its stat, as git's index does.

A restart at 100,000 sessions re-hashed a 158 MB fixture and re-checked 473,000 records of a
snapshot that had not changed since the mock itself read or wrote them. What was learnt about a
file (its sha256, that its records passed the checks) is kept beside its `Identity`: device,
inode, size, modification and change times in nanoseconds. Any write to the file, a rename of
another file onto it, a `touch` or a restored mtime changes at least one of them (the change
time cannot be set from user space), so an equal identity means the same bytes.

Except in one case, git's "racy" one: two writes within one tick of the filesystem's clock
(Linux stamps files with a coarse clock, a few milliseconds) leave the same times. So an identity
is only taken from a file whose last change is older than `SETTLED_NS` when its bytes are read,
and whose timestamps are finer than a second (a filesystem that keeps whole seconds is never
trusted): a later write then stamps it with a later time. A file changed while it is read (its
stat differs before and after) has no identity either. Without one, callers take the slow path.

`remember` keeps what was learnt, with the identity, in a stamp file beside the database, and
`recall` reads it back for the next start.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Identity = tuple[int, int, int, int, int]
"""st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns."""

SETTLED_NS = 100_000_000
"""How long a file must have been left alone before its identity is trusted: many ticks of a
filesystem's coarse clock (4 ms at Linux's usual 250 Hz), and far below any restart's interval."""


def identity_of(stat: os.stat_result) -> Identity:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def settled(stat: os.stat_result, now_ns: int) -> bool:
    """Whether a later write to the file must change its times (see the module's docstring)."""
    if stat.st_ctime_ns % 1_000_000_000 == 0 and stat.st_mtime_ns % 1_000_000_000 == 0:
        return False  # whole seconds: a second write within the second is invisible
    return max(stat.st_mtime_ns, stat.st_ctime_ns) <= now_ns - SETTLED_NS


class _Prefetch(threading.Thread):
    """One file read on a thread: reading releases the interpreter's lock, so the read overlaps
    what the main thread does meanwhile (the imports of a start)."""

    def __init__(self, path: Path) -> None:
        super().__init__(name=f"read {path.name}", daemon=True)
        self.path = path
        self.result: tuple[bytes, Identity | None] | None = None

    def run(self) -> None:
        try:
            self.result = _read(self.path)
        except OSError:
            pass  # read again, in the thread that asks, which then reports it


_prefetched: dict[str, _Prefetch] = {}
_prefetch_lock = threading.Lock()


def prefetch(paths: Iterable[Path]) -> None:
    """Start reading `paths` on threads; the next `read_identified` of each takes the result.

    For a start: its files are read (0.2 s at 100,000 sessions) while the server's modules are
    imported. The bytes are the files' as they were then, like those of any `read_identified`.
    Call `forget_prefetched` once started, so that no later read gets them.
    """
    with _prefetch_lock:
        for path in paths:
            key = os.path.abspath(path)
            if key not in _prefetched:
                _prefetched[key] = _Prefetch(Path(key))
                _prefetched[key].start()


def forget_prefetched() -> None:
    """Drop what `prefetch` read and no one took (a file read later is read then)."""
    with _prefetch_lock:
        _prefetched.clear()


def read_identified(path: Path) -> tuple[bytes, Identity | None]:
    """The file's bytes, and the identity they have (None: not one that can be trusted).

    Raises `OSError` as `Path.read_bytes` does.
    """
    with _prefetch_lock:
        pending = _prefetched.pop(os.path.abspath(path), None)
    if pending is not None:
        pending.join()
        if pending.result is not None:
            return pending.result
    return _read(path)


def _read(path: Path) -> tuple[bytes, Identity | None]:
    began = time.time_ns()
    with open(path, "rb") as fh:
        before = os.fstat(fh.fileno())
        data = fh.read()
        after = os.fstat(fh.fileno())
    known = identity_of(before)
    if known != identity_of(after) or len(data) != before.st_size or not settled(before, began):
        return data, None
    return data, known


def current(path: Path) -> Identity | None:
    """The file's identity now, if it can be trusted (None: missing, unreadable or too fresh)."""
    now = time.time_ns()
    try:
        stat = path.stat()
    except OSError:
        return None
    return identity_of(stat) if settled(stat, now) else None


def wait_settled(path: Path, expected: Identity, longest_ns: int) -> Identity | None:
    """`expected` once the file can be trusted to still have it, waiting at most `longest_ns`
    for that; None when the file has another identity (changed since) or is still too fresh."""
    wait = max(expected[3], expected[4]) + SETTLED_NS - time.time_ns()
    if 0 < wait <= longest_ns:
        time.sleep(wait / 1e9 + 0.001)
    return expected if current(path) == expected else None


def as_identity(value: Any) -> Identity | None:
    """An identity read back from JSON (a list of five integers), else None."""
    if (
        isinstance(value, list)
        and len(value) == 5
        and all(type(v) is int for v in value)  # not bool
    ):
        return (value[0], value[1], value[2], value[3], value[4])
    return None


def recall(stamp: Path) -> dict[str, Any] | None:
    """What `remember` kept in `stamp`, or None: missing, unreadable, or not a JSON object."""
    try:
        kept = json.loads(stamp.read_bytes())
    except (OSError, ValueError):
        return None
    return kept if isinstance(kept, dict) else None


def remember(stamp: Path, learnt: Mapping[str, Any]) -> None:
    """Keep what was learnt about a file (with its identity) in `stamp`, as JSON.

    A stamp is only a shortcut for the next start: one that cannot be written costs that start
    the slow path, so the failure is logged, not raised.
    """
    try:
        stamp.write_text(json.dumps(learnt) + "\n", encoding="utf-8")
    except OSError as exc:
        logger.debug("cannot write %s: %s", stamp, exc)
