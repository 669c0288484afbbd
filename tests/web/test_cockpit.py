"""The dashboard as a cockpit, on a hand-built book whose figures are worked out below: the headline
tiles, today's calls by expected value, the company filter, the truthful empty state while the
first sync runs (or after it failed), and GET /progress (scoped, signed in only)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from integration.store.db import transaction
from integration.store.models import (
    AccountPlan,
    Action,
    ActionStatus,
    Connection,
    CycleRun,
    InboundReply,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    MirroredPayment,
    Organization,
    User,
)
from integration.web import dashboard

NOW = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # the organization's zone is UTC: today is 2026-11-23
SYNCED = NOW - dt.timedelta(hours=1)


@dataclass(frozen=True)
class Book:
    organization_id: int
    user_id: int
    north: int  # connection ids
    south: int
    calls: dict[str, int]  # customer name -> call task id


def _org(db: Session, name: str) -> tuple[Organization, User]:
    org = Organization(name=name)
    db.add(org)
    db.flush()
    user = User(organization_id=org.id, provider="quickbooks", subject=f"owner-{org.id}", email="o@example.com")
    db.add(user)
    db.flush()
    return org, user


def _connection(db: Session, org: Organization, name: str, synced: dt.datetime | None = SYNCED) -> Connection:
    connection = Connection(
        organization_id=org.id, provider="quickbooks", external_id=f"{name}-{org.id}", display_name=name
    )
    connection.last_sync_at = synced
    db.add(connection)
    db.flush()
    return connection


def _invoice(
    db: Session,
    connection: Connection,
    number: str,
    customer: str,
    issued: dt.date,
    due: dt.date,
    total: str,
    balance: str | None = None,
    currency: str = "USD",
) -> None:
    owed = Decimal(total if balance is None else balance)
    db.add(
        MirroredInvoice(
            connection_id=connection.id,
            provider_id=number,
            customer_provider_id=customer,
            number=number,
            issue_date=issued,
            due_date=due,
            total=Decimal(total),
            balance=owed,
            currency=currency,
            status="open" if owed else "paid",
            provider_updated_at=SYNCED,
        )
    )


def _call(
    db: Session, org: Organization, connection: Connection, customer: str, invoice: str, profile: str, n: int = 0
) -> int:
    task = Action(
        organization_id=org.id,
        connection_id=connection.id,
        idempotency_key=f"{connection.id}:call:{customer}:{n}",
        kind="create_call_task",
        target_type="invoice",
        target_id=invoice,
        reason=f"call {customer}",
        status=ActionStatus.DONE,
        created_at=NOW - dt.timedelta(days=2),
        payload={
            "customer_id": customer,
            "invoice_ids": [invoice],
            "stage": "past_due_30",
            "recipients": [],
            "idempotency_key": f"{connection.id}:call:{customer}:{n}",
            "payload": {"classification": profile, "talking_points": [f"Talk to {customer}"]},
        },
    )
    db.add(task)
    db.flush()
    return task.id


def build_book(sessions: sessionmaker[Session]) -> Book:
    """North (USD) and South (EUR), two companies of one organization.

    North, open: Small Co A1 2,500 due 11-13 (10 days late, reliable), Big Co A2 46,000 due
    2025-07-04 (507 days late, unresponsive), Mid Co A3 5,000 due 10-24 (30 days late, habitually
    late), Small Co A4 1,000 due 12-10 (current). Paid: A5 800, by a payment on 11-10 (in the last
    30 days); a payment of 300 on 10-20 is older. Promised: A3 by 11-30 (its 5,000), A1's plan
    1,000 on 11-25 (and 1,500 on 12-20, outside 14 days), A2 by 2027-01-15 (outside).
    South: Euro GmbH B1 700 EUR due 11-01 (22 days late, new).
    """
    with transaction(sessions) as db:
        org, user = _org(db, "Harbor & Pine")
        north, south = _connection(db, org, "North"), _connection(db, org, "South")
        for connection, customer, name in (
            (north, "c1", "Small Co"),
            (north, "c2", "Big Co"),
            (north, "c3", "Mid Co"),
            (south, "e1", "Euro GmbH"),
        ):
            db.add(
                MirroredCustomer(
                    connection_id=connection.id,
                    provider_id=customer,
                    name=name,
                    currency="EUR" if connection is south else "USD",
                    provider_updated_at=SYNCED,
                )
            )
        d = dt.date
        _invoice(db, north, "A1", "c1", d(2026, 10, 14), d(2026, 11, 13), "2500")
        _invoice(db, north, "A2", "c2", d(2025, 6, 4), d(2025, 7, 4), "46000")
        _invoice(db, north, "A3", "c3", d(2026, 9, 24), d(2026, 10, 24), "5000")
        _invoice(db, north, "A4", "c1", d(2026, 11, 10), d(2026, 12, 10), "1000")
        _invoice(db, north, "A5", "c1", d(2026, 10, 1), d(2026, 10, 31), "800", "0")
        _invoice(db, south, "B1", "e1", d(2026, 10, 2), d(2026, 11, 1), "700", currency="EUR")
        for provider_id, day, amount, applied in (
            ("P1", d(2026, 11, 10), "800", [{"invoice_id": "A5", "amount": "800"}]),
            ("P0", d(2026, 10, 20), "300", []),
        ):
            db.add(
                MirroredPayment(
                    connection_id=north.id,
                    provider_id=provider_id,
                    customer_provider_id="c1",
                    date=day,
                    amount=Decimal(amount),
                    currency="USD",
                    applied_to=applied,
                    provider_updated_at=SYNCED,
                )
            )
        db.add_all(
            [
                InvoicePause(connection_id=north.id, invoice_provider_id="A3", promise_to_pay=d(2026, 11, 30)),
                InvoicePause(
                    connection_id=north.id,
                    invoice_provider_id="A1",
                    plan=[{"date": "2026-11-25", "amount": "1000.00"}, {"date": "2026-12-20", "amount": "1500.00"}],
                ),
                InvoicePause(connection_id=north.id, invoice_provider_id="A2", promise_to_pay=d(2027, 1, 15)),
            ]
        )
        # Made in this order on purpose: the list must not follow it.
        calls = {
            "Small Co": _call(db, org, north, "c1", "A1", "reliable"),
            "Euro GmbH": _call(db, org, south, "e1", "B1", "new"),
            "Mid Co": _call(db, org, north, "c3", "A3", "habitually_late"),
            "Big Co": _call(db, org, north, "c2", "A2", "unresponsive"),
        }
        return Book(org.id, user.id, north.id, south.id, calls)


@pytest.fixture
def cockpit_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setattr(dashboard, "now", lambda: NOW)
    return app


@pytest.fixture
def book(cockpit_app: Flask) -> Book:
    return build_book(cockpit_app.extensions["arpilot"].sessions)


def sign_in(app: Flask, organization_id: int, user_id: int, company: object = None) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"], cookie["organization_id"] = user_id, organization_id
        if company is not None:
            cookie["company_connection_id"] = company
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def tiles_text(html: str) -> str:
    return text_of(html.split('id="glance-heading"')[1].split('id="calls-heading"')[0])


def test_the_tiles_show_the_hand_computed_figures_per_currency(cockpit_app: Flask, book: Book) -> None:
    html = sign_in(cockpit_app, book.organization_id, book.user_id).get("/").get_data(as_text=True)
    tiles = tiles_text(html)
    usd = tiles.split("In USD")[1]
    eur = tiles.split("In EUR")[1].split("In USD")[0]
    # Owed 2,500 + 46,000 + 5,000 + 1,000; overdue all but A4: 53,500 / 54,500 = 98 %.
    assert "Owed $54,500.00" in usd and "Overdue $53,500.00 98% of owed" in usd
    assert "Collected, last 30 days $800.00" in usd  # P1; P0 is older
    assert "Promised, next 14 days $6,000.00" in usd  # A3's 5,000 and A1's first instalment
    # DSO today: 54,500 / (2,500 + 5,000 + 1,000 + 800 invoiced in 90 days) × 90 = 527; at 10-31:
    # 54,300 (A5 still owed) / (2,500 + 5,000 + 800) × 90 = 589.
    assert "DSO 527 days 62 fewer than at last month-end" in usd
    assert "Owed €700.00" in eur and "Overdue €700.00 100% of owed" in eur
    assert "DSO 90 days same as at last month-end" in eur
    assert "Nothing waits for your approval" in tiles


@pytest.mark.parametrize(("first", "promised"), [("300.00", "€300.00"), ("900.00", "€700.00")])
def test_an_account_plans_instalments_in_the_window_are_promised_up_to_what_its_invoices_owe(
    cockpit_app: Flask, book: Book, first: str, promised: str
) -> None:
    """Euro GmbH's plan over B1 (700 open): its instalment on 11-28 is promised, the one on 12-30 is
    beyond the 14 days; an instalment above the open balance counts the balance only."""
    with transaction(cockpit_app.extensions["arpilot"].sessions) as db:
        db.add(
            AccountPlan(
                connection_id=book.south,
                customer_provider_id="e1",
                invoice_ids=["B1"],
                instalments=[{"date": "2026-11-28", "amount": first}, {"date": "2026-12-30", "amount": "400.00"}],
            )
        )
    html = sign_in(cockpit_app, book.organization_id, book.user_id).get("/").get_data(as_text=True)
    eur = tiles_text(html).split("In EUR")[1].split("In USD")[0]
    assert f"Promised, next 14 days {promised}" in eur


def test_calls_come_by_expected_value_with_the_formula_on_the_page(cockpit_app: Flask, book: Book) -> None:
    html = sign_in(cockpit_app, book.organization_id, book.user_id).get("/").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'<li class="call" id="call-(\d+)">', html)]
    # Big Co 46,000 × 507 × 2; Mid Co 5,000 × 30 × 1.5 = 225,000; Euro GmbH 700 × 22 × 1 = 15,400;
    # Small Co 2,500 × 10 × 0.5 = 12,500.
    assert order == [book.calls[name] for name in ("Big Co", "Mid Co", "Euro GmbH", "Small Co")]
    assert "amount overdue × days late × the customer&#39;s risk" in html
    big = text_of(html.split(f'id="call-{book.calls["Big Co"]}"')[1].split("</summary>")[0])
    assert "Big Co $46,000.00 overdue · 507 days late" in big
    # The calls come before the aging chart, and the tiles before the calls.
    assert html.index('id="glance-heading"') < html.index('id="calls-heading"') < html.index('id="aging-heading"')


def test_the_chosen_company_filters_every_part(cockpit_app: Flask, book: Book) -> None:
    with transaction(cockpit_app.extensions["arpilot"].sessions) as db:
        for connection, customer, subject in ((book.north, "c2", "Re: Big Co's invoice"), (book.south, "e1", "Re: B1")):
            db.add(
                InboundReply(
                    organization_id=book.organization_id,
                    connection_id=connection,
                    customer_provider_id=customer,
                    source="inbox",
                    status="reply",
                    subject=subject,
                    received_at=NOW - dt.timedelta(days=1),
                )
            )
    every = sign_in(cockpit_app, book.organization_id, book.user_id).get("/").get_data(as_text=True)
    assert "Re: Big Co" in every and "Re: B1" in every
    html = sign_in(cockpit_app, book.organization_id, book.user_id, book.south).get("/").get_data(as_text=True)
    assert "Re: B1" in html and "Re: Big Co" not in html
    assert "· South" in html
    assert "Euro GmbH" in html and "Big Co" not in html and "Small Co" not in html
    assert "In USD" not in html and "$" not in tiles_text(html)
    assert "Owed €700.00" in tiles_text(html)
    assert re.findall(r'<li class="call" id="call-(\d+)">', html) == [str(book.calls["Euro GmbH"])]
    assert "<td>North</td>" not in html and "<td>South</td>" in html


@pytest.mark.parametrize("chosen", ["not a number", True, 10**9])
def test_a_company_not_of_the_organization_is_ignored(cockpit_app: Flask, book: Book, chosen: object) -> None:
    sessions = cockpit_app.extensions["arpilot"].sessions
    with transaction(sessions) as db:
        stranger, _ = _org(db, "Someone Else Ltd")
        foreign = _connection(db, stranger, "Foreign").id
    for company in (chosen, foreign):
        html = sign_in(cockpit_app, book.organization_id, book.user_id, company).get("/").get_data(as_text=True)
        assert "Big Co" in html and "Euro GmbH" in html and "Foreign" not in html  # all of its own companies


def _first_sync(sessions: sessionmaker[Session], status: str, summary: dict[str, Any]) -> tuple[int, int, int]:
    with transaction(sessions) as db:
        org, user = _org(db, "New Owner Ltd")
        connection = _connection(db, org, "Fresh Books", synced=None)
        db.add(
            CycleRun(
                connection_id=connection.id,
                started_at=NOW - dt.timedelta(seconds=30),
                status=status,
                summary=summary,
                finished_at=None if status == "running" else NOW,
            )
        )
        return org.id, user.id, connection.id


def test_while_the_first_sync_runs_the_page_says_so_instead_of_nothing_owed(cockpit_app: Flask) -> None:
    sessions = cockpit_app.extensions["arpilot"].sessions
    progress = {"progress": {"phase": "syncing invoices", "pages": 2, "invoices": 340}}
    org, user, _ = _first_sync(sessions, "running", progress)
    client = sign_in(cockpit_app, org, user)
    html = client.get("/").get_data(as_text=True)
    assert "First sync running for Fresh Books: 340 invoices so far (syncing invoices, 2 pages fetched)." in html
    assert "No open invoices" not in html and "nothing is owed" not in html.lower()
    assert "The aging appears when the first sync has finished." in html
    state = client.get("/progress").get_json()
    assert state["running"] is True and state["finished"] is None
    [company] = state["companies"]
    assert (company["name"], company["phase"], company["pages"], company["invoices"], company["first_sync"]) == (
        "Fresh Books",
        "syncing invoices",
        2,
        340,
        True,
    )


def test_a_failed_first_sync_says_so(cockpit_app: Flask) -> None:
    sessions = cockpit_app.extensions["arpilot"].sessions
    org, user, _ = _first_sync(sessions, "stopped", {"detail": "the grant was revoked"})
    html = sign_in(cockpit_app, org, user).get("/").get_data(as_text=True)
    assert "The first sync of Fresh Books failed: the grant was revoked." in html
    assert "No open invoices" not in html


def test_progress_is_the_signed_in_organizations_only(cockpit_app: Flask, book: Book) -> None:
    sessions = cockpit_app.extensions["arpilot"].sessions
    _, _, fresh = _first_sync(sessions, "running", {"progress": {"phase": "syncing customers", "pages": 1}})
    state = sign_in(cockpit_app, book.organization_id, book.user_id).get("/progress").get_json()
    assert [c["name"] for c in state["companies"]] == ["North", "South"]
    assert state["running"] is False and fresh not in [c["connection_id"] for c in state["companies"]]
    chosen = sign_in(cockpit_app, book.organization_id, book.user_id, book.south).get("/progress").get_json()
    assert [c["name"] for c in chosen["companies"]] == ["South"]


def test_progress_signed_out_goes_to_the_landing_page(cockpit_app: Flask) -> None:
    response = cockpit_app.test_client().get("/progress")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")


def test_the_figures_follow_the_mirror_when_a_sync_stores_rows(cockpit_app: Flask, book: Book) -> None:
    client = sign_in(cockpit_app, book.organization_id, book.user_id, book.south)
    assert "Owed €700.00" in tiles_text(client.get("/").get_data(as_text=True))
    with transaction(cockpit_app.extensions["arpilot"].sessions) as db:
        south = db.get(Connection, book.south)
        assert south is not None
        _invoice(db, south, "B2", "e1", dt.date(2026, 11, 20), dt.date(2026, 12, 20), "300", currency="EUR")
    assert "Owed €1,000.00" in tiles_text(client.get("/").get_data(as_text=True))
    with transaction(cockpit_app.extensions["arpilot"].sessions) as db:  # a deletion keeps the change time
        db.execute(
            update(MirroredInvoice)
            .where(MirroredInvoice.provider_id == "B1")
            .values(status="deleted", balance=Decimal(0))
        )
    assert "Owed €300.00" in tiles_text(client.get("/").get_data(as_text=True))


def test_a_call_says_when_the_customer_usually_pays(cockpit_app: Flask, book: Book) -> None:
    # Mid Co paid four earlier invoices 20, 25, 22 and 21 days late: the median, 21 days, after A3's
    # due date (2026-10-24) is Nov 14. Small Co has no paid history to judge by, so its line says nothing.
    with transaction(cockpit_app.extensions["arpilot"].sessions) as db:
        north = db.get(Connection, book.north)
        assert north is not None
        for n, (due, late) in enumerate(
            ((dt.date(2026, 5, 4), 20), (dt.date(2026, 6, 3), 25), (dt.date(2026, 7, 3), 22), (dt.date(2026, 8, 4), 21))
        ):
            number = f"M{n}"
            _invoice(db, north, number, "c3", due - dt.timedelta(days=30), due, "400", "0")
            db.add(
                MirroredPayment(
                    connection_id=north.id,
                    provider_id=f"MP{n}",
                    customer_provider_id="c3",
                    date=due + dt.timedelta(days=late),
                    amount=Decimal(400),
                    currency="USD",
                    applied_to=[{"invoice_id": number, "amount": "400"}],
                    provider_updated_at=SYNCED,
                )
            )
    html = sign_in(cockpit_app, book.organization_id, book.user_id).get("/").get_data(as_text=True)

    def line(name: str) -> str:
        return text_of(html.split(f'id="call-{book.calls[name]}"')[1].split("</summary>")[0])

    assert "usually pays around Nov 14, 2026" in line("Mid Co")
    assert "usually pays" not in line("Small Co")


def test_the_page_lists_the_25_most_valuable_calls_and_links_to_all(cockpit_app: Flask, book: Book) -> None:
    with transaction(cockpit_app.extensions["arpilot"].sessions) as db:
        org, north = db.get(Organization, book.organization_id), db.get(Connection, book.north)
        assert org is not None and north is not None
        for n in range(1, 27):  # about A4, not yet due: nothing overdue, so they weigh nothing
            _call(db, org, north, "c1", "A4", "new", n)
    client = sign_in(cockpit_app, book.organization_id, book.user_id)
    html = client.get("/").get_data(as_text=True)
    listed = re.findall(r'<li class="call" id="call-(\d+)">', html)
    assert len(listed) == 25 and listed[:2] == [str(book.calls["Big Co"]), str(book.calls["Mid Co"])]
    assert "All 30 calls</a>" in html and 'Calls to make <span class="muted">· 30</span>' in html
    every = client.get("/?calls=all").get_data(as_text=True)
    assert len(re.findall(r'<li class="call" id="call-(\d+)">', every)) == 30 and "All 30 calls" not in every
