"""The API's rules without HTTP: references, id uniqueness, date order, computed members,
delete with force and cascade, each proven on in-memory records (an overlay over base data)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain_errors import DeleteBlocked, IdTaken, InvalidRecord, RecordNotFound
from mock_server.overlay import BaseData, Overlay
from mock_server.resources import read_mock_api
from mock_server.rules import Rules

API = read_mock_api()
SESSION, SUBSCRIPTION, DAY = "action_session", "action_session_subscription", "action_session_date"


def _rules() -> Rules:
    tables: dict[str, dict[str, Any]] = {
        "action": {
            "act-1": {
                "action_id": "act-1",
                "action_code": "A1",
                "action_name": "Fire drill",
                "action_type": "TRAINING",
            }
        },
    }
    return Rules(Overlay(BaseData(tables, API.id_fields, API.indexes)), API)


def _session(rules: Rules, session_id: str = "s-1") -> dict[str, Any]:
    return rules.create(
        SESSION,
        {
            "action_session_id": session_id,
            "action_id": "act-1",
            "subtenant_id": "o",
            "tenant_id": "t",
        },
    )


def _subscription(rules: Rules, sub_id: str, done: int, session_id: str = "s-1") -> None:
    rules.create(
        SUBSCRIPTION,
        {
            "action_session_subscription_id": sub_id,
            "action_session_id": session_id,
            "action_subscription_id": "x",
            "subtenant_id": "o",
            "tenant_id": "t",
            "done": done,
        },
    )


def _day(rules: Rules, day_id: str, begin: str, end: str) -> None:
    rules.create(
        DAY,
        {
            "action_session_date_id": day_id,
            "action_session_id": "s-1",
            "subtenant_id": "o",
            "tenant_id": "t",
            "date_begin": begin,
            "date_end": end,
        },
    )


def test_create_answers_the_stored_members_only_with_unset_ones_null() -> None:
    created = _session(_rules())
    assert set(created) == set(API.resources[SESSION].stored)
    assert created["validity"] is None
    assert "action_name" not in created


def test_a_view_joins_the_action_and_counts_subscriptions_by_outcome() -> None:
    rules = _rules()
    _session(rules)
    for n, done in enumerate((1, 1, 0, -1)):
        _subscription(rules, f"sub-{n}", done)
    viewed = rules.view(SESSION, "s-1")
    assert (viewed["action_code"], viewed["action_name"], viewed["action_type"]) == (
        "A1",
        "Fire drill",
        "TRAINING",
    )
    counts = [viewed[k] for k in ("count_subscribed", "count_done", "count_fail", "count_unknown")]
    assert counts == [4, 2, 1, 1]


def test_session_dates_are_the_calendar_days_of_its_first_begin_and_last_end() -> None:
    rules = _rules()
    _session(rules)
    assert (rules.view(SESSION, "s-1")["date_begin"], rules.view(SESSION, "s-1")["date_end"]) == (
        None,
        None,
    )
    _day(rules, "d-2", "2024-03-02T09:00:00Z", "2024-03-02T17:00:00Z")
    _day(rules, "d-1", "2024-03-01T23:30:00-02:00", "2024-03-01T23:45:00-02:00")
    viewed = rules.view(SESSION, "s-1")
    # d-1 begins at 2024-03-02T01:30Z, before d-2: the day as written is kept.
    assert (viewed["date_begin"], viewed["date_end"]) == ("2024-03-01", "2024-03-02")
    day = rules.view(DAY, "d-1")
    assert (day["action_id"], day["action_name"]) == ("act-1", "Fire drill")


def test_a_subscription_takes_the_specs_defaults() -> None:
    rules = _rules()
    _session(rules)
    _subscription(rules, "sub-1", -1)
    stored = rules.view(SUBSCRIPTION, "sub-1")
    assert (stored["done"], stored["warning"]) == (-1, 0)


def test_an_unknown_reference_and_a_day_ending_before_it_begins_are_both_reported() -> None:
    rules = _rules()
    with pytest.raises(InvalidRecord) as refused:
        rules.create(
            DAY,
            {
                "action_session_id": "nope",
                "subtenant_id": "o",
                "tenant_id": "t",
                "date_begin": "2024-03-02T10:00:00Z",
                "date_end": "2024-03-02T09:00:00Z",
            },
        )
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("action_session_id", 'Action Session "nope" does not exist.'),
        ("date_end", "Date End must be no earlier than Date Begin."),
    ]
    assert rules.index(DAY, {}).total == 0  # nothing half-written


def test_a_taken_id_is_refused_and_an_unknown_one_is_not_found() -> None:
    rules = _rules()
    _session(rules)
    with pytest.raises(IdTaken):
        _session(rules)
    with pytest.raises(RecordNotFound):
        rules.update(SESSION, "nope", {"validity": 1})
    with pytest.raises(RecordNotFound):
        rules.delete(SESSION, "nope", force=True)


def test_an_update_changes_only_writable_members_and_checks_the_merged_record() -> None:
    rules = _rules()
    _session(rules)
    updated = rules.update(
        SESSION, "s-1", {"validity": 3, "action_session_id": "other", "count_done": 9}
    )
    assert (updated["action_session_id"], updated["validity"]) == ("s-1", 3)
    with pytest.raises(InvalidRecord):
        rules.update(SESSION, "s-1", {"action_id": "missing"})
    assert rules.view(SESSION, "s-1")["action_id"] == "act-1"


def test_a_delete_with_dependents_is_blocked_unless_forced_and_then_cascades() -> None:
    rules = _rules()
    _session(rules)
    _subscription(rules, "sub-1", 1)
    _day(rules, "d-1", "2024-03-02T09:00:00Z", "2024-03-02T17:00:00Z")
    with pytest.raises(DeleteBlocked) as blocked:
        rules.delete(SESSION, "s-1", force=False)
    assert [(r.entity, r.id) for r in blocked.value.related] == [
        ("ActionSessionSubscription", "sub-1"),
        ("ActionSessionDate", "d-1"),
    ]
    assert rules.view(SESSION, "s-1")["count_subscribed"] == 1
    rules.delete(SESSION, "s-1", force=True)
    for name, record_id in ((SESSION, "s-1"), (SUBSCRIPTION, "sub-1"), (DAY, "d-1")):
        with pytest.raises(RecordNotFound):
            rules.view(name, record_id)


def test_an_index_filters_and_sorts_on_computed_members_and_through_the_specs_alias() -> None:
    rules = _rules()
    for session_id, subscriptions in (("s-1", 2), ("s-2", 0), ("s-3", 1)):
        _session(rules, session_id)
        for n in range(subscriptions):
            _subscription(rules, f"{session_id}-sub-{n}", 1, session_id)
    by_count = rules.index(SESSION, {"sort": "-count_subscribed"})
    assert [r["action_session_id"] for r in by_count.items] == ["s-1", "s-3", "s-2"]
    filtered = rules.index(SESSION, {"filter": {"count_subscribed": 0}})
    assert [r["action_session_id"] for r in filtered.items] == ["s-2"]
    by_alias = rules.index(SESSION, {"sort": "-name"})
    assert [r["action_session_id"] for r in by_alias.items] == ["s-1", "s-2", "s-3"]
