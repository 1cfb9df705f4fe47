"""The diff benchmark's generated documents are what it claims, and `diff` is exact on them.

The benchmark itself (timings, openapi-diff) is `make bench-diff`; here a smaller document from the
same generator proves the comparison finds exactly the one change, nothing between a document and
its copy, and that the generator is deterministic and union-heavy.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from openapi.diff import BREAKING, NON_BREAKING, diff_specs

BENCH = Path(__file__).resolve().parents[2] / "bench" / "diff_bench.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("diff_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclass looks its module up by name while the module loads.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_the_generator_is_deterministic_and_union_heavy(bench: ModuleType) -> None:
    first = bench.generate_spec(13, 62)

    assert json.dumps(first) == json.dumps(bench.generate_spec(13, 62))
    assert json.dumps(first) != json.dumps(bench.generate_spec(14, 62))
    assert bench.count_unions(first) >= 490
    assert len(json.dumps(first, indent=1)) >= 1_900_000


def test_diff_finds_exactly_the_one_change_in_a_generated_spec(bench: ModuleType) -> None:
    resources = 20
    spec = bench.generate_spec(7, resources)
    changed = bench.one_change(spec, resources)
    pointer = "/components/schemas/Resource10TrainingData/allOf/0/properties/kind/enum"

    changes = diff_specs(spec, changed)

    # The variant is sent (create, update) and returned: one finding a side.
    assert {(c.rule, c.severity, c.pointer, c.file) for c in changes} == {
        ("response-enum-widened", BREAKING, pointer, "NEW"),
        ("request-enum-widened", NON_BREAKING, pointer, "NEW"),
    }


def test_diff_finds_nothing_between_a_generated_spec_and_its_copy(bench: ModuleType) -> None:
    spec = bench.generate_spec(7, 20)

    assert diff_specs(spec, copy.deepcopy(spec)) == []
