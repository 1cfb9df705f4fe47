"""A small OAuth2 token endpoint (RFC 6749 client-credentials and password grants) for tests,
and the set of tokens it has issued that a resource server accepts while they are valid.

It is a real HTTP endpoint served on loopback, not a mock of the suite: the suite's OAuth2 code
talks to it over HTTP exactly as it would to Keycloak.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote


class IssuedTokens:
    """Tokens a resource server accepts: each until its real lifetime ends or it is revoked.

    Passed to the reference server as its token set (it only asks `token in tokens`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def add(self, token: str, lifetime: float) -> None:
        with self._lock:
            self._until[token] = time.monotonic() + lifetime

    def revoke_all(self) -> None:
        with self._lock:
            self._until.clear()

    def issued(self) -> list[str]:
        """Every token issued so far (valid or not)."""
        with self._lock:
            return list(self._until)

    def __contains__(self, token: object) -> bool:
        with self._lock:
            until = self._until.get(token) if isinstance(token, str) else None
        return until is not None and time.monotonic() < until


@dataclass
class TokenEndpoint:
    """Issues bearer tokens to known clients (and users, for the password grant)."""

    clients: dict[str, str]  # client id -> secret
    users: dict[str, str] = field(default_factory=dict)  # username -> password
    lifetime: float = 3600.0  # how long a token really stays valid
    announced: float | None = None  # the expires_in sent (default: the real lifetime)
    tokens: IssuedTokens = field(default_factory=IssuedTokens)
    grants: list[dict[str, str]] = field(default_factory=list)  # every request, secrets dropped

    def issue(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client_id, secret, how = self._client(headers, form)
        record = {
            "grant_type": form.get("grant_type", ""),
            "client_id": client_id or "",
            "auth": how,
        }
        if "username" in form:
            record["username"] = form["username"]
        self.grants.append(record)
        if client_id not in self.clients or (
            secret is not None and self.clients[client_id] != secret
        ):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if secret is None:
                return 401, {"error": "invalid_client"}
        elif grant == "password":
            if self.users.get(form.get("username", "")) != form.get("password"):
                return 400, {"error": "invalid_grant", "error_description": "bad credentials"}
        else:
            return 400, {"error": "unsupported_grant_type"}
        token = "tok-" + secrets.token_urlsafe(24)
        self.tokens.add(token, self.lifetime)
        expires_in = self.lifetime if self.announced is None else self.announced
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}

    @staticmethod
    def _client(
        headers: dict[str, str], form: dict[str, str]
    ) -> tuple[str | None, str | None, str]:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return unquote(client_id), unquote(secret), "basic"
        return form.get("client_id"), form.get("client_secret"), "post"

    def asgi(self) -> Callable[..., Any]:
        """The endpoint as an ASGI app answering POST /token."""

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            if scope["method"] != "POST" or scope["path"] != "/token":
                status, payload = 404, {"error": "not_found"}
            else:
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                status, payload = self.issue(headers, form)
            raw = json.dumps(payload).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": raw})

        return app
