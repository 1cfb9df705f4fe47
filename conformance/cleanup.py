"""The run's footprint on the server: what it created, removing it, and proving nothing is left.

Owns the `Tracker` (ids created by this run, per resource, including those the schema layer
created), ghost ids (ids that cannot exist, for probes that must not touch real records), the
`may_write` rule the client enforces, the final forced delete of everything tracked, and the leak
check (each tracked id answers 404 and no record carrying the run marker is listed).

Also owns reading back a write that got no answer (did it land?), and the leftovers file: the
records cleanup could not delete, as JSON (base URL, run ids, resource and id of each; never a
credential), which `python -m conformance cleanup --from PATH` finishes later.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from conformance.client import ApiClient, Exchange, GaveUp, id_from_location
from conformance.config import Profile, Settings
from conformance.failures import CheckFailure, ConformanceError
from openapi.model import ApiModel, Resource

logger = logging.getLogger(__name__)

LEAK_TITLE = "Records created by the run were left behind"

_T = TypeVar("_T")
_R = TypeVar("_R")


class Tracker:
    """Ids created by this run, per resource, in creation order (thread-safe)."""

    def __init__(self, contract: ApiModel, run_id: str) -> None:
        self.contract = contract
        self.run_id = run_id
        self._ids: dict[str, list[str]] = {name: [] for name in contract.resources}
        self._lock = threading.Lock()
        self._ghosts = itertools.count(1)

    def add(self, resource: Resource, record_id: str) -> None:
        """Remember a record this run created."""
        with self._lock:
            if record_id not in self._ids[resource.name]:
                self._ids[resource.name].append(record_id)

    def owns(self, resource: Resource, record_id: str) -> bool:
        """Whether this run created `record_id`."""
        with self._lock:
            return record_id in self._ids[resource.name]

    def ids(self, resource: Resource) -> list[str]:
        """The ids of `resource` this run created."""
        with self._lock:
            return list(self._ids[resource.name])

    def observe(self, exchange: Exchange) -> None:
        """Track the record a 201 to a create path made, whoever sent it."""
        if exchange.method != "POST" or exchange.status != 201:
            return
        path = httpx.URL(exchange.url).path
        for resource in self.contract.resources.values():
            if path.endswith(resource.path("create")):
                body = exchange.json()
                record_id = body.get(resource.id_field) if isinstance(body, dict) else None
                if not isinstance(record_id, str):
                    record_id = id_from_location(exchange.headers.get("location"))
                if record_id:
                    self.add(resource, record_id)

    def forget(self, resource: Resource, record_id: str) -> None:
        """Drop a record that is confirmed gone."""
        with self._lock:
            if record_id in self._ids[resource.name]:
                self._ids[resource.name].remove(record_id)

    def is_read(self, method: str, path: str) -> bool:
        """Whether a request only reads (GET, HEAD, or an index search): safe to send again."""
        if method in ("GET", "HEAD"):
            return True
        found = _operation_of(self.contract, path.split("?")[0])
        return found is not None and found[1] == "index" and found[0].methods["index"] == method

    def ghost(self) -> str:
        """An id no server holds: it names this run and a counter, and nothing is created with it."""
        return f"{self.run_id}-ghost-{next(self._ghosts)}"

    def is_ghost(self, record_id: str) -> bool:
        """Whether `record_id` was made by `ghost()`."""
        return record_id.startswith(f"{self.run_id}-ghost-")

    def may_write(self, profile: Profile) -> Any:
        """The rule the client enforces before sending (method, path)."""

        def allowed(method: str, path: str) -> bool:
            found = _operation_of(self.contract, path.split("?")[0])
            if method in ("GET", "HEAD"):
                return True
            if found is None:
                return profile is Profile.FULL
            resource, operation, record_id = found
            documented = resource.methods[operation] == method
            if record_id is not None and not self.is_ghost(record_id):
                # Undocumented methods and writes only ever reach ghosts or the run's own records.
                return profile is Profile.FULL and documented and self.owns(resource, record_id)
            if profile is Profile.SAFE:
                return operation == "index" or not documented
            return True

        return allowed


def _operation_of(contract: ApiModel, path: str) -> tuple[Resource, str, str | None] | None:
    for resource in contract.resources.values():
        for operation, template in resource.paths.items():
            head, _, _ = template.partition("{id}")
            if "{id}" in template and path.startswith(head) and "/" not in path[len(head) :]:
                return resource, operation, path[len(head) :]
            if path == template:
                return resource, operation, None
    return None


def delete_everything(
    client: ApiClient,
    contract: ApiModel,
    tracker: Tracker,
    gone: set[tuple[str, str]] | None = None,
) -> list[str]:
    """Force-delete every tracked record, children first; the problems met, one line each.

    Each record confirmed deleted (204, or 404: already gone) is added to `gone`. Retries running
    out (`GaveUp`) propagate: the caller writes what is left to the leftovers file.
    """
    problems: list[str] = []
    children = [r for r in _deletion_order(contract) if r.parent is not None]
    # Children of every kind first, then the sessions: each group in parallel.
    for group in (children, [contract.root]):
        targets = [
            (resource, record_id)
            for resource in group
            for record_id in reversed(tracker.ids(resource))
            if gone is None or (resource.name, record_id) not in gone
        ]

        def delete(target: tuple[Resource, str]) -> str | None:
            resource, record_id = target
            try:
                exchange = client.send(
                    "DELETE", resource.path("delete", record_id), params={"force": "true"}
                )
            except GaveUp:
                raise
            except (ConformanceError, CheckFailure) as exc:
                return f"{resource.entity} {record_id}: {str(exc).splitlines()[0]}"
            if exchange.status in (204, 404):
                return None
            return f"{resource.entity} {record_id}: delete answered {exchange.status}"

        for (resource, record_id), problem in zip(
            targets, _each(client, delete, targets), strict=True
        ):
            if problem is None:
                if gone is not None:
                    gone.add((resource.name, record_id))
            else:
                problems.append(problem)
    return problems


def _each(client: ApiClient, func: Callable[[_T], _R], items: list[_T]) -> list[_R]:
    """`func` over `items`, as many at once as the run's concurrency; results in order."""
    workers = min(client.network.settings.concurrency, len(items))
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix="conformance-cleanup") as pool:
        return list(pool.map(func, items))


