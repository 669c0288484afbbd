"""The books change under a planned or sent step, and the next cycles follow the books, on both sandboxes.

The owner edits the company in QuickBooks or Xero between cycles (through the emulator's own write
paths, as its API or app would): a customer's email address changes after a reminder was planned
for the morning, a due date is extended overnight under a planned 30-day notice, an invoice is
voided or deleted after it was reminded, the overdue invoice of a consolidated email is paid
before it goes out, a part payment lands between two stages, a promise is logged five minutes
before the send window opens, a customer on hold pays everything, and a month-end slipper is
moved to mid-month terms. What goes out is judged by what the books say when it goes out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks.sandbox import writes as qbo_writes
from connectors.quickbooks.sandbox.company import Company
from connectors.sandbox.scenario import Scenario, ScenarioCustomer, ScenarioInvoice, ScenarioLine, ScenarioPayment
from connectors.xero.sandbox import sales as xero_sales
from connectors.xero.sandbox import writes as xero_writes
from integration.policy.rules import Rules
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, InvoicePause, MirroredInvoice
from tests.cycle.conftest import NOW, World
from tests.cycle.test_send_time import _scenario as late_scenario
from tests.cycle.xero_world import live_world
from tests.reliability.books import Books
from tests.sandbox.conftest import small_scenario

DENVER = ZoneInfo("America/Denver")


@dataclasses.dataclass
class Owner:
    """The owner at work in the accounting system, and the cycles arpilot runs around them."""

    books: Books

    def id(self, kind: str, scenario_id: str) -> str:
        return str(self.books.company.scenario_ids[kind][scenario_id])

    def invoice(self, scenario_id: str) -> str:
        return self.id("invoices", scenario_id)

    def customer(self, scenario_id: str) -> str:
        return self.id("customers" if self.books.provider == "quickbooks" else "contacts", scenario_id)

    def change_email(self, customer: str, address: str) -> None:
        company = self.books.company
        if isinstance(company, Company):
            record = company.stored("Customer", customer)
            body = {"Id": customer, "SyncToken": record["SyncToken"], "sparse": True}
            qbo_writes.save(company, "Customer", body | {"PrimaryEmailAddr": {"Address": address}})
            # QuickBooks keeps each invoice's own copy (BillEmail), which the owner corrects on the open ones.
            for record in list(company.entities["Invoice"].values()):
                if record["CustomerRef"]["value"] == customer and company.invoice_balance(record) > 0:
                    edit = {"Id": record["Id"], "SyncToken": record["SyncToken"], "sparse": True}
                    qbo_writes.save(company, "Invoice", edit | {"BillEmail": {"Address": address}})
        else:
            with company.lock:
                xero_writes.update_contact(
                    company, company.contacts[customer], {"Contacts": [{"EmailAddress": address}]}
                )

    def move_due_date(self, invoice: str, due: dt.date) -> None:
        company = self.books.company
        if isinstance(company, Company):
            record = company.stored("Invoice", invoice)
            body = {"Id": invoice, "SyncToken": record["SyncToken"], "sparse": True, "DueDate": due.isoformat()}
            qbo_writes.save(company, "Invoice", body)
        else:
            # Xero's app edits an approved invoice's due date; the emulator's API only voids, so as its app would:
            with company.lock:
                record = company.invoices[invoice]
                record["DueDate"], record["_updated"] = due, company.now()
                company.changed("INVOICE", invoice)

    def void(self, invoice: str) -> None:
        company = self.books.company
        if isinstance(company, Company):
            qbo_writes.void_invoice(
                company, {"Id": invoice, "SyncToken": company.stored("Invoice", invoice)["SyncToken"]}
            )
        else:
            with company.lock:
                xero_sales.void_invoice(
                    company, company.invoices[invoice], {"Invoices": [{"InvoiceID": invoice, "Status": "VOIDED"}]}
                )

    def delete(self, invoice: str) -> None:
        company = self.books.company
        assert isinstance(company, Company), "Xero deletes only drafts: an approved invoice is voided"
        qbo_writes.delete(
            company, "Invoice", {"Id": invoice, "SyncToken": company.stored("Invoice", invoice)["SyncToken"]}
        )

    def issue(self, customer: str, issued: dt.date, amount: str, due: dt.date) -> str:
        """A new invoice. QuickBooks works its due date out of the customer's terms itself (it is
        left out); Xero's API needs one, which its app fills in from the contact's terms: `due`."""
        company = self.books.company
        if isinstance(company, Company):
            line = {
                "Amount": amount,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
            }
            body = {"CustomerRef": {"value": customer}, "TxnDate": issued.isoformat(), "Line": [line]}
            return str(qbo_writes.save(company, "Invoice", body)["Id"])
        item = {
            "Type": "ACCREC",
            "Status": "AUTHORISED",
            "Contact": {"ContactID": customer},
            "Date": issued.isoformat(),
            "DueDate": due.isoformat(),
            "LineItems": [{"Description": "Bread", "UnitAmount": amount, "AccountCode": "200"}],
        }
        with company.lock:
            return str(xero_sales.create_invoices(company, {"Invoices": [item]})[0]["InvoiceID"])

    def net_30(self, customer: str) -> None:
        """The owner puts the customer back on 30 days."""
        company = self.books.company
        if isinstance(company, Company):
            net_30 = self.id("terms", "30")
            body = {"Id": customer, "SyncToken": company.stored("Customer", customer)["SyncToken"], "sparse": True}
            qbo_writes.save(company, "Customer", body | {"SalesTermRef": {"value": net_30}})
        else:
            terms = {"Sales": {"Day": 30, "Type": "DAYSAFTERBILLDATE"}}
            with company.lock:
                xero_writes.update_contact(company, company.contacts[customer], {"Contacts": [{"PaymentTerms": terms}]})

    def at(self, hour: int, minute: int = 0, days: int = 0) -> None:
        """Move both clocks to `hour:minute` Denver time, `days` after NOW's day (a Monday)."""
        day = NOW.astimezone(DENVER).date() + dt.timedelta(days=days)
        target = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=DENVER)
        self.books.advance(target - self.books.clock.now())

    def cycle(self) -> None:
        summary = self.books.cycle()
        assert summary.status == "done", summary.detail

    def emails(self) -> list[dict[str, Any]]:
        """What reached the outbox: each entry with its text."""
        outbox = self.books.world.outbox
        return [e | {"text": (outbox.directory / e["file"]).read_text()} for e in outbox.entries()]

    def customer_note(self, customer: str) -> str:
        """What the books say on the customer: QuickBooks' notes, Xero's contact history."""
        if isinstance(self.books.world, World):
            notes = self.books.admin("GET", f"/companies/{self.books.world.qbo.realm}/notes").json()
            return str(notes["customers"].get(customer, ""))
        history = self.books.admin("GET", "/organisations/demo/history").json()["contacts"].get(customer, [])
        return "\n".join(h["Details"] for h in history)

    def actions_on(self, invoice: str) -> list[Action]:
        return [a for a in self.books.actions() if invoice in a.payload["invoice_ids"]]


