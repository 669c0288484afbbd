"""Late fees through the cycle on both sandboxes: charged into the books once, with a note on the
overdue invoice, never on a disputed invoice, waiting for the owner's approval unless set to go ahead,
and exactly once when the worker dies between the provider's write and the ledger's record of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
from collections.abc import Generator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.sandbox.scenario.model import Scenario, ScenarioLine
from integration.owner.approvals import approve
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, InvoicePause, MirroredCustomer, MirroredInvoice
from tests.cycle.conftest import NOW, make_world
from tests.cycle.crash_worker import wait_until_released
from tests.cycle.test_send_time import Run
from tests.cycle.xero_world import make_xero_world
from tests.sandbox.conftest import small_scenario
from tests.web.test_customer_page import make_app, path_for

ROOT = Path(__file__).resolve().parents[2]
GO_AHEAD = {"enabled": True, "approve_first": False, "xero_account_code": "260"}


@dataclasses.dataclass
class Books(Run):
    """The late fees and notes as each sandbox holds them."""

    def fees(self) -> list[dict[str, Any]]:
        if self.provider == "quickbooks":
            invoices = self.world.qbo.sandbox.companies[self.world.qbo.realm].entities["Invoice"].values()
            return [r for r in invoices if str(r.get("DocNumber", "")).startswith("LF-")]
        org = self.world.sandbox.organisation("demo")
        return [r for r in org.invoices.values() if r["InvoiceNumber"].startswith("LF-")]

    def invoice_id(self, key: str) -> str:
        if self.provider == "quickbooks":
            path = f"/companies/{self.world.qbo.realm}/ids"
            return str(self.world.qbo.admin("GET", path).json()["invoices"][key])
        return str(self.world.admin("GET", "/organisations/demo/ids").json()["invoices"][key])

    def notes_on(self, invoice_id: str) -> str:
        if self.provider == "quickbooks":
            return str(self.world.notes().get(invoice_id, ""))
        org = self.world.sandbox.organisation("demo")
        return "\n".join(h["Details"] for h in org.history.get(invoice_id, []))


@pytest.fixture(params=["quickbooks", "xero"])
def books(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Books]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    worlds = cast("Generator[Any, None, None]", make(small_scenario(NOW.date()), sessions, tmp_path))
    yield Books(next(worlds), request.param)
    worlds.close()


def fee_actions(books: Books) -> list[Action]:
    return [a for a in books.books.actions() if a.kind == "charge_late_fee"]


def test_a_late_fee_is_written_once_and_noted_on_the_overdue_invoice(books: Books) -> None:
    books.rules(late_fees=GO_AHEAD)
    books.cycle()
    overdue = books.invoice_id("inv-1003")  # 25 days past due, 200.00 open: beyond the 15 days of grace
    (action,) = fee_actions(books)
    assert action.status is ActionStatus.DONE and action.payload["invoice_ids"] == [overdue]
    (fee,) = books.fees()
    assert action.external_ref == f"late-fee:{action.payload['fee_invoice_id']}"
    assert action.payload["fee_invoice_number"] == "LF-1003"
    with books.books.sessions() as session:  # mirrored at once, not only from the next sync
        mirrored = session.scalars(
            select(MirroredInvoice).where(MirroredInvoice.provider_id == action.payload["fee_invoice_id"])
        ).one()
    assert (mirrored.number, mirrored.balance, mirrored.status) == ("LF-1003", Decimal("25.00"), "open")
    assert f"Late fee of 25.00 USD charged on {NOW.date().isoformat()} as invoice LF-1003; action {action.id}" in (
        books.notes_on(overdue)
    )
    books.world.clock.advance(dt.timedelta(days=1))
    books.cycle()  # the fee invoice is mirrored now, and nothing is charged twice, nor on the fee itself
    assert len(books.fees()) == 1 and len(fee_actions(books)) == 1
    books.world.clock.advance(dt.timedelta(days=4))  # 30 days late: the next reminder names the fee
    books.cycle()
    line = "A late fee of $25.00 was charged on invoice 1003; it is listed separately, as invoice LF-1003."
    assert any(line in text for text in emails(books)), emails(books)


def emails(books: Books) -> list[str]:
    """The plain text of every email in the outbox."""
    parsed = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(books.world.outbox.messages_dir.glob("*.eml"))
    ]
    return [message.get_body(("plain",)).get_content() for message in parsed]  # type: ignore[union-attr]


def test_never_on_a_disputed_invoice(books: Books) -> None:
    books.rules(late_fees=GO_AHEAD)
    with transaction(books.books.sessions) as session:
        session.add(
            InvoicePause(
                connection_id=books.books.connection_id, invoice_provider_id=books.invoice_id("inv-1003"), disputed=True
            )
        )
    books.cycle()
    assert fee_actions(books) == [] and books.fees() == []


def test_a_fee_waits_for_the_owners_approval_by_default(books: Books) -> None:
    books.rules(late_fees={"enabled": True, "xero_account_code": "260"})
    books.cycle()
    (waiting,) = fee_actions(books)
    assert waiting.status is ActionStatus.AWAITING_APPROVAL and books.fees() == []
    with transaction(books.books.sessions) as session:
        approve(session, books.books.organization_id, waiting.id, None)
    books.cycle()
    (done,) = fee_actions(books)
    assert done.status is ActionStatus.DONE and len(books.fees()) == 1


def test_a_refused_account_fails_the_fee_with_the_providers_words(books: Books) -> None:
    books.rules(late_fees={**GO_AHEAD, "quickbooks_item": "Finance charge", "xero_account_code": "999"})
    books.cycle()
    (failed,) = fee_actions(books)
    assert failed.status is ActionStatus.FAILED and books.fees() == []
    words = 'no item "Finance charge"' if books.provider == "quickbooks" else "Account code '999' is not a valid code"
    assert words in (failed.last_error or "")


def test_killed_after_the_provider_wrote_the_fee_then_rerun_books_it_once(books: Books) -> None:
    books.rules(late_fees=GO_AHEAD)
    world = books.world
    env = {
        **os.environ,
        "DATABASE_URL": str(world.sessions.kw["bind"].url.render_as_string(hide_password=False)),
        "ARPILOT_VAR_DIR": str(world.settings.var_dir),
        "ARPILOT_EMBEDDED_CLOCK": "0",
    }
    quickbooks, xero = world.settings.quickbooks, world.settings.xero
    if books.provider == "quickbooks":
        assert quickbooks is not None
        env["QUICKBOOKS_ENVIRONMENT"] = quickbooks.environment
    else:
        assert xero is not None
        env.update(
            XERO_CLIENT_ID=xero.client_id,
            XERO_CLIENT_SECRET=xero.client_secret,
            XERO_IDENTITY_URL=xero.identity_url,
            XERO_API_URL=xero.api_url,
        )
    args = [str(world.connection_id), NOW.isoformat(), str(world.outbox.directory), "fee", "1"]
    child = subprocess.run(
        [sys.executable, "-m", "tests.cycle.crash_worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    (action,) = fee_actions(books)
    assert action.status is ActionStatus.IN_FLIGHT and "fee_invoice_id" not in action.payload
    assert len(books.fees()) == 1  # in the books, not yet in the ledger
    wait_until_released(world.sessions.kw["bind"], world.connection_id)
    books.world.clock.advance(dt.timedelta(minutes=10))  # past Xero's Idempotency-Key window: the number finds it
    books.cycle()
    (action,) = fee_actions(books)
    assert action.status is ActionStatus.DONE and len(books.fees()) == 1
    assert books.notes_on(action.payload["invoice_ids"][0]).count(f"action {action.id}") == 1


def test_the_customers_page_lists_the_fee_and_the_invoice_it_was_charged_on(
    books: Books, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    books.rules(late_fees=GO_AHEAD)
    books.cycle()
    (action,) = fee_actions(books)
    with books.books.sessions() as session:
        owing = session.scalars(
            select(MirroredCustomer).where(MirroredCustomer.provider_id == action.payload["customer_id"])
        ).one()
    page = make_app(books.world, database_url, monkeypatch).test_client().get(path_for(books.world, owing))
    shown = page.get_data(as_text=True)
    assert page.status_code == 200 and "Invoice LF-1003" in shown and "Late fee on invoice 1003." in shown
    assert "A late fee of $25.00 was charged on this invoice; it is listed separately, as invoice LF-1003." in shown


def _in_dinars(scenario: Scenario) -> Scenario:
    """The small company keeps its books in Bahraini dinars (three decimals) and invoices O'Brien in
    them: 300.125 on 1003, 100.000 paid."""
    return dataclasses.replace(
        scenario,
        company=dataclasses.replace(scenario.company, currency="BHD"),
        customers=tuple(dataclasses.replace(c, currency="BHD") if c.id == "cust-02" else c for c in scenario.customers),
        invoices=tuple(
            dataclasses.replace(i, currency="BHD", lines=(ScenarioLine("Maintenance", Decimal("300.125")),))
            if i.customer_id == "cust-02"
            else i
            for i in scenario.invoices
        ),
        payments=tuple(
            dataclasses.replace(p, currency="BHD") if p.customer_id == "cust-02" else p for p in scenario.payments
        ),
    )


@pytest.fixture(params=["quickbooks", "xero"])
def dinar_books(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Books]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    worlds = cast("Generator[Any, None, None]", make(_in_dinars(small_scenario(NOW.date())), sessions, tmp_path))
    yield Books(next(worlds), request.param)
    worlds.close()


def test_a_monthly_rate_on_a_dinar_invoice_is_charged_as_the_books_keep_it(dinar_books: Books) -> None:
    """To the fils in QuickBooks; Xero keeps two places on every amount, so the fee is worked out to
    two there and the ledger, the note and the books agree."""
    dinar_books.rules(late_fees={**GO_AHEAD, "kind": "monthly_rate", "rate_pct": "1.5"})
    dinar_books.cycle()
    overdue = dinar_books.invoice_id("inv-1003")
    (action,) = [a for a in fee_actions(dinar_books) if a.payload["invoice_ids"] == [overdue]]
    assert action.status is ActionStatus.DONE, action.payload
    # 1.5% of the 200.125 open (QuickBooks) or of the 200.13 Xero keeps for it.
    amount = Decimal("3.002") if dinar_books.provider == "quickbooks" else Decimal("3.00")
    assert (Decimal(action.payload["payload"]["amount"]), action.payload["payload"]["currency"]) == (amount, "BHD")
    with dinar_books.books.sessions() as session:
        mirrored = session.scalars(
            select(MirroredInvoice).where(MirroredInvoice.provider_id == action.payload["fee_invoice_id"])
        ).one()
    assert (mirrored.balance, mirrored.currency) == (amount, "BHD")
    assert f"Late fee of {amount:.3f} BHD charged on" in dinar_books.notes_on(overdue)
