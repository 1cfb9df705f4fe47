"""Crash consistency: SIGKILL at random moments under concurrent writes loses no acknowledged answer.

Four writers run against a real `python -m mock_server` child process: creates of sessions,
subscriptions and days, updates, moves of subscriptions between sessions, deletes and forced
deletes. Each writer owns its records (ids `w<k>-...`), so its own order of acknowledged answers is
the order in which its changes were applied, and a model of what the server must hold follows from
the answers alone. At a random (seeded) moment the server is killed with SIGKILL; it is restarted
on the same files and its whole state is compared with the model: every record (stored fields),
the totals, and the counts and dates that sessions compute from their subscriptions and days.

A request that was in flight at the kill got no answer: its change may or may not have been
applied, but wholly or not at all; the test accepts exactly those two states and goes on from the
one it finds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mock_server.process import MockProcess
from mock_server.resources import read_mock_api
from tests.conftest import AUTH

RESOURCES = read_mock_api().resources

SEED = 1229
WRITERS = 4
ROUNDS = 4
TENANT = "ten-crash"
SESSION, SUBSCRIPTION, DAY = "action_session", "action_session_subscription", "action_session_date"
Tables = dict[str, dict[str, dict[str, Any]]]


def _path(table: str) -> str:
    return RESOURCES[table].path("index").rsplit("/", 1)[0]


def _stored(table: str, record: dict[str, Any]) -> dict[str, Any]:
    return {f: record.get(f) for f in RESOURCES[table].stored}


@dataclass
class Change:
    """One request and the change it makes to the writer's model if it is applied."""

    method: str
    url: str
    body: dict[str, Any] | None
    expected: int
    apply: Callable[[Tables, dict[str, Any] | None], None]
    touches: list[tuple[str, str]]