def _owner(
    provider: str, scenario: Scenario, sessions: sessionmaker[Session], tmp_path: Path, **approval: bool
) -> Iterator[Owner]:
    for world in live_world(provider, scenario, sessions, tmp_path):
        if approval:
            rules = Rules.default().to_json()
            rules["mode"], rules["approval"] = "live", {**rules["approval"], **approval}
            world.set_rules(rules)
        yield Owner(Books(provider, world))


@pytest.fixture(params=["quickbooks", "xero"])
def owner(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Owner]:
    yield from _owner(request.param, small_scenario(NOW.date()), sessions, tmp_path)


def test_an_email_address_changed_after_planning_is_the_one_written_to(owner: Owner) -> None:
    owner.at(22, 17)  # Monday evening: O'Brien's reminder waits for 08:00
    owner.cycle()
    obrien = owner.customer("cust-02")
    (queued,) = [a for a in owner.books.actions() if a.kind == "send_reminder" and a.payload["customer_id"] == obrien]
    assert queued.status is ActionStatus.PLANNED and queued.payload["recipients"] == ["ap@obrien.example"]
    owner.change_email(obrien, "payables@obrien-new.example")  # the customer wrote: the old mailbox is closed
    owner.at(8, 30, days=1)
    owner.cycle()
    sent = [e for e in owner.emails() if any("obrien" in r for r in e["to"] + e["cc"])]
    assert [e["to"] for e in sent] == [["payables@obrien-new.example"]], [e["to"] for e in sent]
    done = next(a for a in owner.books.actions() if a.id == queued.id)
    assert done.status is ActionStatus.DONE and done.payload["sent_to"] == ["payables@obrien-new.example"]


