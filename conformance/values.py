"""How the suite compares field values where the contract leaves servers room.

Owns equality (dates and date-times compare as instants, strings may match case-insensitively
when the database collation does) and order (nulls first ascending; strings may be ordered by
code point, case-insensitively or accent-insensitively; date-times as instants). Checks never compare raw JSON values
themselves.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from openapi.model import FieldKind


def _instant(value: str) -> datetime | str:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


def same(kind: FieldKind, a: Any, b: Any) -> bool:
    """Whether a stored value equals what was sent (date-times as instants)."""
    if isinstance(a, str) and isinstance(b, str) and kind.kind == "date-time":
        return _instant(a) == _instant(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def matches(kind: FieldKind, value: Any, wanted: Any, *, loose: bool) -> bool:
    """Whether a listed value satisfies an equality filter (`loose`: a `_ci` collation)."""
    if same(kind, value, wanted):
        return True
    if loose and isinstance(value, str) and isinstance(wanted, str) and kind.kind == "string":
        return _unaccented(value) == _unaccented(wanted)
    return False


def _unaccented(value: str) -> str:
    """Case- and accent-insensitive form, as `*_unicode_ci` collations compare."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(kind: FieldKind, fold: int) -> Callable[[Any], Any]:
    def key(value: Any) -> Any:
        if kind.kind == "date-time" and isinstance(value, str):
            instant = _instant(value)
            return (
                instant.timestamp()
                if isinstance(instant, datetime) and instant.tzinfo
                else str(value)
            )
        if fold == 1 and isinstance(value, str):
            return value.casefold()
        if fold == 2 and isinstance(value, str):
            return _unaccented(value)
        return value

    return key


def order_problem(kind: FieldKind, values: Sequence[Any], descending: bool) -> str | None:
    """Why `values` are not in the contract's order, or None when some valid collation explains them.

    Ascending puts nulls first (descending: at either end); strings are accepted in code-point or in
    case-insensitive order.
    """
    nulls = [v is None for v in values]
    # The brief fixes nulls first ascending; descending it is silent, so either end will do.
    allowed = (
        [sorted(nulls, reverse=True)]
        if not descending
        else [sorted(nulls), sorted(nulls, reverse=True)]
    )
    if nulls not in allowed:
        where = "first ascending" if not descending else "together at one end descending"
        return f"nulls must come {where}"
    present = [v for v in values if v is not None]
    # 0: code points, 1: case-insensitive, 2: case- and accent-insensitive.
    folds = (0, 1, 2) if kind.kind == "string" else (0,)
    for fold in folds:
        key = _key(kind, fold)
        try:
            keys = [key(v) for v in present]
            pairs = list(zip(keys, keys[1:], strict=False))
            if all((b <= a) if descending else (a <= b) for a, b in pairs):
                return None
        except TypeError:
            return "values of mixed types cannot be ordered"
    for a, b in zip(present, present[1:], strict=False):
        ka, kb = _key(kind, folds[-1])(a), _key(kind, folds[-1])(b)
        if (ka < kb) if descending else (kb < ka):
            return f"{a!r} is listed before {b!r}"
    return "the values are out of order"