@dataclass
class Writer:
    """A client that owns the records whose ids start with `w<k>-`, and its model of them."""

    number: int
    rng: random.Random
    model: Tables = field(default_factory=lambda: {SESSION: {}, SUBSCRIPTION: {}, DAY: {}})
    made: int = 0
    acknowledged: int = 0
    in_flight: Change | None = None
    in_flight_outcomes: list[str] = field(default_factory=list)
    unexpected: str | None = None

    def _new_id(self, kind: str) -> str:
        self.made += 1
        return f"w{self.number}-{kind}{self.made}"

    def _common(self) -> dict[str, Any]:
        return {"tenant_id": TENANT, "subtenant_id": f"sub-w{self.number}"}

    def _day(self) -> str:
        return f"2025-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def next_change(self) -> Change:
        rng, model = self.rng, self.model
        sessions, subs, days = list(model[SESSION]), list(model[SUBSCRIPTION]), list(model[DAY])
        kinds = ["create-session"] * 3
        if sessions:
            kinds += ["create-subscription"] * 4 + ["create-day"] * 2 + ["update-session"] * 2
            kinds += ["force-delete-session"]
        if subs:
            kinds += ["update-subscription"] * 2 + ["delete-subscription"]
            if len(sessions) > 1:
                kinds += ["move-subscription"] * 2
        if days:
            kinds += ["update-day"]
        kind = rng.choice(kinds)

        def store(table: str, record_id: str) -> Callable[[Tables, dict[str, Any] | None], None]:
            def apply(tables: Tables, answer: dict[str, Any] | None) -> None:
                assert answer is not None
                tables[table][record_id] = _stored(table, answer)

            return apply

        if kind == "create-session":
            record_id = self._new_id("s")
            body = {
                SESSION + "_id": record_id,
                "action_id": rng.choice(["act-1", "act-2"]),
                "validity": rng.randint(0, 9),
                "validity_unit": "MONTH",
                **self._common(),
            }
            return Change(
                "POST",
                f"{_path(SESSION)}/create",
                body,
                201,
                store(SESSION, record_id),
                [(SESSION, record_id)],
            )
        if kind == "create-subscription":
            record_id = self._new_id("u")
            body = {
                SUBSCRIPTION + "_id": record_id,
                "action_session_id": rng.choice(sessions),
                "action_subscription_id": f"a-{record_id}",
                "done": rng.choice([-1, 0, 1]),
                **self._common(),
            }
            return Change(
                "POST",
                f"{_path(SUBSCRIPTION)}/create",
                body,
                201,
                store(SUBSCRIPTION, record_id),
                [(SUBSCRIPTION, record_id)],
            )
        if kind == "create-day":
            record_id = self._new_id("d")
            begin = self._day()
            body = {
                DAY + "_id": record_id,
                "action_session_id": rng.choice(sessions),
                "date_begin": f"{begin}T08:00:00Z",
                "date_end": f"{begin}T17:00:00Z",
                **self._common(),
            }
            return Change(
                "POST", f"{_path(DAY)}/create", body, 201, store(DAY, record_id), [(DAY, record_id)]
            )
        if kind == "update-session":
            record_id = rng.choice(sessions)
            body = {"validity": rng.randint(10, 99)}
            return Change(
                "PUT",
                f"{_path(SESSION)}/update/{record_id}",
                body,
                200,
                store(SESSION, record_id),
                [(SESSION, record_id)],
            )
        if kind in ("update-subscription", "move-subscription"):
            record_id = rng.choice(subs)
            if kind == "move-subscription":
                current = model[SUBSCRIPTION][record_id]["action_session_id"]
                body = {"action_session_id": rng.choice([s for s in sessions if s != current])}
            else:
                body = {"done": rng.choice([-1, 0, 1])}
            return Change(
                "PUT",
                f"{_path(SUBSCRIPTION)}/update/{record_id}",
                body,
                200,
                store(SUBSCRIPTION, record_id),
                [(SUBSCRIPTION, record_id)],
            )
        if kind == "update-day":
            record_id = rng.choice(days)
            begin = model[DAY][record_id]["date_begin"][:10]
            body = {"date_end": f"{begin}T{rng.randint(9, 23):02d}:30:00Z"}
            return Change(
                "PUT",
                f"{_path(DAY)}/update/{record_id}",
                body,
                200,
                store(DAY, record_id),
                [(DAY, record_id)],
            )
        if kind == "delete-subscription":
            record_id = rng.choice(subs)

            def remove(tables: Tables, _answer: dict[str, Any] | None) -> None:
                del tables[SUBSCRIPTION][record_id]

            return Change(
                "DELETE",
                f"{_path(SUBSCRIPTION)}/delete/{record_id}",
                None,
                204,
                remove,
                [(SUBSCRIPTION, record_id)],
            )
        assert kind == "force-delete-session"
        record_id = rng.choice(sessions)
        related = [
            (t, i)
            for t in (SUBSCRIPTION, DAY)
            for i, r in model[t].items()
            if r["action_session_id"] == record_id
        ]

        def cascade(tables: Tables, _answer: dict[str, Any] | None) -> None:
            for table, related_id in related:
                del tables[table][related_id]
            del tables[SESSION][record_id]

        return Change(
            "DELETE",
            f"{_path(SESSION)}/delete/{record_id}?force=true",
            None,
            204,
            cascade,
            [(SESSION, record_id), *related],
        )

    def run(self, base_url: str) -> None:
        """Write until the server is gone; the request it was making then is left in flight."""
        with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as client:
            while True:
                change = self.next_change()
                try:
                    response = client.request(change.method, change.url, json=change.body)
                except httpx.TransportError:
                    self.in_flight = change
                    return
                if response.status_code != change.expected:
                    self.unexpected = (
                        f"{change.method} {change.url}: {response.status_code} {response.text}"
                    )
                    return
                change.apply(self.model, response.json() if response.content else None)
                self.acknowledged += 1

    def settle(self, actual: Tables) -> None:
        """Take the in-flight change as applied or not, whichever the server holds, whole."""
        change, self.in_flight = self.in_flight, None
        if change is None:
            return
        if _mine(actual, self.number) == self.model:
            self.in_flight_outcomes.append("absent")
            return
        applied: Tables = {t: dict(records) for t, records in self.model.items()}
        guess = None
        if change.expected != 204:
            table, record_id = change.touches[0]
            guess = {**applied[table].get(record_id, {}), **(change.body or {})}
            guess = {**{f: None for f in RESOURCES[table].stored}, **guess}
            if change.expected == 201:
                guess.update(RESOURCES[table].defaults | (change.body or {}))
        change.apply(applied, guess)
        assert _mine(actual, self.number) == applied, (
            f"writer {self.number}: after the crash its records match neither its acknowledged "
            f"answers nor those plus the change in flight ({change.method} {change.url} "
            f"{change.body}) wholly applied"
        )
        self.model = applied
        self.in_flight_outcomes.append("applied")


