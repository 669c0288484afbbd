"""What goes out matches the owner's word at the moment it goes out (issue 14), on both sandboxes.

Each test runs the real cycle against the QuickBooks and the Xero emulator: a promise logged after
planning stops the queued email, a changed send window re-times it, a final notice waits for the
owner's approval and goes out with the owner's referral date, no customer hears twice in a day, and
an email whose note the books refuse is done with a warning, not failed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.sandbox.scenario import Scenario, ScenarioInvoice, ScenarioLine
from integration.cycle.run import CycleSummary
from integration.owner.approvals import approve, awaiting
from integration.owner.digest import gather_digest
from integration.owner.stored_rules import save_rules
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry, InvoicePause
from reminders.delivery import OutboxSender
from tests.cycle.conftest import NOW, World, make_world
from tests.cycle.test_exactly_once import _cycle_with_hook
from tests.cycle.xero_world import make_xero_world
from tests.sandbox.conftest import small_scenario

DENVER = ZoneInfo("America/Denver")
FACING = ("send_reminder", "resend_invoice")


class Books(Protocol):
    sessions: sessionmaker[Session]
    outbox: OutboxSender
    organization_id: int
    connection_id: int

    def cycle(self) -> CycleSummary: ...
    def actions(self) -> list[Action]: ...


@dataclasses.dataclass
class Run:
    """One connected company on either sandbox, driven the same way."""

    world: Any
    provider: str

    @property
    def books(self) -> Books:
        return self.world  # type: ignore[no-any-return]

    def cycle(self) -> CycleSummary:
        summary: CycleSummary = self.world.cycle()
        assert summary.status == "done", summary.detail
        return summary

    def rules(self, **sections: Any) -> None:
        data = Rules.default().to_json()
        data["mode"] = "live"
        for name, values in sections.items():
            data[name].update(values)
        with transaction(self.world.sessions) as session:
            save_rules(session, self.world.organization_id, data)

    def local(self, hour: int, minute: int = 0, days: int = 0) -> None:
        """Move both clocks to `hour:minute` Denver time, `days` after NOW's day (Monday)."""
        day = NOW.astimezone(DENVER).date() + dt.timedelta(days=days)
        target = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=DENVER)
        self.world.clock.advance(target - self.world.clock.now())

    def provider_sends(self) -> int:
        if self.provider == "quickbooks":
            return len(self.world.qbo.admin("GET", f"/companies/{self.world.qbo.realm}/emails").json()["emails"])
        return len(self.world.admin("GET", "/organisations/demo/emails").json()["emails"])

    def pay(self, invoice_id: str) -> None:
        if self.provider == "quickbooks":
            response = self.world.qbo.admin(
                "POST", f"/companies/{self.world.qbo.realm}/payments", json={"invoice": invoice_id}
            )
        else:
            response = self.world.admin("POST", "/organisations/demo/payments", json={"invoice": invoice_id})
        assert response.status_code in (200, 201), response.text

    def refuse_notes(self) -> str:
        """The books refuse every note from now on; reads and sends still work. Returns the words
        the owner is told why. QuickBooks: the owner's own text fills every PrivateNote (4000
        characters); Xero: the history endpoint answers 400 (closed books, say)."""
        if self.provider == "quickbooks":
            company = self.world.qbo.sandbox.companies[self.world.qbo.realm]
            for record in company.entities["Invoice"].values():
                record["PrivateNote"] = "Owner's job notes. " * 210  # 3990 characters of the owner's text
            return "no room"
        else:
            body = {
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A validation exception occurred",
                "Elements": [{"ValidationErrors": [{"Message": "The books are closed for this period."}]}],
            }
            rule = {"path": r"/History$", "method": "PUT", "kind": "status", "status": 400, "body": body, "count": 1000}
            assert self.world.admin("POST", "/faults", json=rule).status_code in (200, 201)
            rule["method"] = "POST"
            assert self.world.admin("POST", "/faults", json=rule).status_code in (200, 201)
            return "refused"


def _scenario() -> Scenario:
    """The small company, plus a 100-day-late invoice and one due in 8 days for Acme."""
    base = small_scenario(NOW.date())
    issued_late, issued_soon = NOW.date() - dt.timedelta(days=130), NOW.date() - dt.timedelta(days=22)
    extra = (
        ScenarioInvoice(
            "inv-1006",
            "1006",
            "cust-01",
            issued_late,
            issued_late + dt.timedelta(days=30),
            "USD",
            (ScenarioLine("Spring clean-up", Decimal("800.00")),),
        ),
        ScenarioInvoice(
            "inv-1007",
            "1007",
            "cust-01",
            issued_soon,
            issued_soon + dt.timedelta(days=30),
            "USD",
            (ScenarioLine("Monthly maintenance", Decimal("450.50")),),
        ),
    )
    return Scenario(base.company, base.as_of, base.customers, base.invoices + extra, base.payments)


