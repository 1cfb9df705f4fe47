"""A small, correct, in-memory ActionSession API used to prove the conformance suite.

`create_app(bug=None)` serves the contract faithfully; `create_app(bug="name")` introduces exactly
one defect from `BUGS`, so a test can assert the suite fails with the check that owns it. Request
bodies are validated with the contract's own schemas; nothing here is shared with `mock_server`.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.yaml"
MAX_BODY = 1024 * 1024
MAX_PER_PAGE = 100

BUGS: dict[str, str] = {
    "page_count_floor": "X-Pagination-Page-Count is floor(total / per-page)",
    "last_page_short": "the last page drops its final record",
    "no_per_page_cap": "per-page above 100 is served as asked",
    "past_last_page_empty": "a page past the last is served empty",
    "total_is_page_size": "X-Pagination-Total-Count is the size of the page served",
    "missing_page_header": "X-Pagination-Page-Count is never sent",
    "unstable_ties": "ties are ordered differently on every page",
    "filter_ignored": "filter conditions are ignored",
    "filter_after_paging": "the filter is applied to the page after slicing",
    "filter_drops_last": "a filtered result leaves out its last matching record",
    "empty_filter_matches": 'a filter value of "" matches only empty values',
    "unknown_filter_rejected": "an unknown filter key is a 422",
    "filter_type_unchecked": "a filter value of the wrong type is accepted",
    "sort_desc_ignored": "`-field` sorts ascending",
    "nulls_last": "nulls sort last ascending",
    "unknown_sort_rejected": "an unknown sort field is a 422",
    "history_only_historized": "history=true returns only historized records",
    "create_not_listed": "a created session is missing from the index",
    "create_drops_field": "create does not store `validity`",
    "update_wipes_unsent": "update sets every unsent stored field to null",
    "update_ignored": "update answers 200 but stores nothing",
    "readonly_accepted": "read-only members sent by a client are stored",
    "counts_not_updated": "subscription changes do not move the parent's counts",
    "dates_not_updated": "day changes do not move the parent's dates",
    "blocked_delete_partial_related": "a blocked delete lists only subscriptions",
    "blocked_delete_deletes": "a blocked delete deletes the related records anyway",
    "force_no_cascade": "force deletes the session but leaves its related records",
    "delete_requires_force": "a session with nothing related needs force",
    "delete_unknown_204": "deleting an unknown id answers 204",
    "error_shape": '404 bodies are {"detail": ...}',
    "auth_not_enforced": "requests without a credential are served",
    "method_not_refused": "undocumented methods are answered 200",
    "server_error_on_bad_page": "a string page is a 500",
    "location_missing": "create answers no Location header",
    "delete_noop": "delete answers 204 but keeps the record",
    "malformed_json_422": "a body that is not JSON is a 422 instead of a 400",
    "query_token_ignored": "the access-token query parameter is not a credential",
    "view_returns_list": "view answers the record wrapped in a JSON array",
    "long_id_500": "a client-chosen id over 64 characters is a 500 (the limit itself is a guess)",
    "blocked_delete_bare_related": "a blocked delete answers only {related: [...]}, no error object",
    "null_dates_omitted": "a session without days answers no date_begin/date_end instead of null",
    "write_answers_full_record": "create and update of a session answer its joined and computed fields too",
    "defaults_not_applied": "a subscription created without done/warning stores null",
    "unknown_member_rejected": "an unknown member on create is a 422",
    "update_renames_id": "an id member sent on update renames the record",
    "update_null_ignored": "null sent on update leaves the member as it was",
    "null_not_nullable_stored": "update stores null in members that are not nullable",
    "move_to_unknown_parent_accepted": "moving a subscription or day to an unknown session is accepted",
    "day_order_unchecked_on_update": "an update may make a day end before it begins",
    "day_joins_wrong_column": "a day's action_name is its action's code",
    "update_unknown_upserts": "update of an unknown id creates the record (200)",
    "child_id_taken_overwrites": "create of a subscription or day with a taken id overwrites it",
    "no_body_limit": "bodies over 1 MiB are read like any other",
    "array_body_422": "a JSON body that is not an object is a 422",
    "default_per_page_20": "without per-page, 20 a page are served (Yii2's own default)",
    "history_default_true": "without history, historized records are listed too",
    "page_zero_clamped": "page 0 (or below) is served as page 1",
    "name_alias_ignored": "the sessions' sort alias `name` is ignored",
    "validation_first_problem_only": "a 422 lists only the first problem found",
    "child_force_unchecked": "a subscription's or day's delete ignores a force that is not a boolean",
}


VARIANTS: dict[str, str] = {
    "codepoint_collation": "strings sort by code point (the default is case-insensitive)",
    "desc_nulls_first": "descending sorts put nulls first too",
    "reverse_default_order": "without sort, records come newest id last to first",
    "absolute_location": "Location is an absolute URL",
    "ci_filter": "string filters match case-insensitively, as a _ci collation does",
    "any_id_length": "client-chosen ids of any length are accepted (the contract's 3 to 64 "
    "characters is a guess, marked x-guess)",
}
"""Correct behaviours the contract leaves open: the suite must pass each of them."""


def _nullable_to_jsonschema(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 `nullable` into JSON Schema so `jsonschema` can validate requests."""
    if isinstance(node, list):
        return [_nullable_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_to_jsonschema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "$ref" in out or "anyOf" in out or "allOf" in out:
            out = {"anyOf": [{"type": "null"}, out]}
    for key in ("example", "readOnly", "discriminator"):
        out.pop(key, None)
    return out


class ApiError(Exception):
    """An HTTP error answered in the contract's shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra: dict[str, Any] = {}


class Invalid(Exception):
    """A 422 with one entry per problem."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


class Resource:
    """What differs between the three resources."""

    def __init__(self, path: str, entity: str, id_field: str, schema_prefix: str) -> None:
        self.path = path
        self.entity = entity
        self.id_field = id_field
        self.schema_prefix = schema_prefix


SESSION = Resource("action-session", "ActionSession", "action_session_id", "ActionSession")
SUBSCRIPTION = Resource(
    "action-session-subscription",
    "ActionSessionSubscription",
    "action_session_subscription_id",
    "ActionSessionSubscription",
)
DAY = Resource(
    "action-session-date", "ActionSessionDate", "action_session_date_id", "ActionSessionDate"
)
RESOURCES = (SESSION, SUBSCRIPTION, DAY)


def _parse_dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Store:
    """The reference state, one lock around every operation."""

    def __init__(self, bug: str | None) -> None:
        self.bug = bug
        self.lock = threading.Lock()
        self.actions = {
            "act-1": ("A001", "Safety Training", "TRAINING"),
            "act-2": ("H001", "Medical Visit", "HEALTH"),
            "act-3": ("P001", "Gloves Delivery", "PER"),
            "act-4": ("M001", "Lift Maintenance", "MAINTENANCE"),
            "act-5": ("C001", "Fire Inspection", "CHECK"),
        }
        self.rows: dict[str, dict[str, dict[str, Any]]] = {r.path: {} for r in RESOURCES}
        self.historized: set[str] = set()
        self.newest: str | None = None
        self._seed()

    def _seed(self) -> None:
        sessions = self.rows[SESSION.path]
        base = {"data": None, "manager": None, "assignee": None, "watcher": None}
        sessions["sess-1"] = {
            "action_session_id": "sess-1",
            "action_id": "act-1",
            "validity_unit": "MONTH",
            "validity": 12,
            "subtenant_id": "sub-1",
            "tenant_id": "ten-1",
            **base,
        }
        sessions["sess-2"] = {**sessions["sess-1"], "action_session_id": "sess-2"}
        units = ["YEAR", "MONTH", "DAY", None]
        for n in range(3, 45):
            sid = f"sess-{n}"
            sessions[sid] = {
                "action_session_id": sid,
                "action_id": f"act-{1 + n % 5}",
                "validity_unit": units[n % 4],
                "validity": None if n % 7 == 0 else n % 5,
                "subtenant_id": f"sub-{1 + n % 3}",
                "tenant_id": f"ten-{1 + n % 2}",
                **base,
                "manager": None if n % 3 else json.dumps({"user": f"Mgr{n}"}),
            }
        self.historized.update({"sess-43", "sess-44"})
        subs = self.rows[SUBSCRIPTION.path]
        for n in range(1, 11):
            done = 1 if n <= 8 else (0 if n == 9 else -1)
            subs[f"ssub-{n}"] = {
                "action_session_subscription_id": f"ssub-{n}",
                "action_session_id": "sess-1",
                "action_subscription_id": f"asub-{n}",
                "subtenant_id": "sub-1",
                "tenant_id": "ten-1",
                "done": done,
                "warning": 0,
                "certificate_id": f"cert-{n}" if done == 1 else None,
                "date_begin": "2024-01-10",
                "date_expire": "2025-01-10",
                "data": None,
            }
        self.rows[DAY.path]["sdate-1"] = {
            "action_session_date_id": "sdate-1",
            "action_session_id": "sess-1",
            "subtenant_id": "sub-1",
            "tenant_id": "ten-1",
            "date_begin": "2024-01-10T09:00:00Z",
            "date_end": "2024-01-10T17:00:00Z",
            "data": None,
        }

    # ---- derived fields
    def full(self, resource: Resource, row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        if resource is SESSION:
            code, name, kind = self.actions[row["action_id"]]
            out.update(action_code=code, action_name=name, action_type=kind)
            stored = row.get("_counts")
            subs = [
                s
                for s in self.rows[SUBSCRIPTION.path].values()
                if s["action_session_id"] == row["action_session_id"]
            ]
            counts = {
                "count_subscribed": len(subs),
                "count_done": sum(1 for s in subs if s["done"] == 1),
                "count_fail": sum(1 for s in subs if s["done"] == 0),
                "count_unknown": sum(1 for s in subs if s["done"] == -1),
            }
            if self.bug == "counts_not_updated":
                counts = stored if stored is not None else {k: 0 for k in counts}
            out.update(counts)
            days = [
                d
                for d in self.rows[DAY.path].values()
                if d["action_session_id"] == row["action_session_id"]
            ]
            if self.bug == "dates_not_updated":
                days = []
            out["date_begin"] = (
                min(_parse_dt(d["date_begin"]) for d in days).date().isoformat() if days else None
            )
            out["date_end"] = (
                max(_parse_dt(d["date_end"]) for d in days).date().isoformat() if days else None
            )
            if self.bug == "null_dates_omitted" and not days:
                del out["date_begin"], out["date_end"]
            if self.bug == "readonly_accepted":
                out.update(row.get("_sent_readonly", {}))
            out.pop("_counts", None)
            out.pop("_sent_readonly", None)
        elif resource is DAY:
            # An orphan (only the force_no_cascade bug makes one) joins the default action.
            session = self.rows[SESSION.path].get(row["action_session_id"], {"action_id": "act-1"})
            code, name, kind = self.actions[session["action_id"]]
            if self.bug == "day_joins_wrong_column":
                name = code
            out.update(
                action_id=session["action_id"], action_code=code, action_name=name, action_type=kind
            )
        return out

    def stored(self, resource: Resource, row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not k.startswith("_")}


class Reference:
    """The HTTP layer: validation, errors, pagination."""

    def __init__(
        self, bug: str | None, tokens: frozenset[str] | None, variant: str | None = None
    ) -> None:
        if bug is not None and bug not in BUGS:
            raise ValueError(f"unknown bug {bug!r}")
        if variant is not None and variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}")
        self.bug = bug
        self.variant = variant
        self.tokens = tokens
        self.store = Store(bug)
        spec = yaml.safe_load(SPEC_PATH.read_text())
        self.root = _nullable_to_jsonschema(spec)
        if variant == "any_id_length":
            record_id = self.root["components"]["schemas"]["RecordId"]
            record_id.pop("minLength"), record_id.pop("maxLength")
        self.paths = spec["paths"]
        self.validators: dict[str, jsonschema.Draft4Validator] = {}
        self.origin = "http://127.0.0.1" if variant == "absolute_location" else ""

    # ---- plumbing
    def error(self, exc: ApiError) -> Response:
        body: dict[str, Any] = {
            "name": HTTPStatus(exc.status).phrase,
            "message": exc.message,
            "code": 0,
            "status": exc.status,
            **exc.extra,
        }
        if self.bug == "error_shape" and exc.status == 404:
            body = {"detail": exc.message}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    def validate(self, schema_name: str, value: Any, prefix: str = "") -> None:
        validator = self.validators.get(schema_name)
        if validator is None:
            validator = jsonschema.Draft4Validator(
                {
                    "$ref": f"#/components/schemas/{schema_name}",
                    "components": self.root["components"],
                },
                format_checker=jsonschema.FormatChecker(),
            )
            self.validators[schema_name] = validator
        problems = []
        for err in validator.iter_errors(value):
            field = ".".join(str(p) for p in err.absolute_path) or prefix or "body"
            problems.append({"field": field, "message": err.message[:200]})
        if problems:
            raise Invalid(problems[:1] if self.bug == "validation_first_problem_only" else problems)

    def authorize(self, request: Request) -> None:
        if self.tokens is None or self.bug == "auth_not_enforced":
            return
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else None
        if self.bug != "query_token_ignored":
            token = token or request.query_params.get("access-token")
        if token not in self.tokens:
            raise ApiError(
                401,
                "Your request was made with invalid credentials.",
                {"WWW-Authenticate": 'Bearer realm="ActionSession"'},
            )

    async def json_body(self, request: Request, required: bool) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY and self.bug != "no_body_limit":
            raise ApiError(413, "The request body is too large.")
        if not raw.strip():
            if required:
                raise ApiError(400, "A JSON object body is required.")
            return {}
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(415, "The request body must be application/json.")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            if self.bug == "malformed_json_422":
                raise Invalid([{"field": "body", "message": "Not JSON."}]) from exc
            raise ApiError(400, "The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            if self.bug == "array_body_422":
                raise Invalid([{"field": "body", "message": "Not an object."}])
            raise ApiError(400, "The request body must be a JSON object.")
        return body

    async def dispatch(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except ApiError as exc:
            return self.error(exc)
        except Invalid as exc:
            return JSONResponse(exc.problems, status_code=422)

    async def _dispatch(self, request: Request) -> Response:
        parts = request.url.path.strip("/").split("/")
        resource = next((r for r in RESOURCES if len(parts) >= 3 and parts[1] == r.path), None)
        if resource is None or parts[0] != "v2":
            self.authorize(request)
            raise ApiError(404, "Page not found.")
        action = parts[2]
        wants_id = action in ("view", "update", "delete")
        if (
            action not in ("index", "create", *("view", "update", "delete"))
            or (wants_id != (len(parts) == 4))
            or len(parts) > 4
        ):
            self.authorize(request)
            raise ApiError(404, "Page not found.")
        templ = f"/v2/{resource.path}/{action}" + ("/{id}" if wants_id else "")
        allowed = [m.upper() for m in self.paths[templ]]
        self.authorize(request)
        if request.method not in allowed:
            if self.bug == "method_not_refused":
                return JSONResponse([], status_code=200)
            raise ApiError(405, "Method Not Allowed.", {"Allow": ", ".join(allowed)})
        handler: Callable[..., Any] = getattr(self, f"op_{action}")
        if wants_id:
            result: Response = await handler(request, resource, parts[3])
        else:
            result = await handler(request, resource)
        return result

    # ---- operations
    async def op_index(self, request: Request, resource: Resource) -> Response:
        body = await self.json_body(request, required=False)
        if self.bug == "server_error_on_bad_page" and isinstance(body.get("page"), str):
            return Response("boom", status_code=500)
        filter_schema = f"{resource.schema_prefix}Filter"
        if self.bug == "filter_type_unchecked":
            body = {**body, "filter": {}} if isinstance(body.get("filter"), dict) else body
        if self.bug == "unknown_filter_rejected" and isinstance(body.get("filter"), dict):
            known = self.root["components"]["schemas"][filter_schema]["properties"]
            unknown = [k for k in body["filter"] if k not in known]
            if unknown:
                raise Invalid([{"field": f"filter.{unknown[0]}", "message": "Unknown field."}])
        if self.bug == "page_zero_clamped" and isinstance(body.get("page"), int):
            body = {**body, "page": max(body["page"], 1)}
        self.validate(f"{resource.schema_prefix}IndexRequest", body)
        raw = await request.body()
        original = json.loads(raw) if raw.strip() else {}
        conditions = {
            k: v
            for k, v in (original.get("filter") or {}).items()
            if k in self.root["components"]["schemas"][filter_schema]["properties"]
            and v is not None
            and (v != "" or self.bug == "empty_filter_matches")
        }
        if self.bug == "filter_ignored":
            conditions = {}
        history = bool(body.get("history", self.bug == "history_default_true"))
        item_fields = self.root["components"]["schemas"][resource.schema_prefix]["properties"]
        sort = body.get("sort") or ""
        desc = sort.startswith("-")
        field = sort[1:] if desc else sort
        if resource is SESSION and field == "name" and self.bug != "name_alias_ignored":
            field = "action_name"  # the spec's x-sort-aliases
        if self.bug == "unknown_sort_rejected" and field and field not in item_fields:
            raise Invalid([{"field": "sort", "message": "Unknown sort field."}])
        with self.store.lock:
            rows = [
                self.store.full(resource, row)
                for key, row in self.store.rows[resource.path].items()
                if self._visible(key, history)
                and not (self.bug == "create_not_listed" and key == self.store.newest)
            ]
        matches = [r for r in rows if self._matches(r, conditions)]
        if self.bug == "filter_after_paging":
            matches = rows
        if self.bug == "filter_drops_last" and conditions and len(matches) > 1:
            matches = matches[:-1]
        matches.sort(
            key=lambda r: str(r[resource.id_field]),
            reverse=self.variant == "reverse_default_order" and not field,
        )
        if field in item_fields and field != "data":
            nulls_first = self.bug != "nulls_last"
            if desc and self.variant == "desc_nulls_first":
                nulls_first = False  # reversed below, so they end up first

            def key(r: dict[str, Any]) -> tuple[int, Any]:
                value = r.get(field)
                if value is None:
                    return (0 if nulls_first else 2, "")
                if isinstance(value, str) and field in ("date_begin", "date_end") and "T" in value:
                    return (1, _parse_dt(value).timestamp())
                folded = isinstance(value, str) and self.variant != "codepoint_collation"
                return (1, value.lower() if folded else value)

            matches.sort(key=key, reverse=desc and self.bug != "sort_desc_ignored")
        per_page = body.get("per-page", 20 if self.bug == "default_per_page_20" else 100)
        if self.bug != "no_per_page_cap":
            per_page = min(per_page, MAX_PER_PAGE)
        total = len(matches)
        pages = math.ceil(total / per_page)
        if self.bug == "page_count_floor":
            pages = total // per_page
        page = body.get("page", 1)
        if page > max(pages, 1) and self.bug != "past_last_page_empty":
            page = max(pages, 1)
        start = (page - 1) * per_page
        if self.bug == "unstable_ties" and field and page % 2 == 0:
            matches.sort(key=lambda r: str(r[resource.id_field]), reverse=True)
            matches.sort(key=lambda r: (r.get(field) is not None, str(r.get(field))), reverse=desc)
        served = matches[start : start + per_page]
        if self.bug == "filter_after_paging":
            served = [r for r in served if self._matches(r, conditions)]
        if self.bug == "last_page_short" and page == pages and len(served) > 1:
            served = served[:-1]
        headers = {
            "X-Pagination-Total-Count": str(
                len(served) if self.bug == "total_is_page_size" else total
            ),
            "X-Pagination-Page-Count": str(pages),
            "X-Pagination-Current-Page": str(page),
            "X-Pagination-Per-Page": str(per_page),
        }
        if self.bug == "missing_page_header":
            del headers["X-Pagination-Page-Count"]
        return JSONResponse(served, headers=headers)

    def _visible(self, key: str, history: bool) -> bool:
        if not history:
            return key not in self.store.historized
        if self.bug == "history_only_historized":
            return key in self.store.historized
        return True

    def _matches(self, row: dict[str, Any], conditions: dict[str, Any]) -> bool:
        for key, wanted in conditions.items():
            value = row.get(key)
            if isinstance(wanted, str) and isinstance(value, str) and "T" in wanted:
                try:
                    if _parse_dt(wanted) == _parse_dt(value):
                        continue
                except ValueError:
                    pass
            if self.variant == "ci_filter" and isinstance(value, str) and isinstance(wanted, str):
                if value.casefold() == wanted.casefold():
                    continue
            if value != wanted:
                return False
        return True

    def _check_refs(self, resource: Resource, row: dict[str, Any], updating: bool = False) -> None:
        if resource is SESSION and row["action_id"] not in self.store.actions:
            raise Invalid([{"field": "action_id", "message": "Unknown action."}])
        if (
            resource is not SESSION
            and row["action_session_id"] not in self.store.rows[SESSION.path]
            and not (updating and self.bug == "move_to_unknown_parent_accepted")
        ):
            raise Invalid([{"field": "action_session_id", "message": "Unknown session."}])
        if updating and self.bug == "day_order_unchecked_on_update":
            return
        if resource is DAY and _parse_dt(row["date_end"]) < _parse_dt(row["date_begin"]):
            raise Invalid([{"field": "date_end", "message": "Ends before it begins."}])

    def _stored_fields(self, resource: Resource) -> list[str]:
        name = {
            SESSION: "ActionSessionRecord",
            SUBSCRIPTION: "ActionSessionSubscription",
            DAY: "ActionSessionDateRecord",
        }[resource]
        return list(self.root["components"]["schemas"][name]["properties"])

    def _readonly(self, resource: Resource, body: dict[str, Any]) -> dict[str, Any]:
        props = self.root["components"]["schemas"][resource.schema_prefix]["properties"]
        stored = self._stored_fields(resource)
        return {k: v for k, v in body.items() if k in props and k not in stored}

    async def op_create(self, request: Request, resource: Resource) -> Response:
        body = await self.json_body(request, required=True)
        chosen = body.get(resource.id_field) if isinstance(body, dict) else None
        if self.bug == "long_id_500" and isinstance(chosen, str) and len(chosen) > 64:
            return Response("Internal Server Error", status_code=500)
        if self.bug == "unknown_member_rejected":
            schemas = self.root["components"]["schemas"]
            known = {
                *schemas[f"{resource.schema_prefix}Create"]["properties"],
                *schemas[resource.schema_prefix]["properties"],
            }
            unknown = sorted(k for k in body if k not in known)
            if unknown:
                raise Invalid([{"field": unknown[0], "message": "Unknown member."}])
        self.validate(f"{resource.schema_prefix}Create", body)
        fields = self._stored_fields(resource)
        row: dict[str, Any] = {f: None for f in fields}
        if resource is SUBSCRIPTION and self.bug != "defaults_not_applied":
            row.update(done=-1, warning=0)
        row.update({k: copy.deepcopy(v) for k, v in body.items() if k in fields})
        if self.bug == "create_drops_field" and resource is SESSION:
            row["validity"] = None
        with self.store.lock:
            rows = self.store.rows[resource.path]
            rid = row.get(resource.id_field) or str(uuid.uuid4())
            if rid in rows and not (
                self.bug == "child_id_taken_overwrites" and resource is not SESSION
            ):
                raise ApiError(409, f"The id {rid} is already taken.")
            row[resource.id_field] = rid
            self._check_refs(resource, row)
            if self.bug == "readonly_accepted" and resource is SESSION:
                row["_sent_readonly"] = self._readonly(resource, body)
            if self.bug == "counts_not_updated" and resource is SESSION:
                row["_counts"] = None
            rows[rid] = row
            if resource is SESSION:
                self.store.newest = rid
            out = self.store.stored(resource, row)
            if self.bug == "write_answers_full_record":
                out = self.store.full(resource, row)
        headers = (
            {}
            if self.bug == "location_missing"
            else {"Location": f"{self.origin}/v2/{resource.path}/view/{rid}"}
        )
        return JSONResponse(out, status_code=201, headers=headers)

    def _get(self, resource: Resource, rid: str) -> dict[str, Any]:
        row = self.store.rows[resource.path].get(rid)
        if row is None:
            raise ApiError(404, f"Object not found: {rid}")
        return row

    async def op_view(self, request: Request, resource: Resource, rid: str) -> Response:
        with self.store.lock:
            record = self.store.full(resource, self._get(resource, rid))
        return JSONResponse([record] if self.bug == "view_returns_list" else record)

    async def op_update(self, request: Request, resource: Resource, rid: str) -> Response:
        if self.bug == "update_unknown_upserts" and rid not in self.store.rows[resource.path]:
            body = await self.json_body(request, required=True)
            with self.store.lock:
                rows = self.store.rows[resource.path]
                if rid not in rows:
                    fields = self._stored_fields(resource)
                    row = {f: None for f in fields} | {k: v for k, v in body.items() if k in fields}
                    rows[rid] = {**row, resource.id_field: rid}
                    return JSONResponse(self.store.stored(resource, rows[rid]))
        with self.store.lock:
            self._get(resource, rid)
        body = await self.json_body(request, required=True)
        if self.bug == "null_not_nullable_stored":
            self.validate(
                f"{resource.schema_prefix}Update", {k: v for k, v in body.items() if v is not None}
            )
        else:
            self.validate(f"{resource.schema_prefix}Update", body)
        if self.bug == "update_null_ignored":
            body = {k: v for k, v in body.items() if v is not None}
        fields = [f for f in self._stored_fields(resource) if f != resource.id_field]
        with self.store.lock:
            if self.bug == "update_renames_id" and isinstance(body.get(resource.id_field), str):
                rows = self.store.rows[resource.path]
                new_id = body[resource.id_field]
                rows[new_id] = {**rows.pop(rid), resource.id_field: new_id}
                rid = new_id
            row = self._get(resource, rid)
            if self.bug == "counts_not_updated" and resource is SUBSCRIPTION:
                parent = self.store.rows[SESSION.path].get(row["action_session_id"])
                if parent is not None and parent.get("_counts") is None:
                    parent["_counts"] = {
                        k: v
                        for k, v in self.store.full(SESSION, parent).items()
                        if k.startswith("count_")
                    }
            new = dict(row)
            if self.bug == "update_wipes_unsent":
                new.update(
                    {
                        f: None
                        for f in fields
                        if f not in body
                        and f
                        not in (
                            "action_id",
                            "subtenant_id",
                            "tenant_id",
                            "action_session_id",
                            "action_subscription_id",
                            "date_begin",
                            "date_end",
                            "done",
                            "warning",
                        )
                    }
                )
            if self.bug != "update_ignored":
                new.update({k: copy.deepcopy(v) for k, v in body.items() if k in fields})
            self._check_refs(resource, new, updating=True)
            if self.bug == "readonly_accepted" and resource is SESSION:
                new["_sent_readonly"] = {
                    **new.get("_sent_readonly", {}),
                    **self._readonly(resource, body),
                }
            self.store.rows[resource.path][rid] = new
            if self.bug == "write_answers_full_record":
                return JSONResponse(self.store.full(resource, new))
            return JSONResponse(self.store.stored(resource, new))

    async def op_delete(self, request: Request, resource: Resource, rid: str) -> Response:
        force_raw = request.query_params.getlist("force")
        unchecked = self.bug == "child_force_unchecked" and resource is not SESSION
        if not unchecked and (
            len(force_raw) > 1 or (force_raw and force_raw[0] not in ("true", "false"))
        ):
            raise ApiError(400, 'Invalid data received for parameter "force".')
        force = bool(force_raw) and force_raw[0] == "true"
        with self.store.lock:
            rows = self.store.rows[resource.path]
            if rid not in rows:
                if self.bug == "delete_unknown_204":
                    return Response(status_code=204)
                raise ApiError(404, f"Object not found: {rid}")
            related: list[tuple[Resource, str]] = []
            if resource is SESSION:
                for child in (SUBSCRIPTION, DAY):
                    related += [
                        (child, k)
                        for k, v in self.store.rows[child.path].items()
                        if v["action_session_id"] == rid
                    ]
            if self.bug == "delete_requires_force" and not force and not related:
                raise ApiError(400, "Repeat with force=true.")
            if related and not force:
                listed = related
                if self.bug == "blocked_delete_partial_related":
                    listed = [(r, k) for r, k in related if r is SUBSCRIPTION]
                if self.bug == "blocked_delete_deletes":
                    for child, key in related:
                        del self.store.rows[child.path][key]
                related_body = [{"entity": r.entity, "id": k} for r, k in listed]
                if self.bug == "blocked_delete_bare_related":
                    return JSONResponse({"related": related_body}, status_code=400)
                exc = ApiError(400, "The record has related records; repeat with force=true.")
                exc.extra["related"] = related_body
                raise exc
            if self.bug == "delete_noop":
                return Response(status_code=204)
            if self.bug != "force_no_cascade":
                for child, key in related:
                    del self.store.rows[child.path][key]
            del rows[rid]
            self.store.historized.discard(rid)
        return Response(status_code=204)


def create_app(
    bug: str | None = None,
    tokens: frozenset[str] | None = frozenset({"dev"}),
    variant: str | None = None,
) -> Callable[..., Any]:
    """The reference API as an ASGI app; `bug` is one of `BUGS`, `variant` one of `VARIANTS`;
    `tokens=None` turns auth off."""
    reference = Reference(bug, tokens, variant)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        # Every method reaches `dispatch`, so undocumented ones get the contract's 405.
        response = await reference.dispatch(Request(scope, receive))
        await response(scope, receive, send)

    app.reference = reference  # type: ignore[attr-defined]  # tests inspect the state
    return app
