"""What is owed and who is written to, end to end on both sandboxes through the real SDKs (#13):
no action on SUBMITTED/DRAFT/ACCPAY invoices, one email to every valid address of a customer whose
field lists several, the parent account collected for its jobs, and a poisoned record quarantined
while the rest of the company syncs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.sandbox.scenario import Scenario, ScenarioCompany, ScenarioCustomer, ScenarioInvoice, ScenarioLine
from integration.cycle.sync import REJECTED_KIND
from integration.store.models import ActionStatus, ActivityEntry, CycleRun, MirroredCustomer, MirroredInvoice
from tests.cycle.conftest import NOW, World, make_world, world  # noqa: F401  (fixture)
from tests.cycle.xero_world import XeroWorld, live_world, make_xero_world

TODAY = NOW.date()


def shaped_scenario() -> Scenario:
    def invoice(iid: str, customer: str, days_late: int, amount: str = "400.00", **kw: object) -> ScenarioInvoice:
        due = TODAY - dt.timedelta(days=days_late)
        return ScenarioInvoice(
            iid,
            iid.removeprefix("inv-"),
            customer,
            due - dt.timedelta(days=30),
            due,
            "USD",
            (ScenarioLine("Landscaping", Decimal(amount)),),
            **kw,  # type: ignore[arg-type]
        )

    customers = (
        ScenarioCustomer("c-parent", "Freeman Sporting Goods", "ap@freeman.example", None, "USD", 30),
        ScenarioCustomer(
            "c-job", "0969 Ocean View Road", None, None, "USD", 30, parent_id="c-parent", bill_with_parent=True
        ),
        ScenarioCustomer("c-own-job", "55 Twin Lane", "site@twinlane.example", None, "USD", 30, parent_id="c-parent"),
        ScenarioCustomer("c-two", "Two Desk Dental", "ap@twodesk.example, owner@twodesk.example", None, "USD", 30),
        ScenarioCustomer("c-typo", "Half Typo Florist", "ap@typo.example, ap at typo", None, "USD", 30),
        ScenarioCustomer("c-pending", "Pending Approval Ltd", "ap@pending.example", None, "USD", 30),
    )
    invoices = (
        invoice("inv-5001", "c-job", 20),
        invoice("inv-5002", "c-own-job", 20),
        invoice("inv-5003", "c-two", 20),
        invoice("inv-5004", "c-two", 35),
        invoice("inv-5005", "c-typo", 20),
        invoice("inv-5006", "c-pending", 40, status="submitted"),
        invoice("inv-5007", "c-pending", 40, status="draft"),
        invoice("inv-5008", "c-pending", 40, type="bill"),
    )
    return Scenario(
        ScenarioCompany("Harbor & Pine Landscaping", "America/Denver", "USD"), TODAY, customers, invoices, ()
    )


@pytest.fixture(params=["quickbooks", "xero"])
def shaped(
    request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[World | XeroWorld]:
    yield from live_world(request.param, shaped_scenario(), sessions, tmp_path)


def _ids(world: World | XeroWorld, kind: str) -> dict[str, str]:
    """Scenario id -> the provider's id, as the sandbox seeded it."""
    if isinstance(world, XeroWorld):
        org = world.sandbox.organisation("demo")
        assert org is not None
        return org.scenario_ids["contacts" if kind == "customers" else kind]
    return world.qbo.sandbox.companies[world.qbo.realm].scenario_ids[kind]


def _notes(world: World | XeroWorld) -> dict[str, str]:
    if isinstance(world, XeroWorld):
        return {i: " ".join(r["Details"] for r in records) for i, records in world.history().items()}
    return world.notes()


def test_who_is_owed_and_who_is_written_to(shaped: World | XeroWorld) -> None:
    summary = shaped.cycle()
    assert summary.status == "done", summary.detail
    customers, invoices = _ids(shaped, "customers"), _ids(shaped, "invoices")
    actions = shaped.actions()
    assert all(a.status in (ActionStatus.DONE, ActionStatus.SKIPPED) for a in actions), [
        (a.kind, a.status, a.last_error) for a in actions
    ]
    by_to = {tuple(e["to"]): e for e in shaped.outbox.entries()}

    # SUBMITTED, DRAFT and ACCPAY are nobody's debt: never mirrored as open, never acted on.
    pending = {invoices[i] for i in ("inv-5006", "inv-5007", "inv-5008") if i in invoices}
    assert not [a for a in actions if pending & set(a.payload["invoice_ids"])]
    assert not [a for a in actions if a.payload["customer_id"] == customers["c-pending"]]
    with shaped.sessions() as session:
        open_numbers = set(session.scalars(select(MirroredInvoice.number).where(MirroredInvoice.status == "open")))
    assert open_numbers == {"5001", "5002", "5003", "5004", "5005"}

    # One email to both addresses of the comma-separated customer, both invoices in it; the note says so.
    two = by_to[("ap@twodesk.example", "owner@twodesk.example")]
    (reminder,) = [a for a in actions if a.kind == "send_reminder" and a.payload["customer_id"] == customers["c-two"]]
    assert set(reminder.payload["delivered"]) == {invoices["inv-5003"], invoices["inv-5004"]}
    assert two["key"] == reminder.idempotency_key
    notes = _notes(shaped)
    # The note says when it went out, then exactly who it went to (the bad address left out).
    assert re.search(
        r"emailed \d{4}-\d\d-\d\d \d\d:\d\d to ap@twodesk\.example, owner@twodesk\.example;",
        notes[invoices["inv-5003"]],
    )

    # A bad address is named and left out; the good one still gets the email.
    assert ("ap@typo.example",) in by_to
    (typo,) = [a for a in actions if a.kind == "send_reminder" and a.payload["customer_id"] == customers["c-typo"]]
    assert typo.status == ActionStatus.DONE and "left out 'ap at typo': not an email address" in typo.reason
    assert "ap at typo" not in notes[invoices["inv-5005"]]

    # The job billed with its parent is collected as the parent's account, at the parent's address.
    job_invoice = invoices["inv-5001"]
    (job_reminder,) = [a for a in actions if a.kind == "send_reminder" and job_invoice in a.payload["invoice_ids"]]
    assert job_reminder.payload["customer_id"] == customers["c-parent"]
    assert ("ap@freeman.example",) in by_to
    # A job billed on its own is its own account.
    (own,) = [a for a in actions if a.kind == "send_reminder" and invoices["inv-5002"] in a.payload["invoice_ids"]]
    assert own.payload["customer_id"] == customers["c-own-job"] and ("site@twinlane.example",) in by_to


