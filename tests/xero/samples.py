"""Xero JSON as the API sends it, for tests: one builder per record kind, fields overridable."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from typing import Any

from connectors.xero.mapping import format_ms_date, format_ms_instant

CONTACT_ID = "5b96e86b-418e-48e8-8949-308c14aec278"
TENANT_ID = "70784a63-d24b-46a9-a4db-0e70a274b056"
BASE_TIME = dt.datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=dt.UTC)


def uid(kind: str, n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-test/{kind}/{n}"))


def invoice_json(n: int = 1, **overrides: Any) -> dict[str, Any]:
    record = {
        "Type": "ACCREC",
        "InvoiceID": uid("invoice", n),
        "InvoiceNumber": f"INV-{n:04d}",
        "Reference": "",
        "Contact": {"ContactID": CONTACT_ID, "Name": "Acme Ltd"},
        "Date": format_ms_date(dt.date(2026, 2, 1)),
        "DateString": "2026-02-01T00:00:00",
        "DueDate": format_ms_date(dt.date(2026, 3, 3)),
        "DueDateString": "2026-03-03T00:00:00",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "SubTotal": Decimal("100.10"),
        "TotalTax": Decimal("0.00"),
        "Total": Decimal("100.10"),
        "AmountDue": Decimal("60.10"),
        "AmountPaid": Decimal("40.00"),
        "AmountCredited": Decimal("0.00"),
        "CurrencyCode": "USD",
        "HasAttachments": False,
        "UpdatedDateUTC": format_ms_instant(BASE_TIME + dt.timedelta(minutes=n)),
    }
    record.update(overrides)
    return record


def contact_json(contact_id: str = CONTACT_ID, **overrides: Any) -> dict[str, Any]:
    record = {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "Name": "Acme Ltd",
        "FirstName": "Ada",
        "LastName": "Lovelace",
        "EmailAddress": "ada@acme.example",
        "ContactPersons": [
            {"FirstName": "Bob", "LastName": "Books", "EmailAddress": "ap@acme.example", "IncludeInEmails": True},
            {"FirstName": "Carl", "LastName": "Quiet", "EmailAddress": "carl@acme.example", "IncludeInEmails": False},
        ],
        "Phones": [
            {"PhoneType": "MOBILE", "PhoneNumber": "555 0100", "PhoneAreaCode": "", "PhoneCountryCode": "1"},
            {"PhoneType": "DEFAULT", "PhoneNumber": "555 0199", "PhoneAreaCode": "212", "PhoneCountryCode": "1"},
        ],
        "IsCustomer": True,
        "IsSupplier": False,
        "DefaultCurrency": "USD",
        "PaymentTerms": {"Sales": {"Day": 30, "Type": "DAYSAFTERBILLDATE"}},
        "ContactGroups": [],
        "HasAttachments": False,
        "UpdatedDateUTC": format_ms_instant(BASE_TIME),
    }
    record.update(overrides)
    return record


def payment_json(n: int = 1, **overrides: Any) -> dict[str, Any]:
    record = {
        "PaymentID": uid("payment", n),
        "Date": format_ms_date(dt.date(2026, 2, 20)),
        "Amount": Decimal("40.00"),
        "Reference": "",
        "CurrencyRate": Decimal("1.000000"),
        "PaymentType": "ACCRECPAYMENT",
        "Status": "AUTHORISED",
        "UpdatedDateUTC": format_ms_instant(BASE_TIME + dt.timedelta(minutes=n)),
        "IsReconciled": False,
        "Invoice": {
            "Type": "ACCREC",
            "InvoiceID": uid("invoice", n),
            "InvoiceNumber": f"INV-{n:04d}",
            "Contact": {"ContactID": CONTACT_ID, "Name": "Acme Ltd"},
            "CurrencyCode": "USD",
        },
    }
    record.update(overrides)
    return record


def envelope(**collections: Any) -> dict[str, Any]:
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "arpilot tests",
        "DateTimeUTC": format_ms_instant(BASE_TIME),
        **collections,
    }


_DECIMAL = re.compile(r'"__decimal__([-0-9.Ee+]+)__"')


def dumps(value: Any) -> bytes:
    """JSON with Decimals written as exact numbers (json.dumps alone would need float)."""
    text = json.dumps(value, default=lambda d: f"__decimal__{d}__" if isinstance(d, Decimal) else str(d))
    return _DECIMAL.sub(r"\1", text).encode()


def loads(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)
