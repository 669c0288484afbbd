"""A Xero sync pages through a listing while the owner keeps working in Xero: a record changed
after its page was read must not push another record off the page boundary (the sandbox renumbers
pages on every request, as Xero does)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Invoice, SyncRequest
from integration.store.models import Connection, Organization
from tests.cycle.conftest import NOW
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.sandbox.conftest import small_scenario


@pytest.fixture
def books(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[XeroWorld]:
    yield from make_xero_world(small_scenario(NOW.date()), sessions, tmp_path)


def test_a_record_changed_between_pages_pushes_no_other_off_its_page(books: XeroWorld) -> None:
    with books.sessions() as session:
        connection = session.get_one(Connection, books.connection_id)
        organization = session.get_one(Organization, connection.organization_id)
        connector = books.deps().connectors(connection, organization)
    org = books.sandbox.organisation("demo")
    assert org is not None
    sales = {i for i, record in org.invoices.items() if record["Type"] == "ACCREC"}
    assert len(sales) > 4, "enough invoices for three pages of two"

    pages = connector.changes(SyncRequest("invoice", None, page_size=2, started_at=books.now()))
    first = next(pages)
    # The owner edits an invoice the sync has already read: its UpdatedDateUTC becomes the newest.
    edited = next(r for r in first.records if isinstance(r, Invoice)).provider_id
    with org.lock:
        org.invoices[edited]["_updated"] = books.now() + dt.timedelta(minutes=1)
        org.changed("INVOICE", edited)
    read = {r.provider_id for page in [first, *pages] for r in page.records if isinstance(r, Invoice)}
    assert read == sales
