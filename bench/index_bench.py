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

from mock_server.fixtures import fixture_format
from mock_server.process import MockProcess
from mock_server.resources import read_mock_api

TOKEN = "dev"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEEP_PAGE = 400
"""A page far from the first: 400 pages of 100 is 40,000 records in."""


@dataclass(frozen=True)
class Shape:
    """One index query: a resource, a body, and a name for the table."""

    resource: str
    name: str
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Timing:
    """Milliseconds per request of one shape and page."""

    shape: Shape
    page: int
    p50: float
    p99: float
    total: int


def _sample(client: httpx.Client, resource: str) -> dict[str, Any]:
    """One record of `resource` with its answered fields, to take filter values from."""
    response = client.post(f"/v2/{resource}/index", json={"per-page": 1, "page": 7})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()
    return items[0] if items else {}


def shapes(client: httpx.Client) -> list[Shape]:
    """Every sortable field both ways, every filterable field, and combinations, per resource."""
    out: list[Shape] = []
    session = _sample(client, "action-session")
    sort_fields = {
        "action-session": [
            "action_session_id", "action_id", "validity_unit", "validity", "subtenant_id",
            "tenant_id", "manager", "assignee", "watcher", "action_code", "action_name", "name",
            "action_type", "count_subscribed", "count_done", "count_fail", "count_unknown",
            "date_begin", "date_end",
        ],
        "action-session-subscription": [
            "action_session_subscription_id", "action_session_id", "action_subscription_id",
            "subtenant_id", "tenant_id", "done", "warning", "certificate_id", "date_begin",
            "date_expire",
        ],
        "action-session-date": [
            "action_session_date_id", "action_session_id", "subtenant_id", "tenant_id",
            "date_begin", "date_end", "action_id", "action_code", "action_name", "action_type",
        ],
    }  # fmt: skip
    for resource, fields in sort_fields.items():
        out.append(Shape(resource, "default order", {}))
        out.append(Shape(resource, "history", {"history": True}))
        sample = session if resource == "action-session" else _sample(client, resource)
        for field in fields:
            out.append(Shape(resource, f"sort {field}", {"sort": field}))
            out.append(Shape(resource, f"sort -{field}", {"sort": f"-{field}"}))
        for field in fields:
            value = sample.get(field)
            if field != "name" and value is not None:
                out.append(Shape(resource, f"filter {field}", {"filter": {field: value}}))
        tenant = sample.get("tenant_id")
        out.append(
            Shape(
                resource,
                "filter tenant_id, sort -date_end"
                if resource != "action-session-subscription"
                else "filter tenant_id, sort -date_expire",
                {
                    "filter": {"tenant_id": tenant},
                    "sort": "-date_end"
                    if resource != "action-session-subscription"
                    else "-date_expire",
                },
            )
        )
    out.append(
        Shape(
            "action-session",
            "filter action_type + tenant_id, sort count_subscribed",
            {
                "filter": {"action_type": session.get("action_type"), "tenant_id": session.get("tenant_id")},
                "sort": "count_subscribed",
            },
        )
    )  # fmt: skip
    out.append(
        Shape(
            "action-session",
            "filter count_done, sort -action_name",
            {"filter": {"count_done": session.get("count_done")}, "sort": "-action_name"},
        )
    )
    return out


def _time(client: httpx.Client, url: str, body: Mapping[str, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.post(url, json=dict(body))
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, int(response.headers["X-Pagination-Total-Count"])


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def index_figures(
    base_url: str,
    *,
    repeat: int = 20,
    pages: Sequence[int] = (1, DEEP_PAGE),
    headers: Mapping[str, str] = AUTH,
    out: Any = sys.stdout,
) -> list[Timing]:
    """Time every query shape on each page against the mock at `base_url`; print one row each.

    Each shape is sent once to warm up (an index a shape needs may be built lazily, on its first
    use), then `repeat` times; p99 of 20 samples is their maximum but one.
    """
    timings: list[Timing] = []
    with httpx.Client(base_url=base_url, headers=dict(headers), timeout=120) as client:
        print(
            f"{'resource':<28} {'query':<52} {'page':>5} {'p50 ms':>8} {'p99 ms':>8} {'total':>7}",
            file=out,
        )
        for shape in shapes(client):
            url = f"/v2/{shape.resource}/index"
            for page in pages:
                body = {**shape.body, "page": page}
                first, _ = _time(client, url, body)
                samples = []
                total = 0
                for _ in range(repeat):
                    elapsed, total = _time(client, url, body)
                    samples.append(elapsed)
                timing = Timing(
                    shape, page, statistics.median(samples), _percentile(samples, 0.99), total
                )
                timings.append(timing)
                print(
                    f"{shape.resource:<28} {shape.name:<52} {page:>5} {timing.p50:>8.1f} "
                    f"{timing.p99:>8.1f} {total:>7}  (first {first:.0f})",
                    file=out,
                    flush=True,
                )
    worst50 = max(timings, key=lambda t: t.p50)
    worst99 = max(timings, key=lambda t: t.p99)
    print(
        f"worst p50 {worst50.p50:.1f} ms ({worst50.shape.resource} {worst50.shape.name} page "
        f"{worst50.page}); worst p99 {worst99.p99:.1f} ms ({worst99.shape.resource} "
        f"{worst99.shape.name} page {worst99.page})",
        file=out,
    )
    return timings


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
