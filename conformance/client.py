"""HTTP to the server under test, with every exchange kept as evidence.

Owns the credential (bearer header or `access-token` query), the request count, the `Exchange`
record a failure shows (request, response, and a curl line that repeats it), and the last line of
defence of the safety promise: in the `safe` profile it refuses to send anything but reads and
rejected-input probes, and in `full` it refuses to update or delete a record the run did not create.

Also owns how the run behaves on a real network (`Network`, shared with the schema layer): the
request rate, waiting out 429 and 503 as `Retry-After` says, retrying requests that never reached
the server and reads that got no answer, within the `--max-retries`/`--max-wait` bounds. A write
that got no answer is never sent again: whether it landed is found out by reading back, and the
check that sent it fails with `NoAnswer`. Retries running out end the run (`GaveUp`), never a check.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import shlex
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from conformance.config import Network as NetworkSettings
from conformance.failures import CheckFailure, ConformanceError
from conformance.redact import redact as redact_secrets

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
    secret: str | None = None  # the run's credential, never shown
    error: str = ""  # why there is no response (status 0)

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
        """A curl line that sends this request again.

        The run's own credential is shown as $TOKEN; any other credential a check sent on purpose
        (a wrong token) is shown as sent, so the line repeats the failure it documents.
        """
        parts = ["curl", "-X", self.method]
        for key, value in self.request_headers.items():
            parts += ["-H", f"{key}: {redact(value, self.secret)}"]
        if self.request_body is not None:
            parts += ["-d", redact(self.request_body.decode("utf-8", "replace"), self.secret)]
        line = " ".join(shlex.quote(p) for p in parts) + " " + shlex.quote(self._url())
        # Double quotes so the shell expands $TOKEN; the secret itself is never printed.
        return line.replace(
            "'Authorization: Bearer $TOKEN'", '"Authorization: Bearer $TOKEN"'
        ).replace("access-token=$TOKEN'", 'access-token=\'"$TOKEN"')

    def _url(self) -> str:
        return redact(self.url, self.secret)

    def describe_request(self) -> str:
        """The request as a person reads it."""
        text = f"{self.method} {self._url()}"
        if self.request_body is not None:
            text += "\n" + _clip(self.request_body.decode("utf-8", "replace"))
        return text

    def describe_response(self) -> str:
        """The response status, paging headers and body as a person reads it."""
        if self.status == 0:
            return f"no answer: {self.error}"
        shown = {
            k: v
            for k, v in self.headers.items()
            if k.lower().startswith(
                ("x-pagination", "location", "allow", "www-auth", "content-type")
            )
        }
        head = f"{self.status} " + " ".join(f"{k}: {v}" for k, v in shown.items())
        return head + ("\n" + _clip(self.body.decode("utf-8", "replace")) if self.body else "")


def id_from_location(location: str | None) -> str | None:
    """The record id a create's `Location` (`/v2/{r}/view/{id}`, relative or absolute) names."""
    if not location:
        return None
    path = httpx.URL(location.strip()).path
    return path.rstrip("/").rsplit("/", 1)[-1] or None


def redact(text: str, secret: str | None) -> str:
    """`text` with the run's credential replaced by a reference to `$TOKEN` (one secret's
    shorthand for `conformance.redact.redact`, which knows its encodings and short forms)."""
    return redact_secrets(text, (secret,) if secret else ())


def _clip(text: str, limit: int = 1200) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


class RequestRefused(ConformanceError):
    """The suite itself tried to send a request its profile forbids (a bug in the suite)."""


NO_ANSWER_TITLE = "A request got no answer"
RETRY_STATUSES = frozenset({429, 503})


class NoAnswer(CheckFailure):
    """The server hung up on or never answered a request: a finding of the check that sent it."""

    def __init__(self, detail: str, exchange: Exchange) -> None:
        super().__init__(NO_ANSWER_TITLE, detail, exchange)


class GaveUp(ConformanceError):
    """Retries ran out (the server kept throttling or could not be reached): the run cannot be made."""


