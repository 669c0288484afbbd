"""Run a parsed `Query` over rendered entities (pure): filter, sort, page, or count.

Typed comparison follows the field kinds in `schema`; a literal that cannot be read as its
field's kind, LIKE on a non-text field, or a field that is not filterable is a `QueryError`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.quickbooks.sandbox.query import Condition, Query
from connectors.quickbooks.sandbox.schema import NAME_LIST, EntitySpec


class QueryError(ValueError):
    """A well-formed statement the entity cannot answer (unknown field, wrong literal type)."""


def field_value(row: Mapping[str, Any], path: str, kind: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):  # refs and email addresses compare by their inner value
        value = value.get("value") if kind == "ref" else value.get("Address")
    return value


def _as_kind(value: Any, kind: str, tz: dt.tzinfo, *, literal: bool) -> Any:
    """Read `value` as the field kind; None when a stored value is absent."""
    if value is None:
        return None
    try:
        if kind == "number":
            return Decimal(str(value))
        if kind == "date":
            return dt.date.fromisoformat(str(value)[:10])
        if kind == "datetime":
            return parse_instant(str(value), tz)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError(value)
        if kind in ("id", "ref") and isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise ValueError(value)
            return str(int(value))
        if isinstance(value, bool):
            raise ValueError(value)
        return str(value)
    except (ValueError, InvalidOperation) as exc:
        what = "literal" if literal else "value"
        raise QueryError(f"{what} {value!r} is not a valid {kind}") from exc


def parse_instant(text: str, tz: dt.tzinfo) -> dt.datetime:
    """A date or date-time as QuickBooks accepts it; without an offset it is company-local."""
    if len(text) == 10:
        instant = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    else:
        instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=tz)


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part == "%" else re.escape(part) for part in re.split("(%)", pattern)),
                      re.IGNORECASE | re.DOTALL)


def _predicate(condition: Condition, kind: str, tz: dt.tzinfo) -> Callable[[Any], bool]:
    op = condition.op
    if op == "LIKE":
        if kind not in ("string", "enum", "email", "ref", "id"):
            raise QueryError(f"LIKE cannot be used on {condition.field}")
        regex = _like(str(condition.value))
        return lambda v: v is not None and regex.fullmatch(str(v)) is not None
    if kind == "bool" and op not in ("=", "IN"):
        raise QueryError(f"{condition.field} takes only = or IN")
    if op == "IN":
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        wanted = {_as_kind(v, kind, tz, literal=True) for v in values}
        return lambda v: v is not None and v in wanted
    literal = _as_kind(condition.value, kind, tz, literal=True)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
    }
    check = compare[op]
    return lambda v: v is not None and check(v, literal)


def _sort_key(value: Any, kind: str) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if kind == "id":
        return (1, int(value)) if str(value).isdigit() else (2, str(value))
    return (1, value)


def run_query(query: Query, spec: EntitySpec, rows: Sequence[Mapping[str, Any]], tz: dt.tzinfo) -> dict[str, Any]:
    """The `QueryResponse` object for `query` over `rows` (all entities of `spec`)."""
    conditions = list(query.where)
    for condition in conditions:
        if condition.field not in spec.filterable:
            raise QueryError(f"property {condition.field} is not queryable on {spec.name}")
    if spec.kind == NAME_LIST and not any(c.field == "Active" for c in conditions):
        conditions.append(Condition("Active", "=", True))  # name lists answer active rows only by default
    for order in query.order_by:
        if order.field not in spec.filterable:
            raise QueryError(f"property {order.field} cannot be used to order {spec.name}")

    checks = [(c.field, spec.filterable[c.field], _predicate(c, spec.filterable[c.field], tz)) for c in conditions]
    selected = []
    for row in rows:
        if all(check(_as_kind(field_value(row, field, kind), kind, tz, literal=False)) for field, kind, check in checks):
            selected.append(row)
    if query.count:
        return {"totalCount": len(selected)}

    keys = query.order_by or ()
    ordered = sorted(selected, key=lambda r: _sort_key(field_value(r, "Id", "id"), "id"))
    for order in reversed(keys):  # stable sorts, last key first
        kind = spec.filterable[order.field]
        ordered.sort(key=lambda r: _sort_key(_as_kind(field_value(r, order.field, kind), kind, tz, literal=False), kind),
                     reverse=order.descending)
    page = ordered[query.start_position - 1: query.start_position - 1 + query.max_results]
    if not page:
        return {}
    return {spec.name: list(page), "startPosition": query.start_position, "maxResults": len(page)}

