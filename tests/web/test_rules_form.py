"""The settings form's translation of the rules, without a web app: every rule has an input, and
what the form shows comes back as the same rules."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from integration.policy.rules import Rules
from integration.web.rules_form import form_values, mixed_email_channels, parse_form
from integration.web.settings_sections import FIELDS
from tests.web.forms import rules_form

CHANGED = Rules.from_json(
    {
        "ladder": {
            "stages": [
                {"offset_days": 5, "enabled": False},
                {"offset_days": -10},
                {"offset_days": 2, "channel": "call"},
                {"offset_days": 20, "recipients": ["billing", "owner"]},
                {"offset_days": 35, "resend_invoice": False},
                {"offset_days": 70, "template": "past_due_30"},
                {"offset_days": 100, "escalate": False, "call_task": False},
            ]
        },
        "grace": {"enabled": False, "profile_classes": ["reliable"], "max_days": 3},
        "mid_month": {
            "day_of_month": 14,
            "profile_classes": [],
            "month_end_days": 5,
            "min_occurrences": 2,
            "min_share_pct": 75,
        },
        "credit_hold": {
            "days_overdue": 45,
            "all_customers_days_overdue": 120,
            "min_overdue_amount": "99.95",
            "auto_release": False,
        },
        "pauses": {"dispute": False, "promise_grace_days": 5, "broken_promise_stages_up": 2},
        "schedule": {
            "send_from_hour": 9,
            "send_until_hour": 17,
            "business_days": [1, 2, 3],
            "timezone_source": "company",
            "holidays": ["2026-12-25", "2027-01-01"],
        },
        "frequency": {"min_days_between_emails": 7, "consolidate": False},
        "opt_out": {"call_instead": False},
        "profiles": {"history_days": 400, "reliable_max_p80_days_late": 4, "slow_max_p80_days_late": 25},
        "sender": {"from_name": "Dana Pine", "reply_to": "ar@harbor.example", "signature": "Dana\nHarbor & Pine"},
    }
)


def _leaves(data: Any, path: str = "") -> list[str]:
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in _leaves(value, f"{path}.{key}" if path else key)]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return [leaf for index, value in enumerate(data) for leaf in _leaves(value, f"{path}[{index}]")]
    return [path]


def test_every_rule_has_an_input() -> None:
    rules = set(_leaves(Rules.default().to_json()))
    shown_elsewhere = {"mode"} | {f"ladder.stages[{i}].name" for i in range(7)}  # the mode has its own switch
    assert rules - shown_elsewhere <= set(FIELDS)
    assert set(FIELDS) - rules == {"email_channel"}


def test_what_the_form_shows_comes_back_as_the_same_rules() -> None:
    for rules in (Rules.default(), CHANGED):
        parsed = parse_form(MultiDict(rules_form(rules)), rules.mode)
        assert parsed.errors == {} and parsed.rules == rules


def test_the_email_channel_is_one_choice_and_mixed_channels_are_noticed() -> None:
    mixed = Rules.from_json({"ladder": {"stages": [{}, {}, {"channel": "accounting_system_email"}, {}, {}, {}, {}]}})
    assert mixed_email_channels(mixed) and not mixed_email_channels(CHANGED)
    parsed = parse_form(MultiDict(rules_form(mixed, email_channel="accounting_system_email")), "observe")
    assert parsed.rules is not None
    assert {s.channel for s in parsed.rules.ladder.stages} == {"accounting_system_email"}
    assert form_values(CHANGED)["ladder.stages[2].channel"] == "call"


def test_a_choice_that_is_not_offered_is_refused() -> None:
    parsed = parse_form(
        MultiDict(rules_form(Rules.default(), **{"grace.profile_classes": ["reliable", "vip"]})), "observe"
    )
    assert parsed.rules is None and parsed.errors == {
        "grace.profile_classes": "Who counts as a good customer: 'vip' is not one of the choices."
    }
    assert parsed.values["grace.profile_classes"] == ["reliable", "vip"]  # kept as typed


def test_late_fees_come_back_from_the_form_and_a_bad_code_is_named_beside_its_input() -> None:
    on = Rules.from_json(
        {
            "late_fees": {
                "enabled": True,
                "kind": "monthly_rate",
                "rate_pct": "1.5",
                "cap": "40",
                "xero_account_code": "260",
            }
        }
    )
    parsed = parse_form(MultiDict(rules_form(on)), on.mode)  # type: ignore[arg-type]  # MultiDict.get is overloaded
    assert parsed.errors == {} and parsed.rules == on
    typed = {**rules_form(on), "late_fees.xero_account_code": "26 0"}
    refused = parse_form(MultiDict(typed), on.mode)  # type: ignore[arg-type]  # MultiDict.get is overloaded
    assert refused.rules is None and "letters and digits" in refused.errors["late_fees.xero_account_code"]


def test_statements_come_back_from_the_form_and_a_bad_day_is_named_beside_its_input() -> None:
    on = Rules.from_json({"statements": {"enabled": True, "day_of_month": 31, "recent_days": 45}})
    parsed = parse_form(MultiDict(rules_form(on)), on.mode)  # type: ignore[arg-type]  # MultiDict.get is overloaded
    assert parsed.errors == {} and parsed.rules == on
    typed = {**rules_form(on), "statements.day_of_month": "32"}
    refused = parse_form(MultiDict(typed), on.mode)  # type: ignore[arg-type]  # MultiDict.get is overloaded
    assert refused.rules is None and "31" in refused.errors["statements.day_of_month"]
