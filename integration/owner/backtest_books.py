"""A connected company's books as the backtest replays them: its mirror, read into a Scenario.

The backtest (integration.policy.backtest) replays a Scenario day by day, the same input
`arpilot backtest` reads from a file, the demo generator or the providers' published examples.
Here the records are what the last sync left in the mirror, read as the cycle reads them
(integration.cycle.gather) and converted by `connectors.sandbox.scenario.from_records`, which
names every record, or part of one, that a scenario cannot hold. One rule is added on top: an
invoice the books call paid, without the payments that say when, is left out (voided in the
replay, and named): replayed, it would look unpaid forever and draw reminders nobody would send.
The owner's dispute flags of today hold for the whole period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import Invoice, InvoiceStatus, Rejected
from connectors.sandbox.scenario import Scenario, ScenarioCompany
from connectors.sandbox.scenario.from_records import Records, scenario_from_records
from integration.cycle.gather import credit_record, customer_record, invoice_record, payment_record
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

M = TypeVar("M", MirroredCustomer, MirroredInvoice, MirroredPayment)
PAID_WITHOUT_PAYMENT = "the books call it paid but hold no payment saying when: left out of the replay"


@dataclass(frozen=True)
class Company:
    """A connected company the owner may backtest."""

    connection_id: int
    name: str
    timezone: str


@dataclass(frozen=True)
class Books:
    scenario: Scenario
    not_replayed: tuple[Rejected, ...]  # each record, or part of one, the replay does without, and why

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


def read_books(session: Session, organization_id: int, connection_id: int, today: dt.date) -> Books | None:
    """The company's books as of `today`, or None when `connection_id` is not one of the organization's companies."""
    connection = session.scalar(scoped(Connection, organization_id).where(Connection.id == connection_id))
    if connection is None:
        return None
    organization = session.get(Organization, organization_id)
    assert organization is not None

    invoices = [invoice_record(row) for row in _mirrored(session, MirroredInvoice, organization_id, connection_id)]
    records = Records(
        customers=[
            customer_record(row)
            for row in _mirrored(session, MirroredCustomer, organization_id, connection_id)
            if not row.deleted
        ],
        invoices=invoices,
        payments=[
            payment_record(row)
            for row in _mirrored(session, MirroredPayment, organization_id, connection_id)
            if not row.deleted
        ],
        # The connection came through scoped(): its credits are the organization's.
        credits=[
            credit_record(row)
            for row in session.scalars(select(MirroredCredit).where(MirroredCredit.connection_id == connection.id))
        ],
        disputed=frozenset(
            session.scalars(
                scoped(InvoicePause, organization_id)
                .where(InvoicePause.connection_id == connection_id, InvoicePause.disputed.is_(True))
                .with_only_columns(InvoicePause.invoice_provider_id)
            )
        ),
    )
    company = ScenarioCompany(
        name=connection.display_name or organization.name,
        timezone=connection.timezone or organization.timezone,
        currency=organization.base_currency,
        locale=organization.locale,
    )
    converted = scenario_from_records(company, today, records)
    return _without_unknown_payments(converted.scenario, converted.rejected, invoices)


def _mirrored(session: Session, model: type[M], organization_id: int, connection_id: int) -> list[M]:
    return list(session.scalars(scoped(model, organization_id).where(model.connection_id == connection_id)))


def _without_unknown_payments(scenario: Scenario, rejected: tuple[Rejected, ...], books: list[Invoice]) -> Books:
    """Void, for the replay, each invoice the books call paid that the payments held never paid in full."""
    paid_on = paid_in_full_on(scenario)
    held = {invoice.id for invoice in scenario.invoices if invoice.owed}
    unknown = {i.provider_id for i in books if i.status is InvoiceStatus.PAID and i.provider_id in held} - set(paid_on)
    if not unknown:
        return Books(scenario, rejected)
    invoices = tuple(dataclasses.replace(i, voided=True) if i.id in unknown else i for i in scenario.invoices)
    # The converter's word on these ("the replay goes by the payments held") no longer holds: ours replaces it.
    kept = tuple(r for r in rejected if not (r.entity == "invoice" and r.provider_id in unknown))
    named = tuple(Rejected("invoice", invoice_id, PAID_WITHOUT_PAYMENT) for invoice_id in sorted(unknown))
    return Books(dataclasses.replace(scenario, invoices=invoices), kept + named)