@pytest.fixture(params=["quickbooks", "xero"])
def run(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Run]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    worlds = make(_scenario(), sessions, tmp_path)
    yield Run(next(worlds), request.param)
    worlds.close()


def _of(actions: list[Action], kind: str) -> list[Action]:
    return [a for a in actions if a.kind == kind]


def _customer_of(run: Run, name_part: str) -> str:
    """The provider id of the customer whose email address contains `name_part`."""
    for action in run.books.actions():
        if any(name_part in r for r in action.payload.get("recipients") or ()):
            return str(action.payload["customer_id"])
    raise AssertionError(f"no action for {name_part}")


def test_a_promise_logged_after_planning_stops_the_queued_email(run: Run) -> None:
    run.rules()
    run.local(22, 17)  # Monday evening: everything customer-facing waits for 08:00
    run.cycle()
    assert run.books.outbox.entries() == []
    queued = [a for a in _of(run.books.actions(), "send_reminder") if "obrien" in a.payload["recipients"][0]]
    assert len(queued) == 1 and queued[0].status is ActionStatus.PLANNED and queued[0].not_before is not None
    with transaction(run.books.sessions) as session:  # the owner logs a promise from the call card
        for invoice_id in queued[0].payload["invoice_ids"]:
            session.add(
                InvoicePause(
                    connection_id=run.books.connection_id,
                    invoice_provider_id=invoice_id,
                    promise_to_pay=NOW.date() + dt.timedelta(days=7),
                )
            )
    assert not any(a.payload.get("delivered") for a in run.books.actions()), "no note or email before the send"
    run.local(8, 30, days=1)
    run.cycle()
    email = next(a for a in run.books.actions() if a.id == queued[0].id)
    assert email.status is ActionStatus.SKIPPED and "promised to pay" in (email.last_error or ""), email.last_error
    sent_to = [r for entry in run.books.outbox.entries() for r in entry["to"] + entry["cc"]]
    assert not any("obrien" in r for r in sent_to)


def test_a_changed_send_window_re_times_the_queued_email(run: Run) -> None:
    go_ahead = {"final_notice": False}
    run.rules(approval=go_ahead)
    run.local(22, 0)
    run.cycle()
    run.rules(schedule={"send_from_hour": 10}, approval=go_ahead)  # the owner moves the window after planning
    run.local(8, 30, days=1)
    run.cycle()
    assert run.books.outbox.entries() == [], "not at the old 08:00"
    opens = dt.datetime.combine(NOW.astimezone(DENVER).date() + dt.timedelta(days=1), dt.time(10), tzinfo=DENVER)
    queued = [a for a in _of(run.books.actions(), "send_reminder") if a.status is ActionStatus.PLANNED]
    assert queued and all(a.not_before is not None and a.not_before.replace(tzinfo=dt.UTC) == opens for a in queued)
    run.local(10, 5, days=1)
    run.cycle()
    assert len(run.books.outbox.entries()) == len(queued)


def test_a_final_notice_waits_for_approval_and_goes_out_with_the_owners_date(run: Run) -> None:
    run.rules()
    run.cycle()
    notice = next(a for a in _of(run.books.actions(), "send_reminder") if a.payload["stage"] == "final_notice")
    assert notice.status is ActionStatus.AWAITING_APPROVAL
    assert not [e for e in run.books.outbox.entries() if "Final notice" in str(e)]
    holds = _of(run.books.actions(), "credit_hold_on")
    assert holds and all(a.status is ActionStatus.AWAITING_APPROVAL for a in holds)
    referral = NOW.date() + dt.timedelta(days=21)
    with transaction(run.books.sessions) as session:
        assert notice.id in {w.action_id for w in awaiting(session, run.books.organization_id)}
        approve(session, run.books.organization_id, notice.id, referral)
    run.cycle()
    (entry,) = [e for e in run.books.outbox.entries() if "Final notice" in str(e)]
    text = entry["subject"] + (run.books.outbox.directory / entry["file"]).read_text()
    assert "Dec 14, 2026" in text  # the owner's date, as the customer reads it
    assert "Not yet due" in text and "Total overdue" in text
    assert next(a for a in run.books.actions() if a.id == notice.id).status is ActionStatus.DONE