def _deletion_order(contract: ApiModel) -> list[Resource]:
    return [r for r in contract.resources.values() if r.parent is not None] + [contract.root]


def _marked(
    client: ApiClient, contract: ApiModel, settings: Settings
) -> tuple[list[tuple[Resource, str]], Exchange | None]:
    """Records listed with this run's marker in `data` (within the references' tenant and office)."""
    found: list[tuple[Resource, str]] = []
    evidence = None
    refs = settings.references
    for resource in contract.resources.values():
        wanted = (("tenant_id", refs.tenant_id), ("subtenant_id", refs.subtenant_id))
        scope = {k: v for k, v in wanted if k in resource.filter_fields}
        number, pages = 1, 1
        while number <= min(pages, settings.budget.max_walk_pages):
            body = {
                "filter": scope,
                "history": True,
                "per-page": contract.pagination.max_per_page,
                "page": number,
            }
            exchange = client.send("POST", resource.path("index"), body)
            records = exchange.json()
            if exchange.status != 200 or not isinstance(records, list):
                break
            for record in records:
                data = record.get("data") if isinstance(record, dict) else None
                if isinstance(data, dict) and data.get("conformance_run") == settings.run_id:
                    found.append((resource, str(record.get(resource.id_field))))
                    evidence = evidence or exchange
            pages = exchange.header_int(contract.pagination.page_count) or 0
            number += 1
    return found, evidence


