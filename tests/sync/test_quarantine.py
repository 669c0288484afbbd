"""A record the database would refuse (#13 item 7) is kept aside, named once, and the rest of the
page, the cursor and every later cycle go on: on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

import integration.cycle.sync as sync_module
from connectors.contract import Contact, Customer, InvoiceStatus, Money, Page
from integration.cycle.sync import REJECTED_KIND, sync_connection
from integration.store.models import ActivityEntry, MirroredCustomer, MirroredInvoice, SyncCursor
from integration.store.quarantine import printable, refused_value
from tests.conftest import add_connection
from tests.sync.test_sync import CUSTOMER, NOW, T1, T2, FakeConnector, invoice


@pytest.fixture
def connection_id(sessions) -> int:  # type: ignore[no-untyped-def]
    return add_connection(sessions, "9131")


def _poisoned() -> dict[str, list[Page]]:
    good = [invoice("i1"), invoice("i3")]
    bad = [
        dataclasses.replace(invoice("i2"), number="INV\x00-2"),  # a NUL in text
        dataclasses.replace(invoice("i4"), total=Money(Decimal("1e16"), "USD"), balance=Money(Decimal("1e16"), "USD")),
        dataclasses.replace(invoice("i5"), pay_link="https://pay.example/\ud800"),  # a lone surrogate
    ]
    customers = [
        CUSTOMER,
        dataclasses.replace(CUSTOMER, provider_id="c2", contacts=(Contact("a@b.example", "N\x00", "billing"),)),
    ]
    return {
        "customer": [Page("customer", customers, "c-1", done=True)],
        "invoice": [
            Page("invoice", [good[0], *bad, good[1]], "i-1"),
            Page("invoice", [invoice("i6", updated=T2)], "i-2", done=True),
        ],
    }


def _state(sessions, connection_id: int):  # type: ignore[no-untyped-def]
    with sessions() as session:
        invoices = set(
            session.scalars(select(MirroredInvoice.provider_id).where(MirroredInvoice.connection_id == connection_id))
        )
        customers = set(session.scalars(select(MirroredCustomer.provider_id)))
        cursors = dict(session.execute(select(SyncCursor.entity, SyncCursor.cursor)).all())
        named = list(session.scalars(select(ActivityEntry).where(ActivityEntry.kind == REJECTED_KIND)))
    return invoices, customers, cursors, named


def test_a_poisoned_record_is_quarantined_and_the_rest_of_the_page_and_the_cursor_advance(
    sessions, connection_id: int
) -> None:  # type: ignore[no-untyped-def]
    result = sync_connection(sessions, connection_id, FakeConnector(_poisoned()), NOW)
    invoices, customers, cursors, named = _state(sessions, connection_id)
    assert invoices == {"i1", "i3", "i6"} and customers == {"c1"}
    assert cursors["customer"] == "c-1" and cursors["invoice"] == "i-2"
    assert result.rejected == {"customer": 1, "invoice": 3}
    messages = sorted(entry.message for entry in named)
    assert any("invoice i2: number holds a NUL byte" in m for m in messages), messages
    assert any("invoice i4: total is out of range (more than 15 whole digits)" in m for m in messages), messages
    assert any("invoice i5: pay_link holds text that is not valid Unicode" in m for m in messages), messages
    assert any("customer c2: contacts holds a NUL byte" in m for m in messages), messages
    assert all(e.level == "warning" and "\x00" not in e.message for e in named)
    assert {e.invoice_provider_id for e in named} == {"i2", "i4", "i5", None}

    # The next cycles read the same records again (a fresh cursor): named once, never once per cycle.
    for _ in range(2):
        with sessions.begin() as session:
            session.query(SyncCursor).delete()
        sync_connection(sessions, connection_id, FakeConnector(_poisoned()), NOW + dt.timedelta(hours=1))
    assert len(_state(sessions, connection_id)[3]) == len(named)


def test_a_refusal_no_check_foresaw_costs_only_its_row_on_postgresql(sessions, connection_id: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The checks are switched off: the database itself refuses the NUL (PostgreSQL does; SQLite
    # stores it), and the page is written again row by row so only that record is kept aside.
    monkeypatch.setattr(sync_module, "refused_value", lambda table, row: None)
    bad = dataclasses.replace(invoice("i2"), number="INV\x00-2")
    pages = {"invoice": [Page("invoice", [invoice("i1"), bad, invoice("i3")], "i-1", done=True)]}
    sync_connection(sessions, connection_id, FakeConnector(pages), NOW, entities=("invoice",))
    invoices, _, cursors, named = _state(sessions, connection_id)
    assert cursors["invoice"] == "i-1" and {"i1", "i3"} <= invoices
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert invoices == {"i1", "i3"}
        (entry,) = named
        assert "invoice i2: the database refused it" in entry.message and "\x00" not in entry.message


def test_refused_values_are_named_by_column_never_echoed() -> None:
    table = MirroredInvoice.__table__
    assert refused_value(table, {"number": "ok", "provider_id": "x" * 65}) == (
        "provider_id is longer than 64 characters, which the database cannot store"
    )
    assert refused_value(table, {"total": Decimal("999999999999999.9999")}) is None
    assert refused_value(table, {"total": Decimal("-1000000000000000")}).startswith("total is out of range")
    assert refused_value(table, {"status": InvoiceStatus.OPEN.value, "due_date": T1.date()}) is None
    assert printable("a\x00b\ud800") == "a\\x00b\\ud800"


def test_customer_rows_keep_the_structure() -> None:
    assert (
        refused_value(
            MirroredCustomer.__table__,
            sync_module._customer_row(
                Customer("c9", "Job", None, None, "USD", None, True, T1, parent_id="c1", bill_with_parent=True)
            ),
        )
        is None
    )
