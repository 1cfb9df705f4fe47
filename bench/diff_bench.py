"""Benchmark (not a test): `python -m openapi diff` on a large, union-heavy spec, with the npm
openapi-diff run on the same documents in the same run as the reference point.

    python bench/diff_bench.py [--seed N] [--resources N] [--timeout S] [--keep DIR]

Generates (from the seed, fetching nothing) an OpenAPI 3.0 document shaped like a grown
ActionSession contract: `--resources` resources of five operations each, every record an `allOf`
of a shared base and its own members, a `data` member that is a `oneOf` of per-type variants (each
an `allOf` with a nested `oneOf`), and `related` lists that are an `anyOf` of the next resource's
records (so unions nest some sixty deep, as in public specs). It writes that document,
a variant with one change deep inside a union, and runs each tool as a child process:

- ours: the document against the one-change variant, and against a copy of itself;
- openapi-diff (npm, from node_modules; `npm ci` installs it) on the same two pairs.

Each line gives wall time and peak memory (the child's maximum resident set size). A run that
exceeds `--timeout` is stopped and reported as such; one that fails prints its last error line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_DIFF = ROOT / "node_modules" / ".bin" / "openapi-diff"
KINDS = ("TRAINING", "MAINTENANCE", "HEALTH", "CHECK", "PER")
WORDS = (
    "session subscription office tenant project action course visit delivery order inspection "
    "record member value field period validity certificate assignee manager watcher schedule"
).split()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _member(rng: random.Random, name: str) -> dict[str, Any]:
    kind = rng.randrange(5)
    schema: dict[str, Any]
    if kind == 0:
        schema = {"type": "string", "maxLength": rng.choice((64, 128, 255))}
    elif kind == 1:
        schema = {"type": "integer", "minimum": 0, "maximum": rng.choice((10, 100, 1000))}
    elif kind == 2:
        schema = {"type": "string", "enum": rng.sample(WORDS, 4)}
    elif kind == 3:
        schema = {"type": "string", "format": rng.choice(("date", "date-time")), "nullable": True}
    else:
        schema = {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 50}
    schema["description"] = f"The {name}: {_text(rng, 38)}"
    return schema


def _members(rng: random.Random, prefix: str, count: int) -> dict[str, Any]:
    return {f"{prefix}_{n}": _member(rng, f"{prefix} {n}") for n in range(count)}


def generate_spec(seed: int, resources: int) -> dict[str, Any]:
    """A union-heavy OpenAPI 3.0 document, the same for the same seed and size."""
    rng = random.Random(seed)
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["name", "message", "code", "status"],
            "properties": {
                "name": {"type": "string"},
                "message": {"type": "string"},
                "code": {"type": "integer"},
                "status": {"type": "integer"},
            },
        },
        "RelatedRecord": {
            "type": "object",
            "required": ["entity", "id"],
            "properties": {"entity": {"type": "string"}, "id": {"type": "string"}},
        },
        "BaseRecord": {
            "type": "object",
            "required": ["tenant_id", "subtenant_id"],
            "properties": {
                "tenant_id": {"type": "string", "maxLength": 255},
                "subtenant_id": {"type": "string", "maxLength": 255},
                **_members(rng, "base", 6),
            },
        },
    }
    paths: dict[str, Any] = {}
    for r in range(resources):
        name = f"Resource{r}"
        variants = []
        for k, kind in enumerate(KINDS[: 3 + r % 3]):
            variant = f"{name}{kind.capitalize()}Data"
            detail = {
                "oneOf": [
                    {"type": "object", "properties": _members(rng, f"{kind.lower()}_a", 3)},
                    {"type": "object", "properties": _members(rng, f"{kind.lower()}_b", 3)},
                ]
            }
            schemas[variant] = {
                "allOf": [
                    {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {"kind": {"type": "string", "enum": [kind]}},
                    },
                    {
                        "type": "object",
                        # One nested union a resource: unions inside unions, as in public specs.
                        "properties": {
                            **_members(rng, f"v{k}", 6),
                            **({"detail": detail} if k == 0 else {}),
                        },
                    },
                ]
            }
            variants.append(variant)
        # Each record may list the next resource's records: unions nest 60 deep. The chain has
        # no cycle, because openapi-diff refuses circular $refs outright (ours follows them).
        related = [_ref("RelatedRecord")]
        if r + 1 < resources:
            related.insert(0, _ref(f"Resource{r + 1}"))
        schemas[name] = {
            "allOf": [
                _ref("BaseRecord"),
                {
                    "type": "object",
                    "required": [f"{name.lower()}_id"],
                    "properties": {
                        f"{name.lower()}_id": {"type": "string", "readOnly": True},
                        **_members(rng, "field", 16),
                        "data": {
                            "oneOf": [_ref(v) for v in variants],
                            "discriminator": {"propertyName": "kind"},
                        },
                        "related": {
                            "type": "array",
                            "items": {"anyOf": related},
                        },
                    },
                },
            ]
        }
        paths.update(_operations(rng, name, f"/v2/resource-{r}"))
    return {
        "openapi": "3.0.3",
        "info": {"title": "Generated union-heavy API", "version": "1.0.0"},
        "servers": [{"url": "https://api.example.test"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _operations(rng: random.Random, name: str, base: str) -> dict[str, Any]:
    record = {"content": {"application/json": {"schema": _ref(name)}}}
    error = {
        "description": "Refused.",
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    path_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

    def op(summary: str, ok: str, body: bool, params: list[Any]) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "summary": summary,
            "description": _text(rng, 60),
            "parameters": params,
            "responses": {
                ok: {"description": _text(rng, 8), **record},
                "400": error,
                "404": error,
            },
        }
        if body:
            operation["requestBody"] = {"required": True, **record}
        return operation

    return {
        f"{base}/index": {
            "post": op(f"Search {name}", "200", True, []),
        },
        f"{base}/create": {"post": op(f"Create {name}", "201", True, [])},
        f"{base}/view/{{id}}": {"get": op(f"View {name}", "200", False, [path_id])},
        f"{base}/update/{{id}}": {"put": op(f"Update {name}", "200", True, [path_id])},
        f"{base}/delete/{{id}}": {"delete": op(f"Delete {name}", "200", False, [path_id])},
    }


def count_unions(node: Any) -> int:
    """How many oneOf/anyOf/allOf keywords `node` holds."""
    if isinstance(node, dict):
        here = sum(1 for k in ("oneOf", "anyOf", "allOf") if k in node)
        return here + sum(count_unions(v) for v in node.values())
    if isinstance(node, list):
        return sum(count_unions(v) for v in node)
    return 0


def one_change(spec: dict[str, Any], resources: int) -> dict[str, Any]:
    """`spec` with one enum value added deep inside a union of a resource in the middle."""
    changed: dict[str, Any] = json.loads(json.dumps(spec))
    variant = changed["components"]["schemas"][f"Resource{resources // 2}TrainingData"]
    variant["allOf"][0]["properties"]["kind"]["enum"].append("TRAINING_V2")
    return changed


@dataclass
class Outcome:
    """How one child process went."""

    seconds: float
    max_rss_mb: float
    status: str


def measure(command: list[str], timeout: float, summarise: Callable[[str], str | None]) -> Outcome:
    """Run `command`, return its wall time, peak memory and how it ended."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(child.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(child.pid, 0)
                seconds = time.monotonic() - started
                return Outcome(seconds, usage.ru_maxrss / 1024, f"stopped after {timeout:.0f} s")
            time.sleep(0.02)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        err.seek(0)
        out.seek(0)
        errors = [
            line.strip()
            for line in err.read().decode("utf-8", "replace").splitlines()
            if "error" in line.lower()
        ]
        output = out.read().decode("utf-8", "replace")
    code = child.returncode
    summary = summarise(output)
    if code not in (0, 1) or (summary is None and errors):
        out_of_memory = [line for line in errors if "out of memory" in line.lower()]
        reason = (out_of_memory or errors or ["no error output"])[-1][:200]
        return Outcome(seconds, usage.ru_maxrss / 1024, f"failed (exit {code}): {reason}")
    return Outcome(seconds, usage.ru_maxrss / 1024, summary or f"exit {code}")


