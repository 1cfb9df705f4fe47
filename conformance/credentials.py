"""The run's credential: a fixed token, or a bearer token obtained from an OAuth2 token endpoint.

Owns the OAuth2 client-credentials and password grants (RFC 6749 4.4 and 4.3), keeping the token
fresh for the whole run: it is renewed shortly before `expires_in` runs out, and once more when
the server answers 401 to a token the run believed valid (a token revoked or expired early).
Every token issued is remembered so that reports can hide it (`conformance.redact`).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import httpx

from conformance.config import OAuth2, Settings
from conformance.failures import ConformanceError
from conformance.tls import verify_for

logger = logging.getLogger(__name__)

# Renew this long before the announced expiry (or a tenth of the lifetime, if shorter), so that
# a request never leaves with a token that expires on the way.
_EARLY = 30.0


class Credential(Protocol):
    """A source of the token the run sends."""

    def current(self) -> str:
        """The token to send now."""
        ...

    def renew(self, rejected: str) -> str:
        """A token to try instead of `rejected`, which the server refused (maybe the same)."""
        ...

    def issued(self) -> list[str]:
        """Every token handed out so far."""
        ...


class StaticCredential:
    """A token given by the user; it cannot be renewed."""

    def __init__(self, token: str) -> None:
        self._token = token

    def current(self) -> str:
        """The token."""
        return self._token

    def renew(self, rejected: str) -> str:
        """The same token: nothing to renew."""
        return self._token

    def issued(self) -> list[str]:
        """The token."""
        return [self._token]


class OAuth2Credential:
    """A bearer token from a token endpoint, renewed before it expires and after a 401."""

    def __init__(
        self,
        config: OAuth2,
        *,
        verify: ssl.SSLContext | bool = True,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._verify = verify
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self._issued: list[str] = []
        self.fetches = 0

    def current(self) -> str:
        """The valid token, fetching a new one when none is held or it is about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def renew(self, rejected: str) -> str:
        """A fresh token, unless another request already renewed the rejected one."""
        with self._lock:
            if self._token is None or self._token == rejected:
                logger.info("the server refused the bearer token; obtaining a new one")
                self._fetch()
            assert self._token is not None
            return self._token

    def issued(self) -> list[str]:
        """Every token the endpoint gave this run."""
        with self._lock:
            return list(self._issued)

    def _fetch(self) -> None:
        cfg = self.config
        form: dict[str, str] = {"grant_type": cfg.grant}
        if cfg.username is not None:
            if cfg.password is None:
                raise ConformanceError(
                    "the OAuth2 password grant needs CONFORMANCE_PASSWORD in the environment"
                )
            form.update(username=cfg.username, password=cfg.password)
        if cfg.scope:
            form["scope"] = cfg.scope
        auth: httpx.Auth = httpx.Auth()  # the base class sends no credential
        if cfg.client_secret is not None and cfg.client_auth == "basic":
            auth = httpx.BasicAuth(cfg.client_id, cfg.client_secret)
        else:
            form["client_id"] = cfg.client_id
            if cfg.client_secret is not None:
                form["client_secret"] = cfg.client_secret
        where = f"the OAuth2 token endpoint {cfg.token_url}"
        try:
            with httpx.Client(timeout=self._timeout, verify=self._verify) as http:
                response = http.post(
                    cfg.token_url, data=form, auth=auth, headers={"Accept": "application/json"}
                )
        except httpx.HTTPError as exc:
            raise ConformanceError(f"cannot reach {where}: {exc}".splitlines()[0]) from exc
        payload = _json(response)
        if response.status_code != 200:
            reason = payload.get("error_description") or payload.get("error") or ""
            raise ConformanceError(
                f"{where} refused the {cfg.grant} grant: {response.status_code} {reason}".rstrip()
            )
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise ConformanceError(f"{where} answered without an access_token")
        token_type = str(payload.get("token_type", "bearer")).lower()
        if token_type != "bearer":
            raise ConformanceError(f"{where} issued a {token_type!r} token, not a bearer token")
        lifetime = payload.get("expires_in")
        now = self._clock()
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
            self._renew_at = now + lifetime - min(_EARLY, lifetime / 10)
        else:
            self._renew_at = float("inf")  # no lifetime announced: renew only after a 401
        self._token = token
        self._issued.append(token)
        self.fetches += 1


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def authenticate(settings: Settings) -> Settings:
    """`settings` with its credential in place; with OAuth2 the first token is obtained now,
    so that a refused grant ends the run before anything is sent (`ConformanceError`)."""
    if settings.credential is not None:
        return settings
    if settings.oauth is not None:
        credential = OAuth2Credential(
            settings.oauth,
            verify=verify_for(settings.ca_bundle),
            timeout=settings.network.timeout,
        )
        # `token` tells the checks a credential exists; the client asks the credential each time.
        return replace(settings, token=credential.current(), credential=credential)
    if settings.token is not None:
        return replace(settings, credential=StaticCredential(settings.token))
    return settings