def test_a_step_waiting_for_approval_is_dropped_once_its_invoices_are_paid(run: Run) -> None:
    run.rules()
    run.cycle()
    notice = next(a for a in _of(run.books.actions(), "send_reminder") if a.payload["stage"] == "final_notice")
    assert notice.status is ActionStatus.AWAITING_APPROVAL
    for invoice_id in notice.payload["invoice_ids"]:
        run.pay(invoice_id)
    run.world.clock.advance(dt.timedelta(minutes=15))
    run.cycle()
    dropped = next(a for a in run.books.actions() if a.id == notice.id)
    assert dropped.status is ActionStatus.SKIPPED and "paid" in (dropped.last_error or ""), dropped.last_error
    with run.books.sessions() as session:
        assert notice.id not in {w.action_id for w in awaiting(session, run.books.organization_id)}


def test_no_customer_gets_two_messages_in_a_day(run: Run) -> None:
    # Reminder 2 is a call with the accounting system's re-send; O'Brien also has an invoice at check-in.
    stages = Rules.default().to_json()["ladder"]["stages"]
    stages[3].update(channel="call", resend_invoice=True)
    run.rules(ladder={"stages": stages})
    run.cycle()

    def per_day() -> Counter[tuple[str, dt.date]]:
        done = [a for a in run.books.actions() if a.kind in FACING and a.status is ActionStatus.DONE]
        return Counter(
            (a.payload["customer_id"], a.completed_at.replace(tzinfo=dt.UTC).astimezone(DENVER).date())
            for a in done
            if a.completed_at
        )

    assert per_day() and max(per_day().values()) == 1, per_day()
    waiting = [a for a in run.books.actions() if a.kind in FACING and a.status is ActionStatus.PLANNED]
    assert len(waiting) == 1, "the second message waits for tomorrow"
    sends_today = run.provider_sends()
    run.local(8, 30, days=1)
    run.cycle()
    assert max(per_day().values()) == 1 and sum(per_day().values()) == len(per_day())
    assert not [a for a in run.books.actions() if a.kind in FACING and a.status is ActionStatus.PLANNED]
    assert run.provider_sends() == sends_today + (1 if waiting[0].kind == "resend_invoice" else 0)


def test_an_email_delivered_with_a_refused_note_is_done_with_a_warning(run: Run) -> None:
    run.rules(approval={"final_notice": False})
    why = run.refuse_notes()
    run.cycle()
    emails = [a for a in _of(run.books.actions(), "send_reminder") if a.payload.get("delivered")]
    assert emails and len(run.books.outbox.entries()) == len(emails)
    for action in emails:
        assert action.status is ActionStatus.DONE and action.last_error is None, (
            action.status,
            action.last_error,
            action.payload,
        )
        assert "note could not be written" in (action.warning or "") and why in (action.warning or ""), action.warning
    with run.books.sessions() as session:
        logged = session.scalars(select(ActivityEntry).where(ActivityEntry.kind == "action_done_with_warning")).all()
        assert {e.action_id for e in logged} >= {a.id for a in emails}
        digest = gather_digest(session, run.books.organization_id, NOW + dt.timedelta(days=1), dt.timedelta(minutes=15))
    assert not [line for line in digest.failed if line.id in {a.id for a in emails}]
    assert {line.id for line in digest.warnings} >= {a.id for a in emails}


def test_a_call_task_for_an_invoice_paid_since_is_skipped_not_done(world: World) -> None:
    """Cobalt Dental has no email address, so its step is a call task; it pays as arpilot re-checks."""
    world.set_rules({"mode": "live"})
    cobalt_invoice = world.qbo.admin("GET", f"/companies/{world.qbo.realm}/ids").json()["invoices"]["inv-1004"]

    paid: list[str] = []

    def pays(invoice_id: str) -> None:
        if invoice_id == cobalt_invoice and not paid:
            paid.append(invoice_id)
            response = world.qbo.admin("POST", f"/companies/{world.qbo.realm}/payments", json={"invoice": invoice_id})
            assert response.status_code in (200, 201), response.text

    assert _cycle_with_hook(world, pays).status == "done"
    (task,) = [
        a for a in world.actions() if a.kind == "create_call_task" and cobalt_invoice in a.payload["invoice_ids"]
    ]
    assert task.status is ActionStatus.SKIPPED and "paid" in (task.last_error or ""), (task.status, task.last_error)
