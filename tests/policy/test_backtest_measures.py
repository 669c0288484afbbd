"""The backtest's per-policy measures (emails, calls, holds, reminders to settled invoices, days to pay)
on a book small enough to count by hand."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import integration.policy.backtest as backtest_module
from connectors.sandbox.scenario import (
    Scenario,
    ScenarioCompany,
    ScenarioCredit,
    ScenarioCustomer,
    ScenarioInvoice,
    ScenarioLine,
    ScenarioPayment,
)
from integration.cli import main
from integration.policy.actions import ActionKind, PlannedAction
from integration.policy.backtest import backtest, paid_in_full_on
from integration.policy.baselines import QUICKBOOKS_LIKE, XERO_LIKE, days_to_pay, fixed_schedule
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot

DUE = dt.date(2026, 3, 2)
START, END = dt.date(2026, 2, 1), dt.date(2026, 5, 31)


def _day(offset: int) -> dt.date:
    return DUE + dt.timedelta(days=offset)


def _customer(customer_id: str) -> ScenarioCustomer:
    return ScenarioCustomer(
        id=customer_id, name=customer_id, email=f"ap@{customer_id}.example", phone=None, currency="USD", terms_days=30
    )


def _invoice(invoice_id: str, customer_id: str) -> ScenarioInvoice:
    return ScenarioInvoice(
        id=invoice_id,
        number=invoice_id,
        customer_id=customer_id,
        issue_date=_day(-30),
        due_date=DUE,
        currency="USD",
        lines=(ScenarioLine("Work", Decimal("100.00")),),
    )


def _payment(invoice_id: str, customer_id: str, offset: int, amount: str = "100.00") -> ScenarioPayment:
    return ScenarioPayment(f"p-{invoice_id}", customer_id, _day(offset), "USD", ((invoice_id, Decimal(amount)),))


def _books() -> Scenario:
    """early (paid 3 days after due) and later (paid after 20 days) owe nothing to credit; in-credit owes
    100.00, pays 50.00 on day 10, and its customer has held 60.00 of unallocated credit since before
    the due date: from day 10 on the credit covers what is left."""
    return Scenario(
        company=ScenarioCompany(name="Counted Books", timezone="America/Denver", currency="USD"),
        as_of=END,
        customers=(_customer("c1"), _customer("c2")),
        invoices=(_invoice("early", "c1"), _invoice("later", "c1"), _invoice("in-credit", "c2")),
        payments=(_payment("early", "c1", 3), _payment("later", "c1", 20), _payment("in-credit", "c2", 10, "50.00")),
        credits=(ScenarioCredit("cn-1", "credit_note", "CN-1", "c2", _day(-10), "USD", Decimal("60.00")),),
    )


def test_a_built_in_schedule_emails_invoices_its_customers_credit_covers() -> None:
    books = _books()
    paid_on = paid_in_full_on(books)
    quickbooks = fixed_schedule(books, QUICKBOOKS_LIKE, START, END, paid_on, 7)
    # early: day 1; later: days 1, 15; in-credit: days 1, 15, 30, covered by the credit on 15 and 30.
    assert (quickbooks.emails, quickbooks.settled_reminders) == (1 + 2 + 3, 2)
    xero = fixed_schedule(books, XERO_LIKE, START, END, paid_on, 7)
    # early: none; later: days 7, 14; in-credit: days 7, 14, 21, 30, 45, covered from 14 on.
    assert (xero.emails, xero.settled_reminders) == (0 + 2 + 5, 4)
    assert (quickbooks.calls, quickbooks.holds, xero.calls, xero.holds) == (0, 0, 0, 0)


def test_days_to_pay_is_the_average_from_due_date_to_payment_in_full_within_the_period() -> None:
    books = _books()
    paid_on = paid_in_full_on(books)
    assert days_to_pay(books, paid_on, START, END) == (3 + 20) / 2  # in-credit is never paid in full
    assert days_to_pay(books, paid_on, START, _day(10)) == 3
    assert days_to_pay(books, paid_on, _day(21), END) is None


def _action(kind: ActionKind, invoice_ids: tuple[str, ...], stage: str | None = None) -> PlannedAction:
    payload = {"invoice_stages": dict.fromkeys(invoice_ids, stage)} if kind is ActionKind.SEND_REMINDER else {}
    return PlannedAction(kind, "c2", invoice_ids, stage, (), "scripted", f"{kind.value}-{stage}", payload=payload)


def test_arpilot_counts_its_emails_calls_holds_and_reminders_to_settled_invoices(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A scripted policy, so that the counts are known: on day 5 one email names in-credit (not yet
    covered); on day 12 one email names it again (covered since day 10), with a call and a hold."""
    script = {
        _day(5): [_action(ActionKind.SEND_REMINDER, ("in-credit",), "reminder_1")],
        _day(12): [
            _action(ActionKind.SEND_REMINDER, ("in-credit",), "reminder_2"),
            _action(ActionKind.CREATE_CALL_TASK, ("in-credit",)),
            _action(ActionKind.CREDIT_HOLD_ON, ("in-credit",)),
        ],
    }

    def scripted(snapshot: Snapshot, rules: Rules, now: dt.datetime) -> list[PlannedAction]:
        return script.get(now.astimezone(ZoneInfo("America/Denver")).date(), [])

    monkeypatch.setattr(backtest_module, "decide", scripted)
    report = backtest(_books(), Rules.default(), START, END)
    figures = report.arpilot
    assert (figures.emails, figures.calls, figures.holds, figures.settled_reminders) == (2, 1, 1, 1)
    assert (report.emails, report.call_tasks, report.settled_reminders) == (2, 1, 1)
    assert {f.days_to_pay for f in report.policies.values()} == {report.days_to_pay} == {11.5}


@pytest.mark.parametrize("as_json", [True, False])
def test_the_command_reports_every_measure_per_policy(as_json: bool) -> None:
    args = ["backtest", "--from", "2026-04-01", "--to", "2026-04-30"]
    result = CliRunner().invoke(main, [*args, "--json"] if as_json else args)
    assert result.exit_code == 0, result.output
    if as_json:
        data = json.loads(result.stdout)
        assert {"emails", "call_tasks", "reminders_to_paid_or_credited", "false_alarm_pct"} <= set(data)
        for figures in data["policies"].values():
            assert {"emails", "calls", "holds", "reminders_to_paid_or_credited", "days_to_pay"} <= set(figures)
            assert figures["days_to_pay"] == data["days_to_pay"]
        assert data["policies"]["arpilot"]["calls"] == data["call_tasks"]
    else:
        assert result.output.count(" calls, ") == 3 and "days to pay: " in result.output
        assert "observed" in result.output
