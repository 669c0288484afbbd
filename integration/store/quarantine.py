"""Values the database would refuse, found before a page is written.

PostgreSQL refuses a NUL byte in text (and in a JSON string), text that is not valid Unicode, a
string longer than its column, and a number outside its column's range; SQLite stores all of them.
One such value in a provider's record must not stop the page it arrived in, nor every later cycle
that reads the same page again: the sync keeps that record aside with the reason (see
`integration.cycle.sync`) and writes the rest. Checking here, against the columns' own types, makes both
databases behave the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, Numeric, SmallInteger, String, Table

Check = Callable[[Any], "str | None"]


def refused_value(table: Table, row: Mapping[str, Any]) -> str | None:
    """Why the database would refuse `row` (naming the column, never echoing the value), or None."""
    for name, check in _checks(table):
        value = row.get(name)
        if value is not None:
            problem = check(value)
            if problem:
                return f"{name} {problem}, which the database cannot store"
    return None


@functools.cache
def _checks(table: Table) -> tuple[tuple[str, Check], ...]:
    """One check per column whose type can refuse a value, built once per table: a page of 1,000
    rows is checked on every sync, so the per-row work is a few comparisons."""
    checks: list[tuple[str, Check]] = []
    for column in table.c:
        check = _check_for(column.type)
        if check is not None:
            checks.append((column.name, check))
    return tuple(checks)


def _check_for(kind: Any) -> Check | None:
    if isinstance(kind, JSON):
        return lambda value: "holds a NUL byte or text that is not valid Unicode" if _json_unstorable(value) else None
    if isinstance(kind, String):  # Text included: a length of None
        return functools.partial(_text_problem, length=kind.length)
    if isinstance(kind, Numeric) and kind.precision is not None:
        whole_digits = kind.precision - (kind.scale or 0)
        return functools.partial(_number_problem, bound=Decimal(10) ** whole_digits, whole_digits=whole_digits)
    if isinstance(kind, Integer):
        limit = 2**63 if isinstance(kind, BigInteger) else 2**15 if isinstance(kind, SmallInteger) else 2**31
        return lambda value: (
            None if not isinstance(value, int) or -limit <= value < limit else "is out of the integer range"
        )
    return None


def _text_problem(value: Any, length: int | None) -> str | None:
    # The common case in three cheap tests: plain ASCII text, no NUL, within the column.
    if not isinstance(value, str) or (
        "\x00" not in value and value.isascii() and (length is None or len(value) <= length)
    ):
        return None
    if "\x00" in value:
        return "holds a NUL byte"
    if not _encodable(value):
        return "holds text that is not valid Unicode (a lone surrogate)"
    if length is not None and len(value) > length:
        return f"is longer than {length} characters"
    return None


def _number_problem(value: Any, bound: Decimal, whole_digits: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        return None
    if isinstance(value, Decimal) and not value.is_finite():
        return "is not a finite number"
    return None if -bound < value < bound else f"is out of range (more than {whole_digits} whole digits)"


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
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
