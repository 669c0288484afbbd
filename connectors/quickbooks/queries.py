"""QuickBooks query text, built by pure functions so tests can pin it exactly.

python-quickbooks' `filter()` escapes `'` but not `\\`, so a name like `O'Brien\\Sons` comes out as
`'O\\'Brien\\Sons'`, where `\\S` is an escape of its own. Literals here escape the backslash first,
then the quote.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_PAGE = 1000  # QuickBooks' MAXRESULTS ceiling


def literal(value: str) -> str:
    """A single-quoted query literal with `\\` and `'` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def select(
    entity: str,
    where: Sequence[str] = (),
    *,
    order_by: str | None = None,
    start: int = 1,
    max_results: int = MAX_PAGE,
) -> str:
    """`SELECT * FROM entity [WHERE a AND b] [ORDERBY f] STARTPOSITION s MAXRESULTS m`."""
    if not 1 <= max_results <= MAX_PAGE:
        raise ValueError(f"MAXRESULTS must be 1..{MAX_PAGE}, got {max_results}")
    if start < 1:
        raise ValueError(f"STARTPOSITION is 1-based, got {start}")
    parts = [f"SELECT * FROM {entity}"]
    if where:
        parts.append("WHERE " + " AND ".join(where))
    if order_by:
        parts.append(f"ORDERBY {order_by}")
    parts.append(f"STARTPOSITION {start} MAXRESULTS {max_results}")
    return " ".join(parts)


def updated_since(entity: str, since: str | None, start: int, page_size: int) -> str:
    """One page of `entity` changed at or after `since` (everything when None), oldest change first."""
    where = [f"MetaData.LastUpdatedTime >= {literal(since)}"] if since else []
    return select(entity, where, order_by="MetaData.LastUpdatedTime", start=start, max_results=page_size)


def by_ids(entity: str, ids: Sequence[str]) -> str:
    return select(entity, [f"Id IN ({', '.join(literal(i) for i in ids)})"], max_results=max(1, len(ids)))


def by_name(entity: str, field: str, name: str) -> str:
    return select(entity, [f"{field} = {literal(name)}"], max_results=10)


def of_customer(entity: str, customer_id: str) -> str:
    """One customer's records of `entity` (a customer's credit memos or payments are few)."""
    return select(entity, [f"CustomerRef = {literal(customer_id)}"])