def test_a_statement_waiting_for_the_morning_goes_to_the_address_in_the_books_then(owner: Owner) -> None:
    rules = Rules.default().to_json()
    rules["mode"], rules["statements"] = "live", {**rules["statements"], "enabled": True, "day_of_month": 23}
    owner.books.world.set_rules(rules)
    owner.at(22, 17)  # Monday the 23rd, evening: the statements are planned and wait for the send window
    owner.cycle()
    obrien = owner.customer("cust-02")
    (queued,) = [a for a in owner.books.actions() if a.kind == "send_statement" and a.payload["customer_id"] == obrien]
    assert queued.status is ActionStatus.PLANNED and queued.payload["recipients"] == ["ap@obrien.example"]
    owner.change_email(obrien, "payables@obrien-new.example")
    for day in (1, 2):  # one message a day: the reminder waiting beside it may go first
        owner.at(8, 30, days=day)
        owner.cycle()
    statement = next(a for a in owner.books.actions() if a.id == queued.id)
    assert statement.status is ActionStatus.DONE and statement.payload["sent_to"] == ["payables@obrien-new.example"]
    assert not [e for e in owner.emails() if "ap@obrien.example" in e["to"] + e["cc"]]


def test_a_due_date_extended_overnight_holds_the_overdue_notice_and_the_ladder_follows_the_new_date(
    owner: Owner,
) -> None:
    inv_1003 = owner.invoice("inv-1003")  # 25 days late today: its second reminder goes out now
    owner.cycle()
    assert any(a.payload.get("stage") == "reminder_2" for a in owner.actions_on(inv_1003))
    owner.at(22, 0, days=5)  # Saturday night: 30 days late, the 30-day notice waits for the morning
    owner.cycle()
    (notice,) = [
        a for a in owner.actions_on(inv_1003) if a.kind == "send_reminder" and a.payload["stage"] == "past_due_30"
    ]
    assert notice.status is ActionStatus.PLANNED
    new_due = NOW.date() + dt.timedelta(days=20)
    owner.move_due_date(inv_1003, new_due)  # the owner gave O'Brien until mid-December
    sent_before = len(owner.emails())
    for day in range(6, 13):
        owner.at(10, 0, days=day)
        owner.cycle()
    held = next(a for a in owner.books.actions() if a.id == notice.id)
    assert held.status is ActionStatus.SKIPPED and "no longer overdue" in (held.last_error or ""), held.last_error
    later = [e for e in owner.emails()[sent_before:] if "1003" in e["subject"] + e["text"]]
    assert all("past due" not in e["subject"].lower() and "overdue" not in e["subject"].lower() for e in later), [
        e["subject"] for e in later
    ]
    emailed = {
        a.payload["stage"]
        for a in owner.actions_on(inv_1003)
        if a.kind == "send_reminder" and a.status is ActionStatus.DONE
    }
    assert emailed == {"reminder_2"}, emailed


# Xero deletes only drafts: an approved invoice there is voided, never deleted.
@pytest.mark.parametrize(
    ("owner", "how"), [("quickbooks", "void"), ("quickbooks", "delete"), ("xero", "void")], indirect=["owner"]
)
def test_an_invoice_voided_or_deleted_after_its_reminder_gets_no_further_step_and_no_note(
    owner: Owner, how: str
) -> None:
    inv_1002 = owner.invoice("inv-1002")  # Acme's, due in 10 days: checked in on today
    owner.cycle()
    (check_in,) = [a for a in owner.actions_on(inv_1002) if a.status is ActionStatus.DONE]
    assert check_in.payload["stage"] == "check_in"
    getattr(owner, how)(inv_1002)
    notes = owner.books.note_refs().get(inv_1002)
    for day in range(1, 16):  # past its due date, when reminder 1 would have gone
        owner.at(10, 0, days=day)
        owner.cycle()
    assert [a.id for a in owner.actions_on(inv_1002)] == [check_in.id]
    assert owner.books.note_refs().get(inv_1002) == notes
    assert not [e for e in owner.emails() if "1002" in e["subject"] and e["key"] != check_in.idempotency_key]


