"""The owner's chosen company: every dashboard read narrows to it, after `scoped` has narrowed to the organization."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

S = TypeVar("S", bound=Select[*tuple[Any, ...]])  # a select of any columns


def of_company(statement: S, column: Any, connection_id: int | None) -> S:
    """`statement` narrowed to one company's rows (`column` holds the connection id); all of them for None."""
    return statement if connection_id is None else statement.where(column == connection_id)