@dataclass
class Waits:
    """How often the run waited for the server, and why (shown in the summary)."""

    throttled: int = 0  # 429 and 503 answers waited out
    retried: int = 0  # requests sent again after no answer or no connection
    seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` value asks to wait (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


class Network:
    """The run's pacing and patience, shared by every thread and by the schema layer.

    Requests start at most `rate` per second, evenly spaced (a gateway's window is never met with
    a burst). A 429 or 503 pauses every sender, not only the one that got it, until the time
    `Retry-After` names: the others would only be throttled too. After `give_up` every request
    fails at once, so a run that cannot be made ends quickly; `fresh` lifts that for the cleanup,
    which gets retries of its own.
    """

    def __init__(self, settings: NetworkSettings) -> None:
        self.settings = settings
        self.waits = Waits()
        self._interval = 1.0 / settings.rate if settings.rate else 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._gave_up: str | None = None
        self.stopping = False  # set when the run is interrupted: senders stop at once

    @property
    def gave_up(self) -> str | None:
        """Why the run gave up waiting for the server, if it did."""
        return self._gave_up

    def give_up(self, reason: str) -> GaveUp:
        """Record that retries ran out; the error to raise."""
        with self._lock:
            self._gave_up = self._gave_up or reason
        return GaveUp(reason)

    def fresh(self) -> None:
        """Allow requests again after `give_up` (the cleanup's own retries)."""
        with self._lock:
            self._gave_up = None
            self.stopping = False

    def check(self) -> None:
        """Raise when no more requests may be sent."""
        if self.stopping:
            raise GaveUp("the run was interrupted")
        if self._gave_up is not None:
            raise GaveUp(self._gave_up)

    def acquire(self) -> None:
        """Wait for the moment this request may start (the rate and any pause)."""
        while True:
            with self._lock:
                now = time.monotonic()
                paused = self._paused_until > now
                if paused:
                    delay = self._paused_until - now
                else:
                    start = max(now, self._next)
                    self._next = start + self._interval
                    delay = start - now
            if delay > 0:
                time.sleep(delay)
            # A slot reserved before a pause began is given up: the pause wins.
            if not paused and self._paused_until <= time.monotonic():
                return

    def pause(self, seconds: float, status: int = 503) -> None:
        """Hold every sender for `seconds` (the server asked for it).

        A 429 despite `--rate` means the gateway counts differently (a window edge, a clock of
        its own): the pace slows by 5% each time, so a run set to a gateway's exact limit
        settles just under it instead of being throttled again and again.
        """
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            if status == 429 and self._interval:
                self._interval *= 1.05

    def backoff(self, attempt: int) -> float:
        """The wait before retry `attempt` when the server named none: 0.5 s doubling, up to
        10 s, with jitter so that parallel senders do not return together."""
        base: float = min(0.5 * 2**attempt, 10.0)
        return base * (0.75 + random.random() / 2)  # noqa: S311 (timing only, not the findings)

    def may_retry(self, attempt: int, waited: float, delay: float) -> bool:
        """Whether retry `attempt + 1`, after waiting `delay`, stays within the bounds."""
        return attempt < self.settings.max_retries and waited + delay <= self.settings.max_wait

    def throttled(self, status: int, seconds: float) -> None:
        """Count a 429/503 waited out."""
        with self._lock:
            self.waits.throttled += 1
            self.waits.seconds += seconds
            self.waits.by_status[status] = self.waits.by_status.get(status, 0) + 1

    def retried(self, seconds: float) -> None:
        """Count a request sent again after no answer."""
        with self._lock:
            self.waits.retried += 1
            self.waits.seconds += seconds

    def wait_out(self, status: int, retry_after: str | None, attempt: int, waited: float) -> float:
        """Hold every sender as a 429/503 asks before retry `attempt + 1`; the seconds waited.

        `GaveUp` when that retry would pass `--max-retries` or `--max-wait`.
        """
        delay = self.throttle_delay(status, retry_after, attempt)
        if not self.may_retry(attempt, waited, delay):
            raise self.give_up(self.exhausted(status, attempt + 1, waited, delay))
        self.throttled(status, delay)
        self.pause(delay, status)
        return delay

    def throttle_delay(self, status: int, header: str | None, attempt: int) -> float:
        """How long to wait after a 429/503 with this `Retry-After`."""
        asked = retry_after(header)
        return asked if asked is not None else self.backoff(attempt)

    def exhausted(self, status: int, attempts: int, waited: float, asked: float) -> str:
        """The sentence of a run that gave up on a throttling server."""
        what = "429 Too Many Requests" if status == 429 else f"{status} Service Unavailable"
        return (
            f"the server kept answering {what}: gave up after {attempts} attempt(s) and "
            f"{waited:.1f} s of waiting (it asked for {asked:.1f} s more; bounds: --max-retries "
            f"{self.settings.max_retries}, --max-wait {self.settings.max_wait:g}; --rate keeps a "
            "run under a known limit)"
        )


# The request never left: safe to send again, whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class ApiClient:
    """A thin httpx client bound to the base URL and credential, counting every request."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        token_in_query: bool,
        may_write: Callable[[str, str], bool],
        network: Network,
        is_read: Callable[[str, str], bool] | None = None,
        observe: Callable[[Exchange], None] | None = None,
        credential: Credential | None = None,
        verify: ssl.SSLContext | bool = True,
        read_back: Callable[[Exchange], str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.token_in_query = token_in_query
        self.network = network
        self._may_write = may_write
        self._is_read = is_read or (lambda method, path: method in ("GET", "HEAD"))
        self._observe = observe
        # The credential, when given, supplies the token of each request (OAuth2 renews it).
        self._credential = credential
        self.read_back = read_back  # finds out whether an unanswered write landed
        timeout = network.settings.timeout
        self._http = httpx.Client(
            timeout=timeout,
            verify=verify,
            limits=httpx.Limits(max_connections=max(network.settings.concurrency, 1) * 2 + 4),
        )
        self._lock = threading.Lock()
        self.requests = 0
        self.reached = False  # the server answered once: later connection failures are retried

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
        is_read = self._is_read(method.upper(), path)

        def attempt(token: str | None) -> httpx.Response:
            request = self._http.build_request(
                method, self.base_url + path, content=raw, params=query, headers=all_headers
            )
            evidence = Exchange(
                method=method.upper(),
                url=str(request.url),
                request_headers=all_headers,
                request_body=raw,
                status=0,
                headers=httpx.Headers(),
                body=b"",
                secret=token,
            )
            return self._send_patiently(request, evidence, is_read)

        response = attempt(token)
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
                response = attempt(token)
        exchange = Exchange(
            method=method.upper(),
            url=str(response.request.url),
            request_headers=all_headers,
            request_body=raw,
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            secret=token,
        )
        if self._observe is not None:
            self._observe(exchange)
        return exchange

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    def _send_patiently(
        self, request: httpx.Request, evidence: Exchange, is_read: bool
    ) -> httpx.Response:
        """Send `request`, waiting out throttling and retrying what is safe to retry."""
        network = self.network
        attempt, waited = 0, 0.0
        while True:
            network.check()
            network.acquire()
            try:
                response = self._http.send(request)
            except _NOT_SENT as exc:
                reason = f"cannot reach {self.base_url}: {exc}".splitlines()[0]
                delay = network.backoff(attempt)
                if not self.reached:
                    # Never answered at all: a wrong URL, not a network hiccup; say so at once.
                    raise ConformanceError(reason) from exc
                if not network.may_retry(attempt, waited, delay):
                    raise network.give_up(reason) from exc
                network.retried(delay)
                time.sleep(delay)
                attempt, waited = attempt + 1, waited + delay
                continue
            except httpx.HTTPError as exc:
                self._count()
                what = _no_answer(exc, network.settings.timeout)
                delay = network.backoff(attempt)
                if is_read and network.may_retry(attempt, waited, delay):
                    logger.info("%s %s: %s; sending it again", request.method, request.url, what)
                    network.retried(delay)
                    time.sleep(delay)
                    attempt, waited = attempt + 1, waited + delay
                    continue
                evidence.error = what
                raise self._unanswered(evidence, what, attempt + 1, is_read) from exc
            self._count()
            self.reached = True
            if response.status_code not in RETRY_STATUSES:
                return response
            delay = network.wait_out(
                response.status_code, response.headers.get("retry-after"), attempt, waited
            )
            attempt, waited = attempt + 1, waited + delay

    def _unanswered(self, evidence: Exchange, what: str, attempts: int, is_read: bool) -> NoAnswer:
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        detail = (
            f"{evidence.method} {evidence._url()}: {what}{tries}; every request must be answered"
        )
        if not is_read:
            detail += "; the write was not sent again (it may have landed)"
            if self.read_back is not None:
                try:
                    detail += "; read back: " + self.read_back(evidence)
                except (ConformanceError, CheckFailure) as exc:
                    detail += f"; reading back failed too: {str(exc).splitlines()[0]}"
        return NoAnswer(detail, evidence)


def _no_answer(exc: httpx.HTTPError, timeout: float) -> str:
    """What happened to a request that got no response, in a few words."""
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s (timed out)"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"the connection ended without an answer ({text})"
