"""Guesses: the spec marks the clauses no public source states (`x-guess`), and a finding that
rests only on one is a warning that does not fail the run, unless `--strict`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import yaml

from conformance.config import Budget
from conformance.guesses import by_id, locate, marked
from conformance.registry import REGISTRY
from conformance.report import render
from conformance.runner import run
from conformance.verdict import judge
from openapi import SPEC_PATH
from tests.conformance.conftest import SMALL, Served, settings_for

DOCUMENT = yaml.safe_load(SPEC_PATH.read_text())
# The brief's list of guesses ("What is known and what is guessed").
BRIEF_GUESSES = {
    "sort-name-alias",
    "oauth2-token-url",
    "id-syntax",
    "reference-length",
    "validity-maximum",
    "non-object-body-400",
    "error-message-texts",
}


def test_the_spec_marks_every_guess_the_brief_lists() -> None:
    found = by_id(DOCUMENT)
    assert set(found) >= BRIEF_GUESSES
    assert all(g.note for g in found.values())
    assert found["id-syntax"].pointer == "/components/schemas/RecordId"
    assert found["id-syntax"].keywords == ("minLength", "maxLength", "pattern")
    assert found["oauth2-token-url"].pointer == "/components/securitySchemes/oauth2"
    assert found["sort-name-alias"].pointer == "/components/schemas/ActionSessionSort"


def _markers(node: object, pointer: str = "") -> list[tuple[str, dict[str, object], object]]:
    found = []
    if isinstance(node, dict):
        if "x-guess" in node:
            found.append((pointer, node, node["x-guess"]))
        for key, value in node.items():
            found += _markers(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _markers(value, f"{pointer}/{n}")
    return found


def test_every_marker_follows_the_convention() -> None:
    markers = _markers(DOCUMENT)
    assert len(markers) == len(by_id(DOCUMENT)), "every marker has a string id, each id once"
    for pointer, node, marker in markers:
        assert isinstance(marker, dict), pointer
        assert set(marker) <= {"id", "keywords", "note"}, pointer
        assert isinstance(marker.get("note"), str) and marker["note"], pointer
        keywords = marker.get("keywords", [])
        assert isinstance(keywords, list), pointer
        assert all(k in node for k in keywords), f"{pointer}: a guessed keyword is not there"


def test_only_the_guessed_keywords_of_a_schema_are_guesses() -> None:
    pointer = locate(
        DOCUMENT,
        "POST",
        "/v2/action-session/create",
        location="/properties/action_session_id/maxLength",
        parameter="application/json",
        parameter_in="body",
    )
    assert pointer == "/components/schemas/RecordId/maxLength"
    guess = marked(DOCUMENT, pointer)
    assert guess is not None and guess.id == "id-syntax"
    assert marked(DOCUMENT, "/components/schemas/Validity/maximum").id == "validity-maximum"  # type: ignore[union-attr]
    # validity >= 0 comes from the brief: a finding about it is a real failure.
    assert marked(DOCUMENT, "/components/schemas/Validity/minimum") is None
    assert marked(DOCUMENT, "/components/schemas/RecordId/type") is None


COVERAGE = Budget(max_examples=2, stateful_steps=4, property_examples=4, phases=("coverage",))


def test_a_server_differing_only_on_a_guess_conforms_with_warnings(
    serve: Callable[..., Served],
) -> None:
    """A server taking client ids of any length breaks only the guessed 3-64 limit: the
    Schemathesis findings on it are warnings naming the guess; --strict makes them fail."""
    served = serve(variant="any_id_length")
    settings = settings_for(served.url, budget=COVERAGE, checks=frozenset({"schema_layer"}))
    result = run(settings)
    verdict = judge(result)
    assert result.findings, "the coverage phase sends over-long ids"
    assert verdict.ok
    assert verdict.failures == []
    assert {j.guess.id for j in verdict.warnings if j.guess} == {"id-syntax"}
    assert {j.finding.pointer for j in verdict.warnings} == {
        "/components/schemas/RecordId/maxLength"
    }
    report = render(result, verdict)
    assert "Warnings: findings that rest only on a clause the contract guessed" in report
    assert (
        "guess:    id-syntax at #/components/schemas/RecordId (minLength, maxLength, pattern)"
        in (report)
    )
    assert report.splitlines()[-1].startswith("CONFORMS: 0 failure(s), ")

    strict = judge(replace(result, settings=replace(result.settings, strict=True)))
    assert not strict.ok
    assert len(strict.failures) == len(result.findings)
    assert all(j.guess is not None and j.guess.id == "id-syntax" for j in strict.failures)


def test_a_server_error_on_a_guessed_input_is_still_a_failure(
    serve: Callable[..., Served],
) -> None:
    """The over-long id probes the guessed limit, but "no 500 for any input" is no guess."""
    served = serve("long_id_500")
    settings = settings_for(served.url, budget=COVERAGE, checks=frozenset({"schema_layer"}))
    verdict = judge(run(settings))
    assert not verdict.ok
    assert "Server error" in {j.finding.title for j in verdict.failures}
    assert all(j.guess is None for j in verdict.failures)


@pytest.mark.parametrize(
    ("guess", "fails"),
    [
        pytest.param("error-message-texts", False, id="marked-in-the-spec-warning"),
        pytest.param("not-marked-any-more", True, id="confirmed-clause-failure"),
    ],
)
def test_a_check_registered_on_a_guess_warns_while_the_spec_marks_it(
    serve: Callable[..., Served], monkeypatch: pytest.MonkeyPatch, guess: str, fails: bool
) -> None:
    monkeypatch.setitem(REGISTRY, "sort_order", replace(REGISTRY["sort_order"], guess=guess))
    served = serve("sort_desc_ignored")
    settings = settings_for(
        served.url, budget=SMALL, checks=frozenset({"sort_order"}), schema_layer=False
    )
    verdict = judge(run(settings))
    assert [j.finding.check for j in verdict.judged] == ["sort_order"]
    assert verdict.ok is not fails
    assert [j.status for j in verdict.judged] == ["failure" if fails else "warning"]
