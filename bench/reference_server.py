"""The conformance suite's reference server, loaded with a generated fixture, for the benchmark.

`python bench/reference_server.py --port P --fixture FILE` serves
`tests/conformance_servers/reference.py` (in memory, plain Starlette, request bodies validated
with the contract's schemas) on 127.0.0.1 with the fixture's actions and records in place of its
own seed, so that it answers the same ids the mock does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parents[1]


def load(app: Any, fixture: dict[str, Any]) -> None:
    """Replace the reference's seeded state with the fixture's records."""
    from tests.conformance_servers.reference import DAY, SESSION, SUBSCRIPTION

    store = app.reference.store
    store.actions = {
        a["action_id"]: (a["action_code"], a["action_name"], a["action_type"])
        for a in fixture["actions"]
    }
    store.historized.clear()
    for resource, key in (
        (SESSION, "action-session"),
        (SUBSCRIPTION, "action-session-subscription"),
        (DAY, "action-session-date"),
    ):
        rows: dict[str, dict[str, Any]] = {}
        for record in fixture.get(key, []):
            row = dict(record)
            rid = row[resource.id_field]
            if row.pop("historized", False):
                store.historized.add(rid)
            rows[rid] = row
        store.rows[resource.path] = rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fixture", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.conformance_servers.reference import create_app

    app = create_app()
    load(app, json.loads(args.fixture.read_text(encoding="utf-8")))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
