"""Xero Accounting JSON -> arpilot's normalized records. Pure functions, no I/O.

Input is the JSON exactly as Xero sends it, parsed with `json.loads(text, parse_float=Decimal)`, so
money never passes through float: an amount that arrives as a float is refused rather than guessed
at. Anything malformed raises `MappingError`, an `UnreadableRecord`, carrying the entity, the record id
when known and the field at fault; no other exception escapes these functions.

Xero writes dates as Microsoft JSON: `/Date(1546128000000+0000)/`. The number is milliseconds since
the Unix epoch in UTC; the optional offset only says which zone the writer was in, so it never moves
the instant. Calendar dates (Date, DueDate) are midnight UTC and become `datetime.date`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, overload

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
    TermsKind,
    UnreadableRecord,
    UnsupportedCurrency,
)
from connectors.postal import postal_address

CREDIT_HOLD_GROUP = "Credit hold"

_MS_DATE = re.compile(r"/Date\((-?\d{1,15})([+-]\d{2}(?::?\d{2})?)?\)/")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Xero invoice status -> normalized status. Only AUTHORISED is owed: SUBMITTED is awaiting the
# owner's approval and, like DRAFT, is not in Xero's own receivables (Balances.AccountsReceivable),
# so arpilot never chases it.
_INVOICE_STATUS = {
    "AUTHORISED": InvoiceStatus.OPEN,
    "SUBMITTED": InvoiceStatus.DRAFT,
    "PAID": InvoiceStatus.PAID,
    "VOIDED": InvoiceStatus.VOIDED,
    "DELETED": InvoiceStatus.DELETED,
    "DRAFT": InvoiceStatus.DRAFT,
}

# Contact.PaymentTerms.Sales.Type -> how arpilot reads it. DAY_OF_MONTH's `next_month_if_within_days`
# follows QuickBooks' DueNextMonthDays: 31 means "always the following month", 0 "this month".
# DAYSAFTERBILLMONTH n (n days after the end of the invoice month) is day n of the next month for
# every n up to 28, which is how Xero's own UI presents it.
_TERMS = {
    "DAYSAFTERBILLDATE": (TermsKind.NET_DAYS, None, "Net {day}"),
    "DAYSAFTERBILLMONTH": (TermsKind.DAY_OF_MONTH, 31, "{day} days after the end of the invoice month"),
    "OFFOLLOWINGMONTH": (TermsKind.DAY_OF_MONTH, 31, "Day {day} of the following month"),
    "OFCURRENTMONTH": (TermsKind.DAY_OF_MONTH, 0, "Day {day} of the invoice month"),
}


class MappingError(UnreadableRecord):
    """Xero sent a record arpilot cannot read; the message names the record and the field."""

    def __init__(self, entity: str, record_id: str | None, field: str, problem: str) -> None:
        where = f"{entity} {record_id}" if record_id else entity
        super().__init__(f"Xero {where}: {field} {problem}")
        self.entity = entity
        self.record_id = record_id
        self.field = field


class _Reader:
    """Typed field access over one raw record, raising MappingError with its context."""

    def __init__(self, raw: object, entity: str, id_field: str = "", parent: _Reader | None = None) -> None:
        """`parent`: the record this one is nested in, whose id errors should name."""
        record_id: str | None = parent.record_id if parent else None
        if not isinstance(raw, Mapping):
            raise MappingError(entity, record_id, "record", f"must be a JSON object, got {type(raw).__name__}")
        self.raw = raw
        self.entity = entity
        if parent is None and isinstance(raw.get(id_field), str) and raw[id_field]:
            record_id = raw[id_field]
        self.record_id: str | None = record_id

    def fail(self, field: str, problem: str) -> MappingError:
        return MappingError(self.entity, self.record_id, field, problem)

    def optional(self, field: str, kind: type | tuple[type, ...]) -> Any:
        value = self.raw.get(field)
        if value is None:
            return None
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(field, f"must not be a boolean, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(field, f"has the wrong type {type(value).__name__}")
        return value

    def required(self, field: str, kind: type | tuple[type, ...]) -> Any:
        value = self.optional(field, kind)
        if value is None or value == "":
            raise self.fail(field, "is missing")
        return value

    def text(self, field: str) -> str | None:
        value = self.optional(field, str)
        return (value.strip() or None) if value is not None else None

    def nested(self, field: str) -> Mapping[str, Any] | None:
        value: Mapping[str, Any] | None = self.optional(field, Mapping)
        return value

    def items(self, field: str) -> Sequence[Any]:
        return self.optional(field, list) or ()

    def amount(self, field: str, currency: str) -> Money:
        value = self.required(field, (Decimal, int))
        if isinstance(value, Decimal) and not value.is_finite():
            raise self.fail(field, f"is not a finite amount: {value}")
        return Money(Decimal(value), currency)

    def currency(self, field: str, fallback: str | None = None) -> str:
        code = self.text(field) or fallback
        if code is None:
            raise self.fail(field, "is missing")
        try:
            Money.zero(code)
        except UnsupportedCurrency:
            raise self.fail(field, f"is a currency arpilot does not handle: {code!r}") from None
        return code

    def instant(self, field: str) -> dt.datetime:
        return self._ms(field, self.required(field, str))

    @overload
    def date(self, field: str, *, required: Literal[True] = True) -> dt.date: ...
    @overload
    def date(self, field: str, *, required: bool) -> dt.date | None: ...
    def date(self, field: str, *, required: bool = True) -> dt.date | None:
        text = self.required(field, str) if required else self.optional(field, str)
        return None if text is None else self._ms(field, text).date()

    def _ms(self, field: str, text: str) -> dt.datetime:
        try:
            return parse_ms_instant(text)
        except ValueError as exc:
            raise self.fail(field, str(exc)) from None


def parse_ms_instant(text: str) -> dt.datetime:
    """`/Date(ms[+hhmm])/` -> the UTC instant, exact to the millisecond (no float on the way)."""
    match = _MS_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"is not a Xero /Date(...)/ value: {text!r}")
    try:
        return _EPOCH + dt.timedelta(milliseconds=int(match.group(1)))
    except OverflowError:
        raise ValueError(f"is out of range: {text!r}") from None


def parse_ms_date(text: str) -> dt.date:
    """`/Date(ms+0000)/` for a calendar date (midnight UTC) -> that date."""
    return parse_ms_instant(text).date()


def format_ms_instant(instant: dt.datetime) -> str:
    """The inverse of parse_ms_instant, for canned responses and the sandbox."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    delta = instant.astimezone(dt.UTC) - _EPOCH
    return f"/Date({delta // dt.timedelta(milliseconds=1)}+0000)/"


