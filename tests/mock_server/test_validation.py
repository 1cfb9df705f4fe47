"""Schema errors become the brief's 422 entries: one per field, in field order, in Yii2's words."""

from __future__ import annotations

from typing import Any

from connexion.json_schema import Draft4RequestValidator
from jsonschema import FormatChecker

from mock_server.validation import problems_of
from openapi import SPEC_PATH
from openapi.document import load_document

DOCUMENT = load_document(SPEC_PATH)


def _problems(schema_name: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    schema = {"components": DOCUMENT["components"], "$ref": f"#/components/schemas/{schema_name}"}
    validator = Draft4RequestValidator(schema, format_checker=FormatChecker(["date", "date-time"]))
    return [(p.field, p.message) for p in problems_of(validator.iter_errors(body))]


def test_every_missing_required_member_is_reported_once_as_blank() -> None:
    assert _problems("ActionSessionCreate", {}) == [
        ("action_id", "Action Id cannot be blank."),
        ("subtenant_id", "Subtenant Id cannot be blank."),
        ("tenant_id", "Tenant Id cannot be blank."),
    ]


def test_type_range_enum_length_and_format_errors_read_as_yii2_sentences() -> None:
    body = {
        "action_id": "",
        "subtenant_id": 7,
        "tenant_id": "t",
        "validity": -1,
        "validity_unit": "WEEK",
    }
    assert _problems("ActionSessionCreate", body) == [
        ("action_id", "Action Id should contain at least 1 characters."),
        ("subtenant_id", "Subtenant Id must be a string."),
        ("validity", "Validity must be no less than 0."),
        ("validity_unit", "Validity Unit is invalid."),
    ]
    day = {
        "action_session_id": "s",
        "subtenant_id": "o",
        "tenant_id": "t",
        "date_begin": "tomorrow",
        "date_end": None,
    }
    assert _problems("ActionSessionDateCreate", day) == [
        ("date_begin", "The format of Date Begin is invalid."),
        ("date_end", "Date End cannot be blank."),
    ]


def test_a_valid_body_has_no_problems() -> None:
    body = {"action_id": "act-1", "subtenant_id": "o", "tenant_id": "t", "validity": 0}
    assert _problems("ActionSessionCreate", body) == []
