"""The mirror sync: connector pages into the local mirror, one transaction per page.

Each page's upsert and its cursor advance commit together, so a crash anywhere resumes from the
last committed page: a page is either stored with its cursor or not at all, and the connector's
cursors are built so that re-reading never skips (see connectors/quickbooks/stream.py). Upserts are
bulk `INSERT … ON CONFLICT DO UPDATE` (PostgreSQL and SQLite), guarded so an older copy of a row
never overwrites a newer one. Deletions set `deleted` (and an invoice's status to `deleted`, balance
0); voids arrive as ordinary updates with status `voided`.

`SyncRequests` is where webhooks leave "this entity changed" for the targeted refresh
(integration/cycle/targeted_refresh.py) to pick up.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Connector, Credit, Customer, Invoice, Page, Payment, PaymentTerms, Rejected, SyncRequest
from integration.store.db import transaction
from integration.store.models import (
    ActivityEntry,
    Connection,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    SyncCursor,
)
from integration.store.postal import address_json
from integration.store.quarantine import printable, refused_value, storable

ENTITIES = ("customer", "invoice", "payment")  # customers first: invoices refer to them
# The provider's credit entities (`Connector.credit_entities`) follow these, into the credits table.
CREDIT_ENTITIES = ("credit_note", "overpayment", "prepayment", "credit_memo")
PAGE_SIZE = 1000
REJECTED_KIND = "record_not_synced"


class SyncProgress(Protocol):
    """Told as the sync goes (integration/cycle/progress.py: CycleProgress)."""

    def entity(self, entity: str) -> None: ...

    def page(self, entity: str, rows: int) -> None: ...


@dataclass
class SyncResult:
    pages: int = 0
    upserted: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


def sync_connection(
    sessions: sessionmaker[Session],
    connection_id: int,
    connector: Connector,
    now: dt.datetime,
    entities: Sequence[str] | None = None,
    page_size: int = PAGE_SIZE,
    progress: SyncProgress | None = None,
) -> SyncResult:
    """Bring the mirror of one connection up to date with the provider, page by page (`entities`:
    all of them, the connector's credit entities included, unless named), telling `progress`."""
    if now.tzinfo is None:
        raise ValueError("sync_connection needs a timezone-aware `now`")
    if entities is None:
        entities = (*ENTITIES, *getattr(connector, "credit_entities", ()))
    unknown = set(entities) - set(_TABLES)
    if unknown:
        raise ValueError(f"cannot mirror {sorted(unknown)}; known: {list(_TABLES)}")
    result = SyncResult()
    for entity in entities:
        if progress is not None:
            progress.entity(entity)
        with transaction(sessions) as session:
            cursor = session.scalar(
                select(SyncCursor.cursor).where(SyncCursor.connection_id == connection_id, SyncCursor.entity == entity)
            )
        for page in connector.changes(SyncRequest(entity, cursor, page_size, now)):
            try:
                upserted, deleted, rejected = _write_page(sessions, connection_id, page, now)
            except DataError:
                # A value the checks did not foresee and the database refused: the page again, each
                # row on its own, so only the refused ones are kept aside.
                upserted, deleted, rejected = _write_page(sessions, connection_id, page, now, one_by_one=True)
            result.pages += 1
            result.upserted[entity] = result.upserted.get(entity, 0) + upserted
            result.deleted[entity] = result.deleted.get(entity, 0) + deleted
            if rejected:
                result.rejected[entity] = result.rejected.get(entity, 0) + rejected
            if progress is not None:
                progress.page(entity, upserted)
    with transaction(sessions) as session:
        session.execute(update(Connection).where(Connection.id == connection_id).values(last_sync_at=now))
    return result


def _write_page(
    sessions: sessionmaker[Session], connection_id: int, page: Page, now: dt.datetime, *, one_by_one: bool = False
) -> tuple[int, int, int]:
    """The page's rows, deletions, rejections and cursor in one transaction: (upserted, deleted, rejected)."""
    with transaction(sessions) as session:
        upserted, quarantined = _upsert(session, connection_id, page, one_by_one)
        deleted = _mark_deleted(session, connection_id, page)
        rejected = (*page.rejected, *quarantined)
        _tell_rejected(session, connection_id, rejected, now)
        _store_cursor(session, connection_id, page.entity, page.cursor, now)
    return upserted, deleted, len(rejected)


# --- rows ------------------------------------------------------------------------------------


def _customer_row(record: Customer) -> dict[str, Any]:
    return {
        "provider_id": record.provider_id,
        "name": record.name,
        "email": record.email,
        "phone": record.phone,
        "currency": record.currency,
        "terms_id": record.terms_id,
        "active": record.active,
        "deleted": record.deleted,
        "contacts": [{"email": c.email, "name": c.name, "role": c.role} for c in record.contacts],
        # Free text in both providers: cut to the column, it only ever names a country or a state.
        "country": record.country[:64] if record.country else None,
        "region": record.region[:64] if record.region else None,
        "provider_updated_at": record.updated_at,
        "parent_provider_id": record.parent_id,
        "bill_with_parent": record.bill_with_parent,
        "full_name": record.full_name,
        "billing_address": address_json(record.billing_address),
    }


def _invoice_row(record: Invoice) -> dict[str, Any]:
    return {
        "provider_id": record.provider_id,
        "customer_provider_id": record.customer_id,
        "number": record.number,
        "issue_date": record.issue_date,
        "due_date": record.due_date,
        "total": record.total.amount,
        "balance": record.balance.amount,
        "currency": record.total.currency,
        "status": record.status.value,
        "pay_link": record.pay_link,
        "email": record.email,
        "sync_token": record.sync_token,
        "provider_updated_at": record.updated_at,
    }


def _payment_row(record: Payment) -> dict[str, Any]:
    return {
        "provider_id": record.provider_id,
        "customer_provider_id": record.customer_id,
        "date": record.date,
        "amount": record.amount.amount,
        "currency": record.amount.currency,
        "applied_to": [{"invoice_id": a.invoice_id, "amount": str(a.amount.amount)} for a in record.applied_to],
        "deleted": record.deleted,
        "provider_updated_at": record.updated_at,
        "unapplied": record.unapplied.amount if record.unapplied is not None else 0,
    }


def _credit_row(record: Credit) -> dict[str, Any]:
    return {
        "provider_id": record.provider_id,
        "kind": record.kind.value,
        "customer_provider_id": record.customer_id,
        "number": record.number,
        "date": record.date,
        "total": record.total.amount,
        "remaining": record.remaining.amount,
        "currency": record.total.currency,
        "allocations": [{"invoice_id": a.invoice_id, "amount": str(a.amount.amount)} for a in record.allocations],
        "deleted": record.deleted,
        "provider_updated_at": record.updated_at,
    }


# entity -> (model, record type, row builder, values that mark a row deleted)
_TABLES: dict[str, tuple[Any, type, Any, dict[str, Any]]] = {
    "customer": (MirroredCustomer, Customer, _customer_row, {"deleted": True, "active": False}),
    "invoice": (MirroredInvoice, Invoice, _invoice_row, {"status": "deleted", "balance": 0}),
    "payment": (MirroredPayment, Payment, _payment_row, {"deleted": True}),
    **{entity: (MirroredCredit, Credit, _credit_row, {"deleted": True, "remaining": 0}) for entity in CREDIT_ENTITIES},
}


def _insert(session: Session, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"no upsert for the {dialect} dialect")


def _upsert(session: Session, connection_id: int, page: Page, one_by_one: bool = False) -> tuple[int, list[Rejected]]:
    """Rows written, and the records kept aside because the database would refuse a value in them."""
    model, record_type, to_row, _ = _TABLES[page.entity]
    table = model.__table__
    latest: dict[str, dict[str, Any]] = {}
    quarantined: list[Rejected] = []
    for record in page.records:
        if isinstance(record, PaymentTerms):
            continue  # terms travel with customers (Xero) but are not mirrored: read when needed
        if not isinstance(record, record_type):
            raise TypeError(f"a {page.entity} page carried a {type(record).__name__}")
        row = {"connection_id": connection_id, **to_row(record)}
        refused = refused_value(table, row)
        if refused is not None:
            quarantined.append(_quarantined(page.entity, row["provider_id"], refused))
            continue
        # One statement may not touch a row twice (PostgreSQL refuses): keep the newest copy.
        seen = latest.get(row["provider_id"])
        if seen is None or seen["provider_updated_at"] <= row["provider_updated_at"]:
            latest[row["provider_id"]] = row
    if not latest:
        return 0, quarantined
    # One statement with the page as its parameter list (executemany), on the Core table: its SQL is
    # compiled once and cached, and the driver sends the rows in bulk. `.values(rows)` would compile a
    # fresh 1000-row VALUES clause through the ORM for every page, which cost more than the database.
    statement = _insert(session, table)
    changing = [c for c in next(iter(latest.values())) if c not in ("connection_id", "provider_id")]
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.connection_id, table.c.provider_id],
        set_={name: statement.excluded[name] for name in changing},
        where=table.c.provider_updated_at <= statement.excluded.provider_updated_at,
    )
    if not one_by_one:
        session.connection().execute(upsert, list(latest.values()))
        return len(latest), quarantined
    written = 0
    for row in latest.values():
        try:
            with session.begin_nested():
                session.connection().execute(upsert, [row])
            written += 1
        except DataError as exc:
            quarantined.append(
                _quarantined(page.entity, row["provider_id"], f"the database refused it ({_first_line(exc)})")
            )
    return written, quarantined


