"""Benchmark (not a test): how long the `full` and `safe` conformance runs take against the mock,
and how many requests each sends, with the default budget.

    python bench/conformance_bench.py [--seed N] [--workers N]

Starts the mock as a subprocess on a free loopback port with fresh default data, runs each profile
once through the library, prints one line per profile, and stops the mock.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from conformance.config import Profile, Settings
from conformance.runner import run

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            answer = httpx.post(
                f"{url}/v2/action-session/index", json={}, headers={"Authorization": "Bearer dev"}
            )
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the mock did not start")


def main() -> int:
    """Run both profiles against a fresh mock and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "mock_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(Path(tmp) / "mock.json"),
            "--auth",
            "on",
            "--token",
            "dev",
        ]
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait(url, process)
            failed = False
            for profile in (Profile.FULL, Profile.SAFE):
                settings = Settings.create(
                    url, seed=args.seed, token="dev", profile=profile, workers=args.workers
                )
                result = run(settings)
                failed = failed or not result.ok
                verdict = "conforms" if result.ok else f"{len(result.findings)} failure(s)"
                print(
                    f"{profile.value:>4}: {result.seconds:6.1f} s, {result.requests:5d} requests, "
                    f"{verdict} (seed {args.seed}, workers {args.workers})"
                )
                for finding in result.findings:
                    print(f"      {finding.title}: {finding.detail.splitlines()[0][:300]}")
                    print(f"      {finding.request.splitlines()[0][:300]}")
        finally:
            process.terminate()
            process.wait(timeout=20)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
