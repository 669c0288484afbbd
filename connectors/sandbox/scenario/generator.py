"""A deterministic demo company: about 40 customers with distinct payment habits over 18 months.

The same seed and as-of date always give the same books. Each habit is a rule for when an invoice
gets paid relative to its due date; a payment dated after `as_of` has not happened yet, so that
invoice is still open on the scenario's day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from connectors.sandbox.scenario.model import (
    Scenario,
    ScenarioCompany,
    ScenarioContact,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioError,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class _Profile:
    habit: str
    count: int
    cadence_days: tuple[int, int]  # days between invoices


PROFILES = (
    _Profile("reliable", 12, (21, 40)),
    _Profile("month_end_slipper", 6, (20, 35)),
    _Profile("slow_but_steady", 7, (25, 45)),
    _Profile("habitually_late", 6, (25, 45)),
    _Profile("unresponsive", 3, (30, 60)),
    _Profile("new", 4, (14, 30)),
)
# Other companies for judging the policy on more than one mix of habits (same 38 customers' worth):
# "steady", where most customers pay on time or steadily late, and "late", where most slip.
MIXES: dict[str, tuple[_Profile, ...]] = {
    "demo": PROFILES,
    "steady": (
        _Profile("reliable", 16, (21, 40)),
        _Profile("month_end_slipper", 6, (20, 35)),
        _Profile("slow_but_steady", 10, (25, 45)),
        _Profile("habitually_late", 2, (25, 45)),
        _Profile("unresponsive", 1, (30, 60)),
        _Profile("new", 3, (14, 30)),
    ),
    "late": (
        _Profile("reliable", 6, (21, 40)),
        _Profile("month_end_slipper", 4, (20, 35)),
        _Profile("slow_but_steady", 6, (25, 45)),
        _Profile("habitually_late", 12, (25, 45)),
        _Profile("unresponsive", 6, (30, 60)),
        _Profile("new", 4, (14, 30)),
    ),
}

NAMES = (
    "Acme Plumbing",
    "Birch & Co",
    "Cobalt Dental",
    "Delta Freight",
    "Evergreen Bakery",
    "Fable Books",
    "Granite Gym",
    "Harbor Vet Clinic",
    "Iris Florals",
    "Juniper Cafe",
    "Keystone Roofing",
    "Lumen Studio",
    "Maple Street Deli",
    "Northwind Traders",
    "Orchard Pediatrics",
    "Pioneer Auto",
    "Quarry Stoneworks",
    "Riverbend Realty",
    "Summit Yoga",
    "Tidewater Marine",
    "Upland Outfitters",
    "Vista Optics",
    "Willow Salon",
    "Xenon Labs",
    "Yellowtail Sushi",
    "Zephyr Cycles",
    "Alder Architects",
    "Bluebird Daycare",
    "Cedar Hill Winery",
    "Dune Surf Shop",
    "Ember Coffee Roasters",
    "Foxglove Events",
    "Gale Electric",
    "Hollow Oak Farm",
    "Ironclad Security",
    "Jasper Print Shop",
    "Kiln Pottery",
    "O'Brien\\Sons Hardware",
)

# Where the demo's customers are: around the company's Colorado base, so each one's time zone is
# the company's own and the demo decides exactly what it decided before customers had addresses
# (bench/policy_identity.py); one has no postal address in the books at all (its letters say so).
# Picked by the customer's number, never by the random habits.
COLORADO = (
    ("Boulder", "80302"),
    ("Denver", "80202"),
    ("Longmont", "80501"),
    ("Louisville", "80027"),
    ("Lafayette", "80026"),
    ("Golden", "80401"),
    ("Broomfield", "80020"),
    ("Fort Collins", "80524"),
    ("Lakewood", "80226"),
    ("Arvada", "80002"),
    ("Loveland", "80537"),
    ("Westminster", "80031"),
)
STREETS = (
    "Pearl St",
    "Walnut St",
    "Arapahoe Ave",
    "Baseline Rd",
    "Broadway",
    "Canyon Blvd",
    "Folsom St",
    "Table Mesa Dr",
)
NO_POSTAL_ADDRESS = ("unresponsive", 0)


def _address(index: int, habit: str, position: int) -> dict[str, Any]:
    """The address fields of customer number `index` (ScenarioCustomer's street, city, region, postal code, country)."""
    return {} if (habit, position) == NO_POSTAL_ADDRESS else _colorado(index)


def _colorado(index: int) -> dict[str, Any]:
    city, postal_code = COLORADO[index % len(COLORADO)]
    street: tuple[str, ...] = (f"{100 + index * 137 % 2900} {STREETS[index % len(STREETS)]}",)
    if index % 5 == 0:
        street += (f"Suite {100 + index}",)
    return {"street": street, "city": city, "region": "CO", "postal_code": postal_code, "country": "US"}


SERVICES = (
    "Monthly maintenance",
    "Landscape design",
    "Irrigation repair",
    "Seasonal cleanup",
    "Tree trimming",
    "Snow removal",
    "Planting",
    "Hardscape materials",
)


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _payment_day(habit: str, invoice: ScenarioInvoice, rng: random.Random) -> dt.date | None:
    due = invoice.due_date or invoice.issue_date
    if habit == "reliable":
        return due + dt.timedelta(days=rng.randint(-8, 2))
    if habit == "month_end_slipper":
        # On time, except when the due date falls in the last days of a month: then paid after
        # their own month-end close, around the 10th of the next month.
        if due.day >= 22:
            return _add_months(due.replace(day=1), 1).replace(day=rng.randint(8, 14))
        return due + dt.timedelta(days=rng.randint(-4, 1))
    if habit == "slow_but_steady":
        return due + dt.timedelta(days=rng.randint(14, 26))
    if habit == "habitually_late":
        return due + dt.timedelta(days=rng.randint(28, 80))
    if habit == "unresponsive":
        return due + dt.timedelta(days=rng.randint(70, 140)) if rng.random() < 0.3 else None
    return due + dt.timedelta(days=rng.randint(-3, 3))  # new customers: no pattern yet


def generate_demo_company(
    seed: int = 7, as_of: dt.date = dt.date(2026, 11, 23), months: int = 18, mix: str = "demo"
) -> Scenario:
    """The demo company's books as they stand on `as_of`, built from `seed` alone; `mix` (MIXES)
    changes how many customers have each habit."""
    if mix not in MIXES:
        raise ScenarioError(f"unknown mix {mix!r}; known: {', '.join(MIXES)}")
    rng = random.Random(seed)
    start = _add_months(as_of, -months)
    company = ScenarioCompany(
        name="Harbor & Pine Landscaping",
        timezone="America/Denver",
        currency="USD",
        locale="en_US",
        country="US",
        region="CO",
        email="accounts@harborpine.example",
        street=("2150 Pearl St",),
        city="Boulder",
        postal_code="80302",
    )
    customers: list[ScenarioCustomer] = []
    invoices: list[ScenarioInvoice] = []
    payments: list[ScenarioPayment] = []
    names = iter(NAMES)
    invoice_number = 1001

    for profile in MIXES[mix]:
        for position in range(profile.count):
            index = len(customers) + 1
            name = next(names)
            customer_id = f"cust-{index:02d}"
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:16]
            # Two customers bill in euros; one has no email address on file at all.
            currency = "EUR" if (profile.habit, position) in {("reliable", 3), ("habitually_late", 2)} else "USD"
            email = None if (profile.habit, position) == ("slow_but_steady", 1) else f"ap@{slug}.example"
            contacts: tuple[ScenarioContact, ...] = ()
            if email and position % 2 == 0:
                contacts = (
                    ScenarioContact("Accounts Payable", f"payables@{slug}.example", "accounts_payable"),
                    ScenarioContact(f"Owner of {name}", f"owner@{slug}.example", "owner"),
                )
            terms_days = 15 if position % 4 == 3 else 30
            customers.append(
                ScenarioCustomer(
                    id=customer_id,
                    name=name,
                    email=email,
                    phone=f"+1-555-{rng.randint(200, 999):03d}-{rng.randint(0, 9999):04d}",
                    currency=currency,
                    terms_days=terms_days,
                    habit=profile.habit,
                    contacts=contacts,
                    **_address(index, profile.habit, position),
                )
            )

            base_amount = Decimal(rng.randint(300, 4500))
            issue = (
                as_of - dt.timedelta(days=rng.randint(20, 60))
                if profile.habit == "new"
                else start + dt.timedelta(days=rng.randint(0, 30))
            )
            while issue <= as_of - dt.timedelta(days=2):
                lines = tuple(
                    ScenarioLine(rng.choice(SERVICES), (base_amount * Decimal(rng.uniform(0.4, 1.2))).quantize(CENT))
                    for _ in range(rng.randint(1, 3))
                )
                invoice = ScenarioInvoice(
                    id=f"inv-{invoice_number}",
                    number=str(invoice_number),
                    customer_id=customer_id,
                    issue_date=issue,
                    due_date=issue + dt.timedelta(days=terms_days),
                    currency=currency,
                    lines=lines,
                )
                invoice_number += 1
                invoices.append(invoice)
                paid_on = _payment_day(profile.habit, invoice, rng)
                if paid_on is not None:
                    paid_on = max(paid_on, invoice.issue_date)
                    if profile.habit == "habitually_late" and rng.random() < 0.25:
                        # Pays half first, the rest weeks later: exercises partial payments.
                        half = (invoice.total / 2).quantize(CENT)
                        first = paid_on - dt.timedelta(days=rng.randint(15, 25))
                        instalments = [(max(first, invoice.issue_date), half), (paid_on, invoice.total - half)]
                    else:
                        instalments = [(paid_on, invoice.total)]
                    for day, amount in instalments:
                        if day <= as_of:
                            payments.append(
                                ScenarioPayment(
                                    id=f"pay-{len(payments) + 1:05d}",
                                    customer_id=customer_id,
                                    date=day,
                                    currency=currency,
                                    applied=((invoice.id, amount),),
                                )
                            )
                issue += dt.timedelta(days=rng.randint(*profile.cadence_days))

    invoices, payments = _mark_special_cases(invoices, payments, as_of)
    next_number = _add_account_structure(customers, invoices, payments, as_of, invoice_number)
    credits = _customer_in_credit(customers, invoices, next_number, as_of)
    return Scenario(
        company=company,
        as_of=as_of,
        customers=tuple(customers),
        invoices=tuple(invoices),
        payments=tuple(sorted(payments, key=lambda p: (p.date, p.id))),
        credits=credits,
    )


