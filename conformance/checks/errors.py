"""Errors: the status the brief gives each kind of bad request, and one body shape per status.

The shapes come from the spec (`Error` for every status but 422, `ValidationErrors` for 422); the
`name` is the HTTP reason phrase of the status. 401 carries `WWW-Authenticate`, 405 `Allow`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from conformance.client import Exchange
from conformance.config import Profile
from conformance.registry import CheckContext, check
from openapi.model import ApiModel

SHAPE_TITLE = "An error response does not have the contract's shape"


def shape_problem(contract: ApiModel, status: int, body: Any) -> str | None:
    """Why an error body does not have the shape of its status, or None."""
    if status == 422:
        if not isinstance(body, list) or not body:
            return "a 422 body must be a non-empty array of {field, message}"
        for item in body:
            if not isinstance(item, dict) or any(
                not isinstance(item.get(k), str) for k in contract.validation_item_required
            ):
                return f"422 entry {item!r} lacks string {', '.join(contract.validation_item_required)}"
        return None
    if not isinstance(body, dict):
        return f"a {status} body must be a JSON object with {', '.join(contract.error_required)}"
    missing = [k for k in contract.error_required if k not in body]
    if missing:
        return f"the {status} body lacks {', '.join(missing)}"
    names = set(contract.error_names.get(status, ()))
    try:
        names.add(HTTPStatus(status).phrase)
    except ValueError:
        pass
    if body.get("status") != status:
        return f"`status` is {body.get('status')!r}, the response status is {status}"
    if not isinstance(body.get("code"), int) or isinstance(body.get("code"), bool):
        return f"`code` is {body.get('code')!r}, expected an integer"
    if not isinstance(body.get("message"), str):
        return "`message` is not a string"
    if names and body.get("name") not in names:
        return f"`name` is {body.get('name')!r}, expected the reason phrase ({' or '.join(sorted(names))})"
    return None


def _bad_requests(ctx: CheckContext) -> list[tuple[str, int, Exchange]]:
    """(what, expected status, exchange) for each kind of bad request the profile may send."""
    root = ctx.contract.root
    send = ctx.send
    out = [
        ("view of an unknown id", 404, send("GET", root.path("view", ctx.tracker.ghost()))),
        ("index with per-page 0", 422, send("POST", root.path("index"), {"per-page": 0})),
        (
            "index with malformed JSON",
            400,
            send(
                "POST",
                root.path("index"),
                content=b'{"filter": ',
                headers={"Content-Type": "application/json"},
            ),
        ),
        (
            "index with a body that is not JSON",
            415,
            send(
                "POST",
                root.path("index"),
                content=b"per-page=5",
                headers={"Content-Type": "text/plain"},
            ),
        ),
    ]
    if ctx.settings.profile is Profile.FULL:
        refs = ctx.settings.references
        taken = ctx.tracker.ids(root)[0] if ctx.tracker.ids(root) else None
        base = {
            "action_id": refs.action_id,
            "tenant_id": refs.tenant_id,
            "subtenant_id": refs.subtenant_id,
            "data": ctx.settings.marker,
        }
        out.append(
            (
                "create with an unknown action_id",
                422,
                send("POST", root.path("create"), {**base, "action_id": ctx.tracker.ghost()}),
            )
        )
        out.append(("create without a body", 400, send("POST", root.path("create"))))
        if taken is not None:
            out.append(
                (
                    "create with an id already taken",
                    409,
                    send("POST", root.path("create"), {**base, root.id_field: taken}),
                )
            )
            out.append(
                (
                    "delete with force=yes",
                    400,
                    send("DELETE", root.path("delete", taken), params={"force": "yes"}),
                )
            )
            out.append(
                (
                    "update with a wrong-typed member",
                    422,
                    send("PUT", root.path("update", taken), {"validity": "twelve"}),
                )
            )
    return out


@check(
    title="A bad request does not get the status the contract gives it",
    clauses=(
        "errors.malformed-json-400",
        "errors.non-json-415",
        "delete.force-param",
        "members.body-required-400",
    ),
    proven_by=("malformed_json_422",),
)
def error_statuses(ctx: CheckContext) -> None:
    """Each kind of bad request answers its status."""
    for what, status, exchange in _bad_requests(ctx):
        ctx.expect(
            exchange.status == status,
            f"{what} answered {exchange.status}, expected {status}",
            exchange,
        )


@check(
    title=SHAPE_TITLE,
    clauses=("errors.shape", "errors.validation-shape"),
    proven_by=("error_shape",),
)
def error_shape(ctx: CheckContext) -> None:
    """Every error answer of the bad requests has the shape of its status."""
    exchanges = [e for _, _, e in _bad_requests(ctx)]
    template = ctx.contract.root.paths["index"]
    exchanges.append(ctx.send("PATCH", template))
    if ctx.settings.token is not None:
        exchanges.append(ctx.send("POST", template, {}, authenticate=False))
    for exchange in exchanges:
        if exchange.status >= 400:
            problem = shape_problem(ctx.contract, exchange.status, exchange.json())
            ctx.expect(problem is None, str(problem), exchange)


@check(
    title="A request without a valid credential is not refused with 401",
    clauses=("auth.required-401",),
    proven_by=("auth_not_enforced",),
)
def auth_enforced(ctx: CheckContext) -> None:
    """Without a credential, or with a wrong one, every operation answers 401."""
    if ctx.settings.token is None:
        return
    for res in ctx.contract.resources.values():
        ghost = ctx.tracker.ghost()
        probes: list[tuple[str, str, dict[str, Any] | None]] = [("POST", res.path("index"), {})]
        probes.append(("GET", res.path("view", ghost), None))
        if ctx.settings.profile is Profile.FULL:
            # Bodies that cannot create or change anything even if the server let them through.
            probes += [
                ("POST", res.path("create"), {}),
                ("PUT", res.path("update", ghost), {}),
                ("DELETE", res.path("delete", ghost), None),
            ]
        for method, path, body in probes:
            for headers in ({}, {"Authorization": "Bearer not-a-token-" + ctx.settings.run_id}):
                if body is None:
                    exchange = ctx.send(method, path, authenticate=False, headers=headers)
                else:
                    exchange = ctx.send(method, path, body, authenticate=False, headers=headers)
                ctx.expect(
                    exchange.status == 401,
                    f"{method} {path} {'with a wrong token' if headers else 'without a credential'} answered {exchange.status}, expected 401",
                    exchange,
                )
                ctx.expect(
                    "www-authenticate" in exchange.headers,
                    "the 401 has no WWW-Authenticate header",
                    exchange,
                )
    # Checked before anything else: a malformed body without a credential is still a 401.
    exchange = ctx.send(
        "POST",
        ctx.contract.root.path("index"),
        content=b'{"filter": ',
        headers={"Content-Type": "application/json"},
        authenticate=False,
    )
    ctx.expect(
        exchange.status == 401,
        f"a malformed body without a credential answered {exchange.status}, expected 401 first",
        exchange,
    )


@check(
    title="A valid credential in a documented form is refused",
    clauses=("auth.any-scheme",),
    proven_by=("query_token_ignored",),
)
def credential_forms_accepted(ctx: CheckContext) -> None:
    """The run's token works as a bearer header and as the `access-token` query parameter."""
    if ctx.settings.token is None:
        return
    schemes = ctx.contract.security_schemes.values()
    forms = []
    if any(s.get("scheme") == "bearer" or s.get("type") == "oauth2" for s in schemes):
        forms.append(False)
    if any(s.get("type") == "apiKey" and s.get("in") == "query" for s in schemes):
        forms.append(True)
    for res in ctx.contract.resources.values():
        for in_query in forms:
            exchange = ctx.send("POST", res.path("index"), {"per-page": 1}, in_query=in_query)
            where = "the access-token query parameter" if in_query else "a bearer header"
            ctx.expect(
                exchange.status == 200,
                f"the token in {where} answered {exchange.status}, expected 200",
                exchange,
            )


@check(
    title="An undocumented method is not refused with 405 and Allow",
    clauses=("errors.method-405",),
    proven_by=("method_not_refused",),
)
def undocumented_method_refused(ctx: CheckContext) -> None:
    """Each path, sent a method the spec does not declare, answers 405 naming the declared one."""
    for res in ctx.contract.resources.values():
        for template in res.paths.values():
            documented = ctx.contract.documented_methods(template)
            path = template.replace("{id}", ctx.tracker.ghost())
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                if method in documented:
                    continue
                exchange = ctx.send(method, path)
                allow = {m.strip().upper() for m in exchange.headers.get("allow", "").split(",")}
                ctx.expect(
                    exchange.status == 405,
                    f"{method} {template} answered {exchange.status}, expected 405",
                    exchange,
                )
                ctx.expect(
                    set(documented) <= allow,
                    f"Allow is {exchange.headers.get('allow')!r}, expected it to name {documented}",
                    exchange,
                )
