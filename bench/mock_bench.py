"""Benchmark of the mock against Prism and the lean reference server, at growing data sizes.

Not a test: it prints figures. Every figure is measured in this run, on this machine, with wrk
(1 thread, 16 connections) as the load tool:

- the mock (`python -m mock_server`, its database made from a generated fixture: sessions with
  their subscriptions and days, `python -m mock_server generate --sessions N`); its creates are
  durable (answered once fsynced);
- Prism 5 (`@stoplight/prism-cli`, pinned below, installed once with npm), mocking the same spec:
  it answers the spec's examples and keeps no state;
- the conformance suite's reference server (`tests/conformance_servers/reference.py`: in memory,
  plain Starlette, bodies validated with the contract's schemas), loaded with the same fixture.

Each server is warmed up first; then the rounds alternate between the servers, so that a busy
moment of a shared machine falls on all of them, and the ratios against Prism come from the same
rounds. Besides throughput: start-up (first start, which builds the database from the fixture,
and a restart on it), RSS, and index p50/p99 per query shape (`bench/index_timing.py`), taken
right after the restart, on the data as generated (before the create rounds add to it).

Run: `make bench` (all sizes, about 10 minutes), `python bench/mock_bench.py --quick`, or
`--sizes 1000 10000`. Fixtures and Prism are cached in `data/bench/`.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_timing import SHAPES, Latency, index_latencies  # noqa: E402

from mock_server.process import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openapi.yaml"
CACHE = ROOT / "data" / "bench"
PRISM = "@stoplight/prism-cli@5.16.0"
TOKEN = "dev"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = 10


def fixture(sessions: int) -> Path:
    """The generated fixture of `sessions` sessions (made once, then cached)."""
    path = CACHE / f"fixture-{sessions}-{SEED}.json"
    if not path.exists() or path.stat().st_size == 0:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as out:
            subprocess.run(
                [sys.executable, "-m", "mock_server", "generate", "--sessions", str(sessions),
                 "--seed", str(SEED)],
                stdout=out, check=True, cwd=ROOT,
            )  # fmt: skip
        tmp.replace(path)
    return path


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class Server:
    """A server process under test, started in its own process group."""

    name: str
    command: list[str]
    ready_path: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300) -> float:
        """Start and wait for an answer to `ready_path`; the seconds that took."""
        began = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                if (
                    httpx.get(self.base_url + self.ready_path, headers=AUTH, timeout=5).status_code
                    < 500
                ):
                    self.started_in = time.monotonic() - began
                    return self.started_in
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGINT: the mock compacts its database and exits cleanly; the others just exit.
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def rss(self) -> float:
        return rss_mib(self.process.pid) if self.process is not None else float("nan")


def mock_server(db: Path, data: Path, view_path: str) -> Server:
    port = free_port()
    return Server(
        "mock",
        [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(port),
         "--db", str(db), "--data", str(data), "--token", TOKEN, "--no-access-log",
         "--log-level", "warning"],
        view_path, port,
    )  # fmt: skip


def reference_server(data: Path, view_path: str) -> Server:
    port = free_port()
    script = str(ROOT / "bench" / "reference_server.py")
    command = [sys.executable, script, "--port", str(port), "--fixture", str(data)]
    return Server("reference", command, view_path, port)


def prism_server() -> Server | None:
    """Prism mocking the spec (installed once into data/bench/prism), or None without npm."""
    prefix = CACHE / "prism"
    binary = prefix / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None
        subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(prefix), PRISM],
            check=True, capture_output=True,
        )  # fmt: skip
    port = free_port()
    return Server(
        "prism",
        [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(SPEC)],
        "/v2/action-session/view/sess-1", port,
    )  # fmt: skip


def wrk(url: str, seconds: float, script: Path | None = None) -> tuple[int, float, int]:
    """Requests answered, seconds taken and non-2xx answers, with 1 thread and 16 connections."""
    # wrk takes whole seconds only ("-d5.0s" is an error).
    cmd = [
        "wrk",
        "-t1",
        "-c16",
        f"-d{max(1, round(seconds))}s",
        "-H",
        f"Authorization: Bearer {TOKEN}",
    ]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    assert found is not None, out
    took = float(found.group(2)) / (1000 if found.group(3) == "ms" else 1)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return int(found.group(1)), took, int(bad.group(1)) if bad else 0


@dataclass
class Rate:
    """Requests and seconds summed over rounds."""

    requests: int = 0
    seconds: float = 0.0
    bad: int = 0

    def add(self, measured: tuple[int, float, int]) -> None:
        self.requests += measured[0]
        self.seconds += measured[1]
        self.bad += measured[2]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


@dataclass
class SizeResult:
    """Everything measured at one data size."""

    sessions: int
    records: int
    view: dict[str, Rate] = field(default_factory=dict)
    create: dict[str, Rate] = field(default_factory=dict)
    startup: dict[str, float] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)
    index: dict[str, dict[str, Latency | None]] = field(default_factory=dict)


def _targets(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A view path and a create body that name records the fixture holds."""
    session = next(s for s in data["action-session"] if not s.get("historized"))
    body = {
        "action_id": data["actions"][0]["action_id"],
        "validity_unit": "MONTH",
        "validity": 6,
        "subtenant_id": session["subtenant_id"],
        "tenant_id": session["tenant_id"],
    }
    return f"/v2/action-session/view/{session['action_session_id']}", body


