"""Statements of the providers' published example books (tests/fixtures/real/, through
connectors/sandbox/scenario/published.py), served by each provider's sandbox and mirrored by a
cycle: the PDF's totals are the mirror's open balances, and its credit what the customer holds
(QuickBooks' example payment 65.00 leaves 10.00 unapplied)."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Money
from connectors.sandbox.scenario.published import published_scenario
from integration.documents.pdf import statement_pdf
from integration.documents.reads import customer_statement
from integration.store.models import MirroredCredit, MirroredCustomer, MirroredInvoice, MirroredPayment
from reminders.formatting import money, parse_locale
from tests.cycle.conftest import NOW, World
from tests.cycle.xero_world import XeroWorld, live_world

EN = parse_locale("en_US")  # both example companies write amounts the English way


@pytest.fixture(params=["quickbooks", "xero"])
def world(
    request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[World | XeroWorld]:
    for world in live_world(request.param, published_scenario(request.param).scenario, sessions, tmp_path):
        world.set_rules({"mode": "observe"})
        assert world.cycle().status == "observed"
        yield world


def _sums(rows: list[tuple[str, str, Decimal]]) -> dict[str, dict[str, Decimal]]:
    found: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for customer_id, currency, amount in rows:
        if amount > 0:
            found[customer_id][currency] += amount
    return found


def test_each_customers_statement_totals_the_mirrors_books(world: World | XeroWorld) -> None:
    with world.sessions() as db:
        customers = db.scalars(select(MirroredCustomer)).all()
        printed = {
            c.provider_id: "\n".join(
                page.extract_text()
                for page in pypdf.PdfReader(
                    io.BytesIO(statement_pdf(customer_statement(db, world.organization_id, c, NOW)))
                ).pages
            )
            for c in customers
        }
        owed = _sums(
            [
                (i.customer_provider_id, i.currency, i.balance)
                for i in db.scalars(select(MirroredInvoice))
                if i.status == "open"
            ]
        )
        held = _sums(
            [
                (c.customer_provider_id, c.currency, c.remaining)
                for c in db.scalars(select(MirroredCredit))
                if not c.deleted
            ]
            + [
                (p.customer_provider_id, p.currency, p.unapplied)
                for p in db.scalars(select(MirroredPayment))
                if not p.deleted
            ]
        )
    assert owed  # the examples hold open invoices
    assert held or isinstance(world, XeroWorld)  # QuickBooks' example payment leaves credit unapplied
    for customer_id, text in printed.items():
        for currency, amount in owed.get(customer_id, {}).items():
            assert f"Total due ({currency}): {money(Money(amount, currency), EN)}" in text
        for currency, amount in held.get(customer_id, {}).items():
            assert f"Credit available ({currency}): {money(Money(amount, currency), EN)}" in text