def sweep(
    client: ApiClient,
    contract: ApiModel,
    tracker: Tracker,
    settings: Settings,
    gone: set[tuple[str, str]] | None = None,
) -> list[str]:
    """Track and delete records carrying the run marker that escaped tracking (e.g. made by a
    request the server should have refused, or a write that got no answer); the problems met."""
    found, _ = _marked(client, contract, settings)
    for resource, record_id in found:
        tracker.add(resource, record_id)
        if gone is not None:
            gone.discard((resource.name, record_id))
    return delete_everything(client, contract, tracker, gone) if found else []


def find_leaks(
    client: ApiClient,
    contract: ApiModel,
    tracker: Tracker,
    settings: Settings,
    gone: set[tuple[str, str]] | None = None,
) -> None:
    """Fail with `LEAK_TITLE` when a tracked id is still viewable or a marked record is listed.

    `gone` ends up holding exactly the tracked records that answer 404.
    """
    leaks: list[str] = []
    evidence = None
    tracked = [(r, record_id) for r in contract.resources.values() for record_id in tracker.ids(r)]
    views = _each(client, lambda t: client.send("GET", t[0].path("view", t[1])), tracked)
    for (resource, record_id), exchange in zip(tracked, views, strict=True):
        if exchange.status != 404:
            leaks.append(f"{resource.entity} {record_id} (view answered {exchange.status})")
            evidence = evidence or exchange
            if gone is not None:
                gone.discard((resource.name, record_id))
        elif gone is not None:
            gone.add((resource.name, record_id))
    found, listed = _marked(client, contract, settings)
    for resource, record_id in found:
        tracker.add(resource, record_id)
        if gone is not None:
            gone.discard((resource.name, record_id))
    leaks += [f"{r.entity} {rid} (listed with the run marker)" for r, rid in found]
    evidence = evidence or listed
    if leaks:
        unique = sorted(set(leaks))
        detail = "still on the server after cleanup: " + "; ".join(unique)
        raise CheckFailure(LEAK_TITLE, detail, evidence)


def read_back(
    client: ApiClient, contract: ApiModel, tracker: Tracker, settings: Settings, sent: Exchange
) -> str:
    """Whether a write that got no answer landed, found by reading; a landed create is tracked."""
    path = httpx.URL(sent.url).path
    found = _operation_of(contract, _api_path(client, path))
    if found is None:
        return "not a write of the contract; nothing to read back"
    resource, operation, record_id = found
    if operation == "create":
        return _read_back_create(client, contract, tracker, settings, resource, sent)
    if record_id is None:
        return "nothing to read back"
    view = client.send("GET", resource.path("view", record_id))
    if operation == "delete":
        if view.status == 404:
            tracker.forget(resource, record_id)
            return f"it landed ({resource.entity} {record_id} is gone)"
        return f"it did not land ({resource.entity} {record_id} still answers {view.status})"
    body = _json(sent.request_body)
    stored = view.json()
    if view.status != 200 or not isinstance(stored, dict) or not isinstance(body, dict):
        return f"could not tell (view answered {view.status})"
    same = all(stored.get(k) == v for k, v in body.items() if k in resource.stored_fields)
    return "it landed (the record holds what was sent)" if same else "it did not land"


def _api_path(client: ApiClient, path: str) -> str:
    prefix = httpx.URL(client.base_url).path.rstrip("/")
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


