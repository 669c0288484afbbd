"""Normalized connector records become a scenario (connectors/sandbox/scenario/from_records.py):
every fact the backtest reads is kept, and whatever a scenario cannot hold is rejected with its reason."""

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
    PaymentTerms,
    PostalAddress,
    Rejected,
    TermsKind,
)
from connectors.sandbox.scenario.from_records import Records, scenario_from_records
from connectors.sandbox.scenario.model import ScenarioAllocation, ScenarioCompany, parse_scenario

COMPANY = ScenarioCompany("Books Ltd", "Europe/London", "GBP", locale="en_GB", country="GB")
AS_OF = dt.date(2026, 3, 31)
AT = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)


def _customer(provider_id: str, currency: str = "GBP", **changes: object) -> Customer:
    fields: dict[str, object] = {
        "provider_id": provider_id,
        "name": f"Customer {provider_id}",
        "email": f"{provider_id}@example.com",
        "phone": None,
        "currency": currency,
        "terms_id": None,
        "active": True,
        "updated_at": AT,
        "contacts": (Contact(f"{provider_id}@example.com", f"Customer {provider_id}"),),
    }
    return Customer(**{**fields, **changes})  # type: ignore[arg-type]


def _invoice(
    provider_id: str,
    customer_id: str,
    total: str,
    balance: str | None = None,
    currency: str = "GBP",
    status: InvoiceStatus = InvoiceStatus.OPEN,
) -> Invoice:
    return Invoice(
        provider_id,
        f"INV-{provider_id}",
        customer_id,
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 4),
        Money(Decimal(total), currency),
        Money(Decimal(total if balance is None else balance), currency),
        status,
        AT,
    )


def _payment(provider_id: str, customer_id: str, applied: dict[str, str], unapplied: str | None = None) -> Payment:
    applications = tuple(PaymentApplication(i, Money(Decimal(a), "GBP")) for i, a in applied.items())
    paid = sum((a.amount.amount for a in applications), Decimal(unapplied or 0))
    return Payment(
        provider_id,
        customer_id,
        dt.date(2026, 2, 10),
        Money(paid, "GBP"),
        applications,
        AT,
        unapplied=Money(Decimal(unapplied), "GBP") if unapplied else None,
    )


def test_an_invoice_keeps_its_dates_total_currency_and_status() -> None:
    records = Records(
        [_customer("c1")],
        [
            _invoice("1", "c1", "120.00"),
            _invoice("2", "c1", "40.00", "0", status=InvoiceStatus.VOIDED),
            _invoice("3", "c1", "75.50", "0", status=InvoiceStatus.DRAFT),
        ],
        disputed={"1"},
    )
    converted = scenario_from_records(COMPANY, AS_OF, records)
    assert converted.rejected == ()
    open_one, voided, draft = converted.scenario.invoices
    assert (open_one.issue_date, open_one.due_date, open_one.total, open_one.currency) == (
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 4),
        Decimal("120.00"),
        "GBP",
    )
    assert open_one.disputed and open_one.owed
    # Nobody owes a voided invoice or a draft: the replay never reminds them.
    assert voided.voided and not voided.owed
    assert draft.status == "draft" and not draft.owed
    assert converted.scenario.as_of == AS_OF and converted.scenario.company == COMPANY


def test_the_result_loads_back_as_a_scenario_file_does() -> None:
    address = PostalAddress(("10 Downing St", "Flat 2"), "London", None, "SW1A 2AA", "GB")
    records = Records(
        [_customer("c1", country="GB", billing_address=address)],
        [_invoice("1", "c1", "100.00", "30.00")],
        [_payment("p1", "c1", {"1": "70.00"}, unapplied="5.00")],
    )
    scenario = scenario_from_records(COMPANY, AS_OF, records).scenario
    assert parse_scenario(scenario.to_json()) == scenario
    assert scenario.customers[0].postal_address == address  # the billing address travels with the customer


def test_a_customer_takes_its_invoices_currency_and_one_in_another_currency_is_rejected() -> None:
    # Xero's and QuickBooks' customer currency is only the default for new invoices: a customer
    # billed in euros is a euro customer here, even in a pound company.
    records = Records(
        [_customer("c1", "GBP")],
        [
            _invoice("1", "c1", "100.00", currency="EUR"),
            _invoice("2", "c1", "80.00", currency="EUR"),
            _invoice("3", "c1", "9.00"),
        ],
    )
    converted = scenario_from_records(COMPANY, AS_OF, records)
    assert converted.scenario.customers[0].currency == "EUR"
    assert [i.id for i in converted.scenario.invoices] == ["1", "2"]
    assert converted.rejected == (Rejected("invoice", "3", "in GBP, while the customer's other invoices are in EUR"),)


def test_a_part_payment_keeps_its_date_and_amount_and_its_unapplied_part_is_credit() -> None:
    records = Records(
        [_customer("c1")],
        [_invoice("1", "c1", "100.00", "30.00")],
        [_payment("p1", "c1", {"1": "70.00"}, unapplied="5.00")],
    )
    converted = scenario_from_records(COMPANY, AS_OF, records)
    scenario = converted.scenario
    assert converted.rejected == ()
    (payment,) = scenario.payments
    assert (payment.date, payment.applied) == (dt.date(2026, 2, 10), (("1", Decimal("70.00")),))
    assert scenario.balance_of(scenario.invoices[0]) == Decimal("30.00")
    (credit,) = scenario.credits
    assert (credit.kind, credit.amount, credit.date, credit.customer_id) == (
        "unapplied_payment",
        Decimal("5.00"),
        dt.date(2026, 2, 10),
        "c1",
    )


