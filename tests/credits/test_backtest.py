"""Backtest's count of reminders to invoices already paid or covered by credit, and the demo
company's customer in credit."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from click.testing import CliRunner

import integration.policy.backtest as backtest_module
from connectors.sandbox.scenario import generate_demo_company
from integration.cli import main
from integration.policy.backtest import backtest
from integration.policy.rules import Rules
from integration.policy.snapshot import Snapshot
from tests.credits.scenario import credit_scenario

AS_OF = dt.date(2026, 11, 23)


def test_a_policy_blind_to_credit_would_be_counted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The figure catches the issue's failure: replayed without credits, Cool Cars and Partial
    Parts would be reminded while their credit covered what they owed."""
    scenario = credit_scenario(AS_OF)
    honest = backtest(scenario, Rules.default(), AS_OF - dt.timedelta(days=30), AS_OF)
    assert honest.settled_reminders == 0 and honest.emails > 0
    decide = backtest_module.decide

    def blind(snapshot: Snapshot, rules: Rules, now: dt.datetime):  # type: ignore[no-untyped-def]
        return decide(
            Snapshot(
                snapshot.company, snapshot.customers, snapshot.invoices, snapshot.payments, history=snapshot.history
            ),
            rules,
            now,
        )

    monkeypatch.setattr(backtest_module, "decide", blind)
    assert backtest(scenario, Rules.default(), AS_OF - dt.timedelta(days=30), AS_OF).settled_reminders > 0


def test_the_demo_company_has_a_customer_in_credit_who_gets_a_task_not_a_reminder() -> None:
    scenario = generate_demo_company()
    lark = next(c for c in scenario.customers if c.habit == "in_credit")
    assert [(c.number, c.amount, c.remaining) for c in scenario.credits if c.customer_id == lark.id] == [
        ("CN-0001", Decimal("92.50"), Decimal("92.50"))
    ]
    owed = [i for i in scenario.invoices if i.customer_id == lark.id]
    assert [(scenario.balance_of(i), (AS_OF - i.due_date).days) for i in owed] == [(Decimal("40.00"), 35)]  # type: ignore[operator]
    result = CliRunner().invoke(main, ["preview", "--json"])
    assert result.exit_code == 0, result.output
    for_lark = [a for a in json.loads(result.output) if a["customer_id"] == lark.id]
    assert [a["kind"] for a in for_lark] == ["apply_credit"]
    assert (
        for_lark[0]["payload"]["task"]
        == f"Apply the 92.50 USD credit note CN-0001 to {owed[0].number} in the accounting system."
    )


def test_backtest_command_reports_zero_on_the_demo_company() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["backtest", "--from", "2026-09-01", "--to", "2026-11-23", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{") :])["reminders_to_paid_or_credited"] == 0
    text = runner.invoke(main, ["backtest", "--from", "2026-11-01", "--to", "2026-11-23"])
    assert "reminders to invoices that were already paid or covered by credit when sent: 0" in text.output
