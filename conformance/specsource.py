"""Reading an OpenAPI 3 document from a file or from a git revision.

Owns the meaning of a spec *source* string: a filesystem path, or `git:REV:PATH`, read with
`git show REV:PATH` in the current repository (so PATH is relative to the repository root, or to
the current directory when written `./PATH`). Everything that reads a spec for comparison or
linting goes through here, so a bad source is reported the same way everywhere: as a
`SpecSourceError` whose message is one line a person can act on.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

GIT_PREFIX = "git:"


class SpecSourceError(Exception):
    """A spec source could not be read, parsed, or is not an OpenAPI 3 document."""


def load_spec_text(source: str, cwd: Path | None = None) -> str:
    """Return the text of `source`: a file path, or `git:REV:PATH` read from the repo at `cwd`."""
    if source.startswith(GIT_PREFIX):
        return _git_show(source, cwd)
    path = Path(source)
    if cwd is not None and not path.is_absolute():
        path = cwd / path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecSourceError(f"{source}: no such file") from exc
    except IsADirectoryError as exc:
        raise SpecSourceError(f"{source}: is a directory, not a spec file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecSourceError(f"{source}: cannot read: {exc}") from exc


def parse_spec(text: str, source: str) -> dict[str, Any]:
    """Parse JSON or YAML `text` and check that it is an OpenAPI 3 document; `source` names it."""
    document: Any
    try:
        # JSON first: a JSON document is also YAML, but YAML 1.1 reads a few JSON texts differently
        # (tabs, duplicate keys), and JSON's error message is the more useful one for a .json file.
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            reason = " ".join(str(exc).split())
            raise SpecSourceError(f"{source}: not valid YAML or JSON: {reason}") from exc
    if not isinstance(document, dict):
        raise SpecSourceError(f"{source}: not an OpenAPI document (the top level is not a mapping)")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        found = "no 'openapi' member" if version is None else f"openapi: {version!r}"
        if "swagger" in document:
            found = f"swagger: {document['swagger']!r}"
        raise SpecSourceError(f"{source}: not an OpenAPI 3 document ({found})")
    if not isinstance(document.get("paths", {}), dict):
        raise SpecSourceError(f"{source}: not an OpenAPI 3 document ('paths' is not a mapping)")
    return document


def load_spec(source: str, cwd: Path | None = None) -> dict[str, Any]:
    """Read and parse `source` (see `load_spec_text`) into an OpenAPI 3 document."""
    return parse_spec(load_spec_text(source, cwd), source)


def _git_show(source: str, cwd: Path | None) -> str:
    rev, sep, path = source[len(GIT_PREFIX) :].partition(":")
    if not sep or not rev or not path:
        raise SpecSourceError(
            f"{source}: expected git:REV:PATH, such as git:HEAD~1:openapi/openapi.yaml"
        )
    try:
        completed = subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            cwd=cwd,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SpecSourceError(f"{source}: git is not installed") from exc
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[0] if lines else f"git show exited with {completed.returncode}"
        raise SpecSourceError(f"{source}: {reason}")
    try:
        return completed.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecSourceError(f"{source}: not UTF-8 text") from exc
