"""A large database's snapshot is written by a thread, outside the lock, and a crash mid-way is harmless.

Written inline, the snapshot of a large database held the store's lock (and so every request) for
as long as it took: over a second at 200,000 records, once every as many writes.
"""

from __future__ import annotations

import json
import random
import signal
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.database import Database, JournaledStorage

IDS = {"parent": "pid", "child": "cid"}
INDEXES = {"child": ("pid",)}
RECORDS = 100_000


def _big() -> dict[str, list[dict[str, object]]]:
    return {
        "parent": [{"pid": f"p{n}", "name": f"parent number {n}", "n": n} for n in range(RECORDS)],
        "child": [{"cid": f"c{n}", "pid": f"p{n % 100}"} for n in range(RECORDS // 2)],
    }


@pytest.fixture
def compact_often(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Compact in the background after every 10 changes, whatever the database's size."""
    monkeypatch.setattr(JournaledStorage, "min_compact_changes", 10)
    monkeypatch.setattr(JournaledStorage, "compact_ratio", 0.0)
    monkeypatch.setattr(JournaledStorage, "background_compact_records", 0)
    yield


def _wait_for_compaction(journal: Path, lines: int, timeout: float = 60) -> float:
    """Seconds until the journal holds fewer than `lines` lines (the snapshot took the rest)."""
    started = time.monotonic()
    while len(journal.read_bytes().splitlines()) >= lines:
        assert time.monotonic() - started < timeout, "the compaction never finished"
        time.sleep(0.005)
    return time.monotonic() - started


def test_writes_and_reads_do_not_wait_for_the_snapshot_of_a_large_database(
    tmp_path: Path, compact_often: None
) -> None:
    db = Database(tmp_path / "db.json", IDS, INDEXES)
    db.open(_big)
    journal = tmp_path / "db.json.journal"
    latencies = []
    for n in range(11):  # the 11th change starts the compaction
        started = time.perf_counter()
        with db.transaction():
            db.update("parent", f"p{n}", {"n": -n})
        latencies.append(time.perf_counter() - started)
    during = []
    started = time.monotonic()
    for n in range(11, 31):
        t = time.perf_counter()
        with db.transaction():
            db.insert("child", {"cid": f"new{n}", "pid": "p1"})
        with db.reading():
            assert len(db.find("child", "pid", "p1")) == RECORDS // 200 + n - 10
        during.append(time.perf_counter() - t)
    compaction = _wait_for_compaction(journal, 31) + (time.monotonic() - started)
    print(
        f"\ncompaction of {RECORDS * 3 // 2} records took {compaction * 1000:.0f} ms; the write "
        f"that started it {latencies[-1] * 1000:.1f} ms; write+read during it: max "
        f"{max(during) * 1000:.1f} ms, median {statistics.median(during) * 1000:.1f} ms"
    )
    # Inline, the write that starts a compaction took all of its time, and the others waited.
    assert latencies[-1] < compaction / 5
    assert statistics.median(during) < compaction / 10
    assert max(during) < compaction / 2
    # The snapshot holds the state when it was taken, the journal the writes since, in order.
    since = [json.loads(line)[0][1] for line in journal.read_bytes().splitlines()]
    assert 1 <= len(since) <= 20
    assert since == [f"new{n}" for n in range(31 - len(since), 31)]
    snapshot = json.loads((tmp_path / "db.json").read_text())
    assert snapshot["parent"]["p10"]["n"] == -10
    assert [f"new{n}" for n in range(11, 31) if f"new{n}" in snapshot["child"]] == [
        f"new{n}" for n in range(11, 31 - len(since))
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json", "db.json.journal"]
    db.close()
    reopened = Database(tmp_path / "db.json", IDS, INDEXES)
    reopened.open(_big)
    with reopened.reading():
        assert reopened.get("child", "new30") == {"cid": "new30", "pid": "p1"}
        assert reopened.get("parent", "p10") == {"pid": "p10", "name": "parent number 10", "n": -10}
    reopened.close()


WRITER = textwrap.dedent(
    """
    import sys
    from mock_server.database import Database, JournaledStorage

    JournaledStorage.min_compact_changes = 20
    JournaledStorage.compact_ratio = 0.0
    JournaledStorage.background_compact_records = 0
    db = Database(sys.argv[1], {"parent": "pid", "child": "cid"}, {"child": ("pid",)})
    db.open(lambda: {"parent": [{"pid": f"p{n}", "pad": "x" * 200} for n in range(2000)]})
    print("ready", flush=True)
    n = int(sys.argv[2])
    while True:
        with db.transaction():
            db.insert("child", {"cid": f"c{n}", "pid": f"p{n % 2000}"})
            db.update("parent", f"p{n % 2000}", {"last": n})
        print(n, flush=True)
        n += 1
    """
)


def test_sigkill_during_background_snapshots_loses_no_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(7)
    db = tmp_path / "db.json"
    acknowledged: list[int] = []
    mid_snapshot = 0
    for kill in range(5):
        # Each run counts from its own million: a write that a kill cut off may have been applied.
        command = [sys.executable, "-c", WRITER, str(db), str(kill * 1_000_000)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.5, 1.5))
        child.send_signal(signal.SIGKILL)
        output = child.stdout.read()
        child.wait()
        child.stdout.close()
        # Every complete line is an acknowledged transaction; a cut-off last one is not.
        acknowledged += [int(line) for line in output.splitlines(keepends=True) if line[-1] == "\n"]
        # A temporary file left behind: the kill came while a snapshot was being written.
        mid_snapshot += any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    print(
        f"\n5 SIGKILLs, {mid_snapshot} during a snapshot; {len(acknowledged)} writes acknowledged"
    )
    assert len(acknowledged) > 50
    reopened = Database(db, IDS, INDEXES)
    reopened.open(lambda: {})
    with reopened.reading():
        for n in acknowledged:
            assert reopened.get("child", f"c{n}") == {"cid": f"c{n}", "pid": f"p{n % 2000}"}
        lasts = {p["pid"]: p.get("last", -1) for p in reopened.iter_raw("parent")}
    for n in acknowledged:
        assert lasts[f"p{n % 2000}"] >= n
    reopened.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
