"""Baselines: a run fails only on findings the baseline does not accept, and says which accepted
findings no longer occur. Fingerprints ignore what a run generates (ids, run markers, numbers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conformance import baseline
from conformance.failures import Finding
from conformance.outputs import write_outputs
from conformance.report import render
from conformance.runner import run
from conformance.verdict import judge
from tests.conformance.conftest import Served, settings_for

SEMANTIC = frozenset({"sort_order", "filter_matches", "create_read_back", "error_statuses"})


def test_a_broken_servers_run_as_baseline_lets_the_rerun_pass(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    """Both layers: the suite's checks and Schemathesis find the planted bug; written as a
    baseline, a second run (new run id, new records) passes and lists them as accepted."""
    served = serve("view_returns_list")
    path = tmp_path / "baseline.json"
    first = run(settings_for(served.url, write_baseline=path))
    first_verdict = judge(first)
    assert not first_verdict.ok
    assert {j.finding.check for j in first_verdict.failures} >= {"create_read_back", "schema_layer"}
    write_outputs(first, first_verdict)
    written = json.loads(path.read_text())
    assert written["format"] == "conformance-baseline/1"
    assert {e["fingerprint"] for e in written["findings"]} == {
        j.fingerprint for j in first_verdict.judged
    }
    assert served.url not in path.read_text() and first.settings.run_id not in path.read_text()

    second = run(settings_for(served.url, baseline=path))
    verdict = judge(second)
    assert second.settings.run_id != first.settings.run_id
    assert second.findings, "the server is still broken"
    assert verdict.ok and verdict.failures == [] and verdict.stale == []
    assert len(verdict.accepted) == len(second.findings)
    report = render(second, verdict)
    assert f"Accepted by the baseline ({len(second.findings)}, not failures)" in report
    assert report.splitlines()[-1].startswith("CONFORMS: 0 failure(s)")


def test_fingerprints_do_not_depend_on_the_seed_or_the_data(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve("filter_ignored")
    prints = []
    for seed in (1, 2, 3):
        result = run(settings_for(served.url, seed=seed, checks=SEMANTIC, schema_layer=False))
        prints.append({j.fingerprint for j in judge(result).judged})
    assert prints[0] and prints[0] == prints[1] == prints[2]


def test_a_new_breakage_fails_and_gone_entries_are_reported(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    path = tmp_path / "baseline.json"
    sort_broken = serve("sort_desc_ignored")
    old = run(
        settings_for(sort_broken.url, checks=SEMANTIC, schema_layer=False, write_baseline=path)
    )
    write_outputs(old, judge(old))
    assert [e.check for e in baseline.load(path)] == ["sort_order"]

    filter_broken = serve("filter_ignored")
    new = run(settings_for(filter_broken.url, checks=SEMANTIC, schema_layer=False, baseline=path))
    verdict = judge(new)
    assert not verdict.ok
    failing = {j.finding.check for j in verdict.failures}
    assert "filter_matches" in failing and "sort_order" not in failing
    assert [e.check for e in verdict.stale] == ["sort_order"]
    report = render(new, verdict)
    assert "Baseline entries that no longer occur (1; remove them):" in report
    assert "1 baseline entry gone" in report.splitlines()[-1]


def test_fingerprint_ignores_generated_values_but_not_the_defect() -> None:
    def finding(detail: str, url: str) -> Finding:
        return Finding(
            "error_statuses",
            "A bad request does not get the status the contract gives it",
            "errors: ...",
            detail,
            request=f"GET {url}",
        )

    templates = ["/v2/action-session/view/{id}", "/v2/action-session/index"]
    a = finding(
        "view of an unknown id 'cnf1a2b3c4d5e-ghost-3' answered 200, expected 404 at 2024-05-01T10:00:00Z",
        "http://127.0.0.1:8080/v2/action-session/view/cnf1a2b3c4d5e-ghost-3",
    )
    b = finding(
        "view of an unknown id 'cnf9f8e7d6c5b-ghost-17' answered 200, expected 404 at 2026-11-29T09:00:01Z",
        "https://staging.example/v2/action-session/view/cnf9f8e7d6c5b-ghost-17",
    )
    c = finding(
        "view of an unknown id 'cnf9f8e7d6c5b-ghost-17' answered 500, expected 404 at 2026-11-29T09:00:01Z",
        "https://staging.example/v2/action-session/view/cnf9f8e7d6c5b-ghost-17",
    )
    op_a, op_b = baseline.operation_of(a, templates), baseline.operation_of(b, templates)
    assert op_a == op_b == "GET /v2/action-session/view/{id}"
    assert baseline.fingerprint(a, op_a) == baseline.fingerprint(b, op_b)
    assert baseline.fingerprint(c, op_b) != baseline.fingerprint(b, op_b)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean,
    )


def test_cli_exit_status_follows_the_baseline(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve("sort_desc_ignored")
    path = tmp_path / "accepted.json"
    common = ["--base-url", served.url, "--token", "dev", "--check", "sort_order"]
    common += ["--no-schema-layer", "--quiet"]
    first = _cli(*common, "--write-baseline", str(path))
    assert first.returncode == 1, first.stderr
    again = _cli(*common, "--baseline", str(path))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Accepted by the baseline (1, not failures):" in again.stdout
    assert "CONFORMS: 0 failure(s), 1 accepted by the baseline" in again.stdout

    path.write_text("{not json")
    broken = _cli(*common, "--baseline", str(path))
    assert broken.returncode == 2
    assert broken.stdout == ""
    assert broken.stderr.startswith(f"conformance: error: cannot read the baseline {path}:")
