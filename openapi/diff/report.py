"""Placing the comparison's findings in their files: the line of each pointer, and the order.

The comparison works on data and names each finding's file (OLD's for what was removed, else
NEW's); this module adds the line from the document the finding points into, and sorts them as
every spec tool reports: most severe (breaking) first, then by place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from openapi.document import LocatedDocument
from openapi.findings import Finding, report_order


def place(findings: Iterable[Finding], documents: Mapping[str, LocatedDocument]) -> list[Finding]:
    """`findings` once each, with lines from the document their file names, sorted."""
    placed = {
        dataclasses.replace(finding, line=documents[finding.file].line_of(finding.pointer))
        for finding in set(findings)
    }
    return sorted(placed, key=report_order)
