"""Late fees written into the QuickBooks sandbox: an invoice of its own on the late-fee item, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import InvoiceStatus, LateFee, Money, Note, ProviderValidationError
from connectors.quickbooks.connector import QuickBooksConnector
from tests.quickbooks.test_sandbox_e2e import AS_OF, Sandbox, connector_for, sandbox  # noqa: F401  (the fixture)


def fee(box: Sandbox, *, account: str = "Late fee", number: str = "LF-1003") -> LateFee:
    ids = box.company("/ids")
    connector = connector_for(box)
    original = connector.get_invoice(ids["invoices"]["inv-1003"])
    return LateFee(
        original.customer_id,
        original.provider_id,
        original.number,
        Money(Decimal("25.00"), "USD"),
        AS_OF,
        number,
        account,
        Note("Late fee charged by arpilot; action 7", "arp-0123456789abcdef", AS_OF),
    )


def fee_invoices(connector: QuickBooksConnector, number: str) -> list[dict]:  # type: ignore[type-arg]
    query = f"select * from Invoice where DocNumber = '{number}'"
    return connector.client.query(query)["QueryResponse"].get("Invoice") or []


def test_a_fee_is_an_invoice_on_the_late_fee_item_written_once(sandbox: Sandbox) -> None:  # noqa: F811
    connector = connector_for(sandbox)
    wanted = fee(sandbox)
    written = connector.charge_late_fee(wanted, "key-charge-1")
    assert written.number == "LF-1003" and written.customer_id == wanted.customer_id
    assert written.total == Money(Decimal("25.00"), "USD") and written.status is InvoiceStatus.OPEN
    (raw,) = fee_invoices(connector, "LF-1003")
    line = raw["Line"][0]
    assert line["SalesItemLineDetail"]["ItemRef"]["name"] == "Late fee"
    assert line["Description"] == "Late fee on invoice 1003" and raw["CustomerMemo"]["value"] == line["Description"]
    assert "arp-0123456789abcdef" in raw["PrivateNote"]
    # A retry with the same requestid (a crash before the ledger heard back) writes nothing new.
    again = connector_for(sandbox).charge_late_fee(wanted, "key-charge-1")
    assert again.provider_id == written.provider_id and len(fee_invoices(connector, "LF-1003")) == 1
    assert connector.find_late_fee("LF-1003") == again
    assert connector.find_late_fee("LF-9999") is None


def test_an_unknown_item_is_a_validation_error_naming_it(sandbox: Sandbox) -> None:  # noqa: F811
    connector = connector_for(sandbox)
    with pytest.raises(ProviderValidationError, match='no item "Finance charge"'):
        connector.charge_late_fee(fee(sandbox, account="Finance charge"), "key-charge-2")
    assert fee_invoices(connector, "LF-1003") == []


def test_the_sandbox_refuses_a_line_on_an_item_that_does_not_exist(sandbox: Sandbox) -> None:  # noqa: F811
    connector = connector_for(sandbox)
    wanted = fee(sandbox)
    body = {
        "CustomerRef": {"value": wanted.customer_id},
        "Line": [
            {"Amount": "5", "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "404"}}}
        ],
    }
    with pytest.raises(ProviderValidationError, match="ItemRef"):
        connector.client.write("Invoice", body, "key-bad-item")


def test_reversing_voids_the_fee_with_the_owners_note(sandbox: Sandbox) -> None:  # noqa: F811
    connector = connector_for(sandbox)
    written = connector.charge_late_fee(fee(sandbox), "key-charge-3")
    note = Note("Reversed by the owner: goodwill, first time late", "arp-reversal000001", AS_OF + dt.timedelta(days=1))
    connector.reverse_late_fee(written.provider_id, note, "key-reverse-3")
    (raw,) = fee_invoices(connector, "LF-1003")
    assert raw["PrivateNote"].startswith("Voided") and "goodwill, first time late" in raw["PrivateNote"]
    assert connector.get_invoice(written.provider_id).status is InvoiceStatus.VOIDED
    # Reversing again (a retry) changes nothing.
    assert connector.reverse_late_fee(written.provider_id, note, "key-reverse-3").endswith("/voided")
