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
  (`is_receivable_payment`) and it is rejected.

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

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.contract import Contact, Customer, Invoice, InvoiceStatus, Money, Record, Rejected, read_each
from connectors.quickbooks import mapping as quickbooks
from connectors.quickbooks.mapping import parse_instant
from connectors.regions import company_zone
from connectors.sandbox.scenario.from_records import Converted, Records, scenario_from_records
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
    bodies = {name: _body(folder / f"{name}.json") for name in ("contacts", "invoices", "payments")}
    currency = XERO_ORGANISATION.currency
    raw_payments = bodies["payments"]["Payments"]
    receipts = [r for r in raw_payments if xero.is_receivable_payment(r)]
    mapped = _Mapped()
    mapped.read("contact", bodies["contacts"]["Contacts"], lambda r: xero.customer_from_xero(r, currency))
    mapped.read("invoice", bodies["invoices"]["Invoices"], xero.invoice_from_xero)
    mapped.rejected += [
        Rejected("payment", r.get("PaymentID"), _not_a_receipt(r)) for r in raw_payments if r not in receipts
    ]
    mapped.read("payment", receipts, xero.payment_from_xero)
    for raw in bodies["invoices"]["Invoices"]:
        updated = xero.parse_ms_instant(raw["UpdatedDateUTC"])
        mapped.name_once(_named(raw["Contact"]["ContactID"], raw["Contact"]["Name"], currency, updated))
    as_of = max(xero.parse_ms_instant(body["DateTimeUTC"]) for body in bodies.values())
    return mapped.convert(XERO_ORGANISATION, as_of)


def _not_a_receipt(raw: Mapping[str, Any]) -> str:
    invoice = raw.get("Invoice") or {}
    paid_on = f"{invoice.get('Type')} {invoice.get('InvoiceNumber')}"
    return (
        f"PaymentType {raw.get('PaymentType')}, {raw.get('Amount')} on {paid_on}: "
        "money paid back to a customer, not a receipt against an invoice"
    )


def quickbooks_examples(folder: Path) -> Converted:
    currency = QUICKBOOKS_COMPANY.currency
    bodies = {name: _body(folder / f"{name}.json") for name in ("customer", "customer_job", "invoice", "payment")}
    raw_invoice, raw_payment = bodies["invoice"]["Invoice"], bodies["payment"]["Payment"]
    mapped = _Mapped()
    raw_customers = [bodies["customer"]["Customer"], bodies["customer_job"]["Customer"]]
    mapped.read("customer", raw_customers, lambda r: quickbooks.customer(r, currency))
    mapped.read("invoice", [raw_invoice], lambda r: quickbooks.invoice(r, currency))
    mapped.read("payment", [raw_payment], lambda r: quickbooks.payment(r, currency))
    mapped.records.append(_paid_invoice(raw_payment, currency))
    updated = parse_instant(raw_payment["MetaData"]["LastUpdatedTime"])
    for ref in (raw_invoice["CustomerRef"], raw_payment["CustomerRef"]):
        mapped.name_once(_named(ref["value"], ref["name"], currency, updated))
    for job in [r for r in mapped.records if isinstance(r, Customer) and r.parent_id and r.full_name]:
        parent_name = (job.full_name or "").split(":")[0]
        mapped.name_once(_named(job.parent_id or "", parent_name, currency, updated, reachable=False))
    as_of = max(parse_instant(body["time"]) for body in bodies.values() if "time" in body)
    return mapped.convert(QUICKBOOKS_COMPANY, as_of)


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


@dataclass
class _Mapped:
    """The examples' records as the mappings read them, and what they could not read."""

    records: list[Record] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def read(self, entity: str, raws: Iterable[Any], read: Callable[[Any], Record]) -> None:
        """Each raw record through the real mapping; one it cannot read is rejected, as a sync does."""
        records, rejected = read_each(entity, raws, lambda raw: [read(raw)])
        self.records += records
        self.rejected += rejected

    def name_once(self, named: Customer) -> None:
        if named.provider_id not in {r.provider_id for r in self.records if isinstance(r, Customer)}:
            self.records.append(named)

    def convert(self, company: ScenarioCompany, read_at: dt.datetime) -> Converted:
        as_of = read_at.astimezone(ZoneInfo(company.timezone)).date()
        converted = scenario_from_records(company, as_of, Records.of(self.records))
        return Converted(converted.scenario, (*self.rejected, *converted.rejected))


def _named(provider_id: str, name: str, currency: str, updated_at: dt.datetime, *, reachable: bool = True) -> Customer:
    """A customer the examples name but do not describe; a reachable one gets an address at example.com."""
    words = ("".join(ch for ch in word if ch.isalnum()) for word in name.lower().split())
    address = ".".join(words) + "@example.com" if reachable else None
    contacts = (Contact(address, name),) if address else ()
    return Customer(provider_id, name, address, None, currency, None, True, updated_at, contacts=contacts)
