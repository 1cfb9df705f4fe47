"""Tests for `openapi.diff`: the corpus of single changes, refactors, and the rule table.

Each corpus case in `tests/diff_corpus/{breaking,non_breaking,refactor}/` is one YAML file: an
optional `before` patch that turns `_base.yaml` into OLD, a `change` patch that turns OLD into NEW
(JSON Patch operations: add, remove, replace, move, copy), and the exact changes expected. A case
whose swap (NEW against OLD) is not the rule-by-rule inverse lists the rules it gives in `inverse`.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from openapi.diff import BREAKING, NON_BREAKING, RULES, diff_specs, has_breaking, rules_table
from openapi.document import SpecError
from openapi.findings import Finding, Severity

CORPUS = Path(__file__).parent / "diff_corpus"
KINDS = ("breaking", "non_breaking", "refactor")


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    assert pointer.startswith("/"), pointer
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _parent(document: Any, pointer: str) -> tuple[Any, str]:
    *head, last = _tokens(pointer)
    node = document
    for token in head:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, last


def _get(document: Any, pointer: str) -> Any:
    if pointer == "":
        return document
    parent, last = _parent(document, pointer)
    return parent[int(last)] if isinstance(parent, list) else parent[last]


def _remove(document: Any, pointer: str) -> Any:
    parent, last = _parent(document, pointer)
    return parent.pop(int(last)) if isinstance(parent, list) else parent.pop(last)


def _add(document: Any, pointer: str, value: Any) -> None:
    parent, last = _parent(document, pointer)
    if isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        parent[last] = value


def apply_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    """Apply JSON Patch (RFC 6902) add/remove/replace/move/copy operations to a copy."""
    result = copy.deepcopy(document)
    for op in operations:
        kind, path = op["op"], op["path"]
        if kind == "add":
            _add(result, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(result, path)
        elif kind == "replace":
            _remove(result, path)
            _add(result, path, copy.deepcopy(op["value"]))
        elif kind == "move":
            _add(result, path, _remove(result, op["from"]))
        elif kind == "copy":
            _add(result, path, copy.deepcopy(_get(result, op["from"])))
        else:
            raise ValueError(f"unsupported patch op {kind!r}")
    return result


@functools.cache
def _parsed_base() -> dict[str, Any]:
    loaded = yaml.safe_load((CORPUS / "_base.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _base() -> dict[str, Any]:
    """A fresh copy of the corpus base (parsed once: YAML parsing dominates the corpus's time)."""
    return copy.deepcopy(_parsed_base())


def _cases() -> list[Any]:
    params = []
    for kind in KINDS:
        for path in sorted((CORPUS / kind).glob("*.yaml")):
            params.append(pytest.param(kind, path, id=f"{kind}/{path.stem}"))
    return params


def _load_case(path: Path) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    old = apply_patch(_base(), case.get("before") or [])
    new = apply_patch(old, case.get("change") or [])
    return old, new, case.get("expect") or []


def _document(finding: Finding) -> str:
    """Which document a finding points into: `diff_specs` names them OLD and NEW."""
    return {"OLD": "old", "NEW": "new"}[finding.file]


def _as_tuples(changes: list[Finding]) -> set[tuple[str, Severity, str, str]]:
    return {(c.rule, c.severity, c.pointer, _document(c)) for c in changes}


@pytest.mark.parametrize(("kind", "path"), _cases())
def test_corpus_case_reports_exactly_the_expected_changes(kind: str, path: Path) -> None:
    old, new, expected = _load_case(path)

    changes = diff_specs(old, new)

    wanted = {
        (e["rule"], Severity.from_label(e["severity"]), e["pointer"], e.get("document", "new"))
        for e in expected
    }
    assert _as_tuples(changes) == wanted, "\n".join(
        f"{c.severity.label} {c.rule} {c.pointer} ({c.file}): {c.message}" for c in changes
    )
    if kind == "breaking":
        assert has_breaking(changes)
    elif kind == "non_breaking":
        assert changes and not has_breaking(changes)
    else:
        assert changes == []


@pytest.mark.parametrize(("kind", "path"), _cases())
def test_every_reported_pointer_resolves_in_the_document_it_names(kind: str, path: Path) -> None:
    old, new, _ = _load_case(path)

    for change in diff_specs(old, new):
        document = old if _document(change) == "old" else new
        try:
            _get(document, change.pointer)
        except (KeyError, IndexError, ValueError) as exc:
            raise AssertionError(f"{change} points nowhere in {change.file}") from exc


def _pairs(*pairs: tuple[str, str]) -> dict[str, str]:
    both_ways = dict(pairs)
    both_ways.update((b, a) for a, b in pairs)
    return both_ways


# What a rule becomes when OLD and NEW swap places. Rules whose inverse depends on more than the
# rule (a removed request member comes back optional or required) are left out.
INVERSE = {
    **_pairs(
        ("path-removed", "path-added"),
        ("operation-removed", "operation-added"),
        ("parameter-made-required", "parameter-made-optional"),
        ("request-body-made-required", "request-body-made-optional"),
        ("request-media-type-removed", "request-media-type-added"),
        ("response-status-removed", "response-status-added"),
        ("response-media-type-removed", "response-media-type-added"),
        ("response-header-made-optional", "response-header-made-required"),
        ("request-member-made-required", "request-member-made-optional"),
        ("response-member-removed", "response-member-added"),
        ("response-member-made-optional", "response-member-made-required"),
        ("request-type-narrowed", "request-type-widened"),
        ("response-type-widened", "response-type-narrowed"),
        ("request-format-added", "request-format-removed"),
        ("response-format-removed", "response-format-added"),
        ("request-nullable-removed", "request-nullable-added"),
        ("response-nullable-added", "response-nullable-removed"),
        ("request-enum-narrowed", "request-enum-widened"),
        ("response-enum-widened", "response-enum-narrowed"),
        ("default-removed", "default-added"),
        ("request-constraint-tightened", "request-constraint-loosened"),
        ("response-constraint-loosened", "response-constraint-tightened"),
        ("request-schema-narrowed", "request-schema-widened"),
        ("response-schema-widened", "response-schema-narrowed"),
        ("security-tightened", "security-loosened"),
        ("server-removed", "server-added"),
    ),
    **{rule: rule for rule in ("type-changed", "format-changed", "default-changed")},
    **{rule: rule for rule in ("parameter-moved", "parameter-renamed", "constraint-changed")},
    **{rule: rule for rule in ("security-scheme-changed", "operation-id-changed")},
    "server-changed": "server-changed",
    "parameter-added": "parameter-removed",
    "parameter-added-required": "parameter-removed",
    "request-body-added": "request-body-removed",
    # The corpus's request objects are open: a member removed from them is still accepted.
    "request-member-added": "request-member-undeclared",
    "request-member-added-required": "request-member-undeclared",
    "response-header-added": "response-header-removed",
    "pagination-header-removed": "response-header-added",
    "response-header-removed": "response-header-added",
    "response-member-made-write-only": "response-member-added",
    "request-additional-properties-narrowed": "request-additional-properties-widened",
}


@pytest.mark.parametrize(("kind", "path"), _cases())
def test_swapping_old_and_new_reports_the_inverse_rules(kind: str, path: Path) -> None:
    old, new, _ = _load_case(path)
    forward = {c.rule for c in diff_specs(old, new)}
    stated = yaml.safe_load(path.read_text(encoding="utf-8")).get("inverse")
    if stated is not None:
        assert {c.rule for c in diff_specs(new, old)} == set(stated)
        return
    if not forward <= INVERSE.keys():
        pytest.skip("a rule here has no single inverse")

    backward = {c.rule for c in diff_specs(new, old)}

    assert backward == {INVERSE[rule] for rule in forward}


def test_corpus_has_at_least_forty_single_change_cases() -> None:
    counts = {kind: len(list((CORPUS / kind).glob("*.yaml"))) for kind in KINDS}

    assert counts["breaking"] + counts["non_breaking"] >= 40, counts
    assert counts["refactor"] >= 3, counts


def test_corpus_expectations_name_real_rules_with_their_severity() -> None:
    for _, path in (p.values for p in _cases()):
        assert isinstance(path, Path)
        for expected in yaml.safe_load(path.read_text(encoding="utf-8")).get("expect") or []:
            assert expected["rule"] in RULES, path.name
            assert RULES[expected["rule"]].severity.label == expected["severity"], path.name


def test_identical_documents_report_nothing() -> None:
    assert diff_specs(_base(), _base()) == []


def test_the_project_contract_compared_with_itself_reports_nothing() -> None:
    contract = yaml.safe_load(
        (Path(__file__).parents[2] / "openapi" / "openapi.yaml").read_text(encoding="utf-8")
    )

    assert diff_specs(contract, copy.deepcopy(contract)) == []


def test_every_rule_severity_is_breaking_or_non_breaking_and_listed_breaking_first() -> None:
    table = list(rules_table())

    assert {rule.severity for rule in table} == {BREAKING, NON_BREAKING}
    assert len(table) == len(RULES)
    first_compatible = next(i for i, r in enumerate(table) if r.severity == NON_BREAKING)
    assert all(r.severity == NON_BREAKING for r in table[first_compatible:])


def test_shared_schema_change_is_reported_once_per_side_not_per_operation() -> None:
    old = _base()
    new = apply_patch(old, [{"op": "add", "path": "/components/schemas/Done/enum/-", "value": 2}])

    changes = diff_specs(old, new)

    # Done is sent by subscription create and returned by create and view: one finding a side.
    assert _as_tuples(changes) == {
        ("response-enum-widened", BREAKING, "/components/schemas/Done/enum", "new"),
        ("request-enum-widened", NON_BREAKING, "/components/schemas/Done/enum", "new"),
    }


def test_change_inside_a_recursive_schema_is_found_and_the_comparison_ends() -> None:
    recursive = {
        "type": "object",
        "properties": {
            "entity": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/RelatedRecord"}},
        },
    }
    old = apply_patch(
        _base(),
        [{"op": "replace", "path": "/components/schemas/RelatedRecord", "value": recursive}],
    )
    new = apply_patch(
        old,
        [
            {
                "op": "add",
                "path": "/components/schemas/RelatedRecord/properties/entity/maxLength",
                "value": 40,
            }
        ],
    )

    changes = diff_specs(old, new)

    assert _as_tuples(changes) == {
        (
            "response-constraint-tightened",
            NON_BREAKING,
            "/components/schemas/RelatedRecord/properties/entity/maxLength",
            "new",
        )
    }


def test_mutually_recursive_schemas_compare_without_changes() -> None:
    node_a = {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}
    node_b = {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}}
    old = apply_patch(
        _base(),
        [
            {"op": "add", "path": "/components/schemas/A", "value": node_a},
            {"op": "add", "path": "/components/schemas/B", "value": node_b},
            {
                "op": "add",
                "path": "/components/schemas/ActionSession/properties/tree",
                "value": {"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}]},
            },
        ],
    )

    assert diff_specs(old, copy.deepcopy(old)) == []


def test_ref_that_does_not_resolve_is_an_error_naming_the_document() -> None:
    old = _base()
    new = apply_patch(old, [{"op": "remove", "path": "/components/schemas/Reference"}])

    with pytest.raises(SpecError, match=r"^NEW: at .*/components/schemas/Reference leads nowhere"):
        diff_specs(old, new)


def test_external_ref_is_an_error_rather_than_a_silent_pass() -> None:
    old = _base()
    new = apply_patch(
        old,
        [
            {
                "op": "replace",
                "path": "/components/schemas/Reference",
                "value": {"$ref": "common.yaml#/Reference"},
            }
        ],
    )

    with pytest.raises(SpecError, match="common.yaml#/Reference is not a local reference"):
        diff_specs(old, new)


def test_changes_come_breaking_first_then_by_pointer() -> None:
    old = _base()
    new = apply_patch(
        old,
        [
            {"op": "remove", "path": "/paths/~1v2~1action-session-subscription~1view~1{id}"},
            {"op": "add", "path": "/paths/~1v2~1action-session-date~1view~1{id}", "value": {}},
            {"op": "replace", "path": "/components/schemas/Reference/maxLength", "value": 128},
        ],
    )

    changes = diff_specs(old, new)

    assert [c.severity for c in changes] == [BREAKING, NON_BREAKING, NON_BREAKING]
    assert changes[1].pointer < changes[2].pointer


def test_a_removed_path_is_a_breaking_finding_placed_in_old() -> None:
    old = _base()
    new = apply_patch(
        old, [{"op": "remove", "path": "/paths/~1v2~1action-session-subscription~1view~1{id}"}]
    )

    (finding,) = diff_specs(old, new, "before.yaml", "after.yaml")

    assert finding.to_json() == {
        "rule": "path-removed",
        "severity": "error",
        "message": "path /v2/action-session-subscription/view/{id} removed",
        "file": "before.yaml",
        "line": None,
        "pointer": "/paths/~1v2~1action-session-subscription~1view~1{id}",
    }


def test_status_codes_written_as_integers_match_quoted_ones() -> None:
    old = _base()
    new = _base()
    responses = new["paths"]["/v2/action-session/view/{id}"]["get"]["responses"]
    responses[200] = responses.pop("200")

    assert diff_specs(old, new) == []


def test_parameter_moved_to_the_path_item_level_is_not_a_change() -> None:
    old = _base()
    new = _base()
    item = new["paths"]["/v2/action-session/view/{id}"]
    item["parameters"] = item["get"].pop("parameters")

    assert diff_specs(old, new) == []


def test_read_only_member_made_required_matters_only_to_responses() -> None:
    old = _base()
    new = apply_patch(
        old,
        [
            {
                "op": "add",
                "path": "/components/schemas/ActionSessionSubscription/properties/created_at",
                "value": {"type": "string", "format": "date-time", "readOnly": True},
            },
            {
                "op": "add",
                "path": "/components/schemas/ActionSessionSubscription/required/-",
                "value": "created_at",
            },
            # The same schema becomes the create body too, so both sides see the new member.
            {
                "op": "replace",
                "path": "/paths/~1v2~1action-session-subscription~1create/post/requestBody"
                "/content/application~1json/schema",
                "value": {"$ref": "#/components/schemas/ActionSessionSubscription"},
            },
        ],
    )
    old = apply_patch(
        old,
        [
            {
                "op": "replace",
                "path": "/paths/~1v2~1action-session-subscription~1create/post/requestBody"
                "/content/application~1json/schema",
                "value": {"$ref": "#/components/schemas/ActionSessionSubscription"},
            }
        ],
    )

    changes = diff_specs(old, new)

    assert _as_tuples(changes) == {
        (
            "response-member-added",
            NON_BREAKING,
            "/components/schemas/ActionSessionSubscription/properties/created_at",
            "new",
        )
    }


def test_write_only_member_removed_is_only_a_request_change() -> None:
    old = apply_patch(
        _base(),
        [
            {
                "op": "replace",
                "path": "/components/schemas/ActionSessionRecord/properties/manager",
                "value": {"type": "string", "nullable": True, "writeOnly": True},
            }
        ],
    )
    new = apply_patch(
        old,
        [{"op": "remove", "path": "/components/schemas/ActionSessionRecord/properties/manager"}],
    )

    # ActionSessionRecord is only ever a response, where a writeOnly member never appears.
    assert diff_specs(old, new) == []


def _inline_refs(node: Any, document: dict[str, Any]) -> Any:
    """`node` with every local $ref replaced by a copy of its target (for non-recursive specs)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for token in _tokens(node["$ref"][1:]):
                target = target[token]
            return _inline_refs(target, document)
        return {key: _inline_refs(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, document) for item in node]
    return node


def test_the_project_contract_with_every_ref_inlined_reports_nothing() -> None:
    contract = yaml.safe_load(
        (Path(__file__).parents[2] / "openapi" / "openapi.yaml").read_text(encoding="utf-8")
    )
    inlined = dict(contract, paths=_inline_refs(contract["paths"], contract))

    assert diff_specs(contract, inlined) == []
    assert diff_specs(inlined, contract) == []


def test_status_folded_into_a_range_is_compared_with_the_range_not_removed() -> None:
    old = _base()
    new = apply_patch(
        old,
        [
            {
                "op": "move",
                "from": "/paths/~1v2~1action-session~1create/post/responses/409",
                "path": "/paths/~1v2~1action-session~1create/post/responses/4XX",
            },
            {
                "op": "replace",
                "path": "/components/schemas/Error/properties/code/type",
                "value": "string",
            },
        ],
    )

    changes = diff_specs(old, new)

    # 409 is still described (by 4XX, whose body changed); 4XX newly describes other statuses.
    assert _as_tuples(changes) == {
        ("type-changed", BREAKING, "/components/schemas/Error/properties/code/type", "new"),
        (
            "response-status-added",
            NON_BREAKING,
            "/paths/~1v2~1action-session~1create/post/responses/4XX",
            "new",
        ),
    }


def _schema_change(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> set[str]:
    """The rules reported when the index request's `sort` schema changes from one to the other."""
    pointer = "/components/schemas/ActionSessionIndexRequest/properties/sort"
    old = apply_patch(_base(), [{"op": "replace", "path": pointer, "value": old_schema}])
    new = apply_patch(_base(), [{"op": "replace", "path": pointer, "value": new_schema}])
    return {c.rule for c in diff_specs(old, new)}


STRING = {"type": "string"}
LIST = {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize(
    ("old_schema", "new_schema", "rules"),
    [
        pytest.param(
            {"anyOf": [STRING, LIST]},
            {"oneOf": [STRING, LIST]},
            {"request-schema-narrowed"},
            id="anyOf-to-oneOf-narrows",
        ),
        pytest.param(
            {"oneOf": [STRING, LIST]},
            {"anyOf": [STRING, LIST]},
            {"request-schema-widened"},
            id="oneOf-to-anyOf-widens",
        ),
        pytest.param(
            {"anyOf": [STRING, LIST]},
            {"anyOf": [STRING, {"type": "array", "items": {"type": "string", "maxLength": 20}}]},
            {"request-constraint-tightened"},
            id="change-inside-a-branch-is-judged-like-outside",
        ),
        pytest.param(
            STRING,
            {"anyOf": [{"type": "integer"}, LIST]},
            {"composition-changed"},
            id="union-without-the-old-schema-is-composition-changed",
        ),
        pytest.param(
            {"allOf": [STRING, {"maxLength": 10}]},
            {"allOf": [STRING, {"maxLength": 10}, {"pattern": "^-?[a-z_]+$"}]},
            {"request-schema-narrowed"},
            id="allOf-branch-added-narrows",
        ),
        pytest.param(
            {"type": "string", "not": {"enum": ["name"]}},
            STRING,
            {"request-schema-widened"},
            id="not-removed-widens",
        ),
        pytest.param(
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "string", "maxLength": 5}},
            {"request-constraint-tightened"},
            id="additionalProperties-schemas-compared",
        ),
        pytest.param(
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "object"},
            {"request-additional-properties-widened"},
            id="additionalProperties-schema-to-any-widens",
        ),
        pytest.param(
            {"type": "integer", "multipleOf": 5},
            {"type": "integer", "multipleOf": 10},
            {"request-constraint-tightened"},
            id="multipleOf-of-a-multiple-tightens",
        ),
        pytest.param(
            {"type": "integer", "multipleOf": 4},
            {"type": "integer", "multipleOf": 6},
            {"constraint-changed"},
            id="multipleOf-unrelated-is-changed",
        ),
        pytest.param(
            {"type": "string", "pattern": "^[a-z]+$"},
            {"type": "string", "pattern": "^[a-z_]+$"},
            {"constraint-changed"},
            id="pattern-rewritten-cannot-be-ordered",
        ),
        pytest.param(
            {"type": "integer", "minimum": 0},
            {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
            {"request-constraint-tightened"},
            id="exclusiveMinimum-set-tightens",
        ),
        pytest.param(
            {"type": "array", "items": STRING},
            {"type": "array", "items": STRING, "uniqueItems": True},
            {"request-constraint-tightened"},
            id="uniqueItems-set-tightens",
        ),
        pytest.param(
            {"type": "integer"},
            {"type": "number"},
            {"request-type-widened"},
            id="integer-to-number-widens-a-request",
        ),
    ],
)
def test_schema_keyword_changes_in_a_request(
    old_schema: dict[str, Any], new_schema: dict[str, Any], rules: set[str]
) -> None:
    assert _schema_change(old_schema, new_schema) == rules


