"""Benchmark (not a test): how long the conformance runs take against the mock, and how many
requests they send, directly on loopback and through a gateway like a production one.

    python bench/conformance_bench.py [--seed N] [--concurrency N] [--latency S] [--rate N]
                                      [--conditions loopback,latency,rate]

Conditions, each against a fresh mock (a subprocess on a free loopback port, default data):
- loopback: the `full` and `safe` profiles straight to the mock;
- latency: `full` through a loopback gateway that adds `--latency` seconds (30 ms) to every
  request, without a rate limit (target: under 45 s);
- rate: `full` through a gateway that answers 429 + `Retry-After: 1` beyond `--rate` requests per
  second, the run told the same `--rate` (target: under 3x requests / rate).
The gateway is the one the tests use (`tests/conformance/gateway.py`), run as a process
of its own as a real gateway would be (in-process it would compete with the suite for the GIL).
One line per run: time, requests, requests per second, the waits the run made, the verdict and
the target, and the slowest parts of the run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from conformance.config import Network, Profile, Settings
from conformance.runner import Result, run
from mock_server.process import MockProcess

ROOT = Path(__file__).resolve().parents[1]
LATENCY_TARGET = 45.0
RATE_FACTOR = 3.0


@contextmanager
def gateway(upstream: str, *args: str) -> Iterator[tuple[str, list[str]]]:
    """The tests' gateway as a child process: (its URL, the lines it printed when it stopped)."""
    command = [sys.executable, "-m", "tests.conformance.gateway", upstream, *args]
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin is not None and process.stdout is not None
    said: list[str] = []
    try:
        yield process.stdout.readline().strip(), said
    finally:
        process.stdin.close()
        said.extend(process.stdout.read().splitlines())
        process.wait(timeout=30)


def _line(label: str, result: Result, target: str) -> str:
    verdict = "conforms" if result.ok else f"{len(result.findings)} failure(s)"
    waits = result.waits
    waited = (
        f", waited out {waits.throttled} x 429/503 ({waits.seconds:.1f} s)"
        if waits.throttled
        else ""
    )
    return (
        f"{label:<28} {result.seconds:6.1f} s, {result.requests:5d} requests, "
        f"{result.requests / max(result.seconds, 1e-9):6.1f} req/s{waited}, {verdict}{target}"
    )


def _report(result: Result) -> bool:
    slowest = sorted(result.outcomes, key=lambda o: -o.seconds)[:4]
    print("      slowest: " + ", ".join(f"{o.name} {o.seconds:.1f} s" for o in slowest))
    for outcome in result.outcomes:
        for note in outcome.notes:
            print(f"      note ({outcome.name}): {note[:300]}")
    for finding in result.findings:
        print(f"      {finding.title}: {finding.detail.splitlines()[0][:300]}")
        if finding.request:
            print(f"      {finding.request.splitlines()[0][:300]}")
    return result.ok


def main() -> int:
    """Run the chosen conditions and print the figures; 1 when a run fails or misses its target."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=Network().concurrency)
    parser.add_argument("--workers", type=int, default=None, help="Schemathesis workers")
    parser.add_argument("--latency", type=float, default=0.030)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--conditions", default="loopback,latency,rate")
    args = parser.parse_args()
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    network = Network(concurrency=args.concurrency)
    print(
        f"seed {args.seed}, concurrency {args.concurrency}, "
        f"workers {args.workers or args.concurrency}, latency {args.latency * 1000:g} ms, "
        f"rate {args.rate:g}/s"
    )
    good = True
    with tempfile.TemporaryDirectory() as tmp:
        for condition in conditions:
            with MockProcess(Path(tmp) / f"{condition}.json") as mock:

                def settings(url: str, profile: Profile = Profile.FULL, **kw: object) -> Settings:
                    return Settings.create(
                        url,
                        seed=args.seed,
                        token=mock.token,
                        profile=profile,
                        workers=args.workers,
                        network=replace(network, **kw),  # type: ignore[arg-type]
                    )

                if condition == "loopback":
                    for profile in (Profile.FULL, Profile.SAFE):
                        result = run(settings(mock.base_url, profile))
                        print(_line(f"{profile.value} loopback", result, ""))
                        good = _report(result) and good
                elif condition == "latency":
                    with gateway(mock.base_url, "--latency", str(args.latency)) as (url, _):
                        result = run(settings(url))
                    met = result.seconds < LATENCY_TARGET
                    target = f" [target < {LATENCY_TARGET:g} s: {'met' if met else 'MISSED'}]"
                    print(_line(f"full +{args.latency * 1000:g} ms gateway", result, target))
                    good = _report(result) and met and good
                elif condition == "rate":
                    with gateway(mock.base_url, "--rate", str(args.rate)) as (url, said):
                        result = run(settings(url, rate=args.rate))
                    throttled = said[-1] if said else "?"
                    floor = result.requests / args.rate
                    met = result.seconds < RATE_FACTOR * floor
                    target = (
                        f" [minimum {floor:.1f} s, x{result.seconds / floor:.2f}; target < "
                        f"{RATE_FACTOR:g}x: {'met' if met else 'MISSED'}; gateway: {throttled}]"
                    )
                    print(_line(f"full {args.rate:g}/s gateway, --rate", result, target))
                    good = _report(result) and met and good
                else:
                    parser.error(f"unknown condition {condition!r}")
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
