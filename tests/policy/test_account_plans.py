"""Account plans in the pure policy: a kept plan pauses every covered invoice, a missed instalment
resumes each one a stage up, a paid plan ends, and each instalment gets one gentle reminder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.history import record
from integration.policy.rules import Rules
from integration.policy.snapshot import (
    AccountPlan,
    CustomerOverride,
    History,
    Instalment,
    InvoicePause,
    SentReminder,
    Snapshot,
    SnapshotError,
)
from tests.policy.builders import NOW, TODAY, customer, invoice
from tests.policy.test_decide import COMPANY

RULES = Rules.default()
DAY = dt.timedelta(days=1)
# Both invoices are 24 days late with reminder_2 done: unpaused, nothing is due today; a broken
# promise moves each to past_due_30 at once.
HISTORY = History(tuple(SentReminder("c1", (i,), "reminder_2", TODAY - 10 * DAY) for i in ("inv-1", "inv-2")))


def plan(
    *instalments: tuple[int, str], paid_before: str = "0", invoice_ids: tuple[str, ...] = ("inv-1", "inv-2")
) -> AccountPlan:
    return AccountPlan(
        "p1",
        "c1",
        invoice_ids,
        tuple(Instalment(TODAY + d * DAY, Decimal(a)) for d, a in instalments),
        Decimal(paid_before),
    )


def snap(
    *plans: AccountPlan, balances: tuple[str, str] = ("100.00", "100.00"), today: dt.date = TODAY, **kw
) -> Snapshot:  # type: ignore[no-untyped-def]
    invoices = (
        invoice("inv-1", 24, balance=balances[0], today=TODAY),
        invoice("inv-2", 24, balance=balances[1], today=TODAY),
    )
    return Snapshot(COMPANY, (customer(),), invoices, history=kw.pop("history", HISTORY), account_plans=plans, **kw)


def of(actions, kind: ActionKind):  # type: ignore[no-untyped-def]
    return [a for a in actions if a.kind is kind]


def test_without_a_plan_both_invoices_are_reminded_and_a_kept_plan_pauses_both() -> None:
    history = History(tuple(SentReminder("c1", (i,), "reminder_2", TODAY - 17 * DAY) for i in ("inv-1", "inv-2")))
    # 24 days late, reminder_2 17 days ago: the ladder has nothing due; a day 30 invoice would be due.
    late = Snapshot(COMPANY, (customer(),), (invoice("inv-1", 31), invoice("inv-2", 31)), history=history)
    assert of(decide(late, RULES, NOW), ActionKind.SEND_REMINDER)
    kept = Snapshot(
        COMPANY,
        (customer(),),
        (invoice("inv-1", 31), invoice("inv-2", 31)),
        history=history,
        account_plans=(plan((10, "100"), (40, "100")),),
    )
    assert of(decide(kept, RULES, NOW), ActionKind.SEND_REMINDER) == []


def test_a_missed_instalment_is_a_broken_promise_for_every_covered_invoice() -> None:
    missed = plan((-10, "100"), (20, "100"))  # due 10 days ago (past the 2 days' grace), nothing paid
    (email,) = of(decide(snap(missed), RULES, NOW), ActionKind.SEND_REMINDER)
    assert email.stage == "past_due_30" and email.invoice_ids == ("inv-1", "inv-2")
    assert "missed the payment plan instalment" in email.reason
    # Once that stage is done, the broken plan asks nothing more today.
    again = snap(missed, history=record(HISTORY, decide(snap(missed), RULES, NOW), TODAY))
    assert of(decide(again, RULES, NOW), ActionKind.SEND_REMINDER) == []


def test_payments_on_any_covered_invoice_keep_the_plan_and_grace_applies() -> None:
    kept = plan((-10, "100"), (20, "100"))
    assert of(decide(snap(kept, balances=("0.00", "100.00")), RULES, NOW), ActionKind.SEND_REMINDER) == []
    assert of(decide(snap(kept, balances=("50.00", "50.00")), RULES, NOW), ActionKind.SEND_REMINDER) == []
    short = snap(kept, balances=("60.00", "50.00"))  # 90 of the 100 due
    assert of(decide(short, RULES, NOW), ActionKind.SEND_REMINDER)
    within_grace = plan((-2, "100"), (20, "100"))
    assert of(decide(snap(within_grace), RULES, NOW), ActionKind.SEND_REMINDER) == []


def test_payments_before_the_plan_are_not_instalments() -> None:
    before = plan((-10, "50"), (20, "50"), paid_before="100")
    assert of(decide(snap(before, balances=("0.00", "100.00")), RULES, NOW), ActionKind.SEND_REMINDER)
    assert of(decide(snap(before, balances=("0.00", "50.00")), RULES, NOW), ActionKind.SEND_REMINDER) == []


def test_a_plan_paid_in_full_ends_and_pauses_nothing() -> None:
    # Paid what the plan asked, yet a balance is left (the books moved): the ladder speaks again.
    ended = plan((-10, "50"), (5, "50"))
    history = History(tuple(SentReminder("c1", (i,), "reminder_2", TODAY - 17 * DAY) for i in ("inv-1", "inv-2")))
    books = (invoice("inv-1", 31, balance="50.00"), invoice("inv-2", 31, balance="50.00"))
    paid = Snapshot(COMPANY, (customer(),), books, history=history, account_plans=(ended,))
    (email,) = of(decide(paid, RULES, NOW), ActionKind.SEND_REMINDER)
    assert email.stage == "past_due_30" and "payment plan" not in email.reason
    assert of(decide(paid, RULES, NOW - 3 * DAY), ActionKind.INSTALMENT_REMINDER) == []


def test_an_invoices_own_dispute_still_holds_under_a_broken_plan() -> None:
    missed = plan((-10, "100"), (20, "100"))
    disputed = snap(missed, pauses={"inv-2": InvoicePause("inv-2", disputed=True)})
    (email,) = of(decide(disputed, RULES, NOW), ActionKind.SEND_REMINDER)
    assert email.invoice_ids == ("inv-1",)


def test_the_plan_switch_off_means_plans_pause_nothing() -> None:
    off = Rules.from_json({"pauses": {"payment_plan": False}})
    history = History(tuple(SentReminder("c1", (i,), "reminder_2", TODAY - 17 * DAY) for i in ("inv-1", "inv-2")))
    books = (invoice("inv-1", 31), invoice("inv-2", 31))
    kept = Snapshot(COMPANY, (customer(),), books, history=history, account_plans=(plan((10, "100"), (40, "100")),))
    assert of(decide(kept, off, NOW), ActionKind.SEND_REMINDER)
    assert of(decide(kept, off, NOW), ActionKind.INSTALMENT_REMINDER) == []


def test_each_instalment_gets_one_reminder_in_the_days_before_it() -> None:
    kept = plan((5, "80"), (35, "120"))
    keys: dict[str, list[dt.date]] = {}
    for offset in range(0, 40):
        day = TODAY + offset * DAY
        paid = Decimal(80) if offset > 5 else Decimal(0)  # the first instalment is paid on its date
        books = snap(kept, balances=(str(Decimal(100) - paid), "100.00"))
        for action in of(decide(books, RULES, NOW + offset * DAY), ActionKind.INSTALMENT_REMINDER):
            keys.setdefault(action.idempotency_key, []).append(day)
            assert action.recipients == ("ap@acme.example",)
            assert action.invoice_ids == ("inv-1", "inv-2")
    assert len(keys) == 2  # one key per instalment: the ledger plans each once
    first, second = sorted(keys.values())
    assert first[0] == TODAY + 2 * DAY and second[0] == TODAY + 32 * DAY  # 3 days before (the default)
    (early,) = of(decide(snap(kept), RULES, NOW + 2 * DAY), ActionKind.INSTALMENT_REMINDER)
    assert early.payload["amount"] == "80.00" and early.payload["instalment_date"] == (TODAY + 5 * DAY).isoformat()
    assert "80.00 USD" in early.reason


def test_no_reminder_once_the_instalment_is_paid_or_when_the_rule_is_zero() -> None:
    kept = plan((2, "80"), (35, "120"))
    assert of(decide(snap(kept, balances=("20.00", "100.00")), RULES, NOW), ActionKind.INSTALMENT_REMINDER) == []
    assert of(decide(snap(kept), RULES, NOW), ActionKind.INSTALMENT_REMINDER)
    off = Rules.from_json({"plans": {"reminder_days_before": 0}})
    assert of(decide(snap(kept), off, NOW), ActionKind.INSTALMENT_REMINDER) == []
    opted_out = snap(kept, overrides={"c1": CustomerOverride("c1", opted_out=True)})
    assert of(decide(opted_out, RULES, NOW), ActionKind.INSTALMENT_REMINDER) == []


def test_an_invoice_in_two_plans_is_refused() -> None:
    with pytest.raises(SnapshotError, match="another plan"):
        snap(plan((5, "100")), AccountPlan("p2", "c1", ("inv-2",), (Instalment(TODAY, Decimal(1)),)))


def test_plan_rules_are_checked() -> None:
    assert Rules.default().plans.customer_max_instalments == 3
    with pytest.raises(ValueError, match="customer_max_instalments"):
        Rules.from_json({"plans": {"customer_max_instalments": 99}})
