"""The settings form reports every bad value of every section in one answer, beside each input and in a
summary at the top linking to them, in the owner's words, and keeps everything the owner typed."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.policy.rule_errors import OutOfRange
from integration.policy.rules import OutOfOrder, Rules
from integration.store.models import OrganizationRules
from integration.web.rule_words import owner_words
from integration.web.settings_sections import FIELDS
from tests.web.forms import rules_form
from tests.web.test_settings import Owner, _error_beside, _token, client, owner  # noqa: F401 - shared fixtures

TYPED = {
    "ladder.stages[3].offset_days": "0",  # reminder 2: at least 1 day after due
    "ladder.stages[6].offset_days": "50",  # final notice before past due 60
    "grace.max_days": "61",
    "credit_hold.min_overdue_amount": "lots",
    "pauses.promise_grace_days": "31",
    "schedule.send_from_hour": "19",
    "schedule.send_until_hour": "9",  # before it starts
    "frequency.min_days_between_emails": "0",
    "sender.reply_to": "not an address",
    "mid_month.min_share_pct": "101",
}
EXPECTED = {
    "f-ladder-stages-3-offset_days": "Days after due must be at least 1 day; you entered 0.",
    "f-ladder-stages-6-offset_days": (
        "Final notice must come later than Past due 60, which is sent 60 days after the due date; you entered 50 days."
    ),
    "f-grace-max_days": "Most days of grace must be at most 60 days; you entered 61.",
    "f-pauses-promise_grace_days": "Days of slack after a promised date must be at most 30 days; you entered 31.",
    "f-schedule-send_until_hour": (
        "Send until hour must be between 8:00\u202fPM and midnight; you entered 9:00\u202fAM."
    ),
    "f-frequency-min_days_between_emails": None,  # its label, "at least 1 day", what was typed
    "f-sender-reply_to": None,
    "f-mid_month-min_share_pct": None,
    "f-credit_hold-min_overdue_amount": None,
}


def test_every_bad_value_of_every_section_is_reported_at_once(
    client: FlaskClient,  # noqa: F811 - the shared fixture
    owner: Owner,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    response = client.post("/settings", data={**rules_form(Rules.default(), **TYPED), "csrf_token": _token(client)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for input_id, expected in EXPECTED.items():
        beside = _error_beside(html, input_id)
        if expected is not None:
            assert beside == expected
    assert "at least 1 day; you entered 0." in _error_beside(html, "f-frequency-min_days_between_emails")
    assert "at most 100%; you entered 101." in _error_beside(html, "f-mid_month-min_share_pct")
    assert "you entered" in _error_beside(html, "f-sender-reply_to")
    assert _error_beside(html, "f-credit_hold-min_overdue_amount") == (
        "Only when the overdue balance reaches: must be a decimal amount; you entered &#39;lots&#39;."
    )
    for developer_words in ("got ", "Must be from", "(1 days)", "1 days"):
        assert developer_words not in html

    summary = re.search(
        r'<div class="banner" role="alert" aria-labelledby="error-summary-title">(.*?)</div>', html, re.S
    )
    assert summary is not None, "a summary at the top"
    assert "9 settings need correcting" in summary.group(1)
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary.group(1))
    assert [target for target, _ in links] == [
        "f-ladder-stages-3-offset_days",
        "f-ladder-stages-6-offset_days",
        "f-grace-max_days",
        "f-mid_month-min_share_pct",
        "f-credit_hold-min_overdue_amount",
        "f-pauses-promise_grace_days",
        "f-schedule-send_until_hour",
        "f-frequency-min_days_between_emails",
        "f-sender-reply_to",
    ]  # the page's order, each to an input that is on the page
    assert all(f'id="{target}"' in html for target, _ in links)
    assert links[0][1] == "Reminder 2: Days after due must be at least 1 day; you entered 0."  # which stage
    for path, typed in TYPED.items():
        assert f'name="{path}" value="{typed}"' in html  # nothing the owner typed is lost
    with sessions() as db:
        assert db.scalars(select(OrganizationRules)).all() == []


def test_the_words_use_the_right_plural_and_the_inputs_unit() -> None:
    stage = FIELDS["ladder.stages[3].offset_days"]
    assert owner_words(OutOfRange("x", 0, 1, 365), stage) == "Days after due must be at least 1 day; you entered 0."
    assert (
        owner_words(OutOfRange("x", 400, 1, 365), stage) == "Days after due must be at most 365 days; you entered 400."
    )
    grace = FIELDS["pauses.promise_grace_days"]
    assert owner_words(OutOfRange("x", 31, 0, 30), grace).endswith("at most 30 days; you entered 31.")
    stages_up = FIELDS["pauses.broken_promise_stages_up"]
    assert owner_words(OutOfRange("x", 4, 0, 3), stages_up).endswith("must be at most 3; you entered 4.")
    order = OutOfOrder("ladder.stages[3].offset_days", "reminder_2", "reminder_1", 1, 1)
    assert owner_words(order, stage) == (
        "Reminder 2 must come later than Reminder 1, which is sent 1 day after the due date; you entered 1 day."
    )
    courtesy = OutOfOrder("ladder.stages[2].offset_days", "reminder_1", "courtesy", -3, -5)
    assert "which is sent 3 days before the due date" in owner_words(courtesy, stage)
    start = FIELDS["schedule.send_from_hour"]
    assert owner_words(OutOfRange("x", 30, 0, 23), start) == (
        "Send from hour must be between midnight and 11:00\u202fPM; you entered 30."
    )
