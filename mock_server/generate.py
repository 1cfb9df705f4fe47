"""Generated data at any size: a fixture of realistic, deterministic records for `generate`.

Names, offices and people come from Faker (seeded; only providers whose output the seed fixes:
it_IT cities, for one, are drawn from a set and change with the hash seed), the shape of the data from one
`random.Random(seed)`: actions of every type, sessions spread over the years 2019-2026 in several
tenants and offices, subscriptions with passed, failed and pending outcomes and certificates,
session days, and about one record in twelve historized. Nothing reads the clock, so the same
seed gives the same document (with the same Faker version, which pyproject.toml pins).
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker

from mock_server import fixtures

_TYPES = {
    # action type -> (code letter, how its actions are named)
    "TRAINING": ("A", "Safety course: {job}"),
    "MAINTENANCE": ("M", "Equipment maintenance by {company}"),
    "HEALTH": ("H", "Medical surveillance: {job}"),
    "CHECK": ("C", "Workplace inspection, {city} site"),
    "PER": ("P", "PPE delivery: {job}"),
}
_UNITS = {"YEAR": (1, 5), "MONTH": (3, 36), "DAY": (30, 365)}
_FIRST_DAY = date(2019, 1, 1)
_DAYS = (date(2026, 12, 31) - _FIRST_DAY).days


def generate(sessions: int, seed: int) -> dict[str, Any]:
    """A fixture document with `sessions` action sessions and what belongs to them."""
    return _Generator(seed).document(sessions)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake_it = Faker("it_IT")
        self.fake_it.seed_instance(seed)
        self.fake_en = Faker("en_US")
        self.fake_en.seed_instance(seed)

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def document(self, sessions: int) -> dict[str, Any]:
        rng = self.rng
        actions = self._actions(max(1, min(40, 5 + sessions // 2500)))
        tenants = self._tenants(max(1, min(25, 2 + sessions // 4000)))
        people = [
            {"id": f"usr-{n}", "name": self.fake_it.name()}
            for n in range(1, max(10, min(500, sessions // 20)) + 1)
        ]
        out_sessions, subscriptions, days = [], [], []
        for _ in range(sessions):
            action = rng.choice(actions)
            tenant, offices = rng.choice(tenants)
            unit = rng.choice([*_UNITS, None])
            session: dict[str, Any] = {
                "action_session_id": self._id(),
                "action_id": action["action_id"],
                "validity_unit": unit,
                "validity": rng.randint(*_UNITS[unit]) if unit else None,
                "subtenant_id": rng.choice(offices),
                "tenant_id": tenant,
                "data": None,
                "manager": None,
                "assignee": None,
                "watcher": None,
            }
            if rng.random() < 0.3:
                session["data"] = {
                    "room": f"{rng.choice('ABCDEF')}{rng.randint(1, 40)}",
                    "seats": rng.randint(5, 40),
                }
            if rng.random() < 0.6:
                session["manager"] = json.dumps(rng.choice(people), ensure_ascii=False)
            if rng.random() < 0.4:
                chosen = rng.sample(people, rng.randint(1, 3))
                session["assignee"] = json.dumps([p["id"] for p in chosen])
            if rng.random() < 0.2:
                session["watcher"] = json.dumps([rng.choice(people)["id"]])
            historized = rng.random() < 0.08
            if historized:
                session["historized"] = True
            out_sessions.append(session)
            begin = _FIRST_DAY + timedelta(days=rng.randrange(_DAYS))
            for n in range(rng.choices((0, 1, 2, 3), (2, 5, 2, 1))[0]):
                days.append(self._day(session, begin + timedelta(days=n), historized))
            count = rng.choices((0, 1, 2, 3, 4, 5, 8), (3, 2, 3, 3, 2, 1, 1))[0]
            for _ in range(count):
                subscriptions.append(self._subscription(session, begin, historized))
        return {
            "version": fixtures.VERSION,
            fixtures.ACTIONS_KEY: actions,
            "action-session": out_sessions,
            "action-session-subscription": subscriptions,
            "action-session-date": days,
        }

    def _actions(self, per_type: int) -> list[dict[str, Any]]:
        actions = []
        for kind, (letter, pattern) in _TYPES.items():
            for n in range(1, per_type + 1):
                actions.append(
                    {
                        "action_id": f"act-{letter.lower()}{n:03d}",
                        "action_code": f"{letter}{n:03d}",
                        "action_name": pattern.format(
                            job=self.fake_en.job(),
                            company=self.fake_en.company(),
                            city=self.fake_en.city(),
                        ),
                        "action_type": kind,
                    }
                )
        return actions

    def _tenants(self, count: int) -> list[tuple[str, list[str]]]:
        tenants = []
        for n in range(1, count + 1):
            offices = {
                f"sub-{n}-{_slug(self.fake_en.city())}" for _ in range(self.rng.randint(1, 4))
            }
            tenants.append((f"ten-{n}", sorted(offices)))
        return tenants

    def _day(self, session: dict[str, Any], day: date, historized: bool) -> dict[str, Any]:
        start = datetime(day.year, day.month, day.day, self.rng.choice((8, 9, 10, 14)))
        end = start + timedelta(hours=self.rng.choice((2, 4, 8)))
        record: dict[str, Any] = {
            "action_session_date_id": self._id(),
            "action_session_id": session["action_session_id"],
            "subtenant_id": session["subtenant_id"],
            "tenant_id": session["tenant_id"],
            "date_begin": start.isoformat() + "Z",
            "date_end": end.isoformat() + "Z",
            "data": None,
        }
        if historized:
            record["historized"] = True
        return record

    def _subscription(
        self, session: dict[str, Any], begin: date, historized: bool
    ) -> dict[str, Any]:
        rng = self.rng
        done = rng.choices((1, 0, -1), (7, 1, 2))[0]
        passed = done == 1
        expire = begin + timedelta(days=rng.choice((365, 730, 1095)))
        record: dict[str, Any] = {
            "action_session_subscription_id": self._id(),
            "action_session_id": session["action_session_id"],
            "action_subscription_id": f"asub-{rng.getrandbits(40):010x}",
            "subtenant_id": session["subtenant_id"],
            "tenant_id": session["tenant_id"],
            "done": done,
            "warning": 1 if rng.random() < 0.05 else 0,
            "certificate_id": f"cert-{rng.getrandbits(40):010x}" if passed else None,
            "date_begin": begin.isoformat() if passed else None,
            "date_expire": expire.isoformat() if passed else None,
            "data": None,
        }
        if historized or rng.random() < 0.03:
            record["historized"] = True
        return record


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
