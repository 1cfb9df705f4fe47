"""The suite on a real network: behind a throttling, slow or hanging gateway (a real loopback
proxy, `gateway.Gateway`), a correct server still conforms and nothing is left behind, a broken
one is still caught, a request that gets no answer is a finding of the check that sent it, and
retries that run out end the run with exit 2 (never findings), after a cleanup that either
deletes everything or writes what it could not to the leftovers file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.client import NO_ANSWER_TITLE, retry_after
from conformance.config import Network
from conformance.registry import REGISTRY
from conformance.runner import Result, RunAborted, run
from tests.conformance.conftest import SMALL, Served, settings_for
from tests.conformance.gateway import Gateway
from tests.conformance.test_safety import marked_rows

# Checks that read, write, delete and probe errors: every kind of request a run sends.
MIXED = frozenset(
    {
        "pagination_headers",
        "filter_wrong_type_rejected",
        "create_read_back",
        "forced_delete_cascades",
        "error_statuses",
        "auth_enforced",
    }
)
FAST = Network(timeout=5.0, max_retries=6, max_wait=30.0, concurrency=4)


@pytest.fixture
def gateway() -> Iterator[Callable[..., Gateway]]:
    """Start gateways (`gateway(upstream, rate=..., ...)`); all stop at teardown."""
    started: list[Gateway] = []

    def start(upstream: str, **kwargs: object) -> Gateway:
        proxy = Gateway(upstream, **kwargs)  # type: ignore[arg-type]
        started.append(proxy.__enter__())
        return proxy

    yield start
    for proxy in started:
        proxy.__exit__(None, None, None)


def _rows(served: Served) -> str:
    return json.dumps(served.store.rows, sort_keys=True)


def _problems(result: Result) -> list[str]:
    return [f"{f.check}: {f.title}: {f.detail}" for f in result.findings]


def test_correct_server_throttled_at_20_per_second_conforms_and_leaves_nothing(
    serve: Callable[..., Served], gateway: Callable[..., Gateway]
) -> None:
    served = serve()
    before = _rows(served)
    proxy = gateway(served.url, rate=20)
    settings = settings_for(
        proxy.url,
        checks=MIXED | {"schema_layer"},
        budget=replace(SMALL, max_examples=1),
        network=FAST,
    )
    result = run(settings)
    assert result.ok, _problems(result)
    assert proxy.counts.throttled > 0 and result.waits.throttled > 0  # the limit was really met
    assert result.waits.by_status == {429: result.waits.throttled}
    assert not any("429" in line for line in _problems(result))
    # Through the server itself: no record of the run remains, nothing else changed.
    assert marked_rows(served, settings.run_id) == []
    assert _rows(served) == before
    assert result.leftovers == []


def test_rate_option_keeps_the_run_under_the_gateway_limit(
    serve: Callable[..., Served], gateway: Callable[..., Gateway]
) -> None:
    served = serve()
    proxy = gateway(served.url, rate=20)
    settings = settings_for(
        proxy.url,
        checks=frozenset({"pagination_headers", "create_read_back", "error_statuses"}),
        schema_layer=False,
        network=replace(FAST, rate=15),
    )
    started = time.monotonic()
    result = run(settings)
    elapsed = time.monotonic() - started
    assert result.ok, _problems(result)
    assert proxy.counts.throttled == 0 and result.waits.throttled == 0
    times = proxy.counts.times
    busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert busiest <= 16  # 15 per second, and scheduling jitter of at most one
    assert elapsed >= (result.requests - 1) / 15 * 0.9


def test_broken_server_behind_the_throttling_gateway_is_still_caught(
    serve: Callable[..., Served], gateway: Callable[..., Gateway]
) -> None:
    served = serve("filter_ignored")
    proxy = gateway(served.url, rate=20)
    settings = settings_for(
        proxy.url,
        checks=frozenset({"filter_matches", "pagination_headers", "delete_unknown_404"}),
        schema_layer=False,
        network=FAST,
    )
    result = run(settings)
    assert proxy.counts.throttled > 0
    assert [(f.check, f.title) for f in result.findings] == [
        ("filter_matches", REGISTRY["filter_matches"].title)
    ]
    assert marked_rows(served, settings.run_id) == []


def test_hanging_request_is_a_finding_of_the_check_that_sent_it_and_the_run_goes_on(
    serve: Callable[..., Served],
    gateway: Callable[..., Gateway],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = serve()
    # Like Prism's validating proxy: a malformed JSON body is never answered.
    proxy = gateway(served.url, hang=lambda method, target, body: body == b'{"filter": ')
    junit = tmp_path / "junit.xml"
    argv = ["--base-url", proxy.url, "--token", "dev", "--seed", "3", "--no-schema-layer"]
    argv += ["--timeout", "1", "--max-retries", "1", "--junit-xml", str(junit)]
    for name in ("pagination_headers", "error_statuses", "delete_unknown_404"):
        argv += ["--check", name]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert f"1. {NO_ANSWER_TITLE}" in out and "check:    error_statuses" in out
    assert "no answer within 1 s (timed out) (2 attempts)" in out  # a read: sent once more
    assert "POST http://127.0.0.1:" in out and "/v2/action-session/index" in out
    assert "VIOLATIONS FOUND: 1 failure(s); checks 3 passed, 1 failed of 4" in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    failure = cases["error_statuses"].find("failure")
    assert failure is not None and failure.get("message") == NO_ANSWER_TITLE
    assert cases["pagination_headers"].find("failure") is None
    assert cases["delete_unknown_404"].find("failure") is None
    assert proxy.counts.hung == 2


def test_unanswered_write_is_not_sent_again_and_its_read_back_finds_it_landed(
    serve: Callable[..., Served], gateway: Callable[..., Gateway]
) -> None:
    served = serve()
    before = _rows(served)
    swallowed: list[bytes] = []

    def first_session(method: str, target: str, body: bytes) -> bool:
        # The first session the run creates (a server-chosen id) reaches the server; its answer
        # is lost on the way back.
        if target.endswith("/action-session/create") and b'"n": 0}' in body and not swallowed:
            swallowed.append(body)
            return True
        return False

    proxy = gateway(served.url, swallow=first_session)
    settings = settings_for(proxy.url, schema_layer=False, network=replace(FAST, timeout=1.0))
    result = run(settings)
    setup = result.outcomes[0]
    assert (setup.name, setup.status) == ("setup", "failed")
    finding = setup.findings[0]
    assert finding.title == NO_ANSWER_TITLE
    assert "the write was not sent again" in finding.detail
    assert re.search(
        r"read back: it landed as ActionSession \S+ \(tracked for cleanup\)", finding.detail
    )
    sent = [b for m, p, b in served.requests if p.endswith("/action-session/create")]
    assert sent.count(swallowed[0]) == 1  # never blindly sent again
    assert marked_rows(served, settings.run_id) == []  # the landed record was cleaned up
    assert _rows(served) == before


def test_retries_running_out_end_the_run_with_exit_2_and_a_report_not_findings(
    serve: Callable[..., Served],
    gateway: Callable[..., Gateway],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = serve()

    def sorted_index(method: str, target: str, body: bytes) -> int | None:
        return 503 if target.endswith("/index") and b'"sort"' in body else None

    proxy = gateway(served.url, substitute=sorted_index)
    junit = tmp_path / "junit.xml"
    argv = ["--base-url", proxy.url, "--token", "dev", "--no-schema-layer", "--quiet"]
    argv += ["--max-retries", "2", "--max-wait", "5", "--junit-xml", str(junit)]
    for name in ("pagination_headers", "sort_order"):
        argv += ["--check", name]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith(
            "conformance: error: the run could not be completed: the server kept answering "
            "503 Service Unavailable: gave up after 3 attempt(s)"
        )
    )
    assert "INCOMPLETE: 0 failure(s)" in out and "503" not in out.split("INCOMPLETE")[0]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("failures") == "0"
    assert proxy.counts.substituted == 3
    run_id = dict((p.get("name"), p.get("value")) for p in suite.iter("property"))["run_id"]
    assert marked_rows(served, str(run_id)) == []  # the cleanup still ran, with its own retries


def test_cleanup_that_cannot_delete_writes_leftovers_that_cleanup_from_finishes(
    serve: Callable[..., Served],
    gateway: Callable[..., Gateway],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = serve()
    before = _rows(served)
    refusing = [True]

    def deletes(method: str, target: str, body: bytes) -> int | None:
        return 429 if method == "DELETE" and refusing[0] else None

    proxy = gateway(served.url, substitute=deletes, retry_after="0")
    leftovers = tmp_path / "leftovers.json"
    argv = ["--base-url", proxy.url, "--token", "dev", "--no-schema-layer", "--quiet"]
    argv += ["--check", "pagination_headers", "--max-retries", "1", "--leftovers", str(leftovers)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "could not be completed: cleanup could not finish" in err
    document = json.loads(leftovers.read_text())
    run_id = document["runs"][0]
    left = marked_rows(served, run_id)
    assert len(document["records"]) == len(left) > 0
    assert {r["id"] for r in document["records"]} <= {
        str(v) for row in left for k, v in row.items() if k.endswith("_id")
    }
    assert "dev" not in leftovers.read_text().replace("devices", "")
    assert f"{len(left)} record(s) left behind" in out

    refusing[0] = False
    assert main(["cleanup", "--from", str(leftovers), "--token", "dev"]) == 0
    assert f"all {len(left)} record(s) deleted" in capsys.readouterr().out
    assert marked_rows(served, run_id) == []
    assert _rows(served) == before
    assert json.loads(leftovers.read_text())["records"] == []


def test_cleanup_from_an_unreadable_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leftovers.json"
    path.write_text("[1, 2]")
    assert main(["cleanup", "--from", str(path), "--base-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"conformance: error: {path} is not a leftovers file (no list of records)"]


def test_wrong_token_reproduction_shows_the_wrong_token(serve: Callable[..., Served]) -> None:
    served = serve()
    settings = settings_for(served.url, checks=frozenset({"auth_enforced"}), schema_layer=False)
    wrong = f"not-a-token-{settings.run_id}"
    served.app.reference.tokens = frozenset({"dev", wrong})  # a server that accepts it
    result = run(settings)
    [finding] = result.findings
    assert "with a wrong token answered 200, expected 401" in finding.detail
    # The line repeats the failure: it sends the wrong token, not the run's ($TOKEN).
    assert f"-H 'Authorization: Bearer {wrong}'" in finding.curl
    assert "$TOKEN" not in finding.curl and "Bearer dev" not in finding.curl


def test_reproduction_refers_to_the_run_token_and_never_prints_it(
    serve: Callable[..., Served],
) -> None:
    served = serve("delete_unknown_204")
    settings = settings_for(
        served.url, checks=frozenset({"delete_unknown_404"}), schema_layer=False, token="s3cr3t-tok"
    )
    served.app.reference.tokens = frozenset({"s3cr3t-tok"})
    result = run(settings)
    [finding] = result.findings
    assert '"Authorization: Bearer $TOKEN"' in finding.curl
    assert "s3cr3t-tok" not in finding.curl + finding.request + finding.detail


def test_filter_422_with_the_wrong_body_says_the_body_is_wrong(
    serve: Callable[..., Served], gateway: Callable[..., Gateway]
) -> None:
    served = serve()

    def wrong_type(method: str, target: str, body: bytes) -> int | None:
        return 422 if b'"NOT_A_MEMBER"' in body or b'"AAA"' in body else None

    proxy = gateway(served.url, substitute=wrong_type)
    settings = settings_for(
        proxy.url, checks=frozenset({"filter_wrong_type_rejected"}), schema_layer=False
    )
    result = run(settings)
    [finding] = result.findings
    assert finding.title == REGISTRY["filter_wrong_type_rejected"].title
    assert "answered 422 as expected, but its body is dict" in finding.detail
    assert "expected 422" not in finding.detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("3", 3.0, id="seconds"),
        pytest.param("Wed, 21 Oct 2015 07:28:05 GMT", 5.0, id="http-date"),
        pytest.param("Wed, 21 Oct 2015 07:27:00 GMT", 0.0, id="http-date-past"),
        pytest.param("soon", None, id="unreadable"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    value: str | None, expected: float | None
) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after(value, now=now) == expected


def test_findings_do_not_depend_on_the_concurrency(serve: Callable[..., Served]) -> None:
    served = serve("nulls_last")

    def findings(concurrency: int) -> list[tuple[str, str, str]]:
        settings = settings_for(
            served.url, schema_layer=False, network=replace(FAST, concurrency=concurrency)
        )
        result = run(settings)
        return [
            (f.check, f.title, re.sub(r"cnf[0-9a-f]{10}", "RUN", f.detail)) for f in result.findings
        ]

    sequential = findings(1)
    assert sequential and sequential == findings(6)


def test_run_aborted_carries_the_partial_result(
    serve: Callable[..., Served], gateway: Callable[..., Gateway]
) -> None:
    served = serve()
    proxy = gateway(
        served.url,
        substitute=lambda m, t, b: 429 if t.endswith("/action-session-date/index") else None,
        retry_after="0",
    )
    settings = settings_for(
        proxy.url,
        checks=frozenset({"pagination_headers", "create_read_back"}),
        schema_layer=False,
        network=replace(FAST, max_retries=1, concurrency=1),
    )
    with pytest.raises(RunAborted) as raised:
        run(settings)
    result = raised.value.result
    assert result.aborted is not None and "429 Too Many Requests" in result.aborted
    assert result.findings == []
    assert marked_rows(served, settings.run_id) == []


def test_pytest_plugin_takes_the_network_options(
    serve: Callable[..., Served], gateway: Callable[..., Gateway], tmp_path: Path
) -> None:
    served = serve()
    proxy = gateway(served.url)
    argv = ["-p", "conformance.pytest_plugin", "--pyargs", "conformance"]
    argv += ["--base-url", proxy.url, "--token", "dev", "--profile", "safe", "--no-schema-layer"]
    argv += ["--check", "pagination_headers", "--rate", "8", "--concurrency", "1"]
    argv += ["--timeout", "5", "--max-retries", "1", "--max-wait", "2"]
    argv += ["-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path), "-c", "/dev/null"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    times = proxy.counts.times
    assert len(times) > 10
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= 9  # --rate 8 held


@pytest.mark.parametrize("in_query", [False, True], ids=["bearer", "access-token"])
def test_schema_layer_reproductions_never_print_the_token(
    serve: Callable[..., Served], in_query: bool
) -> None:
    served = serve("server_error_on_bad_page", tokens=frozenset({"s3cr3t-tok"}))
    settings = settings_for(
        served.url,
        token="s3cr3t-tok",
        token_in_query=in_query,
        checks=frozenset({"schema_layer"}),
        budget=replace(SMALL, phases=("coverage",)),
    )
    result = run(settings)
    assert result.findings, "the planted server error was not found"
    for finding in result.findings:
        shown = finding.curl + finding.request + finding.detail + finding.response
        assert "s3cr3t-tok" not in shown
    assert all(f.curl.startswith("curl ") for f in result.findings)
