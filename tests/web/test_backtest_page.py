"""The backtest page: the period checked in plain words, a run on the organization's own mirror compared with
QuickBooks' and Xero's schedules, its progress and result kept for the page, and nobody else's run shown."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select, update

import integration.owner.backtest_runs as backtest_runs
from connectors.sandbox.scenario import Scenario, generate_demo_company
from integration.owner.backtest_books import PAID_WITHOUT_PAYMENT, Books, Company, companies, read_books
from integration.owner.backtest_period import MAX_DAYS, PeriodError, check_period
from integration.owner.backtest_runs import INTERRUPTED, BacktestBusy, MemoryStore, RedisStore, Run, Runs, RunStore
from integration.policy.backtest import backtest
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import (
    Connection,
    InvoicePause,
    MirroredCredit,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
    User,
)
from tests.oauth.webflow import csrf_token
from tests.rq_helpers import REDIS_URL
from tests.web.conftest import T0, Seeded, signed_in

PERIOD = {"start": "2026-03-01", "end": "2026-04-30"}


def mirror(app: Flask, scenario: Scenario, realm: str) -> tuple[int, int]:
    """An organization whose mirror holds `scenario` as a sync would have left it: (organization id, user id)."""
    with transaction(app.extensions["arpilot"].sessions) as db:
        org = Organization(name=f"{scenario.company.name} {realm}", timezone=scenario.company.timezone)
        db.add(org)
        db.flush()
        user = User(organization_id=org.id, provider="quickbooks", subject=f"owner-{realm}")
        connection = Connection(
            organization_id=org.id,
            provider="quickbooks",
            external_id=realm,
            display_name=scenario.company.name,
            timezone=scenario.company.timezone,
        )
        db.add_all([user, connection])
        db.flush()
        cid = connection.id
        db.add_all(
            MirroredCustomer(
                connection_id=cid,
                provider_id=c.id,
                name=c.name,
                email=c.email,
                phone=c.phone,
                currency=c.currency,
                contacts=[{"name": p.name, "email": p.email, "role": p.role} for p in c.contacts],
                parent_provider_id=c.parent_id,
                bill_with_parent=c.bill_with_parent,
                country=c.country,
                region=c.region,
                provider_updated_at=T0,
            )
            for c in scenario.customers
        )
        db.add_all(
            MirroredInvoice(
                connection_id=cid,
                provider_id=i.id,
                customer_provider_id=i.customer_id,
                number=i.number,
                issue_date=i.issue_date,
                due_date=i.due_date,
                total=i.total,
                balance=scenario.balance_of(i),
                currency=i.currency,
                status="voided"
                if i.voided
                else "draft"
                if not i.owed
                else "paid"
                if scenario.balance_of(i) <= 0
                else "open",
                provider_updated_at=T0,
            )
            for i in scenario.invoices
        )
        db.add_all(
            InvoicePause(connection_id=cid, invoice_provider_id=i.id, disputed=True)
            for i in scenario.invoices
            if i.disputed
        )
        db.add_all(
            MirroredPayment(
                connection_id=cid,
                provider_id=p.id,
                customer_provider_id=p.customer_id,
                date=p.date,
                amount=p.amount,
                currency=p.currency,
                applied_to=[{"invoice_id": i, "amount": str(a)} for i, a in p.applied],
                provider_updated_at=T0,
            )
            for p in scenario.payments
        )
        db.add_all(
            MirroredCredit(
                connection_id=cid,
                provider_id=c.id,
                kind=c.kind,
                customer_provider_id=c.customer_id,
                number=c.number,
                date=c.date,
                total=c.amount,
                remaining=c.remaining,
                currency=c.currency,
                allocations=[{"invoice_id": a.invoice_id, "amount": str(a.amount)} for a in c.allocations],
                provider_updated_at=T0,
            )
            for c in scenario.credits
        )
        return org.id, user.id


def _client(app: Flask, organization_id: int, user_id: int) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"], session["organization_id"] = user_id, organization_id
    return client


def _start(client: FlaskClient, **form: str):  # type: ignore[no-untyped-def]
    return client.post("/backtest", data={**PERIOD, **form, "csrf_token": csrf_token(client)})


def _finished(client: FlaskClient) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        progress = client.get("/backtest/status").get_json()
        if progress["status"] != "running":
            return progress
        time.sleep(0.2)
    raise AssertionError("the backtest did not finish in two minutes")


TODAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("first", "last", "field", "words"),
    [
        ("", "2026-04-30", "start", "Enter the first day of the period."),
        ("2026-13-01", "2026-04-30", "start", "Enter the first day as a date like 2026-01-31."),
        ("2026-05-01", "2026-04-30", "start", "The first day must be before the last day."),
        ("2024-01-01", "2026-04-30", "start", f"at most two years ({MAX_DAYS} days); this period is 851 days"),
        ("2026-11-01", "2026-12-05", "end", "cannot be after today (2026-12-04)"),
        ("2026-11-01", "soon", "end", "Enter the last day as a date like 2026-01-31."),
    ],
)
def test_a_period_that_cannot_be_replayed_is_named_in_plain_words(
    first: str, last: str, field: str, words: str
) -> None:
    with pytest.raises(PeriodError) as caught:
        check_period(first, last, TODAY)
    assert words in caught.value.problems[field]


def test_the_longest_period_and_a_single_day_are_fine() -> None:
    assert check_period("2024-12-03", "2026-12-03", TODAY).days == MAX_DAYS
    assert check_period("2026-12-04", "2026-12-04", TODAY).days == 1


def test_the_form_shows_each_problem_beside_its_field_and_keeps_what_was_typed(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    client = signed_in(app, two_orgs[0])
    response = _start(client, start="2026-05-01", end="2099-01-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="end-error">The last day cannot be after today' in html
    assert 'value="2099-01-01"' in html and 'aria-invalid="true"' in html
    assert client.get("/backtest/status").get_json() == {"status": "none"}, "nothing was started"


def test_a_period_without_history_says_so(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    client = signed_in(app, two_orgs[0])
    response = _start(client, start="2020-01-01", end="2020-12-31")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "had no invoice open from 2020-01-01 to 2020-12-31, so there is nothing to replay" in html


def test_the_books_read_from_the_mirror_replay_like_the_company_itself(app: Flask) -> None:
    demo = generate_demo_company()
    organization_id, _ = mirror(app, demo, "9130101")
    with app.extensions["arpilot"].sessions() as db:
        connection_id = db.scalars(select(Connection.id).where(Connection.organization_id == organization_id)).one()
        books = read_books(db, organization_id, connection_id, TODAY)
        assert read_books(db, organization_id + 1000, connection_id, TODAY) is None, "another organization's company"
    assert books is not None and books.not_replayed == ()
    start, end = dt.date(2026, 3, 1), dt.date(2026, 4, 30)
    assert (
        backtest(books.scenario, Rules.default(), start, end).as_dict()
        == backtest(demo, Rules.default(), start, end).as_dict()
    )


def test_an_invoice_paid_without_a_payment_on_record_is_left_out(app: Flask) -> None:
    demo = generate_demo_company()
    organization_id, user_id = mirror(app, demo, "9130102")
    paid = next(p for p in demo.payments if len(p.applied) == 1)
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection_id = db.scalars(select(Connection.id).where(Connection.organization_id == organization_id)).one()
        db.execute(
            update(MirroredPayment)
            .where(MirroredPayment.connection_id == connection_id, MirroredPayment.provider_id == paid.id)
            .values(deleted=True)
        )
    with app.extensions["arpilot"].sessions() as db:
        books = read_books(db, organization_id, connection_id, TODAY)
    assert books is not None
    assert [(r.entity, r.provider_id, r.reason) for r in books.not_replayed] == [
        ("invoice", paid.applied[0][0], PAID_WITHOUT_PAYMENT)
    ]
    left = next(i for i in books.scenario.invoices if i.id == paid.applied[0][0])
    assert left.voided, "never reminded in the replay: the books say it is paid, but not when"
    client = _client(app, organization_id, user_id)
    _start(client)
    assert _finished(client)["status"] == "done"
    html = client.get("/backtest").get_data(as_text=True)
    assert "<summary>1 record of your books could not be replayed as it stands</summary>" in html
    assert f"<li>invoice {paid.applied[0][0]}: {PAID_WITHOUT_PAYMENT}</li>" in html


def test_a_run_compares_arpilot_with_both_schedules_and_stays_on_the_page(app: Flask) -> None:
    demo = generate_demo_company()
    client = _client(app, *mirror(app, demo, "9130103"))
    page = client.get("/backtest").get_data(as_text=True)
    assert '<a href="/backtest" aria-current="page">Backtest</a>' in page
    assert '<label for="start">First day</label>' in page and '<label for="end">Last day</label>' in page

    response = _start(client)
    assert response.status_code == 302 and response.headers["Location"] == "/backtest"
    progress = _finished(client)
    expected = backtest(demo, Rules.default(), dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert progress["status"] == "done" and progress["days_done"] == progress["days_total"] == 61
    assert progress["percent"] == 100

    html = client.get("/backtest").get_data(as_text=True)
    for title in ("arpilot", "QuickBooks-like (1/15/30)", "Xero-like (7/14/21/30/45)"):
        assert f'<th scope="row">{title}</th>' in html
    for key in ("emails", "false_alarms", "settled", "late_nudges", "calls", "holds"):
        assert f'id="measure-{key}"' in html
    emails = re.search(r'id="measure-emails".*?</figure>', html, re.S)
    assert emails is not None
    counts = re.findall(r'<td class="number">(\d+)', emails.group(0))
    assert counts == [str(f.emails) for f in expected.policies.values()]
    assert f"{expected.days_to_pay:.1f} days" in html and "observed in your books, not simulated" in html
    assert '<time datetime="2026-03-01T00:00:00' in html, "the period's days go through the when macro"
    assert "<style" not in html and " style=" not in html


def test_another_organizations_run_is_not_visible(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    demo = generate_demo_company()
    client = _client(app, *mirror(app, demo, "9130104"))
    _start(client)
    assert _finished(client)["status"] == "done"
    other = signed_in(app, two_orgs[1])
    assert other.get("/backtest/status").get_json() == {"status": "none"}
    html = other.get("/backtest").get_data(as_text=True)
    assert "measure-emails" not in html and demo.company.name not in html
    # Naming another organization's company in the form is refused like a missing one.
    theirs = signed_in(app, two_orgs[0])
    refused = _start(theirs, company=str(two_orgs[1].connection_id))
    assert refused.status_code == 400 and "Choose one of your companies." in refused.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_the_landing_page(app: Flask) -> None:
    client = app.test_client()
    for path in ("/backtest", "/backtest/status"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/"


def _books_of(app: Flask, realm: str) -> tuple[int, Company, Books]:
    organization_id, _ = mirror(app, generate_demo_company(), realm)
    with app.extensions["arpilot"].sessions() as db:
        [company] = companies(db, organization_id)
        books = read_books(db, organization_id, company.connection_id, TODAY)
    assert books is not None
    return organization_id, company, books


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[RunStore]:
    """Each place a run is kept: this process's memory, or Redis (every web process)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    prefix = f"arpilot-test:backtest:{secrets.token_hex(4)}"
    yield RedisStore(REDIS_URL, prefix=prefix)
    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(f"{prefix}:*"):
        redis.delete(key)