def test_the_quickbooks_mirror_keeps_the_job_structure(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    for world in make_world(shaped_scenario(), sessions, tmp_path):
        assert world.cycle().status == "observed"
        ids = _ids(world, "customers")
        with world.sessions() as session:
            rows = {c.provider_id: c for c in session.scalars(select(MirroredCustomer))}
        job, own = rows[ids["c-job"]], rows[ids["c-own-job"]]
        assert (job.parent_provider_id, job.bill_with_parent) == (ids["c-parent"], True)
        assert job.full_name == "Freeman Sporting Goods:0969 Ocean View Road"
        assert (own.parent_provider_id, own.bill_with_parent) == (ids["c-parent"], False)
        assert rows[ids["c-two"]].email == "ap@twodesk.example, owner@twodesk.example"
        assert [c["email"] for c in rows[ids["c-two"]].contacts] == ["ap@twodesk.example", "owner@twodesk.example"]


@pytest.mark.parametrize("provider", ["quickbooks", "xero"])
def test_a_poisoned_record_is_quarantined_while_the_rest_of_the_company_syncs(
    provider: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    for world in live_world(provider, shaped_scenario(), sessions, tmp_path):
        poisoned = _poison(world)
        for _ in range(2):  # every later cycle too: the page is not retried forever, nothing runs forever
            summary = world.cycle()
            assert summary.status == "done", summary.detail
        with world.sessions() as session:
            names = set(session.scalars(select(MirroredCustomer.name)))
            named = list(session.scalars(select(ActivityEntry).where(ActivityEntry.kind == REJECTED_KIND)))
            runs = list(session.scalars(select(CycleRun.status)))
        assert "Two Desk Dental" in names and not any("\x00" in n for n in names)
        (entry,) = named
        assert poisoned in entry.message and "NUL" in entry.message
        assert runs == ["done", "done"]
        assert ("ap@twodesk.example", "owner@twodesk.example") in {tuple(e["to"]) for e in world.outbox.entries()}


def _poison(world: World | XeroWorld) -> str:
    """A NUL byte in one customer's name at the provider; returns that customer's provider id."""
    customer_id = _ids(world, "customers")["c-pending"]
    if isinstance(world, XeroWorld):
        org = world.sandbox.organisation("demo")
        assert org is not None
        org.contacts[customer_id]["Name"] = "Pending\x00Approval Ltd"
    else:
        company = world.qbo.sandbox.companies[world.qbo.realm]
        company.entities["Customer"][customer_id]["DisplayName"] = "Pending\x00Approval Ltd"
    return customer_id


def test_an_invoice_voided_after_it_was_mirrored_is_never_acted_on(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    for world in make_xero_world(shaped_scenario(), sessions, tmp_path):
        assert world.cycle().status == "observed"
        invoice_id = _ids(world, "invoices")["inv-5003"]
        org = world.sandbox.organisation("demo")
        assert org is not None
        world.clock.advance(dt.timedelta(minutes=5))
        org.invoices[invoice_id].update(Status="VOIDED", _updated=world.now())
        world.set_rules({"mode": "live"})
        assert world.cycle().status == "done"
        with world.sessions() as session:
            row = session.scalar(select(MirroredInvoice).where(MirroredInvoice.provider_id == invoice_id))
        assert row is not None and (row.status, row.balance) == ("voided", 0)
        assert not [a for a in world.actions() if invoice_id in a.payload["invoice_ids"]]
        assert [a for a in world.actions() if _ids(world, "invoices")["inv-5004"] in a.payload["invoice_ids"]]


def test_an_unexpected_failure_closes_the_run_as_failed_never_running(world: World) -> None:
    def broken(connection: object, organization: object) -> object:
        raise RuntimeError("the database refused the page\nINSERT ... parameters with a NUL \x00")

    # The cycle ends with its outcome instead of raising: the clock retries it with backoff.
    assert world.cycle(connectors=broken).status == "failed"
    with world.sessions() as session:
        (run,) = session.scalars(select(CycleRun))
    assert run.status == "failed" and run.finished_at is not None
    # One line: SQLAlchemy's appended statement (and the NUL in it) never reaches the owner.
    assert run.summary["detail"] == "unexpected error (RuntimeError): the database refused the page"
