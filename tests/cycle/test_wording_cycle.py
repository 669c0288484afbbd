"""The owner's wording is what the customer receives, on both sandboxes; reset brings back the stock."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from integration.owner.stored_wording import reset_wording, save_wording
from integration.store.db import transaction
from reminders.wording import Wording
from tests.cycle.conftest import NOW, make_world
from tests.cycle.xero_world import make_xero_world
from tests.sandbox.conftest import small_scenario

MINE = Wording(
    "A note about {{ invoice_label }} from {{ company_name }}",
    "Hello {{ customer_name }}, just checking that {{ invoice_label }} arrived safely.",
    "Cheers!",
)


@pytest.fixture(params=["quickbooks", "xero"])
def any_world(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[Any]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    yield from make(small_scenario(NOW.date()), sessions, tmp_path)


def _emails_to(world: Any, address: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes((world.outbox.directory / e["file"]).read_bytes(), policy=email.policy.default)
        for e in world.outbox.entries()
        if address in e["to"]
    ]  # type: ignore[misc]


def test_the_edited_wording_goes_out_and_reset_restores_the_stock(any_world: Any) -> None:
    world = any_world
    with transaction(world.sessions) as session:
        save_wording(session, world.organization_id, "check_in", MINE)
    world.set_rules({"mode": "live"})
    assert world.cycle().status == "done"
    (check_in,) = _emails_to(world, "ap@acme.example")
    assert check_in["Subject"] == "A note about invoice 1002 from Harbor & Pine Landscaping"
    text = check_in.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = check_in.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Hello Acme Plumbing, just checking that invoice 1002 arrived safely." in text and "Cheers!" in text
    assert "Invoice 1002" in text  # the invoice list is still arpilot's layout
    assert "<p>Hello Acme Plumbing, just checking that invoice 1002 arrived safely.</p>" in html
    (second,) = _emails_to(world, "ap@obrien.example")  # a stage the owner did not edit: stock wording
    assert str(second["Subject"]).startswith("Second reminder:")

    with transaction(world.sessions) as session:
        save_wording(session, world.organization_id, "reminder_1", MINE)
        reset_wording(session, world.organization_id, "reminder_1")
    world.clock.advance(dt.timedelta(days=15))  # reminder 1 falls due for Acme
    assert world.cycle().status == "done"
    later = _emails_to(world, "ap@acme.example")[1:]
    assert [str(m["Subject"]) for m in later] == ["Payment reminder: invoice 1002 from Harbor & Pine Landscaping"]
