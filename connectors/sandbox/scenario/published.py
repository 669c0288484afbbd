"""Scenarios of the providers' published example payloads (tests/fixtures/real/, each file naming
its source), read through each connector's real mapping and converted by `from_records`, so the
backtest can be judged on books nobody at arpilot generated.

The examples are kept as they are; what a replay needs and they lack is added here, and said here:

Xero (`xero_examples`), the examples of Xero's Accounting API OpenAPI spec:
- the organisation is the spec's Organisation example (tests/specs/xero/xero_accounting.yaml,
  paths['/Organisation'] example: "Dev Evangelist - Sid Test 3 (NZ-2016-02)", BaseCurrency NZD,
  CountryCode NZ, Timezone NEWZEALANDSTANDARDTIME); its values are copied here, not parsed, since
  the spec is read only by the tests;
- the three invoices' contact (ContactID a3675fc4…, "Barney Rubble-83203") is not among the
  contacts example: it is built from the invoices' own Contact (id and name), with an added address
  at example.com, as without one neither arpilot nor the fixed schedules can remind anybody;
- the payments example's ARCREDITPAYMENT (2.00 refunded on credit note CN-0005 to another contact)
  is money paid back to a customer, not a receipt against an invoice: the mapping does not read it
  (`is_receivable_payment`) and it is a gap.

QuickBooks (`quickbooks_examples`), Intuit's documented responses:
- Intuit publishes no CompanyInfo sample here: the company is "Intuit sample company (published
  examples)", in USD (the home currency the payloads' amounts carry), its zone that of California,
  where every address of the examples is;
- the invoice's customer (1, "Amy's Bird Sanctuary") and the payment's (20, "Red Rock Diner") are
  built from the CustomerRef names, each with an added address at example.com; the job's parent
  (7, "Freeman Sporting Goods", the first part of the job's FullyQualifiedName) has no address, as
  the examples give none;
- the payment pays invoice 70 (LinkedTxn), which is not among the examples: it is built from the
  payment line's own words, number 1024 (txnReferenceNumber) and 71.00 open before the payment
  (txnOpenBalance, taken as its total), issued on the payment's date (the latest the examples allow)
  and due 30 days later (the 30 days of the invoice example, 2015-07-24 to 2015-08-23).

Each scenario's `as_of` is the day of its latest response (Xero DateTimeUTC, QuickBooks `time`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from connectors.contract import Contact, Customer, Invoice, InvoiceStatus, Money, UnreadableRecord
from connectors.quickbooks import mapping as quickbooks
from connectors.quickbooks.mapping import parse_instant
from connectors.regions import company_zone
from connectors.sandbox.scenario.from_records import Converted, Gap, Records, scenario_from_records
from connectors.sandbox.scenario.model import ScenarioCompany, ScenarioError
from connectors.xero import mapping as xero
from connectors.xero.timezones import iana_zone

# The examples live with the tests that check them; a checkout has them, an installed wheel does not.
EXAMPLES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "real"
PROVIDERS = ("xero", "quickbooks")

XERO_ORGANISATION = ScenarioCompany(
    name="Dev Evangelist - Sid Test 3 (NZ-2016-02)",
    timezone=iana_zone("NEWZEALANDSTANDARDTIME"),
    currency="NZD",
    locale="en_NZ",
    country="NZ",
)
QUICKBOOKS_COMPANY = ScenarioCompany(
    name="Intuit sample company (published examples)",
    timezone=company_zone("US", "CA"),
    currency="USD",
    region="CA",
)
# 2015-07-24 to 2015-08-23 in Intuit's invoice example.
QUICKBOOKS_EXAMPLE_TERMS = dt.timedelta(days=30)

R = TypeVar("R")


def published_scenario(provider: str, examples: Path = EXAMPLES) -> Converted:
    """The scenario of one provider's published examples ("xero" or "quickbooks")."""
    if provider not in PROVIDERS:
        raise ScenarioError(f"no published examples for {provider!r}: choose {' or '.join(PROVIDERS)}")
    if not (examples / provider).is_dir():
        raise ScenarioError(
            f"the published examples are not at {examples / provider}: they come with a checkout of the repository"
        )
    return xero_examples(examples / "xero") if provider == "xero" else quickbooks_examples(examples / "quickbooks")