def format_ms_date(day: dt.date) -> str:
    return format_ms_instant(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))


def is_sales_invoice(raw: object) -> bool:
    """ACCREC only: bills (ACCPAY) and credit notes are not receivables arpilot chases."""
    return isinstance(raw, Mapping) and raw.get("Type") == "ACCREC"


def is_receivable_payment(raw: object) -> bool:
    """Payments against sales invoices; Xero's Payments endpoint also lists bill payments."""
    if not isinstance(raw, Mapping):
        return False
    kind = raw.get("PaymentType")
    invoice = raw.get("Invoice")
    invoice_type = invoice.get("Type") if isinstance(invoice, Mapping) else None
    return kind == "ACCRECPAYMENT" or (kind is None and invoice_type == "ACCREC")


def invoice_from_xero(raw: object) -> Invoice:
    r = _Reader(raw, "invoice", "InvoiceID")
    invoice_id = r.required("InvoiceID", str)
    if r.raw.get("Type") != "ACCREC":
        raise r.fail("Type", f"must be ACCREC (a sales invoice), got {r.raw.get('Type')!r}")
    status_text = r.required("Status", str)
    if status_text not in _INVOICE_STATUS:
        raise r.fail("Status", f"is not a Xero invoice status: {status_text!r}")
    status = _INVOICE_STATUS[status_text]
    contact = _Reader(r.required("Contact", Mapping), "invoice contact", parent=r)
    currency = r.currency("CurrencyCode")
    total = r.amount("Total", currency)
    # Nothing is owed on an invoice that is not approved, voided or deleted, whatever AmountDue says.
    due = r.amount("AmountDue", currency)
    balance = due if status in (InvoiceStatus.OPEN, InvoiceStatus.PAID) else Money.zero(currency)
    return Invoice(
        provider_id=invoice_id,
        number=r.text("InvoiceNumber") or "",
        customer_id=contact.required("ContactID", str),
        issue_date=r.date("Date"),
        due_date=r.date("DueDate", required=False),
        total=total,
        balance=balance,
        status=status,
        updated_at=r.instant("UpdatedDateUTC"),
    )


