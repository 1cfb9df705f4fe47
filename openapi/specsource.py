"""Where a spec comes from: a file, or `git:REV:PATH`, read into a `LocatedDocument`.

Owns the meaning of a spec *source* string: a filesystem path, or `git:REV:PATH`, read with
`git show REV:PATH` in the current repository (so PATH is relative to the repository root, or to
the current directory when written `./PATH`). Both spec tools read their inputs here, so a bad
source is reported the same way everywhere: as a `SpecError` whose message is one line a person
can act on, starting with the source as given.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from openapi.document import LocatedDocument, SpecError, parse_located

GIT_PREFIX = "git:"


def read_text(source: str, cwd: Path | None = None) -> str:
    """The text of `source`: a file path, or `git:REV:PATH` read from the repository at `cwd`."""
    if source.startswith(GIT_PREFIX):
        return _git_show(source, cwd)
    path = Path(source)
    if cwd is not None and not path.is_absolute():
        path = cwd / path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError(f"{source}: no such file") from exc
    except IsADirectoryError as exc:
        raise SpecError(f"{source}: is a directory, not a spec file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{source}: cannot read: {exc}") from exc


def load_source(source: str, cwd: Path | None = None) -> LocatedDocument:
    """Read and parse `source` (see `read_text`) with the line of every node."""
    return parse_located(read_text(source, cwd), source)


def require_openapi3(document: LocatedDocument) -> LocatedDocument:
    """`document`, or `SpecError` when it is not an OpenAPI 3 description that can be compared.

    The linter reports such a document as findings; a comparison needs at least this much.
    """
    data, source = document.data, document.source
    version = data.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = "no 'openapi' member" if version is None else f"openapi: {version!r}"
        if "swagger" in data:
            found = f"swagger: {data['swagger']!r}"
        raise SpecError(f"{source}: not an OpenAPI 3 document ({found})")
    if not isinstance(data.get("paths", {}), dict):
        raise SpecError(f"{source}: not an OpenAPI 3 document ('paths' is not a mapping)")
    return document


def _git_show(source: str, cwd: Path | None) -> str:
    rev, sep, path = source[len(GIT_PREFIX) :].partition(":")
    if not sep or not rev or not path:
        raise SpecError(f"{source}: expected git:REV:PATH, such as git:HEAD~1:openapi/openapi.yaml")
    try:
        completed = subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SpecError(f"{source}: git is not installed") from exc
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[0] if lines else f"git show exited with {completed.returncode}"
        raise SpecError(f"{source}: {reason}")
    try:
        return completed.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{source}: not UTF-8 text") from exc
