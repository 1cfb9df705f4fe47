"""Requests answered by the handlers straight after validation, without Connexion's last layers.

A profile of a view under load put about two fifths of the server's time after security, and most
of it after validation: Connexion's request context, a second routing to the operation, and the
handler's decorators (which inspect the request to gather the handler's arguments, then serialise
the answer and build the response). For the mock's own operations that work is known from the spec
once: which path segment is the `id`, whether a JSON body comes, which query parameters exist.

`DirectOperations` sits where those layers begin, so routing, security, namespaces, steering and
Connexion's validation (with every error it answers) have run as before. It calls the resource's
`Operations` (`mock_server.handlers`) itself when a request is plain: its path parameters are
strings (no conversion to do), it gives none of the operation's query parameters (their defaults
apply), and a body, when there is one, is a JSON object sent as `application/json`. It answers the
bytes Connexion's response decorator builds from the same answer, and a store error is raised to
the same error handlers. Every other request goes the rest of the way with its body replayed.
Connexion's response validation (`--validate-responses`) sits outside, so it checks these answers
too.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.lifecycle import ConnexionResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server import handlers
from mock_server.framework import JSONIFIER
from mock_server.matching import operation_of
from mock_server.rules import Rules
from openapi.model import Operation, Spec

_JSON = "application/json"
_PLAIN_JSON = frozenset({_JSON, f"{_JSON}; charset=utf-8", f"{_JSON};charset=utf-8"})
"""Content types whose body Connexion reads exactly as `json.loads` of its bytes."""


@dataclass(frozen=True)
class _Direct:
    """One operation as `DirectOperations` serves it."""

    call: Callable[..., Any]
    """The resource's operation, called with the store first."""
    threaded: bool
    """A plain `def`: run on a worker thread, as Connexion runs it."""
    path: tuple[str, ...]
    """Path parameters the operation takes, by name."""
    body: bool
    """Whether the operation takes the JSON body (as `body`)."""
    query: frozenset[str]
    """The operation's query parameters: a request that gives one goes the whole way."""
    defaults: Mapping[str, Any]
    """The spec's defaults of the query parameters the operation takes, as Connexion passes them."""


class DirectOperations:
    """ASGI middleware: call the mock's operations for plain requests; pass on everything else."""

    def __init__(self, app: ASGIApp, spec: Spec) -> None:
        self.app = app
        self.spec = spec
        self._direct = {
            op.operation_id: direct
            for op in spec.operations.values()
            if (direct := _direct(spec, op)) is not None
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = operation_of(scope, self.spec) if scope["type"] == "http" else None
        direct = self._direct.get(operation.operation_id) if operation is not None else None
        store = (scope.get("state") or {}).get("store")
        if direct is None or not isinstance(store, Rules) or _gives_query(scope, direct.query):
            await self.app(scope, receive, send)
            return
        path_params = scope.get("path_params") or {}
        kwargs: dict[str, Any] = {name: path_params[name] for name in direct.path}
        kwargs.update(direct.defaults)
        if direct.body:
            messages, body = await _json_object(scope, receive)
            if body is None:
                await self.app(scope, _replay(messages, receive), send)
                return
            kwargs["body"] = body
        if direct.threaded:
            answer = await anyio.to_thread.run_sync(functools.partial(direct.call, store, **kwargs))
        else:
            answer = await direct.call(store, **kwargs)
        await self._response(answer)(scope, receive, send)

    def _response(self, answer: handlers.Answer | ConnexionResponse) -> Response:
        """What Connexion's response decorator builds from the answer, for a JSON operation."""
        if isinstance(answer, ConnexionResponse):
            response: Response = StarletteFramework.connexion_to_framework_response(answer)
            return response
        data, status, *rest = answer
        headers = dict(rest[0]) if rest else {}
        if not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = _JSON
        body = JSONIFIER.dumps(data)
        return Response(body, status_code=status, media_type=_JSON, headers=headers)


def _gives_query(scope: Scope, names: frozenset[str]) -> bool:
    query = scope.get("query_string") or b""
    if not query or not names:
        return False
    given = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return any(name in names for name, _ in given)


async def _json_object(scope: Scope, receive: Receive) -> tuple[list[Message], Any]:
    """The request's messages, and its body when it is a JSON object sent as plain JSON (else
    None: the whole way reads it, and answers whatever is wrong with it)."""
    messages: list[Message] = []
    more = True
    while more:
        message = await receive()
        messages.append(message)
        more = message.get("type") == "http.request" and message.get("more_body", False)
    content_type = Headers(scope=scope).get("content-type", "").strip().lower()
    if content_type not in _PLAIN_JSON:
        return messages, None
    raw = b"".join(m.get("body", b"") for m in messages if m.get("type") == "http.request")
    try:
        body = json.loads(raw)  # as Starlette's `Request.json`, which Connexion's decorator uses
    except ValueError:
        return messages, None
    return messages, body if isinstance(body, dict) else None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _direct(spec: Spec, op: Operation) -> _Direct | None:
    """How to serve `op` directly, or None when it must go the whole way."""
    resource, _, action = op.operation_id.rpartition(".")
    entry = getattr(handlers, resource, None) if resource and "." not in resource else None
    if not isinstance(entry, handlers.ResourceHandlers):
        return None
    call = getattr(entry.operations, action, None)
    if call is None or action.startswith("_"):
        return None
    item = spec.document["paths"][op.path]
    node = item[op.method.lower()]
    declared = [spec.resolve(p) for p in (*item.get("parameters", []), *node.get("parameters", []))]
    path: list[str] = []
    query: set[str] = set()
    defaults: dict[str, Any] = {}
    takes = list(inspect.signature(call).parameters)[1:]  # after the store
    for parameter in declared:
        name, where = parameter.get("name"), parameter.get("in")
        schema = spec.resolve(parameter.get("schema", {}))
        if where == "path" and schema.get("type") == "string":
            # A string path parameter reaches the handler as Starlette's router decoded it.
            path.append(name)
        elif where == "query":
            query.add(name)
            if name in takes and "default" in schema:
                defaults[name] = schema["default"]
        else:
            return None  # a header, a cookie, or a path segment Connexion would convert
    request_body = spec.resolve(node.get("requestBody", {}))
    media = set((request_body.get("content") or {}).keys())
    if request_body and media != {_JSON}:
        return None
    if not _answers_json(spec, node) or set(path) - set(takes):
        return None
    return _Direct(
        call=call,
        threaded=not inspect.iscoroutinefunction(call),
        path=tuple(path),
        body=bool(request_body) and "body" in takes,
        query=frozenset(query),
        defaults=defaults,
    )


def _answers_json(spec: Spec, node: Mapping[str, Any]) -> bool:
    """Whether every answer the operation declares is JSON or empty (what `_response` builds)."""
    for response in (node.get("responses") or {}).values():
        content = spec.resolve(response).get("content") or {}
        if set(content) - {_JSON}:
            return False
    return True
