"""Xero webhooks: 200 only for the right signature, intent-to-receive, typed events, dedupe."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest

from connectors.xero.webhooks import WebhookPayloadError, handle_xero_webhook, parse_events, sign
from tests.xero.samples import TENANT_ID

KEY = "webhook-key-0123456789abcdef"
INTENT = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}'


def event(resource_id: str = "inv-1", when: str = "2026-03-02T09:30:00.1234567") -> dict:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": when,
        "eventType": "UPDATE",
        "eventCategory": "INVOICE",
        "tenantId": TENANT_ID,
        "tenantType": "ORGANISATION",
    }


def body(*events: dict) -> bytes:
    return json.dumps(
        {"events": list(events), "firstEventSequence": 1, "lastEventSequence": len(events), "entropy": "x"}
    ).encode()


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(KEY.encode(), INTENT, hashlib.sha256).digest()).decode()
    assert sign(INTENT, KEY) == expected


def test_intent_to_receive_with_the_right_signature_gets_200_and_no_events() -> None:
    result = handle_xero_webhook(INTENT, sign(INTENT, KEY), KEY)
    assert (result.status_code, result.events) == (200, ())


@pytest.mark.parametrize("signature", [None, "", "not-base64!", sign(INTENT, "another key"), sign(INTENT + b" ", KEY)])
def test_mis_signed_or_unsigned_payloads_get_401(signature: str | None) -> None:
    result = handle_xero_webhook(INTENT, signature, KEY)
    assert result.status_code == 401 and result.events == ()


def test_a_body_altered_after_signing_gets_401() -> None:
    original = body(event())
    assert handle_xero_webhook(original.replace(b"UPDATE", b"CREATE"), sign(original, KEY), KEY).status_code == 401


def test_events_are_typed_and_duplicates_dropped() -> None:
    raw = body(event("inv-1"), event("inv-1"), event("inv-2"), event("inv-1", when="2026-03-02T09:31:00Z"))
    result = handle_xero_webhook(raw, sign(raw, KEY), KEY)
    assert result.status_code == 200
    assert [e.resource_id for e in result.events] == ["inv-1", "inv-2", "inv-1"]
    first = result.events[0]
    assert (first.tenant_id, first.category, first.event_type) == (TENANT_ID, "INVOICE", "UPDATE")
    assert first.occurred_at == dt.datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=dt.UTC)
    assert len({e.dedupe_key for e in result.events}) == 3


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"events": {}}',
        body({"resourceId": "x"}),
        body(dict(event(), eventDateUtc="yesterday")),
        body(dict(event(), tenantId=7)),
        b'{"events": [1]}',
        b"\xff\xfe",
    ],
)
def test_signed_but_malformed_bodies_are_a_typed_error_and_a_400(raw: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_events(raw)
    result = handle_xero_webhook(raw, sign(raw, KEY), KEY)
    assert result.status_code == 400 and result.error
