"""Baselines: the findings a team has accepted, so that CI fails only on new ones.

Owns the stable fingerprint of a finding and the baseline file. The fingerprint is made of the
check, the title, the operation (method and path template, so record ids do not count) and the
shape of the first line of the detail, with everything a run generates taken out (ids, run
markers, timestamps, numbers other than HTTP statuses, quoted values). For the schema layer it is
the Schemathesis check, the operation and the guessed clause it rests on (if any), never the
generated input.

The file (`--write-baseline`, read with `--baseline`) is JSON, sorted and diff-friendly::

    {"format": "conformance-baseline/1",
     "findings": [{"fingerprint": "...", "check": "...", "operation": "...", "title": "..."}]}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conformance.failures import ConformanceError, Finding

FORMAT = "conformance-baseline/1"

_SCHEMATHESIS_CHECK = re.compile(r"\[Schemathesis `(\w+)`")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_BRACKETED = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]")
_STATUS = re.compile(r"^[1-5]\d\d$")
_TOKEN = re.compile(r"[\w.:~+-]*\d[\w.:~+-]*")


@dataclass(frozen=True)
class Entry:
    """One accepted finding."""

    fingerprint: str
    check: str
    operation: str
    title: str


def operation_of(finding: Finding, templates: Iterable[str]) -> str:
    """`METHOD /path/{template}` of the request a finding shows ("" when it shows none)."""
    first = finding.request.splitlines()[0] if finding.request else ""
    method, _, url = first.partition(" ")
    if not url:
        return ""
    path = urlsplit(url).path
    for template in sorted(templates, key=len, reverse=True):
        pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return f"{method.upper()} {template}"
    return f"{method.upper()} {path}"


def _skeleton(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = _QUOTED.sub("_", line)
    for _ in range(3):  # nested JSON fragments, innermost first
        line = _BRACKETED.sub("_", line)
    return _TOKEN.sub(lambda m: m.group(0) if _STATUS.match(m.group(0)) else "_", line)


def fingerprint(finding: Finding, operation: str, guess: str = "") -> str:
    """A short hash that stays the same for the same defect across runs, seeds and data.

    `guess` is the id of the guessed clause the finding rests on, if any: which of its keywords
    a run happened to probe first does not count."""
    sthm = _SCHEMATHESIS_CHECK.search(finding.clause)
    if sthm is not None:
        basis = [finding.check, finding.title, operation, sthm.group(1), guess]
    else:
        basis = [finding.check, finding.title, operation, _skeleton(finding.detail)]
    return hashlib.sha256("\x1f".join(basis).encode()).hexdigest()[:16]


def load(path: Path) -> list[Entry]:
    """The entries of a baseline file; `ConformanceError` when it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"cannot read the baseline {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConformanceError(f"{path} is not a baseline ({FORMAT})")
    try:
        return [
            Entry(str(e["fingerprint"]), str(e["check"]), str(e["operation"]), str(e["title"]))
            for e in data.get("findings", [])
        ]
    except (KeyError, TypeError) as exc:
        raise ConformanceError(f"{path}: a baseline entry lacks {exc}") from exc


def write(path: Path, entries: Iterable[Entry]) -> None:
    """Write a baseline file (one entry per fingerprint, sorted)."""
    unique = {e.fingerprint: e for e in entries}
    data = {
        "format": FORMAT,
        "findings": [
            {
                "fingerprint": e.fingerprint,
                "check": e.check,
                "operation": e.operation,
                "title": e.title,
            }
            for e in sorted(unique.values(), key=lambda e: (e.check, e.operation, e.fingerprint))
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
