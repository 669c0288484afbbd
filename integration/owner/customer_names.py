"""Customer names and phones by (connection, provider id), read in batches for the pages that name them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import tuple_
from sqlalchemy.orm import Session

from integration.store.models import Action, MirroredCustomer
from integration.store.scoping import scoped


class CustomerNames:
    """Customer names and phones of the organization, by (connection, provider id), read only for the
    customers asked about: a company may have tens of thousands and a page names a few dozen. `load`
    reads a batch in one query; a lookup that was not loaded first reads its own row."""

    BATCH = 500  # pairs per query: two bound parameters each, well under SQLite's limit

    def __init__(self, session: Session, organization_id: int) -> None:
        self.session, self.organization_id = session, organization_id
        self.rows: dict[tuple[int, str], MirroredCustomer | None] = {}

    def load(self, keys: Iterable[tuple[int, str | None]]) -> None:
        missing = sorted({(c, p) for c, p in keys if p and (c, p) not in self.rows})
        self.rows.update(dict.fromkeys(missing))  # None until found: a customer gone from the mirror is asked once
        for start in range(0, len(missing), self.BATCH):
            for row in self.session.scalars(
                scoped(MirroredCustomer, self.organization_id).where(
                    tuple_(MirroredCustomer.connection_id, MirroredCustomer.provider_id).in_(
                        missing[start : start + self.BATCH]
                    )
                )
            ):
                self.rows[(row.connection_id, row.provider_id)] = row

    def _row(self, connection_id: int, customer_id: str | None) -> MirroredCustomer | None:
        if not customer_id:
            return None
        self.load([(connection_id, customer_id)])
        return self.rows[(connection_id, customer_id)]

    def name(self, connection_id: int, customer_id: str | None) -> str:
        row = self._row(connection_id, customer_id)
        return row.name if row else (customer_id or "—")

    def phone(self, connection_id: int, customer_id: str) -> str | None:
        row = self._row(connection_id, customer_id)
        return row.phone if row else None

    def row_id(self, connection_id: int, customer_id: str) -> int | None:
        row = self._row(connection_id, customer_id)
        return row.id if row else None


def customers_of(rows: Iterable[Action]) -> Iterator[tuple[int, str | None]]:
    """The (connection, customer) each action is about, for `CustomerNames.load`."""
    return ((row.connection_id, row.payload.get("customer_id")) for row in rows)
