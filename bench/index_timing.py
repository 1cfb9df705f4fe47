"""Index latency per query shape against any server of the API: p50 and p99 from a base URL.

The one way the benchmarks time an index: `mock_bench.py` (a few shapes on every server) and
`index_bench.py` (every filter and sort the spec allows, on the mock) both call
`index_latencies`; alone, `python bench/index_timing.py --base-url URL`. Requests are sent one at
a time on one keep-alive connection, so a figure is one request's own time, not a queue's. Each
shape is timed until it has `samples` answers or has used `budget` seconds, whichever comes
first (a server that takes a second per search still finishes), after one request that warms it
up (an index a shape needs may be built on its first use) and tells the page count.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

SESSIONS = "/v2/action-session/index"


@dataclass(frozen=True)
class Shape:
    """One kind of index search: its name in tables, its body (page "deep": the middle page of
    its own result), and the index it is sent to."""

    name: str
    body: Mapping[str, Any]
    path: str = SESSIONS


SHAPES: tuple[Shape, ...] = (
    Shape("default, page 1", {}),
    Shape("default, deep page", {"page": "deep"}),
    Shape("filter tenant_id", {"filter": {"tenant_id": "ten-1"}}),
    Shape("filter action_type", {"filter": {"action_type": "TRAINING"}}),
    Shape("sort validity", {"sort": "validity"}),
    Shape("sort action_name", {"sort": "action_name"}),
    Shape("sort count_subscribed", {"sort": "-count_subscribed"}),
    Shape("sort date_begin", {"sort": "date_begin"}),
    Shape("sort date_begin, deep page", {"sort": "date_begin", "page": "deep"}),
    Shape("tenant + sort -date_end", {"filter": {"tenant_id": "ten-1"}, "sort": "-date_end"}),
)


@dataclass(frozen=True)
class Latency:
    """Milliseconds of one shape's searches; `errors` counts non-200 answers and timeouts."""

    p50: float
    p99: float
    samples: int
    errors: int


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def index_latencies(
    base_url: str,
    headers: Mapping[str, str],
    *,
    shapes: Sequence[Shape] = SHAPES,
    samples: int = 40,
    budget: float = 4.0,
    timeout: float = 15.0,
) -> dict[str, Latency | None]:
    """p50/p99 per shape (None: not one search answered within `timeout`)."""
    out: dict[str, Latency | None] = {}
    with httpx.Client(base_url=base_url, headers=dict(headers), timeout=timeout) as client:
        for shape in shapes:
            body = dict(shape.body)
            if body.get("page") == "deep":
                try:
                    first = client.post(shape.path, json={**body, "page": 1})
                except httpx.TimeoutException:
                    out[shape.name] = None  # not even page 1 within the timeout
                    continue
                pages = int(first.headers.get("X-Pagination-Page-Count", "1") or 1)
                body["page"] = max(1, pages // 2)
            times: list[float] = []
            errors = 0
            started = time.monotonic()
            for n in range(samples + 1):
                t = time.perf_counter()
                try:
                    ok = client.post(shape.path, json=body).status_code == 200
                except httpx.TimeoutException:
                    ok = False
                elapsed = (time.perf_counter() - t) * 1000
                if not ok:
                    errors += 1
                elif n > 0 or samples == 0:
                    times.append(elapsed)  # the first one warms up
                if not ok and not times:
                    break  # the server cannot answer this shape in time: do not insist
                if time.monotonic() - started > budget and times:
                    break
            out[shape.name] = (
                Latency(statistics.median(times), _percentile(times, 0.99), len(times), errors)
                if times
                else None
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", default="dev")
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    found = index_latencies(
        args.base_url, {"Authorization": f"Bearer {args.token}"}, samples=args.samples
    )
    print(f"{'shape':<30} {'p50 ms':>8} {'p99 ms':>8} {'n':>4}")
    for name, latency in found.items():
        if latency is None:
            print(f"{name:<30} {'-':>8} {'-':>8} {0:>4}")
        else:
            print(f"{name:<30} {latency.p50:>8.1f} {latency.p99:>8.1f} {latency.samples:>4}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
