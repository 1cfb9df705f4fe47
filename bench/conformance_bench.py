"""Benchmark (not a test): how long the `full` and `safe` conformance runs take against the mock,
and how many requests each sends, with the default budget.

    python bench/conformance_bench.py [--seed N] [--workers N]

Starts the mock as a subprocess on a free loopback port with fresh default data, runs each profile
once through the library, prints one line per profile, and stops the mock.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from conformance.config import Profile, Settings
from conformance.runner import run
from mock_server.process import MockProcess


def main() -> int:
    """Run both profiles against a fresh mock and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MockProcess(Path(tmp) / "mock.json") as mock:
        failed = False
        for profile in (Profile.FULL, Profile.SAFE):
            settings = Settings.create(
                mock.base_url,
                seed=args.seed,
                token=mock.token,
                profile=profile,
                workers=args.workers,
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
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
