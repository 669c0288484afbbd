"""Late fees written into the Xero sandbox: a separate approved ACCREC invoice on the owner's account
code, once per Idempotency-Key; refusals come back as typed errors; a reversal voids it with a note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.contract import InvoiceStatus, LateFee, Money, Note, ProviderValidationError
from connectors.xero.connector import XeroConnector
from connectors.xero.sandbox.org import Organisation
from integration.store.models import Connection, Organization
from tests.cycle.conftest import NOW
from tests.cycle.xero_world import XeroWorld, xero_world  # noqa: F401  (the fixture)
from tests.xero_conformance import check


def connector_of(world: XeroWorld) -> XeroConnector:
    with world.sessions() as session:
        connection, organization = (
            session.get(Connection, world.connection_id),
            session.get(Organization, world.organization_id),
        )
        built = world.deps().connectors(connection, organization)  # type: ignore[arg-type]
    assert isinstance(built, XeroConnector)
    return built


def fee(world: XeroWorld, connector: XeroConnector, account: str = "260") -> LateFee:
    ids = world.admin("GET", "/organisations/demo/ids").json()["invoices"]
    original = connector.get_invoice(ids["inv-1003"])
    return LateFee(
        original.customer_id,
        original.provider_id,
        original.number,
        Money(Decimal("25.00"), "USD"),
        NOW.date(),
        "LF-1003",
        account,
        Note("Late fee charged by arpilot; action 7", "arp-0123456789abcdef", NOW.date()),
    )


def books(world: XeroWorld) -> Organisation:
    org = world.sandbox.organisation("demo")
    assert org is not None
    return org


def fee_invoices(world: XeroWorld) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in books(world).invoices.values() if r["InvoiceNumber"] == "LF-1003"]


def test_a_fee_is_a_separate_invoice_on_the_account_code_written_once(xero_world: XeroWorld) -> None:  # noqa: F811
    connector = connector_of(xero_world)
    wanted = fee(xero_world, connector)
    written = connector.charge_late_fee(wanted, "key-charge-1")
    assert written.number == "LF-1003" and written.customer_id == wanted.customer_id
    assert written.total == Money(Decimal("25.00"), "USD") and written.status is InvoiceStatus.OPEN
    (record,) = fee_invoices(xero_world)
    assert record["Status"] == "AUTHORISED" and record["Reference"] == "Late fee on invoice 1003"
    assert record["LineItems"][0]["AccountCode"] == "260"
    history = books(xero_world).history[record["InvoiceID"]]
    assert any("[arpilot arp-0123456789abcdef]" in h["Details"] for h in history)
    # A retry with the same Idempotency-Key (a crash before the ledger heard back) writes nothing new.
    assert connector_of(xero_world).charge_late_fee(wanted, "key-charge-1").provider_id == written.provider_id
    assert len(fee_invoices(xero_world)) == 1
    assert connector.find_late_fee("LF-1003") is not None and connector.find_late_fee("LF-9999") is None
    report = check(xero_world.exchanges)  # every request and response as Xero's published spec has them
    assert not report.failures, report.failures
    assert report.validated["PUT /api.xro/2.0/Invoices 200"] == 2


@pytest.mark.parametrize(
    ("account", "words"), [("999", "Account code '999' is not a valid code"), ("", "no Xero account code")]
)
def test_a_bad_account_code_is_a_validation_error(xero_world: XeroWorld, account: str, words: str) -> None:  # noqa: F811
    connector = connector_of(xero_world)
    with pytest.raises(ProviderValidationError, match=words):
        connector.charge_late_fee(fee(xero_world, connector, account), "key-charge-2")
    assert fee_invoices(xero_world) == []


def test_reversing_voids_the_fee_and_notes_why(xero_world: XeroWorld) -> None:  # noqa: F811
    connector = connector_of(xero_world)
    written = connector.charge_late_fee(fee(xero_world, connector), "key-charge-3")
    note = Note("Reversed by the owner: goodwill", "arp-reversal000001", NOW.date() + dt.timedelta(days=1))
    connector.reverse_late_fee(written.provider_id, note, "key-reverse-3")
    assert connector.get_invoice(written.provider_id).status is InvoiceStatus.VOIDED
    connector.reverse_late_fee(written.provider_id, note, "key-reverse-3b")  # again: nothing more
    history = books(xero_world).history[written.provider_id]
    assert sum("goodwill" in h["Details"] for h in history) == 1
    report = check(xero_world.exchanges)
    voids = [k for k in report.validated if k.startswith("POST /api.xro/2.0/Invoices/") and k.endswith(" 200")]
    assert not report.failures and len(voids) == 1, report
