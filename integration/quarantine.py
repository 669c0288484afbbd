"""Values the database would refuse, found before a page is written.

PostgreSQL refuses a NUL byte in text (and in a JSON string), a string longer than its column, and
a number outside its column's range; SQLite stores all of them. One such value in a provider's
record must not stop the page it arrived in, nor every later cycle that reads the same page again:
the sync keeps that record aside with the reason (see `integration.sync`), and writes the rest.
Checking here, against the columns' own types, makes both databases behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Integer, Numeric, String, Table

_INTEGER_RANGE = {"SmallInteger": 2**15, "Integer": 2**31, "BigInteger": 2**63}


def refused_value(table: Table, row: Mapping[str, Any]) -> str | None:
    """Why the database would refuse `row` (naming the column, never echoing the value), or None."""
    for name, value in row.items():
        if value is None or name not in table.c:
            continue
        problem = _refused(table.c[name].type, value)
        if problem:
            return f"{name} {problem}, which the database cannot store"
    return None


def _refused(kind: Any, value: Any) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "holds a NUL byte"
        if not _encodable(value):
            return "holds text that is not valid Unicode (a lone surrogate)"
        length = getattr(kind, "length", None)
        if isinstance(kind, String) and length is not None and len(value) > length:
            return f"is longer than {length} characters"
        return None
    if isinstance(kind, JSON):
        return "holds a NUL byte or text that is not valid Unicode" if _json_unstorable(value) else None
    if isinstance(kind, Numeric) and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return _numeric_out_of_range(kind, Decimal(value))
    if isinstance(kind, Integer) and isinstance(value, int):
        limit = _INTEGER_RANGE.get(type(kind).__name__, 2**31)
        return None if -limit <= value < limit else "is out of the integer range"
    return None


def _numeric_out_of_range(kind: Numeric, value: Decimal) -> str | None:
    if not value.is_finite():
        return "is not a finite number"
    if kind.precision is None:
        return None
    whole_digits = kind.precision - (kind.scale or 0)
    return None if abs(value) < Decimal(10) ** whole_digits else f"is out of range (more than {whole_digits} whole digits)"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> bool:
    """Whether the database can hold `text` at all (no NUL, valid Unicode)."""
    return "\x00" not in text and _encodable(text)


def _json_unstorable(value: Any) -> bool:
    """Whether any string in the JSON value holds a NUL or cannot be stored as UTF-8."""
    if isinstance(value, str):
        return not storable(value)
    if isinstance(value, Mapping):
        return any(_json_unstorable(k) or _json_unstorable(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_json_unstorable(item) for item in value)
    return False


def printable(text: str | None, limit: int = 64) -> str | None:
    """A provider's text safe to store and show: NULs spelled out, cut to the column's length."""
    if text is None:
        return None
    spelled = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return spelled[:limit]