def payment_terms_from_xero(raw_contact: object) -> PaymentTerms | None:
    """The contact's sales terms (Contact.PaymentTerms.Sales), or None when it has none."""
    r = _Reader(raw_contact, "contact", "ContactID")
    terms = r.nested("PaymentTerms")
    sales = _Reader(terms, "contact payment terms", parent=r).nested("Sales") if terms is not None else None
    if sales is None:
        return None
    s = _Reader(sales, "contact payment terms", parent=r)
    day = s.required("Day", int)
    kind_text = s.required("Type", str)
    if not 0 <= day <= 31:
        raise s.fail("Day", f"must be between 0 and 31, got {day}")
    if kind_text not in _TERMS:
        raise s.fail("Type", f"is not a Xero payment term type: {kind_text!r}")
    kind, within, name = _TERMS[kind_text]
    return PaymentTerms(
        provider_id=terms_id(kind_text, day),
        name=name.format(day=day),
        kind=kind,
        days=day if kind is TermsKind.NET_DAYS else None,
        day_of_month=day if kind is TermsKind.DAY_OF_MONTH else None,
        next_month_if_within_days=within,
    )


def terms_id(kind: str, day: int) -> str:
    """Xero has no terms entity; terms are values on the contact, identified by what they say."""
    return f"{kind}:{day}"


def customer_from_xero(raw: object, default_currency: str) -> Customer:
    """A Contact as a customer. `default_currency` is the organisation's base currency."""
    r = _Reader(raw, "contact", "ContactID")
    contact_id = r.required("ContactID", str)
    status = r.optional("ContactStatus", str) or "ACTIVE"
    if status not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
        raise r.fail("ContactStatus", f"is not a Xero contact status: {status!r}")
    terms = payment_terms_from_xero(raw)
    addresses = _typed_addresses(r.raw.get("Addresses"))
    country, region = _billing_place(addresses)
    return Customer(
        provider_id=contact_id,
        name=r.required("Name", str),
        email=", ".join(split_addresses(r.text("EmailAddress"))) or None,
        phone=_phone(r),
        # Only a default for new invoices (each invoice carries its own): a code arpilot cannot read
        # falls back to the organisation's, rather than costing the contact and every invoice it owes.
        currency=_default_currency(r, default_currency),
        terms_id=terms.provider_id if terms else None,
        active=status == "ACTIVE",
        updated_at=r.instant("UpdatedDateUTC"),
        contacts=_email_recipients(r),
        deleted=status == "GDPRREQUEST",
        country=country,
        region=region,
        billing_address=_postal(addresses),
    )


def _billing_place(addresses: Sequence[tuple[object, PostalAddress]]) -> tuple[str | None, str | None]:
    """(Country, Region) of the postal (billing) address, else the street address: where the customer is."""
    for kind in ("POBOX", "STREET"):
        for address_type, a in addresses:
            if address_type == kind and (a.country or a.region):
                return a.country, a.region
    return None, None


