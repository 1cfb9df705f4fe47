"""HTTP to the server under test, with every exchange kept as evidence.

Owns the credential (bearer header or `access-token` query), the request count, the `Exchange`
record a failure shows (request, response, and a curl line that repeats it), and the last line of
defence of the safety promise: in the `safe` profile it refuses to send anything but reads and
rejected-input probes, and in `full` it refuses to update or delete a record the run did not create.
"""

from __future__ import annotations

import json
import logging
import shlex
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from conformance.failures import ConformanceError

if TYPE_CHECKING:
    from conformance.credentials import Credential

logger = logging.getLogger(__name__)

_NO_BODY = object()


@dataclass
class Exchange:
    """One request and its response."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: httpx.Headers
    body: bytes
    secret: str | None = None

    def json(self) -> Any:
        """The response body as JSON (`None` when it is not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def header_int(self, name: str) -> int | None:
        """A response header as an integer (`None` when absent or not an integer)."""
        value = self.headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def curl(self) -> str:
        """A curl line that sends this request again (the credential shown as $TOKEN)."""
        parts = ["curl", "-X", self.method]
        for key, value in self.request_headers.items():
            if key.lower() == "authorization":
                value = "Bearer $TOKEN"
            parts += ["-H", f"{key}: {value}"]
        if self.request_body is not None:
            parts += ["-d", self.request_body.decode("utf-8", "replace")]
        line = " ".join(shlex.quote(p) for p in parts) + " " + shlex.quote(self._url())
        # Double quotes so the shell expands $TOKEN; the secret itself is never printed.
        return line.replace(
            "'Authorization: Bearer $TOKEN'", '"Authorization: Bearer $TOKEN"'
        ).replace("access-token=$TOKEN'", 'access-token=\'"$TOKEN"')

    def _url(self) -> str:
        if self.secret:
            return self.url.replace(f"access-token={self.secret}", "access-token=$TOKEN")
        return self.url

    def describe_request(self) -> str:
        """The request as a person reads it."""
        text = f"{self.method} {self._url()}"
        if self.request_body is not None:
            text += "\n" + _clip(self.request_body.decode("utf-8", "replace"))
        return text

    def describe_response(self) -> str:
        """The response status, paging headers and body as a person reads it."""
        shown = {
            k: v
            for k, v in self.headers.items()
            if k.lower().startswith(
                ("x-pagination", "location", "allow", "www-auth", "content-type")
            )
        }
        head = f"{self.status} " + " ".join(f"{k}: {v}" for k, v in shown.items())
        return head + ("\n" + _clip(self.body.decode("utf-8", "replace")) if self.body else "")


def _clip(text: str, limit: int = 1200) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


class RequestRefused(ConformanceError):
    """The suite itself tried to send a request its profile forbids (a bug in the suite)."""


class ApiClient:
    """A thin httpx client bound to the base URL and credential, counting every request."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        token_in_query: bool,
        timeout: float,
        may_write: Callable[[str, str], bool],
        observe: Callable[[Exchange], None] | None = None,
        credential: Credential | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.token_in_query = token_in_query
        self._may_write = may_write
        self._observe = observe
        # The credential, when given, supplies the token of each request (OAuth2 renews it).
        self._credential = credential
        self._http = httpx.Client(timeout=timeout, verify=verify)
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def count(self, n: int = 1) -> None:
        """Count requests sent by another transport (the schema layer)."""
        with self._lock:
            self.requests += n

    def send(
        self,
        method: str,
        path: str,
        body: Any = _NO_BODY,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
        in_query: bool | None = None,
    ) -> Exchange:
        """Send one request; `ConformanceError` when the server cannot be reached.

        `in_query` overrides where the credential goes (the `access-token` query parameter or the
        bearer header) for this request.
        """
        if not self._may_write(method.upper(), path):
            raise RequestRefused(f"the suite refused to send {method} {path} in this profile")
        all_headers = dict(headers or {})
        query = dict(params or {})
        query_token = self.token_in_query if in_query is None else in_query
        token = self._credential.current() if self._credential is not None else self.token
        if authenticate and token is not None:
            if query_token:
                query["access-token"] = token
            else:
                all_headers["Authorization"] = f"Bearer {token}"
        raw: bytes | None = content
        if body is not _NO_BODY:
            raw = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        url = self.base_url + path
        try:
            response = self._http.request(
                method, url, content=raw, params=query, headers=all_headers
            )
            if (
                response.status_code == 401
                and authenticate
                and token is not None
                and self._credential is not None
            ):
                # A token may expire or be revoked before its announced lifetime: one renewal.
                renewed = self._credential.renew(token)
                if renewed != token:
                    token = renewed
                    if query_token:
                        query["access-token"] = token
                    else:
                        all_headers["Authorization"] = f"Bearer {token}"
                    with self._lock:
                        self.requests += 1
                    response = self._http.request(
                        method, url, content=raw, params=query, headers=all_headers
                    )
        except httpx.HTTPError as exc:
            raise ConformanceError(f"cannot reach {self.base_url}: {exc}".splitlines()[0]) from exc
        with self._lock:
            self.requests += 1
        exchange = Exchange(
            method=method.upper(),
            url=str(response.request.url),
            request_headers=all_headers,
            request_body=raw,
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            secret=token if authenticate and query_token else None,
        )
        if self._observe is not None:
            self._observe(exchange)
        return exchange
