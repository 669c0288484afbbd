"""Coming up: the policy's next two weeks on a known book at a fixed date, and the owner's three answers
to a planned step (do it now, skip, pause the customer), each logged, refused in observe mode where it
would act, and never reaching another organization's steps or customers."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from integration.cycle.plan import ledger_key
from integration.owner.coming_up import ComingStep, coming_up
from integration.owner.stored_rules import save_rules
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry, CustomerOverride
from tests.oauth.webflow import csrf_token
from tests.web.conftest import Seeded, signed_in
from tests.web.test_timeline import NOW, _habitual_customer


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("integration.web.coming_up.now", lambda: NOW)


def _live(app: Flask, seeded: Seeded) -> None:
    with transaction(app.extensions["arpilot"].sessions) as db:
        save_rules(db, seeded.organization_id, {"mode": "live"})


def _habit_steps(app: Flask, seeded: Seeded) -> list[ComingStep]:
    with app.extensions["arpilot"].sessions() as db:
        calendar = coming_up(db, seeded.organization_id, NOW)
    return [s for _, steps in calendar.days for s in steps if s.customer_name == "Habit Ltd"]


def test_two_weeks_of_the_policys_steps_on_a_known_book(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    habitual = _habitual_customer(app, mine)
    with app.extensions["arpilot"].sessions() as db:
        calendar = coming_up(db, mine.organization_id, NOW)
    assert [day for day, _ in calendar.days] == [dt.date(2026, 11, 23) + dt.timedelta(days=n) for n in range(14)]
    steps = [s for _, day_steps in calendar.days for s in day_steps]
    habit = [s for s in steps if s.customer_name == "Habit Ltd"]
    # Due Nov 16, usually paid five days late: the habit wait holds the first reminder back a few days,
    # then the ladder goes on.
    assert habit and habit[0].label == "Reminder email (first reminder)" and habit[0].invoices == "H-11"
    assert habit[0].day > dt.date(2026, 11, 23)
    assert "Invoice H-11 is" in habit[0].reason
    assert all(s.customer_name != "Rival Customer" for s in steps)
    assert calendar.observing
    page = signed_in(app, mine).get("/coming-up")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'href="/customers/{habitual}"' in html
    assert "Observe mode" in html and "Do it now" not in html and ">Skip<" not in html  # nothing to act on
    assert "Pause customer" in html  # the owner's word works in either mode
    assert '<a href="/coming-up" aria-current="page">Coming up</a>' in html


def test_do_it_now_plans_the_step_for_the_executor(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _habitual_customer(app, mine)
    _live(app, mine)
    step = _habit_steps(app, mine)[0]
    client = signed_in(app, mine)
    assert "Do it now" in client.get("/coming-up").get_data(as_text=True)
    form = {"connection": step.connection_id, "key": step.key, "csrf_token": csrf_token(client)}
    response = client.post("/coming-up/now", data=form, follow_redirects=True)
    assert response.status_code == 200 and "queued now" in response.get_data(as_text=True)
    with app.extensions["arpilot"].sessions() as db:
        row = db.query(Action).filter_by(idempotency_key=ledger_key(step.connection_id, step.key)).one()
        entry = db.query(ActivityEntry).filter_by(kind="owner_did_now").one()
    assert row.status is ActionStatus.PLANNED and row.not_before is None and row.payload["invoice_ids"] == ["H11"]
    assert entry.action_id == row.id and "You asked for Reminder email (first reminder) now" in entry.message
    assert step.key not in {s.key for s in _habit_steps(app, mine)}  # planned: no longer coming up
    again = client.post("/coming-up/now", data=form, follow_redirects=True)
    assert "no longer planned" in again.get_data(as_text=True)


def test_do_it_now_sends_nothing_in_observe_mode(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _habitual_customer(app, mine)
    step = _habit_steps(app, mine)[0]
    client = signed_in(app, mine)
    form = {"connection": step.connection_id, "key": step.key, "csrf_token": csrf_token(client)}
    page = client.post("/coming-up/now", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Observe mode" in page
    with app.extensions["arpilot"].sessions() as db:
        assert db.query(Action).filter_by(idempotency_key=ledger_key(step.connection_id, step.key)).count() == 0


def test_skip_records_the_owners_word_and_the_step_never_comes(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _habitual_customer(app, mine)
    _live(app, mine)
    first = _habit_steps(app, mine)[0]
    client = signed_in(app, mine)
    form = {"connection": first.connection_id, "key": first.key, "csrf_token": csrf_token(client)}
    assert "Skipped: Reminder email" in client.post("/coming-up/skip", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    with app.extensions["arpilot"].sessions() as db:
        row = db.query(Action).filter_by(idempotency_key=ledger_key(first.connection_id, first.key)).one()
        entry = db.query(ActivityEntry).filter_by(kind="action_skipped").one()
    assert row.status is ActionStatus.SKIPPED and row.last_error == "skipped by the owner"
    assert entry.action_id == row.id and "You skipped Reminder email (first reminder)" in entry.message
    assert first.key not in {s.key for s in _habit_steps(app, mine)}


def test_pause_customer_stops_their_steps(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    habitual = _habitual_customer(app, mine)
    client = signed_in(app, mine)
    response = client.post(
        "/coming-up/pause", data={"customer": habitual, "csrf_token": csrf_token(client)}, follow_redirects=True
    )
    assert "Paused: arpilot sends nothing to Habit Ltd" in response.get_data(as_text=True)
    with app.extensions["arpilot"].sessions() as db:
        assert db.query(CustomerOverride).filter_by(customer_provider_id="90").one().paused
        assert db.query(ActivityEntry).filter_by(kind="owner_customer_settings").count() == 1
    assert _habit_steps(app, mine) == []


def test_another_organizations_steps_and_customers_are_not_found(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    habitual = _habitual_customer(app, mine)
    _live(app, mine)
    step = _habit_steps(app, mine)[0]
    other = signed_in(app, theirs)
    token = csrf_token(other)
    for path in ("/coming-up/now", "/coming-up/skip"):
        response = other.post(path, data={"connection": step.connection_id, "key": step.key, "csrf_token": token})
        assert response.status_code == 404, path
    assert other.post("/coming-up/pause", data={"customer": habitual, "csrf_token": token}).status_code == 404
    assert "Habit Ltd" not in other.get("/coming-up").get_data(as_text=True)
    with app.extensions["arpilot"].sessions() as db:
        assert db.query(Action).filter_by(idempotency_key=ledger_key(step.connection_id, step.key)).count() == 0
        assert db.query(CustomerOverride).filter_by(customer_provider_id="90").count() == 0
