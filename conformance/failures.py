"""The suite's exceptions and the record of one failure.

`ConformanceError` means the run could not be made (exit 2); `CheckFailure` is an `AssertionError`
whose first line is the short title of the property that does not hold; `Finding` is what the
report and the JUnit file show for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.client import Exchange


class ConformanceError(Exception):
    """The run could not be made: bad options, invalid spec, unreachable server."""


class CheckFailure(AssertionError):
    """A property of the contract does not hold; `str()` starts with the title."""

    def __init__(self, title: str, detail: str, exchange: Exchange | None = None) -> None:
        super().__init__(f"{title}\n{detail}")
        self.title = title
        self.detail = detail
        self.exchange = exchange


@dataclass
class Finding:
    """One failure as reported: title, the contract clause it breaks, and its evidence."""

    check: str
    title: str
    clause: str
    detail: str
    request: str = ""
    response: str = ""
    curl: str = ""
    extra: list[str] = field(default_factory=list)
    # The spec node whose constraint the failure shows broken, as a JSON pointer, when known
    # (Schemathesis' coverage phase says it); a guessed node makes the finding a warning.
    pointer: str = ""
