"""The owner's word on an invoice kept as it stood: what the owner did not change is not checked again.

A payment plan agreed last month has an instalment in the past and a balance below its total once
an instalment is paid; a promise made last week lies in the past. Adding a dispute, a note or a
call's outcome to such an invoice must store it, not refuse the plan or the promise that stood."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.call_outcomes import CallOutcome, log_call_outcome
from integration.owner.overrides import InvoiceWord, OwnerWordError, save_invoice_word
from integration.policy.snapshot import Instalment
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, Connection, InvoicePause, MirroredInvoice
from tests.conftest import add_connection

TODAY = dt.date(2026, 11, 23)
UPDATED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
PLAN = (
    Instalment(TODAY - dt.timedelta(days=20), Decimal("100.00")),
    Instalment(TODAY + dt.timedelta(days=10), Decimal("100.00")),
    Instalment(TODAY + dt.timedelta(days=40), Decimal("100.00")),
)


def _invoice_on_a_plan(sessions: sessionmaker[Session], *, promise: dt.date | None = None) -> tuple[int, int]:
    """(organization id, invoice row id): 300.00 on a three-instalment plan, the first instalment paid."""
    connection_id = add_connection(sessions, "realm-plan")
    with transaction(sessions) as db:
        invoice = MirroredInvoice(
            connection_id=connection_id,
            provider_id="i1",
            customer_provider_id="c1",
            number="1001",
            issue_date=TODAY - dt.timedelta(days=60),
            due_date=TODAY - dt.timedelta(days=30),
            total=Decimal("300.00"),
            balance=Decimal("200.00"),
            currency="USD",
            status="open",
            provider_updated_at=UPDATED,
        )
        db.add(invoice)
        db.add(
            InvoicePause(
                connection_id=connection_id,
                invoice_provider_id="i1",
                promise_to_pay=promise,
                plan=[{"date": i.date.isoformat(), "amount": f"{i.amount:.2f}"} for i in PLAN],
            )
        )
        db.flush()
        return db.get_one(Connection, connection_id).organization_id, invoice.id


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> tuple[int, int]:
    return _invoice_on_a_plan(sessions)


def _pause(sessions: sessionmaker[Session]) -> InvoicePause:
    with sessions() as db:
        return db.scalars(select(InvoicePause)).one()


def test_a_dispute_is_added_to_a_plan_under_way(sessions: sessionmaker[Session], seeded: tuple[int, int]) -> None:
    organization_id, invoice_id = seeded
    with transaction(sessions) as db:
        invoice = db.get_one(MirroredInvoice, invoice_id)
        save_invoice_word(
            db, organization_id, invoice, InvoiceWord(disputed=True, plan=PLAN, note="Says one box was damaged"), TODAY
        )
    pause = _pause(sessions)
    assert pause.disputed and pause.note == "Says one box was damaged"
    assert [i["date"] for i in pause.plan] == [i.date.isoformat() for i in PLAN]


def test_a_changed_plan_is_still_checked_in_full(sessions: sessionmaker[Session], seeded: tuple[int, int]) -> None:
    organization_id, invoice_id = seeded
    moved = (PLAN[0], PLAN[1], Instalment(TODAY + dt.timedelta(days=70), Decimal("100.00")))
    with transaction(sessions) as db, pytest.raises(OwnerWordError, match="past"):
        save_invoice_word(db, organization_id, db.get_one(MirroredInvoice, invoice_id), InvoiceWord(plan=moved), TODAY)


def test_a_promise_that_stood_is_kept_when_the_owner_adds_a_note(sessions: sessionmaker[Session]) -> None:
    promised = TODAY - dt.timedelta(days=3)
    organization_id, invoice_id = _invoice_on_a_plan(sessions, promise=promised)
    with transaction(sessions) as db:
        invoice = db.get_one(MirroredInvoice, invoice_id)
        save_invoice_word(
            db, organization_id, invoice, InvoiceWord(promise_to_pay=promised, plan=PLAN, note="Chased"), TODAY
        )
    assert _pause(sessions).note == "Chased" and _pause(sessions).promise_to_pay == promised
    with transaction(sessions) as db, pytest.raises(OwnerWordError, match="past"):  # a new past date is still refused
        save_invoice_word(
            db,
            organization_id,
            db.get_one(MirroredInvoice, invoice_id),
            InvoiceWord(promise_to_pay=promised - dt.timedelta(days=1), plan=PLAN),
            TODAY,
        )


def test_a_call_outcome_on_an_invoice_under_a_plan_is_recorded(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    organization_id, _ = seeded
    with transaction(sessions) as db:
        connection_id = db.scalars(select(MirroredInvoice.connection_id)).one()
        task = Action(
            organization_id=organization_id,
            connection_id=connection_id,
            idempotency_key="call-1",
            kind="create_call_task",
            target_type="customer",
            target_id="c1",
            reason="Missed an instalment",
            status=ActionStatus.DONE,
            payload={"customer_id": "c1", "invoice_ids": ["i1"], "stage": "past_due_30"},
        )
        db.add(task)
        db.flush()
        task_id = task.id

    def no_connector(*_: object) -> None:
        raise AssertionError("observe mode writes no note")

    logged = log_call_outcome(
        sessions,
        organization_id,
        task_id,
        CallOutcome.DISPUTED,
        None,
        "Wrong quantity",
        no_connector,  # type: ignore[arg-type]
        TODAY,
        write_note=False,
    )  # type: ignore[arg-type]
    assert logged.entry_id
    assert _pause(sessions).disputed and len(_pause(sessions).plan) == 3


def _open_invoice(db: Session, sessions: sessionmaker[Session], realm: str) -> tuple[int, MirroredInvoice]:
    """(organization id, invoice): 200.00 due today, no pause."""
    connection_id = add_connection(sessions, realm)
    invoice = MirroredInvoice(
        connection_id=connection_id,
        provider_id="i9",
        customer_provider_id="c1",
        number="9",
        issue_date=TODAY,
        due_date=TODAY,
        total=Decimal("200.00"),
        balance=Decimal("200.00"),
        currency="USD",
        status="open",
        provider_updated_at=UPDATED,
    )
    db.add(invoice)
    db.flush()
    return db.get_one(Connection, connection_id).organization_id, invoice


@pytest.mark.parametrize(
    "word",
    [
        InvoiceWord(promise_to_pay=dt.date(9999, 12, 31)),
        InvoiceWord(promise_to_pay=TODAY + dt.timedelta(days=366)),
        InvoiceWord(
            plan=(
                Instalment(TODAY + dt.timedelta(days=10), Decimal("100.00")),
                Instalment(dt.date(9999, 12, 31), Decimal("100.00")),
            )
        ),
    ],
)
def test_a_promise_or_plan_past_the_horizon_is_refused(sessions: sessionmaker[Session], word: InvoiceWord) -> None:
    """A promise on 9999-12-31 would pause the invoice (and lift a credit hold) forever."""
    with transaction(sessions) as db:
        organization_id, invoice = _open_invoice(db, sessions, "realm-far")
        with pytest.raises(OwnerWordError, match="at most 365 days ahead") as refused:
            save_invoice_word(db, organization_id, invoice, word, TODAY)
    assert refused.value.field == ("plan" if word.plan else "promise_to_pay")
    with sessions() as db:
        assert db.scalars(select(InvoicePause)).all() == []


def test_a_promise_a_year_ahead_is_kept(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as db:
        organization_id, invoice = _open_invoice(db, sessions, "realm-year")
        save_invoice_word(
            db, organization_id, invoice, InvoiceWord(promise_to_pay=TODAY + dt.timedelta(days=365)), TODAY
        )
    assert _pause(sessions).promise_to_pay == TODAY + dt.timedelta(days=365)
