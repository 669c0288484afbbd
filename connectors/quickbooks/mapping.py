"""QuickBooks JSON (plain dicts, amounts already Decimal) to the normalized records. Pure functions.

The client parses responses with `use_decimal=True`, so amounts arrive as `Decimal` (or `int`)
straight from the JSON text and never pass through float; a float here is refused as a bug.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from connectors.addresses import split_addresses
from connectors.contract import (
    SUPPORTED_CURRENCIES,
    Contact,
    Credit,
    CreditKind,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentApplication,
    PaymentTerms,
    PostalAddress,
    ProviderValidationError,
    Record,
    TermsKind,
    UnreadableRecord,
    UnsupportedCurrency,
)
from connectors.postal import postal_address
from connectors.regions import company_zone

Json = Mapping[str, Any]

_XS_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")


class MalformedRecord(ProviderValidationError, UnreadableRecord):
    """A QuickBooks record this module cannot map; the message names the entity, id and field."""

    def __init__(self, message: str, record_id: str | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id


def _ref(raw: Json, key: str) -> str | None:
    ref = raw.get(key)
    return str(ref["value"]) if isinstance(ref, Mapping) and ref.get("value") not in (None, "") else None


def _text(raw: Json, *path: str) -> str | None:
    value: Any = raw
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return str(value) if value not in (None, "") else None


def _record_id(raw: object) -> str:
    value = raw.get("Id") if isinstance(raw, Mapping) else None
    return str(value)[:64] if isinstance(value, str | int) and not isinstance(value, bool) else "?"


M = TypeVar("M", bound=Record)


def _mapper(entity: str) -> Callable[[Callable[..., M]], Callable[..., M]]:
    """Only MalformedRecord leaves a mapper: a shape the field checks did not foresee (a list where
    an object belongs, a missing key deep inside) is reported the same way, naming the record."""

    def wrap(read: Callable[..., M]) -> Callable[..., M]:
        @functools.wraps(read)
        def mapped(raw: Json, *home_currency: str) -> M:
            record_id = _record_id(raw)
            if not isinstance(raw, Mapping):
                raise MalformedRecord(f"QuickBooks {entity}: is not a JSON object but {type(raw).__name__}")
            try:
                return read(raw, *home_currency)
            except MalformedRecord:
                raise
            except (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                raise MalformedRecord(
                    f"QuickBooks {entity} {record_id}: unexpected shape ({type(exc).__name__}: {str(exc)[:200]})",
                    record_id,
                ) from None

        return mapped

    return wrap


class _Reader:
    """Field access that names the record and field when QuickBooks sends something unexpected."""

    def __init__(self, entity: str, raw: Json) -> None:
        self.entity = entity
        self.raw = raw
        self.id = str(raw.get("Id", "?"))

    def fail(self, field: str, problem: str) -> MalformedRecord:
        return MalformedRecord(f"QuickBooks {self.entity} {self.id}: {field} {problem}", self.id)

    def required(self, field: str) -> Any:
        value = self.raw.get(field)
        if value in (None, ""):
            raise self.fail(field, "is missing")
        return value

    def date(self, field: str, *, optional: bool = False) -> dt.date | None:
        value = self.raw.get(field)
        if value in (None, ""):
            if optional:
                return None
            raise self.fail(field, "is missing")
        # xs:date (Finance.xsd) may carry a time zone; it says where the day is, not which day.
        written = _XS_DATE.fullmatch(str(value))
        try:
            return dt.date.fromisoformat(written.group(1) if written else "")
        except ValueError:
            raise self.fail(field, f"is not a date: {value!r}") from None

    def money(self, field: str, currency: str, value: Any = None) -> Money:
        value = self.raw.get(field, 0) if value is None else value
        if isinstance(value, float):
            raise self.fail(field, "was parsed as a float (the client must parse with use_decimal)")
        try:
            return Money.parse(value if isinstance(value, (int, Decimal)) else str(value), currency)
        except UnsupportedCurrency as exc:
            raise self.fail("CurrencyRef", str(exc)) from None
        except (ArithmeticError, ValueError):
            raise self.fail(field, f"is not an amount: {value!r}") from None

    def amount(self, field: str, currency: str) -> Money:
        """An amount that decides something (owed, received, credit left): Finance.xsd makes each
        optional, but read as 0 a missing one would close an invoice or drop a payment silently."""
        return self.money(field, currency, self.required(field))

    def updated_at(self) -> dt.datetime:
        return parse_instant(_text(self.raw, "MetaData", "LastUpdatedTime"), self.fail)


def parse_instant(text: str | None, fail: Callable[[str, str], Exception] | None = None) -> dt.datetime:
    """A QuickBooks timestamp (with its offset) as a UTC instant."""
    try:
        if not text:
            raise ValueError("missing")
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise ValueError("no offset")
    except ValueError as exc:
        if fail is None:
            raise
        raise fail("MetaData.LastUpdatedTime", f"is not a timestamp with offset: {text!r} ({exc})") from None
    return value.astimezone(dt.UTC)


def _addresses(raw: Json, field: str) -> str | None:
    """An email field as its list of addresses, `a@x, b@y` (QuickBooks allows a comma-separated list)."""
    return ", ".join(split_addresses(_text(raw, field, "Address"))) or None


def is_deleted(raw: Json) -> bool:
    """ChangeDataCapture returns deleted entities as little more than Id and status."""
    return raw.get("status") == "Deleted"


def invoice_status(raw: Json, balance: Money) -> InvoiceStatus:
    status = raw.get("status")
    if status == "Deleted":
        return InvoiceStatus.DELETED
    # A voided QBO invoice keeps its lines but its amounts go to zero and PrivateNote starts "Voided".
    voided_note = str(raw.get("PrivateNote") or "").startswith("Voided") and Decimal(raw.get("TotalAmt") or 0) == 0
    if status == "Voided" or voided_note:
        return InvoiceStatus.VOIDED
    if status == "Draft":
        return InvoiceStatus.DRAFT
    return InvoiceStatus.PAID if balance.is_zero() else InvoiceStatus.OPEN


@_mapper("Invoice")
def invoice(raw: Json, home_currency: str) -> Invoice:
    r = _Reader("Invoice", raw)
    currency = _ref(raw, "CurrencyRef") or home_currency
    customer_id = _ref(raw, "CustomerRef")
    if customer_id is None:
        raise r.fail("CustomerRef", "is missing")
    balance = r.amount("Balance", currency)
    issue_date = r.date("TxnDate")
    assert issue_date is not None
    return Invoice(
        provider_id=str(r.required("Id")),
        number=str(raw.get("DocNumber") or raw["Id"]),
        customer_id=customer_id,
        issue_date=issue_date,
        due_date=r.date("DueDate", optional=True),
        total=r.amount("TotalAmt", currency),
        balance=balance,
        status=invoice_status(raw, balance),
        updated_at=r.updated_at(),
        pay_link=_text(raw, "InvoiceLink"),
        email=_addresses(raw, "BillEmail"),
        sync_token=_text(raw, "SyncToken"),
    )


@_mapper("Customer")
def customer(raw: Json, home_currency: str) -> Customer:
    r = _Reader("Customer", raw)
    addresses = split_addresses(_text(raw, "PrimaryEmailAddr", "Address"))
    name = str(r.required("DisplayName"))
    # Job=true marks a job or sub-customer; its ParentRef is the customer above it (Level deep).
    parent_id = _ref(raw, "ParentRef")
    bill, ship = physical_address(raw.get("BillAddr")), physical_address(raw.get("ShipAddr"))
    return Customer(
        provider_id=str(r.required("Id")),
        name=name,
        email=", ".join(addresses) or None,
        # IntuitNamesTypes.xsd's numbers in the order to call them; the Fax is not one to call.
        phone=next(
            filter(None, (_text(raw, kind, "FreeFormNumber") for kind in ("PrimaryPhone", "Mobile", "AlternatePhone"))),
            None,
        ),
        # Only a default for new invoices (each carries its own): one arpilot cannot read falls back
        # to the company's, rather than costing the customer and every invoice it owes.
        currency=code if (code := _ref(raw, "CurrencyRef")) in SUPPORTED_CURRENCIES else home_currency,
        terms_id=_ref(raw, "SalesTermRef"),
        active=raw.get("Active", True) is not False,
        updated_at=r.updated_at(),
        contacts=tuple(Contact(email=address, name=name, role="billing") for address in addresses),
        notes=str(raw.get("Notes") or ""),
        parent_id=parent_id,
        # BillWithParent means nothing without a parent; a job is billed on its own unless it says so.
        bill_with_parent=parent_id is not None and raw.get("BillWithParent") is True,
        full_name=_text(raw, "FullyQualifiedName"),
        # Where the customer is (their time zone): either address's country and state will do.
        country=next((a.country for a in (bill, ship) if a and a.country), None),
        region=next((a.region for a in (bill, ship) if a and a.region), None),
        billing_address=bill or ship,
    )


def physical_address(value: object) -> PostalAddress | None:
    """A PhysicalAddress (IntuitBaseTypes.xsd): Line1..Line5, City, CountrySubDivisionCode,
    PostalCode, Country. Its Id, Lat and Long are not for post; anything but an object is no address."""
    if not isinstance(value, Mapping):
        return None
    return postal_address(
        (value.get(f"Line{n}") for n in range(1, 6)),
        city=value.get("City"),
        region=value.get("CountrySubDivisionCode"),
        postal_code=value.get("PostalCode"),
        country=value.get("Country"),
    )


def _first_address(raw: Json, *fields: str) -> PostalAddress | None:
    """The first of `fields` holding an address: a later one only when the earlier are absent or blank."""
    return next((address for field in fields if (address := physical_address(raw.get(field))) is not None), None)


@_mapper("Payment")
def payment(raw: Json, home_currency: str) -> Payment:
    r = _Reader("Payment", raw)
    currency = _ref(raw, "CurrencyRef") or home_currency
    applied: list[PaymentApplication] = []
    for line in raw.get("Line") or []:
        # Lines linking a CreditMemo use credit, not money: they are not an application to an invoice.
        invoices = [str(link["TxnId"]) for link in line.get("LinkedTxn") or [] if link.get("TxnType") == "Invoice"]
        if invoices:
            applied.extend(_split(r.money("Amount", currency, line.get("Amount", 0)), invoices))
    customer_id = _ref(raw, "CustomerRef")
    if customer_id is None:
        raise r.fail("CustomerRef", "is missing")
    paid_on = r.date("TxnDate")
    assert paid_on is not None
    unapplied = r.money("UnappliedAmt", currency)
    return Payment(
        provider_id=str(r.required("Id")),
        customer_id=customer_id,
        date=paid_on,
        amount=r.amount("TotalAmt", currency),
        applied_to=tuple(applied),
        updated_at=r.updated_at(),
        unapplied=unapplied if unapplied.amount > 0 else None,
    )


def _split(amount: Money, invoice_ids: list[str]) -> list[PaymentApplication]:
    return [
        PaymentApplication(i, Money(share, amount.currency))
        for i, share in zip(invoice_ids, split_line(amount.amount, len(invoice_ids)), strict=True)
    ]


def split_line(amount: Decimal, links: int) -> list[Decimal]:
    """One line linking several invoices pays every one of them. QuickBooks does not say how the
    line's amount divides, so it is shared in equal cents (the remainder on the first link): the
    shares still add up to the line, and each invoice gets its payment date."""
    if links == 1:
        return [amount]
    share, rest = divmod(int((amount * 100).to_integral_value()), links)
    return [Decimal(share + (rest if n == 0 else 0)) / 100 for n in range(links)]


@_mapper("CreditMemo")
def credit_memo(raw: Json, home_currency: str) -> Credit:
    r = _Reader("CreditMemo", raw)
    currency = _ref(raw, "CurrencyRef") or home_currency
    customer_id = _ref(raw, "CustomerRef")
    if customer_id is None:
        raise r.fail("CustomerRef", "is missing")
    issued = r.date("TxnDate")
    assert issued is not None
    # RemainingCredit is the credit still to apply; Balance carries the same figure on older minor versions.
    field = (
        "Balance"
        if raw.get("RemainingCredit") in (None, "") and raw.get("Balance") not in (None, "")
        else "RemainingCredit"
    )
    return Credit(
        provider_id=str(r.required("Id")),
        kind=CreditKind.CREDIT_MEMO,
        customer_id=customer_id,
        number=str(raw.get("DocNumber") or raw["Id"]),
        date=issued,
        total=r.amount("TotalAmt", currency),
        remaining=r.amount(field, currency),
        updated_at=r.updated_at(),
    )


@_mapper("Term")
def terms(raw: Json, home_currency: str = "USD") -> PaymentTerms:  # home_currency unused: one signature for all mappers
    r = _Reader("Term", raw)
    name = str(r.required("Name"))
    if raw.get("DueDays") not in (None, ""):
        return PaymentTerms(str(raw["Id"]), name, TermsKind.NET_DAYS, days=int(raw["DueDays"]))
    if raw.get("DayOfMonthDue") in (None, ""):
        raise r.fail("DueDays", "and DayOfMonthDue are both missing")
    return PaymentTerms(
        str(raw["Id"]),
        name,
        TermsKind.DAY_OF_MONTH,
        day_of_month=int(raw["DayOfMonthDue"]),
        next_month_if_within_days=int(raw.get("DueNextMonthDays") or 0),
    )


def company_name(raw: Json) -> str:
    """The name on CompanyInfo: CompanyName, else LegalName (Finance.xsd makes both optional)."""
    for field in ("CompanyName", "LegalName"):
        value = raw.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise _Reader("CompanyInfo", raw).fail("CompanyName", "and LegalName are both missing")


def company_address(raw: Json) -> PostalAddress | None:
    """CompanyInfo's CompanyAddr (the address the company shows), else LegalAddr."""
    return _first_address(raw, "CompanyAddr", "LegalAddr")


def company_timezone(raw: Json) -> str:
    """CompanyInfo keeps no time zone: the zone of the company's address (CompanyAddr, else
    LegalAddr, else the Country field alone), by connectors/regions.company_zone's rules. An
    address that names a state but no country, as US companies' often do, is in CompanyInfo's Country."""
    for field in ("CompanyAddr", "LegalAddr"):
        country, region = _text(raw, field, "Country"), _text(raw, field, "CountrySubDivisionCode")
        if country or region:
            return company_zone(country or _text(raw, "Country"), region)
    return company_zone(_text(raw, "Country"), None)


# normalized entity name -> (QuickBooks entity, mapper)
MAPPERS: dict[str, tuple[str, Callable[[Json, str], Record]]] = {
    "customer": ("Customer", customer),
    "invoice": ("Invoice", invoice),
    "payment": ("Payment", payment),
    "term": ("Term", terms),
    "credit_memo": ("CreditMemo", credit_memo),
}
