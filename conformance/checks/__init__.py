"""The semantic checks, one module per concern; importing this package registers them all.

The import order is the run order: reads first, then writes and deletes on the run's own data.
"""

from __future__ import annotations

# isort: off
from conformance.checks import pagination, index_body, filtering, sorting, history  # noqa: I001
from conformance.checks import writes, records, deletes, errors, statuses

# isort: on

__all__ = [
    "deletes",
    "errors",
    "filtering",
    "history",
    "index_body",
    "pagination",
    "records",
    "sorting",
    "statuses",
    "writes",
]
