"""Start-up never destroys or ignores what is on disk: it refuses, in one line, and exits 2.

Each damaged or missing file is checked twice: through `python -m mock_server` (exit status 2,
one line on stderr, the files left byte for byte as they were) and, for the exact wording that
names the file and line, through `Database.open`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.database import Database, StorageError
from mock_server.default_data import default_data
from mock_server.process import MockProcess, free_port
from mock_server.resources import read_mock_api
from openapi import SPEC_PATH
from openapi.model import read_spec
from tests.mock_server.disks import remount, small_tmpfs

API = read_mock_api()

SESS_2 = {"action_session_id": "sess-2", "action_id": "act-1"}


def _made(db: Path) -> Path:
    """A database as a crash leaves it after one journaled change: the snapshot and the journal."""
    live = db.parent / "live"
    live.mkdir()
    database = Database(live / db.name, API.id_fields, API.indexes)
    database.open(default_data)
    with database.transaction():
        database.update("action_session", "sess-2", {"validity": 3})
    for path in (live / db.name, _journal(live / db.name)):
        shutil.copyfile(path, db.parent / path.name)
    database.close()
    shutil.rmtree(live)
    return db


def _journal(db: Path) -> Path:
    return db.with_name(db.name + ".journal")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _start(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "--db", str(db), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _missing_snapshot(db: Path) -> None:
    _made(db).unlink()


def _empty_snapshot(db: Path) -> None:
    _made(db).write_bytes(b"")


def _snapshot_of_wrong_shape(db: Path) -> None:
    db.write_text('{"action_session": 5}')


def _journal_line_of_wrong_shape(db: Path) -> None:
    with open(_journal(_made(db)), "ab") as fh:
        fh.write(b"123\n")


def _journal_record_of_wrong_shape(db: Path) -> None:
    with open(_journal(_made(db)), "ab") as fh:
        fh.write(b'[["action_session","sess-2",5]]\n')


REFUSALS = [
    pytest.param(
        _missing_snapshot,
        "db.json is missing but its journal {db}.journal holds",
        id="missing-snapshot-beside-journal",
    ),
    pytest.param(_empty_snapshot, "the database {db} is empty", id="empty-snapshot"),
    pytest.param(
        _snapshot_of_wrong_shape,
        "{db}: table 'action_session' is 5, not an object of records by id",
        id="snapshot-of-wrong-shape",
    ),
    pytest.param(
        _journal_line_of_wrong_shape,
        "{db}.journal line 2 is corrupt (expected a list of [table, id, record] changes, found 123)",
        id="journal-line-of-wrong-shape",
    ),
    pytest.param(
        _journal_record_of_wrong_shape,
        "{db}.journal line 2 is corrupt (record 'sess-2' of table 'action_session' is 5, "
        "not an object)",
        id="journal-record-of-wrong-shape",
    ),
]


@pytest.mark.parametrize(("damage", "message"), REFUSALS)
def test_the_server_refuses_to_start_in_one_line_and_touches_nothing(
    tmp_path: Path, damage: object, message: str
) -> None:
    db = tmp_path / "db.json"
    assert callable(damage)
    damage(db)
    before = _files(tmp_path)
    result = _start(db)
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mock_server: ")
    assert message.format(db=db) in lines[0]
    assert "to start over from the default data, move" in lines[0]
    assert _files(tmp_path) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('{"action_session": {"sess-2": 5}}', "record 'sess-2' of table", id="record"),
        pytest.param(
            '{"action_session": {"sess-2": {"action_session_id": "sess-9"}}}',
            "record 'sess-2' of table 'action_session' has action_session_id 'sess-9', not its own id",
            id="id-mismatch",
        ),
        pytest.param("[1, 2]", "is not a TinyDB database", id="array"),
        pytest.param("  \n", "is empty", id="blank"),
        pytest.param("\xff\xfe", "cannot read the database", id="not-utf8"),
    ],
)
def test_every_snapshot_record_is_checked(tmp_path: Path, content: str, message: str) -> None:
    db = tmp_path / "db.json"
    db.write_bytes(content.encode("latin-1"))
    with pytest.raises(StorageError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Database(db, API.id_fields, API.indexes).open(default_data)
    assert db.read_bytes() == content.encode("latin-1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param(b"[]", "found an empty list", id="empty"),
        pytest.param(b'[["action_session","sess-2"]]', "a change is a list, not [table, id", id="pair"),
        pytest.param(b'[[1,"sess-2",null]]', "is not a pair of strings", id="table-not-string"),
        pytest.param(b'[["action_session","sess-2",{"action_session_id":"x"}]]', "not its own id", id="id"),
        pytest.param(b'{"a": 1', "line 2 is corrupt (not JSON)", id="torn-in-the-middle"),
    ],
)  # fmt: skip
def test_every_journal_record_is_checked_and_named_by_line(
    tmp_path: Path, line: bytes, message: str
) -> None:
    db = _made(tmp_path / "db.json")
    with open(_journal(db), "ab") as fh:
        fh.write(line + b"\n" + b'[["action_session","sess-2",null]]\n')
    journal = _journal(db).read_bytes()
    with pytest.raises(StorageError) as caught:
        Database(db, API.id_fields, API.indexes).open(default_data)
    assert f"{db}.journal line 2 " in str(caught.value)
    assert message in str(caught.value)
    assert _journal(db).read_bytes() == journal


def test_an_empty_journal_beside_a_missing_snapshot_loses_nothing_and_starts_fresh(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.json"
    _journal(db).write_bytes(b"")
    database = Database(db, API.id_fields, API.indexes)
    database.open(default_data)
    with database.reading():
        assert database.get("action_session", "sess-2") is not None
    database.close()


def test_an_unterminated_last_journal_line_was_never_acknowledged_and_is_cut_off(
    tmp_path: Path,
) -> None:
    db = _made(tmp_path / "db.json")
    with open(_journal(db), "ab") as fh:
        fh.write(b'[["action_session","sess-2",null]]')  # whole JSON, but no newline yet
    database = Database(db, API.id_fields, API.indexes)
    database.open(default_data)
    with database.reading():
        assert (database.get("action_session", "sess-2") or {})["validity"] == 3
    with database.transaction():
        database.update("action_session", "sess-2", {"validity": 4})
    database.close()
    reopened = Database(db, API.id_fields, API.indexes)
    reopened.open(default_data)
    with reopened.reading():
        assert (reopened.get("action_session", "sess-2") or {})["validity"] == 4
    reopened.close()


def test_a_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = _start(tmp_path / "a-file" / "db.json")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"mock_server: cannot create the folder {tmp_path / 'a-file'} for the database: "
        "a file of that name is in the way"
    ]


def test_a_read_only_filesystem_is_one_line_at_start(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        with MockProcess(disk / "db.json"):
            pass
        remount(disk, "ro")
        files = _files(disk)
        result = _start(disk / "db.json")
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"mock_server: cannot write the database {disk / 'db.json'}: Read-only file system"
        ]
        result = _start(disk / "new" / "db.json")
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"mock_server: cannot create the folder {disk / 'new'} for the database: "
            "Read-only file system"
        ]
        assert _files(disk) == files


def test_a_spec_connexion_refuses_is_one_line_naming_the_file_and_place(tmp_path: Path) -> None:
    # Valid YAML with resolvable references, so the kit's reading accepts it; only the OpenAPI
    # schema (which Connexion checks) says `deprecated` is a boolean.
    text = SPEC_PATH.read_text(encoding="utf-8")
    where = text.index("      responses:")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text[:where] + '      deprecated: "yes"\n' + text[where:], encoding="utf-8")
    db = tmp_path / "db.json"
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--db", str(db), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ACTIONSESSION_MOCK_SPEC": str(spec)},
    )
    first_path = next(iter(read_spec(SPEC_PATH).document["paths"]))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip().splitlines() == [
        f"mock_server: {spec}: not a valid OpenAPI 3.0 document: 'yes' is not of type "
        f"'boolean' (at paths.{first_path}.post.deprecated)"
    ]
    assert not db.exists()  # refused before the database was made
