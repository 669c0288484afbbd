"""POST /webhooks/xero: signed deliveries from the Xero sandbox to arpilot served on loopback
(the intent-to-receive handshake included), mis-signed bodies, duplicates, an unset key."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from connectors.sandbox import SandboxServer
from connectors.xero.webhooks import sign
from tests.clock_helpers import RunSoonRecorder
from tests.conftest import MakeApp
from tests.oauth.xero_flow import XeroSandbox, connect


@pytest.fixture
def served(xero_app: Flask, xero_sandbox: XeroSandbox) -> Iterator[str]:
    """arpilot on loopback, the sandbox delivering its webhooks to /webhooks/xero."""
    with SandboxServer(xero_app) as server:
        url = f"{server.base_url}/webhooks/xero"
        requests.post(f"{xero_sandbox.base_url}/_sandbox/webhooks", json={"url": url}, timeout=10).raise_for_status()
        yield url


def _queue(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["arpilot_webhooks"].sync_requests


def test_intent_to_receive_passes(served: str, xero_sandbox: XeroSandbox) -> None:
    answer = requests.post(f"{xero_sandbox.base_url}/_sandbox/webhooks/intent", timeout=30).json()
    assert answer["passed"], answer["attempts"]
    assert {a["expected"] for a in answer["attempts"]} == {200, 401}


def test_a_change_in_xero_becomes_a_targeted_sync(xero_app: Flask, xero_sandbox: XeroSandbox, served: str) -> None:
    xero_app.extensions["arpilot_clock"] = recorder = RunSoonRecorder()
    tenants = xero_sandbox.tenant_ids()
    ids = connect(xero_app, xero_app.test_client(), [tenants["demo"], tenants["second"]])
    recorder.soon.clear()
    invoice = next(
        iter(
            requests.get(f"{xero_sandbox.base_url}/_sandbox/organisations/second/ids", timeout=10)
            .json()["invoices"]
            .values()
        )
    )
    requests.post(
        f"{xero_sandbox.base_url}/_sandbox/organisations/second/notify",
        json={"category": "INVOICE", "id": invoice, "type": "UPDATE"},
        timeout=10,
    ).raise_for_status()
    requests.post(f"{xero_sandbox.base_url}/_sandbox/webhooks/wait", timeout=30).raise_for_status()
    deliveries = requests.get(f"{xero_sandbox.base_url}/_sandbox/webhooks", timeout=10).json()["deliveries"]
    assert [d["status"] for d in deliveries] == [200]
    changes = _queue(xero_app).drain(ids[tenants["second"]])
    assert [(c.entity, c.entity_id, c.operation) for c in changes] == [("invoice", invoice, "Update")]
    assert _queue(xero_app).drain(ids[tenants["demo"]]) == []
    assert recorder.soon == [ids[tenants["second"]]]


def _body(tenant: str, resource: str, category: str = "CONTACT") -> bytes:
    event = {
        "resourceUrl": "https://api.xero.com/api.xro/2.0/Contacts/x",
        "resourceId": resource,
        "eventDateUtc": "2026-11-23T10:00:00.123",
        "eventType": "UPDATE",
        "eventCategory": category,
        "tenantId": tenant,
        "tenantType": "ORGANISATION",
    }
    return json.dumps(
        {"events": [event, event], "firstEventSequence": 1, "lastEventSequence": 2, "entropy": "X"}
    ).encode()


def test_signed_mis_signed_and_duplicate_deliveries(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    tenants = xero_sandbox.tenant_ids()
    ids = connect(xero_app, xero_app.test_client(), [tenants["demo"]])
    client = xero_app.test_client()
    body = _body(tenants["demo"], "c-1")
    bad = client.post("/webhooks/xero", data=body, headers={"x-xero-signature": sign(body, "not-the-key")})
    assert bad.status_code == 401 and _queue(xero_app).pending() == []
    assert client.post("/webhooks/xero", data=body).status_code == 401  # no signature at all
    good = client.post("/webhooks/xero", data=body, headers={"x-xero-signature": sign(body, xero_sandbox.webhook_key)})
    assert good.status_code == 200 and good.get_json()["queued"] == 1  # the payload's own duplicate dropped
    again = client.post("/webhooks/xero", data=body, headers={"x-xero-signature": sign(body, xero_sandbox.webhook_key)})
    assert again.status_code == 200 and again.get_json() == {"received": 1, "duplicates": 1, "queued": 0}
    assert [(c.entity, c.entity_id) for c in _queue(xero_app).drain(ids[tenants["demo"]])] == [("customer", "c-1")]
    unknown = _body("00000000-0000-0000-0000-000000000000", "c-2")
    answer = client.post(
        "/webhooks/xero", data=unknown, headers={"x-xero-signature": sign(unknown, xero_sandbox.webhook_key)}
    )
    assert answer.status_code == 200 and answer.get_json()["queued"] == 0
    garbage = b"not json"
    assert (
        client.post(
            "/webhooks/xero", data=garbage, headers={"x-xero-signature": sign(garbage, xero_sandbox.webhook_key)}
        ).status_code
        == 400
    )


def test_webhooks_refused_without_a_key(make_app: MakeApp, xero_sandbox: XeroSandbox) -> None:
    app = make_app(xero=xero_sandbox.config, xero_webhook_key=None)
    body = _body("t", "c")
    assert (
        app.test_client().post("/webhooks/xero", data=body, headers={"x-xero-signature": sign(body, "k")}).status_code
        == 503
    )