def test_discriminator_property_change_is_breaking_and_new_mapping_is_not() -> None:
    pointer = "/components/responses/DeleteRefused/content/application~1json/schema"
    disc = {"propertyName": "name", "mapping": {"Bad Request": "#/components/schemas/Error"}}
    old = apply_patch(_base(), [{"op": "add", "path": f"{pointer}/discriminator", "value": disc}])
    renamed = apply_patch(
        old, [{"op": "replace", "path": f"{pointer}/discriminator/propertyName", "value": "kind"}]
    )
    mapped = apply_patch(
        old,
        [
            {
                "op": "add",
                "path": f"{pointer}/discriminator/mapping/Blocked",
                "value": "#/components/schemas/DeleteBlockedError",
            }
        ],
    )

    assert {c.rule for c in diff_specs(old, renamed)} == {"discriminator-changed"}
    assert {c.rule for c in diff_specs(old, mapped)} == {"discriminator-mapping-added"}


def test_parameter_style_change_is_breaking() -> None:
    old = _base()
    new = apply_patch(
        old, [{"op": "add", "path": "/components/parameters/Id/style", "value": "matrix"}]
    )

    assert _as_tuples(diff_specs(old, new)) == {
        ("parameter-serialization-changed", BREAKING, "/components/parameters/Id", "new")
    }


