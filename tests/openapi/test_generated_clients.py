"""Tools that read the spec the way client teams do: two client generators and Dredd, against the
real mock.

- openapi-python-client (PyPI, a dev dependency) and openapi-typescript with openapi-fetch (npm)
  generate clients from openapi/openapi.yaml; each reads a blocked delete through its client and
  must get the `related` list as typed data, not untyped extras.
- Dredd (npm) runs unchanged against the mock (only a hook that skips the transactions of error
  responses, which Dredd cannot provoke with the example request): every documented success
  transaction passes.

The npm tools come from the repository's pinned node_modules, installed here with `npm ci` when
missing or stale. Without npm the npm tests are skipped with the reason, except in CI, where they
fail: CI must exercise them.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mock_server.process import MockProcess
from openapi import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
TIMEOUT = 300
BLOCKED = "/v2/action-session/delete/sess-1"


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[MockProcess]:
    with MockProcess(tmp_path / "mock.json") as running:
        yield running


def _run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        # The generator runs ruff on its output; ruff is in this interpreter's environment.
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        | env,
        check=False,
    )
    return completed


def _blocked_delete_truth(mock: MockProcess) -> list[tuple[str, str]]:
    """What the mock answers for the blocked delete, read as plain JSON."""
    response = httpx.delete(mock.base_url + BLOCKED, headers=mock.auth_headers)
    assert response.status_code == 400, response.text
    related = response.json()["related"]
    assert len(related) == 11  # the seed session's 10 subscriptions and its day
    return [(item["entity"], item["id"]) for item in related]


# --- openapi-python-client ------------------------------------------------------------------------


def _python_client(spec: Path, where: Path, name: str) -> Any:
    """Generate a client package called `name` from `spec` into `where` and import it."""
    generator = Path(sys.executable).with_name("openapi-python-client")
    completed = _run(
        [str(generator), "generate", "--path", str(spec), "--output-path", str(where / name)]
        + ["--meta", "none"],
        cwd=where,
    )
    assert (where / name / "client.py").exists(), completed.stdout + completed.stderr
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(where))


def _read_blocked_delete(package: Any, mock: MockProcess) -> Any:
    delete = importlib.import_module(f"{package.__name__}.api.action_session.action_session_delete")
    with package.AuthenticatedClient(base_url=mock.base_url, token=mock.token) as client:
        response = delete.sync_detailed(client=client, id="sess-1")
    assert response.status_code == 400
    return response.parsed


def test_python_client_reads_a_blocked_delete_with_a_typed_related_list(
    mock: MockProcess, tmp_path: Path
) -> None:
    truth = _blocked_delete_truth(mock)
    package = _python_client(SPEC_PATH, tmp_path, "asclient_spec")
    models = importlib.import_module(f"{package.__name__}.models")

    parsed = _read_blocked_delete(package, mock)

    assert isinstance(parsed, models.DeleteBlockedError)
    assert all(isinstance(item, models.RelatedRecord) for item in parsed.related)
    assert [(item.entity.value, item.id) for item in parsed.related] == truth
    assert (parsed.name, parsed.status) == ("Bad Request", 400)
    assert "related" not in parsed.additional_properties


def test_python_client_loses_related_when_the_open_error_branch_comes_first(
    mock: MockProcess, tmp_path: Path
) -> None:
    # Proves the test above can fail: the order the spec used to have.
    text = SPEC_PATH.read_text(encoding="utf-8")
    specific, general = (
        "              - $ref: '#/components/schemas/DeleteBlockedError'\n",
        "              - $ref: '#/components/schemas/Error'\n",
    )
    assert specific + general in text
    swapped = tmp_path / "openapi.yaml"
    swapped.write_text(text.replace(specific + general, general + specific), encoding="utf-8")
    package = _python_client(swapped, tmp_path, "asclient_error_first")
    models = importlib.import_module(f"{package.__name__}.models")

    parsed = _read_blocked_delete(package, mock)

    assert type(parsed) is models.Error
    assert isinstance(parsed.additional_properties["related"], list)


# --- openapi-typescript + openapi-fetch -----------------------------------------------------------

TYPESCRIPT_READER = """\
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

// The little of Node this needs, instead of installing @types/node.
declare const process: { env: Record<string, string>; exit(code: number): never };

type Related = components["schemas"]["RelatedRecord"];

const client = createClient<paths>({
  baseUrl: process.env.BASE_URL,
  headers: { Authorization: `Bearer ${process.env.TOKEN}` },
});
const { error, response } = await client.DELETE("/v2/action-session/delete/{id}", {
  params: { path: { id: "sess-1" } },
});
if (error === undefined || !("related" in error)) {
  console.log(JSON.stringify({ status: response.status, related: null }));
  process.exit(1);
}
const related: Related[] = error.related;
const entities: ("ActionSessionSubscription" | "ActionSessionDate")[] = related.map((r) => r.entity);
// @ts-expect-error `related` is typed, so a member RelatedRecord does not declare cannot be read.
related[0].undeclared;
console.log(JSON.stringify({ status: response.status, related: related.map((r) => [r.entity, r.id]) }));
"""

TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "target": "es2022",
        "lib": ["es2022", "dom"],
        "types": [],
        "skipLibCheck": True,
    },
    "files": ["main.mts"],
}


def test_typescript_client_reads_a_blocked_delete_with_a_typed_related_list(
    node_bin: Path, mock: MockProcess, tmp_path: Path
) -> None:
    truth = _blocked_delete_truth(mock)
    # The generated client resolves openapi-fetch (and tsc its types) from the pinned install.
    (tmp_path / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    generated = _run(
        [str(node_bin / "openapi-typescript"), str(SPEC_PATH), "-o", "schema.d.ts"], tmp_path
    )
    assert generated.returncode == 0, generated.stderr
    (tmp_path / "main.mts").write_text(TYPESCRIPT_READER, encoding="utf-8")
    (tmp_path / "tsconfig.json").write_text(json.dumps(TSCONFIG), encoding="utf-8")

    compiled = _run([str(node_bin / "tsc"), "-p", "tsconfig.json"], tmp_path)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    ran = _run(["node", "main.mjs"], tmp_path, BASE_URL=mock.base_url, TOKEN=mock.token)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout) == {"status": 400, "related": [list(pair) for pair in truth]}


# --- Dredd ----------------------------------------------------------------------------------------

SUMMARY = re.compile(r"complete: (\d+) passing, (\d+) failing, (\d+) errors, (\d+) skipped")


def _success_responses() -> int:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return sum(
        1
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete", "patch")
        for status in operation["responses"]
        if str(status).startswith("2")
    )


def test_dredd_passes_every_documented_success_transaction_against_the_mock(
    node_bin: Path, mock: MockProcess, tmp_path: Path
) -> None:
    completed = _run(
        [str(node_bin / "dredd"), str(SPEC_PATH), mock.base_url]
        + ["--header", f"Authorization: Bearer {mock.token}"]
        + ["--hookfiles", str(Path(__file__).with_name("dredd") / "hooks.js"), "--no-color"],
        tmp_path,
    )

    summary = SUMMARY.search(completed.stdout)
    assert summary is not None, completed.stdout[-3000:] + completed.stderr[-3000:]
    passing, failing, errors, _ = map(int, summary.groups())
    failures = [line for line in completed.stdout.splitlines() if line.startswith("fail:")]
    assert (failing, errors, failures) == (0, 0, [])
    assert passing == _success_responses()
    assert completed.returncode == 0