def test_a_consolidated_email_whose_overdue_invoice_was_paid_goes_out_in_the_gentler_stage_left(
    owner: Owner,
) -> None:
    """O'Brien's email carries invoice 1003 at reminder 2 (25 days late) and 1005 at check-in (not
    yet due). 1003 is paid overnight: the morning email is a check-in on 1005, not a second reminder."""
    inv_1003, inv_1005 = owner.invoice("inv-1003"), owner.invoice("inv-1005")
    owner.at(22, 17)
    owner.cycle()
    (queued,) = [a for a in owner.actions_on(inv_1005) if a.kind == "send_reminder"]
    assert queued.payload["stage"] == "reminder_2" and inv_1003 in queued.payload["invoice_ids"]
    owner.books.pay(inv_1003)
    owner.at(8, 30, days=1)
    owner.cycle()
    (email,) = [e for e in owner.emails() if e["to"] == ["ap@obrien.example"]]
    assert "1005" in email["subject"] and "second reminder" not in email["subject"].lower(), email["subject"]
    assert "past due" not in email["subject"].lower() and "1003" not in email["text"], email["subject"]
    assert next(a for a in owner.books.actions() if a.id == queued.id).status is ActionStatus.DONE


def test_a_part_payment_after_reminder_2_names_the_balance_left_and_repeats_no_step(owner: Owner) -> None:
    """O'Brien's 1003 ($300, $100 paid) gets its second reminder at 25 days late; $50 is paid three days
    later. The clock restarts from the payment: the 30-day notice falls due the usual 16 days after it
    (Saturday Dec 12, so it goes on Monday's morning), once, for the $150 left."""
    inv_1003 = owner.invoice("inv-1003")
    owner.cycle()
    owner.at(11, 0, days=3)
    owner.books.pay(inv_1003, "50.00")
    for day in range(3, 23):
        owner.at(10, 0, days=day)
        owner.cycle()
    emailed = [
        a
        for a in owner.books.actions()
        if a.kind == "send_reminder" and inv_1003 in a.payload["payload"].get("invoice_stages", {})
    ]
    stages = [(a.payload["payload"]["invoice_stages"][inv_1003], a.status) for a in emailed]
    assert stages == [("reminder_2", ActionStatus.DONE), ("past_due_30", ActionStatus.DONE)], stages
    notice = emailed[1]
    sent_on = notice.completed_at.replace(tzinfo=dt.UTC).astimezone(DENVER).date() if notice.completed_at else None
    assert sent_on == dt.date(2026, 12, 14), sent_on
    text = notice.payload["body_text"]
    assert "balance $150.00" in text and "Total due: $150.00" in text and "$200.00" not in text, text


def test_a_promise_logged_at_955_holds_the_reminder_due_at_10(owner: Owner) -> None:
    """The send window opens at 10:00; O'Brien's reminder was planned at 09:00. The owner takes O'Brien's
    call at 09:55 and logs a promise to pay today: at 10:00 nothing goes out, on either invoice."""
    rules = Rules.default().to_json()
    rules["mode"], rules["schedule"]["send_from_hour"] = "live", 10
    owner.books.set_rules(rules)
    owner.at(9, 0)
    owner.cycle()
    obrien = owner.customer("cust-02")
    (queued,) = [a for a in owner.books.actions() if a.kind == "send_reminder" and a.payload["customer_id"] == obrien]
    assert queued.status is ActionStatus.PLANNED
    owner.at(9, 55)
    with transaction(owner.books.sessions) as session:
        for invoice_id in queued.payload["invoice_ids"]:
            session.add(
                InvoicePause(
                    connection_id=owner.books.connection_id,
                    invoice_provider_id=invoice_id,
                    promise_to_pay=NOW.astimezone(DENVER).date(),
                )
            )
    owner.at(10, 0)
    owner.cycle()
    owner.at(10, 15)
    owner.cycle()
    assert not [e for e in owner.emails() if "ap@obrien.example" in e["to"]]
    held = next(a for a in owner.books.actions() if a.id == queued.id)
    assert held.status is ActionStatus.SKIPPED and "promised to pay" in (held.last_error or ""), held.last_error
    assert not [
        a
        for a in owner.books.actions()
        if a.payload["customer_id"] == obrien and a.kind == "send_reminder" and a.status is not ActionStatus.SKIPPED
    ]


