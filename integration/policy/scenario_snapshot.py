"""A policy snapshot from a scenario file as its books stood on a given day.

Invoices issued after the day do not exist yet; payments dated after it have not happened; the
scenario's disputes become pauses. Used by preview and backtest on the demo company or any file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.contract import (
    Contact,
    Credit,
    CreditKind,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentApplication,
)
from connectors.regions import customer_zones
from connectors.sandbox.scenario import Scenario
from integration.policy.accounts import as_accounts
from integration.policy.snapshot import Company, History, InvoicePause, Snapshot

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # scenario records carry no change times


NO_HISTORY = History()  # frozen: one empty history serves every call without one


def company_of(scenario: Scenario) -> Company:
    c = scenario.company
    return Company(name=c.name, timezone=c.timezone, currency=c.currency, locale=c.locale)


def customers_of(scenario: Scenario) -> tuple[Customer, ...]:
    return tuple(
        Customer(
            provider_id=c.id,
            name=c.name,
            email=c.email,
            phone=c.phone,
            currency=c.currency,
            terms_id=None,
            active=True,
            updated_at=_EPOCH,
            contacts=tuple(Contact(p.email, p.name, p.role) for p in c.contacts),
            parent_id=c.parent_id,
            bill_with_parent=c.bill_with_parent,
            country=c.country,
            region=c.region,
        )
        for c in scenario.customers
    )


def snapshot_from_scenario(
    scenario: Scenario,
    day: dt.date,
    history: History = NO_HISTORY,
    on_hold: frozenset[str] = frozenset(),
    mid_month: frozenset[str] = frozenset(),
) -> Snapshot:
    payments = tuple(p for p in scenario.payments if p.date <= day)
    paid: dict[str, Decimal] = {}
    for payment in payments:
        for invoice_id, amount in payment.applied:
            paid[invoice_id] = paid.get(invoice_id, Decimal(0)) + amount
    credits = credits_on(scenario, day, paid)
    invoices = []
    for item in scenario.invoices:
        if item.issue_date > day or item.type != "sale":
            continue  # a bill is the business's own debt, never a customer's
        total = item.total
        balance = Decimal(0) if not item.owed else total - paid.get(item.id, Decimal(0))
        status = (
            InvoiceStatus.VOIDED
            if item.voided
            else InvoiceStatus.DRAFT
            if item.status != "approved"
            else InvoiceStatus.PAID
            if balance <= 0
            else InvoiceStatus.OPEN
        )
        invoices.append(
            Invoice(
                provider_id=item.id,
                number=item.number,
                customer_id=item.customer_id,
                issue_date=item.issue_date,
                due_date=item.due_date,
                total=Money(total, item.currency),
                balance=Money(balance, item.currency),
                status=status,
                updated_at=_EPOCH,
            )
        )
    customers = customers_of(scenario)
    account_invoices, account_payments = as_accounts(
        customers,
        invoices,
        (
            Payment(
                provider_id=p.id,
                customer_id=p.customer_id,
                date=p.date,
                amount=Money(p.amount, p.currency),
                applied_to=tuple(PaymentApplication(i, Money(a, p.currency)) for i, a in p.applied),
                updated_at=_EPOCH,
            )
            for p in payments
        ),
    )
    return Snapshot(
        company=company_of(scenario),
        customers=customers,
        customer_zones=customer_zones(customers),
        invoices=account_invoices,
        payments=account_payments,
        pauses={
            i.id: InvoicePause(i.id, disputed=True) for i in scenario.invoices if i.disputed and i.issue_date <= day
        },
        on_hold=on_hold,
        mid_month=mid_month,
        history=history,
        credits=credits,
    )


def credits_on(scenario: Scenario, day: dt.date, paid: dict[str, Decimal]) -> tuple[Credit, ...]:
    """The credit issued by `day` with what is left of it then; its allocations made by then are
    added to `paid` (they settle invoices as payments do)."""
    found = []
    for item in scenario.credits:
        if item.date > day:
            continue
        allocated = Decimal(0)
        for allocation in item.allocations:
            if allocation.date <= day:
                paid[allocation.invoice_id] = paid.get(allocation.invoice_id, Decimal(0)) + allocation.amount
                allocated += allocation.amount
        found.append(
            Credit(
                item.id,
                CreditKind(item.kind),
                item.customer_id,
                item.number,
                item.date,
                Money(item.amount, item.currency),
                Money(item.amount - allocated, item.currency),
                _EPOCH,
            )
        )
    return tuple(found)
