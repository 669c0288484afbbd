"""Rules are validated when saved; a bad rule names its field and the saved rules stay as they were."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from integration.owner.stored_rules import load_rules, save_rules
from integration.policy.rule_errors import RuleError
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import Organization, OrganizationRules


def _organization(sessions) -> int:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        org = Organization(name="Harbor & Pine")
        session.add(org)
        session.flush()
        return org.id


def test_no_saved_rules_means_the_defaults(sessions) -> None:  # type: ignore[no-untyped-def]
    org = _organization(sessions)
    with sessions() as session:
        assert load_rules(session, org) == Rules.default()


def test_saved_rules_round_trip_and_count_versions(sessions) -> None:  # type: ignore[no-untyped-def]
    org = _organization(sessions)
    with transaction(sessions) as session:
        save_rules(session, org, {"mode": "live"})
    with transaction(sessions) as session:
        save_rules(session, org, {"mode": "observe", "frequency": {"min_days_between_emails": 5}})
    with sessions() as session:
        rules = load_rules(session, org)
        stored = session.scalar(select(OrganizationRules))
    assert rules.mode == "observe" and rules.frequency.min_days_between_emails == 5
    assert stored.version == 2 and stored.rules == rules.to_json()


def _negative_reminder_offset() -> dict:  # type: ignore[type-arg]
    rules = Rules.default().to_json()
    rules["ladder"]["stages"][2]["offset_days"] = -4
    return rules


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"mode": "loud"}, "mode"),
        (_negative_reminder_offset(), "ladder.stages[2].offset_days"),
        ({"ladder": {"stages": [{"name": "reminder_1", "offset_days": 1}]}}, "ladder.stages"),
        ({"mid_month": {"day_of_month": 31}}, "mid_month.day_of_month"),
        ({"credit_hold": {"min_overdue_amount": "-5"}}, "credit_hold.min_overdue_amount"),
    ],
)
def test_a_bad_rule_names_its_field_and_loses_nothing(sessions, bad, field) -> None:  # type: ignore[no-untyped-def]
    org = _organization(sessions)
    with transaction(sessions) as session:
        save_rules(session, org, {"mode": "live"})
    with pytest.raises(RuleError) as raised:
        with transaction(sessions) as session:
            save_rules(session, org, bad)
    assert raised.value.field == field and str(raised.value).startswith(field)
    with sessions() as session:
        assert load_rules(session, org).mode == "live"
