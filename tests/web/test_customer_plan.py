"""The customer proposes a payment plan on their page, within the owner's limits: stored as the
owner's word over every open invoice, noted on each in the books (live mode), logged, and confirmed
by email; a proposal outside the limits is refused beside its field and records nothing; with no
instalments allowed the page offers no plan."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.account_plans import PlanWord, save_account_plan, suggested
from integration.owner.stored_rules import save_rules
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import AccountPlan, MirroredCustomer
from tests.cycle.conftest import NOW, World
from tests.cycle.xero_world import live_world
from tests.sandbox.conftest import APOSTROPHE_NAME, small_scenario
from tests.web.conftest import add_jobs, reprice
from tests.web.test_customer_page import (
    customer,
    entries,
    form_key,
    invoices_of,
    make_app,
    notes_on,
    path_for,
    sent,
)


@pytest.fixture
def qbo(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    """A live company on the QuickBooks sandbox, its books mirrored."""
    for world in live_world("quickbooks", small_scenario(NOW.date()), sessions, tmp_path):
        assert isinstance(world, World) and world.cycle().status == "done"
        yield world


def plans(world: World) -> list[AccountPlan]:
    with world.sessions() as session:
        return list(session.scalars(select(AccountPlan)))


def test_a_proposal_within_the_limits_is_stored_noted_logged_and_confirmed(
    qbo: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    obrien = customer(qbo, APOSTROPHE_NAME)
    path = path_for(qbo, obrien)
    page = client.get(path).get_data(as_text=True)
    assert 'id="plan-heading"' in page and "up to 3 payments a month apart" in page and 'for="plan-count"' in page
    response = client.post(
        f"{path}/plan", data={"form_key": form_key(client, path), "count": "3", "first": "2026-12-01"}
    )
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "your payment plan is recorded" in thanks and "You are on a payment plan you proposed" in thanks
    (plan,) = plans(qbo)
    invoices = invoices_of(qbo, obrien)
    assert plan.proposed_by == "customer" and sorted(plan.invoice_ids) == sorted(i.provider_id for i in invoices)
    assert sum(Decimal(i["amount"]) for i in plan.instalments) == sum(i.balance for i in invoices)
    # "a month apart", as the page says: the same day of each month, not every 30 days
    assert [i["date"] for i in plan.instalments] == ["2026-12-01", "2027-01-01", "2027-02-01"]
    for invoice in invoices:
        assert "customer proposed a payment plan for invoices" in notes_on(qbo, invoice.provider_id)
    [entry] = entries(qbo, "account_plan")
    assert "proposed by the customer on their page" in entry.message and entry.details["note"] == "written"
    confirmation = [e for e in sent(qbo.settings.outbox_dir) if e["key"] == f"customer-page-confirm:{entry.id}"]
    assert confirmation and confirmation[0]["to"] == ["ap@obrien.example"]
    again = client.post(f"{path}/plan", data={"form_key": form_key(client, path), "count": "1", "first": "2026-12-01"})
    assert again.status_code == 400 and "You already have a payment plan" in again.get_data(as_text=True)
    assert len(plans(qbo)[0].instalments) == 3  # the agreed plan stands


@pytest.mark.parametrize(
    ("count", "first", "field", "message"),
    [
        ("4", "2026-12-01", "plan-count", "Choose from 1 to 3 payments."),
        ("2", "2026-12-08", "plan-first", "Choose a first payment date from 2026-11-23 to 2026-12-07."),
        ("2", "soon", "plan-first", "like 2026-12-01"),
    ],
)
def test_a_proposal_outside_the_limits_is_refused_beside_its_field(
    qbo: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    count: str,
    first: str,
    field: str,
    message: str,
) -> None:
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, customer(qbo, APOSTROPHE_NAME))
    refused = client.post(f"{path}/plan", data={"form_key": form_key(client, path), "count": count, "first": first})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and f'id="{field}-error">' in html and message in html
    assert plans(qbo) == [] and entries(qbo, "account_plan") == []


def test_no_plan_is_offered_when_the_owner_allows_none(
    qbo: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = Rules.default().to_json()
    data["mode"], data["plans"]["customer_max_instalments"] = "live", 0
    with transaction(qbo.sessions) as session:
        save_rules(session, qbo.organization_id, data)
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, customer(qbo, APOSTROPHE_NAME))
    assert 'id="plan-heading"' not in client.get(path).get_data(as_text=True)
    posted = client.post(f"{path}/plan", data={"form_key": form_key(client, path), "count": "1", "first": "2026-12-01"})
    assert posted.status_code == 404 and plans(qbo) == []


def test_a_proposal_over_invoices_in_two_currencies_asks_the_customer_to_write(
    qbo: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    obrien = customer(qbo, APOSTROPHE_NAME)
    reprice(qbo.sessions, [invoices_of(qbo, obrien)[0].provider_id], "JPY", "15000")
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, obrien)
    refused = client.post(
        f"{path}/plan", data={"form_key": form_key(client, path), "count": "2", "first": "2026-12-01"}
    )
    assert refused.status_code == 400
    assert "Your invoices are in more than one currency: please write to us" in refused.get_data(as_text=True)
    assert plans(qbo) == [] and entries(qbo, "account_plan") == []


def test_a_proposal_covers_the_jobs_billed_with_the_customer(
    qbo: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page lists the jobs' invoices as the customer's to pay; the plan proposed there covers them too."""
    obrien = customer(qbo, APOSTROPHE_NAME)
    add_jobs(qbo.sessions, obrien.connection_id, obrien.provider_id)
    client = make_app(qbo, database_url, monkeypatch).test_client()
    path = path_for(qbo, obrien)
    posted = client.post(f"{path}/plan", data={"form_key": form_key(client, path), "count": "2", "first": "2026-12-01"})
    assert posted.status_code == 303
    (plan,) = plans(qbo)
    own = invoices_of(qbo, obrien)
    assert sorted(plan.invoice_ids) == sorted([i.provider_id for i in own] + ["job-1-inv"])
    owed = sum(i.balance for i in own) + Decimal("80.00")
    assert sum(Decimal(i["amount"]) for i in plan.instalments) == owed


def test_the_customer_sees_a_plan_in_its_own_currency(
    qbo: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The owner's plan over the invoice in dinars, listed after one in dollars."""
    obrien = customer(qbo, APOSTROPHE_NAME)
    last = invoices_of(qbo, obrien)[-1]
    reprice(qbo.sessions, [last.provider_id], "BHD", "10.125")
    with transaction(qbo.sessions) as session:
        word = PlanWord((last.provider_id,), suggested(Decimal("10.125"), 2, NOW.date(), currency="BHD"))
        save_account_plan(session, qbo.organization_id, session.get_one(MirroredCustomer, obrien.id), word, NOW.date())
    page = make_app(qbo, database_url, monkeypatch).test_client().get(path_for(qbo, obrien)).get_data(as_text=True)
    assert "<strong>BHD5.062</strong>" in page and "<strong>BHD5.063</strong>" in page