def _customer_in_credit(
    customers: list[ScenarioCustomer], invoices: list[ScenarioInvoice], number: int, as_of: dt.date
) -> tuple[ScenarioCredit, ...]:
    """A customer who owes 40.00, 35 days overdue, while holding 92.50 of unallocated credit note
    CN-0001: arpilot asks the owner to apply the credit instead of chasing them. Added after the
    others, so the random habits of the rest of the company stay as they were."""
    customer_id = f"cust-{len(customers) + 1:02d}"
    customers.append(
        ScenarioCustomer(
            customer_id,
            "Lark Coffee Carts",
            "ap@larkcoffee.example",
            "+1-555-240-0311",
            "USD",
            30,
            habit="in_credit",
            **_colorado(len(customers) + 1),
        )
    )
    issued = as_of - dt.timedelta(days=65)
    invoices.append(
        ScenarioInvoice(
            f"inv-{number}",
            str(number),
            customer_id,
            issued,
            issued + dt.timedelta(days=30),
            "USD",
            (ScenarioLine("Irrigation repair", Decimal("40.00")),),
        )
    )
    return (
        ScenarioCredit(
            "cn-0001", "credit_note", "CN-0001", customer_id, as_of - dt.timedelta(days=50), "USD", Decimal("92.50")
        ),
    )


