"""Reset and start-up figures of the control API, on the default data and on generated data.

    .venv/bin/python bench/control_bench.py [--sessions 100000] [--rounds 10] [--starts 5]

For each data set it starts `python -m mock_server` as a child process (on a free loopback port,
a fresh database), then, for each round, changes a few records through the API and times
`POST /__mock/reset` as the client sees it (wall clock, request to answer). It prints the median
and the worst round, and the same for a namespace reset and for a snapshot restore.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mock_server import fixtures  # noqa: E402
from mock_server.generate import generate  # noqa: E402
from mock_server.process import MockProcess  # noqa: E402


def _timed(rounds: int, before: Callable[[int], None], action: Callable[[], httpx.Response]) -> str:
    times = []
    for n in range(rounds):
        before(n)
        began = time.perf_counter()
        answer = action()
        times.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.text
    return f"median {statistics.median(times):7.1f} ms   worst {max(times):7.1f} ms"


def measure(label: str, data: Path | None, rounds: int, workdir: Path) -> None:
    args = ["--no-access-log", "--log-level", "warning"]
    if data is not None:
        args += ["--data", str(data)]
    began = time.perf_counter()
    with MockProcess(workdir / f"{label}.json", args=args, startup_seconds=1800) as mock:
        started = time.perf_counter() - began
        api = httpx.Client(base_url=mock.base_url, headers=mock.auth_headers, timeout=600)
        control = httpx.Client(base_url=f"{mock.base_url}/__mock", timeout=600)
        health = control.get("/health").json()["counts"]
        some = [
            r["action_session_id"]
            for r in api.post("/v2/action-session/index", json={"per-page": 20}).json()
        ]

        def change(n: int, headers: dict[str, str] | None = None) -> None:
            # A test's worth of writes: one create, one update, one cascading delete.
            api.post(
                "/v2/action-session/create",
                json={"action_id": fixtures_action, "subtenant_id": "s", "tenant_id": "t"},
                headers=headers,
            )
            api.put(f"/v2/action-session/update/{some[1]}", json={"validity": n}, headers=headers)
            api.delete(f"/v2/action-session/delete/{some[n % 20]}?force=true", headers=headers)

        fixtures_action = (
            control.get("/export").json()["actions"][0]["action_id"]
            if data is None
            else _first_action(data)
        )
        ns = {"X-Mock-Namespace": "bench"}
        print(f"\n{label}: {health}")
        print(f"  start-up (to first answer)          {started * 1000:9.0f} ms")
        print(
            f"  reset, shared state                 {_timed(rounds, change, lambda: control.post('/reset'))}"
        )
        print(
            "  reset, namespace                    "
            + _timed(rounds, lambda n: change(n, ns), lambda: control.post("/reset", headers=ns))
        )
        assert control.put("/snapshots/bench").status_code in (200, 201)
        print(
            "  restore a snapshot, shared state    "
            + _timed(max(2, rounds // 3), change, lambda: control.post("/snapshots/bench/restore"))
        )
        # What namespaces cost: 50 workers, each a few writes, against the server's resident memory.
        before = _rss_mb(mock.pid)
        for n in range(50):
            change(n, {"X-Mock-Namespace": f"mem-{n}"})
        after = _rss_mb(mock.pid)
        print(
            f"  50 namespaces with 3 writes each     {after - before:+9.1f} MB resident ({before:.0f} MB before)"
        )
        api.close()
        control.close()


def measure_starts(starts: int, workdir: Path) -> None:
    """`starts` starts on the default data, each on a fresh database, timed to the first answer
    (one start is too noisy a figure on a shared machine)."""
    times = []
    for n in range(starts):
        began = time.perf_counter()
        with MockProcess(workdir / f"start-{n}.json", args=["--log-level", "warning"]):
            times.append((time.perf_counter() - began) * 1000)
    print(
        f"default data, {starts} fresh starts to first answer: median {statistics.median(times):.0f}"
        f" ms, best {min(times):.0f} ms, worst {max(times):.0f} ms"
    )


def measure_restart(label: str, data: Path, workdir: Path) -> None:
    """A restart on the database `measure` left (same --data): it serves before it reads its
    base data, which the first reset then reads."""
    args = ["--no-access-log", "--log-level", "warning", "--data", str(data)]
    print(f"\n{label}, restarted on the same database and --data:")
    began = time.perf_counter()
    with MockProcess(workdir / f"{label}.json", args=args, startup_seconds=1800) as mock:
        started = time.perf_counter() - began
        rss = _rss_mb(mock.pid)
        control = httpx.Client(base_url=f"{mock.base_url}/__mock", timeout=600)
        print(
            f"  start-up (to first answer)          {started * 1000:9.0f} ms, {rss:.0f} MB resident"
        )
        for attempt in ("first reset (reads the base data)", "second reset"):
            began = time.perf_counter()
            assert control.post("/reset").status_code == 200
            print(f"  {attempt:<35} {(time.perf_counter() - began) * 1000:9.0f} ms")
        print(f"  resident after the resets           {_rss_mb(mock.pid):9.0f} MB")
        control.close()
        stopping = time.perf_counter()
    print(
        f"  stop                                {(time.perf_counter() - stopping) * 1000:9.0f} ms"
    )


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _first_action(data: Path) -> str:
    document = fixtures.read_file(data)
    action_id: str = document["actions"][0]["action_id"]
    return action_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--starts", type=int, default=5, help="fresh starts on the default data to time"
    )
    parser.add_argument("--only-starts", action="store_true", help="time the starts, nothing else")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        measure_starts(args.starts, workdir)
        if args.only_starts:
            return
        measure("default data", None, args.rounds, workdir)
        data = workdir / "generated.json"
        began = time.perf_counter()
        data.write_text(fixtures.dumps(generate(args.sessions, 1)), encoding="utf-8")
        print(
            f"\n(generated {args.sessions} sessions in {time.perf_counter() - began:.1f} s, {data.stat().st_size / 1e6:.0f} MB)"
        )
        measure(f"{args.sessions} sessions", data, args.rounds, workdir)
        measure_restart(f"{args.sessions} sessions", data, workdir)


if __name__ == "__main__":
    main()