def bench_size(
    sessions: int, work: Path, prism: Server | None, args: argparse.Namespace
) -> SizeResult:
    data_path = fixture(sessions)
    data = json.loads(data_path.read_text(encoding="utf-8"))
    view_path, create_body = _targets(data)
    records = sum(len(v) for k, v in data.items() if isinstance(v, list))
    del data
    create_script = work / f"create-{sessions}.lua"
    create_script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(create_body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    prism_create = work / "create-prism.lua"
    prism_create.write_text(create_script.read_text())
    result = SizeResult(sessions, records)
    mock = mock_server(work / f"mock-{sessions}.json", data_path, view_path)
    result.startup["mock first start"] = mock.start()
    mock.stop()
    result.startup["mock"] = mock.start()
    reference = reference_server(data_path, view_path)
    result.startup["reference"] = reference.start()
    servers: list[tuple[Server, str]] = [(mock, view_path), (reference, view_path)]
    if prism is not None:
        servers.append((prism, "/v2/action-session/view/sess-1"))
    try:
        # The index first, on the data as generated: after the create rounds a store holds
        # thousands more sessions (at "1,000", the mock held about 13,000 and the reference,
        # whose joins scan every record, timed out).
        result.index["mock"] = index_latencies(
            mock.base_url, AUTH, samples=args.index_samples, budget=args.index_budget
        )
        if sessions <= args.reference_index_max:
            result.index["reference"] = index_latencies(
                reference.base_url, AUTH, samples=args.index_samples, budget=args.index_budget
            )
        for server, path in servers:  # warm up: JITs, caches, connection pools
            wrk(server.base_url + path, args.warmup)
            wrk(server.base_url + "/v2/action-session/create", args.warmup, create_script)
        for server, _ in servers:
            result.view[server.name] = Rate()
            result.create[server.name] = Rate()
        for round_number in range(args.rounds):
            turn = servers[round_number % len(servers) :] + servers[: round_number % len(servers)]
            for server, path in turn:
                result.view[server.name].add(wrk(server.base_url + path, args.seconds))
            for server, _ in turn:
                url = server.base_url + "/v2/action-session/create"
                result.create[server.name].add(wrk(url, args.seconds, create_script))
        for server, _ in servers:
            result.rss[server.name] = server.rss
    finally:
        mock.stop()
        reference.stop()
    return result


def _fmt(value: float, digits: int = 0) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"  # NaN: not measured


def report(results: Sequence[SizeResult], args: argparse.Namespace) -> None:
    print(
        f"\nwrk: 1 thread, 16 connections, {args.seconds} s per figure, {args.rounds} alternating "
        f"rounds summed after {args.warmup} s of warm-up each; {os.cpu_count()} cores. "
        "Mock creates are durable (fsynced); Prism and the reference keep creates in memory "
        "(Prism keeps nothing)."
    )
    print(
        f"\n{'sessions':>9} {'records':>9} {'server':<10} {'view req/s':>11} {'create req/s':>13}"
        f" {'view/Prism':>11} {'create/Prism view':>18} {'create/Prism':>13} {'non-2xx':>8}"
    )
    # The targets: view at least 2x Prism's view; durable create at least Prism's view.
    for r in results:
        prism_view = r.view.get("prism", Rate()).per_second
        prism_create = r.create.get("prism", Rate()).per_second
        for name in r.view:
            view, create = r.view[name].per_second, r.create[name].per_second
            print(
                f"{r.sessions:>9,} {r.records:>9,} {name:<10} {_fmt(view):>11} {_fmt(create):>13}"
                f" {_fmt(view / prism_view, 2):>11} {_fmt(create / prism_view, 2):>18}"
                f" {_fmt(create / prism_create, 2):>13}"
                f" {r.view[name].bad + r.create[name].bad:>8}"
            )
    print(
        f"\n{'sessions':>9} {'mock 1st start s':>17} {'mock restart s':>15} {'mock RSS MiB':>13}"
        f" {'ref start s':>12} {'ref RSS MiB':>12} {'Prism RSS MiB':>14}"
    )
    for r in results:
        print(
            f"{r.sessions:>9,} {_fmt(r.startup['mock first start'], 2):>17}"
            f" {_fmt(r.startup['mock'], 2):>15} {_fmt(r.rss.get('mock', float('nan'))):>13}"
            f" {_fmt(r.startup['reference'], 2):>12} {_fmt(r.rss.get('reference', float('nan'))):>12}"
            f" {_fmt(r.rss.get('prism', float('nan'))):>14}"
        )
    for server in ("mock", "reference"):
        sizes = [r for r in results if server in r.index]
        if not sizes:
            continue
        print(f"\nindex p50 / p99 ms, {server} (one request at a time, before the create rounds)")
        print(f"{'shape':<28}" + "".join(f" {r.sessions:>17,}" for r in sizes))
        for shape in SHAPES:
            cells = []
            for r in sizes:
                latency = r.index[server].get(shape.name)
                cells.append(
                    "timeout" if latency is None else f"{latency.p50:.1f} / {latency.p99:.1f}"
                )
            print(f"{shape.name:<28}" + "".join(f" {c:>17}" for c in cells))
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"\nmock flatness, {last.sessions:,} vs {first.sessions:,} sessions:", end="")
        for what, table in (("view", "view"), ("create", "create")):
            a = getattr(first, table)["mock"].per_second
            b = getattr(last, table)["mock"].per_second
            print(f" {what} {b / a:.2f}x", end="")
        print()
        # An index's rate is one over its latency: the p50 at the first size over the last.
        ratios = {
            shape.name: first_index.p50 / last_index.p50
            for shape in SHAPES
            if (first_index := first.index.get("mock", {}).get(shape.name)) is not None
            and (last_index := last.index.get("mock", {}).get(shape.name)) is not None
        }
        if ratios:
            low, high = min(ratios, key=ratios.__getitem__), max(ratios, key=ratios.__getitem__)
            print(
                f"mock index flatness (p50 rate), {last.sessions:,} vs {first.sessions:,}: "
                f"{ratios[low]:.2f}x ({low}) to {ratios[high]:.2f}x ({high})"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--seconds", type=float, default=4, help="wrk duration of each figure")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per figure")
    parser.add_argument("--warmup", type=float, default=2, help="wrk warm-up per server and op")
    parser.add_argument("--index-samples", type=int, default=40)
    parser.add_argument("--index-budget", type=float, default=4.0, help="seconds per index shape")
    parser.add_argument(
        "--reference-index-max",
        type=int,
        default=1_000,
        help="time the reference's index up to this many sessions (its joins scan every record)",
    )
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism baseline")
    parser.add_argument(
        "--quick", action="store_true", help="1k and 10k, short figures: a smoke run"
    )
    args = parser.parse_args(argv)
    if args.quick:
        if args.sizes == parser.get_default("sizes"):
            args.sizes = [1_000, 10_000]
        args.seconds, args.rounds, args.warmup = 2, 1, 1
        args.index_samples, args.index_budget = 10, 1.5
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    prism = None
    if not args.no_prism:
        try:
            prism = prism_server()
            if prism is not None:
                prism.start()
                # A cold Prism (Node's JIT) is several times slower than a warm one.
                view = prism.base_url + "/v2/action-session/view/sess-1"
                wrk(view, args.warmup * 3)
        except (subprocess.CalledProcessError, RuntimeError) as exc:
            print(f"Prism baseline skipped: {exc}", file=sys.stderr)
            prism = None
    began = time.monotonic()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="mock-bench-") as tmp:
            for size in args.sizes:
                print(f"bench: {size:,} sessions ...", file=sys.stderr, flush=True)
                results.append(bench_size(size, Path(tmp), prism, args))
    finally:
        if prism is not None:
            prism.stop()
    report(results, args)
    print(f"\n(run took {time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
