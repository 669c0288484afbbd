"""POST /webhooks/quickbooks: signature, both payload shapes, de-duplication, sync requests."""

from __future__ import annotations

import json

import pytest

from connectors.quickbooks.webhooks import WebhookPayloadError, parse, sign, signature_valid
from integration.config import Settings
from integration.store.db import transaction
from integration.store.models import Connection, Organization
from tests.clock_helpers import RunSoonRecorder
from tests.conftest import MakeApp

VERIFIER = "test-verifier-token"


def cloud_events(*events: tuple[str, str, str]) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": event_id,
                "source": "intuit.test",
                "type": kind,
                "datacontenttype": "application/json",
                "time": "2026-11-23T16:00:00Z",
                "intuitentityid": entity_id,
                "intuitaccountid": "9130",
                "data": {},
            }
            for event_id, kind, entity_id in events
        ]
    ).encode()


LEGACY = json.dumps(
    {
        "eventNotifications": [
            {
                "realmId": "9130",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Invoice",
                            "id": "130",
                            "operation": "Void",
                            "lastUpdated": "2026-11-23T16:00:00.000Z",
                        },
                        {
                            "name": "Estimate",
                            "id": "4",
                            "operation": "Create",
                            "lastUpdated": "2026-11-23T16:00:00.000Z",
                        },
                    ]
                },
            }
        ]
    }
).encode()


@pytest.fixture
def app(make_app: MakeApp):  # type: ignore[no-untyped-def]
    app = make_app(quickbooks_webhook_verifier=VERIFIER)
    with transaction(app.extensions["arpilot"].sessions) as session:
        org = Organization(name="Harbor & Pine")
        session.add(org)
        session.flush()
        session.add(Connection(organization_id=org.id, provider="quickbooks", external_id="9130"))
    return app


def post(client, body: bytes, signature: str | None = "sign"):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = sign(body, VERIFIER)
    if signature is not None:
        headers["intuit-signature"] = signature
    return client.post("/webhooks/quickbooks", data=body, headers=headers)


def queue(app):  # type: ignore[no-untyped-def]
    return app.extensions["arpilot_webhooks"].sync_requests


def test_cloud_events_become_sync_requests_once(app) -> None:  # type: ignore[no-untyped-def]
    body = cloud_events(("e-1", "qbo.invoice.updated.v1", "130"), ("e-2", "qbo.payment.created.v1", "77"))
    client = app.test_client()
    first = post(client, body)
    assert first.status_code == 200 and first.json == {"received": 2, "duplicates": 0, "queued": 2}
    again = post(client, body)
    assert again.json == {"received": 2, "duplicates": 2, "queued": 0}
    [connection_id] = queue(app).pending()
    changes = sorted((c.entity, c.entity_id, c.operation) for c in queue(app).drain(connection_id))
    assert changes == [("invoice", "130", "Update"), ("payment", "77", "Create")]


def test_legacy_shape_is_accepted_and_unmirrored_entities_ignored(app) -> None:  # type: ignore[no-untyped-def]
    response = post(app.test_client(), LEGACY)
    assert response.json == {"received": 2, "duplicates": 0, "queued": 1}
    [connection_id] = queue(app).pending()
    assert [(c.entity, c.operation) for c in queue(app).drain(connection_id)] == [("invoice", "Void")]


@pytest.mark.parametrize(
    "signature", [None, "", "not base64!!", sign(b"other body", VERIFIER), sign(LEGACY, "wrong-token")]
)
def test_a_bad_signature_is_401_and_queues_nothing(app, signature) -> None:  # type: ignore[no-untyped-def]
    response = post(app.test_client(), LEGACY, signature)
    assert response.status_code == 401 and queue(app).pending() == []


def test_malformed_payload_is_400(app) -> None:  # type: ignore[no-untyped-def]
    for body in (b"not json", b'{"something": 1}', json.dumps([{"type": "qbo.invoice.updated.v1"}]).encode()):
        assert post(app.test_client(), body).status_code == 400


def test_unknown_realm_is_acknowledged_but_not_queued(app) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(
        [{"id": "x", "type": "qbo.invoice.updated.v1", "intuitentityid": "1", "intuitaccountid": "555"}]
    ).encode()
    assert post(app.test_client(), body).json == {"received": 1, "duplicates": 0, "queued": 0}


def test_unconfigured_verifier_is_503(make_app: MakeApp) -> None:
    app = make_app(quickbooks_webhook_verifier=None)
    assert post(app.test_client(), LEGACY).status_code == 503


def test_embedded_default_verifier_matches_the_sandbox(settings: Settings) -> None:
    assert settings.quickbooks_webhook_verifier == "arpilot-sandbox-verifier-token"


def test_parse_and_signature_helpers() -> None:
    assert signature_valid(LEGACY, sign(LEGACY, VERIFIER), VERIFIER)
    assert not signature_valid(LEGACY, sign(LEGACY, VERIFIER), "")
    [event] = parse(cloud_events(("e-9", "qbo.customer.deleted.v1", "58")))
    assert (event.realm_id, event.entity, event.entity_id, event.operation, event.dedupe_key) == (
        "9130",
        "customer",
        "58",
        "Delete",
        "ce:e-9",
    )
    with pytest.raises(WebhookPayloadError, match=r"\[0\]\.type"):
        parse(json.dumps([{"type": "invoice"}]).encode())


def test_a_change_notification_starts_a_cycle_for_its_connection_now(app) -> None:  # type: ignore[no-untyped-def]
    app.extensions["arpilot_clock"] = recorder = RunSoonRecorder()
    post(app.test_client(), cloud_events(("e-9", "qbo.invoice.updated.v1", "130")))
    assert recorder.soon == queue(app).pending()
    assert len(recorder.soon) == 1


def test_a_credit_memo_change_queues_the_credit_memo_sync(app) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(
        [
            {
                "id": "cm-1",
                "type": "qbo.creditmemo.created.v1",
                "intuitentityid": "73",
                "intuitaccountid": json.loads(LEGACY)["eventNotifications"][0]["realmId"],
            }
        ]
    ).encode()
    assert post(app.test_client(), body).json == {"received": 1, "duplicates": 0, "queued": 1}
    [connection_id] = queue(app).pending()
    assert [(c.entity, c.entity_id) for c in queue(app).drain(connection_id)] == [("credit_memo", "73")]
