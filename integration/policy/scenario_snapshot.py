"""A policy snapshot from a scenario file as its books stood on a given day.

Invoices issued after the day do not exist yet; payments dated after it have not happened; the
scenario's disputes become pauses. Used by preview and backtest on the demo company or any file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.base import Contact, Customer, Invoice, InvoiceStatus, Money, Payment, PaymentApplication
from connectors.regions import customer_zones
from integration.policy.snapshot import Company, History, InvoicePause, Snapshot
from integration.scenario import Scenario

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # scenario records carry no change times


def company_of(scenario: Scenario) -> Company:
    c = scenario.company
    return Company(name=c.name, timezone=c.timezone, currency=c.currency, locale=c.locale)


def customers_of(scenario: Scenario) -> tuple[Customer, ...]:
    return tuple(
        Customer(
            provider_id=c.id, name=c.name, email=c.email, phone=c.phone, currency=c.currency,
            terms_id=None, active=True, updated_at=_EPOCH,
            contacts=tuple(Contact(p.email, p.name, p.role) for p in c.contacts), country=c.country, region=c.region,
        )
        for c in scenario.customers
    )


def snapshot_from_scenario(
    scenario: Scenario, day: dt.date, history: History = History(),
    on_hold: frozenset[str] = frozenset(), mid_month: frozenset[str] = frozenset(),
) -> Snapshot:
    payments = tuple(p for p in scenario.payments if p.date <= day)
    paid: dict[str, Decimal] = {}
    for payment in payments:
        for invoice_id, amount in payment.applied:
            paid[invoice_id] = paid.get(invoice_id, Decimal(0)) + amount
    invoices = []
    for item in scenario.invoices:
        if item.issue_date > day:
            continue
        total = item.total
        balance = Decimal(0) if item.voided else total - paid.get(item.id, Decimal(0))
        status = InvoiceStatus.VOIDED if item.voided else InvoiceStatus.PAID if balance <= 0 else InvoiceStatus.OPEN
        invoices.append(Invoice(
            provider_id=item.id, number=item.number, customer_id=item.customer_id, issue_date=item.issue_date,
            due_date=item.due_date, total=Money(total, item.currency), balance=Money(balance, item.currency),
            status=status, updated_at=_EPOCH,
        ))
    customers = customers_of(scenario)
    return Snapshot(
        company=company_of(scenario),
        customers=customers,
        customer_zones=customer_zones(customers),
        invoices=tuple(invoices),
        payments=tuple(
            Payment(
                provider_id=p.id, customer_id=p.customer_id, date=p.date, amount=Money(p.amount, p.currency),
                applied_to=tuple(PaymentApplication(i, Money(a, p.currency)) for i, a in p.applied), updated_at=_EPOCH,
            )
            for p in payments
        ),
        pauses={i.id: InvoicePause(i.id, disputed=True) for i in scenario.invoices if i.disputed and i.issue_date <= day},
        on_hold=on_hold,
        mid_month=mid_month,
        history=history,
    )
