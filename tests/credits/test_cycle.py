"""End to end on both providers: the sandbox serves the credit, the real SDK reads it, the sync
mirrors it, decide sets it against what is owed and the executor sends (or does not send)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks.sandbox import writes
from connectors.sandbox.scenario import ScenarioCredit
from connectors.xero.sandbox.seed import seed_credit
from integration.cycle.gather import load_snapshot
from integration.owner.dashboard_reads import load_dashboard
from integration.owner.digest import compose_digest, gather_digest
from integration.policy.profiles import payment_profiles
from integration.policy.rules import Rules
from integration.store.models import Action, ActionStatus, MirroredCredit, MirroredCustomer, MirroredInvoice
from reminders.delivery import Address
from tests.credits.scenario import credit_scenario
from tests.cycle.conftest import NOW, make_world
from tests.cycle.xero_world import make_xero_world
from tests.xero_conformance import load_spec

LIVE = {"mode": "live"}


@pytest.fixture(params=["quickbooks", "xero"])
def books(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Any]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    yield from make(credit_scenario(NOW.date()), sessions, tmp_path)


def _customer_ids(books: Any) -> dict[str, str]:
    with books.sessions() as session:
        return {row.name: row.provider_id for row in session.scalars(select(MirroredCustomer))}


def _text(books: Any, entry: dict[str, Any]) -> str:
    message = email.message_from_bytes(
        (books.outbox.directory / entry["file"]).read_bytes(), policy=email.policy.default
    )
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_customer_in_credit_gets_an_owner_task_and_a_part_credit_a_net_reminder(books: Any) -> None:
    books.set_rules(LIVE)
    summary = books.cycle()
    assert summary.status == "done", summary.detail
    ids = _customer_ids(books)
    actions = books.actions()
    cool = [a for a in actions if a.target_id == ids["Cool Cars"] or a.payload.get("customer_id") == ids["Cool Cars"]]
    assert [a.kind for a in cool] == ["apply_credit"]
    assert cool[0].status is ActionStatus.DONE
    word = "credit memo" if books.__class__.__name__ == "World" else "credit note"  # each provider's own name
    assert (
        cool[0].payload["payload"]["task"]
        == f"Apply the 92.50 USD {word} CN-0001 to INV-0003 in the accounting system."
    )
    sent = books.outbox.entries()
    assert not [e for e in sent if "ap@cool.example" in e["to"]]
    partial = [e for e in sent if e["to"] == ["ap@partial.example"]]
    assert len(partial) == 1
    assert "Less your unapplied credit of $20.00: $80.00 to pay" in _text(books, partial[0])

    with books.sessions() as session:
        credits = {row.number: row.remaining for row in session.scalars(select(MirroredCredit))}
        assert credits["CN-0001"] == Decimal("92.50") and credits["CN-0002"] == Decimal("20.00")
        assert credits.get("CN-0003", Decimal(0)) == Decimal(0)
        settled = session.scalars(select(MirroredInvoice).where(MirroredInvoice.number == "INV-0008")).one()
        assert settled.balance == 0 and settled.status == "paid"
        profiles = payment_profiles(load_snapshot(session, books.connection_id, NOW), Rules.default(), NOW)
    # The credit note settled INV-0008 five days ago; the last money came 30 days ago.
    assert profiles[ids["Zero Zone"]].last_payment == NOW.date() - dt.timedelta(days=30)
    # One payment for two invoices: both are paid, both count in the habits.
    assert profiles[ids["Multi Mart"]].paid_invoices == 2

    again = books.cycle()
    assert again.status == "done"
    assert len(books.actions()) == len(actions) and len(books.outbox.entries()) == len(sent)


def _issue_credit_note(books: Any, customer: str, amount: str) -> None:
    """The owner issues a credit note in the accounting system now (QuickBooks: through its API)."""
    ids = _customer_ids(books)
    if books.__class__.__name__ == "World":
        company = books.qbo.sandbox.company(books.qbo.realm)
        writes.save(
            company,
            "CreditMemo",
            {
                "CustomerRef": {"value": ids[customer]},
                "DocNumber": "CN-0099",
                "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail"}],
            },
        )
        return
    org = books.sandbox.organisation("demo")
    with org.lock:
        credit = ScenarioCredit("cn-99", "credit_note", "CN-0099", "cust-02", NOW.date(), "USD", Decimal(amount))
        credit_id = seed_credit(org, credit, org.scenario_ids)
        org.credits[credit_id]["_updated"] = org.now()
        org.changed("CREDITNOTE", credit_id, "CREATE")


def test_a_credit_issued_after_planning_stops_the_reminder_when_it_goes_out(books: Any) -> None:
    books.set_rules({"mode": "live", "schedule": {"send_from_hour": 11}})  # 10:00 now: reminders wait an hour
    assert books.cycle().status == "done"
    waiting = [
        a for a in books.actions() if a.kind == "send_reminder" and a.payload["recipients"] == ["ap@partial.example"]
    ]
    assert [a.status for a in waiting] == [ActionStatus.PLANNED]
    _issue_credit_note(books, "Partial Parts", "100.00")
    books.clock.advance(dt.timedelta(hours=2))
    assert books.cycle().status == "done"
    with books.sessions() as session:
        reminder = session.get(Action, waiting[0].id)
        assert reminder is not None and reminder.status is ActionStatus.SKIPPED
        assert "unapplied credit of 120.00 USD now covers the 100.00 USD" in (reminder.last_error or "")
    assert not [e for e in books.outbox.entries() if e["to"] == ["ap@partial.example"]]
    assert "apply_credit" in [
        a.kind for a in books.actions() if a.payload.get("customer_id") == waiting[0].payload["customer_id"]
    ]


def test_the_sandboxes_net_credit_off_the_customer_balance(books: Any) -> None:
    assert books.cycle().status == "observed"  # the sync fills the mirror the ids are read from
    ids = _customer_ids(books)
    if books.__class__.__name__ == "World":
        company = books.qbo.sandbox.company(books.qbo.realm)
        balance = company.read("Customer", ids["Cool Cars"])["Balance"]
    else:
        org = books.sandbox.organisation("demo")
        balance = org.contact_balances(ids["Cool Cars"])["Outstanding"]
    assert balance == Decimal("-52.50")  # owes 40.00, holds 92.50 of credit


def test_xero_credit_exchanges_conform_to_the_published_spec(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    for world in make_xero_world(credit_scenario(NOW.date()), sessions, tmp_path):
        world.set_rules(LIVE)
        assert world.cycle().status == "done"
        paths = {e.path.split("?")[0].split("/api.xro/2.0/")[1] for e in world.exchanges}
        assert {"CreditNotes", "Overpayments", "Prepayments"} <= paths
        spec = load_spec()
        problems = {f"{e.method} {e.path}": spec.problems(e) for e in world.exchanges}
        assert {where: found for where, found in problems.items() if found} == {}


def test_quickbooks_payment_line_linking_two_invoices_pays_both(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    for world in make_world(credit_scenario(NOW.date()), sessions, tmp_path):
        assert world.cycle().status == "observed"
        company = world.qbo.sandbox.company(world.qbo.realm)
        invoices = {i["DocNumber"]: i["Id"] for i in company.entities["Invoice"].values()}
        customer = company.stored("Invoice", invoices["INV-0012"])["CustomerRef"]
        writes.save(
            company,
            "Payment",
            {
                "CustomerRef": customer,
                "TotalAmt": "100.00",
                "Line": [
                    {
                        "Amount": "100.00",
                        "LinkedTxn": [
                            {"TxnId": invoices["INV-0012"], "TxnType": "Invoice"},
                            {"TxnId": invoices["INV-0013"], "TxnType": "Invoice"},
                        ],
                    }
                ],
            },
        )
        world.set_rules(LIVE)
        assert world.cycle().status == "done"
        with world.sessions() as session:
            paid = {
                row.number: row.balance
                for row in session.scalars(
                    select(MirroredInvoice).where(MirroredInvoice.number.in_(["INV-0012", "INV-0013"]))
                )
            }
            profile = payment_profiles(load_snapshot(session, world.connection_id, NOW), Rules.default(), NOW)
        assert paid == {"INV-0012": 0, "INV-0013": 0}
        assert profile[customer["value"]].paid_invoices == 4  # INV-0010 to INV-0013, each with its payment date
        assert not [e for e in world.outbox.entries() if e["to"] == ["ap@multi.example"]]


def test_credits_to_apply_show_on_the_dashboard_and_in_the_digest(books: Any) -> None:
    books.set_rules(LIVE)
    assert books.cycle().status == "done"
    with books.sessions() as session:
        board = load_dashboard(session, books.organization_id, books.clock.now(), dt.timedelta(hours=1))
        # The executor stamps completed_at with the cycle's clock: the digest a minute later lists it.
        facts = gather_digest(
            session, books.organization_id, books.clock.now() + dt.timedelta(minutes=1), dt.timedelta(hours=1)
        )
    assert [line.customer_name for line in board.credits_to_apply] == ["Cool Cars"]
    assert "apply the 92.50 USD credit" in board.credits_to_apply[0].reason
    assert [line.customer_name for line in facts.credits_to_apply] == ["Cool Cars"]
    message = compose_digest(facts, Address("owner@harborpine.example"), "digest@arpilot.local", "http://127.0.0.1/")
    assert "Apply Cool Cars's credit: Cool Cars owes 40.00 USD on INV-0003" in message.text


@pytest.fixture
def xero_books(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Any]:
    """The credit company on Xero, where Multi Mart's payment left 150.00 over (an AROVERPAYMENT)
    and a supplier's overpayment of 500.00 sits in the same listing (a SPEND-OVERPAYMENT)."""
    scenario = credit_scenario(NOW.date())
    left_over = ScenarioCredit("op-1", "unapplied_payment", "", "cust-04", NOW.date(), "USD", Decimal("150.00"))
    scenario = dataclasses.replace(scenario, credits=(*scenario.credits, left_over))
    for world in make_xero_world(scenario, sessions, tmp_path):
        org = world.sandbox.organisation("demo")
        assert org is not None
        with org.lock:
            supplier = ScenarioCredit("op-2", "overpayment", "", "cust-02", NOW.date(), "USD", Decimal("500.00"))
            org.credits[seed_credit(org, supplier, org.scenario_ids)]["_type"] = "SPEND-OVERPAYMENT"
        yield world


def test_a_xero_overpayment_left_from_a_payment_is_credit_and_a_suppliers_is_not(xero_books: Any) -> None:
    xero_books.set_rules(LIVE)
    assert xero_books.cycle().status == "done"
    ids = _customer_ids(xero_books)
    with xero_books.sessions() as session:
        credits = {
            (row.kind, row.customer_provider_id, row.remaining) for row in session.scalars(select(MirroredCredit))
        }
    assert ("overpayment", ids["Multi Mart"], Decimal("150.00")) in credits
    assert not [c for c in credits if c[2] == Decimal("500.00")]
    kinds = [a.kind for a in xero_books.actions() if a.payload.get("customer_id") == ids["Multi Mart"]]
    assert "apply_credit" in kinds and "send_reminder" not in kinds  # in credit: the owner applies it
    sent = xero_books.outbox.entries()
    assert not [e for e in sent if "ap@multi.example" in e["to"]]
    partial = [e for e in sent if e["to"] == ["ap@partial.example"]]  # the supplier's credit counts for nothing
    assert len(partial) == 1 and "Less your unapplied credit of $20.00: $80.00 to pay" in _text(xero_books, partial[0])