def _our_summary(output: str) -> str | None:
    try:
        summary = json.loads(output)["summary"]
    except (ValueError, KeyError, TypeError):
        return None
    # `error` is a breaking change, `info` a compatible one (openapi.findings).
    return f"{summary['error']} breaking, {summary['info']} non-breaking"


def _their_summary(output: str) -> str | None:
    found = [line for line in output.splitlines() if "differences found" in line.lower()]
    return found[0].strip()[:120] if found else None


def main() -> int:
    """Generate the documents, run both tools on both pairs, print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--resources", type=int, default=62)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--keep", type=Path, help="write the documents here and keep them")
    args = parser.parse_args()

    spec = generate_spec(args.seed, args.resources)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        original, copy, changed = (where / n for n in ("spec.json", "copy.json", "changed.json"))
        original.write_text(json.dumps(spec, indent=1), encoding="utf-8")
        shutil.copyfile(original, copy)
        changed.write_text(json.dumps(one_change(spec, args.resources), indent=1), "utf-8")
        size = original.stat().st_size / 1e6
        print(
            f"spec: {size:.2f} MB, {count_unions(spec)} oneOf/anyOf/allOf, "
            f"{len(spec['paths'])} paths, seed {args.seed}"
        )
        ours = [sys.executable, "-m", "openapi", "diff", "--format", "json"]
        theirs = [str(OPENAPI_DIFF)]
        runs: list[tuple[str, str, list[str], Callable[[str], str | None]]] = [
            ("ours", "one change", [*ours, str(original), str(changed)], _our_summary),
            ("ours", "itself", [*ours, str(original), str(copy)], _our_summary),
        ]
        if OPENAPI_DIFF.exists():
            runs += [
                (
                    "openapi-diff",
                    "one change",
                    [*theirs, str(original), str(changed)],
                    _their_summary,
                ),
                ("openapi-diff", "itself", [*theirs, str(original), str(copy)], _their_summary),
            ]
        else:
            print("openapi-diff: not installed (run npm ci); no reference point")
        for tool, pair, command, summarise in runs:
            outcome = measure(command, args.timeout, summarise)
            print(
                f"{tool:>12} vs {pair:<10}: {outcome.seconds:7.2f} s, "
                f"{outcome.max_rss_mb:7.1f} MB peak, {outcome.status}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
