"""Tests for `openapi.specsource`: reading a spec from a file or `git:REV:PATH`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from openapi.document import SpecError, parse_located
from openapi.specsource import load_source, read_text, require_openapi3

MINIMAL = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Spec Test", "-c", "user.email=spec@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    )


def test_file_source_is_read_relative_to_cwd(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(MINIMAL, encoding="utf-8")

    assert read_text("spec.yaml", cwd=tmp_path) == MINIMAL


def test_git_source_reads_the_committed_version_not_the_working_tree(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "spec.yaml").write_text(MINIMAL, encoding="utf-8")
    _git(tmp_path, "add", "spec.yaml")
    _git(tmp_path, "commit", "-q", "-m", "spec")
    (tmp_path / "spec.yaml").write_text("edited: true\n", encoding="utf-8")

    assert load_source("git:HEAD:spec.yaml", cwd=tmp_path).data["openapi"] == "3.0.3"


def test_git_source_with_unknown_path_names_it(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "spec.yaml").write_text(MINIMAL, encoding="utf-8")
    _git(tmp_path, "add", "spec.yaml")
    _git(tmp_path, "commit", "-q", "-m", "spec")

    with pytest.raises(SpecError, match=r"^git:HEAD:other\.yaml: .*other\.yaml"):
        read_text("git:HEAD:other.yaml", cwd=tmp_path)


@pytest.mark.parametrize("source", ["git:", "git:HEAD", "git::spec.yaml", "git:HEAD:"])
def test_malformed_git_source_says_what_is_expected(source: str) -> None:
    with pytest.raises(SpecError, match="expected git:REV:PATH"):
        read_text(source)


def test_json_and_yaml_texts_parse_to_the_same_document() -> None:
    as_json = '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}'

    assert parse_located(as_json, "a.json").data == parse_located(MINIMAL, "a.yaml").data


def test_dates_stay_strings_in_yaml_as_in_json() -> None:
    text = MINIMAL + "x-released: 2024-01-10\n"

    assert parse_located(text, "a.yaml").data["x-released"] == "2024-01-10"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("swagger: '2.0'\npaths: {}\n", "swagger: '2.0'", id="swagger-2"),
        pytest.param("openapi: 2.0\npaths: {}\n", "openapi: 2.0", id="openapi-number"),
        pytest.param("info: {}\n", "no 'openapi' member", id="no-openapi"),
        pytest.param("openapi: 3.0.3\npaths: []\n", "'paths' is not a mapping", id="paths-list"),
        pytest.param("- 1\n", "top level is not a mapping", id="list"),
        pytest.param("a: [1\n", "not valid YAML", id="bad-yaml"),
    ],
)
def test_text_that_is_not_an_openapi_3_document_is_refused(text: str, reason: str) -> None:
    with pytest.raises(SpecError) as raised:
        require_openapi3(parse_located(text, "spec.yaml"))

    message = str(raised.value)
    assert message.startswith("spec.yaml: ")
    assert reason in message
    assert "\n" not in message
