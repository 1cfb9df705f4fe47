"""The clause-to-check matrix: every clause of the contract is covered by a check or says why no
check can observe it, every check names real clauses, and the committed docs are the command's
output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import matrix
from conformance.clauses import BY_ID, CLAUSES, Clause
from conformance.registry import REGISTRY
from conformance.runner import SCHEMA_LAYER_PROOFS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "clauses.md"


def _clauses_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "clauses", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_clause_is_covered_or_says_why_it_cannot_be_observed() -> None:
    rows = matrix.build()
    uncovered = [r.clause.id for r in rows if r.status == matrix.UNCOVERED]
    assert uncovered == []
    for row in rows:
        if row.status == matrix.UNOBSERVABLE:
            assert row.clause.unobservable and len(row.clause.unobservable) > 20, row.clause.id


def test_a_clause_marked_unobservable_has_no_check() -> None:
    # A check for it would make the reason false: drop the mark instead.
    covered = {c for check in REGISTRY.values() for c in check.clauses} | set(SCHEMA_LAYER_PROOFS)
    assert [c.id for c in CLAUSES if c.unobservable and c.id in covered] == []


def test_every_check_declares_known_clauses_and_a_broken_server() -> None:
    for check in REGISTRY.values():
        assert check.clauses and all(c in BY_ID for c in check.clauses), check.name
        assert check.proven_by, check.name
    assert set(SCHEMA_LAYER_PROOFS) <= set(BY_ID)


def test_checks_are_registered_under_their_function_names() -> None:
    assert [c.name for c in REGISTRY.values()] == [c.func.__name__ for c in REGISTRY.values()]


def test_clauses_command_prints_json_with_counts_and_exits_0() -> None:
    done = _clauses_command("--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["format"] == "conformance-clauses/1"
    assert [c["id"] for c in document["clauses"]] == [c.id for c in CLAUSES]
    counts = document["counts"]
    assert counts["clauses"] == len(CLAUSES) == counts["covered"] + counts["unobservable"]
    assert counts["uncovered"] == 0
    by_id = {c["id"]: c for c in document["clauses"]}
    assert by_id["page.per-page-cap"]["checks"] == [
        {
            "check": "per_page_cap",
            "profiles": ["full", "safe"],
            "broken_servers": ["no_per_page_cap"],
        }
    ]
    assert by_id["history.which-historized"]["status"] == "unobservable"


def test_clauses_command_text_lists_each_clause_with_its_checks() -> None:
    done = _clauses_command()
    assert done.returncode == 0, done.stderr
    assert "page.per-page-cap [covered]" in done.stdout
    assert "check: per_page_cap (full, safe); fails on: no_per_page_cap" in done.stdout
    assert done.stdout.rstrip().endswith(matrix.summary(matrix.build()))


def test_committed_docs_equal_the_commands_markdown() -> None:
    done = _clauses_command("--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert DOCS.read_text(encoding="utf-8") == done.stdout, (
        "docs/clauses.md is stale: python -m conformance clauses --format markdown > docs/clauses.md"
    )


def test_an_uncovered_clause_is_listed_and_fails_the_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = Clause("test.uncovered", "a clause nobody checks", "test")
    monkeypatch.setattr(matrix, "CLAUSES", (*CLAUSES, extra))
    rows = matrix.build()
    assert rows[-1].status == matrix.UNCOVERED
    assert matrix.counts(rows)["uncovered"] == 1
    assert "test.uncovered [uncovered]" in matrix.render_text(rows)
    assert "| uncovered | **none** |" in matrix.render_markdown(rows)