def _typed_addresses(addresses: object) -> list[tuple[object, PostalAddress]]:
    """(AddressType, address) of each entry of a contact's or organisation's `Addresses` that holds
    anything; an entry that is not an address object is passed over: it must not cost the contact."""
    found = []
    for item in addresses if isinstance(addresses, list) else ():
        if isinstance(item, Mapping):
            address = postal_address(
                (item.get(f"AddressLine{n}") for n in range(1, 5)),
                city=item.get("City"),
                region=item.get("Region"),
                postal_code=item.get("PostalCode"),
                country=item.get("Country"),
                attention=item.get("AttentionTo"),
            )
            if address is not None:
                found.append((item.get("AddressType"), address))
    return found


def postal_address_of(addresses: object) -> PostalAddress | None:
    """A contact's or organisation's postal address from its raw `Addresses`."""
    return _postal(_typed_addresses(addresses))


def _postal(addresses: Sequence[tuple[object, PostalAddress]]) -> PostalAddress | None:
    """The POBOX address (Xero's postal address, the one its invoices print), else the STREET one,
    the first of each type that holds anything."""
    return next((a for kind in ("POBOX", "STREET") for address_type, a in addresses if address_type == kind), None)


def email_recipients(raw_contact: object) -> tuple[Contact, ...]:
    """Who Xero itself emails invoices to: the contact's address plus persons IncludeInEmails."""
    return _email_recipients(_Reader(raw_contact, "contact", "ContactID"))


def _default_currency(r: _Reader, organisation_currency: str) -> str:
    code = r.raw.get("DefaultCurrency")
    return code.strip() if isinstance(code, str) and code.strip() in SUPPORTED_CURRENCIES else organisation_currency


def _email_recipients(r: _Reader) -> tuple[Contact, ...]:
    """Each address once: an EmailAddress typed as a list counts as several people to write to."""
    people: list[Contact] = []
    name = " ".join(filter(None, (r.text("FirstName"), r.text("LastName")))) or r.text("Name")
    people.extend(Contact(email=address, name=name) for address in split_addresses(r.text("EmailAddress")))
    for index, person in enumerate(r.items("ContactPersons")):
        p = _Reader(person, f"contact person {index} of contact", parent=r)
        if p.optional("IncludeInEmails", bool):
            name = " ".join(filter(None, (p.text("FirstName"), p.text("LastName")))) or None
            people.extend(Contact(email=address, name=name) for address in split_addresses(p.text("EmailAddress")))
    return tuple(people)


def _phone(r: _Reader) -> str | None:
    """The DEFAULT phone, else MOBILE, else the first other one with a number (never the FAX:
    nobody answers it), as one dialable string."""
    numbers: dict[str, str] = {}
    for index, phone in enumerate(r.items("Phones")):
        p = _Reader(phone, f"phone {index} of contact", parent=r)
        number = p.text("PhoneNumber")
        if number and p.text("PhoneType") != "FAX":
            country = p.text("PhoneCountryCode")
            parts = (f"+{country.lstrip('+')}" if country else None, p.text("PhoneAreaCode"), number)
            numbers.setdefault(p.text("PhoneType") or "", " ".join(filter(None, parts)))
    for kind in ("DEFAULT", "MOBILE"):
        if kind in numbers:
            return numbers[kind]
    return next(iter(numbers.values()), None)


def in_group(raw_contact: object, group_name: str = CREDIT_HOLD_GROUP) -> bool:
    """Whether the contact (as GET /Contacts/{id} returns it) is in the named active group."""
    r = _Reader(raw_contact, "contact", "ContactID")
    for index, group in enumerate(r.items("ContactGroups")):
        g = _Reader(group, f"contact group {index} of contact", parent=r)
        name = g.text("Name") or ""
        if name.casefold() == group_name.casefold() and (g.optional("Status", str) or "ACTIVE") == "ACTIVE":
            return True
    return False


