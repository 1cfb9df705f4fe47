"""The run's footprint on the server: what it created, removing it, and proving nothing is left.

Owns the `Tracker` (ids created by this run, per resource, including those the schema layer
created), ghost ids (ids that cannot exist, for probes that must not touch real records), the
`may_write` rule the client enforces, the final forced delete of everything tracked, and the leak
check (each tracked id answers 404 and no record carrying the run marker is listed).
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import httpx

from conformance.client import ApiClient, Exchange
from conformance.config import Profile, Settings
from conformance.contract import Contract, Resource
from conformance.failures import CheckFailure, ConformanceError

logger = logging.getLogger(__name__)

LEAK_TITLE = "Records created by the run were left behind"


class Tracker:
    """Ids created by this run, per resource, in creation order (thread-safe)."""

    def __init__(self, contract: Contract, run_id: str) -> None:
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
                    location = exchange.headers.get("location", "")
                    record_id = location.rstrip("/").rsplit("/", 1)[-1] or None
                if record_id:
                    self.add(resource, record_id)

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


def _operation_of(contract: Contract, path: str) -> tuple[Resource, str, str | None] | None:
    for resource in contract.resources.values():
        for operation, template in resource.paths.items():
            head, _, _ = template.partition("{id}")
            if "{id}" in template and path.startswith(head) and "/" not in path[len(head) :]:
                return resource, operation, path[len(head) :]
            if path == template:
                return resource, operation, None
    return None


def delete_everything(client: ApiClient, contract: Contract, tracker: Tracker) -> list[str]:
    """Force-delete every tracked record, children first; the problems met, one line each."""
    problems: list[str] = []
    order = [r for r in contract.resources.values() if r.parent is not None] + [contract.root]
    for resource in order:
        for record_id in reversed(tracker.ids(resource)):
            try:
                exchange = client.send(
                    "DELETE", resource.path("delete", record_id), params={"force": "true"}
                )
            except ConformanceError as exc:
                problems.append(f"{resource.entity} {record_id}: {exc}")
                continue
            if exchange.status not in (204, 404):
                problems.append(f"{resource.entity} {record_id}: delete answered {exchange.status}")
    return problems


def _marked(
    client: ApiClient, contract: Contract, settings: Settings
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


def sweep(client: ApiClient, contract: Contract, tracker: Tracker, settings: Settings) -> list[str]:
    """Track and delete records carrying the run marker that escaped tracking (e.g. made by a
    request the server should have refused); the problems met."""
    found, _ = _marked(client, contract, settings)
    for resource, record_id in found:
        tracker.add(resource, record_id)
    return delete_everything(client, contract, tracker) if found else []


def find_leaks(client: ApiClient, contract: Contract, tracker: Tracker, settings: Settings) -> None:
    """Fail with `LEAK_TITLE` when a tracked id is still viewable or a marked record is listed."""
    leaks: list[str] = []
    evidence = None
    for resource in contract.resources.values():
        for record_id in tracker.ids(resource):
            exchange = client.send("GET", resource.path("view", record_id))
            if exchange.status != 404:
                leaks.append(f"{resource.entity} {record_id} (view answered {exchange.status})")
                evidence = evidence or exchange
    found, listed = _marked(client, contract, settings)
    leaks += [f"{r.entity} {rid} (listed with the run marker)" for r, rid in found]
    evidence = evidence or listed
    if leaks:
        unique = sorted(set(leaks))
        detail = "still on the server after cleanup: " + "; ".join(unique)
        raise CheckFailure(LEAK_TITLE, detail, evidence)
