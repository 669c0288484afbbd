"""Disconnecting asks first and says what happens; afterwards the company's records are no longer offered
for action, and a form left open and posted anyway is refused in plain words, changing nothing."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActionStatus,
    Connection,
    ConnectionStatus,
    CustomerOverride,
    InvoicePause,
    MirroredInvoice,
)
from integration.web.common import AFTER_DISCONNECT
from tests.web.conftest import Seeded, signed_in

DISCONNECTED_AT = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)  # Nov 21 in Tokyo, the company's zone


def _token(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def test_disconnect_asks_first_and_says_what_happens(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_orgs
    client = signed_in(app, mine)
    response = client.get(f"/connections/{mine.connection_id}/disconnect")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="disconnect-title">Disconnect Harbor &amp; Pine?</h1>' in html
    assert AFTER_DISCONNECT in html and "gives back its access to QuickBooks" in html
    form = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf_token"', html)
    assert form and form.group(1) == f"/connections/{mine.connection_id}/disconnect"
    assert '<a class="btn secondary" href="/">Keep it connected</a>' in html
    with app.extensions["arpilot"].sessions() as db:  # asking changed nothing
        assert db.get(Connection, mine.connection_id).status is ConnectionStatus.ACTIVE  # type: ignore[union-attr]
    assert client.get(f"/connections/{theirs.connection_id}/disconnect").status_code == 404
    assert app.test_client().get(f"/connections/{mine.connection_id}/disconnect").status_code == 401


def _disconnect(app: Flask, seeded: Seeded) -> None:
    """As mark_disconnected leaves it, without ending the session (the organization may have other companies)."""
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection = db.get(Connection, seeded.connection_id)
        assert connection is not None
        connection.status, connection.timezone = ConnectionStatus.DISCONNECTED, "Asia/Tokyo"
        connection.updated_at = DISCONNECTED_AT
        call, awaiting = db.get(Action, seeded.action_ids[2]), db.get(Action, seeded.action_ids[0])
        assert call is not None and awaiting is not None
        call.status, call.created_at = ActionStatus.DONE, dt.datetime.now(dt.UTC)
        awaiting.status = ActionStatus.AWAITING_APPROVAL


def _word(db: Session) -> tuple[object, ...]:
    """The owner's word on customers and invoices, as stored."""
    overrides = [(o.customer_provider_id, o.paused) for o in db.scalars(select(CustomerOverride))]
    pauses = sorted((p.invoice_provider_id, p.disputed, p.promise_to_pay) for p in db.scalars(select(InvoicePause)))
    return overrides, pauses


def test_after_a_disconnect_its_records_are_not_offered_and_stale_forms_are_refused(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    mine = two_orgs[0]
    client = signed_in(app, mine)
    tokens = {path: _token(client, path) for path in ("/approvals", "/settings/customers")}
    _disconnect(app, mine)

    assert f'action="/calls/{mine.action_ids[2]}/outcome"' not in client.get("/").get_data(as_text=True)
    assert "Acme" not in client.get("/settings/customers").get_data(as_text=True)
    assert f'action="/approvals/{mine.action_ids[0]}"' not in client.get("/approvals").get_data(as_text=True)
    with app.extensions["arpilot"].sessions() as db:
        invoice = db.scalar(select(MirroredInvoice).where(MirroredInvoice.provider_id == "131"))
        assert invoice is not None
        before = _word(db)
    refused = "This company (Harbor &amp; Pine) was disconnected on Nov 21, 2026; reconnect to act on it."
    token = tokens["/approvals"]
    for path, form in (
        (f"/calls/{mine.action_ids[2]}/outcome", {"outcome": "no_answer"}),
        (f"/approvals/{mine.action_ids[0]}", {"decision": "approve"}),
        (f"/settings/customers/{mine.customer_id}", {"paused": "on"}),
        (f"/settings/invoices/{invoice.id}", {"disputed": "on"}),
    ):
        response = client.post(path, data={**form, "csrf_token": token})
        html = response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert refused in html and "Nothing was changed." in html, path
        assert "is disconnected" not in html and "connection 1" not in html
        assert '<a class="btn" href="/">Back to your dashboard</a>' in html
    assert client.get(f"/settings/customers/{mine.customer_id}").status_code == 403
    with app.extensions["arpilot"].sessions() as db:
        assert db.get(Action, mine.action_ids[0]).status is ActionStatus.AWAITING_APPROVAL  # type: ignore[union-attr]
        assert _word(db) == before
    # The record stays readable: it is the owner's history.
    assert client.get(f"/customers/{mine.customer_id}").status_code == 200
    again = client.get(f"/connections/{mine.connection_id}/disconnect").get_data(as_text=True)
    assert "Already disconnected" in again and refused in again
