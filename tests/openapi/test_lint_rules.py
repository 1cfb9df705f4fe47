"""Each lint rule finds what it is for, at the right line, and nothing else.

Every case breaks `lint_fixtures/minimal.yaml` (a spec that follows every convention) in one
place and names the findings it must cause by rule, severity and a text marker whose line the
finding must point at, so the expectations survive edits to the fixture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import yaml

from openapi.findings import Finding, Severity
from openapi.lint import RULES, lint_document, parse

MINIMAL = (Path(__file__).with_name("lint_fixtures") / "minimal.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Edit:
    """Replace the `occurrence`-th (from 1) `old` of the fixture by `new`."""

    old: str
    new: str
    occurrence: int = 1

    def apply(self, text: str) -> str:
        start = -1
        for _ in range(self.occurrence):
            start = text.index(self.old, start + 1)
        return text[:start] + self.new + text[start + len(self.old) :]


@dataclass(frozen=True)
class Expect:
    """A finding: its rule, severity, and the line of the `occurrence`-th `marker` after `after`."""

    rule: str
    severity: Severity
    marker: str
    after: str = ""
    occurrence: int = 1

    def line_in(self, text: str) -> int:
        start = text.index(self.after) if self.after else 0
        index = start - 1
        for _ in range(self.occurrence):
            index = text.index(self.marker, index + 1)
        return text.count("\n", 0, index) + 1


def lint_text(text: str) -> list[Finding]:
    return lint_document(parse(text, "spec.yaml"))


def observed(findings: list[Finding]) -> list[tuple[str, Severity, int | None]]:
    return sorted((finding.rule, finding.severity, finding.line) for finding in findings)


def expected(text: str, expectations: tuple[Expect, ...]) -> list[tuple[str, Severity, int]]:
    return sorted((each.rule, each.severity, each.line_in(text)) for each in expectations)


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
# "The other rules did not run", at the document's first node.
SKIPPED = Expect("oas-structure", INFO, "openapi: 3.0.3")

CASES = [
    pytest.param(
        [Edit("        note: null\n", "        note: 5\n")],
        (Expect("example-valid", E, "        note: 5"),),
        id="schema-example-of-the-wrong-type",
    ),
    pytest.param(
        [Edit("          nullable: true\n", "")],
        (Expect("example-valid", E, "        note: null"),),
        id="null-example-for-a-schema-that-is-not-nullable",
    ),
    pytest.param(
        [Edit("                created: '2024-01-10'", "                created: '2024-13-10'")],
        (Expect("example-valid", E, "created: '2024-13-10'"),),
        id="response-example-with-an-impossible-date",
    ),
    pytest.param(
        [Edit("              name: Spanner\n", "              label: Spanner\n")],
        (Expect("example-valid", E, "            example:", after="operationId: thing.create"),),
        id="request-example-missing-a-required-writable-member",
    ),
    pytest.param(
        [Edit("      example: thing-1\n", "      example: 7\n")],
        (Expect("example-valid", E, "      example: 7"),),
        id="parameter-example-of-the-wrong-type",
    ),
    pytest.param(
        [Edit("              per-page: 10\n", "              per-page: 0\n")],
        (Expect("example-valid", E, "per-page: 0"),),
        id="request-example-below-a-referenced-minimum",
    ),
    pytest.param(
        [
            Edit(
                "              name: Spanner\n",
                "              name: Spanner\n              thing_id: t-9\n",
            )
        ],
        (Expect("example-access-mode", W, "thing_id: t-9"),),
        id="request-example-sends-a-read-only-member",
    ),
    pytest.param(
        [
            Edit(
                "                name: Spanner\n",
                "                name: Spanner\n                secret: s\n",
            )
        ],
        (Expect("example-access-mode", W, "secret: s"),),
        id="response-example-carries-a-write-only-member",
    ),
    pytest.param(
        [Edit("      operationId: thing.delete\n", "")],
        (Expect("operation-id-and-summary", E, "    delete:"),),
        id="operation-without-operation-id",
    ),
    pytest.param(
        [Edit("      summary: View a thing\n", "")],
        (Expect("operation-id-and-summary", E, "    get:"),),
        id="operation-without-summary",
    ),
    pytest.param(
        [Edit("            X-Pagination-Per-Page:\n", "            X-Pagination-Size:\n")],
        (Expect("index-pagination-headers", E, "        '200':"),),
        id="index-without-a-pagination-header",
    ),
    pytest.param(
        [
            Edit(
                "    X-Pagination-Page-Count:\n      required: true",
                "    X-Pagination-Page-Count:\n      required: false",
            )
        ],
        (
            Expect(
                "index-pagination-headers", E, "    X-Pagination-Page-Count:", after="components:"
            ),
        ),
        id="pagination-header-not-required",
    ),
    pytest.param(
        [
            # Total-Count, Page-Count, then Current-Page
            Edit("        type: integer\n", "        type: string\n", occurrence=3)
        ],
        (
            Expect(
                "index-pagination-headers",
                E,
                "      schema:",
                after="    X-Pagination-Current-Page:\n      required",
            ),
        ),
        id="pagination-header-not-an-integer",
    ),
    pytest.param(
        [Edit("                type: array\n", "                type: object\n")],
        (Expect("index-array-body", E, "              schema:", after="operationId: thing.index"),),
        id="index-answers-an-object-not-an-array",
    ),
    pytest.param(
        [Edit("        '404':\n          $ref: '#/components/responses/NotFound'\n", "")],
        (
            Expect(
                "error-responses-declared", E, "      responses:", after="operationId: thing.view"
            ),
        ),
        id="operation-with-id-in-path-without-404",
    ),
    pytest.param(
        [
            Edit(
                "        '422':\n          $ref: '#/components/responses/ValidationFailed'\n",
                "",
                occurrence=2,
            )
        ],
        (
            Expect(
                "error-responses-declared", E, "      responses:", after="operationId: thing.create"
            ),
        ),
        id="operation-with-json-body-without-422",
    ),
    pytest.param(
        [
            Edit(
                "        '401':\n          $ref: '#/components/responses/Unauthorized'\n",
                "",
                occurrence=4,
            )
        ],
        (
            Expect(
                "error-responses-declared", E, "      responses:", after="operationId: thing.delete"
            ),
        ),
        id="secured-operation-without-401",
    ),
    pytest.param(
        [
            Edit(
                "            $ref: '#/components/schemas/Error'\n",
                "            type: object\n",
                occurrence=2,  # BadRequest, then Unauthorized
            )
        ],
        # Four operations use the response; the inline copy is reported once, where it is written.
        (
            Expect(
                "error-schemas-shared",
                E,
                "          schema:",
                after="      description: No credential.",
            ),
        ),
        id="error-response-with-an-inline-copy-of-error",
    ),
    pytest.param(
        [
            Edit(
                "            $ref: '#/components/schemas/ValidationErrors'\n",
                "            $ref: '#/components/schemas/Error'\n",
            )
        ],
        (
            Expect(
                "error-schemas-shared", E, "          schema:", after="      description: Invalid."
            ),
            Expect("components-unused", W, "    ValidationErrors:"),
        ),
        id="422-with-the-plain-error-body",
    ),
    pytest.param(
        [
            Edit(
                "        - name: force\n          in: query\n",
                "        - name: force\n          in: header\n",
            )
        ],
        (Expect("delete-force-parameter", E, "    delete:"),),
        id="delete-without-force",
    ),
    pytest.param(
        [
            Edit(
                "            type: boolean\n            default: false\n",
                "            type: string\n",
            )
        ],
        (Expect("delete-force-parameter", E, "          schema:", after="- name: force"),),
        id="delete-with-a-force-that-is-not-boolean",
    ),
    pytest.param(
        [Edit("                  - $ref: '#/components/schemas/DeleteBlockedError'\n", "")],
        (
            Expect(
                "delete-blocked-response", E, "              schema:", after="A bad force value"
            ),
            Expect("components-unused", W, "    DeleteBlockedError:"),
        ),
        id="delete-400-without-the-blocked-form",
    ),
    pytest.param(
        [Edit("  - bearerAuth: []\n", "  - tokenAuth: []\n")],
        (
            Expect("security-declared", E, "  - tokenAuth: []"),
            Expect("components-unused", W, "    bearerAuth:"),
        ),
        id="requirement-naming-an-undeclared-scheme",
    ),
    pytest.param(
        [
            Edit(
                "      summary: View a thing\n", "      summary: View a thing\n      security: []\n"
            )
        ],
        (Expect("security-declared", INFO, "      security: []"),),
        id="operation-opting-out-of-security-is-information",
    ),
    pytest.param(
        [Edit("security:\n  - bearerAuth: []\n", "")],
        (
            Expect("security-declared", E, "    post:", occurrence=1),
            Expect("security-declared", E, "    post:", occurrence=2),
            Expect("security-declared", E, "    get:"),
            Expect("security-declared", E, "    delete:"),
            Expect("components-unused", W, "    bearerAuth:"),
        ),
        id="no-security-requirement-anywhere",
    ),
    pytest.param(
        [
            Edit(
                "              operationId: thing.view\n", "              operationId: thing.show\n"
            )
        ],
        (Expect("links-resolve", E, "operationId: thing.show"),),
        id="link-to-an-unknown-operation-id",
    ),
    pytest.param(
        [
            Edit(
                "                id: $response.body#/thing_id",
                "                thing: $response.body#/thing_id",
            )
        ],
        (Expect("links-resolve", E, "thing: $response.body"),),
        id="link-passing-a-parameter-the-target-lacks",
    ),
    pytest.param(
        [Edit("id: $response.body#/thing_id", "id: $response.body#/thing_key")],
        (Expect("links-resolve", E, "id: $response.body#/thing_key"),),
        id="link-expression-naming-a-member-the-response-lacks",
    ),
    pytest.param(
        [Edit("id: $response.body#/thing_id", "id: $request.path.id")],
        (Expect("links-resolve", E, "id: $request.path.id"),),
        id="link-expression-naming-a-parameter-the-source-lacks",
    ),
    pytest.param(
        [
            Edit(
                "        per-page:\n",
                "        owner_id:\n          format: uuid\n        per-page:\n",
            )
        ],
        (Expect("ids-not-uuid", E, "format: uuid"),),
        id="id-declared-as-uuid",
    ),
    pytest.param(
        [
            Edit(
                "    ThingIndexRequest:\n",
                "    Unused:\n      type: string\n    ThingIndexRequest:\n",
            )
        ],
        (Expect("components-unused", W, "    Unused:"),),
        id="unused-schema",
    ),
    pytest.param(
        [
            Edit(
                "  securitySchemes:\n",
                "  securitySchemes:\n    apiKey:\n      type: apiKey\n"
                "      in: query\n      name: access-token\n",
            )
        ],
        (Expect("components-unused", W, "    apiKey:"),),
        id="unused-security-scheme",
    ),
    pytest.param(
        [Edit("          description: Deleted.\n", "")],
        (Expect("oas-structure", E, "        '204':"), SKIPPED),
        id="response-without-description-is-structurally-invalid",
    ),
    pytest.param(
        [
            Edit(
                "$ref: '#/components/schemas/ThingIndexRequest'",
                "$ref: '#/components/schemas/ThingSearch'",
            )
        ],
        (Expect("oas-structure", E, "$ref: '#/components/schemas/ThingSearch'"), SKIPPED),
        id="unresolvable-ref",
    ),
    pytest.param(
        [
            Edit(
                "      summary: View a thing\n",
                "      summary: View a thing\n      summary: Show it\n",
            )
        ],
        (Expect("oas-structure", E, "      summary: Show it"), SKIPPED),
        id="key-written-twice",
    ),
    pytest.param(
        [Edit("            default: false\n", "            default: null\n")],
        # Two findings, as the validator words them: not nullable, and not a boolean.
        (Expect("oas-structure", E, "default: null"), Expect("oas-structure", E, "default: null"))
        + (SKIPPED,),
        id="null-default-of-a-parameter-that-is-not-nullable-at-its-line",
    ),
    pytest.param(
        [
            Edit(
                "        name:\n          type: string\n",
                "        name:\n          type: string\n          default: 5\n",
            )
        ],
        (Expect("oas-structure", E, "default: 5"), SKIPPED),
        id="default-of-the-wrong-type-in-a-referenced-schema-at-its-line",
    ),
    pytest.param(
        [Edit("      operationId: thing.delete\n", "      operationId: thing.view\n")],
        (Expect("oas-structure", E, "operationId: thing.view", after="/v2/thing/delete"), SKIPPED),
        id="duplicate-operation-id-at-the-second-operation",
    ),
    pytest.param(
        [Edit("        type: string\n      example: thing-1\n", "        type: string\n")],
        (Expect("path-parameter-example", E, "    Id:"),),
        id="shared-path-parameter-without-example-reported-once-where-written",
    ),
    pytest.param(
        [Edit("openapi: 3.0.3\n", "openapi: 3.1.0\n")],
        (
            Expect("oas-structure", E, "openapi: 3.1.0"),
            Expect("oas-structure", INFO, "openapi: 3.1.0"),
        ),
        id="not-openapi-3-0",
    ),
]


def test_minimal_fixture_is_clean() -> None:
    assert lint_text(MINIMAL) == []


@pytest.mark.parametrize(("edits", "expectations"), CASES)
def test_broken_fixture_reports_rule_severity_and_line(
    edits: list[Edit], expectations: tuple[Expect, ...]
) -> None:
    text = MINIMAL
    for edit in edits:
        text = edit.apply(text)
    assert observed(lint_text(text)) == expected(text, expectations)


def test_every_rule_is_proved_by_a_case() -> None:
    expectations = [cast("tuple[Expect, ...]", case.values[1]) for case in CASES]
    proved = {each.rule for expected in expectations for each in expected}
    assert proved == {each.name for each in RULES}


def test_rule_names_are_unique_and_kebab_case() -> None:
    names = [each.name for each in RULES]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name and "_" not in name for name in names)


def test_unquoted_yaml_dates_are_strings_as_json_tools_read_them() -> None:
    text = Edit("        created: '2024-01-10'\n", "        created: 2024-01-10\n").apply(MINIMAL)
    assert lint_text(text) == []


def test_json_spec_is_read_as_json_with_lines_even_with_tab_indentation() -> None:
    data = yaml.safe_load(MINIMAL)
    del data["paths"]["/v2/thing/view/{id}"]["get"]["summary"]
    text = json.dumps(data, indent="\t")
    [finding] = lint_text(text)
    assert (finding.rule, finding.line) == (
        "operation-id-and-summary",
        text.split("\n").index('\t\t\t"get": {') + 1,
    )


def test_finding_messages_name_the_problem() -> None:
    text = Edit(
        "              operationId: thing.view\n", "              operationId: thing.show\n"
    ).apply(MINIMAL)
    [finding] = lint_text(text)
    assert finding.message == "link names operationId 'thing.show', which no operation has"
    assert (
        finding.pointer
        == "/paths/~1v2~1thing~1create/post/responses/201/links/ViewCreatedThing/operationId"
    )


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(Edit("paths:\n", "paths: []\nx-paths:\n"), id="paths-is-a-list"),
        pytest.param(
            Edit("      responses:\n", "      responses: oops\n      x:\n"), id="responses-is-text"
        ),
        pytest.param(
            Edit("            schema:\n", "            schema: 5\n            x:\n"),
            id="schema-is-a-number",
        ),
        pytest.param(Edit("'#/components/schemas/Thing'", "'#/nowhere'"), id="unresolvable-ref"),
        pytest.param(
            Edit("      required: [thing_id", "      required: [[thing_id]"),
            id="required-holds-a-list",
        ),
        pytest.param(
            Edit("  securitySchemes:\n", "  securitySchemes: []\n  x:\n"), id="schemes-is-a-list"
        ),
    ],
)
def test_every_rule_survives_a_malformed_document(edit: Edit) -> None:
    # The runner stops at oas-structure errors, but each rule must still not crash on its own.
    doc = parse(edit.apply(MINIMAL), "spec.yaml")
    for each in RULES:
        each.run(doc)
    findings = lint_document(doc)
    assert findings
    assert {finding.rule for finding in findings} == {"oas-structure"}
