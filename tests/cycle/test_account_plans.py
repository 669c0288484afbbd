"""An account plan through the cycle on the QuickBooks sandbox: the gentle reminder before an
instalment is emailed once with the amount and the date, the covered invoices' ladder waits, and the
executor skips a reminder whose instalment was paid between planning and sending."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Generator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.account_plans import PlanWord, save_account_plan
from integration.owner.outbox import outbox_email
from integration.policy.snapshot import Instalment
from integration.store.db import transaction
from integration.store.models import ActionStatus, MirroredCustomer, MirroredInvoice
from tests.cycle.conftest import NOW, World, make_world
from tests.cycle.test_send_time import Run
from tests.sandbox.conftest import APOSTROPHE_NAME, small_scenario

TODAY = NOW.date()  # a Monday; 10:00 in Denver


@pytest.fixture
def run(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Run]:
    worlds = cast("Generator[World, None, None]", make_world(small_scenario(TODAY), sessions, tmp_path))
    yield Run(next(worlds), "quickbooks")
    worlds.close()


def _plan(run: Run) -> None:
    """O'Brien's 200.00 left on 1003 (25 days late) and 75.25 on 1005: 100.00 in 3 days, the rest in 30."""
    with transaction(run.world.sessions) as db:
        customer = db.scalars(select(MirroredCustomer).where(MirroredCustomer.name == APOSTROPHE_NAME)).one()
        invoices = db.scalars(
            select(MirroredInvoice).where(MirroredInvoice.customer_provider_id == customer.provider_id)
        ).all()
        ids = tuple(i.provider_id for i in invoices if i.balance > 0)
        plan = (
            Instalment(TODAY + dt.timedelta(days=3), Decimal("100.00")),
            Instalment(TODAY + dt.timedelta(days=30), Decimal("175.25")),
        )
        save_account_plan(db, run.world.organization_id, customer, PlanWord(ids, plan), TODAY)


def _kind(run: Run, kind: str) -> list:  # type: ignore[type-arg]
    return [a for a in run.world.actions() if a.kind == kind]


def _emails(run: Run) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(run.world.outbox.messages_dir.glob("*.eml"))
    ]


def test_the_instalment_reminder_is_emailed_once_and_the_ladder_waits(run: Run) -> None:
    run.rules()
    run.cycle()  # the books mirrored (and today's ladder done)
    before = len(_kind(run, "send_reminder"))
    _plan(run)
    run.world.clock.advance(dt.timedelta(days=1))
    run.cycle()
    (action,) = _kind(run, "instalment_reminder")
    assert action.status is ActionStatus.DONE, action.payload
    (message,) = [m for m in _emails(run) if "payment plan" in str(m["Subject"])]
    assert (
        str(message["Subject"]).strip() == "Your payment plan with Harbor & Pine Landscaping: $100.00 due Nov 26, 2026"
    )
    assert "ap@obrien.example" in str(message["To"])
    with run.world.sessions() as db:  # in the owner's outbox with the other emails, word for word
        shown = outbox_email(db, run.world.organization_id, action.id)
    assert shown.text is not None and "next instalment of $100.00 is due on Nov 26, 2026" in shown.text
    run.world.clock.advance(dt.timedelta(days=1))
    run.cycle()
    assert len(_kind(run, "instalment_reminder")) == 1  # once per instalment
    obrien = {a.payload["customer_id"] for a in _kind(run, "instalment_reminder")}
    later = [a for a in _kind(run, "send_reminder")[before:] if a.payload["customer_id"] in obrien]
    assert later == []  # the plan is kept: no ladder step for the covered invoices


def test_a_reminder_for_an_instalment_paid_since_planning_is_skipped(run: Run) -> None:
    run.rules()
    run.cycle()
    _plan(run)
    run.local(6, days=1)  # before the send window: planned, waiting for 8:00
    run.cycle()
    (action,) = _kind(run, "instalment_reminder")
    assert action.status is ActionStatus.PLANNED
    run.pay(run.world.qbo.admin("GET", f"/companies/{run.world.qbo.realm}/ids").json()["invoices"]["inv-1003"])
    run.local(9, days=1)
    run.cycle()
    (action,) = _kind(run, "instalment_reminder")
    assert action.status is ActionStatus.SKIPPED and "instalment was paid" in (
        action.last_error or action.warning or str(action.payload)
    ), action
    assert not [m for m in _emails(run) if "payment plan" in str(m["Subject"])]