@pytest.fixture(params=["quickbooks", "xero"])
def late_acme(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Owner]:
    """The small company with Acme 100 days late on invoice 1006: the owner lets holds and final notices go."""
    yield from _owner(request.param, late_scenario(), sessions, tmp_path, final_notice=False, credit_hold=False)


def test_a_customer_on_hold_who_pays_everything_comes_off_hold_with_a_dated_note(late_acme: Owner) -> None:
    """QuickBooks: Customer.Notes' hold marker becomes the release line; Xero: the contact's history."""
    owner = late_acme
    acme = owner.customer("cust-01")
    owner.cycle()
    (on,) = [a for a in owner.books.actions() if a.kind == "credit_hold_on"]
    assert on.payload["customer_id"] == acme and on.status is ActionStatus.DONE
    on_hold = owner.books.customer_terms()[acme]
    owner.at(14, 0)
    for scenario_id in ("inv-1002", "inv-1006", "inv-1007"):
        owner.books.pay(owner.invoice(scenario_id))
    owner.cycle()
    owner.at(14, 15)
    owner.cycle()
    (off,) = [a for a in owner.books.actions() if a.kind == "credit_hold_off"]
    assert off.payload["customer_id"] == acme and off.status is ActionStatus.DONE, (off.status, off.last_error)
    assert owner.books.customer_terms()[acme] != on_hold
    note = owner.customer_note(acme)
    (released,) = [line for line in note.splitlines() if "released" in line]
    assert "2026-11-23" in released and "credit hold" in released and "released" in released, note


def test_two_invoices_at_different_stages_go_in_one_email_each_at_its_own_stage(owner: Owner) -> None:
    """O'Brien owes 1003 (25 days late) and 1005 (issued 5 days ago, due Dec 3). Over twelve days each
    invoice climbs its own ladder: today's email carries both, worded at 1003's second reminder with
    1005 shown as not yet due; 1003's 30-day notice falls due on Saturday and goes on Monday; 1005's
    heads-up falls within the five days between emails and is not sent on its own; its first overdue
    reminder waits only for a day without another email."""
    inv_1003, inv_1005 = owner.invoice("inv-1003"), owner.invoice("inv-1005")
    for day in range(12):
        owner.at(10, 0, days=day)
        owner.cycle()
    obrien = owner.customer("cust-02")
    emails = [
        a
        for a in owner.books.actions()
        if a.kind == "send_reminder" and a.payload["customer_id"] == obrien and a.status is ActionStatus.DONE
    ]
    stages = [a.payload["payload"]["invoice_stages"] for a in emails]
    assert stages == [
        {inv_1003: "reminder_2", inv_1005: "check_in"},
        {inv_1003: "past_due_30"},
        {inv_1005: "reminder_1"},
    ], stages
    assert [a.payload["stage"] for a in emails] == ["reminder_2", "past_due_30", "reminder_1"]
    days = [a.completed_at.replace(tzinfo=dt.UTC).astimezone(DENVER).date() for a in emails if a.completed_at]
    assert days == [dt.date(2026, 11, 23), dt.date(2026, 11, 30), dt.date(2026, 12, 4)], days
    first, notice, reminder_1 = (a.payload for a in emails)
    assert "Second reminder" in first["subject"] and "1003" in first["subject"] and "1005" not in first["subject"]
    assert "(25 days overdue)" in first["body_text"] and "Total overdue: $200.00" in first["body_text"]
    assert "Not yet due: $75.25 (invoice 1005" in first["body_text"], first["body_text"]
    assert "1003" in notice["subject"] and "1005" not in notice["body_text"], notice["body_text"]
    assert "1005" in reminder_1["subject"] and "(1 day overdue)" in reminder_1["body_text"], reminder_1["body_text"]


