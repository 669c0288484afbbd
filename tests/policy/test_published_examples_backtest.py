"""The backtest on the providers' published example payloads (tests/fixtures/real/), as the real
mappings read them (connectors/sandbox/scenario/published.py), not only on generated companies.

Every figure below is counted by hand from the payloads and the default rules (rules.py: check-in
3 days after issue; courtesy 3 days before due; reminder_1, reminder_2, past_due_30, past_due_60 and
final_notice 1, 14, 30, 60 and 90 days after due, a call task from reminder_2 on, a credit hold at
60 days, an escalation with the final notice; QuickBooks-like 1/15/30 and Xero-like
7/14/21/30/45 days after due; a late invoice is unpaid 30 days after its due date). Days are the
company's own: a cycle runs at the opening of its send window, local time.

What the examples are, in short:
- Xero: INV-0001, 40.00 NZD, VOIDED; INV-0002, 46.00, due 2018-12-30, paid in full 2018-11-29;
  INV-0003, 115.00, issued 2018-11-02, due 2018-11-07, never paid; all three for one contact that
  has no history before them (a new customer), all in the organisation's own NZD.
- QuickBooks: invoice 1070 (Id 239), 150.00 USD, issued 2015-07-24, due 2015-08-23, open;
  invoice 1024 (Id 70), 71.00 open, paid 55.00 on 2015-01-16 by a payment of 65.00 whose
  unapplied 10.00 is the customer's credit; due 2015-02-15 (what published.py adds, and why).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.contract import Rejected
from connectors.sandbox.scenario import ScenarioError
from connectors.sandbox.scenario.published import EXAMPLES, published_scenario
from integration.cli import main
from integration.policy.actions import ActionKind
from integration.policy.backtest import BacktestReport, backtest, decision_time
from integration.policy.decide import decide
from integration.policy.rules import Rules
from integration.policy.scenario_snapshot import snapshot_from_scenario

# Periods that hold every date of each provider's examples and 90 days past the last due date.
XERO_PERIOD = (dt.date(2018, 10, 1), dt.date(2019, 3, 31))
QUICKBOOKS_PERIOD = (dt.date(2015, 1, 1), dt.date(2015, 12, 31))

INV_0001 = "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2"
INV_0002 = "046d8a6d-1ae1-4b4d-9340-5601bdf41b87"
INV_0003 = "7ef31b20-de17-4312-8382-412f869b1510"
BARNEY = "a3675fc4-f8dd-4f03-ba5b-f1870566bcd7"


@pytest.fixture(scope="module")
def xero() -> BacktestReport:
    return backtest(published_scenario("xero").scenario, Rules.default(), *XERO_PERIOD)


@pytest.fixture(scope="module")
def quickbooks() -> BacktestReport:
    return backtest(published_scenario("quickbooks").scenario, Rules.default(), *QUICKBOOKS_PERIOD)


def test_the_xero_examples_become_a_scenario_and_the_refund_is_rejected_with_its_reason() -> None:
    converted = published_scenario("xero")
    scenario = converted.scenario
    # The spec's Organisation example: NZD, New Zealand's zone; read on 2019-03-12 UTC (the
    # payments response's DateTimeUTC), which is the 13th in Auckland.
    assert (scenario.company.currency, scenario.company.timezone, scenario.as_of) == (
        "NZD",
        "Pacific/Auckland",
        dt.date(2019, 3, 13),
    )
    # The two contacts of the contacts example, then the invoices' own contact, added.
    assert [c.name for c in scenario.customers] == ["Katherine Warren", "Lisa Parker", "Barney Rubble-83203"]
    assert [(i.number, i.voided, scenario.balance_of(i)) for i in scenario.invoices] == [
        ("INV-0001", True, Decimal(0)),
        ("INV-0002", False, Decimal(0)),
        ("INV-0003", False, Decimal("115.00")),
    ]
    # The ARCREDITPAYMENT refunds a credit note; it pays no invoice, and is said to be left out.
    assert converted.rejected == (
        Rejected(
            "payment",
            "6b037c9b-2e5d-4905-84d3-eabfb3438242",
            "PaymentType ARCREDITPAYMENT, 2.00 on ACCRECCREDIT CN-0005: "
            "money paid back to a customer, not a receipt against an invoice",
        ),
    )


def test_the_quickbooks_examples_become_a_scenario_with_the_part_paid_invoice_and_its_credit() -> None:
    converted = published_scenario("quickbooks")
    scenario = converted.scenario
    # Nothing is left out: the unapplied 10.00 becomes credit, and invoice 70's balance in the books
    # (71.00 - 55.00) is what its one payment leaves.
    assert converted.rejected == ()
    assert (scenario.company.currency, scenario.company.timezone, scenario.as_of) == (
        "USD",
        "America/Los_Angeles",
        dt.date(2015, 7, 28),
    )
    by_id = {c.id: c for c in scenario.customers}
    assert by_id["8"].parent_id == "7" and by_id["8"].bill_with_parent and by_id["7"].name == "Freeman Sporting Goods"
    part_paid = next(i for i in scenario.invoices if i.id == "70")
    assert (part_paid.number, part_paid.due_date, scenario.balance_of(part_paid)) == (
        "1024",
        dt.date(2015, 2, 15),
        Decimal("16.00"),
    )
    (credit,) = scenario.credits
    assert (credit.kind, credit.customer_id, credit.remaining) == ("unapplied_payment", "20", Decimal("10.0"))


def test_xero_examples_overdue_reminders_per_policy(xero: BacktestReport) -> None:
    policies = xero.policies
    # arpilot: INV-0003 alone is ever overdue, and its customer is new (no history, so no habit
    # wait): reminder_1, reminder_2, past_due_30, past_due_60, final_notice on 2018-11-08, 11-21,
    # 12-07, 2019-01-06 and 02-05, all within the period. INV-0002 was paid 31 days before its
    # due date and INV-0001 is voided: no overdue reminder for either.
    assert policies["arpilot"].overdue_reminders == 5
    # QuickBooks-like: INV-0003 at 1, 15 and 30 days after due.
    assert policies["quickbooks_like"].overdue_reminders == 3
    # Xero-like: INV-0003 at 7, 14, 21, 30 and 45 days after due.
    assert policies["xero_like"].overdue_reminders == 5


def test_xero_examples_have_no_false_alarm_for_anyone(xero: BacktestReport) -> None:
    # The examples' one payment (INV-0002, 2018-11-29) came a month before its due date, before
    # any overdue reminder of any policy; the overdue INV-0003 is never paid: nothing to count.
    assert {name: f.false_alarms for name, f in xero.policies.items()} == {
        "arpilot": 0,
        "quickbooks_like": 0,
        "xero_like": 0,
    }


def test_xero_examples_late_nudges(xero: BacktestReport) -> None:
    # One late invoice, INV-0003 (still unpaid 30 days after its due date, 2018-12-07). arpilot's
    # first overdue reminder is on the QuickBooks-like schedule's day (2018-11-08); the Xero-like
    # schedule's first comes 6 days later (2018-11-14): a late nudge.
    assert {name: (f.late_invoices, f.late_nudges) for name, f in xero.policies.items()} == {
        "arpilot": (1, 0),
        "quickbooks_like": (1, 0),
        "xero_like": (1, 1),
    }
    assert xero.arpilot.first_nudge == {INV_0003: dt.date(2018, 11, 8)}


def test_what_arpilot_does_with_each_xero_example(xero: BacktestReport) -> None:
    # 7 emails: INV-0002's check-in (2018-10-23, issue + 3), INV-0003's courtesy note (11-04,
    # due - 3; its check-in day, 11-05, comes after it, so the check-in is passed over) and
    # INV-0003's five overdue reminders. The voided INV-0001 gets nothing at all, and the
    # paid-early INV-0002 nothing after its check-in.
    assert xero.emails == 7
    assert dict(xero.reminders_by_stage) == {
        "check_in": 1,
        "courtesy": 1,
        "reminder_1": 1,
        "reminder_2": 1,
        "past_due_30": 1,
        "past_due_60": 1,
        "final_notice": 1,
    }
    # A call task beside reminder_2, past_due_30, past_due_60 and the final notice; the final
    # notice asks the owner for a next step; 60 days late, 115.00 NZD overdue puts the customer
    # on credit hold (2019-01-06), never released: the invoice is never paid.
    assert (xero.call_tasks, xero.escalations) == (4, 1)
    assert xero.holds_on == [(dt.date(2019, 1, 6), BARNEY)] and xero.holds_off == []
    # Nothing went to an invoice already paid.
    assert xero.settled_reminders == 0


def test_quickbooks_examples_overdue_reminders_false_alarms_and_late_nudges(quickbooks: BacktestReport) -> None:
    policies = quickbooks.policies
    # Two invoices are overdue and never paid in full: 1024 (16.00 left, due 2015-02-15) and 1070
    # (150.00, due 2015-08-23); both customers are new. arpilot: 5 overdue steps each (the last,
    # 90 days after due, on 2015-05-16 and 2015-11-21, within the year); QuickBooks-like 3 each,
    # Xero-like 5 each.
    assert {name: f.overdue_reminders for name, f in policies.items()} == {
        "arpilot": 10,
        "quickbooks_like": 6,
        "xero_like": 10,
    }
    # No payment comes after a reminder (the one payment is on invoice 1024's issue day): no false alarm.
    assert {name: f.false_alarms for name, f in policies.items()} == {
        "arpilot": 0,
        "quickbooks_like": 0,
        "xero_like": 0,
    }
    # Both are late; arpilot reaches each the day after due, as QuickBooks-like does; Xero-like a
    # week after due, later on both.
    assert {name: (f.late_invoices, f.late_nudges) for name, f in policies.items()} == {
        "arpilot": (2, 0),
        "quickbooks_like": (2, 0),
        "xero_like": (2, 2),
    }
    assert quickbooks.arpilot.first_nudge == {"70": dt.date(2015, 2, 16), "239": dt.date(2015, 8, 24)}


def test_what_arpilot_does_with_the_part_paid_invoice_in_credit(quickbooks: BacktestReport) -> None:
    scenario = published_scenario("quickbooks").scenario
    rules = Rules.default()
    day = dt.date(2015, 2, 16)  # a day after invoice 1024's due date
    actions = decide(snapshot_from_scenario(scenario, day), rules, decision_time(day, scenario.company.timezone, rules))
    (reminder,) = actions
    # The customer's 10.00 of credit does not cover the 16.00 left on the part-paid invoice, so
    # the invoice stays on the ladder: reminder_1 goes out, and it tells the customer of the
    # credit (not applied by arpilot: the owner applies credit in the books).
    assert reminder.kind is ActionKind.SEND_REMINDER
    assert reminder.payload["invoice_stages"] == {"70": "reminder_1"}
    assert reminder.payload["credit"] == {"USD": {"available": "10.00", "left": "10.00"}}
    # The credit hold weighs the overdue balance net of the credit (16.00 - 10.00): held at 60
    # days (2015-04-16) all the same, as is Amy's Bird Sanctuary for invoice 1070 (2015-10-22).
    assert quickbooks.holds_on == [(dt.date(2015, 4, 16), "20"), (dt.date(2015, 10, 22), "1")]
    # Check-in, courtesy and the five overdue steps, for each of the two invoices.
    assert (quickbooks.emails, quickbooks.call_tasks, quickbooks.escalations) == (14, 8, 2)


def test_a_credit_that_covers_the_part_paid_invoice_takes_it_off_the_ladder() -> None:
    # The same books with the payment's unapplied part at 16.00 instead of 10.00 (what is left of
    # invoice 1024): the customer owes nothing net, so arpilot sends no reminder and asks the
    # owner to apply the credit, where both fixed schedules remind the invoice all the same.
    scenario = published_scenario("quickbooks").scenario
    (credit,) = scenario.credits
    covered = dataclasses.replace(scenario, credits=(dataclasses.replace(credit, amount=Decimal("16.00")),))
    report = backtest(covered, Rules.default(), *QUICKBOOKS_PERIOD)
    assert "70" not in report.arpilot.first_nudge
    assert report.policies["quickbooks_like"].first_nudge["70"] == dt.date(2015, 2, 16)
    assert [h for h in report.holds_on if h[1] == "20"] == []


def test_the_examples_hold_no_foreign_currency_invoice() -> None:
    # Every Xero example is in the organisation's NZD at CurrencyRate 1, and Intuit's carry no
    # CurrencyRef (the home currency): the next test makes the foreign-currency case.
    for provider in ("xero", "quickbooks"):
        scenario = published_scenario(provider).scenario
        assert {i.currency for i in scenario.invoices} == {scenario.company.currency}
    raw = json.loads((EXAMPLES / "xero" / "invoices.json").read_text(), parse_float=Decimal)["body"]["Invoices"]
    assert {r["CurrencyRate"] for r in raw} == {Decimal("1.000000")}


def test_the_xero_examples_billed_in_a_foreign_currency_replay_alike(tmp_path: Path) -> None:
    # A copy of the examples with Barney Rubble's invoices and payment in AUD, not the NZD of the
    # organisation (the fixture files stay as they are), read through the same mapping.
    copy = tmp_path / "real"
    shutil.copytree(EXAMPLES, copy)
    for name in ("invoices.json", "payments.json"):
        path = copy / "xero" / name
        path.write_text(path.read_text().replace('"CurrencyCode": "NZD"', '"CurrencyCode": "AUD"'))
    scenario = published_scenario("xero", copy).scenario
    # The contact's currency is its invoices' (Xero's contact currency is only a default).
    assert {c.name: c.currency for c in scenario.customers}["Barney Rubble-83203"] == "AUD"
    report = backtest(scenario, Rules.default(), *XERO_PERIOD)
    # arpilot chases an invoice in its own currency as it chases one in the organisation's: the
    # same steps on the same days as in NZD (test_xero_examples_overdue_reminders_per_policy and
    # test_xero_examples_late_nudges), and the same hold, weighed in AUD.
    assert {name: (f.overdue_reminders, f.false_alarms, f.late_nudges) for name, f in report.policies.items()} == {
        "arpilot": (5, 0, 0),
        "quickbooks_like": (3, 0, 0),
        "xero_like": (5, 0, 1),
    }
    assert report.holds_on == [(dt.date(2019, 1, 6), BARNEY)]
    day = dt.date(2019, 1, 6)
    rules = Rules.default()
    actions = decide(snapshot_from_scenario(scenario, day), rules, decision_time(day, scenario.company.timezone, rules))
    (hold,) = [a for a in actions if a.kind is ActionKind.CREDIT_HOLD_ON]
    assert "owes 115.00 AUD past due" in hold.reason


def test_unknown_provider_or_missing_examples_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="choose xero or quickbooks"):
        published_scenario("sage")
    with pytest.raises(ScenarioError, match="come with a checkout"):
        published_scenario("xero", tmp_path)


def test_backtest_command_on_the_published_examples() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["backtest", "--published", "xero", "--from", "2018-10-01", "--to", "2019-03-31"])
    assert result.exit_code == 0, result.output
    assert "not replayed: payment 6b037c9b-2e5d-4905-84d3-eabfb3438242: PaymentType ARCREDITPAYMENT" in result.output
    assert "false alarms: 0 of 5 overdue reminders" in result.output
    result = runner.invoke(
        main, ["backtest", "--published", "quickbooks", "--from", "2015-01-01", "--to", "2015-12-31", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["not_replayed"] == []
    assert report["policies"]["quickbooks_like"]["overdue_reminders"] == 6
    both = runner.invoke(
        main, ["backtest", "--published", "xero", "--scenario", __file__, "--from", "2018-10-01", "--to", "2018-10-02"]
    )
    assert both.exit_code != 0 and "not both" in both.output
