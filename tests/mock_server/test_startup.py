"""Start-up shortcuts change nothing: a fixture read unchecked loads exactly what the checks load,
and only the very content (with the same spec and checking code) that passed is read unchecked."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from mock_server import fixtures
from mock_server.database import StorageError
from mock_server.default_data import default_data
from mock_server.request_journal import RequestJournal
from mock_server.resources import read_mock_api
from mock_server.state import MockState, check_key, read_base
from openapi import SPEC_PATH

FORMAT = fixtures.fixture_format(read_mock_api())


def _fixture(path: Path, **changes: object) -> Path:
    document = FORMAT.document(
        {t: list(d.values()) for t, d in FORMAT.tables_of(default_data()).items()}
    )
    document.update(changes)
    path.write_text(fixtures.dumps(document), encoding="utf-8")
    return path


def test_a_fixture_read_unchecked_loads_exactly_what_the_checks_load(tmp_path: Path) -> None:
    first = _fixture(tmp_path / "a.json")
    # A second file replaces one session (same id: keeps its place), historizes it, adds one.
    session = {"action_session_id": "sess-2", "action_id": "act-3", "subtenant_id": "sub-9",
               "tenant_id": "ten-9", "historized": True}  # fmt: skip
    added = {"action_session_id": "sess-new", "action_id": "act-1", "subtenant_id": "sub-1",
             "tenant_id": "ten-1"}  # fmt: skip
    second = tmp_path / "b.json"
    second.write_text(json.dumps({"version": 1, "action-session": [session, added]}))
    checked = FORMAT.load_files([first, second])
    unchecked = FORMAT.load_files([first, second], checked=True)
    assert unchecked == checked
    for table in checked:  # order included: an unsorted index lists records in it
        assert [list(r.items()) for r in unchecked[table].values()] == [
            list(r.items()) for r in checked[table].values()
        ]


def test_an_edited_fixture_is_checked_again_though_its_old_content_passed(tmp_path: Path) -> None:
    path = _fixture(tmp_path / "team.json")
    _, fingerprint = read_base((path,), FORMAT)
    passed = check_key(fingerprint, SPEC_PATH)
    broken = {
        "action_session_id": "b-1",
        "action_id": "gone",
        "subtenant_id": "s",
        "tenant_id": "t",
    }
    document = json.loads(path.read_text())
    document["action-session"].append(broken)
    path.write_text(json.dumps(document))
    with pytest.raises(fixtures.FixtureInvalid) as raised:
        read_base((path,), FORMAT, passed)
    assert [str(p) for p in raised.value.fixture_problems] == [
        f"{path}: action-session[{len(document['action-session']) - 1}] (b-1) action_id: "
        'Action "gone" does not exist.'
    ]


def test_the_collector_runs_again_after_an_open_refused_or_not_and_the_records_are_frozen(
    tmp_path: Path,
) -> None:
    # The collector is paused while the records are made; left paused, every reference cycle
    # made afterwards would be kept for the life of the process.
    api = read_mock_api()

    def opened(db: Path) -> MockState:
        return MockState.open(
            db, (), journal=RequestJournal(10), max_namespaces=2, namespace_ttl=60, api=api
        )

    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(StorageError, match="is not a TinyDB database"):
        opened(tmp_path / "bad.json")
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    state = opened(tmp_path / "good.json")
    try:
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        state.close()
        gc.unfreeze()  # the other tests' garbage is collected as usual
