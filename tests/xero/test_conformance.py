"""The conformance checker itself: good exchanges pass, each kind of breach is named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import xero_conformance as conformance
from tests.xero.samples import TENANT_ID, dumps, envelope, invoice_json
from tests.xero_conformance import ConformanceError, Exchange, load_spec

HEADERS = {"Authorization": "Bearer token", "xero-tenant-id": TENANT_ID, "Accept": "application/json"}
JSON = {"Content-Type": "application/json; charset=utf-8"}


def invoices_exchange(
    *invoices: dict, path: str = "/api.xro/2.0/Invoices?page=1&pageSize=1000", headers: dict | None = None
) -> Exchange:
    body = dumps(
        envelope(
            Invoices=list(invoices),
            pagination={"page": 1, "pageSize": 1000, "pageCount": 1, "itemCount": len(invoices)},
        )
    )
    return Exchange("GET", "http://127.0.0.1:9/sandbox" + path, headers or HEADERS, None, 200, JSON, body)


def test_a_good_invoices_response_conforms_even_strictly() -> None:
    load_spec().assert_conforms(invoices_exchange(invoice_json(1), invoice_json(2)), strict=True)


def test_the_spec_is_parsed_once_per_process() -> None:
    assert load_spec() is load_spec()


def test_specs_dir_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARPILOT_SPECS_DIR", str(tmp_path))
    assert conformance.specs_dir() == tmp_path
    with pytest.raises(FileNotFoundError):
        load_spec()


@pytest.mark.parametrize(
    ("invoice", "message"),
    [
        (invoice_json(DueDate="2026-03-03"), "$.Invoices[0].DueDate: '2026-03-03' is not in Xero's /Date("),
        (
            invoice_json(Date="/Date(1546128000001+0000)/"),
            "$.Invoices[0].Date: '/Date(1546128000001+0000)/' is a calendar date",
        ),
        (
            invoice_json(UpdatedDateUTC="2026-03-02T09:30:00"),
            "$.Invoices[0].UpdatedDateUTC: '2026-03-02T09:30:00' is not in",
        ),
        (
            {k: v for k, v in invoice_json().items() if k != "InvoiceID"},
            "$.Invoices[0].InvoiceID: missing (Xero always sends it)",
        ),
        (invoice_json(Total="100.10"), "$.Invoices[0].Total: '100.10' is not of type 'number'"),
        (invoice_json(Status="OPEN"), "$.Invoices[0].Status: 'OPEN' is not one of"),
    ],
)
def test_bad_invoices_responses_fail_with_a_clear_message(invoice: dict, message: str) -> None:
    with pytest.raises(ConformanceError) as caught:
        load_spec().assert_conforms(invoices_exchange(invoice))
    assert message in str(caught.value)
    assert "GET http://127.0.0.1:9/sandbox/api.xro/2.0/Invoices" in str(caught.value)


def test_unknown_properties_fail_only_when_strict() -> None:
    exchange = invoices_exchange(invoice_json(Colour="blue"))
    load_spec().assert_conforms(exchange)
    with pytest.raises(ConformanceError, match=r"\$\.Invoices\[0\]\.Colour: property not defined by the spec"):
        load_spec().assert_conforms(exchange, strict=True)


def test_envelope_date_is_checked() -> None:
    body = dumps(dict(envelope(Invoices=[]), DateTimeUTC="2026-01-01T00:00:00"))
    exchange = Exchange("GET", "/api.xro/2.0/Invoices", HEADERS, None, 200, JSON, body)
    with pytest.raises(ConformanceError, match=r"\$\.DateTimeUTC"):
        load_spec().assert_conforms(exchange)


@pytest.mark.parametrize(
    ("headers", "path", "message"),
    [
        ({"Authorization": "Bearer t"}, "/api.xro/2.0/Invoices", "xero-tenant-id"),
        ({"xero-tenant-id": TENANT_ID}, "/api.xro/2.0/Invoices", "Authorization header"),
        (HEADERS, "/api.xro/2.0/Invoices?page=first", "page"),
        (HEADERS, "/api.xro/2.0/Invoicez", "no such path"),
    ],
)
def test_bad_requests_fail(headers: dict, path: str, message: str) -> None:
    problems = load_spec().problems(invoices_exchange(invoice_json(), path=path, headers=headers))
    assert problems and message in " ".join(problems)


def test_request_bodies_are_validated() -> None:
    path = "/api.xro/2.0/Contacts/5b96e86b-418e-48e8-8949-308c14aec278"
    good = {
        "Contacts": [
            {
                "ContactID": "5b96e86b-418e-48e8-8949-308c14aec278",
                "PaymentTerms": {"Sales": {"Day": 15, "Type": "OFFOLLOWINGMONTH"}},
            }
        ]
    }
    bad = {
        "Contacts": [
            {
                "ContactID": "5b96e86b-418e-48e8-8949-308c14aec278",
                "PaymentTerms": {"Sales": {"Day": "15", "Type": "FORTNIGHTLY"}},
            }
        ]
    }
    headers = dict(HEADERS, **{"Content-Type": "application/json", "Idempotency-Key": "k"})
    spec = load_spec()
    assert spec.problems(Exchange("POST", path, headers, dumps(good), 200), response=False) == []
    problems = " ".join(spec.problems(Exchange("POST", path, headers, dumps(bad), 200), response=False))
    assert "'15' is not of type 'integer'" in problems and "FORTNIGHTLY" in problems


def test_date_string_companions_are_iso() -> None:
    exchange = invoices_exchange(invoice_json(DateString="23/11/2026"))
    with pytest.raises(
        ConformanceError, match=r"\$\.Invoices\[0\]\.DateString: '23/11/2026' is not YYYY-MM-DDTHH:MM:SS"
    ):
        load_spec().assert_conforms(exchange)
