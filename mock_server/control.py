"""The control API under `/__mock/` (openapi/mock-control.yaml): its handlers and who may call it.

The operationIds of mock-control.yaml name these functions through Connexion's
`RelativeResolver("mock_server.control")`. Each handler makes one `MockState` call for the state
the request addresses (the shared one, or the namespace `NamespaceMiddleware` found) and shapes
the answer; errors take the API's shapes through `mock_server.error_responses`.

Access: open when the mock listens on loopback and has no admin token; otherwise only with
`X-Mock-Admin-Token` equal to the admin token (401 without). The API's tokens play no part.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from connexion import request
from connexion.exceptions import BadRequestProblem, ProblemException
from connexion.lifecycle import ConnexionResponse
from connexion.security import ApiKeySecurityHandler

from mock_server.domain_errors import RecordNotFound
from mock_server.query import parse_datetime
from mock_server.request_journal import Filters
from mock_server.state import ImportMode, MockState

Answer = tuple[Any, int] | tuple[Any, int, dict[str, str]]
ADMIN_HEADER = "X-Mock-Admin-Token"
_CHALLENGE = {"WWW-Authenticate": f'ApiKey header="{ADMIN_HEADER}"'}


def security_map(*, admin_token: str | None, listens_on_loopback: bool) -> dict[str, type]:
    """Connexion's security handlers for the control API (its one scheme is an API key header)."""

    def refuse(message: str) -> ProblemException:
        return ProblemException(
            status=401, title="Unauthorized", detail=message, headers=_CHALLENGE
        )

    def verify(req: Any) -> dict[str, str]:
        if admin_token is None:
            if listens_on_loopback:
                return {"sub": "mock-admin"}
            raise refuse(
                "The control API is served beyond loopback only when the mock is "
                "started with --admin-token."
            )
        given = req.headers.get(ADMIN_HEADER)
        if given is None:
            raise refuse(f"The control API needs the {ADMIN_HEADER} header.")
        if not hmac.compare_digest(given.encode(), admin_token.encode()):
            raise refuse("The admin token is not valid.")
        return {"sub": "mock-admin"}

    class AdminToken(ApiKeySecurityHandler):  # type: ignore[misc]  # Connexion is untyped
        def get_fn(
            self, security_scheme: dict[str, Any], required_scopes: Any
        ) -> Callable[..., Any]:
            return verify

    return {"apiKey": AdminToken}


def _mock() -> MockState:
    mock = request.state.mock
    assert isinstance(mock, MockState)
    return mock


def _namespace() -> str | None:
    name = request.state.namespace
    assert name is None or isinstance(name, str)
    return name


# -- state ---------------------------------------------------------------------------------------
def health() -> Answer:
    return _mock().health(_namespace()), 200


def reset(body: dict[str, Any] | None = None) -> Answer:
    snapshot = (body or {}).get("snapshot")
    return _mock().reset(_namespace(), snapshot), 200


def export_state() -> Answer:
    return _mock().export(_namespace()), 200


def import_state(body: dict[str, Any], mode: ImportMode = "replace") -> Answer:
    return _mock().import_(_namespace(), body, mode), 200


# -- snapshots -----------------------------------------------------------------------------------
def list_snapshots() -> Answer:
    return [info.as_dict() for info in _mock().snapshots.list()], 200


def save_snapshot(name: str) -> Answer:
    info, created = _mock().save_snapshot(_namespace(), name)
    return info.as_dict(), 201 if created else 200


def restore_snapshot(name: str) -> Answer:
    return _mock().reset(_namespace(), name), 200


def delete_snapshot(name: str) -> ConnexionResponse:
    _mock().snapshots.delete(name)
    return ConnexionResponse(status_code=204)


# -- journal -------------------------------------------------------------------------------------
async def list_requests(
    method: str | None = None,
    path: str | None = None,
    status: str | None = None,
    namespace: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int | None = None,
    limit: int | None = None,
    wait: float = 0,
) -> Answer:
    filters = Filters(
        method=method,
        path=path,
        status=status,
        namespace=namespace,
        since=_instant("since", since),
        until=_instant("until", until),
        after=after,
    )
    return await _mock().journal.wait_for(filters, limit, float(wait)), 200


def _instant(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise BadRequestProblem(detail=f"{name} must be a date-time.") from None


async def clear_requests() -> ConnexionResponse:
    _mock().journal.clear()
    return ConnexionResponse(status_code=204)


# -- namespaces ----------------------------------------------------------------------------------
def list_namespaces() -> Answer:
    return _mock().namespaces.describe(), 200


def reset_namespace(name: str) -> Answer:
    return _mock().reset(name), 200


def delete_namespace(name: str) -> ConnexionResponse:
    if not _mock().namespaces.delete(name):
        raise RecordNotFound("Namespace", name, api=False)
    return ConnexionResponse(status_code=204)
