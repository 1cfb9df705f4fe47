"""Who may call the mock: any one of the spec's three schemes with a recognised token, or anyone.

Connexion resolves a token-check function per scheme from `x-*InfoFunc` extensions; the contract
is shared with real deployments and stays free of the mock's module names, so the handlers are
given the check directly through Connexion's `security_map`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from connexion.security import (
    ApiKeySecurityHandler,
    BearerSecurityHandler,
    OAuthSecurityHandler,
)

TokenInfo = dict[str, Any]


def security_map(*, enabled: bool, tokens: Collection[str]) -> dict[str, type]:
    """Handler classes for Connexion: check `tokens`, or (disabled) let every request through."""
    if not enabled:
        return {"oauth2": _Open, "bearer": _Open, "apiKey": _Open}
    known = frozenset(tokens)

    def token_info(token: str) -> TokenInfo | None:
        # None makes Connexion answer 401 "Provided token is not valid".
        return {"sub": "mock-user", "scope": ""} if token in known else None

    class OAuth(OAuthSecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def get_tokeninfo_func(self, security_definition: dict[str, Any]) -> Callable[..., Any]:
            return token_info

    class Bearer(BearerSecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., Any]:
            return token_info

    class ApiKey(ApiKeySecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., Any]:
            return token_info

    return {"oauth2": OAuth, "bearer": Bearer, "apiKey": ApiKey}


class _Open(BearerSecurityHandler):  # type: ignore[misc]  # Connexion is untyped
    """Accepts every request, credential or not (`--auth off`)."""

    def get_fn(self, security_scheme: dict[str, Any], required_scopes: Any) -> Callable[..., Any]:
        return lambda request: {"sub": "anonymous"}
