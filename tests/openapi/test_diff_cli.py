"""End-to-end tests of `python -m openapi diff`: exit codes, output formats, git sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from openapi.cli import diff_main as main
from openapi.diff import RULES

REPO = Path(__file__).resolve().parents[2]
BASE = Path(__file__).with_name("diff_corpus") / "_base.yaml"
VIEW_ID = "/paths/~1v2~1action-session~1view~1{id}"


def run_diff(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command as a user would, in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "openapi", "diff", *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command's `main` directly: the same code path, without an interpreter start."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def base_spec() -> dict[str, Any]:
    loaded = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def write_spec(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def old_spec(tmp_path: Path) -> Path:
    return write_spec(tmp_path / "old.yaml", base_spec())


@pytest.fixture
def breaking_spec(tmp_path: Path) -> Path:
    """NEW drops the subscription view path (breaking) and adds a session-date view (not)."""
    spec = base_spec()
    spec["paths"]["/v2/action-session-date/view/{id}"] = spec["paths"].pop(
        "/v2/action-session-subscription/view/{id}"
    )
    return write_spec(tmp_path / "breaking.yaml", spec)


@pytest.fixture
def compatible_spec(tmp_path: Path) -> Path:
    """NEW only adds an optional query parameter to view."""
    spec = base_spec()
    spec["paths"]["/v2/action-session/view/{id}"]["get"]["parameters"].append(
        {"name": "expand", "in": "query", "schema": {"type": "string"}}
    )
    return write_spec(tmp_path / "compatible.yaml", spec)


def _line_of(path: Path, text: str) -> int:
    """The line of `path` that reads `text`, as a person finds it in an editor."""
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def test_identical_specs_exit_0_and_say_clean(old_spec: Path) -> None:
    result = run_diff(str(old_spec), str(BASE))

    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"{old_spec} -> {BASE}: clean ({len(RULES)} rules)\n",
        "",
    )


def test_breaking_change_exits_1_listing_breaking_before_non_breaking(
    old_spec: Path, breaking_spec: Path
) -> None:
    result = run_diff(str(old_spec), str(breaking_spec))

    assert result.returncode == 1
    assert result.stderr == ""
    removed = _line_of(old_spec, "  /v2/action-session-subscription/view/{id}:")
    added = _line_of(breaking_spec, "  /v2/action-session-date/view/{id}:")
    assert result.stdout.splitlines() == [
        f"{old_spec}:{removed}: error path-removed: "
        "path /v2/action-session-subscription/view/{id} removed",
        f"{breaking_spec}:{added}: info path-added: path /v2/action-session-date/view/{{id}} added",
        f"{old_spec} -> {breaking_spec}: 1 error, 0 warnings, 1 info ({len(RULES)} rules)",
    ]


def test_only_non_breaking_changes_exit_0(old_spec: Path, compatible_spec: Path) -> None:
    result = run_diff(str(old_spec), str(compatible_spec))

    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith(f"{compatible_spec}:")
    assert " info parameter-added: " in result.stdout.splitlines()[0]
    assert result.stdout.splitlines()[-1] == (
        f"{old_spec} -> {compatible_spec}: 0 errors, 0 warnings, 1 info ({len(RULES)} rules)"
    )


@pytest.mark.parametrize(
    ("fail_on", "new_fixture", "expected"),
    [
        pytest.param("never", "breaking_spec", 0, id="never-ignores-breaking"),
        pytest.param("error", "compatible_spec", 0, id="error-ignores-compatible"),
        pytest.param("error", "breaking_spec", 1, id="error-fails-on-breaking"),
        pytest.param("info", "compatible_spec", 1, id="info-fails-on-compatible"),
        pytest.param("info", "old_spec", 0, id="info-passes-identical"),
    ],
)
def test_fail_on_policy_decides_the_exit_status(
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    old_spec: Path,
    fail_on: str,
    new_fixture: str,
    expected: int,
) -> None:
    new_spec: Path = request.getfixturevalue(new_fixture)

    status, out, err = run_in_process(capsys, str(old_spec), str(new_spec), "--fail-on", fail_on)

    assert status == expected, out + err


def test_json_output_has_the_documented_stable_shape(old_spec: Path, breaking_spec: Path) -> None:
    result = run_diff(str(old_spec), str(breaking_spec), "--format", "json")

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report == {
        "format": "openapi-findings/1",
        "tool": "diff",
        "inputs": {"old": str(old_spec), "new": str(breaking_spec)},
        "rules": len(RULES),
        "summary": {"error": 1, "warning": 0, "info": 1},
        "findings": [
            {
                "rule": "path-removed",
                "severity": "error",
                "message": "path /v2/action-session-subscription/view/{id} removed",
                "file": str(old_spec),
                "line": _line_of(old_spec, "  /v2/action-session-subscription/view/{id}:"),
                "pointer": "/paths/~1v2~1action-session-subscription~1view~1{id}",
            },
            {
                "rule": "path-added",
                "severity": "info",
                "message": "path /v2/action-session-date/view/{id} added",
                "file": str(breaking_spec),
                "line": _line_of(breaking_spec, "  /v2/action-session-date/view/{id}:"),
                "pointer": "/paths/~1v2~1action-session-date~1view~1{id}",
            },
        ],
    }


def test_json_input_is_read_like_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_spec: Path
) -> None:
    as_json = tmp_path / "old.json"
    as_json.write_text(json.dumps(base_spec()), encoding="utf-8")

    status, out, _ = run_in_process(capsys, str(as_json), str(old_spec), "--format", "json")

    assert status == 0
    assert json.loads(out)["findings"] == []


def _init_repo(repo: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=Diff Test", "-c", "user.email=diff@example.invalid", *args],
            cwd=repo,
            check=True,
            capture_output=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        )

    repo.mkdir()
    git("init", "-q")
    spec_dir = repo / "openapi"
    spec_dir.mkdir()
    write_spec(spec_dir / "openapi.yaml", base_spec())
    git("add", "openapi/openapi.yaml")
    git("commit", "-q", "-m", "v1")
    changed = base_spec()
    changed["components"]["parameters"]["Force"]["required"] = True
    write_spec(spec_dir / "openapi.yaml", changed)
    git("commit", "-q", "-am", "v2: force is required")


def test_git_sources_are_read_from_the_repository_in_the_current_directory(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    _init_repo(repo)

    result = run_diff(
        "git:HEAD~1:openapi/openapi.yaml",
        "git:HEAD:openapi/openapi.yaml",
        "--format",
        "json",
        cwd=repo,
    )

    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["pointer"], f["file"]) for f in findings] == [
        ("parameter-made-required", "/components/parameters/Force", "git:HEAD:openapi/openapi.yaml")
    ]


def test_git_revision_compares_with_the_working_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _init_repo(repo)

    result = run_diff("git:HEAD:openapi/openapi.yaml", "openapi/openapi.yaml", cwd=repo)

    assert (result.returncode, result.stdout) == (
        0,
        f"git:HEAD:openapi/openapi.yaml -> openapi/openapi.yaml: clean ({len(RULES)} rules)\n",
    )


def _unreadable_inputs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("openapi: 3.0.3\npaths: {\n", encoding="utf-8")
    swagger = write_spec(tmp_path / "swagger.yaml", {"swagger": "2.0", "paths": {}})
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    dangling = base_spec()
    del dangling["components"]["schemas"]["Reference"]
    dangling_path = write_spec(tmp_path / "dangling.yaml", dangling)
    return {
        "missing-file": (str(tmp_path / "nope.yaml"), "no such file"),
        "directory": (str(tmp_path), "is a directory"),
        "bad-yaml": (str(bad_yaml), "not valid YAML at line 3"),
        "swagger-2": (str(swagger), "not an OpenAPI 3 document (swagger: '2.0')"),
        "not-a-mapping": (str(scalar), "top level is not a mapping"),
        "bad-git-rev": ("git:no-such-rev:openapi/openapi.yaml", "no-such-rev"),
        "git-without-path": ("git:HEAD", "expected git:REV:PATH"),
        "dangling-ref": (str(dangling_path), "/components/schemas/Reference leads nowhere"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing-file",
        "directory",
        "bad-yaml",
        "swagger-2",
        "not-a-mapping",
        "bad-git-rev",
        "git-without-path",
        "dangling-ref",
    ],
)
def test_unreadable_input_exits_3_with_one_line_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_spec: Path, case: str
) -> None:
    source, reason = _unreadable_inputs(tmp_path)[case]

    status, out, err = run_in_process(capsys, str(old_spec), source)

    assert (status, out) == (3, "")
    assert err.count("\n") == 1
    assert err.startswith(f"openapi diff: {source}: ")
    assert reason in err


@pytest.mark.parametrize("case", ["missing-file", "bad-git-rev"])
def test_unreadable_old_exits_3_end_to_end(tmp_path: Path, old_spec: Path, case: str) -> None:
    source, reason = _unreadable_inputs(tmp_path)[case]

    result = run_diff(source, str(old_spec))

    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"openapi diff: {source}: ")
    assert reason in result.stderr


def test_missing_new_argument_is_a_usage_error_exit_2(
    capsys: pytest.CaptureFixture[str], old_spec: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([str(old_spec)])

    assert exited.value.code == 2
    assert capsys.readouterr().err == "openapi diff: OLD and NEW are required (see --help)\n"


def test_list_rules_prints_every_rule_with_its_severity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run_in_process(capsys, "--list-rules")

    assert status == 0
    listed = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert listed == {name: rule.severity.label for name, rule in RULES.items()}


def test_removed_status_points_into_the_old_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old_spec: Path
) -> None:
    spec = base_spec()
    spec["paths"]["/v2/action-session/view/{id}"]["get"]["responses"].pop("404")
    new_spec = write_spec(tmp_path / "new.yaml", spec)

    status, out, _ = run_in_process(capsys, str(old_spec), str(new_spec), "--format", "json")

    assert status == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["pointer"] == f"{VIEW_ID}/get/responses/404"
    assert finding["file"] == str(old_spec)
    assert finding["line"] == _line_of(old_spec, "        '404':")


CLOSED_BODY = """
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /x:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, additionalProperties: false, properties: {a: {type: string}}}
      responses: {'200': {description: ok}}
