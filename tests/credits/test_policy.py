"""decide with customers' credit: covered overdue -> an owner task instead of reminders, holds and
escalation; part covered -> reminders carry the credit to state the net amount. Zero-total credit
applications are no payment date in a customer's habits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connectors.contract import Credit, CreditKind, Money, Payment, PaymentApplication
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.profiles import payment_profiles
from integration.policy.rules import Rules
from integration.policy.snapshot import History, SentReminder
from tests.policy.builders import EPOCH, NOW, TODAY, history_of, invoice
from tests.policy.test_decide import RULES, kinds, snap


def credit_note(
    remaining: str,
    *,
    cid: str = "c1",
    number: str = "CN-0001",
    currency: str = "USD",
    kind: CreditKind = CreditKind.CREDIT_NOTE,
    cn_id: str = "cn-1",
) -> Credit:
    return Credit(
        cn_id,
        kind,
        cid,
        number,
        TODAY - dt.timedelta(days=40),
        Money(Decimal(remaining), currency),
        Money(Decimal(remaining), currency),
        EPOCH,
    )


def final_notice_due() -> History:
    """INV-0003 is 95 days late with every stage but the final notice already done."""
    done = [
        SentReminder("c1", ("inv-0003",), stage, TODAY - dt.timedelta(days=days))
        for stage, days in (("reminder_1", 90), ("reminder_2", 80), ("past_due_30", 60), ("past_due_60", 30))
    ]
    return History(tuple(done))


def test_the_issue_case_without_credit_gets_final_notice_hold_and_escalation() -> None:
    """The control: what a customer owing 40.00 got before credits were read."""
    actions = decide(snap(invoice("inv-0003", 95, total="40.00"), history=final_notice_due()), RULES, NOW)
    assert {"send_reminder", "credit_hold_on", "recommend_escalation"} <= set(kinds(actions))


def test_credit_covering_the_overdue_balance_gives_an_owner_task_only() -> None:
    actions = decide(
        snap(invoice("inv-0003", 95, total="40.00"), history=final_notice_due(), credits=(credit_note("92.50"),)),
        RULES,
        NOW,
    )
    assert kinds(actions) == ["apply_credit"]
    task = actions[0]
    assert task.invoice_ids == ("inv-0003",) and task.recipients == ()
    assert task.payload["task"] == "Apply the 92.50 USD credit note CN-0001 to 0003 in the accounting system."
    assert "owes 40.00 USD on 0003 and holds 92.50 USD of unapplied credit" in task.reason
    assert "no reminder, credit hold or escalation" in task.reason
    # The same facts tomorrow plan the same task (the ledger keeps it once).
    again = decide(
        snap(invoice("inv-0003", 96, total="40.00"), history=final_notice_due(), credits=(credit_note("92.50"),)),
        RULES,
        NOW + dt.timedelta(days=1),
    )
    assert [a.idempotency_key for a in again] == [task.idempotency_key]


def test_credit_in_another_currency_does_not_cover() -> None:
    actions = decide(
        snap(
            invoice("inv-0003", 95, total="40.00"),
            history=final_notice_due(),
            credits=(credit_note("92.50", currency="EUR"),),
        ),
        RULES,
        NOW,
    )
    assert "apply_credit" not in kinds(actions) and "send_reminder" in kinds(actions)


def test_several_credits_are_used_oldest_first_until_covered() -> None:
    credits = (
        credit_note("30.00"),
        credit_note("15.00", kind=CreditKind.OVERPAYMENT, number="", cn_id="op-1"),
        credit_note("50.00", kind=CreditKind.UNAPPLIED_PAYMENT, number="77", cn_id="p-77"),
    )
    actions = decide(snap(invoice("inv-0003", 20, total="40.00"), credits=credits), RULES, NOW)
    assert kinds(actions) == ["apply_credit"]
    # The oldest-first order breaks date ties by id: cn-1, op-1, p-77.
    assert (
        actions[0]
        .payload["task"]
        .startswith("Apply the 30.00 USD credit note CN-0001 and 15.00 USD overpayment to 0003")
    )


def test_part_covered_reminders_carry_the_credit_and_holds_weigh_the_net() -> None:
    actions = decide(snap(invoice("inv-0007", 10, total="100.00"), credits=(credit_note("20.00"),)), RULES, NOW)
    reminder = next(a for a in actions if a.kind is ActionKind.SEND_REMINDER)
    assert reminder.payload["credit"] == {"USD": {"available": "20.00", "left": "20.00"}}
    assert "apply_credit" not in kinds(actions)
    # A 150.00 minimum for a hold: 160.00 overdue would reach it, 160.00 less 20.00 of credit does not.
    rules = Rules.from_json({"credit_hold": {"min_overdue_amount": "150"}})
    held = decide(snap(invoice("inv-0007", 95, total="160.00")), rules, NOW)
    not_held = decide(snap(invoice("inv-0007", 95, total="160.00"), credits=(credit_note("20.00"),)), rules, NOW)
    assert "credit_hold_on" in kinds(held) and "credit_hold_on" not in kinds(not_held)


def test_credit_goes_to_the_oldest_invoices_first_and_the_rest_is_reminded_net() -> None:
    """70.00 of credit covers the oldest (60.00) invoice; the younger 40.00 one is reminded with
    the 10.00 left, and the hold weighs 100.00 overdue less 70.00 of credit."""
    actions = decide(
        snap(
            invoice("inv-old", 30, total="60.00"),
            invoice("inv-new", 10, total="40.00"),
            credits=(credit_note("70.00"),),
        ),
        RULES,
        NOW,
    )
    task = next(a for a in actions if a.kind is ActionKind.APPLY_CREDIT)
    assert task.invoice_ids == ("inv-old",)
    reminder = next(a for a in actions if a.kind is ActionKind.SEND_REMINDER)
    assert reminder.invoice_ids == ("inv-new",)
    assert reminder.payload["credit"] == {"USD": {"available": "70.00", "left": "10.00"}}


def test_credit_covers_invoices_not_yet_due_too() -> None:
    actions = decide(
        snap(
            invoice("inv-0003", 95, total="40.00"),
            invoice("inv-0004", -3, total="30.00"),
            history=final_notice_due(),
            credits=(credit_note("92.50"),),
        ),
        RULES,
        NOW,
    )
    assert kinds(actions) == ["apply_credit"]
    assert actions[0].invoice_ids == ("inv-0003", "inv-0004")
    assert (
        actions[0].payload["task"]
        == "Apply the 92.50 USD credit note CN-0001 to 0003 and 0004 in the accounting system."
    )


def test_reminders_without_credit_carry_no_credit() -> None:
    actions = decide(
        snap(invoice("inv-0007", 10, total="100.00"), credits=(credit_note("20.00", cid="other"),)), RULES, NOW
    )
    reminder = next(a for a in actions if a.kind is ActionKind.SEND_REMINDER)
    assert "credit" not in reminder.payload


def test_used_up_or_deleted_credit_counts_for_nothing() -> None:
    used = credit_note("0.00")
    deleted = Credit(
        "cn-2",
        CreditKind.CREDIT_NOTE,
        "c1",
        "CN-2",
        TODAY,
        Money(Decimal("90"), "USD"),
        Money(Decimal("90"), "USD"),
        EPOCH,
        deleted=True,
    )
    actions = decide(snap(invoice("inv-0003", 20, total="40.00"), credits=(used, deleted)), RULES, NOW)
    assert "apply_credit" not in kinds(actions) and "send_reminder" in kinds(actions)


def test_a_zero_total_credit_application_is_no_payment_date() -> None:
    paid, payments = history_of([0, 0, 0, 0])
    last = max(p.date for p in payments)
    applied = Payment(
        "zero",
        "c1",
        TODAY - dt.timedelta(days=2),
        Money(Decimal(0), "USD"),
        (PaymentApplication("inv-9", Money(Decimal("40"), "USD")),),
        EPOCH,
    )
    profile = payment_profiles(
        snap(*paid, invoice("inv-9", 5, total="40.00", balance="0.00"), payments=(*payments, applied)), RULES, NOW
    )["c1"]
    assert profile.last_payment == last
    assert profile.paid_invoices == 4  # inv-9, settled by credit, is not a payment in the habits


def test_a_resent_invoice_carries_the_credit_for_its_send_time_recheck() -> None:
    # The accounting system re-sends an invoice at a call stage (one message a day: never beside an email).
    data = RULES.to_json()
    data["ladder"]["stages"][4].update(channel="call", resend_invoice=True)
    rules = Rules.from_json(data)
    actions = decide(snap(invoice("inv-0007", 35, total="100.00"), credits=(credit_note("20.00"),)), rules, NOW)
    resend = next(a for a in actions if a.kind is ActionKind.RESEND_INVOICE)
    assert resend.payload["credit"] == {"USD": {"available": "20.00", "left": "20.00"}}
    plain = next(
        a
        for a in decide(snap(invoice("inv-0007", 35, total="100.00")), rules, NOW)
        if a.kind is ActionKind.RESEND_INVOICE
    )
    assert dict(plain.payload) == {}