def _mine(tables: Tables, number: int) -> Tables:
    prefix = f"w{number}-"
    return {
        t: {i: r for i, r in records.items() if i.startswith(prefix)}
        for t, records in tables.items()
    }


def _all_records(client: httpx.Client, table: str, search: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        body = {
            **search,
            "history": True,
            "per-page": 100,
            "page": page,
            "sort": RESOURCES[table].id_field,
        }
        response = client.post(f"{_path(table)}/index", json=body)
        assert response.status_code == 200, response.text
        records += response.json()
        if page >= int(response.headers["X-Pagination-Page-Count"]):
            return records
        page += 1


def _total(client: httpx.Client, table: str) -> int:
    response = client.post(f"{_path(table)}/index", json={"history": True, "per-page": 1})
    return int(response.headers["X-Pagination-Total-Count"])


def _check_state(client: httpx.Client, writers: list[Writer], baseline: dict[str, int]) -> None:
    answered = {t: _all_records(client, t, {"filter": {"tenant_id": TENANT}}) for t in RESOURCES}
    actual: Tables = {
        t: {r[RESOURCES[t].id_field]: _stored(t, r) for r in records}
        for t, records in answered.items()
    }
    for writer in writers:
        writer.settle(actual)
    expected: Tables = {t: {} for t in RESOURCES}
    for writer in writers:
        for table, records in writer.model.items():
            expected[table].update(records)
    for table in RESOURCES:
        assert actual[table] == expected[table], f"{table} differs from the acknowledged answers"
        assert _total(client, table) == baseline[table] + len(expected[table])
    for session in answered[SESSION]:
        session_id = session["action_session_id"]
        done = [
            s["done"]
            for s in expected[SUBSCRIPTION].values()
            if s["action_session_id"] == session_id
        ]
        days = [d for d in expected[DAY].values() if d["action_session_id"] == session_id]
        assert (
            session["count_subscribed"],
            session["count_done"],
            session["count_fail"],
            session["count_unknown"],
            session["date_begin"],
            session["date_end"],
        ) == (
            len(done),
            done.count(1),
            done.count(0),
            done.count(-1),
            min((d["date_begin"] for d in days), default="")[:10] or None,
            max((d["date_end"] for d in days), default="")[:10] or None,
        ), session_id


def test_sigkill_at_random_moments_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    db = tmp_path / "crash.json"
    writers = [Writer(k, random.Random(SEED * 100 + k)) for k in range(WRITERS)]
    mock = MockProcess(db).start()
    try:
        with httpx.Client(base_url=mock.base_url, headers=AUTH) as client:
            baseline = {t: _total(client, t) for t in RESOURCES}
        kills = []
        for _ in range(ROUNDS):
            threads = [threading.Thread(target=w.run, args=(mock.base_url,)) for w in writers]
            for thread in threads:
                thread.start()
            kills.append(rng.uniform(0.3, 2.0))
            time.sleep(kills[-1])
            mock.kill()
            for thread in threads:
                thread.join(timeout=60)
                assert not thread.is_alive()
            assert [w.unexpected for w in writers] == [None] * WRITERS
            mock = MockProcess(db).start()
            with httpx.Client(base_url=mock.base_url, headers=AUTH, timeout=30) as client:
                _check_state(client, writers, baseline)
    finally:
        mock.kill()
    acknowledged = sum(w.acknowledged for w in writers)
    outcomes = [o for w in writers for o in w.in_flight_outcomes]
    print(
        f"\n{ROUNDS} SIGKILLs at {[round(k, 2) for k in kills]} s: {acknowledged} writes "
        f"acknowledged; of {len(outcomes)} in flight, {outcomes.count('applied')} applied"
    )
    assert acknowledged > 100 * ROUNDS