"""


def test_a_closed_object_against_itself_is_no_change_even_with_fail_on_info(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "closed.yaml"
    spec.write_text(CLOSED_BODY, encoding="utf-8")

    status, out, err = run_in_process(capsys, str(spec), str(spec), "--fail-on", "info")

    assert (status, out, err) == (0, f"{spec} -> {spec}: clean ({len(RULES)} rules)\n", "")


def test_unions_nested_deeper_than_the_recursion_limit_are_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    depth = sys.getrecursionlimit()
    schemas: dict[str, Any] = {
        f"S{n}": {"anyOf": [{"$ref": f"#/components/schemas/S{n + 1}"}, {"type": "string"}]}
        for n in range(depth)
    }
    schemas[f"S{depth}"] = {"type": "integer", "maximum": 5}
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "deep", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/S0"}}
                            },
                        }
                    }
                }
            }
        },
        "components": {"schemas": schemas},
    }
    old = tmp_path / "old.json"
    old.write_text(json.dumps(spec), encoding="utf-8")
    schemas[f"S{depth}"]["maximum"] = 9
    new = tmp_path / "new.json"
    new.write_text(json.dumps(spec), encoding="utf-8")

    status, out, err = run_in_process(capsys, str(old), str(new), "--format", "json")

    assert (status, err) == (1, "")
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["response-constraint-loosened"]