def _quarantined(entity: str, provider_id: str, why: str) -> Rejected:
    shown = printable(provider_id)
    return Rejected(entity, shown, f"{entity} {shown}: {why}")


def _first_line(exc: DataError) -> str:
    """The database's own words, without the statement and parameters SQLAlchemy appends."""
    return printable(str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__, 200) or "DataError"


def store_invoices(session: Session, connection_id: int, invoices: Sequence[Invoice]) -> int:
    """Invoices read outside a sync (the targeted refresh, a late fee just written) into the mirror; no cursor moves."""
    return _upsert(session, connection_id, Page("invoice", invoices, cursor=""))


def _mark_deleted(session: Session, connection_id: int, page: Page) -> int:
    # An id the database cannot hold was never mirrored: nothing to mark.
    ids = [i for i in page.deleted_ids if storable(i)]
    if not ids:
        return 0
    model, _, _, values = _TABLES[page.entity]
    outcome = session.execute(
        update(model).where(model.connection_id == connection_id, model.provider_id.in_(ids)).values(**values)
    )
    return int(outcome.rowcount or 0)  # type: ignore[attr-defined]


def _tell_rejected(session: Session, connection_id: int, rejected: Sequence[Rejected], now: dt.datetime) -> None:
    """One activity entry per record the connector could not read, so the owner knows exactly which
    record arpilot is not collecting on and why. Re-reading the same record does not repeat it."""
    if not rejected:
        return
    organization_id = session.scalar(select(Connection.organization_id).where(Connection.id == connection_id))
    for item in rejected:
        # The provider's text may itself hold what the database refuses (a NUL in an id): spelled out.
        message = (
            f"One {item.entity} was not synced: {printable(item.reason, 2000)}. arpilot reads it again "
            "when it is next changed in the accounting system."
        )
        provider_id = printable(item.provider_id)
        already = session.scalar(
            select(ActivityEntry.id)
            .where(
                ActivityEntry.connection_id == connection_id,
                ActivityEntry.kind == REJECTED_KIND,
                ActivityEntry.message == message,
            )
            .limit(1)
        )
        if already is None:
            session.add(
                ActivityEntry(
                    organization_id=organization_id,
                    connection_id=connection_id,
                    level="warning",
                    kind=REJECTED_KIND,
                    message=message,
                    created_at=now,
                    details={"entity": item.entity, "provider_id": provider_id},
                    customer_provider_id=provider_id if item.entity == "customer" else None,
                    invoice_provider_id=provider_id if item.entity == "invoice" else None,
                )
            )