def test_a_credit_memo_is_a_credit_note_with_its_allocations_dated_on_the_credit() -> None:
    memo = Credit(
        "cm1",
        CreditKind.CREDIT_MEMO,
        "c1",
        "CM-1",
        dt.date(2026, 2, 20),
        Money(Decimal("50.00"), "GBP"),
        Money(Decimal("30.00"), "GBP"),
        AT,
        allocations=(PaymentApplication("1", Money(Decimal("20.00"), "GBP")),),
    )
    records = Records([_customer("c1")], [_invoice("1", "c1", "100.00", "80.00")], credits=[memo])
    converted = scenario_from_records(COMPANY, AS_OF, records)
    assert converted.rejected == ()
    (credit,) = converted.scenario.credits
    assert (credit.kind, credit.number, credit.amount, credit.remaining) == (
        "credit_note",
        "CM-1",
        Decimal("50.00"),
        Decimal("30.00"),
    )
    assert credit.allocations == (ScenarioAllocation("1", Decimal("20.00"), dt.date(2026, 2, 20)),)


def test_records_the_scenario_cannot_hold_are_rejected_with_their_reason() -> None:
    records = Records(
        [
            _customer("c1"),
            _customer("gone", deleted=True),
            _customer("job", parent_id="nobody", bill_with_parent=True),
            _customer("subjob", parent_id="job"),
            _customer("c2", contacts=(Contact(None, "Pat"),)),
        ],
        [
            _invoice("1", "c1", "100.00"),
            _invoice("2", "c1", "10.00", status=InvoiceStatus.DELETED),
            _invoice("3", "job", "10.00"),
            _invoice("4", "c1", "0.00"),
        ],
        [_payment("p1", "c1", {"1": "10.00", "99": "5.00"}), _payment("p2", "gone", {"2": "1.00"})],
    )
    converted = scenario_from_records(COMPANY, AS_OF, records)
    assert [c.id for c in converted.scenario.customers] == ["c1", "c2"]
    assert [i.id for i in converted.scenario.invoices] == ["1"]
    assert converted.scenario.payments[0].applied == (("1", Decimal("10.00")),)
    assert converted.rejected == (
        Rejected("customer", "gone", "deleted in the books"),
        Rejected("customer", "job", "its parent customer nobody is not among the records kept"),
        Rejected("customer", "subjob", "its parent customer job is not among the records kept"),
        Rejected("contact", "c2", "Pat has no email address"),
        Rejected("invoice", "2", "deleted in the books"),
        Rejected("invoice", "3", "its customer job is not among the records kept"),
        Rejected("invoice", "4", "a total of 0.00 GBP: nothing was ever owed on it"),
        Rejected("application", "p1", "pays invoice 99, which is not among the records kept"),
        Rejected("payment", "p2", "its customer gone is not among the records kept"),
        # The books say 100.00 is owed on invoice 1, but the records hold a payment of 10.00 to it.
        Rejected(
            "invoice",
            "1",
            "the books say 100.00 GBP is owed, the payments and credit held here leave 90.00 GBP: "
            "the replay goes by the latter",
        ),
    )


def test_a_credit_allocated_to_an_invoice_not_held_keeps_what_is_left_to_apply() -> None:
    note = Credit(
        "cn1",
        CreditKind.CREDIT_NOTE,
        "c1",
        "CN-1",
        dt.date(2026, 2, 20),
        Money(Decimal("50.00"), "GBP"),
        Money(Decimal("30.00"), "GBP"),
        AT,
        allocations=(PaymentApplication("elsewhere", Money(Decimal("20.00"), "GBP")),),
    )
    converted = scenario_from_records(COMPANY, AS_OF, Records([_customer("c1")], [], credits=[note]))
    (credit,) = converted.scenario.credits
    # What the customer can still apply (30.00) is what matters to the policy, and it is kept.
    assert (credit.amount, credit.remaining, credit.allocations) == (Decimal("30.00"), Decimal("30.00"), ())
    assert [g.entity for g in converted.rejected] == ["allocation", "credit"]
    assert "not its total of 50.00 GBP" in converted.rejected[1].reason


def test_net_day_terms_are_kept_for_the_sandboxes() -> None:
    terms = PaymentTerms("t30", "Net 30", TermsKind.NET_DAYS, days=30)
    # One stream of records, as a connector's pages bring them, sorted by kind.
    records = Records.of([_customer("c1", terms_id="t30"), terms, _customer("c2")])
    assert records.terms == {"t30": terms}
    assert [c.terms_days for c in scenario_from_records(COMPANY, AS_OF, records).scenario.customers] == [30, 0]


def test_a_payment_beyond_what_is_left_of_an_invoice_is_rejected_not_an_overpaid_invoice() -> None:
    records = Records(
        [_customer("c1")],
        [_invoice("1", "c1", "10.00", "0")],
        [_payment("p1", "c1", {"1": "8.00"}), _payment("p2", "c1", {"1": "4.00"})],
    )
    converted = scenario_from_records(COMPANY, AS_OF, records)
    assert [p.id for p in converted.scenario.payments] == ["p1"]
    assert converted.rejected[0] == Rejected(
        "application", "p2", "pays 4.00 more to invoice 1 than is left of its total of 10.00"
    )
