"""Late fees (rules.late_fees): eligibility and exact amounts, through decide and on their own."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import Invoice, Money
from integration.policy.actions import ActionKind
from integration.policy.credits import available_credit
from integration.policy.decide import decide
from integration.policy.history import record
from integration.policy.late_fees import fee_amount, places
from integration.policy.rule_errors import RuleError
from integration.policy.rules import LateFees, Rules
from integration.policy.snapshot import (
    Company,
    CustomerOverride,
    History,
    Instalment,
    InvoicePause,
    LateFeeCharge,
    Snapshot,
)
from tests.policy.builders import EPOCH, NOW, TODAY, customer, invoice

COMPANY = Company("Harbor & Pine", "America/Denver", "USD")
DAY = dt.timedelta(days=1)
FIXED = LateFees(enabled=True, kind="fixed", amount=Decimal("25.00"), grace_days=15)
MONTHLY = LateFees(enabled=True, kind="monthly_rate", rate_pct=Decimal("1.5"), grace_days=15, min_days_between=30)


def rules(fees: LateFees = FIXED) -> Rules:
    return dataclasses.replace(Rules.default(), late_fees=fees)


NO_HISTORY = History()


def snap(*invoices: Invoice, history: History = NO_HISTORY, company: Company = COMPANY, **kw: object) -> Snapshot:
    return Snapshot(company, (customer(),), tuple(invoices), history=history, **kw)  # type: ignore[arg-type]


def fees(snapshot: Snapshot, fee_rules: LateFees = FIXED, now: dt.datetime = NOW) -> list:  # type: ignore[type-arg]
    return [a for a in decide(snapshot, rules(fee_rules), now) if a.kind is ActionKind.CHARGE_LATE_FEE]


def test_off_by_default_plans_no_fee() -> None:
    assert Rules.default().late_fees.enabled is False
    assert not [
        a for a in decide(snap(invoice("inv-1", 60)), Rules.default(), NOW) if a.kind is ActionKind.CHARGE_LATE_FEE
    ]


@pytest.mark.parametrize(("days_late", "charged"), [(15, False), (16, True), (90, True), (0, False), (-5, False)])
def test_only_beyond_the_grace_period(days_late: int, charged: bool) -> None:
    assert bool(fees(snap(invoice("inv-1", days_late)))) is charged


def test_fixed_fee_once_per_invoice_with_its_amount_reason_and_stable_key() -> None:
    (fee,) = fees(snap(invoice("inv-1", 20)))
    assert fee.invoice_ids == ("inv-1",)
    assert fee.payload["amount"] == "25.00" and fee.payload["currency"] == "USD"
    assert "20 days past due" in fee.reason and "25.00 USD" in fee.reason
    again = fees(snap(invoice("inv-1", 21, today=TODAY + DAY)), now=NOW + DAY)
    assert again[0].idempotency_key == fee.idempotency_key  # not yet in the books: the same action
    charged = record(History(), [fee], TODAY)
    assert fees(snap(invoice("inv-1", 60), history=charged), now=NOW + 40 * DAY) == []


def test_monthly_rate_is_a_share_of_the_open_balance_once_per_period() -> None:
    (fee,) = fees(snap(invoice("inv-1", 20, total="1000.00", balance="333.33")), MONTHLY)
    assert fee.payload["amount"] == "5.00"  # 1.5% of 333.33 = 4.99995, half up to the cent
    history = History(late_fees=(LateFeeCharge("inv-1", TODAY - 29 * DAY, Decimal("5.00")),))
    assert fees(snap(invoice("inv-1", 49), history=history), MONTHLY) == []
    history = History(late_fees=(LateFeeCharge("inv-1", TODAY - 30 * DAY, Decimal("5.00")),))
    (second,) = fees(snap(invoice("inv-1", 50, total="1000.00", balance="333.33"), history=history), MONTHLY)
    assert second.payload["fee_number"] == 2 and second.idempotency_key != fee.idempotency_key


def test_the_cap_limits_the_fees_on_one_invoice_and_reversed_fees_do_not_count() -> None:
    capped = dataclasses.replace(MONTHLY, cap=Decimal("12.00"))
    past = (LateFeeCharge("inv-1", TODAY - 30 * DAY, Decimal("10.00")),)
    (fee,) = fees(snap(invoice("inv-1", 50, total="1000.00"), history=History(late_fees=past)), capped)
    assert fee.payload["amount"] == "2.00" and "cap" in fee.reason
    full = (LateFeeCharge("inv-1", TODAY - 30 * DAY, Decimal("12.00")),)
    assert fees(snap(invoice("inv-1", 50, total="1000.00"), history=History(late_fees=full)), capped) == []
    reversed_ = (dataclasses.replace(full[0], reversed=True),)
    (again,) = fees(snap(invoice("inv-1", 50, total="1000.00"), history=History(late_fees=reversed_)), capped)
    assert again.payload["amount"] == "12.00"


def test_a_reversed_fixed_fee_is_not_charged_again() -> None:
    past = (LateFeeCharge("inv-1", TODAY - 5 * DAY, Decimal("25.00"), "fee-1", reversed=True),)
    assert fees(snap(invoice("inv-1", 60), history=History(late_fees=past))) == []


@pytest.mark.parametrize(
    ("currency", "booked", "rate", "balance", "expected"),
    [
        ("JPY", None, "1.5", "123457", "1852"),  # 1851.855: yen have no minor unit
        ("USD", None, "1.5", "100.01", "1.50"),  # 1.50015
        ("BHD", None, "1.5", "100.001", "1.500"),  # fils: three places
        ("BHD", 2, "1.5", "100.001", "1.50"),  # books that keep two places (Xero) get two
        ("JPY", 2, "1.5", "123457", "1852"),  # ... and never more than the currency has
        ("EUR", None, "2", "0.24", "0.00"),  # rounds to nothing: no fee
    ],
)
def test_amounts_are_rounded_to_the_currency_minor_unit_or_the_books_places(
    currency: str, booked: int | None, rate: str, balance: str, expected: str
) -> None:
    fee_rules = dataclasses.replace(MONTHLY, rate_pct=Decimal(rate))
    amount, capped = fee_amount(fee_rules, Decimal(balance), places(currency, booked), Decimal(0))
    assert str(amount) == expected and not capped


def test_a_fixed_fee_in_yen_is_whole_yen() -> None:
    fee_rules = dataclasses.replace(FIXED, amount=Decimal("500.50"))
    assert fee_amount(fee_rules, Decimal("10000"), places("JPY"), Decimal(0)) == (Decimal("501"), False)


def test_never_on_a_disputed_promised_or_planned_invoice() -> None:
    late = [invoice(f"inv-{n}", 40) for n in range(1, 5)]
    pauses = {
        "inv-1": InvoicePause("inv-1", disputed=True),
        "inv-2": InvoicePause("inv-2", promise_to_pay=TODAY - 20 * DAY),  # even a broken promise
        "inv-3": InvoicePause("inv-3", plan=(Instalment(TODAY + 10 * DAY, Decimal("50")),)),
    }
    assert [a.invoice_ids for a in fees(snap(*late, pauses=pauses))] == [("inv-4",)]


@pytest.mark.parametrize(
    "override",
    [
        CustomerOverride("c1", excluded=True),
        CustomerOverride("c1", paused=True),
        CustomerOverride("c1", opted_out=True),
    ],
)
def test_never_on_customers_the_owner_excluded_paused_or_who_opted_out(override: CustomerOverride) -> None:
    assert fees(snap(invoice("inv-1", 40), overrides={"c1": override})) == []


def test_never_while_the_customer_holds_credit() -> None:
    from connectors.contract import Credit, CreditKind

    credit = Credit(
        "cm-1", CreditKind.CREDIT_MEMO, "c1", "CM1", TODAY, Money(Decimal(10), "USD"), Money(Decimal(10), "USD"), EPOCH
    )
    assert available_credit([credit])
    assert fees(snap(invoice("inv-1", 40), credits=(credit,))) == []


def test_never_on_a_fee_invoice_itself() -> None:
    past = (LateFeeCharge("inv-1", TODAY - 30 * DAY, Decimal("25.00"), "inv-fee"),)
    found = fees(snap(invoice("inv-1", 60), invoice("inv-fee", 30), history=History(late_fees=past)))
    assert found == []


def test_rules_are_checked_with_clear_errors_and_round_trip() -> None:
    with pytest.raises(RuleError, match=r"^late_fees.kind: must be one of fixed, monthly_rate"):
        Rules.from_json({"late_fees": {"kind": "weekly"}})
    with pytest.raises(RuleError, match=r"^late_fees.rate_pct: must be an amount from 0 to 10"):
        Rules.from_json({"late_fees": {"rate_pct": "25"}})
    with pytest.raises(RuleError, match=r"^late_fees.amount: must be more than 0"):
        Rules.from_json({"late_fees": {"enabled": True, "amount": "0"}})
    with pytest.raises(RuleError, match=r"^late_fees.xero_account_code"):
        Rules.from_json({"late_fees": {"xero_account_code": "20 0"}})
    with pytest.raises(RuleError, match=r"^late_fees.min_days_between"):
        Rules.from_json({"late_fees": {"min_days_between": 7}})
    on = rules(dataclasses.replace(MONTHLY, cap=Decimal("40"), xero_account_code="260"))
    assert Rules.from_json(on.to_json()) == on
    assert Rules.from_json({}).late_fees == LateFees()


@pytest.mark.parametrize(
    ("home", "booked", "expected"),
    [("USD", None, "1.50"), ("JPY", None, "1852"), ("BHD", None, "1.500"), ("BHD", 2, "1.50")],
)
def test_of_a_customer_owing_in_three_currencies_only_the_invoice_in_the_companys_own_is_charged(
    home: str, booked: int | None, expected: str
) -> None:
    """The fee and the cap are in the company's currency (the credit policy names them so): an invoice
    in another currency is not charged, for the rules hold no rate of exchange. The one charged is
    exact to its minor unit, or to the places the books keep."""
    late = [
        dataclasses.replace(
            invoice(f"inv-{currency}", 40),
            total=Money(Decimal(amount), currency),
            balance=Money(Decimal(amount), currency),
        )
        for currency, amount in (("USD", "100.01"), ("JPY", "123457"), ("BHD", "100.001"))
    ]
    company = dataclasses.replace(COMPANY, currency=home, booked_places=booked)
    for fee_rules in (MONTHLY, FIXED):
        found = {a.payload["currency"] for a in fees(snap(*late, company=company), fee_rules)}
        assert found == {home}
    (charged,) = fees(snap(*late, company=company), MONTHLY)
    assert charged.payload["amount"] == expected
