"""Order and equality judgements tolerate what the contract allows and nothing more."""

from __future__ import annotations

import pytest

from conformance.values import matches, order_problem
from openapi.model import FieldKind

STRING = FieldKind("name", "string")
INTEGER = FieldKind("n", "integer")
STAMP = FieldKind("at", "date-time")


@pytest.mark.parametrize(
    ("kind", "listed", "descending"),
    [
        pytest.param(STRING, ["apple", "Banana", "cherry"], False, id="case-insensitive-collation"),
        pytest.param(STRING, ["Banana", "apple", "cherry"], False, id="code-point-order"),
        pytest.param(
            STRING, ["eclair", "Éclat", "eclipse"], False, id="accent-insensitive-collation"
        ),
        pytest.param(INTEGER, [None, None, 1, 2, 2], False, id="nulls-first-ascending"),
        pytest.param(INTEGER, [3, 2, None], True, id="nulls-last-descending"),
        pytest.param(INTEGER, [None, 3, 2], True, id="nulls-first-descending"),
        pytest.param(
            STAMP,
            ["2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00Z"],
            False,
            id="instants-not-text",
        ),
    ],
)
def test_valid_orders_are_accepted(kind: FieldKind, listed: list[object], descending: bool) -> None:
    assert order_problem(kind, listed, descending) is None


@pytest.mark.parametrize(
    ("kind", "listed", "descending"),
    [
        pytest.param(INTEGER, [1, None, 2], False, id="null-in-the-middle"),
        pytest.param(INTEGER, [1, 2, None], False, id="nulls-last-ascending"),
        pytest.param(INTEGER, [3, 1, 2], True, id="not-descending"),
        pytest.param(STRING, ["b", "a"], False, id="not-ascending-under-any-collation"),
    ],
)
def test_invalid_orders_are_reported(
    kind: FieldKind, listed: list[object], descending: bool
) -> None:
    assert order_problem(kind, listed, descending) is not None


def test_string_filter_match_may_ignore_case_only_when_loose() -> None:
    assert matches(STRING, "ABC", "abc", loose=True)
    assert not matches(STRING, "ABC", "abc", loose=False)
    assert matches(STAMP, "2024-01-10T09:00:00Z", "2024-01-10T09:00:00+00:00", loose=False)
