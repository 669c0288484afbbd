"""The mirror sync on SQLite and PostgreSQL: page transactions, resumability, deletions, exact money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import event, select

import integration.cycle.sync as sync_module
from connectors.contract import (
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Page,
    Payment,
    PaymentApplication,
    Provider,
    SyncRequest,
)
from integration.cycle.sync import (
    ChangedEntity,
    InProcessSyncRequests,
    entities_to_sync,
    sync_connection,
)
from integration.store.db import transaction
from integration.store.models import Connection, MirroredCustomer, MirroredInvoice, MirroredPayment, SyncCursor
from tests.conftest import add_connection

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def invoice(
    provider_id: str, balance: str = "450.00", updated: dt.datetime = T1, status: InvoiceStatus = InvoiceStatus.OPEN
) -> Invoice:
    return Invoice(
        provider_id,
        f"N{provider_id}",
        "c1",
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 1),
        usd("450.00"),
        usd(balance),
        status,
        updated,
        pay_link="https://pay.example/x",
        sync_token="0",
    )


CUSTOMER = Customer("c1", "O'Brien\\Sons", None, None, "USD", "3", True, T1)
PAYMENT = Payment(
    "p1",
    "c1",
    dt.date(2026, 11, 2),
    usd("0.30"),
    (PaymentApplication("i1", usd("0.10")), PaymentApplication("i2", usd("0.20"))),
    T2,
)


class FakeConnector:
    """Serves fixed pages per entity, resuming after the page whose cursor it is given."""

    provider = Provider.QUICKBOOKS

    def __init__(self, pages: dict[str, list[Page]], crash_after: int | None = None) -> None:
        self.pages = pages
        self.crash_after = crash_after
        self.served = 0
        self.requests: list[SyncRequest] = []

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        self.requests.append(request)
        pages = self.pages.get(request.entity, [])
        cursors = [page.cursor for page in pages]
        start = cursors.index(request.cursor) + 1 if request.cursor in cursors else 0
        for page in pages[start:]:
            if self.crash_after is not None and self.served >= self.crash_after:
                raise RuntimeError("killed mid-sync")
            self.served += 1
            yield page


@pytest.fixture
def connection_id(sessions) -> int:  # type: ignore[no-untyped-def]
    return add_connection(sessions, "9130")


def _pages() -> dict[str, list[Page]]:
    return {
        "customer": [Page("customer", [CUSTOMER], "c-done", done=True)],
        "invoice": [
            Page("invoice", [invoice("i1"), invoice("i2")], "i-p1"),
            Page("invoice", [invoice("i3", "0.00", status=InvoiceStatus.PAID)], "i-p2"),
            Page("invoice", [invoice("i4", "1234567.8912")], "i-done", done=True),
        ],
        "payment": [Page("payment", [PAYMENT], "p-done", done=True)],
    }


def _invoices(sessions, connection_id: int) -> dict[str, MirroredInvoice]:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        rows = session.scalars(select(MirroredInvoice).where(MirroredInvoice.connection_id == connection_id)).all()
        return {row.provider_id: row for row in rows}


def _cursors(sessions, connection_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        rows = session.scalars(select(SyncCursor).where(SyncCursor.connection_id == connection_id)).all()
        return {row.entity: row.cursor for row in rows}


def test_full_sync_mirrors_every_entity_exactly(sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    result = sync_connection(sessions, connection_id, FakeConnector(_pages()), NOW)
    assert result.pages == 5 and result.upserted == {"customer": 1, "invoice": 4, "payment": 1}
    invoices = _invoices(sessions, connection_id)
    assert sorted(invoices) == ["i1", "i2", "i3", "i4"]
    assert invoices["i4"].balance == Decimal("1234567.8912") and invoices["i3"].status == "paid"
    assert invoices["i1"].due_date == dt.date(2026, 10, 1) and invoices["i1"].provider_updated_at == T1
    with transaction(sessions) as session:
        customer = session.scalars(select(MirroredCustomer)).one()
        payment = session.scalars(select(MirroredPayment)).one()
        assert customer.name == "O'Brien\\Sons" and customer.email is None
        assert payment.amount == Decimal("0.30")
        assert payment.applied_to == [{"invoice_id": "i1", "amount": "0.10"}, {"invoice_id": "i2", "amount": "0.20"}]
        assert session.get(Connection, connection_id).last_sync_at == NOW
    assert _cursors(sessions, connection_id) == {"customer": "c-done", "invoice": "i-done", "payment": "p-done"}


def test_a_crash_between_pages_resumes_from_the_last_committed_page(sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="killed"):
        sync_connection(sessions, connection_id, FakeConnector(_pages(), crash_after=2), NOW)
    assert sorted(_invoices(sessions, connection_id)) == ["i1", "i2"]
    assert _cursors(sessions, connection_id)["invoice"] == "i-p1"
    again = FakeConnector(_pages())
    sync_connection(sessions, connection_id, again, NOW)
    assert [r.cursor for r in again.requests] == ["c-done", "i-p1", None]
    assert sorted(_invoices(sessions, connection_id)) == ["i1", "i2", "i3", "i4"]


def test_a_crash_inside_a_page_transaction_stores_neither_rows_nor_cursor(sessions, connection_id, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = sync_module._store_cursor
    calls = []

    def dying_store(session, connection_id, entity, cursor, now):  # type: ignore[no-untyped-def]
        calls.append(cursor)
        if cursor == "i-p2":
            raise OSError("power cut")
        real(session, connection_id, entity, cursor, now)

    monkeypatch.setattr(sync_module, "_store_cursor", dying_store)
    with pytest.raises(OSError):
        sync_connection(sessions, connection_id, FakeConnector(_pages()), NOW)
    assert sorted(_invoices(sessions, connection_id)) == ["i1", "i2"]  # i3 rolled back with its cursor
    monkeypatch.setattr(sync_module, "_store_cursor", real)
    sync_connection(sessions, connection_id, FakeConnector(_pages()), NOW)
    assert sorted(_invoices(sessions, connection_id)) == ["i1", "i2", "i3", "i4"]


def test_deletions_and_voids_are_reflected(sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    sync_connection(sessions, connection_id, FakeConnector(_pages()), NOW)
    later = {
        "customer": [Page("customer", [], "c-2", deleted_ids=("c1",), done=True)],
        "invoice": [
            Page(
                "invoice",
                [invoice("i2", "0.00", T2, InvoiceStatus.VOIDED)],
                "i-2",
                deleted_ids=("i1", "gone"),
                done=True,
            )
        ],
        "payment": [Page("payment", [], "p-2", deleted_ids=("p1",), done=True)],
    }
    result = sync_connection(sessions, connection_id, FakeConnector(later), NOW)
    assert result.deleted == {"customer": 1, "invoice": 1, "payment": 1}
    invoices = _invoices(sessions, connection_id)
    assert (invoices["i1"].status, invoices["i1"].balance) == ("deleted", Decimal(0))
    assert (invoices["i2"].status, invoices["i2"].balance) == ("voided", Decimal(0))
    with transaction(sessions) as session:
        assert session.scalars(select(MirroredCustomer.deleted)).one() is True
        assert session.scalars(select(MirroredPayment.deleted)).one() is True


def test_an_older_copy_never_overwrites_a_newer_row(sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    newer = {"invoice": [Page("invoice", [invoice("i1", "100.00", T2)], "a", done=True)]}
    sync_connection(sessions, connection_id, FakeConnector(newer), NOW, entities=["invoice"])
    older_twice = {
        "invoice": [Page("invoice", [invoice("i1", "450.00", T1), invoice("i1", "300.00", T1)], "b", done=True)]
    }
    sync_connection(sessions, connection_id, FakeConnector(older_twice), NOW, entities=["invoice"])
    assert _invoices(sessions, connection_id)["i1"].balance == Decimal("100.00")
    assert _cursors(sessions, connection_id)["invoice"] == "b"


def test_a_page_is_one_bulk_upsert_statement(sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    """One INSERT ... ON CONFLICT DO UPDATE per page carrying every row, not a statement per row."""
    page = {"invoice": [Page("invoice", [invoice(f"i{n}") for n in range(50)], "a", done=True)]}
    upserts = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO invoices"):
            upserts.append((statement, len(parameters) if executemany else 1))

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        sync_connection(sessions, connection_id, FakeConnector(page), NOW, entities=["invoice"])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(_invoices(sessions, connection_id)) == 50
    assert sum(rows for _, rows in upserts) == 50
    assert all("ON CONFLICT" in statement and "DO UPDATE" in statement for statement, _ in upserts)
    assert len(upserts) <= 2  # one executemany, or one multi-row VALUES batch per driver page


def test_bad_arguments_are_refused(sessions, connection_id: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="timezone"):
        sync_connection(sessions, connection_id, FakeConnector({}), NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="cannot mirror"):
        sync_connection(sessions, connection_id, FakeConnector({}), NOW, entities=["estimate"])
    wrong = {"invoice": [Page("invoice", [CUSTOMER], "x", done=True)]}
    with pytest.raises(TypeError, match="invoice page carried a Customer"):
        sync_connection(sessions, connection_id, FakeConnector(wrong), NOW, entities=["invoice"])
    assert _invoices(sessions, connection_id) == {}


def test_sync_requests_queue_per_connection_and_drain_once() -> None:
    requests = InProcessSyncRequests()
    requests.add(1, [ChangedEntity("invoice", "130", "Update"), ChangedEntity("payment", "9", "Create")])
    requests.add(1, [ChangedEntity("invoice", "130", "Void")])
    requests.add(2, [ChangedEntity("customer", "58", "Update")])
    assert requests.pending() == [1, 2]
    drained = requests.drain(1)
    assert sorted((c.entity, c.entity_id, c.operation) for c in drained) == [
        ("invoice", "130", "Void"),
        ("payment", "9", "Create"),
    ]
    assert entities_to_sync(drained) == ["invoice", "payment"]
    assert requests.drain(1) == [] and requests.pending() == [2]
