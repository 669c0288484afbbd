"""A customer's timeline: one chronological story, newest first in plain words, the aging on top, when
they usually pay each open invoice, and the next step with the policy's reason."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from flask import Flask

from integration.cycle.gather import load_snapshot
from integration.owner.timeline import customer_timeline
from integration.policy.decide import decide
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActionStatus,
    CustomerOverride,
    InboundReply,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
)
from tests.web.conftest import T0, Seeded, signed_in

NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


def _add_credit_and_reply(app: Flask, seeded: Seeded) -> None:
    with transaction(app.extensions["arpilot"].sessions) as db:
        db.add(
            MirroredCredit(
                connection_id=seeded.connection_id,
                provider_id="CM1",
                kind="credit_memo",
                customer_provider_id="58",
                number="CM-7",
                date=dt.date(2026, 10, 25),
                total=Decimal("40.00"),
                remaining=Decimal("40.00"),
                currency="USD",
                provider_updated_at=T0,
            )
        )
        db.add(
            Action(
                organization_id=seeded.organization_id,
                connection_id=seeded.connection_id,
                idempotency_key=f"{seeded.connection_id}:terms",
                kind="set_mid_month_terms",
                target_type="customer",
                target_id="58",
                reason="Pays at the month's end: terms moved to the 15th",
                status=ActionStatus.DONE,
                created_at=T0 + dt.timedelta(minutes=30),
                completed_at=T0 + dt.timedelta(minutes=31),
                payload={
                    "customer_id": "58",
                    "invoice_ids": [],
                    "stage": None,
                    "recipients": [],
                    "idempotency_key": "terms",
                    "payload": {"day_of_month": 15},
                },
            )
        )
        db.add(
            InboundReply(
                organization_id=seeded.organization_id,
                connection_id=seeded.connection_id,
                customer_provider_id="58",
                source="inbox",
                status="reply",
                sender="ap@example.com",
                subject="Re: invoice 1002",
                text="We sent the cheque on Monday.",
                received_at=T0 + dt.timedelta(hours=2),
            )
        )


def test_one_chronological_story_newest_first(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _add_credit_and_reply(app, mine)
    with app.extensions["arpilot"].sessions() as db:
        timeline = customer_timeline(db, mine.organization_id, mine.customer_id, NOW)
    labels = [m.label for m in timeline.moments]
    whens = [m.when for m in timeline.moments]
    assert whens == sorted(whens, reverse=True)
    # The reply (11:00 on Nov 2) after the emails (09:0x), the payment (Oct 20) before them.
    assert labels.index("Reply from the customer") < labels.index("Reminder email (first reminder)")
    assert labels.index("Reminder email (first reminder)") < labels.index("Payment received")
    for label in (
        "Invoice issued",
        "Invoice due",
        "Payment received",
        "Credit memo",
        "Reminder email (first reminder)",
        "Call task (first reminder)",
        "Call outcome",
        "Note on invoice (first reminder)",
        "Credit hold on",
        "Moved to mid-month terms",
        "Dispute, promise or payment plan",
    ):
        assert label in labels, label
    assert not [label for label in labels if "_" in label]  # no raw kind names
    assert labels.count("Invoice issued") == 3 and "Quiet" not in str(timeline.moments)
    email = next(m for m in timeline.moments if m.label.startswith("Reminder email"))
    assert email.email_id is not None and email.status == "sent"
    payment = next(m for m in timeline.moments if m.label == "Payment received")
    assert payment.amount == Decimal("500.00") and "9130001-1001" in payment.text
    # Aging on top: two open invoices of 500.00, due Oct 2 and 3: 51 and 52 days late on Nov 23.
    assert timeline.aging == {"USD": {"current": 0, "1-30": 0, "31-60": Decimal("1000.00"), "61-90": 0, "90+": 0}}
    # The planned call task is the next step, with the policy's reason.
    assert timeline.next_step is not None
    assert timeline.next_step.label == "Call task (first reminder)"
    assert timeline.next_step.reason == "14 days late: call the customer"


def test_the_page_shows_the_story_in_plain_words(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _add_credit_and_reply(app, mine)
    page = signed_in(app, mine).get(f"/customers/{mine.customer_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "We sent the cheque on Monday." in html and "CM-7" in html
    assert 'href="/outbox/' in html and "Open the email" in html
    assert "send_reminder" not in html and "credit_hold_on" not in html
    assert "&lt;i&gt;Spoke to Jo&lt;/i&gt;" in html  # the call's comment, escaped
    assert re.search(r"<h2 id=\"next-step\">Next step</h2>", html)
    assert "14 days late: call the customer" in html
    assert "Rival" not in html


def _habitual_customer(app: Flask, seeded: Seeded, paused: bool = False) -> int:
    """Four invoices paid five days after their due date, and one open, due Nov 16."""
    with transaction(app.extensions["arpilot"].sessions) as db:
        customer = MirroredCustomer(
            connection_id=seeded.connection_id,
            provider_id="90",
            name="Habit Ltd",
            email="pay@habit.example",
            currency="USD",
            provider_updated_at=T0,
        )
        db.add(customer)
        for month in range(6, 10):
            due = dt.date(2026, month, 10)
            db.add(
                MirroredInvoice(
                    connection_id=seeded.connection_id,
                    provider_id=f"H{month}",
                    customer_provider_id="90",
                    number=f"H-{month}",
                    issue_date=due - dt.timedelta(days=30),
                    due_date=due,
                    total=Decimal("100.00"),
                    balance=Decimal("0"),
                    currency="USD",
                    status="paid",
                    provider_updated_at=T0,
                )
            )
            db.add(
                MirroredPayment(
                    connection_id=seeded.connection_id,
                    provider_id=f"HP{month}",
                    customer_provider_id="90",
                    date=due + dt.timedelta(days=5),
                    amount=Decimal("100.00"),
                    currency="USD",
                    applied_to=[{"invoice_id": f"H{month}", "amount": "100.00"}],
                    provider_updated_at=T0,
                )
            )
        db.add(
            MirroredInvoice(
                connection_id=seeded.connection_id,
                provider_id="H11",
                customer_provider_id="90",
                number="H-11",
                issue_date=dt.date(2026, 10, 17),
                due_date=dt.date(2026, 11, 16),
                total=Decimal("100.00"),
                balance=Decimal("100.00"),
                currency="USD",
                status="open",
                provider_updated_at=T0,
            )
        )
        if paused:
            db.add(CustomerOverride(connection_id=seeded.connection_id, customer_provider_id="90", paused=True))
        db.flush()
        return customer.id


def test_usually_pays_around_from_their_own_history(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    habitual = _habitual_customer(app, mine)
    with app.extensions["arpilot"].sessions() as db:
        timeline = customer_timeline(db, mine.organization_id, habitual, NOW)
        newcomer = customer_timeline(db, mine.organization_id, mine.customer_id, NOW)
    (invoice,) = timeline.open_invoices
    assert invoice.number == "H-11" and invoice.pays_around == dt.date(2026, 11, 21)  # due Nov 16, five days late
    assert all(i.pays_around is None for i in newcomer.open_invoices)  # one payment is too little history
    html = signed_in(app, mine).get(f"/customers/{habitual}").get_data(as_text=True)
    assert "usually pays around" in html
    assert invoice.bucket == "1-30"  # seven days late on Nov 23


def test_next_step_is_the_policys_decision_with_its_reason(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    habitual = _habitual_customer(app, mine)
    with app.extensions["arpilot"].sessions() as db:
        timeline = customer_timeline(db, mine.organization_id, habitual, NOW)
    step = timeline.next_step
    assert step is not None and step.day is not None and step.day >= dt.date(2026, 11, 23)
    assert step.label.startswith("Reminder email")
    assert "Invoice H-11 is" in step.reason and "Habit Ltd usually pays 5 days after the due date" in step.reason
    assert timeline.observing  # the default rules observe: shown, never sent


def test_a_paused_customer_has_no_next_step_and_says_why(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    habitual = _habitual_customer(app, mine, paused=True)
    with app.extensions["arpilot"].sessions() as db:
        timeline = customer_timeline(db, mine.organization_id, habitual, NOW)
    assert timeline.next_step is None and "paused" in timeline.no_step_why


def test_one_customers_snapshot_decides_as_the_whole_books_do_for_them(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    mine = two_orgs[0]
    _habitual_customer(app, mine)
    rules = Rules.default()
    with app.extensions["arpilot"].sessions() as db:
        for day in range(0, 40, 3):
            at = NOW + dt.timedelta(days=day)
            whole = decide(load_snapshot(db, mine.connection_id, at), rules, at)
            for customer_id in ("58", "77", "90"):
                alone = decide(load_snapshot(db, mine.connection_id, at, [customer_id]), rules, at)
                assert alone == [a for a in whole if a.customer_id == customer_id], (day, customer_id)
            assert whole, "the books have steps to compare"