def test_recursive_schema_split_into_all_of_parts_compares_with_its_flat_form() -> None:
    tree = {"type": "array", "items": {"$ref": "#/components/schemas/RelatedRecord"}}
    flat = {
        "type": "object",
        "required": ["entity", "id"],
        "properties": {"entity": {"type": "string"}, "id": {"type": "string"}, "related": tree},
    }
    parts = {
        "allOf": [
            {
                "type": "object",
                "required": ["entity", "id"],
                "properties": {"entity": {"type": "string"}, "id": {"type": "string"}},
            },
            {"properties": {"related": tree}},
        ]
    }
    pointer = "/components/schemas/RelatedRecord"
    old = apply_patch(_base(), [{"op": "replace", "path": pointer, "value": flat}])
    new = apply_patch(_base(), [{"op": "replace", "path": pointer, "value": parts}])
    tightened = apply_patch(
        new, [{"op": "add", "path": f"{pointer}/allOf/0/properties/id/maxLength", "value": 5}]
    )

    assert diff_specs(old, new) == []
    assert diff_specs(new, old) == []
    assert _as_tuples(diff_specs(old, tightened)) == {
        (
            "response-constraint-tightened",
            NON_BREAKING,
            f"{pointer}/allOf/0/properties/id/maxLength",
            "new",
        )
    }


