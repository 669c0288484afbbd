"""Account plans as the owner's word: the form's checks (totals, dates, limits, another customer's
invoice), storage in place of an earlier plan, the activity log, and the snapshot decide reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.cycle.gather import load_snapshot
from integration.owner.account_plans import (
    PlanWord,
    plan_standing,
    remove_account_plan,
    save_account_plan,
    stored_account_plan,
    suggested,
)
from integration.owner.overrides import InvoiceWord, OwnerWordError, plan_text, save_invoice_word
from integration.owner.stored_rules import save_rules
from integration.owner.timeline import customer_timeline
from integration.policy.actions import ActionKind
from integration.policy.decide import decide
from integration.policy.rules import Rules
from integration.policy.snapshot import Instalment
from integration.store.db import transaction
from integration.store.models import (
    AccountPlan,
    ActivityEntry,
    Connection,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
)
from tests.conftest import add_connection

TODAY = dt.date(2026, 11, 23)
UPDATED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _seed(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """(organization id, customer row id): c1 owes 100.00 on i1 and 150.00 (of 200.00) on i2; c2 owes i9."""
    connection_id = add_connection(sessions, "realm-account-plan")
    with transaction(sessions) as db:
        customers = [
            MirroredCustomer(
                connection_id=connection_id,
                provider_id=cid,
                name=name,
                email=f"ap@{cid}.example",
                currency="USD",
                active=True,
                provider_updated_at=UPDATED,
            )
            for cid, name in (("c1", "Acme"), ("c2", "Other"))
        ]
        db.add_all(customers)
        for iid, cid, total, balance in (
            ("i1", "c1", "100.00", "100.00"),
            ("i2", "c1", "200.00", "150.00"),
            ("i9", "c2", "80.00", "80.00"),
        ):
            db.add(
                MirroredInvoice(
                    connection_id=connection_id,
                    provider_id=iid,
                    customer_provider_id=cid,
                    number=iid.removeprefix("i") + "00",
                    issue_date=TODAY - 60 * DAY,
                    due_date=TODAY - 30 * DAY,
                    total=Decimal(total),
                    balance=Decimal(balance),
                    currency="USD",
                    status="open",
                    provider_updated_at=UPDATED,
                )
            )
        db.flush()
        return db.get_one(Connection, connection_id).organization_id, customers[0].id


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> tuple[int, int]:
    return _seed(sessions)


def _save(sessions: sessionmaker[Session], seeded: tuple[int, int], word: PlanWord, **kw: bool) -> str:
    organization_id, customer_id = seeded
    with transaction(sessions) as db:
        saved = save_account_plan(db, organization_id, db.get_one(MirroredCustomer, customer_id), word, TODAY, **kw)
        return saved.sentence


def _refused(sessions: sessionmaker[Session], seeded: tuple[int, int], word: PlanWord, **kw: bool) -> OwnerWordError:
    with pytest.raises(OwnerWordError) as refused:
        _save(sessions, seeded, word, **kw)
    with sessions() as db:
        assert db.scalars(select(AccountPlan)).all() == []  # nothing written
    return refused.value


def test_the_suggested_schedule_splits_to_the_cent_and_the_last_takes_the_rest() -> None:
    plan = suggested(Decimal("250.00"), 3, TODAY + DAY, currency="USD")
    assert [i.amount for i in plan] == [Decimal("83.33"), Decimal("83.33"), Decimal("83.34")]
    assert [i.date for i in plan] == [TODAY + DAY, TODAY + 31 * DAY, TODAY + 61 * DAY]
    with pytest.raises(OwnerWordError, match="at least one"):
        suggested(Decimal(10), 0, TODAY, currency="USD")


def test_a_plan_over_two_invoices_is_stored_logged_and_read_by_decide(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    word = PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 2, TODAY + 10 * DAY, currency="USD"))
    sentence = _save(sessions, seeded, word)
    assert sentence.startswith("payment plan for invoices 100, 200: 125.00 USD on 2026-12-03")
    with sessions() as db:
        plan = stored_account_plan(db, db.get_one(MirroredCustomer, seeded[1]))
        assert plan is not None and plan.invoice_ids == ("i1", "i2") and plan.proposed_by == "owner"
        assert plan.paid_before == Decimal("50.00")  # paid on i2 before the plan
        entry = db.scalars(select(ActivityEntry).where(ActivityEntry.kind == "account_plan")).one()
        assert "Acme: payment plan for invoices 100, 200" in entry.message and "set by the owner" in entry.message
        connection_id = db.get_one(MirroredCustomer, seeded[1]).connection_id
        snapshot = load_snapshot(db, connection_id, dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC))
    (loaded,) = snapshot.account_plans
    assert loaded.customer_id == "c1" and loaded.instalments == word.instalments
    now = dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC)  # 3 days before the first instalment
    (reminder,) = [a for a in decide(snapshot, Rules.default(), now) if a.kind is ActionKind.INSTALMENT_REMINDER]
    assert Decimal(reminder.payload["amount"]) == Decimal("125.00") and reminder.invoice_ids == ("i1", "i2")


def test_a_new_plan_replaces_the_old_and_removing_it_is_logged(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    _save(sessions, seeded, PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 2, TODAY + DAY, currency="USD")))
    _save(sessions, seeded, PlanWord(("i1",), (Instalment(TODAY + 5 * DAY, Decimal("100.00")),)))
    with transaction(sessions) as db:
        (row,) = db.scalars(select(AccountPlan)).all()
        assert row.invoice_ids == ["i1"]
        remove_account_plan(db, seeded[0], db.get_one(MirroredCustomer, seeded[1]))
    with sessions() as db:
        assert db.scalars(select(AccountPlan)).all() == []
        assert [e.message for e in db.scalars(select(ActivityEntry).order_by(ActivityEntry.id))][-1].endswith(
            "payment plan removed (set by the owner)."
        )


WRONG = [
    (PlanWord((), (Instalment(TODAY, Decimal(100)),)), "invoices", "at least one open invoice"),
    (PlanWord(("i1", "i9"), (Instalment(TODAY, Decimal(180)),)), "invoices", "this customer's open invoices"),
    (PlanWord(("i1",), ()), "instalments", "at least one instalment"),
    (PlanWord(("i1",), (Instalment(TODAY, Decimal(60)),)), "instalments", "add up to 60.00 USD; the open balance"),
    (PlanWord(("i1",), (Instalment(TODAY - DAY, Decimal(100)),)), "instalments", "cannot be in the past"),
    (
        PlanWord(("i1",), (Instalment(TODAY + 9 * DAY, Decimal(50)), Instalment(TODAY + DAY, Decimal(50)))),
        "instalments",
        "in order",
    ),
    (PlanWord(("i1",), (Instalment(TODAY + 400 * DAY, Decimal(100)),)), "instalments", "365 days ahead"),
    (
        PlanWord(("i1",), (Instalment(TODAY, Decimal("99.995")), Instalment(TODAY + DAY, Decimal("0.005")))),
        "instalments",
        "like 250.00",
    ),
]


@pytest.mark.parametrize(("word", "field", "message"), WRONG)
def test_the_owners_plan_is_checked(
    sessions: sessionmaker[Session], seeded: tuple[int, int], word: PlanWord, field: str, message: str
) -> None:
    refused = _refused(sessions, seeded, word)
    assert refused.field == field and message in refused.message


def test_a_customers_proposal_keeps_to_the_owners_limits(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    four = PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 4, TODAY + DAY, 14, currency="USD"))
    assert "at most 3 instalments" in _refused(sessions, seeded, four, by_customer=True).message
    late_start = PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 2, TODAY + 15 * DAY, currency="USD"))
    assert "on or before 2026-12-07" in _refused(sessions, seeded, late_start, by_customer=True).message
    _save(sessions, seeded, four)  # the owner's own plan is not held to the customer's limits
    within = PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 3, TODAY + 14 * DAY, 14, currency="USD"))
    _save(sessions, seeded, within, by_customer=True)
    with sessions() as db:
        assert db.scalars(select(AccountPlan)).one().proposed_by == "customer"
        latest = db.scalars(select(ActivityEntry.message).order_by(ActivityEntry.id.desc())).first()
        assert latest is not None and "proposed by the customer on their page" in latest


def test_no_proposal_when_the_owner_allows_none(sessions: sessionmaker[Session], seeded: tuple[int, int]) -> None:
    with transaction(sessions) as db:
        save_rules(db, seeded[0], {"plans": {"customer_max_instalments": 0}})
    word = PlanWord(("i1",), (Instalment(TODAY + DAY, Decimal(100)),))
    assert "get in touch" in _refused(sessions, seeded, word, by_customer=True).message


def test_the_plan_is_on_the_customers_timeline(sessions: sessionmaker[Session], seeded: tuple[int, int]) -> None:
    _save(sessions, seeded, PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 2, TODAY + DAY, currency="USD")))
    with sessions() as db:
        timeline = customer_timeline(db, seeded[0], seeded[1], dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC))
    (moment,) = [m for m in timeline.moments if m.label == "Payment plan"]
    assert moment.text.startswith("Acme: payment plan for invoices 100, 200: 125.00 USD on 2026-11-24")
    assert timeline.record.plan is not None and timeline.record.plan.invoice_ids == ["i1", "i2"]


def test_the_plans_standing_is_read_as_decide_reads_it(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    _save(sessions, seeded, PlanWord(("i1", "i2"), suggested(Decimal("250.00"), 2, TODAY + DAY, currency="USD")))
    with sessions() as db:
        customer = db.get_one(MirroredCustomer, seeded[1])
        plan = stored_account_plan(db, customer)
        assert plan is not None
        kept = plan_standing(db, seeded[0], customer, plan, TODAY)
        broken = plan_standing(db, seeded[0], customer, plan, TODAY + 10 * DAY)  # 125.00 due on day 1, none paid
    assert kept.pause.active and kept.owed_by_next == Decimal("125.00") and kept.paid == 0
    assert not broken.pause.active and "missed the payment plan instalment due 2026-11-24" in broken.pause.why


@pytest.mark.parametrize(
    ("balance", "currency", "amounts"),
    [
        ("10000", "JPY", ["3333", "3333", "3334"]),  # whole yen
        ("10.125", "BHD", ["3.375", "3.375", "3.375"]),
        ("10.001", "KWD", ["3.333", "3.333", "3.335"]),  # fils: three decimals
        ("100.00", "USD", ["33.33", "33.33", "33.34"]),
    ],
)
def test_the_suggested_split_is_exact_to_the_currencys_minor_unit(
    balance: str, currency: str, amounts: list[str]
) -> None:
    plan = suggested(Decimal(balance), 3, TODAY, currency=currency)
    assert [i.amount for i in plan] == [Decimal(a) for a in amounts]
    assert sum(i.amount for i in plan) == Decimal(balance)


def test_a_monthly_schedule_keeps_the_day_or_the_months_last() -> None:
    """From 31 January in a leap year: 29 February, then 31 March; never a month skipped."""
    plan = suggested(Decimal("300.00"), 4, dt.date(2028, 1, 31), None, currency="USD")
    assert [i.date for i in plan] == [
        dt.date(2028, 1, 31),
        dt.date(2028, 2, 29),
        dt.date(2028, 3, 31),
        dt.date(2028, 4, 30),
    ]
    assert [i.date for i in suggested(Decimal(2), 2, dt.date(2027, 2, 28), None, currency="USD")] == [
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 28),
    ]


def _foreign(sessions: sessionmaker[Session], seeded: tuple[int, int], *books: tuple[str, str, str]) -> int:
    """A customer c3 with an open invoice per (provider id, currency, balance); its row id."""
    with transaction(sessions) as db:
        connection_id = db.get_one(MirroredCustomer, seeded[1]).connection_id
        row = MirroredCustomer(
            connection_id=connection_id,
            provider_id="c3",
            name="Gulf Trading",
            currency="BHD",
            active=True,
            provider_updated_at=UPDATED,
        )
        db.add(row)
        for iid, currency, balance in books:
            db.add(
                MirroredInvoice(
                    connection_id=connection_id,
                    provider_id=iid,
                    customer_provider_id="c3",
                    number=iid.upper(),
                    issue_date=TODAY - 60 * DAY,
                    due_date=TODAY - 30 * DAY,
                    total=Decimal(balance),
                    balance=Decimal(balance),
                    currency=currency,
                    status="open",
                    provider_updated_at=UPDATED,
                )
            )
        db.flush()
        return row.id


def test_a_plan_in_dinars_is_stored_to_the_fils_and_one_in_yen_to_the_yen(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    customer_id = _foreign(sessions, seeded, ("b1", "BHD", "10.125"), ("y1", "JPY", "10000"))
    bhd = PlanWord(("b1",), suggested(Decimal("10.125"), 2, TODAY + DAY, currency="BHD"))
    _save(sessions, (seeded[0], customer_id), bhd)
    with sessions() as db:
        plan = stored_account_plan(db, db.get_one(MirroredCustomer, customer_id))
        assert plan is not None and [i.amount for i in plan.instalments] == [Decimal("5.062"), Decimal("5.063")]
    assert plan_text(plan.instalments, "BHD").splitlines()[1].endswith(" 5.063")
    yen = PlanWord(
        ("y1",), (Instalment(TODAY + DAY, Decimal("5000.50")), Instalment(TODAY + 2 * DAY, Decimal("4999.50")))
    )
    with pytest.raises(OwnerWordError, match="like 250 JPY"):
        _save(sessions, (seeded[0], customer_id), yen)


def test_a_plan_over_two_currencies_is_refused_naming_them(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    customer_id = _foreign(sessions, seeded, ("b1", "BHD", "10.125"), ("y1", "JPY", "10000"))
    word = PlanWord(("b1", "y1"), (Instalment(TODAY + DAY, Decimal("10.125")),))
    refused = _refused(sessions, (seeded[0], customer_id), word)
    assert refused.field == "invoices" and "BHD and JPY" in refused.message


def test_an_invoices_own_plan_is_checked_to_its_currencys_minor_unit(
    sessions: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    customer_id = _foreign(sessions, seeded, ("b1", "BHD", "10.125"), ("y1", "JPY", "10000"))
    with transaction(sessions) as db:
        dinars, yen = (
            db.scalars(select(MirroredInvoice).where(MirroredInvoice.provider_id == iid)).one() for iid in ("b1", "y1")
        )
        plan = (Instalment(TODAY + DAY, Decimal("5.125")), Instalment(TODAY + 2 * DAY, Decimal("5.000")))
        save_invoice_word(db, seeded[0], dinars, InvoiceWord(plan=plan), TODAY)
        with pytest.raises(OwnerWordError, match="like 250 JPY"):
            InvoiceWord(
                plan=(Instalment(TODAY + DAY, Decimal("9999.5")), Instalment(TODAY + 2 * DAY, Decimal("0.5")))
            ).check(yen, TODAY, Rules.default().pauses)
    with sessions() as db:
        stored = db.scalars(select(InvoicePause).where(InvoicePause.invoice_provider_id == "b1")).one()
        assert [i["amount"] for i in stored.plan] == ["5.125", "5.000"]
    assert customer_id
