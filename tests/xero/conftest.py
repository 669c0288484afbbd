"""Fixtures for the Xero connector tests: the canned server, fake tokens and clock, the connector.

Every exchange the connector makes is checked when the test ends: the request against the Xero
OpenAPI spec, and every conformant response against the spec (strictly: no undefined properties,
/Date(...)/ dates) and through xero-python's own models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, ModelFinder

from connectors.xero.client import RetryPolicy
from connectors.xero.connector import XeroConnector
from connectors.xero.limiter import XeroLimiter
from tests.xero.canned import CannedXero
from tests.xero.samples import TENANT_ID
from tests.xero_conformance import load_spec

# (method, spec path template) -> the model xero-python deserializes that response into.
SDK_RESPONSE_TYPES = {
    ("GET", "/Invoices"): "Invoices",
    ("GET", "/Invoices/{InvoiceID}"): "Invoices",
    ("GET", "/Invoices/{InvoiceID}/OnlineInvoice"): "OnlineInvoices",
    ("GET", "/Invoices/{InvoiceID}/History"): "HistoryRecords",
    ("PUT", "/Invoices/{InvoiceID}/History"): "HistoryRecords",
    ("GET", "/Contacts"): "Contacts",
    ("GET", "/Contacts/{ContactID}"): "Contacts",
    ("POST", "/Contacts/{ContactID}"): "Contacts",
    ("PUT", "/Contacts/{ContactID}/History"): "HistoryRecords",
    ("GET", "/ContactGroups"): "ContactGroups",
    ("PUT", "/ContactGroups"): "ContactGroups",
    ("PUT", "/ContactGroups/{ContactGroupID}/Contacts"): "Contacts",
    ("GET", "/Payments"): "Payments",
    ("GET", "/CreditNotes"): "CreditNotes",
    ("GET", "/Overpayments"): "Overpayments",
    ("GET", "/Prepayments"): "Prepayments",
    ("GET", "/Organisation"): "Organisations",
}


class FakeTokens:
    """An AccessTokenSource whose refresh hands out the next token and tells the server about it."""

    def __init__(self, server: CannedXero) -> None:
        self.server = server
        self.token = "tok-1"
        self.refreshes: list[str] = []

    def access_token(self) -> str:
        return self.token

    def refreshed(self, stale_access_token: str) -> str:
        self.refreshes.append(stale_access_token)
        self.token = f"tok-{len(self.refreshes) + 1}"
        self.server.valid_tokens.add(self.token)
        return self.token


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=self.t - 1000.0)


def check_exchanges(server: CannedXero, *, answers_checked: bool = True) -> None:
    """Each exchange against the spec and each answer read by xero-python. `answers_checked=False`
    leaves the answers to xero-python alone: for answers that are the spec's own examples, some of
    which break its schemas (Contacts' `TaxNumbeType`, credits' `ID`, a BatchPayment's string amounts)."""
    spec = load_spec()
    finder = ModelFinder(AccountingApi.models_module)
    for recorded in server.recorded:
        exchange = recorded.exchange
        checkable = recorded.conformant and (200 <= exchange.status < 300 or exchange.status == 400)
        spec.assert_conforms(exchange, strict=True, response=checkable and answers_checked)
        template = spec.template_for(exchange.path.split("?")[0].removeprefix("/api.xro/2.0"))
        if checkable and exchange.status == 200:
            response_type = SDK_RESPONSE_TYPES[(exchange.method, template)]
            raw = SimpleNamespace(text=exchange.response_body.decode(), data=exchange.response_body)
            ApiClient().deserialize(raw, response_type, finder)  # raises if xero-python cannot read it


@pytest.fixture
def server() -> Iterator[CannedXero]:
    with CannedXero() as canned:
        yield canned
        check_exchanges(canned)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tokens(server: CannedXero) -> FakeTokens:
    return FakeTokens(server)


@pytest.fixture
def connector(server: CannedXero, tokens: FakeTokens, clock: FakeClock) -> XeroConnector:
    return XeroConnector(
        tenant_id=TENANT_ID,
        tokens=tokens,
        base_url=server.base_url,
        clock=clock,
        limiter=XeroLimiter(clock=clock),
        retry=RetryPolicy(backoff_seconds=0.5),
    )
