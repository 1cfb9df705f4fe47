"""Where a request's time goes: py-spy samples a mock child process while wrk loads one operation.

Not a test: it prints a profile. `pip install py-spy` first (it is not a dependency of the
project). Run `python bench/profile_path.py view` (or `create`, `index`; `--data FILE` to serve
a generated fixture instead): the mock starts on the default data, wrk warms it up and then loads it while py-spy records every thread; the table is
each frame's share of the samples taken on the event loop's thread (the one that serves every
request; the worker threads and the fsync thread are listed apart), inclusive of what it calls,
for the mock's own modules, Connexion's middleware and decorators, jsonschema and uvicorn.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mock_server.process import MockProcess

OPERATIONS = {
    "view": ("GET", "/v2/action-session/view/sess-1", None),
    "create": (
        "POST",
        "/v2/action-session/create",
        {"action_id": "act-1", "subtenant_id": "sub-1", "tenant_id": "ten-1"},
    ),
    "index": ("POST", "/v2/action-session/index", {"sort": "-count_subscribed"}),
}
SHOWN = re.compile(
    r"mock_server|connexion/(middleware|decorators|validators|security)|jsonschema|uvicorn|"
    r"starlette/(responses|routing)|anyio"
)


def _frame(raw: str) -> str:
    name = re.sub(r":\d+\)", ")", raw)
    return re.sub(r"\(/\S*/(site-packages|lib/python3\.\d+|wt-[^/]+|work)/", "(", name)


def summarise(raw_file: Path, top: int) -> None:
    threads: collections.Counter[str] = collections.Counter()
    loop_total = 0
    inclusive: collections.Counter[str] = collections.Counter()
    others: collections.Counter[str] = collections.Counter()
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        thread = re.sub(r"\s*\(\d+\)", "", frames[0]).replace("thread ", "")
        threads[thread] += n
        if "MainThread" not in frames[0]:
            for name in dict.fromkeys(_frame(f) for f in frames[1:]):
                if "mock_server" in name or "anyio" in name:
                    others[f"{thread}: {name}"] += n
            continue
        loop_total += n
        for name in dict.fromkeys(_frame(f) for f in frames[1:]):
            inclusive[name] += n
    print("samples per thread:", ", ".join(f"{t} {n}" for t, n in threads.most_common(6)))
    if others:
        print("\nother threads, their most sampled frames of ours (inclusive):")
        for name, n in others.most_common(8):
            print(f"{n:6d}  {name}")
    print(f"\nevent loop thread ({loop_total} samples), inclusive share:")
    shown = 0
    for name, n in inclusive.most_common():
        if SHOWN.search(name):
            print(f"{100 * n / loop_total:6.1f}%  {name}")
            shown += 1
            if shown >= top:
                break


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("operation", choices=sorted(OPERATIONS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument(
        "--data", type=Path, help="a fixture file to serve (a `generate` one): a large data set"
    )
    args = parser.parse_args()
    for tool in ("wrk", "py-spy"):
        if shutil.which(tool) is None:
            print(f"profile: {tool} is not installed", file=sys.stderr)
            return 2
    method, path, body = OPERATIONS[args.operation]
    mock_args: list[str] = []
    if args.data is not None:
        # The fixture's own records: the default data's ids are not in a generated one.
        document = json.loads(args.data.read_bytes())
        session = document["action-session"][0]
        if args.operation == "view":
            path = f"/v2/action-session/view/{session['action_session_id']}"
        elif args.operation == "create":
            body = {**(body or {}), "action_id": document["actions"][0]["action_id"]}
        mock_args = ["--data", str(args.data.resolve())]
    with tempfile.TemporaryDirectory(prefix="mock-profile-") as tmp:
        work = Path(tmp)
        script = work / "request.lua"
        script.write_text(
            f'wrk.method = "{method}"\n'
            + (f"wrk.body = {json.dumps(json.dumps(body))}\n" if body else "")
            + 'wrk.headers["Content-Type"] = "application/json"\n'
        )
        raw = work / "profile.raw"
        with MockProcess(work / "db.json", args=mock_args, startup_seconds=600) as mock:
            wrk = ["wrk", "-t1", "-c16", "-H", "Authorization: Bearer dev", "-s", str(script)]
            url = mock.base_url + path
            subprocess.run([*wrk, "-d2s", url], check=True, capture_output=True)
            load = subprocess.Popen(
                [*wrk, f"-d{args.seconds + 2}s", url], stdout=subprocess.PIPE, text=True
            )
            time.sleep(1)
            subprocess.run(
                ["py-spy", "record", "-p", str(mock.pid), "-d", str(args.seconds), "-r", "200",
                 "-f", "raw", "--threads", "-o", str(raw)],
                check=True, capture_output=True,
            )  # fmt: skip
            out, _ = load.communicate()
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
        print(f"{args.operation}: {rate.group(1) if rate else '?'} req/s under wrk -c16\n")
        summarise(raw, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
