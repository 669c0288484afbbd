"""A connected company's books as the backtest replays them: its mirror, read into a Scenario.

The backtest (integration.policy.backtest) replays a Scenario day by day, the same input
`arpilot backtest` reads from a file or the demo generator. Here it is built from what the last
sync left in the mirror, in the company's own time zone. The mirror holds each record as it
stands today, so a few facts of the past are reconstructed, and the page says which:

- an invoice was open from its issue date until its payments and credit allocations covered its
  total; the mirror keeps no date for a credit's allocation, so it counts from the credit's date;
- an invoice the books call paid, without the payments that say when, is left out (treated as
  voided, and counted in `Books.left_out`): replayed, it would look unpaid forever;
- the unapplied part of a payment is credit the customer held from the payment's date;
- the owner's dispute flags of today hold for the whole period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from connectors.sandbox.scenario import (
    Scenario,
    ScenarioAllocation,
    ScenarioCompany,
    ScenarioContact,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)
from connectors.sandbox.scenario.model import CONTACT_ROLES
from integration.policy.backtest import paid_in_full_on
from integration.store.models import (
    Connection,
    InvoicePause,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
)
from integration.store.scoping import scoped


@dataclass(frozen=True)
class Company:
    """A connected company the owner may backtest."""

    connection_id: int
    name: str
    timezone: str


@dataclass(frozen=True)
class Books:
    scenario: Scenario
    left_out: int  # invoices marked paid whose payments the mirror does not hold

    def has_history(self, start: dt.date, end: dt.date) -> bool:
        """Whether any invoice was owed, and not yet paid, on some day from `start` to `end`."""
        paid_on = paid_in_full_on(self.scenario)
        return any(
            invoice.owed and invoice.issue_date <= end and paid_on.get(invoice.id, dt.date.max) >= start
            for invoice in self.scenario.invoices
        )


def companies(session: Session, organization_id: int) -> list[Company]:
    """The organization's connected companies (disconnected ones keep their mirror: still worth a replay)."""
    organization = session.get(Organization, organization_id)
    assert organization is not None  # the signed-in owner's organization
    rows = session.scalars(scoped(Connection, organization_id).order_by(Connection.id))
    return [
        Company(row.id, row.display_name or organization.name, row.timezone or organization.timezone) for row in rows
    ]


def read_books(session: Session, organization_id: int, connection_id: int) -> Books | None:
    """The company's books, or None when `connection_id` is not one of the organization's companies."""
    connection = session.scalar(scoped(Connection, organization_id).where(Connection.id == connection_id))
    if connection is None:
        return None
    organization = session.get(Organization, organization_id)
    assert organization is not None
    customers = [
        _customer(row)
        for row in session.scalars(
            scoped(MirroredCustomer, organization_id).where(
                MirroredCustomer.connection_id == connection_id, MirroredCustomer.deleted.is_(False)
            )
        )
    ]
    known = {c.id for c in customers}
    disputed = set(
        session.scalars(
            scoped(InvoicePause, organization_id)
            .where(InvoicePause.connection_id == connection_id, InvoicePause.disputed.is_(True))
            .with_only_columns(InvoicePause.invoice_provider_id)
        )
    )
    invoice_rows = [
        row
        for row in session.scalars(
            scoped(MirroredInvoice, organization_id).where(
                MirroredInvoice.connection_id == connection_id,
                MirroredInvoice.status != InvoiceStatus.DELETED.value,
            )
        )
        if row.customer_provider_id in known
    ]
    invoices = {row.provider_id: _invoice(row, row.provider_id in disputed) for row in invoice_rows}
    payments = _payments(session, organization_id, connection_id, known, invoices)
    # The connection came through scoped(): its credits are the organization's.
    credit_rows = session.scalars(
        select(MirroredCredit).where(MirroredCredit.connection_id == connection.id, MirroredCredit.deleted.is_(False))
    )
    credits = [_credit(row, invoices) for row in credit_rows if row.customer_provider_id in known]
    credits += _unapplied(payments)
    company = ScenarioCompany(
        name=connection.display_name or organization.name,
        timezone=connection.timezone or organization.timezone,
        currency=organization.base_currency,
        locale=organization.locale,
    )
    scenario = Scenario(
        company,
        max((i.issue_date for i in invoices.values()), default=dt.date.min),
        tuple(customers),
        tuple(invoices.values()),
        tuple(p for p, _ in payments),
        tuple(credits),
    )
    settled = paid_in_full_on(scenario)
    unknown_when = {row.provider_id for row in invoice_rows if row.status == InvoiceStatus.PAID.value} - set(settled)
    if unknown_when:
        # Voided in the replay: nobody is reminded of it, and the payments and credit it took stay spent.
        kept = tuple(dataclasses.replace(i, voided=True) if i.id in unknown_when else i for i in scenario.invoices)
        scenario = dataclasses.replace(scenario, invoices=kept)
    return Books(scenario, len(unknown_when))