def _pointers(node: Any, prefix: str = "") -> list[str]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _pointers(value, f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _pointers(value, f"{prefix}/{index}")
    return found


# Values an edit may put anywhere: right and wrong JSON types, schemas, and $refs.
_EDIT_VALUES: list[Any] = [
    None, True, 0, 7, -1, "x", "string", "integer", ["a"], {}, {"type": "string"},
    {"$ref": "#/components/schemas/Error"}, {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    {"allOf": [{"$ref": "#/components/schemas/Reference"}], "nullable": True},
]  # fmt: skip
_EDIT_KEYS = [
    "type", "format", "nullable", "enum", "maximum", "minLength", "required", "readOnly",
    "writeOnly", "additionalProperties", "items", "properties", "allOf", "oneOf", "not",
    "default", "pattern", "in", "name", "security", "discriminator", "schema", "content",
]  # fmt: skip


@given(data=st.data())
@settings(max_examples=60, derandomize=True, deadline=None, database=None)
def test_random_edits_never_crash_and_every_pointer_resolves(data: st.DataObject) -> None:
    base = _base()
    new = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        pointer = data.draw(st.sampled_from(_pointers(new)), label="pointer")
        parent, last = _parent(new, pointer)
        key: Any = int(last) if isinstance(parent, list) else last
        action = data.draw(st.sampled_from(["remove", "replace", "add-keyword"]), label="action")
        value = copy.deepcopy(data.draw(st.sampled_from(_EDIT_VALUES), label="value"))
        if action == "remove":
            del parent[key]
        elif action == "replace":
            parent[key] = value
        elif isinstance(parent[key], dict):
            parent[key][data.draw(st.sampled_from(_EDIT_KEYS), label="keyword")] = value

    for old_doc, new_doc in ((base, new), (new, base)):
        try:
            changes = diff_specs(old_doc, new_doc)
        except SpecError:
            continue  # An edit that breaks a $ref makes the document unreadable, as intended.
        for change in changes:
            _get(old_doc if _document(change) == "old" else new_doc, change.pointer)


# --- identical documents report nothing, however they are written --------------------------------

_SCALARS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "maxLength": 64, "pattern": "^[a-z]+$"},
        {"type": "string", "format": "date", "nullable": True},
        {"type": "string", "enum": ["A", "B", None], "nullable": True},
        {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
        {"type": "number", "multipleOf": 0.5, "exclusiveMinimum": True, "minimum": 0},
        {"type": "boolean", "default": False},
        {},
    ]
)


