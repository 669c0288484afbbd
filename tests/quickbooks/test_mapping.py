"""Mapping QuickBooks JSON to normalized records; query text; notes within QuickBooks' limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import responses

from connectors.contract import InvoiceStatus, Money, TermsKind
from connectors.quickbooks import mapping, notes, queries
from connectors.quickbooks.mapping import MalformedRecord
from tests.quickbooks.helpers import COMPANY, customer_json, invoice_json, make_connector

EXACT_BODY = (
    '{"Invoice": {"Id": "7", "SyncToken": "3", "DocNumber": "1007", "TxnDate": "2026-09-01",'
    ' "DueDate": "2026-10-01", "CustomerRef": {"value": "58"}, "CurrencyRef": {"value": "EUR"},'
    ' "TotalAmt": 98765432109.87, "Balance": 0.10000000000000001,'
    ' "InvoiceLink": "https://connect.intuit.com/portal/app/CommerceNetwork/view/scs-v1-abc",'
    ' "BillEmail": {"Address": "ap@acme.example"},'
    ' "MetaData": {"LastUpdatedTime": "2026-11-20T10:15:00.5-08:00"}}, "time": "2026-11-23T08:00:00-08:00"}'
)


@responses.activate
def test_amounts_are_exact_decimals_from_the_json_text() -> None:
    responses.get(f"{COMPANY}/invoice/7", body=EXACT_BODY, content_type="application/json")
    invoice = make_connector().get_invoice("7")
    assert invoice.total == Money(Decimal("98765432109.87"), "EUR")
    assert invoice.balance.amount == Decimal("0.10000000000000001")  # float would give 0.1
    assert invoice.due_date == dt.date(2026, 10, 1) and invoice.issue_date == dt.date(2026, 9, 1)
    assert invoice.updated_at == dt.datetime(2026, 11, 20, 18, 15, 0, 500000, tzinfo=dt.UTC)
    assert invoice.pay_link.endswith("scs-v1-abc") and invoice.email == "ap@acme.example"
    assert invoice.sync_token == "3" and invoice.status is InvoiceStatus.OPEN
    assert (
        "include=invoiceLink" in responses.calls[0].request.url and "minorversion=75" in responses.calls[0].request.url
    )


def test_a_float_amount_is_refused_as_a_bug() -> None:
    with pytest.raises(MalformedRecord, match="float"):
        mapping.invoice(invoice_json(), "USD")


def _inv(**fields: object) -> dict:
    return invoice_json(**{"TotalAmt": Decimal("450.00"), "Balance": Decimal("450.00"), **fields})


def test_missing_currency_is_the_home_currency_and_missing_due_date_is_none() -> None:
    raw = _inv()
    del raw["CurrencyRef"], raw["DueDate"]
    invoice = mapping.invoice(raw, "CAD")
    assert invoice.total.currency == "CAD" and invoice.due_date is None and invoice.email is None


def test_paid_voided_and_deleted_invoices() -> None:
    assert mapping.invoice(_inv(Balance=0), "USD").status is InvoiceStatus.PAID
    voided = invoice_json(TotalAmt=0, Balance=0, PrivateNote="Voided")
    assert mapping.invoice(voided, "USD").status is InvoiceStatus.VOIDED
    assert mapping.invoice(_inv(status="Voided"), "USD").status is InvoiceStatus.VOIDED
    assert mapping.is_deleted({"Id": "9", "status": "Deleted"})


def test_bad_fields_name_the_record_and_field() -> None:
    with pytest.raises(MalformedRecord, match="Invoice 130: DueDate is not a date"):
        mapping.invoice(_inv(DueDate="10/01/2026"), "USD")
    with pytest.raises(MalformedRecord, match="Invoice 130: CurrencyRef unsupported currency code 'XYZ'"):
        mapping.invoice(_inv(CurrencyRef={"value": "XYZ"}), "USD")
    with pytest.raises(MalformedRecord, match="LastUpdatedTime"):
        mapping.invoice(_inv(MetaData={"LastUpdatedTime": "2026-11-20T10:15:00"}), "USD")


def test_customer_without_email_or_terms() -> None:
    raw = customer_json(Notes="Gate code 1234")
    del raw["PrimaryEmailAddr"], raw["SalesTermRef"], raw["CurrencyRef"]
    customer = mapping.customer(raw, "USD")
    assert customer.email is None and customer.contacts == () and customer.terms_id is None
    assert customer.currency == "USD" and customer.notes == "Gate code 1234" and customer.active


def test_payment_applications_are_exact() -> None:
    raw = {
        "Id": "301",
        "TxnDate": "2026-11-02",
        "TotalAmt": Decimal("0.30"),
        "CustomerRef": {"value": "58"},
        "Line": [
            {"Amount": Decimal("0.10"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
            {"Amount": Decimal("0.20"), "LinkedTxn": [{"TxnId": "131", "TxnType": "Invoice"}]},
            {"Amount": 5, "LinkedTxn": [{"TxnId": "9", "TxnType": "CreditMemo"}]},
        ],
        "MetaData": {"LastUpdatedTime": "2026-11-02T12:00:00Z"},
    }
    payment = mapping.payment(raw, "USD")
    assert [a.invoice_id for a in payment.applied_to] == ["130", "131"]
    assert sum((a.amount.amount for a in payment.applied_to), Decimal(0)) == payment.amount.amount == Decimal("0.30")


def test_terms_standard_and_date_driven() -> None:
    net = mapping.terms({"Id": "3", "Name": "Net 30", "DueDays": 30})
    assert net.kind is TermsKind.NET_DAYS and net.days == 30
    mid = mapping.terms({"Id": "9", "Name": "Due on the 15th", "DayOfMonthDue": 15, "DueNextMonthDays": 5})
    assert mid.kind is TermsKind.DAY_OF_MONTH and mid.day_of_month == 15 and mid.next_month_if_within_days == 5
    with pytest.raises(MalformedRecord, match="Term 4"):
        mapping.terms({"Id": "4", "Name": "Odd"})


# --- query text ------------------------------------------------------------------------------


def test_literal_escapes_backslash_then_quote() -> None:
    assert queries.literal("O'Brien\\Sons") == "'O\\'Brien\\\\Sons'"
    assert queries.by_name("Customer", "DisplayName", "O'Brien\\Sons") == (
        "SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien\\\\Sons' STARTPOSITION 1 MAXRESULTS 10"
    )


def test_paged_query_text_is_pinned() -> None:
    assert queries.updated_since("Invoice", None, 1, 1000) == (
        "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000"
    )
    assert queries.updated_since("Payment", "2026-11-01T00:00:00-07:00", 1001, 1000) == (
        "SELECT * FROM Payment WHERE MetaData.LastUpdatedTime >= '2026-11-01T00:00:00-07:00'"
        " ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1001 MAXRESULTS 1000"
    )
    with pytest.raises(ValueError, match="MAXRESULTS"):
        queries.select("Invoice", max_results=1001)


# --- notes -----------------------------------------------------------------------------------

DAY = dt.date(2026, 11, 23)


def test_note_lines_are_dated_single_lines_carrying_the_action_id() -> None:
    line = notes.note_line(DAY, "a-17", "Reminder 1 sent\nto ap@acme.example")
    assert line == "[arpilot 2026-11-23 a-17] Reminder 1 sent to ap@acme.example"
    assert notes.has_note("owner text\n" + line, "a-17") and not notes.has_note(line, "a-1")
    with pytest.raises(ValueError):
        notes.note_line(DAY, "a 17", "x")


def test_private_note_trims_arpilot_lines_oldest_first_never_the_owners_text() -> None:
    owner = "Owner: call before delivering.\r\nGate code 4411"
    text = owner
    for n in range(200):
        text = notes.append_note(text, notes.note_line(DAY, f"a-{n}", "Reminder sent " + "x" * 20))
        assert len(text) <= notes.PRIVATE_NOTE_LIMIT
    assert text.startswith(owner + "\n")
    assert notes.has_note(text, "a-199") and not notes.has_note(text, "a-0")
    kept = [int(line.split()[2][2:-1]) for line in text.split("\n")[2:]]
    assert kept == list(range(kept[0], 200))  # a contiguous run of the newest


def test_private_note_shortens_the_new_line_when_the_owner_fills_the_field() -> None:
    owner = "o" * 3950
    text = notes.append_note(owner, notes.note_line(DAY, "a-1", "a long reminder text " * 5))
    assert len(text) == 4000 and text.startswith(owner) and text.endswith("…") and notes.has_note(text, "a-1")
    with pytest.raises(notes.NoteTooLong):
        notes.append_note("o" * 3995, notes.note_line(DAY, "a-2", "x"))


def test_hold_marker_round_trip_keeps_the_owners_notes() -> None:
    owner = "Prefers phone calls"
    held = notes.add_hold(owner, notes.Hold(DAY, "3", "a-9"), "61+ days overdue on 2 invoices")
    assert (
        held
        == owner + "\n[arpilot credit hold since 2026-11-23; previous terms: 3; a-9] 61+ days overdue on 2 invoices"
    )
    assert notes.find_hold(held) == notes.Hold(DAY, "3", "a-9")
    assert notes.remove_hold(held) == owner
    assert notes.find_hold(notes.replace_previous_terms(held, "12")).previous_terms_id == "12"
    no_terms = notes.add_hold(None, notes.Hold(DAY, None, "a-9"), "")
    assert notes.find_hold(no_terms).previous_terms_id is None
    with pytest.raises(notes.NoteTooLong):
        notes.add_hold("o" * 1990, notes.Hold(DAY, "3", "a-9"), "x")


def test_a_released_hold_leaves_a_dated_line_in_place_of_its_marker() -> None:
    owner = "Prefers calls\r\nCell 555-0100"
    held = notes.add_hold(owner, notes.Hold(DAY, "3", "a-9"), "61+ days overdue")
    later = DAY + dt.timedelta(days=20)
    released = notes.release_hold(held, later, "a-30", "paid everything overdue")
    assert released == (
        f"{owner}\n[arpilot credit hold released {later.isoformat()} (on hold since {DAY.isoformat()}); a-30]"
        " paid everything overdue"
    )
    assert notes.find_hold(released) is None  # a release line is no hold
    # On hold again and released again: the latest release is the line kept.
    again = notes.add_hold(released, notes.Hold(later, "3", "a-40"), "again")
    final = notes.release_hold(again, later + dt.timedelta(days=9), "a-50", "paid")
    assert final.count("released") == 1 and "a-50" in final and final.startswith(owner)
    # The owner's text leaves no room for a line: the hold still comes off.
    crowded = notes.add_hold("o" * 1930, notes.Hold(DAY, "3", "a-9"), "")
    assert notes.release_hold(crowded, later, "a-30", "paid") == "o" * 1930


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ({"Id": "1", "CompanyName": "  Harbor & Pine  ", "LegalName": "Harbor & Pine LLC"}, "Harbor & Pine"),
        ({"Id": "1", "CompanyName": "", "LegalName": "Harbor & Pine LLC"}, "Harbor & Pine LLC"),
    ],
)
def test_company_name_is_company_name_else_legal_name(raw: dict, name: str) -> None:
    assert mapping.company_name(raw) == name


def test_company_info_without_a_name_names_the_fields() -> None:
    with pytest.raises(MalformedRecord, match="CompanyInfo 1: CompanyName and LegalName are both missing"):
        mapping.company_name({"Id": "1", "CompanyName": " ", "Country": "US"})


@pytest.mark.parametrize("code", ["XOF", "KWD", "BHD", "JPY", "ISK", "VND", "CLP", "UAH"])
def test_every_iso_currency_quickbooks_allows_maps(code: str) -> None:
    # The old fixed list refused these; an invoice in any real ISO 4217 currency is owed money.
    invoice = mapping.invoice(_inv(CurrencyRef={"value": code}), "USD")
    assert invoice.total == Money(Decimal("450.00"), code) and invoice.balance.currency == code


def test_comma_separated_emails_are_every_address_of_the_customer() -> None:
    raw = customer_json(PrimaryEmailAddr={"Address": "ap@acme.example, Owner@Acme.example,,ap@acme.example ; x"})
    customer = mapping.customer(raw, "USD")
    assert customer.email == "ap@acme.example, Owner@Acme.example, x"
    assert [c.email for c in customer.contacts] == ["ap@acme.example", "Owner@Acme.example", "x"]
    assert {c.role for c in customer.contacts} == {"billing"}
    invoice = mapping.invoice(_inv(BillEmail={"Address": "ap@acme.example,owner@acme.example"}), "USD")
    assert invoice.email == "ap@acme.example, owner@acme.example"


def test_a_job_names_its_parent_and_whether_it_is_billed_with_it() -> None:
    job = mapping.customer(
        customer_json(
            Id="24",
            Job=True,
            ParentRef={"value": "23"},
            BillWithParent=True,
            Level=1,
            FullyQualifiedName="Freeman Sporting Goods:0969 Ocean View Road",
        ),
        "USD",
    )
    assert (job.parent_id, job.bill_with_parent, job.full_name) == (
        "23",
        True,
        "Freeman Sporting Goods:0969 Ocean View Road",
    )
    own = mapping.customer(customer_json(Id="25", Job=True, ParentRef={"value": "23"}, BillWithParent=False), "USD")
    assert (own.parent_id, own.bill_with_parent) == ("23", False)
    top = mapping.customer(customer_json(Job=False, BillWithParent=True), "USD")
    assert (top.parent_id, top.bill_with_parent) == (None, False)


@pytest.mark.parametrize("code", ["XYZ", "DOLLARS", None])
def test_a_customer_currency_arpilot_cannot_read_costs_only_that_field(code: str | None) -> None:
    customer = mapping.customer(customer_json(CurrencyRef={"value": code}), "CAD")
    assert customer.currency == "CAD" and customer.name == "Acme Plumbing"
    assert mapping.customer(customer_json(CurrencyRef={"value": "BHD"}), "CAD").currency == "BHD"


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ({"CompanyAddr": {"Country": "US", "CountrySubDivisionCode": "CO"}, "Country": "US"}, "America/Denver"),
        ({"CompanyAddr": {"Country": "CA", "CountrySubDivisionCode": "BC"}}, "America/Vancouver"),
        ({"LegalAddr": {"Country": "AU", "CountrySubDivisionCode": "QLD"}}, "Australia/Brisbane"),
        ({"CompanyAddr": {"Country": "GB"}}, "Europe/London"),
        ({"Country": "US"}, "America/New_York"),  # no address, no state: the documented default
        ({}, "UTC"),
    ],
)
def test_company_timezone_from_company_info_address(raw: dict, zone: str) -> None:
    assert mapping.company_timezone(raw) == zone


def test_customer_place_is_the_billing_address_else_shipping() -> None:
    billed = mapping.customer(customer_json(BillAddr={"Country": "USA", "CountrySubDivisionCode": "WA"}), "USD")
    assert (billed.country, billed.region) == ("USA", "WA")
    shipped = mapping.customer(customer_json(ShipAddr={"Country": "Canada", "CountrySubDivisionCode": "ON"}), "USD")
    assert (shipped.country, shipped.region) == ("Canada", "ON")
    assert (mapping.customer(customer_json(), "USD").country, mapping.customer(customer_json(), "USD").region) == (
        None,
        None,
    )
