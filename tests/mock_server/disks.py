"""Disks that misbehave, for the storage tests: a real small tmpfs, and injected write faults.

`small_tmpfs` mounts a real filesystem of a few hundred KiB (it needs root, or CAP_SYS_ADMIN; the
test is skipped, with the reason, where mounting is not allowed). `FaultyDisk` gives the storage
module an `open` whose files, for chosen names only, write as a full or failing disk does (a short
write, then ENOSPC; or EIO), so that the same code paths are exercised on every machine.
"""

from __future__ import annotations

import builtins
import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from mock_server import database


@contextmanager
def small_tmpfs(where: Path, size: str = "256k", *, options: str = "") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` for the block; skips the test if it cannot be."""
    where.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no `mount` command here, so no real small filesystem to fill")
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({result.stderr.strip() or result.returncode}): "
            "a real full disk needs root; the fault-injecting tests cover the same paths"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def remount(where: Path, options: str) -> None:
    """Change a mounted tmpfs' options (`ro`, `rw`)."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


def fill(where: Path) -> Path:
    """Fill the filesystem at `where` to the last byte with one file, and return that file."""
    filler = where / "filler"
    with open(filler, "wb", buffering=0) as fh:
        for chunk in (65536, 4096, 512, 64, 1):
            try:
                while True:
                    fh.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


class FaultyDisk:
    """Files whose name `affects` selects write as on a disk with `free` bytes left.

    `free=None` is a healthy disk. With `free=n`, the next writes take n more bytes in all (a write
    that does not fit is short, as on a real disk), then fail with ENOSPC; `error` makes every
    write to those files fail with that errno instead (EIO for a failing disk).
    """

    def __init__(self, affects: Callable[[str], bool]) -> None:
        self.affects = affects
        self.free: int | None = None
        self.error: int | None = None
        self.failed_writes = 0

    def open(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened = builtins.open(file, mode, *args, **kwargs)
        if any(m in mode for m in "wax") and self.affects(os.fspath(file)):
            return _FaultyFile(opened, self)
        return opened

    def write(self, file: Any, data: Any) -> int:
        if self.free is None and self.error is None:
            return int(file.write(data))
        self.failed_writes += 1
        if self.error is not None:
            raise OSError(self.error, os.strerror(self.error))
        assert self.free is not None
        if self.free == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = int(file.write(data[: self.free]))
        self.free -= written
        return written


class _FaultyFile:
    """A file object whose writes go through a `FaultyDisk`; everything else is the file's own."""

    def __init__(self, file: Any, disk: FaultyDisk) -> None:
        self._file = file
        self._disk = disk

    def write(self, data: Any) -> int:
        return self._disk.write(self._file, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)

    def __enter__(self) -> _FaultyFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()


def inject_faults(monkeypatch: pytest.MonkeyPatch, suffix: str) -> FaultyDisk:
    """A `FaultyDisk` for the storage's files whose name ends with `suffix` (`.journal`, `.tmp`)."""
    disk = FaultyDisk(lambda path: path.endswith(suffix))
    monkeypatch.setattr(database, "open", disk.open, raising=False)
    return disk
