"""Credits into the mirror (SQLite and PostgreSQL): one cursor per credit entity, newest copy wins,
a used-up or deleted credit leaves the snapshot, unapplied payments count as credit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from connectors.contract import Credit, CreditKind, Customer, Money, Page, Payment, PaymentApplication
from integration.cycle.gather import credits_of, load_snapshot
from integration.cycle.sync import sync_connection
from integration.store.db import transaction
from integration.store.models import MirroredCredit, SyncCursor
from tests.conftest import add_connection
from tests.sync.test_sync import FakeConnector

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
CUSTOMER = Customer("c1", "Cool Cars", "cars@example.com", None, "USD", None, True, T1)


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def note(remaining: str, updated: dt.datetime = T1, **changes: object) -> Credit:
    fields: dict[str, object] = dict(
        provider_id="cn1",
        kind=CreditKind.CREDIT_NOTE,
        customer_id="c1",
        number="CN-0001",
        date=dt.date(2026, 10, 30),
        total=usd("92.50"),
        remaining=usd(remaining),
        updated_at=updated,
        allocations=(PaymentApplication("i9", usd("0.01")),),
    )
    fields.update(changes)
    return Credit(**fields)  # type: ignore[arg-type]


class CreditConnector(FakeConnector):
    credit_entities = ("credit_note", "overpayment")


def test_credits_sync_with_a_cursor_each_and_reach_the_snapshot(sessions) -> None:  # type: ignore[no-untyped-def]
    connection_id = add_connection(sessions, "cr1")
    overpayment = note("20.00", provider_id="op1", kind=CreditKind.OVERPAYMENT, number="", allocations=())
    unapplied = Payment("p1", "c1", dt.date(2026, 11, 2), usd("100.00"), (), T2, unapplied=usd("7.25"))
    pages = {
        "customer": [Page("customer", [CUSTOMER], "c-done", done=True)],
        "payment": [Page("payment", [unapplied], "p-done", done=True)],
        "credit_note": [Page("credit_note", [note("92.50")], "cn-done", done=True)],
        "overpayment": [Page("overpayment", [overpayment], "op-done", done=True)],
    }
    result = sync_connection(sessions, connection_id, CreditConnector(pages), NOW)
    assert result.upserted == {"customer": 1, "payment": 1, "credit_note": 1, "overpayment": 1}
    with transaction(sessions) as session:
        cursors = {
            c.entity: c.cursor
            for c in session.scalars(select(SyncCursor).where(SyncCursor.connection_id == connection_id))
        }
        row = session.scalars(select(MirroredCredit).where(MirroredCredit.provider_id == "cn1")).one()
        assert row.remaining == Decimal("92.50") and row.allocations == [{"invoice_id": "i9", "amount": "0.01"}]
        snapshot = load_snapshot(session, connection_id, NOW)
    assert cursors["credit_note"] == "cn-done" and cursors["overpayment"] == "op-done"
    assert {(c.provider_id, c.kind, c.remaining.amount) for c in snapshot.credits} == {
        ("cn1", CreditKind.CREDIT_NOTE, Decimal("92.50")),
        ("op1", CreditKind.OVERPAYMENT, Decimal("20.00")),
        ("p1", CreditKind.UNAPPLIED_PAYMENT, Decimal("7.25")),
    }
    assert next(c for c in snapshot.credits if c.provider_id == "cn1") == note("92.50")

    # Applied in full later, then an older copy arrives: the newer row stands and the credit is gone.
    later = {"credit_note": [Page("credit_note", [note("0.00", T2), note("92.50", T1)], "cn-2", done=True)]}
    sync_connection(sessions, connection_id, CreditConnector(later), NOW, entities=["credit_note"])
    deleted = {"overpayment": [Page("overpayment", [], "op-2", deleted_ids=("op1",), done=True)]}
    sync_connection(sessions, connection_id, CreditConnector(deleted), NOW, entities=["overpayment"])
    with transaction(sessions) as session:
        assert [c.provider_id for c in credits_of(session, connection_id)] == ["p1"]
        assert [c.provider_id for c in credits_of(session, connection_id, ["someone else"])] == []
