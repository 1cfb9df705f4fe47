"""Benchmark of the index at scale: p50/p99 per query shape, start-up time and RSS.

Not a test: it prints figures. `index_figures(base_url)` times every filter and sort the API
allows on the three resources (joined and computed fields included), on page 1 and on a deep
page, against a running mock; `startup_figures(...)` starts the mock on a data set and reports
the time to its first answer and its resident memory (from /proc). `bench/mock_bench.py` calls
both; alone:

    python -m mock_server generate --sessions 100000 --seed 1 > big.json
    python bench/index_bench.py --data big.json            # start-up, RSS, then every shape
    python bench/index_bench.py --url http://127.0.0.1:8080 # shapes only, a mock already serving
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from index_timing import Latency, Shape, index_latencies

from mock_server.fixtures import fixture_format
from mock_server.process import MockProcess
from mock_server.resources import read_mock_api
from openapi import SPEC_PATH
from openapi.model import read_api, read_spec

TOKEN = "dev"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _sample(client: httpx.Client, index_path: str) -> dict[str, Any]:
    """One record of a resource with its answered fields, to take filter values from."""
    response = client.post(index_path, json={"per-page": 1, "page": 7})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()
    return items[0] if items else {}


def every_shape(client: httpx.Client) -> list[Shape]:
    """Every sort the spec allows (members and aliases, both ways), every filter member (with a
    value a record holds), history, and combinations, for each resource, on page 1 and on the
    middle page of its result."""
    api = read_api(read_spec(SPEC_PATH))
    out: list[Shape] = []
    for resource in api.resources.values():
        index = resource.path("index")
        sample = _sample(client, index)
        searches: list[tuple[str, dict[str, Any]]] = [
            ("default order", {}),
            ("history", {"history": True}),
        ]
        for field in (*resource.sortable, *resource.sort_aliases):
            searches += [
                (f"sort {field}", {"sort": field}),
                (f"sort -{field}", {"sort": f"-{field}"}),
            ]
        for field in resource.filter_fields:
            if sample.get(field) is not None:
                searches.append((f"filter {field}", {"filter": {field: sample[field]}}))
        last = next(f for f in reversed(resource.sortable) if f.startswith("date_"))
        searches.append(
            (
                f"filter tenant_id, sort -{last}",
                {"filter": {"tenant_id": sample.get("tenant_id")}, "sort": f"-{last}"},
            )
        )
        for name, body in searches:
            out.append(Shape(f"{resource.name} {name}", body, index))
            out.append(Shape(f"{resource.name} {name}, deep page", {**body, "page": "deep"}, index))
    return out


def index_figures(
    base_url: str, *, repeat: int = 20, headers: Mapping[str, str] = AUTH, out: Any = sys.stdout
) -> dict[str, Latency | None]:
    """Time every shape against the mock at `base_url` (`repeat` samples each); print one row
    each and the worst p50 and p99."""
    with httpx.Client(base_url=base_url, headers=dict(headers), timeout=120) as client:
        shapes = every_shape(client)
    found = index_latencies(
        base_url, headers, shapes=shapes, samples=repeat, budget=float("inf"), timeout=120
    )
    print(f"{'query':<72} {'p50 ms':>8} {'p99 ms':>8} {'n':>4}", file=out)
    for name, latency in found.items():
        if latency is None:
            print(f"{name:<72} {'-':>8} {'-':>8} {0:>4}", file=out)
        else:
            print(
                f"{name:<72} {latency.p50:>8.1f} {latency.p99:>8.1f} {latency.samples:>4}", file=out
            )
    answered = {n: lat for n, lat in found.items() if lat is not None}
    if answered:
        worst50 = max(answered, key=lambda n: answered[n].p50)
        worst99 = max(answered, key=lambda n: answered[n].p99)
        over = sum(1 for lat in answered.values() if lat.p99 >= 50)
        print(
            f"{len(found)} shapes; worst p50 {answered[worst50].p50:.1f} ms ({worst50}); worst p99 "
            f"{answered[worst99].p99:.1f} ms ({worst99}); p99 of 50 ms or more: {over}; "
            f"unanswered: {len(found) - len(answered)}",
            file=out,
        )
    return found


@dataclass(frozen=True)
class Startup:
    """A start of the mock: seconds to its first answer, resident memory then (MiB)."""

    seconds: float
    rss_mib: float
    peak_rss_mib: float


def _status_kib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    return 0.0


def startup_figures(
    db_path: Path, data_paths: Sequence[Path] = (), *, extra_args: Sequence[str] = ()
) -> tuple[Startup, MockProcess]:
    """Start the mock on `db_path` (made from `data_paths` when missing); time its first answer.

    The clock runs from the process start to the first authenticated index answer; RSS is read
    from /proc right then. The caller stops the returned process.
    """
    args = ["--no-access-log", "--log-level", "warning", *extra_args]
    for path in data_paths:
        args += ["--data", str(path)]
    mock = MockProcess(db_path, args=args, startup_seconds=300)
    started = time.perf_counter()
    mock.start()
    seconds = time.perf_counter() - started
    rss = _status_kib(mock.pid, "VmRSS") / 1024
    peak = _status_kib(mock.pid, "VmHWM") / 1024
    return Startup(seconds, rss, peak), mock


def write_database(db: Path, data_paths: Sequence[Path]) -> None:
    """A database file (TinyDB JSON) holding the records of the fixture files, as if made by
    clients' writes: the mock opens it with its default base data."""
    tables = fixture_format(read_mock_api()).load_files(data_paths)
    db.write_bytes(orjson.dumps(tables))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a mock already serving (skips the start-up figures)")
    parser.add_argument("--data", type=Path, action="append", default=[], help="fixture file(s)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--starts", type=int, default=3, help="starts to take the median of")
    parser.add_argument("--startup-only", action="store_true")
    parser.add_argument(
        "--db-only",
        action="store_true",
        help="write the --data records as a database and start on it without --data (no base "
        "data to read beside it)",
    )
    args = parser.parse_args(argv)
    if args.url:
        index_figures(args.url, repeat=args.repeat)
        return 0
    with tempfile.TemporaryDirectory() as work:
        db = Path(work) / "db.json"
        data: Sequence[Path] = args.data
        if args.db_only:
            write_database(db, data)
            data = ()
        runs: list[Startup] = []
        mock: MockProcess | None = None
        for n in range(args.starts):
            # The first start makes the database from the fixture; the others open it.
            startup, mock = startup_figures(db, data)
            print(
                f"start {n + 1} ({'created' if n == 0 else 'reopened'}): first answer after "
                f"{startup.seconds:.2f} s, RSS {startup.rss_mib:.0f} MiB "
                f"(peak {startup.peak_rss_mib:.0f} MiB)",
                flush=True,
            )
            runs.append(startup)
            if n < args.starts - 1 or args.startup_only:
                mock.stop()
        reopened = runs[1:] or runs
        print(
            f"reopened start: median {statistics.median(r.seconds for r in reopened):.2f} s, "
            f"RSS median {statistics.median(r.rss_mib for r in reopened):.0f} MiB",
            flush=True,
        )
        if args.startup_only or mock is None:
            return 0
        try:
            index_figures(mock.base_url, repeat=args.repeat)
        finally:
            mock.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
