"""Who may call the mock: any one of the spec's three schemes with a recognised token (`on`), with
any non-empty token (`any`: the tokens a front-end gets from the real identity provider), or anyone
(`off`). Known tokens are compared in constant time.

Connexion resolves a token-check function per scheme from `x-*InfoFunc` extensions; the contract
is shared with real deployments and stays free of the mock's module names, so the handlers are
given the check directly through Connexion's `security_map`.

Connexion asks, for every request, whether the check function takes `required_scopes` and
`request` keywords, with an `inspect.signature` each time (about 6% of a view's time in a
profile); the handlers here answer from a cache, since the check functions never change.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Collection
from typing import Any

from connexion.security import (
    AbstractSecurityHandler,
    ApiKeySecurityHandler,
    BearerSecurityHandler,
    OAuthSecurityHandler,
)

from mock_server.settings import AuthMode

TokenInfo = dict[str, Any]


def _recognises(known: Collection[str]) -> Callable[[str], bool]:
    encoded = [k.encode("utf-8", "surrogateescape") for k in known]

    def recognised(token: str) -> bool:
        candidate = token.encode("utf-8", "surrogateescape")
        # Every known token is compared, so the time taken says nothing about which one is close.
        matched = False
        for key in encoded:
            matched |= hmac.compare_digest(candidate, key)
        return matched

    return recognised


@functools.lru_cache(maxsize=64)
def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
    accepts: bool = AbstractSecurityHandler._accepts_kwarg(func, keyword)
    return accepts


class _KnownSignatures:
    """Connexion's `_accepts_kwarg`, answered once per check function and keyword."""

    _accepts_kwarg = staticmethod(_accepts_kwarg)


def security_map(*, mode: AuthMode, tokens: Collection[str]) -> dict[str, type]:
    """Handler classes for Connexion: check tokens as `mode` says, or let every request through."""
    if mode == "off":
        return {"oauth2": _Open, "bearer": _Open, "apiKey": _Open}
    recognised = _recognises(tokens) if mode == "on" else lambda token: bool(token.strip())

    def token_info(token: str) -> TokenInfo | None:
        # None makes Connexion answer 401 "Provided token is not valid".
        return {"sub": "mock-user", "scope": ""} if recognised(token) else None

    class OAuth(_KnownSignatures, OAuthSecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def get_tokeninfo_func(self, security_definition: dict[str, Any]) -> Callable[..., Any]:
            return token_info

    class Bearer(_KnownSignatures, BearerSecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., Any]:
            return token_info

    class ApiKey(_KnownSignatures, ApiKeySecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., Any]:
            return token_info

    return {"oauth2": OAuth, "bearer": Bearer, "apiKey": ApiKey}


class _Open(BearerSecurityHandler):  # type: ignore[misc]  # Connexion is untyped
    """Accepts every request, credential or not (`--auth off`)."""

    def get_fn(self, security_scheme: dict[str, Any], required_scopes: Any) -> Callable[..., Any]:
        return lambda request: {"sub": "anonymous"}
