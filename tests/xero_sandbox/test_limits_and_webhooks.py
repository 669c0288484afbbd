"""Rate limits (minute, day, concurrent, app-wide minute) with 429, Retry-After and
X-Rate-Limit-Problem; signed webhook deliveries and the intent-to-receive check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask, request
from xero_python.accounting import Account, Contact, Contacts, Invoice, Payment
from xero_python.exceptions import RateLimitException

from connectors.sandbox import SandboxServer
from tests.xero_sandbox.conftest import RunningXero


def test_minute_limit_then_retry_after(xero: RunningXero) -> None:
    api = xero.accounting(xero.minted(tenants=["demo"]))
    xero.admin("POST", "/clock", json={"set": "2026-11-23T10:00:10+00:00", "frozen": True})
    assert xero.admin("POST", "/limits", json={"calls_per_minute": 3}).status_code == 200
    for _ in range(3):
        api.get_contacts(xero.tenant())
    with pytest.raises(RateLimitException) as caught:
        api.get_contacts(xero.tenant())
    assert caught.value.rate_limit == "minute" and caught.value.headers["Retry-After"] == "50"
    assert xero.admin("GET", "/requests").json()["throttled"] == {"minute": 1}
    xero.advance(50)
    assert api.get_contacts(xero.tenant()).contacts


def test_day_limit(xero: RunningXero) -> None:
    xero.admin("POST", "/clock", json={"set": "2026-11-23T22:00:00+00:00", "frozen": True})
    api = xero.accounting(xero.minted(tenants=["demo"]))
    xero.admin("POST", "/limits", json={"calls_per_day": 2})
    api.get_invoices(xero.tenant())
    api.get_invoices(xero.tenant())
    with pytest.raises(RateLimitException) as caught:
        api.get_invoices(xero.tenant())
    assert caught.value.rate_limit == "day" and caught.value.headers["Retry-After"] == str(2 * 3600)
    assert caught.value.headers.get("X-DayLimit-Remaining") == "0"


def test_concurrent_and_app_minute_limits(xero: RunningXero) -> None:
    token = xero.minted(tenants=["demo", "second"])
    api = xero.accounting(token)
    gate, tenant = xero.sandbox.runtime.gate, xero.tenant()
    for _ in range(5):  # five calls in flight for this tenant
        assert gate.enter(tenant, 5)
    try:
        with pytest.raises(RateLimitException) as caught:
            api.get_contacts(tenant)
        assert caught.value.rate_limit == "concurrent"
        assert api.get_contacts(xero.tenant("second")).contacts  # other tenants are not held up
    finally:
        for _ in range(5):
            gate.leave(tenant)
    xero.admin("POST", "/clock", json={"set": "2026-11-23T10:00:00+00:00", "frozen": True})
    xero.admin("POST", "/limits", json={"app_calls_per_minute": 2})
    api.get_contacts(tenant)
    api.get_contacts(xero.tenant("second"))
    with pytest.raises(RateLimitException) as caught:
        api.get_contacts(tenant)
    assert caught.value.rate_limit == "appminute"


@pytest.fixture
def receiver(xero: RunningXero) -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A webhook receiver that checks x-xero-signature as Xero asks: 200 when valid, 401 when not."""
    received: list[dict[str, object]] = []
    app = Flask("receiver")

    @app.post("/hook")
    def hook():  # type: ignore[no-untyped-def]
        expected = base64.b64encode(
            hmac.new(xero.config.webhook_key.encode(), request.get_data(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, request.headers.get("x-xero-signature", "")):
            return "", 401
        received.append(json.loads(request.get_data()))
        return "", 200

    @app.post("/lenient")
    def lenient():  # type: ignore[no-untyped-def]
        return "", 200

    server = SandboxServer(app)
    try:
        yield server.start(), received
    finally:
        server.stop()


def test_signed_events_on_changes(xero: RunningXero, receiver: tuple[str, list[dict[str, object]]]) -> None:
    base, received = receiver
    assert xero.admin("POST", "/webhooks", json={"url": f"{base}/hook"}).status_code == 200
    api = xero.accounting(xero.minted(tenants=["demo"]))
    ids = xero.admin("GET", "/organisations/demo/ids").json()
    api.create_payment(
        xero.tenant(),
        Payment(
            invoice=Invoice(invoice_id=ids["invoices"]["inv-1002"]), account=Account(code="090"), amount=Decimal("10")
        ),
    )
    api.update_contact(
        xero.tenant(),
        ids["contacts"]["cust-03"],
        Contacts(contacts=[Contact(contact_id=ids["contacts"]["cust-03"], email_address="ap@cobalt.example")]),
    )
    assert xero.admin("POST", "/webhooks/wait").json()["idle"]
    events = [body["events"][0] for body in received]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("INVOICE", "UPDATE", ids["invoices"]["inv-1002"]),
        ("CONTACT", "UPDATE", ids["contacts"]["cust-03"]),
    ]
    assert all(e["tenantId"] == xero.tenant() and e["tenantType"] == "ORGANISATION" for e in events)
    assert events[0]["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{ids['invoices']['inv-1002']}")
    assert [d["status"] for d in xero.admin("GET", "/webhooks").json()["deliveries"]] == [200, 200]


def test_intent_to_receive(xero: RunningXero, receiver: tuple[str, list[dict[str, object]]]) -> None:
    base, received = receiver
    xero.admin("POST", "/webhooks", json={"url": f"{base}/hook"})
    report = xero.admin("POST", "/webhooks/intent").json()
    assert report["passed"] is True
    assert {(a["correctly_signed"], a["status"]) for a in report["attempts"]} == {(True, 200), (False, 401)}
    assert all(body["events"] == [] for body in received)
    xero.admin("POST", "/webhooks", json={"url": f"{base}/lenient"})  # a receiver that never checks
    assert xero.admin("POST", "/webhooks/intent").json()["passed"] is False
