"""`openapi.document`'s reading with lines (`parse_located`) and `$ref`s followed to their place
(`resolve_at`): what lint and diff report file, line and pointer from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from openapi import SPEC_PATH
from openapi.document import (
    LocatedDocument,
    SpecError,
    join_pointer,
    load_document,
    parse_located,
    resolve_at,
    split_pointer,
)


def _pointers(node: Any, pointer: str = "") -> Iterator[str]:
    yield pointer
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _pointers(value, join_pointer(pointer, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _pointers(value, join_pointer(pointer, index))


def test_yaml_lines_are_where_each_member_key_is_written() -> None:
    text = "openapi: 3.0.3\npaths:\n  /v2/x:\n    get:\n      responses:\n        '200': {}\n"

    located = parse_located(text, "spec.yaml")

    assert located.line_of("/paths/~1v2~1x/get") == 4
    assert located.line_of("/paths/~1v2~1x/get/responses/200") == 6
    assert located.line_of("/paths/~1v2~1x/get/responses/404") == 5  # the nearest ancestor
    assert located.data["paths"]["/v2/x"]["get"]["responses"] == {"200": {}}


def test_json_lines_match_the_yaml_reading_of_the_same_text_for_every_node() -> None:
    data = load_document(SPEC_PATH)
    text = json.dumps(data, indent="\t")
    # The YAML reading of the same text is the reference: a comment stops `json` from reading it,
    # and tabs between tokens are spaces to YAML.
    reference = parse_located(text.replace("\t", " ") + "\n# a comment makes it YAML\n", "y")
    located = parse_located(text, "spec.json")

    assert located.data == data
    mismatches = [
        pointer
        for pointer in _pointers(data)
        if located.line_of(pointer) != reference.line_of(pointer)
    ]
    assert mismatches == []


def test_yaml_dates_stay_strings() -> None:
    located = parse_located("openapi: 3.0.3\nx-day: 2024-01-10\n", "spec.yaml")

    assert located.data["x-day"] == "2024-01-10"


@pytest.mark.parametrize(
    ("text", "pointer", "line"),
    [
        pytest.param("a: 1\nb: 2\na: 3\n", "/a", 3, id="yaml"),
        pytest.param('{"a": 1,\n "b": {"c": 1, "c": 2}}', "/b/c", 2, id="json"),
    ],
)
def test_keys_written_twice_are_reported_at_the_repeat(text: str, pointer: str, line: int) -> None:
    assert parse_located(text, "spec").duplicate_keys == ((pointer, line),)


def test_a_document_in_memory_has_no_lines() -> None:
    assert LocatedDocument.from_data({"openapi": "3.0.3"}, "NEW").line_of("/openapi") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param("a: [1\n", "not valid YAML at line 2", id="bad-yaml"),
        pytest.param("[1, 2]", "not an OpenAPI document", id="json-list"),
        pytest.param("- a\n", "not an OpenAPI document", id="yaml-list"),
    ],
)
def test_unreadable_text_is_one_line_naming_the_source(text: str, reason: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_located(text, "spec.yaml")

    assert str(raised.value).startswith("spec.yaml: ")
    assert reason in str(raised.value)
    assert "\n" not in str(raised.value)


DOCUMENT: dict[str, Any] = {
    "components": {
        "schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"type": "string"},
            "Loop": {"$ref": "#/components/schemas/Loop"},
            "Gone": {"$ref": "#/components/schemas/Nothing"},
            "Far": {"$ref": "other.yaml#/B"},
            "With space": {"type": "integer"},
        }
    }
}


def test_resolve_at_follows_a_chain_and_says_where_the_target_is_written() -> None:
    node = {"$ref": "#/components/schemas/A"}

    assert resolve_at(DOCUMENT, node, "/paths/x") == ({"type": "string"}, "/components/schemas/B")
    assert resolve_at(DOCUMENT, {"type": "x"}, "/here") == ({"type": "x"}, "/here")
    assert resolve_at(DOCUMENT, {"$ref": "#/components/schemas/With%20space"}, "")[1] == (
        "/components/schemas/With space"
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("Loop", "refers back to itself", id="cycle"),
        pytest.param("Gone", "leads nowhere", id="missing"),
        pytest.param("Far", "is not a local reference", id="external"),
    ],
)
def test_resolve_at_refuses_what_it_cannot_follow(name: str, reason: str) -> None:
    with pytest.raises(SpecError, match=reason):
        resolve_at(DOCUMENT, DOCUMENT["components"]["schemas"][name], "/x")


def test_pointer_tokens_escape_and_unescape() -> None:
    pointer = join_pointer("/paths", "/v2/{id}", "a~b", 0)

    assert pointer == "/paths/~1v2~1{id}/a~0b/0"
    assert split_pointer(pointer) == ["paths", "/v2/{id}", "a~b", "0"]
    assert split_pointer("") == []