def _schemas(refs: list[str]) -> st.SearchStrategy[Any]:
    """Schemas of every kind the differ reads, referring only to `refs` (so they can be inlined)."""
    leaves = _SCALARS | (
        st.sampled_from(refs).map(lambda name: {"$ref": f"#/components/schemas/{name}"})
        if refs
        else _SCALARS
    )

    def nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        members = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), inner, max_size=3)
        return st.one_of(
            st.builds(
                lambda props, closed, required: {
                    "type": "object",
                    "properties": props,
                    **({"required": sorted(props)[:1]} if required and props else {}),
                    **({"additionalProperties": closed} if closed is not None else {}),
                },
                members,
                st.sampled_from([None, False, True, {"type": "string"}]),
                st.booleans(),
            ),
            st.builds(lambda item: {"type": "array", "items": item, "maxItems": 9}, inner),
            st.builds(
                lambda kw, branches: {kw: branches},
                st.sampled_from(["oneOf", "anyOf", "allOf"]),
                st.lists(inner, min_size=1, max_size=3),
            ),
            st.builds(lambda base: {"allOf": [base], "nullable": True}, inner),
            st.builds(lambda base: {"type": "string", "not": base}, inner),
            st.builds(
                lambda base: {**base, "readOnly": True} if isinstance(base, dict) else base, inner
            ),
        )

    return st.recursive(leaves, nest, max_leaves=8)


