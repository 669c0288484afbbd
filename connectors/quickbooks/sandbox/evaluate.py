"""Run a parsed `Query` over entities (pure): filter, sort, page, or count.

Typed comparison follows the field kinds in `schema`; a literal that cannot be read as its
field's kind, LIKE on a non-text field, or a field that is not filterable is a `QueryError`.
Rows are whatever the caller stores: a `value` function reads a field of one, `render` turns the
page's rows into what is answered. Rows already in the query's order are scanned only until the
page is full, so a page costs what it holds, not what the company holds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from connectors.quickbooks.sandbox.query import Condition, Query
from connectors.quickbooks.sandbox.schema import NAME_LIST, EntitySpec

ValueOf = Callable[[Any, str, str], Any]  # (row, field path, field kind) -> the raw value


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
            return value if isinstance(value, dt.datetime) else parse_instant(str(value), tz)
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
    return re.compile(
        "".join(".*" if part == "%" else re.escape(part) for part in re.split("(%)", pattern)),
        re.IGNORECASE | re.DOTALL,
    )


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
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    check = compare[op]
    return lambda v: v is not None and check(v, literal)


def _sort_key(value: Any, kind: str) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if kind == "id":
        return (1, int(value)) if str(value).isdigit() else (2, str(value))
    return (1, value)


def order_key(row: Any, path: str, kind: str, tz: dt.tzinfo, value: ValueOf = field_value) -> tuple[int, Any]:
    """How `row` sorts on one field (absent values first; numeric ids as numbers)."""
    return _sort_key(_as_kind(value(row, path, kind), kind, tz, literal=False), kind)


def literal_key(condition: Condition, kind: str, tz: dt.tzinfo) -> tuple[int, Any]:
    """Where a comparison's literal sorts among `order_key`s of the same field."""
    return _sort_key(_as_kind(condition.value, kind, tz, literal=True), kind)


def checked_conditions(query: Query, spec: EntitySpec) -> list[Condition]:
    """The query's conditions, each on a filterable field, plus name lists' implied `Active = true`;
    raises QueryError for a field that cannot be filtered or ordered by."""
    conditions = list(query.where)
    for condition in conditions:
        if condition.field not in spec.filterable:
            raise QueryError(f"property {condition.field} is not queryable on {spec.name}")
    if spec.kind == NAME_LIST and not any(c.field == "Active" for c in conditions):
        conditions.append(Condition("Active", "=", True))  # name lists answer active rows only by default
    for order in query.order_by:
        if order.field not in spec.filterable:
            raise QueryError(f"property {order.field} cannot be used to order {spec.name}")
    return conditions


def run_query(
    query: Query,
    spec: EntitySpec,
    rows: Iterable[Any],
    tz: dt.tzinfo,
    *,
    value: ValueOf = field_value,
    render: Callable[[Any], Mapping[str, Any]] = lambda row: row,
    in_order: bool = False,
) -> dict[str, Any]:
    """The `QueryResponse` object for `query` over `rows` (all entities of `spec`, or, when `in_order`,
    every row that could match, already in the query's order)."""
    checks = [
        (c.field, spec.filterable[c.field], _predicate(c, spec.filterable[c.field], tz))
        for c in checked_conditions(query, spec)
    ]

    def matches(row: Any) -> bool:
        return all(check(_as_kind(value(row, field, kind), kind, tz, literal=False)) for field, kind, check in checks)

    if query.count:
        return {"totalCount": sum(1 for row in rows if matches(row))}
    end = query.start_position - 1 + query.max_results
    if in_order:
        ordered = list(islice((row for row in rows if matches(row)), end))
    else:
        ordered = sorted((row for row in rows if matches(row)), key=lambda r: order_key(r, "Id", "id", tz, value))
        for order in reversed(query.order_by):  # stable sorts, last key first
            kind = spec.filterable[order.field]
            ordered.sort(key=lambda r: order_key(r, order.field, kind, tz, value), reverse=order.descending)
    page = [render(row) for row in ordered[query.start_position - 1 : end]]
    if not page:
        return {}
    return {spec.name: page, "startPosition": query.start_position, "maxResults": len(page)}
