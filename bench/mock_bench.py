"""Benchmark of the mock server: view and create throughput at growing database sizes.

Not a test: it prints figures. Every figure is measured in this run, with wrk as the load tool,
and set against baselines measured in the same run on the same machine:

- Prism's mock (`@stoplight/prism-cli`, pinned below) serving the same spec, when npm is there;
- TinyDB used the default way (JSONStorage, an int doc id per record, a Query per lookup), timed
  in-process: what the mock would cost without its storage design, before any HTTP.

Run: `make bench` (or `python bench/mock_bench.py --sizes 1000 10000 100000`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from mock_server.default_data import default_data
from mock_server.process import MockProcess, free_port
from mock_server.resources import read_mock_api

API = read_mock_api()

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openapi.yaml"
PRISM = "@stoplight/prism-cli@5.16.0"
TOKEN = "dev"
CREATE_BODY = {
    "action_id": "act-1",
    "validity_unit": "MONTH",
    "validity": 6,
    "subtenant_id": "sub-1",
    "tenant_id": "ten-1",
}


def build_database(path: Path, sessions: int) -> None:
    """The default data plus generated sessions, written in the mock's on-disk (TinyDB) format."""
    tables = default_data()
    have = len(tables["action_session"])
    for n in range(max(0, sessions - have)):
        tables["action_session"].append(
            {
                "action_session_id": str(uuid.UUID(int=n + 1)),
                "action_id": f"act-{1 + n % 7}",
                "validity_unit": "MONTH",
                "validity": n % 24,
                "subtenant_id": f"sub-{1 + n % 6}",
                "tenant_id": f"ten-{1 + n % 3}",
                "data": None,
                "manager": None,
                "assignee": None,
                "watcher": None,
            }
        )
    snapshot = {
        name: {rec[API.id_fields[name]]: rec for rec in records} for name, records in tables.items()
    }
    path.write_text(json.dumps(snapshot, separators=(",", ":")), encoding="utf-8")


def wait_ready(url: str, headers: dict[str, str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> tuple[float, int]:
    """Requests per second and the number of non-2xx answers."""
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "-H",
        f"Authorization: Bearer {TOKEN}",
    ]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(bad.group(1)) if bad else 0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(
    base: str, seconds: int, connections: int, create_script: Path, view_path: str
) -> dict[str, float]:
    view, view_bad = wrk(base + view_path, seconds, connections)
    create, create_bad = wrk(
        base + "/v2/action-session/create", seconds, connections, create_script
    )
    return {"view": view, "create": create, "bad": view_bad + create_bad}


def bench_mock(
    size: int, work: Path, seconds: int, connections: int, create_script: Path
) -> dict[str, float]:
    db = work / f"db-{size}.json"
    build_database(db, size)
    with MockProcess(db, token=TOKEN) as mock:
        result = measure(
            mock.base_url, seconds, connections, create_script, "/v2/action-session/view/sess-1"
        )
        result["rss_mib"] = rss_mib(mock.pid)
        return result


def bench_prism(
    work: Path, seconds: int, connections: int, create_script: Path
) -> dict[str, float] | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    prefix = work / "prism"
    subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), PRISM],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            str(prefix / "node_modules" / ".bin" / "prism"),
            "mock",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "--errors",
            str(SPEC),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/v2/action-session/view/sess-1", {"Authorization": f"Bearer {TOKEN}"})
        return measure(base, seconds, connections, create_script, "/v2/action-session/view/sess-1")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def bench_tinydb_default(work: Path, size: int) -> dict[str, float]:
    """TinyDB as its README shows it: JSONStorage, a Query per lookup, an insert per create."""
    from tinydb import Query, TinyDB

    path = work / "tinydb-default.json"
    path.unlink(missing_ok=True)
    db = TinyDB(path)
    table = db.table("action_session")
    table.insert_multiple({**CREATE_BODY, "action_session_id": f"s{n}"} for n in range(size))
    session = Query()
    views, started = 0, time.perf_counter()
    while time.perf_counter() - started < 3:
        table.get(session.action_session_id == f"s{views % size}")
        views += 1
    view_rate = views / (time.perf_counter() - started)
    creates, started = 0, time.perf_counter()
    while time.perf_counter() - started < 3:
        table.insert({**CREATE_BODY, "action_session_id": f"n{creates}"})
        creates += 1
    create_rate = creates / (time.perf_counter() - started)
    db.close()
    return {"view": view_rate, "create": create_rate}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration of each measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism baseline")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mock-bench-") as tmp:
        work = Path(tmp)
        create_script = work / "create.lua"
        create_script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(CREATE_BODY))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        print(
            f"wrk: 1 thread, {args.connections} connections, {args.seconds} s per figure; {os.cpu_count()} cores\n"
        )
        results = {
            size: bench_mock(size, work, args.seconds, args.connections, create_script)
            for size in args.sizes
        }
        print(
            f"{'records':>10} {'view req/s':>12} {'create req/s':>13} {'non-2xx':>8} {'RSS MiB':>8}"
        )
        for size, r in results.items():
            print(
                f"{size:>10} {r['view']:>12.0f} {r['create']:>13.0f} {int(r['bad']):>8} {r['rss_mib']:>8.0f}"
            )
        first, last = results[args.sizes[0]], results[args.sizes[-1]]
        print(
            f"\ncreate flatness, {args.sizes[-1]} vs {args.sizes[0]} records: {last['create'] / first['create']:.2f}x"
        )
        print(
            f"view flatness,   {args.sizes[-1]} vs {args.sizes[0]} records: {last['view'] / first['view']:.2f}x"
        )
        reference = results.get(10_000, first)
        naive = bench_tinydb_default(work, 10_000)
        print(
            f"\nTinyDB default storage, 10000 records, in-process: {naive['view']:.0f} views/s, {naive['create']:.0f} creates/s"
        )
        print(
            f"  mock over HTTP at 10000 records vs that: view {reference['view'] / naive['view']:.1f}x, create {reference['create'] / naive['create']:.1f}x"
        )
        if not args.no_prism:
            try:
                prism = bench_prism(work, args.seconds, args.connections, create_script)
            except (subprocess.CalledProcessError, RuntimeError) as exc:
                print(f"\nPrism baseline skipped: {exc}")
                prism = None
            if prism:
                print(
                    f"\nPrism {PRISM.rsplit('@', 1)[1]} (stateless, answers the spec's examples): {prism['view']:.0f} views/s, {prism['create']:.0f} creates/s"
                )
                print(
                    f"  mock at 10000 records vs Prism: view {reference['view'] / prism['view']:.2f}x, create {reference['create'] / prism['create']:.2f}x"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
