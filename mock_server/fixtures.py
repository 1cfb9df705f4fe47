"""The fixture format: reading, validating, merging and writing the mock's data as one document.

A fixture is a JSON (or YAML) object with one list per resource, keyed by the API's path names,
plus the actions they refer to:

    {"version": 1,
     "actions": [{"action_id": "act-1", "action_code": "A001", "action_name": "...", "action_type": "TRAINING"}],
     "action-session": [{"action_session_id": "sess-1", "action_id": "act-1", ..., "historized": false}],
     "action-session-subscription": [...],
     "action-session-date": [...]}

Each record holds the fields the API's create operation accepts (its schema in openapi.yaml), its
id always, and optionally `historized: true` (no longer active: listed only with `history: true`).
Loading checks every record against that schema and the API's rules (references, id syntax,
date order) and refuses the whole set with every problem, by file, record and field: nothing is
ever half-loaded. `document` writes the same format (export, snapshots, `generate`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml
from connexion.json_schema import Draft4RequestValidator
from jsonschema import FormatChecker, ValidationError

from mock_server.database import Record, read_json
from mock_server.domain_errors import InvalidRecord, Problem
from mock_server.overlay import BaseData, Overlay
from mock_server.resources import ACTION_TABLE, HISTORIZED, MockApi
from mock_server.rules import Rules
from openapi import CONTROL_SPEC_PATH
from openapi.document import load_document, parse_yaml

VERSION = 1
ACTIONS_KEY = "actions"
HISTORIZED_KEY = "historized"

Tables = dict[str, dict[str, Record]]
ACTION_FIELDS = ("action_id", "action_code", "action_name", "action_type")
"""The members of an action in the catalogue (the control spec's `FixtureAction`)."""
_FORMATS = FormatChecker(["date", "date-time"])


@dataclass(frozen=True)
class FixtureProblem:
    """One problem of a fixture: in which file, which record, which field, and what."""

    source: str
    where: str
    """The record: `action-session[3]`, or `document`, or `file`."""
    field: str
    message: str
    record_id: str | None = None

    def __str__(self) -> str:
        record = f" ({self.record_id})" if self.record_id is not None else ""
        field = f" {self.field}" if self.field else ""
        return f"{self.source}: {self.where}{record}{field}: {self.message}"

    def as_problem(self) -> Problem:
        """The API's 422 entry for it: the field as a path into the document."""
        path = f"{self.where}.{self.field}" if self.field else self.where
        return Problem(path, self.message)


class FixtureInvalid(InvalidRecord):
    """A fixture breaks the format, the schemas or the rules; `fixture_problems` lists them all."""

    def __init__(self, problems: list[FixtureProblem]) -> None:
        super().__init__([p.as_problem() for p in problems])
        self.fixture_problems = problems


def read_file(path: Path, content: bytes | None = None) -> Any:
    """The document in a fixture file (YAML for .yaml/.yml, else JSON); FixtureInvalid if unreadable.

    `content`: the file's bytes, when the caller has read them already (to digest them).
    """
    try:
        data = path.read_bytes() if content is None else content
        if path.suffix.lower() in (".yaml", ".yml"):
            return parse_yaml(data.decode("utf-8"))
        return read_json(data)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FixtureInvalid([FixtureProblem(str(path), "file", "", message)]) from exc


# -- schemas ---------------------------------------------------------------------------------
def _inline(node: Any, components: Mapping[str, Any]) -> Any:
    """`node` with local `$ref`s replaced by their targets and OpenAPI's `nullable` as JSON Schema."""
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out = {k: _inline(v, components) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class _TableSchema:
    """A table's record schema: a fast yes/no check, and every error when the answer is no."""

    def __init__(self, schema: Mapping[str, Any], components: Mapping[str, Any]) -> None:
        self.required = tuple(schema.get("required", ()))
        self._fast = jsonschema_rs.Draft4Validator(
            _inline(schema, components), validate_formats=True
        )
        # The same validator as the API's request bodies, so a fixture reads like a 422 answer.
        self._full = Draft4RequestValidator(
            {"components": {"schemas": components}, **schema}, format_checker=_FORMATS
        )

    def errors(self, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        try:
            if self._fast.is_valid(record):
                return []
        except ValueError:
            pass  # a value JSON has no type for (YAML binary): the full check says what
        found: dict[tuple[str, str], None] = {}
        for error in sorted(self._full.iter_errors(record), key=_path):
            field = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "required" and isinstance(error.instance, dict):
                for name in error.validator_value:
                    if name not in error.instance:
                        found[(_join(field, name), "cannot be blank.")] = None
            else:
                found[(field, _message(error))] = None
        return list(found)


def _path(error: ValidationError) -> list[str]:
    return [str(p) for p in error.absolute_path]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _message(error: ValidationError) -> str:
    if error.validator == "anyOf":
        return f"has an invalid value: {error.instance!r}."
    return f"{error.message}."


def _schemas(api: MockApi) -> dict[str, _TableSchema]:
    """Each table's record schema: the API's create schema, the control spec's for actions."""
    components = api.model.document["components"]["schemas"]
    schemas = {}
    for resource in api.resources.values():
        operation = api.model.spec.operations[f"{resource.name}.create"]
        schema = operation.request_schema
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        schemas[resource.name] = _TableSchema(schema, components)
    control = load_document(CONTROL_SPEC_PATH)["components"]["schemas"]
    schemas[ACTION_TABLE] = _TableSchema(control["FixtureAction"], control)
    return schemas


# -- the format of one API -------------------------------------------------------------------
@dataclass
class _Entry:
    record: Record
    source: str
    where: str
    record_id: str


class FixtureFormat:
    """The fixture format of one API: its sections, record members, defaults and schemas."""

    def __init__(self, api: MockApi) -> None:
        self.api = api
        self.keys: dict[str, str] = {
            ACTIONS_KEY: ACTION_TABLE,
            **{resource.segment: resource.name for resource in api.resources.values()},
        }
        """Fixture member -> table, in the order a document lists them (actions first: others
        refer to them)."""
        self._fields = {
            table: ACTION_FIELDS if table == ACTION_TABLE else tuple(api.resources[table].stored)
            for table in self.keys.values()
        }
        # Each table's record with every field unset or defaulted (as create fills it).
        self._templates: dict[str, Record] = {
            table: {
                **dict.fromkeys(fields),
                **(api.resources[table].defaults if table in api.resources else {}),
            }
            for table, fields in self._fields.items()
        }
        self._allowed: dict[str, frozenset[str]] = {
            table: frozenset(fields) | ({HISTORIZED_KEY} if table != ACTION_TABLE else set())
            for table, fields in self._fields.items()
        }
        self._schemas = _schemas(api)

    # -- loading -------------------------------------------------------------------------------
    def load(
        self,
        documents: Sequence[tuple[str, Any]],
        existing: Mapping[str, Iterable[Record]] | None = None,
    ) -> Tables:
        """Merge `documents` (source name, parsed document) in order over `existing`, and validate.

        A record whose id an earlier document (or `existing`) already holds replaces it. Raises
        `FixtureInvalid` with every problem of every document; returns the merged tables otherwise.
        """
        id_fields = self.api.id_fields
        merged: dict[str, dict[str, _Entry | Record]] = {table: {} for table in self.keys.values()}
        for table, records in (existing or {}).items():
            merged[table] = {r[id_fields[table]]: r for r in records}
        problems: list[FixtureProblem] = []
        for source, document in documents:
            problems += self._merge(source, document, merged)
        problems += self._rule_problems(merged)
        if problems:
            raise FixtureInvalid(problems)
        return {
            table: {i: e.record if isinstance(e, _Entry) else e for i, e in entries.items()}
            for table, entries in merged.items()
        }

    def load_files(
        self,
        paths: Sequence[Path],
        *,
        checked: bool = False,
        contents: Sequence[bytes] | None = None,
    ) -> Tables:
        """The `--data` files merged in order, validated; every file's problems together.

        `checked`: these very files passed the checks before (the caller knows it by their
        digest), so they are only read and merged, as `load` would merge them: checking 100,000
        sessions' records against the schemas and the rules took most of a start-up.
        `contents`: the files' bytes, already read (the ones the digest was taken of).
        """
        documents: list[tuple[str, Any]] = []
        problems: list[FixtureProblem] = []
        for number, path in enumerate(paths):
            try:
                content = None if contents is None else contents[number]
                documents.append((str(path), read_file(path, content)))
            except FixtureInvalid as exc:
                problems += exc.fixture_problems
        if checked and not problems:
            return self._merge_checked(documents)
        try:
            tables = self.load(documents)
        except FixtureInvalid as exc:
            problems += exc.fixture_problems
        if problems:
            raise FixtureInvalid(problems)
        return tables

    def _merge_checked(self, documents: Sequence[tuple[str, Any]]) -> Tables:
        """What `load` gives for documents known to pass its checks, without checking them."""
        merged: Tables = {table: {} for table in self.keys.values()}
        for _source, document in documents:
            for key, table in self.keys.items():
                id_field = self.api.id_fields[table]
                into = merged[table]
                template = self._templates[table]
                for record in document.get(key, []):
                    # Checked: every member is a field of the record, or `historized`.
                    stored = {**template, **record}
                    if HISTORIZED_KEY in stored:
                        if stored.pop(HISTORIZED_KEY) is True:
                            stored[HISTORIZED] = True
                    into[record[id_field]] = stored
        return merged

    def base_data(self, tables: Mapping[str, Mapping[str, Record]]) -> BaseData:
        """Read-only tables with the indexes the rules need."""
        return BaseData(tables, self.api.id_fields, self.api.indexes)

    def tables_of(self, data: Mapping[str, Iterable[Record]]) -> Tables:
        """Records by id for each table (the form `load` and the database exchange)."""
        id_fields = self.api.id_fields
        return {table: {r[id_fields[table]]: r for r in records} for table, records in data.items()}

    def _stored(self, table: str, record: Mapping[str, Any]) -> Record:
        """The record as the database keeps it: every field, defaults filled, the historized flag."""
        stored = dict(self._templates[table])
        for key, value in record.items():
            if key in stored:
                stored[key] = value
        if record.get(HISTORIZED_KEY) is True:
            stored[HISTORIZED] = True
        return stored

    def _record_problems(self, table: str, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        allowed = self._allowed[table]
        found = [
            (k, "is not a field of this record (a typo?).") for k in record if k not in allowed
        ]
        if table != ACTION_TABLE and not isinstance(record.get(HISTORIZED_KEY, False), bool):
            found.append((HISTORIZED_KEY, "must be true or false."))
        id_field = self.api.id_fields[table]
        if record.get(id_field) is None:
            found.append((id_field, "cannot be blank: a fixture names every record."))
        return found + self._schemas[table].errors(record)

    def _merge(
        self, source: str, document: Any, merged: dict[str, dict[str, _Entry | Record]]
    ) -> list[FixtureProblem]:
        if not isinstance(document, dict):
            members = ", ".join(self.keys)
            return [FixtureProblem(source, "document", "", f"must be an object with {members}.")]
        problems = [
            FixtureProblem(source, "document", key, "is not a member of the fixture format.")
            for key in document
            if key not in self.keys and key != "version"
        ]
        if document.get("version", VERSION) != VERSION:
            problems.append(FixtureProblem(source, "document", "version", f"must be {VERSION}."))
        for key, table in self.keys.items():
            records = document.get(key, [])
            if not isinstance(records, list):
                problems.append(
                    FixtureProblem(source, "document", key, "must be a list of records.")
                )
                continue
            id_field = self.api.id_fields[table]
            seen: set[str] = set()
            for n, record in enumerate(records):
                where = f"{key}[{n}]"
                if not isinstance(record, dict):
                    problems.append(FixtureProblem(source, where, "", "must be an object."))
                    continue
                raw_id = record.get(id_field)
                record_id = raw_id if isinstance(raw_id, str) else None
                problems += [
                    FixtureProblem(source, where, field, message, record_id)
                    for field, message in self._record_problems(table, record)
                ]
                if record_id is None:
                    continue
                if record_id in seen:
                    problems.append(
                        FixtureProblem(
                            source, where, id_field, "is used by an earlier record.", record_id
                        )
                    )
                seen.add(record_id)
                merged[table][record_id] = _Entry(
                    self._stored(table, record), source, where, record_id
                )
        return problems

    def _rule_problems(
        self, merged: Mapping[str, Mapping[str, _Entry | Record]]
    ) -> list[FixtureProblem]:
        """The API's own rules (references, date order) over the merged data, as the rules check
        them."""
        tables = {
            table: {i: e.record if isinstance(e, _Entry) else e for i, e in entries.items()}
            for table, entries in merged.items()
        }
        rules = Rules(Overlay(self.base_data(tables)), self.api)
        problems = []
        for table in self.api.resources:
            for entry in merged[table].values():
                if isinstance(entry, _Entry):
                    for problem in rules.record_problems(table, entry.record):
                        problems.append(
                            FixtureProblem(
                                entry.source,
                                entry.where,
                                problem.field,
                                problem.message,
                                entry.record_id,
                            )
                        )
        return problems

    # -- writing -------------------------------------------------------------------------------
    def document(self, tables: Mapping[str, Iterable[Record]]) -> dict[str, Any]:
        """The fixture document of `tables` (records as the database keeps them)."""
        out: dict[str, Any] = {"version": VERSION}
        for key, table in self.keys.items():
            fields = self._fields[table]
            records = []
            for raw in tables.get(table, ()):
                record = {field: raw.get(field) for field in fields}
                if raw.get(HISTORIZED):
                    record[HISTORIZED_KEY] = True
                records.append(record)
            out[key] = records
        return out


@functools.lru_cache(maxsize=8)
def fixture_format(api: MockApi) -> FixtureFormat:
    """The fixture format of `api`, built once (its schemas take a while to compile)."""
    return FixtureFormat(api)


def dumps(doc: Mapping[str, Any]) -> str:
    """The text of a fixture file: one record a line, so that a diff shows which records changed.

    Record by record through the C encoder: `json.dumps(indent=...)` takes the pure-Python one,
    several times slower on a large data set.
    """
    parts = []
    for key, value in doc.items():
        head = json.dumps(key)
        if isinstance(value, list) and value:
            lines = ",\n  ".join(json.dumps(item, ensure_ascii=False) for item in value)
            parts.append(f"{head}: [\n  {lines}\n ]")
        else:
            parts.append(f"{head}: {json.dumps(value, ensure_ascii=False)}")
    return "{" + ",\n ".join(parts) + "\n}\n"
