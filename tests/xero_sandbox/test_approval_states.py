"""The Xero sandbox serves invoices awaiting approval, drafts and bills as the published contract
does, and its contact balances count only what Xero counts (#13), through the real xero-python."""

from __future__ import annotations

from decimal import Decimal

import pytest

import tests.xero_sandbox.conftest as xero_fixtures
from tests.cycle.test_company_shape import shaped_scenario
from tests.xero_sandbox.conftest import RunningXero


@pytest.fixture(autouse=True)
def _shaped_books(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xero_fixtures, "small_scenario", shaped_scenario)


def test_submitted_draft_and_bills_are_served_and_only_authorised_sales_are_receivable(xero: RunningXero) -> None:
    api = xero.accounting(xero.minted(tenants=["demo"]))
    tenant = xero.tenant()
    sales = {i.invoice_number: i for i in api.get_invoices(tenant, where='Type=="ACCREC"').invoices}
    assert sales["5006"].status == "SUBMITTED" and sales["5007"].status == "DRAFT"
    assert sales["5006"].amount_due == Decimal("400.00")  # Xero still shows what it will be due
    (bill,) = api.get_invoices(tenant, where='Type=="ACCPAY"').invoices
    assert bill.invoice_number == "5008" and bill.status == "AUTHORISED"

    pending = api.get_contact(tenant, sales["5006"].contact.contact_id).contacts[0]
    assert pending.balances.accounts_receivable.outstanding == 0  # SUBMITTED and DRAFT are not owed
    assert pending.balances.accounts_payable.outstanding == Decimal("400.00")  # the bill is what the business owes
    two = api.get_contact(tenant, sales["5003"].contact.contact_id).contacts[0]
    assert two.balances.accounts_receivable.outstanding == Decimal("800.00")
    assert two.email_address == "ap@twodesk.example"
    assert [(p.email_address, p.include_in_emails) for p in two.contact_persons] == [("owner@twodesk.example", True)]
