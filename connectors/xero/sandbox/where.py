"""Xero's `where` and `order` parameters: the common C#-like filter forms, run over plain rows.

Supported: comparisons `field op value` joined by `AND` / `&&`, where op is one of
`== != > >= < <=` (and `=` for `==`), field a dotted name (`Contact.ContactID`), and value a
"string", a number, `true`/`false`, `null`, `DateTime(y,m,d[,h,m,s])` or `Guid("...")`.
Anything else (OR, method calls such as `.Contains`, parentheses) is refused with a clear message:
the API answers 400, never a silently wider result. Rows are dicts from field name to a Python
value (str, Decimal, bool, date, datetime, None); GUIDs compare case-insensitively.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


class WhereError(ValueError):
    """A filter or order the sandbox cannot run; the message is shown to the client."""


@dataclass(frozen=True)
class Guid:
    value: str


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<call>(?:DateTime|Guid)\s*\([^)]*\))
  | (?P<op>==|!=|>=|<=|&&|\|\||=|>|<)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<other>\S)
)""",
    re.VERBOSE,
)

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        out.append((kind, match.group(kind)))
    return out


def _literal(kind: str, text: str) -> Any:
    if kind == "string":
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if kind == "number":
        return Decimal(text)
    if kind == "call":
        name, _, args = text.partition("(")
        args = args.rstrip(")").strip()
        if name.strip() == "Guid":
            value = args.strip('"')
            if not re.fullmatch(r"[0-9a-fA-F-]{36}", value):
                raise WhereError(f"Guid({args}) is not a GUID")
            return Guid(value.lower())
        try:
            parts = [int(p) for p in args.split(",")]
            if not 3 <= len(parts) <= 6:
                raise ValueError(f"{len(parts)} parts")
            year, month, day = parts[:3]
            if len(parts) == 3:
                return dt.date(year, month, day)
            hour, minute, second = (*parts[3:], 0, 0)[:3]
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        except (ValueError, TypeError) as exc:
            raise WhereError(f"DateTime({args}) is not a valid date") from exc
    if kind == "word" and text in ("true", "false"):
        return text == "true"
    if kind == "word" and text == "null":
        return None
    raise WhereError(f"expected a value, found {text!r}")


def parse_where(text: str) -> list[Condition]:
    tokens = _tokens(text)
    conditions: list[Condition] = []
    i = 0
    while i < len(tokens):
        if len(tokens) - i < 3:
            raise WhereError(f"incomplete condition at {' '.join(t for _, t in tokens[i:])!r}")
        (fk, field), (ok, op), (vk, vt) = tokens[i : i + 3]
        if fk != "word" or field in ("AND", "OR", "and", "or"):
            raise WhereError(f"expected a field name, found {field!r}")
        if ok != "op" or op in ("&&", "||"):
            raise WhereError(
                f"expected a comparison after {field}, found {op!r}"
                + (" (method calls are not supported by the sandbox)" if op == "(" else "")
            )
        conditions.append(Condition(field, "==" if op == "=" else op, _literal(vk, vt)))
        i += 3
        if i < len(tokens):
            kind, joiner = tokens[i]
            if joiner in ("OR", "or", "||"):
                raise WhereError("OR is not supported by the sandbox: use the Statuses, IDs or ContactIDs parameters")
            if joiner not in ("AND", "and", "&&"):
                raise WhereError(f"expected AND or && after a condition, found {joiner!r}")
            i += 1
            if i == len(tokens):
                raise WhereError("the filter ends with AND")
    if not conditions:
        raise WhereError("the filter is empty")
    return conditions


def _coerce(field: str, actual: Any, wanted: Any) -> tuple[Any, Any]:
    if wanted is None or actual is None:
        return actual, wanted
    if isinstance(wanted, Guid):
        return (str(actual).lower(), wanted.value)
    if isinstance(wanted, bool) != isinstance(actual, bool):
        raise WhereError(f"{field} cannot be compared with {wanted!r}")
    if isinstance(wanted, Decimal) and isinstance(actual, (int, Decimal)) and not isinstance(actual, bool):
        return Decimal(actual), wanted
    if isinstance(wanted, dt.date) and isinstance(actual, dt.date):
        if isinstance(actual, dt.datetime) and not isinstance(wanted, dt.datetime):
            wanted = dt.datetime.combine(wanted, dt.time(), dt.UTC)
        elif isinstance(wanted, dt.datetime) and not isinstance(actual, dt.datetime):
            actual = dt.datetime.combine(actual, dt.time(), dt.UTC)
        return actual, wanted
    if isinstance(wanted, str) and isinstance(actual, str):
        return actual, wanted
    raise WhereError(f"{field} cannot be compared with {wanted!r}")


def matcher(text: str, fields: Sequence[str]) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over rows for the filter `text`; WhereError names what is not supported."""
    conditions = parse_where(text)
    for condition in conditions:
        if condition.field not in fields:
            raise WhereError(f"No property or field '{condition.field}' exists in the sandbox's filterable fields")

    def test(row: Mapping[str, Any]) -> bool:
        for condition in conditions:
            actual, wanted = _coerce(condition.field, row.get(condition.field), condition.value)
            if (actual is None or wanted is None) and condition.op not in ("==", "!="):
                return False
            if not _OPS[condition.op](actual, wanted):
                return False
        return True

    return test


def sort_rows(rows: list[Mapping[str, Any]], order: str, fields: Sequence[str]) -> list[Mapping[str, Any]]:
    """Rows sorted by `order` ("InvoiceNumber ASC, Date DESC"); None sorts first."""
    keys = []
    for part in order.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise WhereError(f"order must be 'Field [ASC|DESC]', got {part.strip()!r}")
        if words[0] not in fields:
            raise WhereError(f"No property or field '{words[0]}' exists in the sandbox's sortable fields")
        keys.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    ordered = list(rows)
    for name, descending in reversed(keys):
        ordered.sort(key=lambda row: (row.get(name) is not None, row.get(name)), reverse=descending)
    return ordered