def test_a_second_run_waits_for_the_first_and_a_failed_replay_ends_its_run(  # type: ignore[no-untyped-def]
    app: Flask, store: RunStore, monkeypatch
) -> None:
    organization_id, company, books = _books_of(app, "9130106")
    release = threading.Event()
    replay = backtest_runs.backtest

    def held(*args, on_day, **kwargs):  # type: ignore[no-untyped-def]
        release.wait(timeout=30)
        return replay(*args, on_day=on_day, **kwargs)

    monkeypatch.setattr(backtest_runs, "backtest", held)
    runs = Runs(store, lambda: T0)
    period = check_period(PERIOD["start"], PERIOD["end"], TODAY)
    first = runs.start(organization_id, company, books, Rules.default(), period)
    with pytest.raises(BacktestBusy, match="already running"):
        runs.start(organization_id, company, books, Rules.default(), period)
    release.set()
    kept = _ended(runs, organization_id)
    assert (kept.id, kept.status, kept.days_done) == (first.id, "done", 61)
    assert kept.report == backtest(books.scenario, Rules.default(), period.start, period.end).as_dict()
    assert (kept.company, kept.period, kept.finished_at) == (company, period, T0)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("a bug in the replay")

    monkeypatch.setattr(backtest_runs, "backtest", broken)
    failed = runs.start(organization_id, company, books, Rules.default(), period)
    shown = _ended(runs, organization_id)
    assert shown.id == failed.id and shown.status == "failed" and shown.report is None
    assert shown.error is not None and "please try again" in shown.error and "ZeroDivision" not in shown.error


