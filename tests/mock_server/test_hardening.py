"""Hardening at the edge: DNS-rebinding Host check, credentials never logged, tokens from a file."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_server.process import free_port
from tests.conftest import AUTH, RunningMock

VIEW = "/v2/action-session/view/sess-1"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "app.localhost", "127.0.0.2"])
def test_a_loopback_mock_answers_loopback_host_names(shared_mock: RunningMock, host: str) -> None:
    with shared_mock.client() as client:
        response = client.get(VIEW, headers={"Host": host})
    assert response.status_code == 200
    assert response.json()["action_session_id"] == "sess-1"


def test_a_rebound_host_name_is_refused_before_anything_else(shared_mock: RunningMock) -> None:
    with shared_mock.client() as client:
        response = client.get(VIEW, headers={"Host": "evil.example:8080"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "name": "Bad Request",
        "message": "This mock does not answer to the host name evil.example; "
        "start it with --allowed-host evil.example to allow it.",
        "code": 0,
        "status": 400,
    }


def test_allowed_host_widens_the_names(start_mock: Callable[..., RunningMock]) -> None:
    mock = start_mock(allowed_hosts=("mock.test",))
    with mock.client() as client:
        assert client.get(VIEW, headers={"Host": "mock.test"}).status_code == 200
        assert client.get(VIEW, headers={"Host": "other.test"}).status_code == 400


def _serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = tmp_path / "mock.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "--port", str(port), "--db",
             str(tmp_path / "db.json"), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/openapi.json", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return process, base, log


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def test_the_access_log_never_shows_a_token_given_in_the_query(tmp_path: Path) -> None:
    process, base, log = _serve(tmp_path, "--token", "s3cret-token-1")
    try:
        right = httpx.get(f"{base}{VIEW}", params={"access-token": "s3cret-token-1", "x": "1"})
        wrong = httpx.get(f"{base}{VIEW}", params={"access-token": "wr0ng-token-2"})
        assert (right.status_code, wrong.status_code) == (200, 401)
    finally:
        _stop(process)
    text = log.read_text()
    assert f"GET {VIEW}?access-token=*** HTTP/1.1" in text  # logged, masked
    assert f"GET {VIEW}?access-token=***&x=1 HTTP/1.1" in text
    assert "s3cret-token-1" not in text
    assert "wr0ng-token-2" not in text


def test_tokens_can_come_from_a_file_instead_of_the_command_line(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# the team's tokens\nfile-token-a\n\nfile-token-b\n")
    process, base, _log = _serve(tmp_path, "--token-file", str(tokens))
    try:
        for token in ("file-token-a", "file-token-b"):
            answer = httpx.get(f"{base}{VIEW}", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
        assert httpx.get(f"{base}{VIEW}", headers=AUTH).status_code == 401
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert b"file-token-a" not in command_line
    finally:
        _stop(process)


def test_an_empty_token_file_is_a_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "tokens"
    empty.write_text("\n# nothing\n")
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "--token-file", str(empty), "--db",
         str(tmp_path / "db.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"--token-file: {empty} holds no token" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_client_that_hangs_up_mid_body_is_one_log_line_not_a_traceback(tmp_path: Path) -> None:
    process, base, log = _serve(tmp_path)
    try:
        port = int(base.rsplit(":", 1)[1])
        for sent in (b"", b'{"per-page"'):  # the headers alone, then part of the body
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    b"POST /v2/action-session/index HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Authorization: Bearer dev\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100\r\n\r\n" + sent
                )
                time.sleep(0.3)
        time.sleep(0.3)
        assert httpx.get(f"{base}{VIEW}", headers=AUTH).status_code == 200
    finally:
        _stop(process)
    text = log.read_text()
    assert "the client disconnected before sending the whole request body" in text
    assert "Traceback" not in text


def _open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (recv returned nothing), or None if it did not."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_slow_or_silent_clients_are_disconnected_at_their_deadlines(tmp_path: Path) -> None:
    process, base, log = _serve(tmp_path, "--header-timeout", "1", "--body-timeout", "1")
    port = int(base.rsplit(":", 1)[1])
    try:
        baseline = _open_fds(process.pid)
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        slowloris = socket.create_connection(("127.0.0.1", port))
        slowloris.sendall(b"GET /v2/action-session/view/sess-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow_body = socket.create_connection(("127.0.0.1", port))
        slow_body.sendall(
            b"POST /v2/action-session/index HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer dev\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"per'
        )
        time.sleep(0.3)
        assert _open_fds(process.pid) >= baseline + 40
        # A well-behaved client is served meanwhile.
        assert httpx.get(f"{base}{VIEW}", headers=AUTH).status_code == 200
        for sock in [slowloris, slow_body, *silent]:
            waited = _closed_within(sock, 5)
            assert waited is not None and waited < 3, "the server kept a slow connection open"
            sock.close()
        assert _open_fds(process.pid) <= baseline + 2
        assert httpx.get(f"{base}{VIEW}", headers=AUTH).status_code == 200
    finally:
        _stop(process)
    text = log.read_text()
    assert "closed a connection that sent no complete request headers within 1 s" in text
    assert "closed a connection that sent no complete request body within 1 s" in text
    assert "Traceback" not in text


def test_connections_beyond_the_bound_get_the_api_503_and_later_ones_are_served(
    tmp_path: Path,
) -> None:
    process, base, _log = _serve(tmp_path, "--max-connections", "5", "--header-timeout", "30")
    port = int(base.rsplit(":", 1)[1])
    try:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        time.sleep(0.2)
        with httpx.Client() as client:
            refused = client.get(f"{base}{VIEW}", headers=AUTH)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.json() == {
            "name": "Service Unavailable",
            "message": "The server has too many open connections; retry in a moment.",
            "code": 0,
            "status": 503,
        }
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert httpx.get(f"{base}{VIEW}", headers=AUTH).status_code == 200
    finally:
        _stop(process)
