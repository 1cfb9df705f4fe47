"""Named snapshots of a state: fixture files in a folder beside the database, so they survive restarts.

Each snapshot is `<db>.snapshots/<name>.json` in the fixture format (so a snapshot is also a
`--data` file), written through a temporary file, fsync and an atomic rename: a crash leaves the
old snapshot or the new one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mock_server import fixtures
from mock_server.domain_errors import RecordNotFound

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SUFFIX = ".json"


class SnapshotError(Exception):
    """A snapshot cannot be written or read (disk full, permissions)."""


@dataclass(frozen=True)
class SnapshotInfo:
    """A saved snapshot: its name, when it was saved, its size on disk."""

    name: str
    saved_at: str
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "saved_at": self.saved_at, "size_bytes": self.size_bytes}


def folder_for(db_path: Path) -> Path:
    """Where the snapshots of the database at `db_path` are kept."""
    return db_path.with_name(db_path.name + ".snapshots")


class Snapshots:
    """The snapshot files of one database, and the checked tables of the last few in memory.

    Reading and checking a large snapshot takes seconds; the tables of a snapshot this process
    saved or restored are kept (their records are shared with the state, never copied: nothing
    changes a stored record in place), and used while the file is the one they came from.
    """

    KEEP = 4

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tables: dict[str, tuple[tuple[int, int], Any]] = {}

    def remember(self, name: str, tables: Any) -> None:
        """Keep `tables` as the checked content of snapshot `name`, as its file is now."""
        stat = self._path(name).stat()
        self._tables.pop(name, None)
        self._tables[name] = ((stat.st_mtime_ns, stat.st_size), tables)
        while len(self._tables) > self.KEEP:
            del self._tables[next(iter(self._tables))]

    def remembered(self, name: str) -> Any:
        """The tables kept for snapshot `name` if its file has not changed since, else None."""
        kept = self._tables.get(name)
        try:
            stat = self._path(name).stat()
        except OSError:
            return None
        if kept is None or kept[0] != (stat.st_mtime_ns, stat.st_size):
            return None
        return kept[1]

    def _path(self, name: str) -> Path:
        # The spec's pattern already refuses such names; this keeps a path out of any folder.
        if not NAME.match(name):
            raise RecordNotFound("Snapshot", name, api=False)
        return self.folder / (name + _SUFFIX)

    def _info(self, path: Path) -> SnapshotInfo:
        stat = path.stat()
        saved = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="milliseconds")
        return SnapshotInfo(path.name[: -len(_SUFFIX)], saved.replace("+00:00", "Z"), stat.st_size)

    def save(self, name: str, document: dict[str, Any]) -> tuple[SnapshotInfo, bool]:
        """Write `document` as snapshot `name`; True when no snapshot had that name."""
        path = self._path(name)
        tmp = path.with_name(path.name + ".tmp")
        created = not path.exists()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(fixtures.dumps(document))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SnapshotError(f"cannot write the snapshot {path}: {exc}") from exc
        return self._info(path), created

    def read(self, name: str) -> Any:
        """The document of snapshot `name`; RecordNotFound when there is none."""
        path = self._path(name)
        if not path.is_file():
            raise RecordNotFound("Snapshot", name, api=False)
        return fixtures.read_file(path)

    def list(self) -> list[SnapshotInfo]:
        if not self.folder.is_dir():
            return []
        return [
            self._info(path)
            for path in sorted(self.folder.glob("*" + _SUFFIX))
            if NAME.match(path.name[: -len(_SUFFIX)])
        ]

    def delete(self, name: str) -> None:
        path = self._path(name)
        self._tables.pop(name, None)
        try:
            path.unlink()
        except FileNotFoundError:
            raise RecordNotFound("Snapshot", name, api=False) from None
        except OSError as exc:
            raise SnapshotError(f"cannot delete the snapshot {path}: {exc}") from exc
