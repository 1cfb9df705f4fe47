"""A forward HTTP proxy (the kind `HTTP_PROXY` names) for tests: it receives absolute-form
requests, forwards them to the host they name and records what passed through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te"}
_HOP_BY_HOP |= {"trailer", "transfer-encoding", "upgrade", "content-length", "host"}


class ForwardProxy:
    """Forwards every request to the host it names; `seen` lists (method, host, path)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def asgi(self) -> Callable[..., Any]:
        """The proxy as an ASGI app."""

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
            host = next((v for k, v in headers if k.lower() == "host"), "")
            target = f"http://{host}{scope['raw_path'].decode()}"
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode()
            self.seen.append((scope["method"], host, scope["path"]))
            # verify=False: plain HTTP only, and loading the CA store would cost ~50 ms a request.
            async with httpx.AsyncClient(trust_env=False, timeout=30, verify=False) as client:
                upstream = await client.request(
                    scope["method"],
                    target,
                    content=body,
                    headers=[(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP],
                )
            await send(
                {
                    "type": "http.response.start",
                    "status": upstream.status_code,
                    "headers": [
                        (k.encode(), v.encode())
                        for k, v in upstream.headers.multi_items()
                        if k.lower() not in _HOP_BY_HOP | {"content-encoding"}
                    ],
                }
            )
            await send({"type": "http.response.body", "body": upstream.content})

        return app
