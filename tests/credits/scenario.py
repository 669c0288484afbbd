"""A small company whose customers hold credit, as the scenario format writes it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.sandbox.scenario import (
    Scenario,
    ScenarioAllocation,
    ScenarioCompany,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)


def credit_scenario(as_of: dt.date) -> Scenario:
    """cust-01 owes 40.00, 95 days late, and holds 92.50 of credit note CN-0001; cust-02 owes 100.00,
    10 days late, with 20.00 of credit; cust-03's INV-0008 was settled by a credit note (a zero-total
    application in QuickBooks), its INV-0009 by money 30 days ago; cust-04 paid INV-0010 and INV-0011
    with one payment and owes INV-0012 and INV-0013, a few days late."""
    day = dt.timedelta(days=1)
    customers = tuple(
        ScenarioCustomer(f"cust-0{n}", name, f"ap@{name.split()[0].lower()}.example", None, "USD", 30)
        for n, name in enumerate(("Cool Cars", "Partial Parts", "Zero Zone", "Multi Mart"), start=1)
    )

    def invoice(n: int, customer: int, due_days_ago: int, amount: str) -> ScenarioInvoice:
        due = as_of - due_days_ago * day
        return ScenarioInvoice(
            f"inv-{n}",
            f"INV-{n:04d}",
            f"cust-0{customer}",
            due - 30 * day,
            due,
            "USD",
            (ScenarioLine("Detailing", Decimal(amount)),),
        )

    invoices = (
        invoice(3, 1, 95, "40.00"),
        invoice(7, 2, 10, "100.00"),
        invoice(8, 3, 20, "40.00"),
        invoice(9, 3, 40, "60.00"),
        invoice(10, 4, 50, "70.00"),
        invoice(11, 4, 45, "30.00"),
        invoice(12, 4, 3, "50.00"),
        invoice(13, 4, 2, "50.00"),
    )
    payments = (
        ScenarioPayment("pay-9", "cust-03", as_of - 30 * day, "USD", (("inv-9", Decimal("60.00")),)),
        ScenarioPayment(
            "pay-10", "cust-04", as_of - 20 * day, "USD", (("inv-10", Decimal("70.00")), ("inv-11", Decimal("30.00")))
        ),
    )
    credits = (
        ScenarioCredit("cn-1", "credit_note", "CN-0001", "cust-01", as_of - 20 * day, "USD", Decimal("92.50")),
        ScenarioCredit("cn-2", "credit_note", "CN-0002", "cust-02", as_of - 15 * day, "USD", Decimal("20.00")),
        ScenarioCredit(
            "cn-3",
            "credit_note",
            "CN-0003",
            "cust-03",
            as_of - 25 * day,
            "USD",
            Decimal("40.00"),
            (ScenarioAllocation("inv-8", Decimal("40.00"), as_of - 5 * day),),
        ),
    )
    return Scenario(
        ScenarioCompany("Harbor & Pine Landscaping", "America/Denver", "USD", region="CO"),
        as_of,
        customers,
        invoices,
        payments,
        credits,
    )
