"""Property-based fuzzing of the connector boundary: both mapping layers and both webhook parsers,
fed provider JSON with fields dropped, added and of the wrong type. Each answers with a normalized
record (or notification) or a typed error, never anything else. Example counts stay modest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from connectors.contract import ConnectorError, Customer, Invoice, Money, Payment, PaymentTerms
from connectors.quickbooks import mapping as qbo
from connectors.quickbooks import webhooks as qbo_webhooks
from connectors.xero import mapping as xero
from connectors.xero import webhooks as xero_webhooks
from integration.web import create_app
from tests.security.mutations import JSON, decimals_to_text, mutated
from tests.xero import samples as xero_samples

EXAMPLES = 100
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

QBO_META = {"CreateTime": "2026-09-01T09:00:00-07:00", "LastUpdatedTime": "2026-09-01T09:00:00-07:00"}
QBO_SAMPLES: dict[str, dict[str, Any]] = {
    "invoice": {
        "Id": "130",
        "SyncToken": "0",
        "DocNumber": "1001",
        "TxnDate": "2026-09-01",
        "DueDate": "2026-10-01",
        "CustomerRef": {"value": "58", "name": "Acme"},
        "CurrencyRef": {"value": "USD"},
        "TotalAmt": Decimal("450.00"),
        "Balance": Decimal("450.00"),
        "PrivateNote": "",
        "BillEmail": {"Address": "ap@acme.example"},
        "InvoiceLink": "https://pay.example/i/130",
        "SalesTermRef": {"value": "3"},
        "MetaData": QBO_META,
    },
    "customer": {
        "Id": "58",
        "SyncToken": "0",
        "DisplayName": "Acme Plumbing",
        "PrimaryEmailAddr": {"Address": "ap@acme.example"},
        "PrimaryPhone": {"FreeFormNumber": "555-0100"},
        "CurrencyRef": {"value": "USD"},
        "SalesTermRef": {"value": "3"},
        "Active": True,
        "MetaData": QBO_META,
    },
    "payment": {
        "Id": "77",
        "SyncToken": "0",
        "TxnDate": "2026-09-20",
        "CustomerRef": {"value": "58"},
        "CurrencyRef": {"value": "USD"},
        "TotalAmt": Decimal("100.00"),
        "Line": [{"Amount": Decimal("100.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}],
        "MetaData": QBO_META,
    },
    "term": {"Id": "3", "Name": "Net 30", "DueDays": 30, "Active": True, "MetaData": QBO_META},
}
XERO_MAPPERS: dict[str, tuple[dict[str, Any], Callable[[Any], Any]]] = {
    "invoice": (xero_samples.invoice_json(), xero.invoice_from_xero),
    "customer": (xero_samples.contact_json(), lambda raw: xero.customer_from_xero(raw, "USD")),
    "terms": (xero_samples.contact_json(), xero.payment_terms_from_xero),
    "payment": (xero_samples.payment_json(), xero.payment_from_xero),
}


def assert_normalized(record: object) -> None:
    """What the layers above rely on: exact money, real dates, UTC instants."""
    assert isinstance(record, Invoice | Customer | Payment | PaymentTerms) or record is None, type(record)
    for field in dataclasses.fields(record) if record is not None else ():
        value = getattr(record, field.name)
        if isinstance(value, Money):
            assert isinstance(value.amount, Decimal) and value.amount.is_finite()
        if isinstance(value, dt.datetime):
            assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0)


def check(read: Callable[[], object], tally) -> None:  # type: ignore[no-untyped-def]
    tally["fuzz_examples"] += 1
    try:
        record = read()
    except ConnectorError as exc:
        assert str(exc), "a typed error says what is wrong"
        return
    assert_normalized(record)


@pytest.mark.parametrize("entity", sorted(QBO_SAMPLES))
def test_quickbooks_mapping_takes_any_record(entity: str, tally) -> None:  # type: ignore[no-untyped-def]
    _, mapper = qbo.MAPPERS[entity]
    assert_normalized(mapper(QBO_SAMPLES[entity], "USD"))  # the sample itself is valid

    @FUZZ
    @given(raw=mutated(QBO_SAMPLES[entity]))
    def fuzz(raw: Any) -> None:
        check(lambda: mapper(raw, "USD"), tally)

    fuzz()


@pytest.mark.parametrize("entity", sorted(XERO_MAPPERS))
def test_xero_mapping_takes_any_record(entity: str, tally) -> None:  # type: ignore[no-untyped-def]
    sample, mapper = XERO_MAPPERS[entity]
    assert_normalized(mapper(sample))

    @FUZZ
    @given(raw=mutated(sample))
    def fuzz(raw: Any) -> None:
        check(lambda: mapper(raw), tally)

    fuzz()


@FUZZ
@given(raw=JSON)
def test_both_mappings_take_anything_at_all(raw: Any, tally) -> None:  # type: ignore[no-untyped-def]
    for _, mapper in qbo.MAPPERS.values():
        check(lambda: mapper(raw, "USD"), tally)  # noqa: B023 - called at once
    for _, mapper in XERO_MAPPERS.values():
        check(lambda: mapper(raw), tally)  # noqa: B023


QBO_CLOUD_EVENT = {
    "specversion": "1.0",
    "id": "ev-1",
    "source": "intuit.test",
    "type": "qbo.invoice.updated.v1",
    "time": "2026-11-23T16:00:00Z",
    "intuitentityid": "130",
    "intuitaccountid": "9130",
    "data": {},
}
QBO_LEGACY = {
    "eventNotifications": [
        {
            "realmId": "9130",
            "dataChangeEvent": {
                "entities": [
                    {"name": "Invoice", "id": "130", "operation": "Update", "lastUpdated": "2026-11-23T16:00:00.000Z"}
                ]
            },
        }
    ]
}
XERO_EVENTS = {
    "events": [
        {
            "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/1",
            "resourceId": "1",
            "eventDateUtc": "2026-11-23T16:00:00.1234567",
            "eventType": "UPDATE",
            "eventCategory": "INVOICE",
            "tenantId": "t-1",
            "tenantType": "ORGANISATION",
        }
    ],
    "firstEventSequence": 1,
    "lastEventSequence": 1,
    "entropy": "x",
}


def webhook_bodies(sample: Any) -> st.SearchStrategy[bytes]:
    as_json = mutated(sample).map(lambda v: json.dumps(decimals_to_text(v), default=str).encode())
    return as_json | st.binary(max_size=64) | st.sampled_from([b"[" * 5_000, b'{"a":' * 5_000, b"\xff\xfe", b""])


@FUZZ
@given(body=webhook_bodies([QBO_CLOUD_EVENT, QBO_CLOUD_EVENT]) | webhook_bodies(QBO_LEGACY))
def test_quickbooks_webhook_parser_takes_any_body(body: bytes, tally) -> None:  # type: ignore[no-untyped-def]
    tally["fuzz_examples"] += 1
    try:
        notifications = qbo_webhooks.parse(body)
    except qbo_webhooks.WebhookPayloadError as exc:
        assert str(exc)
        return
    assert all(n.realm_id and n.entity_id and n.dedupe_key for n in notifications)


@FUZZ
@given(body=webhook_bodies(XERO_EVENTS))
def test_xero_webhook_parser_takes_any_body(body: bytes, tally) -> None:  # type: ignore[no-untyped-def]
    tally["fuzz_examples"] += 1
    result = xero_webhooks.handle_xero_webhook(body, xero_webhooks.sign(body, "key"), "key")
    assert result.status_code in (200, 400), result
    assert all(e.occurred_at.tzinfo is not None for e in result.events)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(qbo_body=webhook_bodies([QBO_CLOUD_EVENT]), xero_body=webhook_bodies(XERO_EVENTS))
def test_signed_webhook_endpoints_never_answer_500(qbo_body: bytes, xero_body: bytes, settings, tally) -> None:  # type: ignore[no-untyped-def]
    app = _webhook_app(settings)
    client = app.test_client()
    quickbooks = client.post(
        "/webhooks/quickbooks", data=qbo_body, headers={"intuit-signature": qbo_webhooks.sign(qbo_body, "verifier")}
    )
    xero_answer = client.post(
        "/webhooks/xero",
        data=xero_body,
        headers={xero_webhooks.SIGNATURE_HEADER: xero_webhooks.sign(xero_body, "xero-key")},
    )
    assert quickbooks.status_code in (200, 400) and xero_answer.status_code in (200, 400)
    tally["fuzz_examples"] += 2


_APPS: dict[str, Any] = {}


def _webhook_app(settings):  # type: ignore[no-untyped-def]
    """One app per test run: building one per example would make the test slow, not stronger."""
    key = str(settings.var_dir)
    if key not in _APPS:
        _APPS.clear()
        _APPS[key] = create_app(
            dataclasses.replace(settings, quickbooks_webhook_verifier="verifier", xero_webhook_key="xero-key")
        )
    return _APPS[key]