def _store_cursor(session: Session, connection_id: int, entity: str, cursor: str, now: dt.datetime) -> None:
    statement = _insert(session, SyncCursor).values(
        connection_id=connection_id, entity=entity, cursor=cursor, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SyncCursor.connection_id, SyncCursor.entity],
            set_={"cursor": statement.excluded.cursor, "updated_at": statement.excluded.updated_at},
        )
    )


# --- sync requests from webhooks -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangedEntity:
    entity: str  # normalized: customer, invoice, payment, term
    entity_id: str
    operation: str  # the provider's word: Create, Update, Delete, Merge, Void


class SyncRequests(Protocol):
    """Per-connection notes of what changed at the provider, left by webhooks for the targeted refresh.

    `add` may be called from any web worker thread; the targeted refresh calls `drain(connection_id)`
    and re-reads the invoices named (integration/cycle/targeted_refresh.py). Draining empties the queue for
    that connection; whatever the refresh then fails to do is recovered by the next cycle, since the
    cursor-based sync sees every change and execution re-checks each invoice: webhooks only make it sooner.
    """

    def add(self, connection_id: int, changes: Iterable[ChangedEntity]) -> None: ...

    def drain(self, connection_id: int) -> list[ChangedEntity]: ...

    def pending(self) -> list[int]: ...


class InProcessSyncRequests:
    """SyncRequests held in this process's memory (the embedded default; RQ/Redis comes later)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[int, dict[tuple[str, str], ChangedEntity]] = {}

    def add(self, connection_id: int, changes: Iterable[ChangedEntity]) -> None:
        with self._lock:
            queue = self._queues.setdefault(connection_id, {})
            for change in changes:
                queue[(change.entity, change.entity_id)] = change  # the latest operation wins

    def drain(self, connection_id: int) -> list[ChangedEntity]:
        with self._lock:
            return list(self._queues.pop(connection_id, {}).values())

    def pending(self) -> list[int]:
        with self._lock:
            return sorted(self._queues)


def entities_to_sync(changes: Iterable[ChangedEntity]) -> list[str]:
    """The mirrored entities a drained batch of changes calls for, in sync order."""
    named = {change.entity for change in changes}
    return [entity for entity in ENTITIES if entity in named]
