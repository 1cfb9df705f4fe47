"""Every check can fail: each broken reference server fails the run with that check's title."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from conformance.cleanup import LEAK_TITLE
from conformance.registry import REGISTRY
from conformance.runner import SCHEMA_LAYER_PROOFS, run
from tests.conformance.conftest import SMALL, Served, settings_for
from tests.conformance_servers.reference import BUGS

# (bug planted in the reference server, the check whose title the run must fail with): what each
# check declares with `proven_by`, so the clause matrix shows only proofs these tests make.
SEMANTIC = [(bug, c.name) for c in REGISTRY.values() for bug in c.proven_by]


@pytest.mark.parametrize(("bug", "check"), [pytest.param(b, c, id=f"{c}-{b}") for b, c in SEMANTIC])
def test_broken_server_fails_with_the_check_title(
    serve: Callable[..., Served], bug: str, check: str
) -> None:
    served = serve(bug)
    result = run(settings_for(served.url, checks=frozenset({check}), schema_layer=False))
    titles = {f.title for f in result.findings}
    assert REGISTRY[check].title in titles, titles
    assert not result.ok


# Broken servers that exactly one check catches when every check runs: the check is needed, no
# other would notice. (Issue 14's servers; older ones are also caught by a neighbouring check.)
ONLY_ONE_CHECK = [
    "blocked_delete_bare_related",
    "null_dates_omitted",
    "write_answers_full_record",
    "defaults_not_applied",
    "unknown_member_rejected",
    "update_renames_id",
    "update_null_ignored",
    "null_not_nullable_stored",
    "move_to_unknown_parent_accepted",
    "day_order_unchecked_on_update",
    "day_joins_wrong_column",
    "update_unknown_upserts",
    "child_id_taken_overwrites",
    "no_body_limit",
    "child_force_unchecked",
    "validation_first_problem_only",
    "array_body_422",
    "default_per_page_20",
    "history_default_true",
    "page_zero_clamped",
    "name_alias_ignored",
]


@pytest.mark.parametrize("bug", ONLY_ONE_CHECK)
def test_only_the_check_that_declares_the_broken_server_catches_it(
    serve: Callable[..., Served], bug: str
) -> None:
    served = serve(bug)
    result = run(settings_for(served.url, schema_layer=False))
    owners = [c.name for c in REGISTRY.values() if bug in c.proven_by]
    assert sorted({f.check for f in result.findings}) == owners


def test_every_registered_check_has_a_broken_server() -> None:
    assert {c for _, c in SEMANTIC} == set(REGISTRY)
    assert {b for b, _ in SEMANTIC} <= set(BUGS)


# Bugs only Schemathesis sees (or sees as well), with the Schemathesis title and the phase that finds it.
SCHEMA = [
    ("server_error_on_bad_page", "Server error", "coverage"),
    ("location_missing", "Missing required response headers", "examples"),
    ("auth_not_enforced", "API accepts requests without authentication", "examples"),
    ("error_shape", "An error response does not have the contract's shape", "examples"),
    ("missing_page_header", "Pagination headers disagree with the body", "examples"),
]


def test_the_schema_layer_declares_exactly_the_proofs_made_here() -> None:
    declared = {b for bugs in SCHEMA_LAYER_PROOFS.values() for b in bugs}
    assert declared <= {bug for bug, _, _ in SCHEMA}


@pytest.mark.parametrize(("bug", "title", "phase"), [pytest.param(*s, id=s[0]) for s in SCHEMA])
def test_schema_layer_fails_broken_server(
    serve: Callable[..., Served], bug: str, title: str, phase: str
) -> None:
    served = serve(bug)
    settings = settings_for(
        served.url, checks=frozenset({"schema_layer"}), budget=replace(SMALL, phases=(phase,))
    )
    result = run(settings)
    assert title in {f.title for f in result.findings}


def test_answers_of_the_wrong_shape_fail_the_check_without_stopping_the_run(
    serve: Callable[..., Served],
) -> None:
    served = serve("view_returns_list")
    checks = frozenset({"update_is_partial", "pagination_headers"})
    result = run(settings_for(served.url, checks=checks, schema_layer=False))
    by_name = {o.name: o for o in result.outcomes}
    assert by_name["update_is_partial"].status == "failed"
    assert by_name["update_is_partial"].findings[0].title == REGISTRY["update_is_partial"].title
    assert by_name["pagination_headers"].status == "passed"


def test_records_a_server_keeps_after_delete_are_reported_as_leaks(
    serve: Callable[..., Served],
) -> None:
    served = serve("delete_noop")
    result = run(
        settings_for(served.url, checks=frozenset({"create_read_back"}), schema_layer=False)
    )
    assert LEAK_TITLE in {f.title for f in result.findings}
