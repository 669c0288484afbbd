"""The built-in schedules replayed beside arpilot: the same invoices, the same days, the same counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from connectors.sandbox.scenario import (
    Scenario,
    ScenarioCompany,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioError,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
    generate_demo_company,
)
from integration.cli import main
from integration.policy.backtest import (
    HABIT_WAIT_CHOICES,
    MAX_LATE_NUDGE_PCT,
    backtest,
    choose_wait,
    paid_in_full_on,
    train_habit_wait,
    with_habit_wait,
)
from integration.policy.baselines import (
    QUICKBOOKS_LIKE,
    XERO_LIKE,
    PolicyFigures,
    count_late_nudges,
    fixed_schedule,
    late_invoices,
)
from integration.policy.rules import Rules

DUE = dt.date(2026, 3, 2)
START, END = dt.date(2026, 2, 1), dt.date(2026, 5, 31)


def _invoice(invoice_id: str, customer_id: str = "c1", due: dt.date = DUE) -> ScenarioInvoice:
    return ScenarioInvoice(
        id=invoice_id,
        number=invoice_id,
        customer_id=customer_id,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        currency="USD",
        lines=(ScenarioLine("Work", Decimal("100.00")),),
    )


def _paid(invoice_id: str, day: dt.date, customer_id: str = "c1") -> ScenarioPayment:
    return ScenarioPayment(
        id=f"p-{invoice_id}",
        customer_id=customer_id,
        date=day,
        currency="USD",
        applied=((invoice_id, Decimal("100.00")),),
    )


def _books() -> Scenario:
    customers = (
        ScenarioCustomer(
            id="c1", name="Emailed Ltd", email="ap@emailed.example", phone=None, currency="USD", terms_days=30
        ),
        ScenarioCustomer(id="c2", name="Phone Only", email=None, phone="555-0100", currency="USD", terms_days=30),
    )
    invoices = (
        _invoice("paid-day-3"),  # paid 3 days after due: the QuickBooks-like day-1 email was a false alarm
        _invoice("paid-day-20"),  # paid between the second and third QuickBooks-like reminders
        _invoice("never-paid"),  # late: every step of both schedules goes out
        _invoice("paid-day-50"),  # late, paid after 30 days
        _invoice("no-email", customer_id="c2"),  # no billing address: no built-in reminder at all
    )
    payments = (
        _paid("paid-day-3", DUE + dt.timedelta(days=3)),
        _paid("paid-day-20", DUE + dt.timedelta(days=20)),
        _paid("paid-day-50", DUE + dt.timedelta(days=50)),
    )
    company = ScenarioCompany(name="Baseline Books", timezone="America/Denver", currency="USD")
    return Scenario(company=company, as_of=END, customers=customers, invoices=invoices, payments=payments)


def test_each_built_in_schedule_emails_every_open_invoice_on_its_days() -> None:
    books = _books()
    paid_on = paid_in_full_on(books)
    quickbooks = fixed_schedule(books, QUICKBOOKS_LIKE, START, END, paid_on, 7)
    # paid-day-3: day 1; paid-day-20: days 1, 15; never-paid: 1, 15, 30; paid-day-50: 1, 15, 30
    assert quickbooks.overdue_reminders == 1 + 2 + 3 + 3
    assert quickbooks.false_alarms == 2  # day 1 of paid-day-3 (paid day 3), day 15 of paid-day-20 (paid day 20)
    xero = fixed_schedule(books, XERO_LIKE, START, END, paid_on, 7)
    # paid-day-3: none; paid-day-20: 7, 14; never-paid: 7, 14, 21, 30, 45; paid-day-50: the same five
    assert xero.overdue_reminders == 0 + 2 + 5 + 5
    assert xero.false_alarms == 2  # day 14 of paid-day-20, day 45 of paid-day-50
    assert "no-email" not in quickbooks.first_nudge and "no-email" not in xero.first_nudge


def test_days_outside_the_period_are_not_counted() -> None:
    books = _books()
    figures = fixed_schedule(books, QUICKBOOKS_LIKE, DUE + dt.timedelta(days=10), END, paid_in_full_on(books), 7)
    assert figures.overdue_reminders == 1 + 2 + 2  # only the days 15 and 30 steps fall in the period


def test_late_invoices_and_who_reached_them_later_than_the_quickbooks_like_schedule() -> None:
    books = _books()
    paid_on = paid_in_full_on(books)
    late = late_invoices(books, START, END, paid_on)
    assert late == {"never-paid": DUE + dt.timedelta(days=1), "paid-day-50": DUE + dt.timedelta(days=1)}
    quickbooks = fixed_schedule(books, QUICKBOOKS_LIKE, START, END, paid_on, 7)
    xero = fixed_schedule(books, XERO_LIKE, START, END, paid_on, 7)
    patient = PolicyFigures("patient", 7)
    patient.overdue_step("never-paid", DUE + dt.timedelta(days=1), None)  # as early as QuickBooks
    for figures in (quickbooks, xero, patient):
        count_late_nudges(figures, late)
    assert (quickbooks.late_invoices, quickbooks.late_nudges) == (2, 0)
    assert (xero.late_nudges, xero.late_nudge_pct) == (2, 100.0)
    assert patient.late_nudges == 1  # paid-day-50 was never nudged


def test_a_call_counts_as_a_nudge_but_not_as_an_overdue_reminder() -> None:
    figures = PolicyFigures("arpilot", 7)
    figures.nudged("inv", DUE)
    figures.overdue_step("inv", DUE + dt.timedelta(days=4), DUE + dt.timedelta(days=5))
    assert figures.first_nudge["inv"] == DUE
    assert (figures.overdue_reminders, figures.false_alarms) == (1, 1)


def test_the_backtest_reports_arpilot_beside_both_schedules() -> None:
    report = backtest(generate_demo_company(), Rules.default(), dt.date(2026, 3, 1), dt.date(2026, 5, 31))
    policies = json.loads(json.dumps(report.as_dict()))["policies"]
    assert set(policies) == {"arpilot", "quickbooks_like", "xero_like"}
    assert policies["arpilot"]["overdue_reminders"] == report.alarm_reminders > 0
    assert policies["quickbooks_like"]["late_nudges"] == 0
    late = {figures.late_invoices for figures in report.policies.values()}
    assert len(late) == 1 and late.pop() > 0, "every policy is measured on the same late invoices"


def test_the_backtest_command_prints_and_emits_the_comparison() -> None:
    runner = CliRunner()
    args = ["backtest", "--from", "2026-04-01", "--to", "2026-04-30"]
    text = runner.invoke(main, args)
    assert text.exit_code == 0, text.output
    assert "QuickBooks-like (1/15/30)" in text.output and "Xero-like (7/14/21/30/45)" in text.output
    data = json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    assert data["policies"]["xero_like"]["false_alarm_days"] == 7


def test_a_disputed_invoice_or_one_covered_by_credit_is_not_a_late_invoice() -> None:
    books = _books()
    disputed = dataclasses.replace(books.invoices[2], disputed=True)  # never-paid, but disputed
    credit = ScenarioCredit("cn-1", "credit_note", "CN-1", "c1", DUE - dt.timedelta(days=10), "USD", Decimal("150.00"))
    for changed, expected in (
        (dataclasses.replace(books, invoices=(*books.invoices[:2], disputed, *books.invoices[3:])), {"paid-day-50"}),
        (dataclasses.replace(books, credits=(credit,)), set()),  # 150.00 unallocated covers each 100.00 invoice
    ):
        assert set(late_invoices(changed, START, END, paid_in_full_on(changed))) == expected


def test_training_tries_each_wait_and_keeps_one_within_the_late_nudge_bound() -> None:
    scenario = generate_demo_company(mix="steady")
    training = train_habit_wait(scenario, Rules.default(), dt.date(2025, 9, 1), dt.date(2025, 11, 30))
    assert set(training.tried) == set(HABIT_WAIT_CHOICES)
    assert training.tried[training.chosen].late_nudge_pct <= MAX_LATE_NUDGE_PCT
    assert training.chosen == choose_wait(training.tried, Rules.default().grace.habit_wait_days)
    assert with_habit_wait(Rules.default(), 7).grace.habit_wait_days == 7
    owners = train_habit_wait(
        scenario, with_habit_wait(Rules.default(), 10), dt.date(2025, 11, 1), dt.date(2025, 11, 30)
    )
    assert set(owners.tried) == {*HABIT_WAIT_CHOICES, 10}  # the owner's own wait is weighed too


def _figures(false_alarms: int, late_nudges: int = 0) -> PolicyFigures:
    figures = PolicyFigures("arpilot", 7, overdue_reminders=200, false_alarms=false_alarms, late_invoices=50)
    figures.late_nudges = late_nudges
    return figures


@pytest.mark.parametrize(
    ("false_alarms", "late_nudges", "chosen"),
    [
        ({0: 40, 7: 21, 14: 20, 21: 21}, {}, 21),  # 0.5 points better is no reason to leave the rules' wait
        ({0: 40, 7: 21, 14: 18, 21: 21}, {}, 14),  # 1.5 points is
        ({0: 40, 7: 18, 14: 18, 21: 21}, {}, 7),  # the shorter on a tie
        ({0: 40, 7: 30, 14: 25, 21: 10}, {21: 2, 14: 2}, 7),  # 4% of late invoices nudged later: not allowed
        ({0: 40, 21: 10}, {0: 2, 21: 2}, 0),  # none within the bound: no wait at all
    ],
)
def test_a_trained_wait_must_beat_the_rules_own_by_a_clear_margin(
    false_alarms: dict[int, int], late_nudges: dict[int, int], chosen: int
) -> None:
    tried = {wait: _figures(alarms, late_nudges.get(wait, 0)) for wait, alarms in false_alarms.items()}
    assert choose_wait(tried, 21) == chosen


def test_the_backtest_command_trains_then_reports_a_later_period() -> None:
    runner = CliRunner()
    args = [
        "backtest",
        "--mix",
        "late",
        "--train",
        "2025-10-01:2025-11-30",
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
    ]
    data = json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    assert data["train"]["habit_wait_days"] in HABIT_WAIT_CHOICES and data["start"] == "2025-12-01"
    overlap = runner.invoke(main, [*args[:4], "2025-10-01:2025-12-15", *args[5:]])
    assert overlap.exit_code != 0 and "--train" in overlap.output
    bad = runner.invoke(main, [*args[:4], "2025-10-01", *args[5:]])
    assert bad.exit_code != 0 and "period" in bad.output


def test_each_mix_is_a_different_company_of_the_same_size() -> None:
    companies = {mix: generate_demo_company(mix=mix) for mix in ("demo", "steady", "late")}
    habits = {mix: sorted(c.habit for c in s.customers) for mix, s in companies.items()}
    assert len({len(h) for h in habits.values()}) == 1 and len({tuple(h) for h in habits.values()}) == 3
    with pytest.raises(ScenarioError, match="unknown mix"):
        generate_demo_company(mix="chaotic")
