"""A loopback HTTP gateway in front of a server, behaving like a production one: a rate limit
answered with `429 Too Many Requests` and `Retry-After`, added latency, requests it never answers,
and answers it substitutes for the server's.

    with Gateway("http://127.0.0.1:8080", rate=20) as gateway:
        run(Settings.create(gateway.url, ...))

It is a real HTTP/1.1 server (asyncio, in a thread of its own, keep-alive connections) that
forwards each request to the upstream server and relays the answer, so the suite under test goes
through the network exactly as it would through a gateway. Used by the conformance suite's tests
and by `bench/conformance_bench.py`.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import httpx

# (method, path with query, body) -> whether the gateway handles the request specially
Match = Callable[[str, str, bytes], bool]


@dataclass
class Counts:
    """What the gateway did, for tests and the benchmark to read."""

    forwarded: int = 0
    throttled: int = 0
    hung: int = 0
    substituted: int = 0
    times: list[float] = field(default_factory=list)  # when each request was forwarded


class Gateway:
    """A rate-limiting, slow or hanging gateway on a free loopback port."""

    def __init__(
        self,
        upstream: str,
        *,
        rate: float | None = None,
        latency: float = 0.0,
        retry_after: str = "1",
        hang: Match | None = None,
        swallow: Match | None = None,
        substitute: Callable[[str, str, bytes], int | None] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.rate = rate  # requests admitted in any one-second window; beyond it 429
        self.latency = latency  # seconds added before each request is forwarded
        self.retry_after = retry_after
        self.hang = hang  # requests never answered (the connection is held open)
        self.swallow = swallow  # requests forwarded, but their answer never relayed
        self.substitute = substitute  # a status answered instead of forwarding, or None
        self.counts = Counts()
        self.url = ""
        self._admitted: collections.deque[float] = collections.deque()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __enter__(self) -> Gateway:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _admit(self) -> bool:
        """Whether the rate limit lets one more request through now (a sliding one-second
        window, as gateways count)."""
        if self.rate is None:
            return True
        now = time.monotonic()
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= self.rate:
            return False
        self._admitted.append(now)
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, TimeoutError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request of a connection; whether the connection stays open."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip(), value.strip()))
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        close = any(k.lower() == "connection" and v.lower() == "close" for k, v in headers)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.hang is not None and self.hang(method, target, body):
            self.counts.hung += 1
            # Never answer: hold the connection until the client gives up on it.
            await asyncio.wait_for(reader.read(), timeout=120)
            return False
        if not self._admit():
            self.counts.throttled += 1
            await self._answer(
                writer,
                429,
                [("Retry-After", self.retry_after), ("Content-Type", "application/json")],
                b'{"message": "Too Many Requests"}',
            )
            return not close
        status = self.substitute(method, target, body) if self.substitute else None
        if status is not None:
            self.counts.substituted += 1
            extra = [("Retry-After", self.retry_after)] if status in (429, 503) else []
            await self._answer(
                writer, status, [*extra, ("Content-Type", "application/json")], b"{}"
            )
            return not close
        self.counts.forwarded += 1
        self.counts.times.append(time.monotonic())
        # Relayed byte for byte, like a gateway that does not parse what it passes on.
        answer = await self._forward(head + body, method)
        if self.swallow is not None and self.swallow(method, target, body):
            self.counts.hung += 1
            # The server did the work; its answer is lost on the way back.
            await asyncio.wait_for(reader.read(), timeout=120)
            return False
        writer.write(answer)
        await writer.drain()
        return not close

    async def _forward(self, request: bytes, method: str) -> bytes:
        """Send one request upstream on a fresh connection; the whole raw answer."""
        host, _, port = self.upstream.removeprefix("http://").partition(":")
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port or 80))
        try:
            upstream_writer.write(request)
            await upstream_writer.drain()
            head = await upstream_reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:])
            }
            if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                return head
            if "content-length" in fields:
                return head + await upstream_reader.readexactly(int(fields["content-length"]))
            if "chunked" in fields.get("transfer-encoding", "").lower():
                chunks = []
                while True:
                    size_line = await upstream_reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    chunk = await upstream_reader.readexactly(size + 2)
                    chunks.append(size_line + chunk)
                    if size == 0:
                        return head + b"".join(chunks)
            return head + await upstream_reader.read()
        finally:
            upstream_writer.close()

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        reason = httpx.codes.get_reason_phrase(status) or "Unknown"
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() != "content-encoding"]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()


def main() -> None:
    """Run a gateway as a process of its own: print its URL, serve until stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="A loopback gateway in front of UPSTREAM.")
    parser.add_argument("upstream")
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    with Gateway(args.upstream, rate=args.rate, latency=args.latency) as gateway:
        print(gateway.url, flush=True)
        sys.stdin.read()  # the parent closes it (or exits) to stop the gateway
        print(
            f"forwarded {gateway.counts.forwarded} throttled {gateway.counts.throttled}", flush=True
        )


if __name__ == "__main__":
    main()
