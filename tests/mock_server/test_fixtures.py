"""Fixtures a team keeps in git: `--data`, the export and generate commands, and their checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server import fixtures
from mock_server.default_data import default_data
from mock_server.resources import read_mock_api
from tests.conftest import RunningMock

FORMAT = fixtures.fixture_format(read_mock_api())

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _team_fixture() -> dict[str, Any]:
    return {
        "version": 1,
        "actions": [
            {"action_id": "t-act", "action_code": "T1", "action_name": "Team", "action_type": "PER"}
        ],
        "action-session": [
            {
                "action_session_id": "team-1",
                "action_id": "t-act",
                "subtenant_id": "o1",
                "tenant_id": "t1",
            },
            {
                "action_session_id": "team-old",
                "action_id": "t-act",
                "subtenant_id": "o1",
                "tenant_id": "t1",
                "historized": True,
            },
        ],
        "action-session-subscription": [
            {
                "action_session_subscription_id": "team-sub",
                "action_session_id": "team-1",
                "action_subscription_id": "p1",
                "subtenant_id": "o1",
                "tenant_id": "t1",
                "done": 1,
            }
        ],
    }


def test_the_server_starts_from_data_files_merged_in_order_and_never_writes_them(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    first = tmp_path / "team.json"
    first.write_text(json.dumps(_team_fixture()), encoding="utf-8")
    second = tmp_path / "more.yaml"
    # YAML as people write it: unquoted dates stay the strings the API exchanges.
    second.write_text(
        "action-session:\n"
        "  - action_session_id: team-1\n"
        "    action_id: t-act\n"
        "    subtenant_id: o2\n"
        "    tenant_id: t1\n"
        "action-session-subscription:\n"
        "  - action_session_subscription_id: team-sub2\n"
        "    action_session_id: team-1\n"
        "    action_subscription_id: p2\n"
        "    subtenant_id: o2\n"
        "    tenant_id: t1\n"
        "    done: 0\n"
        "    date_begin: 2024-05-01\n",
        encoding="utf-8",
    )
    before = (first.read_bytes(), second.read_bytes())
    mock = start_mock(data_paths=(first, second))
    with mock.client() as client:
        view = client.get("/v2/action-session/view/team-1")
        assert view.status_code == 200
        assert view.json()["subtenant_id"] == "o2"  # the later file wins
        assert (view.json()["count_done"], view.json()["count_fail"]) == (1, 1)
        sub = client.get("/v2/action-session-subscription/view/team-sub2").json()
        assert sub["date_begin"] == "2024-05-01"
        assert client.get("/v2/action-session/view/sess-1").status_code == 404
        index = client.post("/v2/action-session/index", json={})
        assert index.headers["X-Pagination-Total-Count"] == "1"
        history = client.post("/v2/action-session/index", json={"history": True})
        assert history.headers["X-Pagination-Total-Count"] == "2"
        assert client.delete("/v2/action-session/delete/team-1?force=true").status_code == 204
        reset = httpx.post(f"{mock.base_url}/__mock/reset", timeout=30)
        assert reset.status_code == 200
        assert client.get("/v2/action-session/view/team-1").status_code == 200
    mock.stop()
    assert (first.read_bytes(), second.read_bytes()) == before


def test_a_changed_fixture_starts_the_database_again_and_an_unchanged_one_keeps_it(
    start_mock: Callable[..., RunningMock], tmp_path: Path
) -> None:
    data = tmp_path / "team.json"
    data.write_text(json.dumps(_team_fixture()), encoding="utf-8")
    db = tmp_path / "db.json"
    mock = start_mock(db, data_paths=(data,))
    with mock.client() as client:
        assert client.delete("/v2/action-session/delete/team-old").status_code == 204
    mock.stop()
    mock = start_mock(db, data_paths=(data,))
    with mock.client() as client:
        assert client.get("/v2/action-session/view/team-old").status_code == 404
    mock.stop()
    changed = _team_fixture()
    changed["action-session"][0]["tenant_id"] = "t9"
    data.write_text(json.dumps(changed), encoding="utf-8")
    mock = start_mock(db, data_paths=(data,))
    with mock.client() as client:
        assert client.get("/v2/action-session/view/team-old").status_code == 200
        assert client.get("/v2/action-session/view/team-1").json()["tenant_id"] == "t9"


def test_a_bad_fixture_stops_the_server_with_every_problem_by_file_record_and_field(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_team_fixture()), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "action-session": [
                    # The dangling reference that used to be served as action_name: null.
                    {
                        "action_session_id": "b-1",
                        "action_id": "gone",
                        "subtenant_id": "o",
                        "tenant_id": "t",
                    },
                    {"action_session_id": "b-2", "action_id": "t-act", "tenant_id": "t"},
                ],
                "action-session-date": [
                    {
                        "action_session_date_id": "d-1",
                        "action_session_id": "b-1",
                        "subtenant_id": "o",
                        "tenant_id": "t",
                        "date_begin": "2024-01-02T00:00:00Z",
                        "date_end": "2024-01-01T00:00:00Z",
                        "colour": "red",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("actions: [", encoding="utf-8")
    db = tmp_path / "db.json"

    done = _run("--db", str(db), "--data", str(good), "--data", str(bad), "--data", str(broken))

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "mock_server: the fixture data is invalid (5 problems); nothing loaded:"
    assert sorted(lines[1:]) == sorted(
        [
            f"  {broken}: file: while parsing a flow node",
            f'  {bad}: action-session[0] (b-1) action_id: Action "gone" does not exist.',
            f"  {bad}: action-session[1] (b-2) subtenant_id: cannot be blank.",
            f"  {bad}: action-session-date[0] (d-1) colour: is not a field of this record (a typo?).",
            f"  {bad}: action-session-date[0] (d-1) date_end: Date End must be no earlier than "
            "Date Begin.",
        ]
    )
    assert not db.exists()


def test_the_default_data_is_a_valid_fixture() -> None:
    tables = FORMAT.load([("default", FORMAT.document(default_data()))])
    assert {t: len(d) for t, d in tables.items()} == {t: len(r) for t, r in default_data().items()}


def test_export_prints_the_default_data_in_the_fixture_format(tmp_path: Path) -> None:
    done = _run("export")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document == FORMAT.document(default_data())
    # What a team starts from loads back as it is.
    path = tmp_path / "fixture.json"
    path.write_text(done.stdout, encoding="utf-8")
    again = _run("export", "--data", str(path))
    assert again.returncode == 0
    assert again.stdout == done.stdout


def test_export_of_a_running_mock_prints_its_state(client: httpx.Client, mock: RunningMock) -> None:
    assert client.delete("/v2/action-session/delete/sess-2").status_code == 204
    done = _run("export", "--url", mock.base_url)
    assert done.returncode == 0, done.stderr
    ids = {s["action_session_id"] for s in json.loads(done.stdout)["action-session"]}
    assert "sess-1" in ids
    assert "sess-2" not in ids


def test_generate_is_deterministic_byte_for_byte_whatever_the_hash_seed() -> None:
    one = _run("generate", "--sessions", "300", "--seed", "7", env={"PYTHONHASHSEED": "1"})
    two = _run("generate", "--sessions", "300", "--seed", "7", env={"PYTHONHASHSEED": "2"})
    other = _run("generate", "--sessions", "300", "--seed", "8")
    assert one.returncode == two.returncode == other.returncode == 0
    assert one.stdout == two.stdout
    assert one.stdout != other.stdout


def test_generated_data_is_valid_varied_and_of_the_size_asked() -> None:
    from mock_server.generate import generate

    document = generate(500, 3)
    tables = FORMAT.load([("generated", document)])
    sessions = document["action-session"]
    assert len(sessions) == 500
    assert {a["action_type"] for a in document["actions"]} == {
        "TRAINING",
        "MAINTENANCE",
        "HEALTH",
        "CHECK",
        "PER",
    }
    assert any(s.get("historized") for s in sessions)
    assert not all(s.get("historized") for s in sessions)
    assert {s["done"] for s in document["action-session-subscription"]} == {-1, 0, 1}
    years = {d["date_begin"][:4] for d in document["action-session-date"]}
    assert len(years) >= 5
    assert len({s["tenant_id"] for s in sessions}) >= 2
    assert len(tables["action_session_subscription"]) == len(
        document["action-session-subscription"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--journal-size", "0"], "must be more than 0", id="journal-size"),
        pytest.param(["--token", "x", "--admin-token", "x"], "must differ", id="same-token"),
    ],
)
def test_unusable_flags_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    done = _run("--db", str(tmp_path / "db.json"), *args)
    assert done.returncode == 2
    assert message in done.stderr