def _json(raw: bytes | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _read_back_create(
    client: ApiClient,
    contract: ApiModel,
    tracker: Tracker,
    settings: Settings,
    resource: Resource,
    sent: Exchange,
) -> str:
    body = _json(sent.request_body)
    if not isinstance(body, dict):
        return "it cannot have landed (the body was not a JSON object)"
    chosen = body.get(resource.id_field)
    if isinstance(chosen, str):
        view = client.send("GET", resource.path("view", chosen))
        if view.status == 200:
            tracker.add(resource, chosen)
            return f"it landed as {resource.entity} {chosen} (tracked for cleanup)"
        if view.status == 404:
            return f"it did not land ({resource.entity} {chosen} answers 404)"
        return f"could not tell (view answered {view.status})"
    # A server-chosen id: look for the record by what was sent, within the fields one can filter.
    scope = {
        k: v
        for k, v in body.items()
        if k in resource.filter_fields and isinstance(v, str | int) and not isinstance(v, bool)
    }
    number, pages = 1, 1
    while number <= min(pages, settings.budget.max_walk_pages):
        search = {
            "filter": scope,
            "history": True,
            "per-page": contract.pagination.max_per_page,
            "page": number,
        }
        exchange = client.send("POST", resource.path("index"), search)
        records = exchange.json()
        if exchange.status != 200 or not isinstance(records, list):
            return f"could not tell (index answered {exchange.status})"
        for record in records:
            if isinstance(record, dict) and record.get("data") == body.get("data"):
                record_id = str(record.get(resource.id_field))
                tracker.add(resource, record_id)
                return f"it landed as {resource.entity} {record_id} (tracked for cleanup)"
        pages = exchange.header_int(contract.pagination.page_count) or 0
        number += 1
    return "it did not land (no record holds what was sent)"


@dataclass(frozen=True)
class Leftover:
    """One record a run created and could not delete."""

    resource: str  # the resource's name in the contract (operationId prefix)
    entity: str
    id: str


def leftovers(contract: ApiModel, tracker: Tracker, gone: set[tuple[str, str]]) -> list[Leftover]:
    """Tracked records not confirmed deleted, in the order they must be deleted."""
    return [
        Leftover(resource.name, resource.entity, record_id)
        for resource in _deletion_order(contract)
        for record_id in reversed(tracker.ids(resource))
        if (resource.name, record_id) not in gone
    ]


def write_leftovers(path: Path, base_url: str, run_id: str, records: list[Leftover]) -> None:
    """Write (or add to) the leftovers file; records already in it stay, without duplicates."""
    previous = read_leftovers(path) if path.exists() else None
    kept: list[dict[str, str]] = []
    runs = [run_id]
    if previous is not None and previous.get("base_url") == base_url:
        kept = [dict(r) for r in previous.get("records", [])]
        runs = list(dict.fromkeys([*previous.get("runs", []), run_id]))
    seen = {(r["resource"], r["id"]) for r in kept}
    for record in records:
        if (record.resource, record.id) not in seen:
            kept.append({"resource": record.resource, "entity": record.entity, "id": record.id})
            seen.add((record.resource, record.id))
    document = {"base_url": base_url, "runs": runs, "records": kept}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_leftovers(path: Path) -> dict[str, Any]:
    """The leftovers file; `ConformanceError` when it cannot be read."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConformanceError(f"cannot read the leftovers file {path}: {exc}") from exc
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("resource"), str) and isinstance(r.get("id"), str)
        for r in records
    ):
        raise ConformanceError(f"{path} is not a leftovers file (no list of records)")
    return dict(document)


def finish_leftovers(
    client: ApiClient, contract: ApiModel, document: dict[str, Any]
) -> tuple[list[str], list[dict[str, str]]]:
    """Delete the records of a leftovers file; (lines of what happened, records still left)."""
    lines: list[str] = []
    left: list[dict[str, str]] = []
    for record in document["records"]:
        resource = contract.resources.get(record["resource"])
        if resource is None:
            lines.append(f"{record['resource']} {record['id']}: not a resource of this contract")
            left.append(record)
            continue
        try:
            exchange = client.send(
                "DELETE", resource.path("delete", record["id"]), params={"force": "true"}
            )
            if exchange.status in (204, 404):
                view = client.send("GET", resource.path("view", record["id"]))
                if view.status == 404:
                    lines.append(f"{resource.entity} {record['id']}: deleted")
                    continue
                lines.append(f"{resource.entity} {record['id']}: still answers {view.status}")
            else:
                lines.append(f"{resource.entity} {record['id']}: delete answered {exchange.status}")
        except GaveUp:
            raise
        except (ConformanceError, CheckFailure) as exc:
            lines.append(f"{resource.entity} {record['id']}: {str(exc).splitlines()[0]}")
        left.append(record)
    return lines, left
