"""Large deterministic companies for the benchmarks, built straight as a Scenario (no JSON round trip).

Each customer gets `per_customer` monthly invoices on 30-day terms ending at `as_of`; customer c pays
`LATENESS[c % 5]` days after the due date, so invoices whose payment day is still ahead are open.
That gives every ladder stage a share of the open invoices, as in a real ledger.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.sandbox.scenario.model import (
    Scenario,
    ScenarioCompany,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)

LATENESS = (-2, 6, 15, 45, 100)  # days after due: reliable, slipping, slow, late, unresponsive
TERMS_DAYS = 30
AMOUNTS = tuple(Decimal(n * 25) for n in range(4, 80))


def company(invoices: int, as_of: dt.date, *, per_customer: int = 20, name: str = "Bench Co") -> Scenario:
    """`invoices` invoices (a multiple of nothing: the last customer gets the remainder)."""
    if invoices < 1 or per_customer < 1:
        raise ValueError("a bench company needs at least one invoice and one invoice per customer")
    customers, records, payments = [], [], []
    for c in range(-(-invoices // per_customer)):
        customer_id = f"cust-{c}"
        customers.append(
            ScenarioCustomer(
                customer_id,
                f"Customer {c}",
                f"ap@customer{c}.example",
                None,
                "USD",
                TERMS_DAYS,
                habit=f"pays {LATENESS[c % 5]} days after due",
            )
        )
        count = min(per_customer, invoices - c * per_customer)
        for k in range(count):
            n = c * per_customer + k
            issued = as_of - dt.timedelta(days=30 * (count - k) - 29 + (c % 7))
            due = issued + dt.timedelta(days=TERMS_DAYS)
            amount = AMOUNTS[n % len(AMOUNTS)]
            invoice_id = f"inv-{n}"
            records.append(
                ScenarioInvoice(
                    invoice_id,
                    str(10_000 + n),
                    customer_id,
                    issued,
                    due,
                    "USD",
                    (ScenarioLine("Monthly service", amount),),
                )
            )
            paid_on = due + dt.timedelta(days=LATENESS[c % 5])
            if paid_on <= as_of:
                payments.append(ScenarioPayment(f"pay-{n}", customer_id, paid_on, "USD", ((invoice_id, amount),)))
    records.sort(key=lambda invoice: invoice.issue_date)  # entered in date order, as books are
    payments.sort(key=lambda payment: payment.date)
    return Scenario(
        ScenarioCompany(name, "America/Denver", "USD"), as_of, tuple(customers), tuple(records), tuple(payments)
    )


def open_invoice_ids(scenario: Scenario) -> list[str]:
    """Scenario ids of the invoices with a balance on `as_of`, in order."""
    return [invoice.id for invoice in scenario.invoices if scenario.balance_of(invoice) > 0]


def today() -> dt.date:
    """The books' day: the UTC date now, so the sandboxes (on the real clock) and the cycle agree."""
    return dt.datetime.now(dt.UTC).date()