def payment_from_xero(raw: object) -> Payment:
    r = _Reader(raw, "payment", "PaymentID")
    payment_id = r.required("PaymentID", str)
    if not is_receivable_payment(raw):
        raise r.fail("PaymentType", f"must be ACCRECPAYMENT, got {r.raw.get('PaymentType')!r}")
    invoice = _Reader(r.required("Invoice", Mapping), "payment invoice", parent=r)
    contact = _Reader(invoice.required("Contact", Mapping), "payment invoice contact", parent=r)
    # Payment.Amount is in the invoice's currency (BankAmount is the bank account's).
    currency = invoice.currency("CurrencyCode")
    amount = r.amount("Amount", currency)
    status = r.optional("Status", str) or "AUTHORISED"
    if status not in ("AUTHORISED", "DELETED"):
        raise r.fail("Status", f"is not a Xero payment status: {status!r}")
    return Payment(
        provider_id=payment_id,
        customer_id=contact.required("ContactID", str),
        date=r.date("Date"),
        amount=amount,
        applied_to=(PaymentApplication(invoice.required("InvoiceID", str), amount),),
        updated_at=r.instant("UpdatedDateUTC"),
        deleted=status == "DELETED",
    )


# The three receivable credit collections: kind, the Types a customer's credit has in it, id field,
# number field. Overpayments and prepayments are customers' in two ways: received into a bank
# account (RECEIVE-...) or left over from a payment on invoices (AR...); the rest are suppliers'.
CREDIT_TYPES = {
    "credit_note": (CreditKind.CREDIT_NOTE, ("ACCRECCREDIT",), "CreditNoteID", "CreditNoteNumber"),
    "overpayment": (CreditKind.OVERPAYMENT, ("RECEIVE-OVERPAYMENT", "AROVERPAYMENT"), "OverpaymentID", "Reference"),
    "prepayment": (CreditKind.PREPAYMENT, ("RECEIVE-PREPAYMENT", "ARPREPAYMENT"), "PrepaymentID", "Reference"),
}
# Only approved credit can be applied: DRAFT and SUBMITTED credit notes are not credit yet, and
# nothing is left of a VOIDED or DELETED one, whatever RemainingCredit still says.
_USABLE_CREDIT = ("AUTHORISED", "PAID")
_CREDIT_STATUSES = (*_USABLE_CREDIT, "DRAFT", "SUBMITTED", "VOIDED", "DELETED")


def credit_from_xero(raw: object, entity: str) -> Credit:
    """A credit note, overpayment or prepayment (`entity` names which) of a customer."""
    kind, receivable, id_field, number_field = CREDIT_TYPES[entity]
    r = _Reader(raw, entity.replace("_", " "), id_field)
    credit_id = r.required(id_field, str)
    if r.raw.get("Type") not in receivable:
        raise r.fail("Type", f"must be {' or '.join(receivable)} (a customer's credit), got {r.raw.get('Type')!r}")
    status = r.required("Status", str)
    if status not in _CREDIT_STATUSES:
        raise r.fail("Status", f"is not a Xero {entity.replace('_', ' ')} status: {status!r}")
    contact = _Reader(r.required("Contact", Mapping), f"{entity} contact", parent=r)
    currency = r.currency("CurrencyCode")
    allocations = []
    for index, item in enumerate(r.items("Allocations")):
        a = _Reader(item, f"allocation {index} of {entity}", parent=r)
        if a.optional("IsDeleted", bool):
            continue
        invoice = _Reader(a.required("Invoice", Mapping), f"allocation {index} invoice", parent=r)
        allocations.append(PaymentApplication(invoice.required("InvoiceID", str), a.amount("Amount", currency)))
    remaining = r.amount("RemainingCredit", currency) if status in _USABLE_CREDIT else Money.zero(currency)
    return Credit(
        provider_id=credit_id,
        kind=kind,
        customer_id=contact.required("ContactID", str),
        number=r.text(number_field) or "",
        date=r.date("Date"),
        total=r.amount("Total", currency),
        remaining=remaining,
        updated_at=r.instant("UpdatedDateUTC"),
        allocations=tuple(allocations),
        deleted=status == "DELETED",
    )


def is_receivable_credit(entity: str) -> Callable[[object], bool]:
    """Keeps the customers' credits of a collection that also lists suppliers' (ACCPAYCREDIT, SPEND-…)."""
    receivable = CREDIT_TYPES[entity][1]
    return lambda raw: isinstance(raw, Mapping) and raw.get("Type") in receivable