def xero_examples(folder: Path) -> Converted:
    invoices_body, payments_body = _body(folder / "invoices.json"), _body(folder / "payments.json")
    currency = XERO_ORGANISATION.currency
    gaps: list[Gap] = []
    customers = _mapped(
        gaps, _body(folder / "contacts.json")["Contacts"], lambda r: xero.customer_from_xero(r, currency)
    )
    invoices = _mapped(gaps, invoices_body["Invoices"], xero.invoice_from_xero)
    receipts = [r for r in payments_body["Payments"] if xero.is_receivable_payment(r)]
    gaps += [
        Gap("payment", r.get("PaymentID"), _not_a_receipt(r)) for r in payments_body["Payments"] if r not in receipts
    ]
    payments = _mapped(gaps, receipts, xero.payment_from_xero)
    for raw in invoices_body["Invoices"]:
        contact = raw["Contact"]
        if contact["ContactID"] not in {c.provider_id for c in customers}:
            updated = xero.parse_ms_instant(raw["UpdatedDateUTC"])
            customers.append(_added(contact["ContactID"], contact["Name"], currency, updated))
    as_of = max(xero.parse_ms_instant(body["DateTimeUTC"]) for body in (invoices_body, payments_body))
    return _convert(XERO_ORGANISATION, as_of, Records(customers, invoices, payments), gaps)


def _not_a_receipt(raw: Mapping[str, Any]) -> str:
    invoice = raw.get("Invoice") or {}
    paid_on = f"{invoice.get('Type')} {invoice.get('InvoiceNumber')}"
    return (
        f"PaymentType {raw.get('PaymentType')}, {raw.get('Amount')} on {paid_on}: "
        "money paid back to a customer, not a receipt against an invoice"
    )


def quickbooks_examples(folder: Path) -> Converted:
    currency = QUICKBOOKS_COMPANY.currency
    gaps: list[Gap] = []
    bodies = {name: _body(folder / f"{name}.json") for name in ("customer", "customer_job", "invoice", "payment")}
    raw_invoice, raw_payment = bodies["invoice"]["Invoice"], bodies["payment"]["Payment"]
    customers = _mapped(
        gaps,
        [bodies["customer"]["Customer"], bodies["customer_job"]["Customer"]],
        lambda r: quickbooks.customer(r, currency),
    )
    invoices = _mapped(gaps, [raw_invoice], lambda r: quickbooks.invoice(r, currency))
    payments = _mapped(gaps, [raw_payment], lambda r: quickbooks.payment(r, currency))
    invoices.append(_paid_invoice(raw_payment, currency))
    updated = parse_instant(raw_payment["MetaData"]["LastUpdatedTime"])
    for ref in (raw_invoice["CustomerRef"], raw_payment["CustomerRef"]):
        customers.append(_added(ref["value"], ref["name"], currency, updated))
    for job in [c for c in customers if c.parent_id is not None and c.full_name]:
        assert job.parent_id is not None and job.full_name is not None
        parent = _added(job.parent_id, job.full_name.split(":")[0], currency, updated)
        customers.append(dataclasses.replace(parent, email=None, contacts=()))
    as_of = max(parse_instant(body["time"]) for body in bodies.values() if "time" in body)
    return _convert(QUICKBOOKS_COMPANY, as_of, Records(customers, invoices, payments), gaps)


def _paid_invoice(raw_payment: Mapping[str, Any], currency: str) -> Invoice:
    """The invoice the payment example pays, from what its line says of it (see the module's docstring)."""
    line = raw_payment["Line"][0]
    words = {item["value"]["Name"]: item["value"]["Value"] for item in line["LineEx"]["any"]}
    paid_on = dt.date.fromisoformat(raw_payment["TxnDate"])
    total = Money(Decimal(words["txnOpenBalance"]), currency)
    return Invoice(
        provider_id=words["txnId"],
        number=words["txnReferenceNumber"],
        customer_id=raw_payment["CustomerRef"]["value"],
        issue_date=paid_on,
        due_date=paid_on + QUICKBOOKS_EXAMPLE_TERMS,
        total=total,
        balance=total - Money(Decimal(line["Amount"]), currency),
        status=InvoiceStatus.OPEN,
        updated_at=parse_instant(raw_payment["MetaData"]["LastUpdatedTime"]),
    )


def _body(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)["body"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ScenarioError(f"{path}: not a published example ({type(exc).__name__}: {exc})") from None


def _mapped(gaps: list[Gap], raws: Iterable[Any], read: Callable[[Any], R]) -> list[R]:
    """Each raw record through the real mapping; one it cannot read is a gap, as a sync rejects it."""
    found = []
    for raw in raws:
        try:
            found.append(read(raw))
        except UnreadableRecord as exc:
            gaps.append(Gap("record", getattr(exc, "record_id", None), str(exc)))
    return found


def _added(provider_id: str, name: str, currency: str, updated_at: dt.datetime) -> Customer:
    """A customer the examples name but do not describe, with an address at example.com."""
    address = ".".join("".join(ch for ch in word if ch.isalnum()) for word in name.lower().split()) + "@example.com"
    return Customer(
        provider_id, name, address, None, currency, None, True, updated_at, contacts=(Contact(address, name),)
    )


def _convert(company: ScenarioCompany, read_at: dt.datetime, records: Records, gaps: list[Gap]) -> Converted:
    as_of = read_at.astimezone(ZoneInfo(company.timezone)).date()
    converted = scenario_from_records(company, as_of, records)
    return Converted(converted.scenario, (*gaps, *converted.gaps))
