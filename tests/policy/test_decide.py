"""decide: one test (or table row) per rule of the ladder, the account moves and the guards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import Contact, InvoiceStatus, Money, Payment, PaymentApplication
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.history import record
from integration.policy.rules import Rules
from integration.policy.snapshot import (
    Company,
    CustomerOverride,
    History,
    HoldEvent,
    Instalment,
    InvoicePause,
    SentReminder,
    Snapshot,
)
from tests.policy.builders import EPOCH, NOW, TODAY, customer, history_of, invoice

COMPANY = Company("Harbor & Pine", "America/Denver", "USD")
RULES = Rules.default()
DAY = dt.timedelta(days=1)


def snap(*invoices, customers=None, history=History(), payments=(), **kw) -> Snapshot:  # type: ignore[no-untyped-def]
    return Snapshot(COMPANY, tuple(customers or (customer(),)), tuple(invoices), tuple(payments), history=history, **kw)


def kinds(actions) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.kind.value for a in actions]


def reminders(actions):  # type: ignore[no-untyped-def]
    return [a for a in actions if a.kind is ActionKind.SEND_REMINDER]


def sent(iid: str, stage: str, days_ago: int, channel: str = "email") -> SentReminder:
    return SentReminder("c1", (iid,), stage, TODAY - days_ago * DAY, channel)


# days late -> the stage a fresh invoice gets on its first cycle (the backlog gets the stage for its age)
STAGE_FOR_AGE = [
    (-27, "check_in"),
    (-20, "check_in"),
    (-3, "courtesy"),
    (0, "courtesy"),
    (1, "reminder_1"),
    (13, "reminder_1"),
    (14, "reminder_2"),
    (30, "past_due_30"),
    (59, "past_due_30"),
    (60, "past_due_60"),
    (75, "past_due_60"),
    (90, "final_notice"),
    (400, "final_notice"),
]


@pytest.mark.parametrize(("late", "stage"), STAGE_FOR_AGE)
def test_backlog_gets_the_stage_for_its_age_once(late: int, stage: str) -> None:
    actions = decide(snap(invoice("inv-1", late)), RULES, NOW)
    (email,) = reminders(actions)
    assert email.stage == stage
    assert email.invoice_ids == ("inv-1",)
    assert email.recipients[0] == "ap@acme.example"
    again = decide(snap(invoice("inv-1", late), history=record(History(), actions, TODAY)), RULES, NOW)
    assert reminders(again) == [], "a stage is never repeated"


def test_brand_new_invoice_gets_nothing() -> None:
    assert decide(snap(invoice("inv-1", -29)), RULES, NOW) == []


@pytest.mark.parametrize(
    "status", [InvoiceStatus.PAID, InvoiceStatus.VOIDED, InvoiceStatus.DELETED, InvoiceStatus.DRAFT]
)
def test_no_action_on_closed_invoices(status: InvoiceStatus) -> None:
    assert decide(snap(invoice("inv-1", 100, status=status)), RULES, NOW) == []


def test_no_action_on_zero_balance() -> None:
    assert decide(snap(invoice("inv-1", 100, balance="0.00")), RULES, NOW) == []


def test_next_stage_follows_history_and_missed_days_catch_up_once() -> None:
    history = History((sent("inv-1", "reminder_1", 20),))
    (email,) = reminders(decide(snap(invoice("inv-1", 21), history=history), RULES, NOW))
    assert email.stage == "reminder_2"
    # a cycle missed for weeks: past_due_30 and past_due_60 both due; only the later goes, once
    (email,) = reminders(decide(snap(invoice("inv-1", 65), history=history), RULES, NOW))
    assert email.stage == "past_due_60"


def test_partial_payment_reanchors_without_skip_or_repeat() -> None:
    history = History((sent("inv-1", "reminder_2", 16),))  # sent at 14 days late; now 30 days late
    part = Payment(
        "p1",
        "c1",
        TODAY - 3 * DAY,
        Money(Decimal(40), "USD"),
        (PaymentApplication("inv-1", Money(Decimal(40), "USD")),),
        EPOCH,
    )
    open_inv = invoice("inv-1", 30, balance="60.00")
    assert reminders(decide(snap(open_inv, history=history, payments=(part,)), RULES, NOW)) == []
    later = NOW + 13 * DAY  # 16 days (the reminder_2 -> past_due_30 gap) after the part payment
    (email,) = reminders(
        decide(
            snap(invoice("inv-1", 43, balance="60.00", today=TODAY + 13 * DAY), history=history, payments=(part,)),
            RULES,
            later,
        )
    )
    assert email.stage == "past_due_30"
    assert "part payment" in email.reason


def test_consolidates_one_email_per_customer_with_each_invoice_stage() -> None:
    actions = decide(snap(invoice("inv-1", 35), invoice("inv-2", 2), invoice("inv-3", 15)), RULES, NOW)
    (email,) = reminders(actions)
    assert email.stage == "past_due_30"
    assert email.payload["invoice_stages"] == {"inv-1": "past_due_30", "inv-3": "reminder_2", "inv-2": "reminder_1"}
    assert "one email for 3 invoices" in email.reason
    # No note is planned beside the email: the executor writes it once the email is delivered, and
    # the accounting system does not re-send the invoice the same day (one message a day, issue 14).
    assert kinds(actions).count("add_note") == 0
    assert [a.invoice_ids for a in actions if a.kind is ActionKind.RESEND_INVOICE] == []


def test_a_call_stage_may_have_the_accounting_system_re_send_the_invoice() -> None:
    data = Rules.default().to_json()
    data["ladder"]["stages"][4].update(channel="call", resend_invoice=True)
    actions = decide(snap(invoice("inv-1", 35)), Rules.from_json(data), NOW)
    assert [a.invoice_ids for a in actions if a.kind is ActionKind.RESEND_INVOICE] == [("inv-1",)]
    assert not reminders(actions)


def test_frequency_cap_holds_the_next_email() -> None:
    history = History((sent("inv-1", "reminder_1", 12),))
    # inv-1 reached reminder_2 today, but an email went two days ago: it waits for the cap.
    capped = History((*history.reminders, sent("inv-2", "reminder_1", 2)))
    assert reminders(decide(snap(invoice("inv-1", 14), invoice("inv-2", 3), history=capped), RULES, NOW)) == []
    capped = History((*history.reminders, sent("inv-2", "reminder_1", 5)))
    (email,) = reminders(decide(snap(invoice("inv-1", 14), invoice("inv-2", 6), history=capped), RULES, NOW))
    assert email.invoice_ids == ("inv-1",) and email.stage == "reminder_2"


def test_an_invoices_first_overdue_reminder_waits_only_for_a_day_without_email() -> None:
    # A courtesy note (or another invoice's reminder) two days ago does not hold back the day after
    # the due date: late payers hear when the built-in reminders would have written.
    history = History((sent("inv-1", "courtesy", 4), sent("inv-2", "reminder_1", 2)))
    (email,) = reminders(decide(snap(invoice("inv-1", 1), invoice("inv-2", 3), history=history), RULES, NOW))
    assert email.invoice_ids == ("inv-1",) and email.stage == "reminder_1"
    today = History((sent("inv-2", "reminder_1", 0),))
    assert reminders(decide(snap(invoice("inv-1", 1), invoice("inv-2", 3), history=today), RULES, NOW)) == []


def test_without_consolidation_only_the_most_urgent_goes() -> None:
    rules = Rules.from_json({"frequency": {"consolidate": False}})
    (email,) = reminders(decide(snap(invoice("inv-1", 35), invoice("inv-2", 2)), rules, NOW))
    assert email.invoice_ids == ("inv-1",)


def test_recipients_widen_at_later_stages_billing_first() -> None:
    contacts = (Contact("owner@acme.example", "Owner", "owner"), Contact("pay@acme.example", "AP", "accounts_payable"))
    (early,) = reminders(decide(snap(invoice("inv-1", 2), customers=[customer(contacts=contacts)]), RULES, NOW))
    (late,) = reminders(decide(snap(invoice("inv-1", 61), customers=[customer(contacts=contacts)]), RULES, NOW))
    assert early.recipients == ("ap@acme.example",)
    assert late.recipients == ("ap@acme.example", "pay@acme.example", "owner@acme.example")


def test_no_email_address_means_a_call_task_instead() -> None:
    actions = decide(snap(invoice("inv-1", 20), customers=[customer(email=None)]), RULES, NOW)
    assert reminders(actions) == []
    (task,) = [a for a in actions if a.kind is ActionKind.CREATE_CALL_TASK]
    assert "no email address" in task.reason
    assert task.payload["invoice_stages"] == {"inv-1": "reminder_2"}
    assert task.payload["talking_points"]


def test_opt_out_gets_a_call_or_nothing() -> None:
    overrides = {"c1": CustomerOverride("c1", opted_out=True)}
    actions = decide(snap(invoice("inv-1", 20), overrides=overrides), RULES, NOW)
    assert reminders(actions) == [] and "opted out" in actions[0].reason
    quiet = Rules.from_json({"opt_out": {"call_instead": False}})
    assert decide(snap(invoice("inv-1", 20), overrides=overrides), quiet, NOW) == []


@pytest.mark.parametrize("override", [CustomerOverride("c1", excluded=True), CustomerOverride("c1", paused=True)])
def test_excluded_and_paused_customers_get_no_reminders(override: CustomerOverride) -> None:
    assert decide(snap(invoice("inv-1", 95), overrides={"c1": override}), RULES, NOW) == []


@pytest.mark.parametrize(
    ("now", "deferred_to"),
    [
        (
            dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 10, 14, 0, tzinfo=dt.UTC),
        ),  # 20:00 Tue -> 08:00 Wed
        (
            dt.datetime(2026, 6, 10, 13, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 10, 14, 0, tzinfo=dt.UTC),
        ),  # 07:00 -> 08:00
        (
            dt.datetime(2026, 6, 13, 16, 0, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 15, 14, 0, tzinfo=dt.UTC),
        ),  # Saturday -> Monday
        (NOW, None),
    ],
)
def test_quiet_hours_defer_customer_facing_actions(now: dt.datetime, deferred_to: dt.datetime | None) -> None:
    actions = decide(
        snap(invoice("inv-1", 35, today=now.astimezone(dt.timezone(dt.timedelta(hours=-6))).date())), RULES, now
    )
    facing = [a for a in actions if a.kind in (ActionKind.SEND_REMINDER, ActionKind.RESEND_INVOICE)]
    assert facing and all(a.not_before == deferred_to for a in facing)
    assert all(a.not_before is None for a in actions if a not in facing)


def test_holidays_and_customer_time_zone() -> None:
    rules = Rules.from_json({"schedule": {"holidays": ["2026-06-10"]}})
    (email,) = reminders(decide(snap(invoice("inv-1", 5)), rules, NOW))
    assert email.not_before == dt.datetime(2026, 6, 11, 14, 0, tzinfo=dt.UTC)
    overrides = {"c1": CustomerOverride("c1", timezone="Asia/Tokyo")}  # 01:00 in Tokyo
    (email,) = reminders(decide(snap(invoice("inv-1", 5), overrides=overrides), RULES, NOW))
    assert email.not_before == dt.datetime(2026, 6, 10, 23, 0, tzinfo=dt.UTC)


PAUSES = [
    (InvoicePause("inv-1", disputed=True), []),
    (InvoicePause("inv-1", says_paid=True), []),  # the customer says it is paid: wait for the owner's check
    (InvoicePause("inv-1", says_paid=True, promise_to_pay=TODAY - 5 * DAY), []),
    (InvoicePause("inv-1", promise_to_pay=TODAY + 3 * DAY), []),
    (InvoicePause("inv-1", promise_to_pay=TODAY - 1 * DAY), []),  # within the 2 days' grace
    (InvoicePause("inv-1", plan=(Instalment(TODAY + 5 * DAY, Decimal(50)),)), []),
    (InvoicePause("inv-1", promise_to_pay=TODAY - 5 * DAY), ["past_due_30"]),  # broken: one stage up at once
    (InvoicePause("inv-1", plan=(Instalment(TODAY - 10 * DAY, Decimal(50)),)), ["past_due_30"]),
]


@pytest.mark.parametrize(("pause", "stages"), PAUSES)
def test_pauses(pause: InvoicePause, stages: list[str]) -> None:
    history = History((sent("inv-1", "reminder_2", 10),))  # 24 days late, reminder_2 done
    actions = decide(snap(invoice("inv-1", 24), history=history, pauses={"inv-1": pause}), RULES, NOW)
    assert [a.stage for a in reminders(actions)] == stages
    if stages:
        assert "resume" in reminders(actions)[0].reason
        again = decide(
            snap(invoice("inv-1", 24), history=record(history, actions, TODAY), pauses={"inv-1": pause}), RULES, NOW
        )
        assert reminders(again) == []


def test_grace_starts_a_good_customers_ladder_from_their_usual_lateness() -> None:
    invoices, payments = history_of([-3, -2, 4, 6, 5, 4, 6, 3])  # reliable-ish: median 4 days late
    rules = Rules.from_json(
        {"profiles": {"reliable_max_p80_days_late": 6, "on_time_tolerance_days": 6}, "grace": {"habit_wait_days": 0}}
    )
    courtesy = History((sent("inv-1", "courtesy", 6),))
    base = snap(invoice("inv-1", 3), *invoices, payments=payments, history=courtesy)
    assert reminders(decide(base, rules, NOW)) == []  # reminder_1 waits until 1 + 4 days
    later = snap(invoice("inv-1", 5), *invoices, payments=payments, history=courtesy)
    (email,) = reminders(decide(later, rules, NOW))
    assert email.stage == "reminder_1"
    custom = {"c1": CustomerOverride("c1", grace_days=0)}
    assert reminders(
        decide(snap(invoice("inv-1", 3), *invoices, payments=payments, overrides=custom, history=courtesy), rules, NOW)
    )


HOLDS = [
    # (history of lateness, days late, min amount, expected)
    ([40, 45, 50, 60], 61, "0", True),  # habitually late at 60 days
    ([40, 45, 50, 60], 59, "0", False),
    ([0, -1, -2, 1], 75, "0", False),  # a good customer is not held at 75 days
    ([0, -1, -2, 1], 91, "0", True),  # everyone at 90
    ([40, 45, 50, 60], 61, "500", False),  # too little owed
]


@pytest.mark.parametrize(("late", "days", "minimum", "held"), HOLDS)
def test_credit_hold_on(late: list[int], days: int, minimum: str, held: bool) -> None:
    invoices, payments = history_of(late)
    rules = Rules.from_json({"credit_hold": {"min_overdue_amount": minimum}})
    actions = decide(snap(invoice("inv-1", days), *invoices, payments=payments), rules, NOW)
    assert (ActionKind.CREDIT_HOLD_ON in [a.kind for a in actions]) is held


def test_credit_hold_released_when_overdue_clears_only_if_arpilot_placed_it() -> None:
    ours = History(holds=(HoldEvent("c1", True, TODAY - 30 * DAY),))
    actions = decide(snap(invoice("inv-1", -5), history=ours, on_hold=frozenset({"c1"})), RULES, NOW)
    assert ActionKind.CREDIT_HOLD_OFF in [a.kind for a in actions]
    theirs = decide(snap(invoice("inv-1", -5), on_hold=frozenset({"c1"})), RULES, NOW)
    assert ActionKind.CREDIT_HOLD_OFF not in [a.kind for a in theirs]
    still_owing = decide(snap(invoice("inv-1", 70), history=ours, on_hold=frozenset({"c1"})), RULES, NOW)
    assert ActionKind.CREDIT_HOLD_OFF not in [a.kind for a in still_owing]
    assert ActionKind.CREDIT_HOLD_ON not in [a.kind for a in still_owing]


def test_mid_month_move_for_good_month_end_slippers_once() -> None:
    invoices, payments = history_of([12, 14, 11, 0, -2, 13, 0, 1], due_day=28)
    base = snap(*invoices, payments=payments)
    (move,) = [a for a in decide(base, RULES, NOW) if a.kind is ActionKind.SET_MID_MONTH_TERMS]
    assert move.payload["day_of_month"] == 15 and "month-end" in move.reason
    assert decide(snap(*invoices, payments=payments, mid_month=frozenset({"c1"})), RULES, NOW) == []
    moved = record(History(), [move], TODAY)
    assert decide(snap(*invoices, payments=payments, history=moved), RULES, NOW) == []


def test_final_notice_recommends_escalation() -> None:
    actions = decide(snap(invoice("inv-1", 95)), RULES, NOW)
    (escalation,) = [a for a in actions if a.kind is ActionKind.RECOMMEND_ESCALATION]
    assert escalation.payload["options"] == ["collection_agency", "attorney_letter", "payment_plan", "write_off"]


def test_call_channel_stage_makes_a_call_task_not_an_email() -> None:
    data = Rules.default().to_json()
    data["ladder"]["stages"][3]["channel"] = "call"
    actions = decide(snap(invoice("inv-1", 20)), Rules.from_json(data), NOW)
    assert reminders(actions) == []
    assert [a.stage for a in actions if a.kind is ActionKind.CREATE_CALL_TASK] == ["reminder_2"]


def test_disabled_stage_is_skipped() -> None:
    data = Rules.default().to_json()
    data["ladder"]["stages"][0]["enabled"] = False
    assert reminders(decide(snap(invoice("inv-1", -20)), Rules.from_json(data), NOW)) == []


def test_reason_reads_like_the_issue_example() -> None:
    invoices, payments = history_of([10, 12, 14, 12, 11])
    history = History((sent("inv-1042", "reminder_1", 30),))
    (email,) = reminders(
        decide(snap(invoice("inv-1042", 34), *invoices, payments=payments, history=history), RULES, NOW)
    )
    assert email.reason.startswith(
        "Invoice 1042 is 34 days late; Acme usually pays 12 days after the due date; 30-days-past-due notice"
    )


def test_keys_are_stable_and_distinct() -> None:
    first = decide(snap(invoice("inv-1", 35), invoice("inv-2", 2)), RULES, NOW)
    second = decide(snap(invoice("inv-2", 2), invoice("inv-1", 35)), RULES, NOW + dt.timedelta(hours=1))
    assert [a.idempotency_key for a in first] == [a.idempotency_key for a in second]
    assert len({a.idempotency_key for a in first}) == len(first)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(snap(invoice("inv-1", 5)), RULES, dt.datetime(2026, 6, 10, 12))


def test_a_plan_counts_only_payments_made_after_it_was_agreed() -> None:
    history = History((sent("inv-1", "reminder_2", 10),))
    plan = InvoicePause("inv-1", plan=(Instalment(TODAY - 10 * DAY, Decimal(30)),), plan_paid_before=Decimal(40))
    nothing_since = invoice(
        "inv-1", 24, total="100.00", balance="60.00"
    )  # the 40 paid before the plan is no instalment
    assert [
        a.stage for a in reminders(decide(snap(nothing_since, history=history, pauses={"inv-1": plan}), RULES, NOW))
    ] == ["past_due_30"]
    instalment_paid = invoice("inv-1", 24, total="100.00", balance="30.00")
    assert reminders(decide(snap(instalment_paid, history=history, pauses={"inv-1": plan}), RULES, NOW)) == []


def test_an_overdue_reminder_waits_for_a_steady_customers_usual_payment_day() -> None:
    invoices, payments = history_of([16, 18, 20, 17, 19, 21])  # pays 16 to 21 days late, steadily
    base = dict(payments=payments, history=History((sent("inv-1", "reminder_1", 13),)))
    # Day 14 is reminder_2's day, but this customer has always paid by day 21: wait (21 + 3 margin).
    assert reminders(decide(snap(invoice("inv-1", 14), *invoices, **base), RULES, NOW)) == []
    assert reminders(decide(snap(invoice("inv-1", 24), *invoices, **base), RULES, NOW)) == []
    (email,) = reminders(decide(snap(invoice("inv-1", 25), *invoices, **base), RULES, NOW))
    assert email.stage == "reminder_2"  # past their latest day and the margin: the ladder resumes
    off = Rules.from_json({"grace": {"habit_wait_days": 0}})
    assert reminders(decide(snap(invoice("inv-1", 14), *invoices, **base), off, NOW))


def test_no_wait_for_a_slipping_or_unknown_or_distant_payer() -> None:
    history = History((sent("inv-1", "reminder_1", 13),))
    slipping, paid_slipping = history_of([60, 58, 16, 18, 17, 19])  # the latest three came far later
    assert reminders(decide(snap(invoice("inv-1", 14), *slipping, payments=paid_slipping, history=history), RULES, NOW))
    few, paid_few = history_of([16, 18, 17])  # three paid invoices: too little to trust
    assert reminders(decide(snap(invoice("inv-1", 14), *few, payments=paid_few, history=history), RULES, NOW))
    late, paid_late = history_of([40, 44, 50, 47, 42, 45])  # payment is weeks away, not days: remind
    assert reminders(decide(snap(invoice("inv-1", 14), *late, payments=paid_late, history=history), RULES, NOW))


WIDE = [36, 40, 52, 61, 70, 78]  # has paid anywhere from 36 to 78 days late: no week is safe to wait for


def test_a_wide_window_late_payer_hears_the_next_stage_before_their_window_opens() -> None:
    invoices, payments = history_of(WIDE, due_day=1)

    def stages_on(late: int, rules: Rules = RULES) -> list[str | None]:
        history = History((sent("inv-1", "reminder_2", late - 14),))
        found = decide(snap(invoice("inv-1", late), *invoices, payments=payments, history=history), rules, NOW)
        return [a.stage for a in reminders(found)]

    # Day 30 lands in their window, where a reminder often meets a payment already on its way. A week
    # before the earliest they have paid (36 - 7 - 1), the customer still has time to act on it.
    assert stages_on(27) == []
    assert stages_on(28) == ["past_due_30"]
    assert stages_on(28, Rules.from_json({"grace": {"habit_wait_days": 0}})) == []  # habits off: the ladder's day
    history = History((sent("inv-1", "reminder_2", 14),))
    (email,) = reminders(decide(snap(invoice("inv-1", 28), *invoices, payments=payments, history=history), RULES, NOW))
    assert "brought forward from day 30: they have never paid sooner than 36 days late" in email.reason
    done = record(history, [email], TODAY)
    assert reminders(decide(snap(invoice("inv-1", 30), *invoices, payments=payments, history=done), RULES, NOW)) == []


@pytest.mark.parametrize(
    ("days_late", "reminder_2_days_ago", "why"),
    [
        ([36, 38, 39, 40, 41, 43], 14, "the habit wait covers their window"),
        ([22, 40, 52, 61, 70, 78], 14, "their window opens before the stage could land ahead of it"),
        (WIDE, 5, "reminder_2 went out late: not in the first half of the gap after it"),
    ],
)
def test_a_stage_keeps_the_ladders_day_when_coming_early_would_not_help(
    days_late: list[int], reminder_2_days_ago: int, why: str
) -> None:
    invoices, payments = history_of(days_late, due_day=1)
    history = History((sent("inv-1", "reminder_2", reminder_2_days_ago),))
    snapshot = snap(invoice("inv-1", 28), *invoices, payments=payments, history=history)
    assert reminders(decide(snapshot, RULES, NOW)) == [], why