def _customer(row: MirroredCustomer) -> ScenarioCustomer:
    contacts = tuple(
        ScenarioContact(c.get("name") or "", c["email"], c.get("role") or "billing")
        for c in row.contacts or ()
        if c.get("email") and (c.get("role") or "billing") in CONTACT_ROLES
    )
    return ScenarioCustomer(
        id=row.provider_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        currency=row.currency,
        terms_days=0,  # the policy reads due dates, never terms
        contacts=contacts,
        parent_id=row.parent_provider_id,
        bill_with_parent=row.bill_with_parent,
        country=row.country,
        region=row.region,
    )


def _invoice(row: MirroredInvoice, disputed: bool) -> ScenarioInvoice:
    return ScenarioInvoice(
        id=row.provider_id,
        number=row.number,
        customer_id=row.customer_provider_id,
        issue_date=row.issue_date,
        due_date=row.due_date,
        currency=row.currency,
        lines=(ScenarioLine(row.number, row.total),),
        voided=row.status == InvoiceStatus.VOIDED.value,
        disputed=disputed,
        status="draft" if row.status == InvoiceStatus.DRAFT.value else "approved",
    )


def _payments(
    session: Session, organization_id: int, connection_id: int, known: set[str], invoices: dict[str, ScenarioInvoice]
) -> list[tuple[ScenarioPayment, Decimal]]:
    """Each payment, applied to the invoices the replay holds, with its unapplied part."""
    rows = session.scalars(
        scoped(MirroredPayment, organization_id).where(
            MirroredPayment.connection_id == connection_id, MirroredPayment.deleted.is_(False)
        )
    )
    found = []
    for row in rows:
        if row.customer_provider_id not in known:
            continue
        applied = tuple(
            (a["invoice_id"], Decimal(a["amount"])) for a in row.applied_to or () if a.get("invoice_id") in invoices
        )
        found.append(
            (ScenarioPayment(row.provider_id, row.customer_provider_id, row.date, row.currency, applied), row.unapplied)
        )
    return found


def _credit(row: MirroredCredit, invoices: dict[str, ScenarioInvoice]) -> ScenarioCredit:
    return ScenarioCredit(
        id=row.provider_id,
        kind=row.kind,
        number=row.number,
        customer_id=row.customer_provider_id,
        date=row.date,
        currency=row.currency,
        amount=row.total,
        allocations=tuple(
            ScenarioAllocation(a["invoice_id"], Decimal(a["amount"]), row.date)
            for a in row.allocations or ()
            if a.get("invoice_id") in invoices
        ),
    )


def _unapplied(payments: list[tuple[ScenarioPayment, Decimal]]) -> list[ScenarioCredit]:
    return [
        ScenarioCredit(f"unapplied-{p.id}", "unapplied_payment", "", p.customer_id, p.date, p.currency, unapplied)
        for p, unapplied in payments
        if unapplied and unapplied > 0
    ]
