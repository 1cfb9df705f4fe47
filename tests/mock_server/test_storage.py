"""The storage layer on its own: journal replay, torn tails, atomic transactions, compaction, indexes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.database import Database, StorageError

IDS = {"parent": "pid", "child": "cid"}
INDEXES = {"child": ("pid",)}


def _initial() -> dict[str, list[dict[str, object]]]:
    return {"parent": [{"pid": "p1", "n": 1}], "child": [{"cid": "c1", "pid": "p1"}]}


_OPENED: list[Database] = []


def _open(path: Path) -> Database:
    db = Database(path, IDS, INDEXES)
    db.open(_initial)
    _OPENED.append(db)
    return db


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    while _OPENED:
        _OPENED.pop().close()


def test_a_new_file_is_created_from_the_initial_data_as_a_tinydb_document(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    db.close()
    assert json.loads((tmp_path / "db.json").read_text()) == {
        "parent": {"p1": {"pid": "p1", "n": 1}},
        "child": {"c1": {"cid": "c1", "pid": "p1"}},
    }


def test_writes_survive_without_a_clean_close_through_the_journal(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    with db.transaction():
        db.insert("parent", {"pid": "p2", "n": 2})
    with db.transaction():
        db.update("parent", "p1", {"n": 10})
        db.remove("child", ["c1"])
    # No close(): as after a crash, the snapshot is old and the journal holds the rest.
    reopened = _open(tmp_path / "db.json")
    with reopened.reading():
        assert reopened.get("parent", "p1") == {"pid": "p1", "n": 10}
        assert reopened.get("parent", "p2") == {"pid": "p2", "n": 2}
        assert reopened.get("child", "c1") is None


def test_a_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    with db.transaction():
        db.insert("parent", {"pid": "p2", "n": 2})
    with open(tmp_path / "db.json.journal", "ab") as journal:
        journal.write(b'[["parent","p3",{"pid":"p3"')
    reopened = _open(tmp_path / "db.json")
    with reopened.reading():
        assert reopened.get("parent", "p2") is not None
        assert reopened.get("parent", "p3") is None


def test_a_corrupt_journal_line_in_the_middle_is_an_error_not_silent_loss(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    with db.transaction():
        db.insert("parent", {"pid": "p2"})
    (tmp_path / "db.json.journal").write_bytes(
        b"garbage\n" + (tmp_path / "db.json.journal").read_bytes()
    )
    broken = Database(tmp_path / "db.json", IDS, INDEXES)
    with pytest.raises(StorageError, match="line 1 is corrupt"):
        broken.open(_initial)


def test_a_failed_transaction_is_undone_in_memory_and_never_journaled(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    with pytest.raises(RuntimeError), db.transaction():
        db.update("parent", "p1", {"n": 99})
        db.remove("child", ["c1"])
        db.insert("parent", {"pid": "p9"})
        raise RuntimeError("boom")
    with db.reading():
        assert db.get("parent", "p1") == {"pid": "p1", "n": 1}
        assert db.get("child", "c1") == {"cid": "c1", "pid": "p1"}
        assert db.get("parent", "p9") is None
        assert [r["cid"] for r in db.find("child", "pid", "p1")] == ["c1"]
    assert (tmp_path / "db.json.journal").read_bytes() == b""


def test_a_transaction_is_one_journal_line(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    with db.transaction():
        db.remove("child", ["c1"])
        db.remove("parent", ["p1"])
    lines = (tmp_path / "db.json.journal").read_bytes().splitlines()
    assert [json.loads(line) for line in lines] == [[["child", "c1", None], ["parent", "p1", None]]]


def test_the_journal_is_compacted_into_the_snapshot_once_it_outgrows_it(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    for n in range(1001):
        with db.transaction():
            db.insert("parent", {"pid": f"x{n}"})
    assert len((tmp_path / "db.json.journal").read_bytes().splitlines()) < 1001
    assert "x0" in json.loads((tmp_path / "db.json").read_text())["parent"]


def test_the_secondary_index_follows_inserts_updates_and_removes(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    with db.transaction():
        db.insert("child", {"cid": "c2", "pid": "p1"})
        db.insert("child", {"cid": "c3", "pid": "p2"})
        db.update("child", "c1", {"pid": "p2"})
    with db.reading():
        assert [r["cid"] for r in db.find("child", "pid", "p1")] == ["c2"]
        assert sorted(r["cid"] for r in db.find("child", "pid", "p2")) == ["c1", "c3"]
    with db.transaction():
        db.remove("child", ["c3"])
    with db.reading():
        assert [r["cid"] for r in db.find("child", "pid", "p2")] == ["c1"]


def test_a_leftover_temporary_snapshot_is_ignored(tmp_path: Path) -> None:
    db = _open(tmp_path / "db.json")
    db.close()
    (tmp_path / "db.json.tmp").write_text('{"parent": {}}')
    reopened = _open(tmp_path / "db.json")
    with reopened.reading():
        assert reopened.get("parent", "p1") is not None


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(2**64 + 1, id="integer-beyond-64-bits"),
        pytest.param(-(2**63) - 1, id="negative-integer-beyond-64-bits"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="infinity"),
    ],
)
def test_a_value_json_dumps_writes_reads_back_the_same_after_a_restart(
    tmp_path: Path, value: float
) -> None:
    db = _open(tmp_path / "db.json")
    with db.transaction():
        db.update("parent", "p1", {"n": value})
    db.close()  # compacts: the snapshot holds the value
    reopened = _open(tmp_path / "db.json")
    with reopened.reading():
        read = (reopened.get("parent", "p1") or {})["n"]
    assert type(read) is type(value)
    assert repr(read) == repr(value)  # exactly: not rounded through a float, and NaN is NaN