def _mark_special_cases(
    invoices: list[ScenarioInvoice], payments: list[ScenarioPayment], as_of: dt.date
) -> tuple[list[ScenarioInvoice], list[ScenarioPayment]]:
    """A reliable customer disputes their last invoice over a month past due (so it is still
    unpaid), and an unresponsive customer's oldest open invoice was voided."""
    cutoff = as_of - dt.timedelta(days=35)
    disputed = max(
        (i for i in invoices if i.customer_id == "cust-02" and i.due_date and i.due_date <= cutoff),
        key=lambda i: i.issue_date,
    )
    paid = {invoice_id for p in payments for invoice_id, _ in p.applied}
    voided = min((i for i in invoices if i.customer_id == "cust-33" and i.id not in paid), key=lambda i: i.issue_date)
    marked = [
        replace(i, disputed=True) if i is disputed else replace(i, voided=True) if i is voided else i for i in invoices
    ]
    return marked, [p for p in payments if all(inv != disputed.id for inv, _ in p.applied)]


def _add_account_structure(
    customers: list[ScenarioCustomer],
    invoices: list[ScenarioInvoice],
    payments: list[ScenarioPayment],
    as_of: dt.date,
    number: int,
) -> int:
    """The shapes real books have (#13), appended after the generated cast so it stays as it was:
    a QuickBooks job billed with its parent, a customer with two addresses in one field, and an
    invoice still awaiting approval (Xero SUBMITTED, never chased). Returns the next free invoice number."""
    customers += [
        ScenarioCustomer(
            "cust-39",
            "Freeman Sporting Goods",
            "ap@freemansports.example",
            "+1-555-390-0101",
            "USD",
            30,
            habit="new",
            **_colorado(39),
        ),
        ScenarioCustomer(
            "cust-40",
            "0969 Ocean View Road",
            "ap@freemansports.example",
            None,
            "USD",
            30,
            habit="new",
            parent_id="cust-39",
            bill_with_parent=True,
        ),
        ScenarioCustomer(
            "cust-41",
            "Bayside Dental Group",
            "ap@baysidedental.example, office@baysidedental.example",
            "+1-555-410-0101",
            "USD",
            30,
            habit="new",
            **_colorado(41),
        ),
    ]
    # (customer, days before as_of it was issued, amount, status, paid days after its due date or None)
    plan = [
        ("cust-39", 150, "1840.00", "approved", 20),
        ("cust-39", 50, "920.00", "approved", None),
        ("cust-40", 120, "655.00", "approved", 18),
        ("cust-40", 75, "1210.00", "approved", None),
        ("cust-41", 40, "480.00", "approved", None),
        ("cust-41", 70, "2250.00", "submitted", None),
    ]
    for offset, (customer_id, issued_ago, amount, status, paid_after) in enumerate(plan):
        issued = as_of - dt.timedelta(days=issued_ago)
        invoice = ScenarioInvoice(
            id=f"inv-{number + offset}",
            number=str(number + offset),
            customer_id=customer_id,
            issue_date=issued,
            due_date=issued + dt.timedelta(days=30),
            currency="USD",
            lines=(ScenarioLine("Landscape maintenance", Decimal(amount)),),
            status=status,
        )
        invoices.append(invoice)
        if paid_after is not None:
            payments.append(
                ScenarioPayment(
                    id=f"pay-{invoice.id}",
                    customer_id=customer_id,
                    date=issued + dt.timedelta(days=30 + paid_after),
                    currency="USD",
                    applied=((invoice.id, invoice.total),),
                )
            )
    return number + len(plan)  # the next free invoice number