@st.composite
def _documents(draw: st.DrawFn) -> dict[str, Any]:
    """A small but varied OpenAPI 3.0 document without reference cycles."""
    names: list[str] = []
    components: dict[str, Any] = {}
    for index in range(draw(st.integers(0, 4))):
        components[f"S{index}"] = draw(_schemas(list(names)))
        names.append(f"S{index}")
    schema = _schemas(names)
    paths: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 3))):
        responses = {
            status: {
                "description": "x",
                "headers": {"X-Count": {"schema": {"type": "integer"}, "required": True}},
                "content": {"application/json": {"schema": draw(schema)}},
            }
            for status in draw(st.lists(st.sampled_from(["200", "4XX", "default"]), min_size=1))
        }
        operation: dict[str, Any] = {
            "operationId": f"op{index}",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": draw(schema)},
                {"name": "q", "in": "query", "schema": draw(schema)},
            ],
            "responses": responses,
        }
        if draw(st.booleans()):
            operation["requestBody"] = {
                "required": draw(st.booleans()),
                "content": {"application/json": {"schema": draw(schema)}},
            }
        if draw(st.booleans()):
            operation["servers"] = [{"url": "https://op.example.test"}]
        paths[f"/r{index}/{{id}}"] = {draw(st.sampled_from(["get", "post", "put"])): operation}
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "generated", "version": "1"},
        "paths": paths,
        "components": {"schemas": components},
    }
    if draw(st.booleans()):
        document["servers"] = [
            {"url": "https://a.example.test"},
            {"url": "https://b.example.test/"},
        ]
    return document


