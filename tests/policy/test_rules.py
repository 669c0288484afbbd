"""Rules: defaults, the exact JSON round-trip, and every invalid rule named by its field."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Callable

import pytest

from integration.policy.rule_errors import OutOfRange, RuleError, RuleErrors, each_error
from integration.policy.rules import KNOWN_TEMPLATES, STAGES, OutOfOrder, Rules


def test_defaults_encode_the_ladder_in_order() -> None:
    rules = Rules.default()
    assert [s.name for s in rules.ladder.stages] == list(STAGES)
    assert [s.template for s in rules.ladder.stages] == list(KNOWN_TEMPLATES)
    offsets = {s.name: s.offset_days for s in rules.ladder.stages}
    assert offsets == {
        "check_in": 3,
        "courtesy": -3,
        "reminder_1": 1,
        "reminder_2": 14,
        "past_due_30": 30,
        "past_due_60": 60,
        "final_notice": 90,
    }
    assert all(s.recipients[0] == "billing" for s in rules.ladder.stages)
    assert rules.ladder.stage("final_notice").escalate
    assert not rules.ladder.stage("past_due_30").resend_invoice  # one message a day: arpilot's email alone
    assert rules.mode == "observe"
    assert rules.mid_month.day_of_month == 15


def test_json_round_trip_is_exact() -> None:
    data = Rules.default().to_json()
    data["credit_hold"]["min_overdue_amount"] = "250.50"
    data["schedule"]["holidays"] = ["2026-12-25"]
    data["sender"]["reply_to"] = "owner@example.com"
    data["mode"] = "live"
    rules = Rules.from_json(data)
    assert rules.credit_hold.min_overdue_amount == Decimal("250.50")
    assert rules.to_json() == data
    assert Rules.from_json(rules.to_json()) == rules


def test_partial_json_fills_defaults() -> None:
    rules = Rules.from_json(
        {
            "frequency": {"min_days_between_emails": 7},
            "ladder": {"stages": [{}, {}, {"offset_days": 2}, {}, {}, {}, {}]},
        }
    )
    assert rules.frequency.min_days_between_emails == 7
    assert rules.ladder.stage("reminder_1").offset_days == 2
    assert rules.ladder.stage("past_due_30").recipients == ("billing", "accounts_payable")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


INVALID = [
    ("mode", "sometimes", "mode"),
    ("ladder.stages[0].offset_days", -1, "ladder.stages[0].offset_days"),
    ("ladder.stages[1].offset_days", 4, "ladder.stages[1].offset_days"),
    ("ladder.stages[2].offset_days", -2, "ladder.stages[2].offset_days"),
    ("ladder.stages[4].offset_days", 10, "ladder.stages[4].offset_days"),
    ("ladder.stages[3].template", "shouty", "ladder.stages[3].template"),
    ("ladder.stages[3].channel", "sms", "ladder.stages[3].channel"),
    ("ladder.stages[2].name", "final_notice", "ladder.stages[2].name"),
    ("ladder.stages[5].recipients", ["owner", "billing"], "ladder.stages[5].recipients[0]"),
    ("ladder.stages[5].recipients", ["billing", "cfo"], "ladder.stages[5].recipients[1]"),
    ("ladder.stages[5].recipients", [], "ladder.stages[5].recipients"),
    ("ladder.stages[5].recipients", ["billing", "billing"], "ladder.stages[5].recipients"),
    ("ladder.stages[1].offset_days", "3", "ladder.stages[1].offset_days"),
    ("ladder.stages[1].enabled", "yes", "ladder.stages[1].enabled"),
    ("ladder.stages[1].colour", "red", "ladder.stages[1].colour"),
    ("ladder.stages", [{}], "ladder.stages"),
    ("grace.max_days", -1, "grace.max_days"),
    ("grace.profile_classes", ["saints"], "grace.profile_classes[0]"),
    ("mid_month.day_of_month", 31, "mid_month.day_of_month"),
    ("mid_month.day_of_month", 0, "mid_month.day_of_month"),
    ("mid_month.min_occurrences", 0, "mid_month.min_occurrences"),
    ("mid_month.min_share_pct", 101, "mid_month.min_share_pct"),
    ("credit_hold.days_overdue", 0, "credit_hold.days_overdue"),
    ("credit_hold.all_customers_days_overdue", 30, "credit_hold.all_customers_days_overdue"),
    ("credit_hold.min_overdue_amount", "-5", "credit_hold.min_overdue_amount"),
    ("credit_hold.min_overdue_amount", 12.5, "credit_hold.min_overdue_amount"),
    ("credit_hold.min_overdue_amount", "lots", "credit_hold.min_overdue_amount"),
    ("credit_hold.min_overdue_amount", "NaN", "credit_hold.min_overdue_amount"),
    ("pauses.promise_grace_days", -3, "pauses.promise_grace_days"),
    ("pauses.broken_promise_stages_up", 9, "pauses.broken_promise_stages_up"),
    ("pauses.max_days_ahead", 0, "pauses.max_days_ahead"),
    ("pauses.max_days_ahead", 10**9, "pauses.max_days_ahead"),
    ("pauses.reply_pause_days", 91, "pauses.reply_pause_days"),
    ("pauses.reply_pause_days", -1, "pauses.reply_pause_days"),
    ("schedule.send_from_hour", 25, "schedule.send_from_hour"),
    ("schedule.send_until_hour", 7, "schedule.send_until_hour"),
    ("schedule.business_days", [], "schedule.business_days"),
    ("schedule.business_days", [1, 8], "schedule.business_days[1]"),
    ("schedule.business_days", [1, 1], "schedule.business_days"),
    ("schedule.timezone_source", "moon", "schedule.timezone_source"),
    ("schedule.holidays", ["next tuesday"], "schedule.holidays[0]"),
    ("frequency.min_days_between_emails", 0, "frequency.min_days_between_emails"),
    ("profiles.min_paid_invoices", 0, "profiles.min_paid_invoices"),
    ("profiles.reliable_min_on_time_pct", -1, "profiles.reliable_min_on_time_pct"),
    ("profiles.slow_max_p80_days_late", -2, "profiles.slow_max_p80_days_late"),
    ("sender.reply_to", "not an address", "sender.reply_to"),
    ("sender.from_name", "two\nlines", "sender.from_name"),
    ("ladder.stages[4].resend_invoice", True, "ladder.stages[4].resend_invoice"),
    ("sender.from_name", "carriage\rreturn", "sender.from_name"),
    ("sender.reply_to", "ap@harbor.example,ar@harbor.example", "sender.reply_to"),
    ("sender.reply_to", "ap@harbor.example;ar@harbor.example", "sender.reply_to"),
    ("sender.reply_to", "Dana <ap@harbor.example>", "sender.reply_to"),
    ("unknown_section", {}, "unknown_section"),
    ("grace", [], "grace"),
]


@pytest.mark.parametrize(("path", "value", "field"), INVALID, ids=[f"{p}={v!r}" for p, v, _ in INVALID])
def test_invalid_rule_is_named_by_its_field(path: str, value: Any, field: str) -> None:
    data = copy.deepcopy(Rules.default().to_json())
    _set(path, value)(data)
    with pytest.raises(RuleError) as caught:
        Rules.from_json(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(field)
    assert isinstance(caught.value, ValueError)


def test_not_an_object() -> None:
    with pytest.raises(RuleError) as caught:
        Rules.from_json([])  # type: ignore[arg-type]
    assert caught.value.field == "rules"


def test_rules_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Rules.default().mode = "live"  # type: ignore[misc]


def test_every_bad_value_is_reported_at_once_with_its_numbers() -> None:
    data = Rules.default().to_json()
    data["schedule"].update(send_from_hour=30, send_until_hour=25, business_days=[])
    data["frequency"]["min_days_between_emails"] = 0
    data["ladder"]["stages"][3]["offset_days"] = 0  # reminder 2 out of its own range
    data["ladder"]["stages"][4]["offset_days"] = 10  # after reminder 2 as typed, before its default (14)
    data["ladder"]["stages"][6]["offset_days"] = 50  # final notice before past due 60 (60)
    with pytest.raises(RuleErrors) as caught:
        Rules.from_json(data)
    found = {error.field: error for error in each_error(caught.value)}
    assert set(found) == {
        "schedule.send_from_hour",
        "schedule.send_until_hour",
        "schedule.business_days",
        "frequency.min_days_between_emails",
        "ladder.stages[3].offset_days",
        "ladder.stages[6].offset_days",
    }
    until = found["schedule.send_until_hour"]
    assert isinstance(until, OutOfRange) and (until.low, until.high, until.value) == (1, 24, 25)
    order = found["ladder.stages[6].offset_days"]
    assert isinstance(order, OutOfOrder) and (order.before, order.before_days, order.value) == ("past_due_60", 60, 50)
    # Reminder 2's bad value is not compared with its neighbours: its default would stand in and mislead.
    assert "ladder.stages[4].offset_days" not in found
    assert caught.value.field == "ladder.stages[3].offset_days"  # it still reads as one RuleError, the first


def test_one_bad_value_is_a_plain_rule_error() -> None:
    data = Rules.default().to_json()
    data["schedule"].update(send_from_hour=19, send_until_hour=9)
    with pytest.raises(OutOfRange) as caught:
        Rules.from_json(data)
    assert caught.value.field == "schedule.send_until_hour" and (caught.value.low, caught.value.value) == (20, 9)
    assert not isinstance(caught.value, RuleErrors)
