"""Every check can fail: each broken reference server fails the run with that check's title."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from conformance.cleanup import LEAK_TITLE
from conformance.registry import REGISTRY
from conformance.runner import run
from tests.conformance_suite.conftest import SMALL, Served, settings_for

# (bug planted in the reference server, the check whose title the run must fail with)
SEMANTIC = [
    ("page_count_floor", "pagination_headers"),
    ("last_page_short", "pagination_headers"),
    ("missing_page_header", "pagination_headers"),
    ("no_per_page_cap", "per_page_cap"),
    ("past_last_page_empty", "past_last_page"),
    ("total_is_page_size", "total_independent_of_page_size"),
    ("unstable_ties", "walk_exactly_once"),
    ("filter_after_paging", "walk_exactly_once"),
    ("filter_ignored", "filter_matches"),
    ("filter_drops_last", "filter_complete"),
    ("empty_filter_matches", "filter_empty_values_ignored"),
    ("unknown_filter_rejected", "filter_unknown_key_ignored"),
    ("filter_type_unchecked", "filter_wrong_type_rejected"),
    ("sort_desc_ignored", "sort_order"),
    ("nulls_last", "sort_order"),
    ("unknown_sort_rejected", "sort_unknown_field_ignored"),
    ("history_only_historized", "history_superset"),
    ("create_drops_field", "create_read_back"),
    ("create_not_listed", "create_read_back"),
    ("location_missing", "create_read_back"),
    ("update_ignored", "update_stores_sent"),
    ("update_wipes_unsent", "update_is_partial"),
    ("readonly_accepted", "read_only_ignored"),
    ("counts_not_updated", "parent_follows_children"),
    ("dates_not_updated", "parent_follows_children"),
    ("blocked_delete_partial_related", "blocked_delete_lists_related"),
    ("blocked_delete_deletes", "blocked_delete_keeps_everything"),
    ("force_no_cascade", "forced_delete_cascades"),
    ("delete_requires_force", "unrelated_delete_without_force"),
    ("delete_unknown_204", "delete_unknown_404"),
    ("error_shape", "error_shape"),
    ("malformed_json_422", "error_statuses"),
    ("auth_not_enforced", "auth_enforced"),
    ("query_token_ignored", "credential_forms_accepted"),
    ("method_not_refused", "undocumented_method_refused"),
]


@pytest.mark.parametrize(("bug", "check"), [pytest.param(b, c, id=f"{c}-{b}") for b, c in SEMANTIC])
def test_broken_server_fails_with_the_check_title(
    serve: Callable[..., Served], bug: str, check: str
) -> None:
    served = serve(bug)
    result = run(settings_for(served.url, checks=frozenset({check}), schema_layer=False))
    titles = {f.title for f in result.findings}
    assert REGISTRY[check].title in titles, titles
    assert not result.ok


def test_every_registered_check_has_a_broken_server() -> None:
    assert {c for _, c in SEMANTIC} == set(REGISTRY)


# Bugs only Schemathesis sees (or sees as well), with the Schemathesis title and the phase that finds it.
SCHEMA = [
    ("server_error_on_bad_page", "Server error", "coverage"),
    ("location_missing", "Missing required response headers", "examples"),
    ("auth_not_enforced", "API accepts requests without authentication", "examples"),
    ("error_shape", "An error response does not have the contract's shape", "examples"),
    ("missing_page_header", "Pagination headers disagree with the body", "examples"),
]


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