def test_a_run_whose_process_ended_shows_as_interrupted_and_may_be_replaced(app: Flask, store: RunStore) -> None:
    organization_id, company, books = _books_of(app, "9130107")
    period = check_period(PERIOD["start"], PERIOD["end"], TODAY)
    store.put(Run("gone", organization_id, company, period, [], T0, T0, days_done=12))
    later = Runs(store, lambda: T0 + dt.timedelta(minutes=5))
    shown = later.latest(organization_id)
    assert shown is not None and (shown.status, shown.error) == ("failed", INTERRUPTED)
    again = later.start(organization_id, company, books, Rules.default(), period)
    assert _ended(later, organization_id).id == again.id


@pytest.mark.redis
def test_with_redis_every_web_process_sees_the_run(app: Flask) -> None:
    organization_id, company, books = _books_of(app, "9130108")
    prefix = f"arpilot-test:backtest:{secrets.token_hex(4)}"
    started_here = Runs(RedisStore(REDIS_URL, prefix=prefix), lambda: T0)
    elsewhere = Runs(RedisStore(REDIS_URL, prefix=prefix), lambda: T0)
    run = started_here.start(
        organization_id, company, books, Rules.default(), check_period(PERIOD["start"], PERIOD["end"], TODAY)
    )
    seen = _ended(elsewhere, organization_id)
    assert seen.id == run.id and seen.status == "done" and seen.report == run.report
    Redis.from_url(REDIS_URL).delete(f"{prefix}:{organization_id}")


