"""Test doubles for the QuickBooks connector: an in-memory token source and a fake clock."""

from __future__ import annotations

import datetime as dt

from connectors.contract import AuthExpired
from connectors.quickbooks.connector import QuickBooksConnector
from connectors.quickbooks.limiter import Limits, RealmLimiter

BASE = "https://qbo.test/v3"
REALM = "9130"
COMPANY = f"{BASE}/company/{REALM}"
TODAY = dt.date(2026, 11, 23)


class MemoryTokens:
    """An AccessTokenSource that hands out token-1, token-2, … and can be told the grant is gone."""

    def __init__(self, revoked: bool = False) -> None:
        self.generation = 1
        self.revoked = revoked
        self.refreshes: list[str] = []

    def access_token(self) -> str:
        return f"token-{self.generation}"

    def refreshed(self, stale_access_token: str) -> str:
        self.refreshes.append(stale_access_token)
        if self.revoked:
            raise AuthExpired("invalid_grant: the refresh token was revoked")
        if stale_access_token == self.access_token():
            self.generation += 1
        return self.access_token()


class FakeClock:
    """A monotonic clock whose sleep only moves time forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_connector(
    tokens: MemoryTokens | None = None,
    clock: FakeClock | None = None,
    limits: Limits = Limits(),
    base_url: str = BASE,
    **options: object,
) -> QuickBooksConnector:
    clock = clock or FakeClock()
    return QuickBooksConnector(
        REALM,
        tokens or MemoryTokens(),
        home_currency="USD",
        base_url=base_url,
        limiter=RealmLimiter(limits, clock, clock.sleep),
        sleep=clock.sleep,
        today=lambda: TODAY,
        **options,  # type: ignore[arg-type]
    )


def fault(code: str, message: str = "failed", detail: str = "", kind: str = "ValidationFault") -> dict:
    return {
        "Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": kind},
        "time": "2026-11-23T08:00:00.000-08:00",
    }


def invoice_json(invoice_id: str = "130", sync_token: str = "0", **fields: object) -> dict:
    body = {
        "Id": invoice_id,
        "SyncToken": sync_token,
        "domain": "QBO",
        "sparse": False,
        "DocNumber": "1001",
        "TxnDate": "2026-09-01",
        "DueDate": "2026-10-01",
        "CustomerRef": {"value": "58", "name": "Acme"},
        "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        "TotalAmt": 450.0,
        "Balance": 450.0,
        "MetaData": {"CreateTime": "2026-09-01T09:00:00-07:00", "LastUpdatedTime": "2026-09-01T09:00:00-07:00"},
    }
    body.update(fields)
    return body


def customer_json(customer_id: str = "58", sync_token: str = "0", **fields: object) -> dict:
    body = {
        "Id": customer_id,
        "SyncToken": sync_token,
        "DisplayName": "Acme Plumbing",
        "PrimaryEmailAddr": {"Address": "ap@acme.example"},
        "CurrencyRef": {"value": "USD"},
        "SalesTermRef": {"value": "3"},
        "Active": True,
        "MetaData": {"LastUpdatedTime": "2026-09-01T09:00:00-07:00"},
    }
    body.update(fields)
    return body
