"""The contract a run checks: the spec at a path, validated and read through `openapi.model`.

What the suite knows about the API (resources, paths, id fields, member kinds, read-only members,
paging) is `openapi.model.ApiModel`, the same reading the mock and the spec tools use; this module
only adds what a run needs on top: the document is valid OpenAPI 3, and every reason it cannot be
used becomes one `ConformanceError` line.
"""

from __future__ import annotations

from pathlib import Path

from openapi_spec_validator import validate

from conformance.failures import ConformanceError
from openapi.document import SpecError
from openapi.model import ApiModel, read_api, read_spec


def load_contract(path: Path) -> ApiModel:
    """Read and validate the spec at `path`; `ConformanceError` when it cannot be used."""
    try:
        spec = read_spec(path)
    except SpecError as exc:
        raise ConformanceError(f"cannot read the spec {exc}".splitlines()[0]) from exc
    if not str(spec.document.get("openapi", "")).startswith("3."):
        raise ConformanceError(f"{path} is not an OpenAPI 3 document")
    try:
        validate(spec.document)
    except Exception as exc:  # the validator raises several unrelated types
        reason = str(exc).splitlines()[0]
        raise ConformanceError(f"the spec {path} is invalid: {reason}") from exc
    try:
        return read_api(spec)
    except SpecError as exc:
        raise ConformanceError(str(exc)) from exc
