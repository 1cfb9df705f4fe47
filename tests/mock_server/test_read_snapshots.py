"""A reading block that scans a table reads one state, lock-free, while writes go on beside it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.database import Database

IDS = {"parent": "pid", "child": "cid"}
INDEXES = {"child": ("pid",)}


def _initial() -> dict[str, list[dict[str, object]]]:
    return {
        "parent": [{"pid": f"p{n}", "n": n} for n in range(1, 4)],
        "child": [{"cid": "c1", "pid": "p1", "data": {"k": 1}}],
    }


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "db.json", IDS, INDEXES)
    database.open(_initial)
    yield database
    database.close()


def _write_in_another_thread(db: Database) -> None:
    def write() -> None:
        with db.transaction():
            db.update("parent", "p1", {"n": 99})
            db.update("child", "c1", {"data": {"k": 2}})
            db.insert("child", {"cid": "c2", "pid": "p1"})
            db.remove("parent", ["p2"])
            db.insert("parent", {"pid": "p4", "n": 4})

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=10)
    assert not writer.is_alive(), "the write waited for the reading block"


def test_a_scan_reads_the_state_it_began_with_and_writes_do_not_wait(db: Database) -> None:
    with db.reading():
        assert [r["pid"] for r in db.iter_raw("parent")] == ["p1", "p2", "p3"]
        _write_in_another_thread(db)
        # Still the state the scan began with, records, indexes and membership alike.
        assert [r["pid"] for r in db.iter_raw("parent")] == ["p1", "p2", "p3"]
        assert db.get("parent", "p1") == {"pid": "p1", "n": 1}
        assert db.find("child", "pid", "p1") == [{"cid": "c1", "pid": "p1", "data": {"k": 1}}]
        assert db.contains("parent", "p2") and not db.contains("parent", "p4")
    with db.reading():
        assert [r["pid"] for r in db.iter_raw("parent")] == ["p1", "p3", "p4"]
        assert db.get("parent", "p1") == {"pid": "p1", "n": 99}
        assert [r["cid"] for r in db.find("child", "pid", "p1")] == ["c1", "c2"]
        assert db.get("child", "c1") == {"cid": "c1", "pid": "p1", "data": {"k": 2}}


def test_a_rolled_back_write_is_never_seen_by_a_snapshot(db: Database) -> None:
    with db.reading():
        list(db.iter_raw("child"))
    with pytest.raises(RuntimeError), db.transaction():
        db.update("child", "c1", {"pid": "p3"})
        raise RuntimeError("undone")
    with db.reading():
        assert [r["cid"] for r in db.iter_raw("child")] == ["c1"]
        assert [r["cid"] for r in db.find("child", "pid", "p1")] == ["c1"]
        assert db.find("child", "pid", "p3") == []


def test_a_whole_database_write_is_seen_by_the_next_snapshot(db: Database) -> None:
    with db.reading():
        assert len(list(db.iter_raw("parent"))) == 3
    db._db.drop_tables()  # TinyDB's whole-database write: the storage's write()
    with db.reading():
        assert list(db.iter_raw("parent")) == []
        assert db.find("child", "pid", "p1") == []
