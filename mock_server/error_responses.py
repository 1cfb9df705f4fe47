"""The HTTP error boundary: every error the mock answers, in exactly one shape per status.

Domain exceptions, Connexion's problems and Starlette's HTTP exceptions (404 for an unknown path,
405 for a method the path does not serve, 415, 401 from the security layer) are all reshaped here
into the brief's Yii2 bodies (middlewares that answer before Connexion use `send_error`): `{name, message, code, status}`, with `related` on a blocked delete
and a `[{field, message}]` list for 422. Protocol headers (`Allow`, `WWW-Authenticate`) survive.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Send

from mock_server.database import StorageError, StorageFull
from mock_server.domain_errors import (
    DeleteBlocked,
    DomainError,
    IdTaken,
    InvalidRecord,
    RecordNotFound,
)

logger = logging.getLogger(__name__)

WWW_AUTHENTICATE = 'Bearer realm="ActionSession"'


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """The Yii2 error object for `status`."""
    return {
        "name": HTTPStatus(status).phrase,
        "message": message,
        "code": 0,
        "status": status,
        **extra,
    }


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        body=json.dumps(body),
        headers=dict(headers or {}),
    )


def _error(
    status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> ConnexionResponse:
    out = dict(headers or {})
    if status == 401:
        out.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return _json(status, error_body(status, message, **extra), out)


def _protocol_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    keep = {"allow", "www-authenticate"}
    return {k: v for k, v in (headers or {}).items() if k.lower() in keep}


async def send_json(
    send: Send, status: int, body: Any, headers: Mapping[str, str] | None = None
) -> None:
    """Answer `body` as JSON straight through ASGI: for middlewares outside Connexion's handlers."""
    payload = json.dumps(body).encode()
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    raw += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def send_error(
    send: Send, status: int, message: str, headers: Mapping[str, str] | None = None
) -> None:
    """The Yii2 error object for `status`, answered straight through ASGI."""
    await send_json(send, status, error_body(status, message), headers)


def domain_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    if isinstance(exc, InvalidRecord):
        return _json(422, [{"field": p.field, "message": p.message} for p in exc.problems])
    if isinstance(exc, RecordNotFound):
        return _error(404, str(exc))
    if isinstance(exc, IdTaken):
        return _error(409, str(exc))
    if isinstance(exc, DeleteBlocked):
        related = [{"entity": r.entity, "id": r.id} for r in exc.related]
        return _error(400, str(exc), related=related)
    raise TypeError(f"unmapped domain error {exc!r}") from exc


def storage_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # The storage has undone the change and logged the cause once; each refusal is not news.
    if isinstance(exc, StorageFull):
        return _error(507, "The disk is full: the change was not saved. Free some space and retry.")
    return _error(503, "The database cannot be written: the change was not saved. Retry later.")


def problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    status = int(exc.status)
    if status >= 500:
        logger.error("server error: %r", exc)
        return _error(500, "An internal server error occurred.")
    if status == 415:
        # Connexion's own text quotes a Python list of the accepted types.
        message = "The request body must be sent as application/json."
    else:
        # Connexion appends the failing schema to parameter errors; the first line says it all.
        message = str(exc.detail or exc.title or HTTPStatus(status).phrase).strip().splitlines()[0]
    return _error(status, message, _protocol_headers(exc.headers))


def http_exception(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = {
        404: "Page not found.",
        405: "Method Not Allowed. This URL can only handle the methods listed in Allow.",
    }.get(status, str(exc.detail))
    return _error(status, message, _protocol_headers(exc.headers))


def client_gone(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # A client that hangs up mid-body is the client's business: one line, no traceback.
    logger.info("the client disconnected before sending the whole request body")
    return _error(400, "The client disconnected before sending the whole request body.")


def unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unexpected error", exc_info=exc)
    return _error(500, "An internal server error occurred.")


def register(app: AsyncApp) -> None:
    """Install the handlers that give every error its one shape."""
    app.add_error_handler(DomainError, domain_error)
    app.add_error_handler(StorageError, storage_error)
    app.add_error_handler(ProblemException, problem)
    app.add_error_handler(HTTPException, http_exception)
    app.add_error_handler(ClientDisconnect, client_gone)
    app.add_error_handler(Exception, unexpected)
