"""The data a new database starts from: the brief's seed records plus enough variety to explore.

Deterministic (no clock, no randomness), so every fresh mock answers the same. It makes the seed's
examples true: action `act-1` (A001, "Safety Training", TRAINING) and an action of every other
type; `sess-1` with 10 subscriptions (8 passed, 1 failed, 1 pending) and one day on 2024-01-10;
`sess-2` with nothing related; then 46 sessions over every action type, three tenants and six
offices, some historized, with subscriptions and days.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

from mock_server.resources import HISTORIZED

Record = dict[str, Any]

_NAMESPACE = uuid.UUID("5b6f2d5e-8d0e-4c52-9a39-0a3c2b1f4e11")

ACTIONS: list[Record] = [
    {
        "action_id": "act-1",
        "action_code": "A001",
        "action_name": "Safety Training",
        "action_type": "TRAINING",
    },
    {
        "action_id": "act-2",
        "action_code": "M001",
        "action_name": "Forklift Maintenance",
        "action_type": "MAINTENANCE",
    },
    {
        "action_id": "act-3",
        "action_code": "H001",
        "action_name": "Periodic Medical Visit",
        "action_type": "HEALTH",
    },
    {
        "action_id": "act-4",
        "action_code": "C001",
        "action_name": "Fire Extinguisher Inspection",
        "action_type": "CHECK",
    },
    {
        "action_id": "act-5",
        "action_code": "P001",
        "action_name": "Safety Shoes Delivery",
        "action_type": "PER",
    },
    {
        "action_id": "act-6",
        "action_code": "A002",
        # Lower case on purpose: it sorts between "Safety Training" and "Scaffold Check" only when
        # strings compare case-insensitively, as the production database's collation does.
        "action_name": "safety workshop",
        "action_type": "TRAINING",
    },
    {
        "action_id": "act-7",
        "action_code": "C002",
        "action_name": "Scaffold Check",
        "action_type": "CHECK",
    },
]

_UNITS: list[tuple[str | None, int | None]] = [
    ("MONTH", 12),
    ("YEAR", 2),
    ("DAY", 30),
    (None, None),
    ("MONTH", 6),
]
_PEOPLE = ["Maria Rossi", "Luca Bianchi", "anna verdi", "Paolo Neri"]


def _session(
    session_id: str,
    action_id: str,
    unit: str | None,
    validity: int | None,
    subtenant: str,
    tenant: str,
    **rest: Any,
) -> Record:
    record: Record = {
        "action_session_id": session_id,
        "action_id": action_id,
        "validity_unit": unit,
        "validity": validity,
        "subtenant_id": subtenant,
        "tenant_id": tenant,
        "data": None,
        "manager": None,
        "assignee": None,
        "watcher": None,
    }
    record.update(rest)
    return record


def _subscription(
    sub_id: str, session: Record, n: int, done: int, *, day: date, **rest: Any
) -> Record:
    passed = done == 1
    record: Record = {
        "action_session_subscription_id": sub_id,
        "action_session_id": session["action_session_id"],
        "action_subscription_id": f"asub-{n}",
        "subtenant_id": session["subtenant_id"],
        "tenant_id": session["tenant_id"],
        "done": done,
        "warning": 1 if n % 7 == 0 else 0,
        "certificate_id": f"cert-{n}" if passed else None,
        "date_begin": day.isoformat() if passed else None,
        "date_expire": (day + timedelta(days=366)).isoformat() if passed else None,
        "data": None,
    }
    record.update(rest)
    return record


def _day(day_id: str, session: Record, day: date, **rest: Any) -> Record:
    record: Record = {
        "action_session_date_id": day_id,
        "action_session_id": session["action_session_id"],
        "subtenant_id": session["subtenant_id"],
        "tenant_id": session["tenant_id"],
        "date_begin": f"{day.isoformat()}T09:00:00Z",
        "date_end": f"{day.isoformat()}T17:00:00Z",
        "data": None,
    }
    record.update(rest)
    return record


def default_data() -> dict[str, list[Record]]:
    """Every table's records, in creation order."""
    sessions: list[Record] = []
    subscriptions: list[Record] = []
    days: list[Record] = []

    seed_day = date(2024, 1, 10)
    sess1 = _session("sess-1", "act-1", "MONTH", 12, "sub-1", "ten-1")
    sessions.append(sess1)
    for n, done in enumerate([1, 1, 1, 1, 1, 1, 1, 1, 0, -1], start=1):
        subscriptions.append(_subscription(f"ssub-{n}", sess1, n, done, day=seed_day))
    days.append(_day("sdate-1", sess1, seed_day))
    sessions.append(_session("sess-2", "act-2", "YEAR", 1, "sub-2", "ten-1"))

    sub_n = 100
    for n in range(3, 49):
        tenant = 1 + n % 3
        office = 2 * tenant - (n // 3) % 2
        unit, validity = _UNITS[n % len(_UNITS)]
        historized = n % 10 == 0
        extra: Record = {}
        if n % 5 == 0:
            extra["data"] = {"room": f"B{n}", "seats": 10 + n % 7}
        if n % 4 == 0:
            extra["manager"] = json.dumps({"id": f"usr-{n % 9}", "name": _PEOPLE[n % 4]})
        if n % 6 == 0:
            extra["assignee"] = json.dumps([f"usr-{n % 5}", f"usr-{n % 7}"])
        if historized:
            extra[HISTORIZED] = True
        session = _session(
            str(uuid.uuid5(_NAMESPACE, f"session-{n}")),
            # Never act-1: the seed's index example (TRAINING, sorted by name) lists sess-1 first.
            # (act-1's turn goes to act-6, the other TRAINING action).
            ACTIONS[(n % len(ACTIONS)) or 5]["action_id"],
            unit,
            validity,
            f"sub-{office}",
            f"ten-{tenant}",
            **extra,
        )
        sessions.append(session)
        first_day = date(2024, 2, 1) + timedelta(days=7 * n)
        for k in range(n % 5):
            sub_n += 1
            flags = {HISTORIZED: True} if historized or (n, k) == (7, 0) else {}
            subscriptions.append(
                _subscription(
                    str(uuid.uuid5(_NAMESPACE, f"subscription-{sub_n}")),
                    session,
                    sub_n,
                    (1, 0, -1, 1)[(n + k) % 4],
                    day=first_day,
                    **flags,
                )
            )
        for k in range(n % 3):
            flags = {HISTORIZED: True} if historized else {}
            days.append(
                _day(
                    str(uuid.uuid5(_NAMESPACE, f"date-{n}-{k}")),
                    session,
                    first_day + timedelta(days=k),
                    **flags,
                )
            )

    return {
        "action": [dict(a) for a in ACTIONS],
        "action_session": sessions,
        "action_session_subscription": subscriptions,
        "action_session_date": days,
    }
