"""A real browser on another origin uses the mock: headless Chromium drives a page against it.

The page (tests/mock_server/browser/app.html) is served from one loopback origin and calls the mock on
another with `fetch`, as a front-end's dev server would; the test reads what the page wrote into
its DOM. Chromium is Debian's `chromium-headless-shell` (or `chromium`); `.ci/run` installs it, so
in CI a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningMock

PAGES = Path(__file__).with_name("browser")


def _browser() -> list[str]:
    for name, extra in (("chromium-headless-shell", []), ("chromium", ["--headless"])):
        path = shutil.which(name)
        if path:
            return [path, *extra]
    if os.environ.get("CI"):
        pytest.fail("no Chromium in CI: .ci/run installs chromium-headless-shell from Debian")
    pytest.skip("no chromium-headless-shell or chromium on this machine (apt-get install one)")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture
def page_origin() -> Iterator[str]:
    """The origin a front-end's dev server would have: a static server for tests/mock_server/browser/."""
    handler = functools.partial(_QuietHandler, directory=str(PAGES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run_page(origin: str, api: str) -> dict[str, Any]:
    """Load the page in headless Chromium and return what it wrote into #out."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                *_browser(),
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                # Virtual time advances only while no request is pending, so every fetch finishes.
                "--virtual-time-budget=20000",
                "--dump-dom",
                f"{origin}/app.html?api={api}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    found = re.search(r'<pre id="out">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the page did not render: {result.stdout[:500]} {result.stderr[-2000:]}"
    text = found.group(1).replace("&quot;", '"').replace("&amp;", "&")
    assert text != "pending", "the page's script did not finish"
    return dict(json.loads(text))


def test_a_page_on_another_origin_lists_creates_and_reads_errors(
    start_mock: Callable[..., RunningMock], page_origin: str
) -> None:
    mock = start_mock()
    out = _run_page(page_origin, mock.base_url)

    assert out["index"] == {"status": 200, "total": "44", "count": 5}
    created = out["create"]
    assert created["status"] == 201
    assert created["location"] == f"/v2/action-session/view/{created['id']}"
    with mock.client() as client:
        assert client.get(created["location"]).status_code == 200
    assert out["invalid"] == {
        "status": 422,
        "problems": [
            {"field": "subtenant_id", "message": "Subtenant Id cannot be blank."},
            {"field": "tenant_id", "message": "Tenant Id cannot be blank."},
            {"field": "action_id", "message": 'Action "act-404" does not exist.'},
        ],
    }
    assert out["forced"] == {
        "status": 500,
        "applied": "code=500",
        "body": {
            "name": "Internal Server Error",
            "message": "An internal server error occurred.",
            "code": 0,
            "status": 500,
        },
    }
    assert out["unauthorized"]["status"] == 401
    assert out["unauthorized"]["challenge"] == 'Bearer realm="ActionSession"'
    assert out["unauthorized"]["body"]["name"] == "Unauthorized"


def test_without_cors_the_browser_refuses_every_answer(
    start_mock: Callable[..., RunningMock], page_origin: str
) -> None:
    mock = start_mock(cors=False)
    out = _run_page(page_origin, mock.base_url)

    for name in ("index", "create", "invalid", "forced", "unauthorized"):
        assert out[name] == {"error": "TypeError: Failed to fetch"}, name
    with mock.client() as client:  # the preflight failed, so the create never reached the mock
        total = client.post("/v2/action-session/index", json={}).headers["X-Pagination-Total-Count"]
    assert total == "44"


def test_a_page_from_an_origin_not_listed_is_refused(
    start_mock: Callable[..., RunningMock], page_origin: str
) -> None:
    mock = start_mock(cors_origins=("http://localhost:5173",))
    out = _run_page(page_origin, mock.base_url)

    assert out["index"] == {"error": "TypeError: Failed to fetch"}
