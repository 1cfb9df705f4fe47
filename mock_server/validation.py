"""Request body parsing and validation against the spec, reporting every problem at once.

Connexion's own JSON body validator stops at the first schema error, answers 400 for it, and
lets a body that is not UTF-8 (or a number too long to parse) escape as a 500. This one reads the
body defensively (400 for anything that is not a JSON document), answers 400 for a body that is
not a JSON object, and raises `BodyInvalid` with one `Problem` per schema error, which
`mock_server.error_responses` answers as the brief's 422 list. When a create or update body breaks its
schema, the store's own rules (unknown references, a day ending before it begins) are checked too,
so that one answer lists every problem.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterable
from typing import Any, NoReturn

from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator
from jsonschema import FormatChecker, ValidationError
from starlette.types import Receive, Scope

from mock_server.domain_errors import InvalidRecord, Problem, label
from mock_server.framework import compiled

# Draft 4's checker knows no `date`; the spec uses it for calendar days.
_FORMATS = FormatChecker(["date", "date-time"])


class BodyInvalid(InvalidRecord):
    """The body is a JSON object that breaks its schema."""


class _JsonNull:
    """A body that is the JSON literal `null`: present, so not "no body", and not an object."""


JSON_NULL = _JsonNull()


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


class CollectingJSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]  # Connexion is untyped
    """The JSON body validator the mock registers for `application/json`."""

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        self._scope = scope  # one validator per request: remember which operation it serves
        return await super().wrap_receive(receive, scope=scope)  # type: ignore[no-any-return]

    @property
    def _validator(self) -> Any:
        return compiled(self._schema, Draft4RequestValidator, _FORMATS)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            return None
        try:
            text = raw.decode(self._encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise BadRequestProblem(
                detail=f"The request body is not valid {self._encoding} text."
            ) from exc
        try:
            parsed = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise BadRequestProblem(detail=f"The request body is not valid JSON: {exc}") from exc
        return JSON_NULL if parsed is None else parsed

    def _validate(self, body: Any) -> None:
        if body is None:
            if self._required:
                raise BadRequestProblem(detail="The request body is required.")
            return None
        if not isinstance(body, dict):
            raise BadRequestProblem(detail="The request body must be a JSON object.")
        try:
            errors = list(self._validator.iter_errors(body))
        except RecursionError as exc:
            raise BadRequestProblem(detail="The request body is nested too deeply.") from exc
        if errors:
            problems = problems_of(errors)
            named = {p.field for p in problems}
            problems += [p for p in self._rule_problems(body) if p.field not in named]
            raise BodyInvalid(problems)
        return None

    def _rule_problems(self, body: dict[str, Any]) -> list[Problem]:
        scope = getattr(self, "_scope", {})
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        # The resolved operationId: "mock_server.handlers.<resource>.<action>".
        resource, _, action = str(routing.get("operation_id") or "").rpartition(".")
        resource = resource.rpartition(".")[2]
        store = scope.get("state", {}).get("store")
        if store is None or action not in ("create", "update") or not resource:
            return []
        record_id = scope.get("path_params", {}).get("id") if action == "update" else None
        problems: list[Problem] = store.rule_problems(resource, body, record_id)
        return problems


def problems_of(errors: Iterable[ValidationError]) -> list[Problem]:
    """One `Problem` per field and kind of error, in field order, worded as Yii2 words them."""
    problems: dict[tuple[str, str], Problem] = {}
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    field = f"{path}.{name}" if path else name
                    problems.setdefault(
                        (field, "required"), Problem(field, f"{label(field)} cannot be blank.")
                    )
            continue
        field = path or "body"
        problems.setdefault((field, error.message), Problem(field, _message(field, error)))
    return list(problems.values())


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "an object",
    "array": "an array",
}


def _message(field: str, error: ValidationError) -> str:
    """The sentence Yii2's validator of the same kind would write; shown to people beside a field."""
    name = label(field)
    kind, expected = error.validator, error.validator_value
    if error.instance is None and kind in ("type", "enum", "anyOf", "oneOf"):
        return f"{name} cannot be blank."
    if kind == "type" and expected == "boolean":
        return f'{name} must be either "true" or "false".'
    if kind == "type" and isinstance(expected, str) and expected in _TYPE_NAMES:
        return f"{name} must be {_TYPE_NAMES[expected]}."
    if kind == "minimum":
        return f"{name} must be no less than {expected}."
    if kind == "maximum":
        return f"{name} must be no greater than {expected}."
    if kind == "minLength":
        return f"{name} should contain at least {expected} characters."
    if kind == "maxLength":
        return f"{name} should contain at most {expected} characters."
    if kind == "format":
        return f"The format of {name} is invalid."
    return f"{name} is invalid."
