"""The owner's payment plan page: choose invoices and instalments, get a schedule, edit and save it;
a schedule that does not add up, or another customer's invoice, is refused in plain words and nothing
is stored; another organization's customer is a 404."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Generator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.stored_rules import save_rules
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import AccountPlan, ActivityEntry, MirroredCustomer, MirroredInvoice
from integration.web import account_plans, create_app
from tests.cycle.conftest import NOW, World, make_world
from tests.sandbox.conftest import APOSTROPHE_NAME, small_scenario
from tests.web.conftest import reprice
from tests.web.test_dashboard import other_organization, sign_in


@pytest.fixture
def world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    made = cast("Generator[World, None, None]", make_world(small_scenario(NOW.date()), sessions, tmp_path))
    world = next(made)
    assert world.cycle().status == "observed"  # the books mirrored; nothing sent
    yield world
    made.close()


@pytest.fixture
def app(world: World, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(account_plans, "now", world.clock.now)
    return create_app(dataclasses.replace(world.settings, database_url=database_url))


def obrien(world: World) -> tuple[int, list[str], str]:
    """(customer row id, their open invoices' provider ids, another customer's invoice id)."""
    with world.sessions() as db:
        customer = db.scalars(select(MirroredCustomer).where(MirroredCustomer.name == APOSTROPHE_NAME)).one()
        invoices = db.scalars(select(MirroredInvoice).where(MirroredInvoice.balance > 0)).all()
        mine = [i.provider_id for i in invoices if i.customer_provider_id == customer.provider_id]
        other = next(i.provider_id for i in invoices if i.customer_provider_id != customer.provider_id)
        return customer.id, mine, other


def token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def stored(world: World) -> list[AccountPlan]:
    with world.sessions() as db:
        return list(db.scalars(select(AccountPlan)))


def test_suggest_edit_and_save_a_plan(world: World, app: Flask) -> None:
    customer_id, mine, _ = obrien(world)
    client = sign_in(app, world.organization_id)
    path = f"/settings/customers/{customer_id}/plan"
    first = client.get(path).get_data(as_text=True)
    assert "<h1>Payment plan: O&#39;Brien" in first and 'for="plan-count"' in first and "$200.00" in first
    shown = client.get(
        path, query_string={"invoice": mine, "count": "2", "first": "2026-11-30", "every": "14", "suggest": "1"}
    )
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "2026-11-30 137.62\n2026-12-14 137.63" in html  # 275.25 in two
    saved = client.post(
        path,
        data={"invoice": mine, "schedule": "2026-11-30 100.00\n2026-12-28 175.25", "csrf_token": token(client, path)},
    )
    assert saved.status_code == 302
    (plan,) = stored(world)
    assert sorted(plan.invoice_ids) == sorted(mine) and [i["amount"] for i in plan.instalments] == ["100.00", "175.25"]
    again = client.get(path).get_data(as_text=True)
    assert "Set by you." in again and "$175.25" in again
    assert 'Kept so far: $0.00 paid under the plan; $100.00 is due by <time datetime="2026-11-30">' in again
    assert client.post(f"{path}/remove", data={"csrf_token": token(client, path)}).status_code == 302
    assert stored(world) == []


def test_a_schedule_that_does_not_add_up_is_refused_and_nothing_is_stored(world: World, app: Flask) -> None:
    customer_id, mine, other = obrien(world)
    client = sign_in(app, world.organization_id)
    path = f"/settings/customers/{customer_id}/plan"
    short = client.post(
        path, data={"invoice": mine, "schedule": "2026-11-30 100.00", "csrf_token": token(client, path)}
    )
    assert short.status_code == 400
    assert "add up to $100.00" in short.get_data(as_text=True) or "add up to 100.00 USD" in short.get_data(as_text=True)
    foreign = client.post(
        path, data={"invoice": [*mine, other], "schedule": "2026-11-30 100.00", "csrf_token": token(client, path)}
    )
    assert foreign.status_code == 400 and "Only this customer&#39;s open invoices" in foreign.get_data(as_text=True)
    garbled = client.post(path, data={"invoice": mine, "schedule": "soon 100", "csrf_token": token(client, path)})
    assert garbled.status_code == 400 and "is not a date like 2026-12-01" in garbled.get_data(as_text=True)
    none = client.get(path, query_string={"count": "2", "suggest": "1"})
    assert none.status_code == 400 and "Choose at least one open invoice" in none.get_data(as_text=True)
    assert stored(world) == []


def test_another_organizations_customer_is_not_found(world: World, app: Flask) -> None:
    customer_id, mine, _ = obrien(world)
    intruder = sign_in(app, other_organization(world.sessions))
    assert intruder.get(f"/settings/customers/{customer_id}/plan").status_code == 404


def test_in_live_mode_the_owners_plan_is_noted_on_each_invoice_in_the_books(world: World, app: Flask) -> None:
    data = Rules.default().to_json()
    data["mode"] = "live"
    with transaction(world.sessions) as session:
        save_rules(session, world.organization_id, data)
    customer_id, mine, _ = obrien(world)
    client = sign_in(app, world.organization_id)
    path = f"/settings/customers/{customer_id}/plan"
    saved = client.post(
        path, data={"invoice": mine, "schedule": "2026-11-30 275.25", "csrf_token": token(client, path)}
    )
    assert saved.status_code == 302
    notes = world.notes()
    for invoice_id in mine:
        assert "payment plan set by the owner: payment plan for invoices" in notes.get(invoice_id, "")
    with world.sessions() as db:
        entry = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "account_plan")).one()
    assert entry.details["note"] == "written"


def test_a_yen_schedule_is_suggested_in_whole_yen_and_saved(world: World, app: Flask) -> None:
    customer_id, mine, _ = obrien(world)
    reprice(world.sessions, mine, "JPY", "10000")
    client = sign_in(app, world.organization_id)
    path = f"/settings/customers/{customer_id}/plan"
    count = str(len(mine) * 3)
    shown = client.get(
        path, query_string={"invoice": mine, "count": count, "first": "2026-11-30", "every": "7", "suggest": "1"}
    )
    schedule = re.search(r"(2026-11-30 [^<]*)</textarea>", shown.get_data(as_text=True))
    assert shown.status_code == 200 and schedule
    amounts = [Decimal(line.split()[1]) for line in html.unescape(schedule.group(1)).splitlines()]
    assert all(a == a.to_integral_value() for a in amounts) and sum(amounts) == 10000 * len(mine)
    saved = client.post(
        path, data={"invoice": mine, "schedule": html.unescape(schedule.group(1)), "csrf_token": token(client, path)}
    )
    assert saved.status_code == 302 and len(stored(world)[0].instalments) == len(mine) * 3


def test_a_suggestion_over_two_currencies_is_refused_naming_them(world: World, app: Flask) -> None:
    customer_id, mine, _ = obrien(world)
    assert len(mine) >= 2
    reprice(world.sessions, mine[:1], "BHD", "10.125")
    client = sign_in(app, world.organization_id)
    path = f"/settings/customers/{customer_id}/plan"
    shown = client.get(path, query_string={"invoice": mine, "count": "2", "first": "2026-11-30", "suggest": "1"})
    assert shown.status_code == 400 and "these are in BHD and USD: make one plan per currency" in shown.get_data(
        as_text=True
    )


def test_a_plan_is_shown_in_its_own_currency_beside_invoices_in_another(world: World, app: Flask) -> None:
    customer_id, mine, _ = obrien(world)
    with world.sessions() as db:  # the invoice due last; the first listed stays in dollars
        last = db.scalars(
            select(MirroredInvoice)
            .where(MirroredInvoice.provider_id.in_(mine))
            .order_by(MirroredInvoice.due_date.desc())
        ).first()
        assert last is not None
    reprice(world.sessions, [last.provider_id], "BHD", "10.125")
    client = sign_in(app, world.organization_id)
    path = f"/settings/customers/{customer_id}/plan"
    schedule = "2026-11-30 5.062\n2026-12-30 5.063"
    saved = client.post(
        path, data={"invoice": [last.provider_id], "schedule": schedule, "csrf_token": token(client, path)}
    )
    assert saved.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "BHD5.062" in page and "BHD5.063" in page and "$5.06" not in page
