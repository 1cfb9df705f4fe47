"""The domain's exceptions: what the rules refuse, independent of HTTP.

`mock_server.error_responses` translates each into the brief's error shape for its status.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of everything the rules refuse."""


class RecordNotFound(DomainError):
    """No record of this resource has this id."""

    def __init__(self, entity: str, record_id: str, *, api: bool = True) -> None:
        # An API record: Yii2's own wording for a model that findModel() cannot load.
        super().__init__(
            f"Object not found: {record_id}" if api else f'{entity} "{record_id}" does not exist.'
        )


class IdTaken(DomainError):
    """A client-chosen id is already used by another record."""

    def __init__(self, entity: str, record_id: str) -> None:
        super().__init__(f'The id "{record_id}" is already taken by another {entity}.')


@dataclass(frozen=True)
class Problem:
    """One validation problem: the request member at fault and what is wrong with it."""

    field: str
    message: str


def label(field: str) -> str:
    """A member's label as Yii2 generates attribute labels: `filter.validity_unit` -> "Validity Unit"."""
    last = field.rsplit(".", 1)[-1]
    return " ".join(word.capitalize() for word in last.replace("-", "_").split("_") if word)


class InvalidRecord(DomainError):
    """The request is well-formed but breaks the API's rules; one problem per member."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Related:
    """A record that depends on one being deleted."""

    entity: str
    id: str


class DeleteBlocked(DomainError):
    """A delete without force of a record that has dependents; nothing was deleted."""

    def __init__(self, entity: str, record_id: str, related: list[Related]) -> None:
        super().__init__(
            f'{entity} "{record_id}" has {len(related)} related records; '
            "delete them first or repeat the request with force=true."
        )
        self.related = related