def _assert_no_change(old: dict[str, Any], new: dict[str, Any]) -> None:
    changes = diff_specs(old, new)
    assert changes == [], "\n".join(f"{c.rule} {c.pointer}: {c.message}" for c in changes)


@given(document=_documents())
@settings(max_examples=100, derandomize=True, deadline=None, database=None)
def test_a_generated_document_against_itself_and_its_inlined_form_reports_nothing(
    document: dict[str, Any],
) -> None:
    inlined = dict(document, paths=_inline_refs(document["paths"], document))

    _assert_no_change(document, document)
    _assert_no_change(document, copy.deepcopy(document))
    _assert_no_change(document, inlined)
    _assert_no_change(inlined, document)


def test_the_project_contract_against_its_copy_and_inlined_form_reports_nothing() -> None:
    contract = yaml.safe_load(
        (Path(__file__).parents[2] / "openapi" / "openapi.yaml").read_text(encoding="utf-8")
    )
    inlined = dict(contract, paths=_inline_refs(contract["paths"], contract))

    _assert_no_change(contract, contract)
    _assert_no_change(inlined, copy.deepcopy(inlined))


ISSUE_13_CLOSED_BODY = """
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /x:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, additionalProperties: false, properties: {a: {type: string}}}
      responses: {'200': {description: ok}}
"""


def test_unchanged_additional_properties_false_is_not_a_change() -> None:
    document = yaml.safe_load(ISSUE_13_CLOSED_BODY)

    assert diff_specs(document, yaml.safe_load(ISSUE_13_CLOSED_BODY)) == []
