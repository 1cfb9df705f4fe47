"""The contract itself: valid OpenAPI 3.0, and every operation served by the mock's handlers."""

from __future__ import annotations

from typing import Any

import yaml
from openapi_spec_validator import validate

from mock_server import handlers
from openapi import SPEC_PATH


def _spec() -> dict[str, Any]:
    return dict(yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8")))


def test_the_spec_is_valid_openapi_3_0() -> None:
    spec = _spec()
    validate(spec)
    assert spec["openapi"] == "3.0.3"


def test_every_operation_has_an_operation_id_that_names_a_handler() -> None:
    operations = [
        op
        for item in _spec()["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "responses" in op
    ]
    assert len(operations) == 15
    for operation in operations:
        resource, action = operation["operationId"].split(".")
        assert callable(getattr(getattr(handlers, resource), action))


def test_every_index_declares_the_four_pagination_headers_as_required_integers() -> None:
    spec = _spec()
    for path, item in spec["paths"].items():
        if not path.endswith("/index"):
            continue
        headers = item["post"]["responses"]["200"]["headers"]
        assert len(headers) == 4
        for ref in headers.values():
            header = spec["components"]["headers"][ref["$ref"].rsplit("/", 1)[1]]
            assert header["required"] is True and header["schema"]["type"] == "integer"


def test_every_example_in_the_spec_validates_against_its_schema() -> None:
    from openapi.lint.document import load
    from openapi.lint.examples import example_access_mode, example_valid

    doc = load(str(SPEC_PATH))
    findings = example_valid.run(doc) + example_access_mode.run(doc)
    assert [f"{f.line}: {f.message}" for f in findings] == []
    examples = SPEC_PATH.read_text(encoding="utf-8").count("example:")
    assert examples >= 20