def month_end_slipper() -> Scenario:
    """The small company plus Delta Bakery, who pays on time when an invoice falls due mid-month and
    ten days late the three times it fell due at month-end; invoice D0 is open, due Nov 30."""
    base = small_scenario(NOW.date())
    delta = ScenarioCustomer("cust-05", "Delta Bakery", "ap@delta.example", None, "USD", 30)
    bread = (ScenarioLine("Bread", Decimal("500.00")),)
    invoices, payments = (
        [ScenarioInvoice("inv-d0", "D0", "cust-05", dt.date(2026, 11, 1), dt.date(2026, 11, 30), "USD", bread)],
        [],
    )
    for n in range(1, 11):
        month = 11 - (n + 1) // 2
        at_end = n in (1, 3, 5)
        issued = dt.date(2026, month, 1 if n % 2 == 0 or at_end else 16)
        due = dt.date(2026, month + 1, 1) - dt.timedelta(days=1) if at_end else issued + dt.timedelta(days=14)
        paid = due + dt.timedelta(days=10 if at_end else 0)
        invoices.append(ScenarioInvoice(f"inv-d{n}", f"D{n}", "cust-05", issued, due, "USD", bread))
        payments.append(ScenarioPayment(f"pay-d{n}", "cust-05", paid, "USD", ((f"inv-d{n}", Decimal("500.00")),)))
    return dataclasses.replace(
        base,
        customers=(*base.customers, delta),
        invoices=(*base.invoices, *invoices),
        payments=(*base.payments, *payments),
    )


@pytest.fixture(params=["quickbooks", "xero"])
def slipper(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Owner]:
    yield from _owner(request.param, month_end_slipper(), sessions, tmp_path)


def test_a_month_end_slipper_is_moved_to_mid_month_once_and_later_invoices_follow_the_new_terms(
    slipper: Owner,
) -> None:
    owner = slipper
    delta = owner.customer("cust-05")
    owner.cycle()
    (move,) = [a for a in owner.books.actions() if a.kind == "set_mid_month_terms"]
    assert move.payload["customer_id"] == delta and move.status is ActionStatus.DONE, (move.status, move.last_error)
    moved = owner.books.customer_terms()[delta]
    assert "15" in moved, moved
    owner.at(9, 0, days=8)  # Tuesday Dec 1: the month's bread is invoiced on the new terms
    new = owner.issue(delta, dt.date(2026, 12, 1), "500.00", due=dt.date(2027, 1, 15))
    for day in range(8, 24):
        owner.at(10, 0, days=day)
        owner.cycle()
    assert len([a for a in owner.books.actions() if a.kind == "set_mid_month_terms"]) == 1
    assert owner.books.customer_terms()[delta] == moved
    company = owner.books.company
    with company.lock:
        record = company.stored("Invoice", new) if isinstance(company, Company) else company.invoices[new]
        books_due = dt.date.fromisoformat(str(record["DueDate"]))
    assert books_due.day == 15, books_due  # the 15th of a month, as the terms the move set work it out
    with owner.books.sessions() as session:
        mirrored = session.scalars(
            select(MirroredInvoice).where(
                MirroredInvoice.connection_id == owner.books.connection_id, MirroredInvoice.provider_id == new
            )
        ).one()
        assert mirrored.due_date == books_due, (mirrored.due_date, books_due)
    # Its ladder runs from that date: a check-in or heads-up before it, nothing overdue until after it.
    for action in owner.actions_on(new):
        stage = action.payload["payload"]["invoice_stages"][new] if action.kind == "send_reminder" else None
        when = action.completed_at.replace(tzinfo=dt.UTC).astimezone(DENVER).date() if action.completed_at else None
        if stage not in (None, "check_in", "courtesy"):
            assert when is not None and when > books_due, (stage, when, books_due)
    owner.net_30(delta)  # the owner decides Delta goes back to 30 days: arpilot does not move them again
    for day in range(24, 27):
        owner.at(10, 0, days=day)
        owner.cycle()
    assert len([a for a in owner.books.actions() if a.kind == "set_mid_month_terms"]) == 1
    assert owner.books.customer_terms()[delta] != moved