def _ended(runs: Runs, organization_id: int) -> Run:
    """The organization's latest run once its store says it has ended."""
    deadline = time.monotonic() + 60
    while (run := runs.latest(organization_id)) is None or run.status == "running":
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.05)
    return run


def test_an_organization_with_two_companies_chooses_which_to_replay(app: Flask) -> None:
    organization_id, user_id = mirror(app, generate_demo_company(), "9130109")
    with transaction(app.extensions["arpilot"].sessions) as db:
        second = Connection(
            organization_id=organization_id, provider="xero", external_id="tenant-2", display_name="Second Books"
        )
        db.add(second)
        db.flush()
        second_id = second.id
    client = _client(app, organization_id, user_id)
    html = client.get("/backtest").get_data(as_text=True)
    assert '<label for="company">Company</label>' in html
    assert f'<option value="{second_id}">Second Books</option>' in html
    refused = _start(client, company=str(second_id))
    assert refused.status_code == 400
    assert "Second Books had no invoice open from 2026-03-01 to 2026-04-30" in refused.get_data(as_text=True)
    missing = _start(client)
    assert missing.status_code == 400 and "Choose one of your companies." in missing.get_data(as_text=True)


def test_a_payments_unapplied_part_is_credit_from_the_payments_day(app: Flask) -> None:
    demo = generate_demo_company()
    organization_id, _ = mirror(app, demo, "9130110")
    payment = demo.payments[0]
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection_id = db.scalars(select(Connection.id).where(Connection.organization_id == organization_id)).one()
        db.execute(
            update(MirroredPayment)
            .where(MirroredPayment.connection_id == connection_id, MirroredPayment.provider_id == payment.id)
            .values(unapplied=Decimal("25.00"))
        )
    with app.extensions["arpilot"].sessions() as db:
        books = read_books(db, organization_id, connection_id, TODAY)
    assert books is not None
    [unapplied] = [c for c in books.scenario.credits if c.kind == "unapplied_payment"]
    assert (unapplied.customer_id, unapplied.date, unapplied.amount, unapplied.remaining) == (
        payment.customer_id,
        payment.date,
        Decimal("25.00"),
        Decimal("25.00"),
    )


def test_replays_beyond_the_process_limit_wait_their_turn(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first_org, company, books = _books_of(app, "9130111")
    second_org, second_company, second_books = _books_of(app, "9130112")
    release = threading.Event()
    replay = backtest_runs.backtest

    def held(scenario, *args, on_day, **kwargs):  # type: ignore[no-untyped-def]
        if scenario is books.scenario:  # only the first organization's replay is held
            release.wait(timeout=30)
        return replay(scenario, *args, on_day=on_day, **kwargs)

    monkeypatch.setattr(backtest_runs, "backtest", held)
    runs = Runs(MemoryStore(), lambda: T0, replays_at_once=1)
    period = check_period(PERIOD["start"], PERIOD["end"], TODAY)
    runs.start(first_org, company, books, Rules.default(), period)
    runs.start(second_org, second_company, second_books, Rules.default(), period)
    time.sleep(2)  # time enough to replay 61 days, had it not waited
    waiting = runs.latest(second_org)
    assert waiting is not None and (waiting.status, waiting.days_done) == ("running", 0)
    release.set()
    assert _ended(runs, first_org).status == _ended(runs, second_org).status == "done"
