"""One sandbox organisation (tenant): its records in memory and how Xero renders them.

Stored records hold what was written plus bookkeeping (`_updated` instants, `_contact` ids);
everything Xero derives (Total, AmountDue, AmountPaid, PAID status, FullyPaidOnDate, contact
Balances, ContactGroups on a contact) is computed when rendering, so it never drifts from the
payments and memberships that produce it. Writes live in `writes.py`.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from connectors.contract import PostalAddress
from connectors.sandbox.clock import SandboxClock
from connectors.xero.sandbox import credits as credit_kinds
from connectors.xero.sandbox import msdate
from connectors.xero.sandbox.listing import Facts, Listing
from connectors.xero.timezones import XERO_ZONES, xero_name

ZERO = Decimal("0")
NAMESPACE = uuid.UUID("6f1d3c52-9a57-4d7e-8a1b-5e0c1b2d7a90")  # arpilot's Xero sandbox ids

# org, event category (INVOICE / CONTACT), resource id, event type (CREATE / UPDATE), at
ChangeListener = Callable[["Organisation", str, str, str, dt.datetime], None]

# The fields `where` and `order` may name, per listing; values come from `*_facts`.
INVOICE_FIELDS = (
    "InvoiceID",
    "InvoiceNumber",
    "Reference",
    "Type",
    "Status",
    "Date",
    "DueDate",
    "AmountDue",
    "AmountPaid",
    "Total",
    "SubTotal",
    "CurrencyCode",
    "UpdatedDateUTC",
    "Contact.ContactID",
    "Contact.Name",
    "SentToContact",
    "FullyPaidOnDate",
)
CONTACT_FIELDS = (
    "ContactID",
    "Name",
    "EmailAddress",
    "ContactStatus",
    "IsCustomer",
    "IsSupplier",
    "UpdatedDateUTC",
    "DefaultCurrency",
)
PAYMENT_FIELDS = (
    "PaymentID",
    "Date",
    "Amount",
    "Status",
    "PaymentType",
    "Reference",
    "UpdatedDateUTC",
    "Invoice.InvoiceID",
    "Invoice.InvoiceNumber",
    "Invoice.Contact.ContactID",
)


def stable_id(*parts: str) -> str:
    """A GUID that depends only on its parts (tenant, kind, scenario id): the same scenario seeds
    the same ids every time."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class SentEmail:
    invoice_id: str
    invoice_number: str
    to: tuple[str, ...]
    at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "invoice_number": self.invoice_number,
            "to": list(self.to),
            "at": self.at,
        }


def xero_address(address: PostalAddress, kind: str) -> dict[str, str]:
    """An Address as Xero writes one: AddressLine1..4 (more lines folded into the fourth), the place, AttentionTo."""
    lines = (*address.lines[:3], ", ".join(address.lines[3:]))
    fields = (
        ("AddressType", kind),
        *((f"AddressLine{n}", line) for n, line in enumerate(lines, start=1)),
        ("City", address.city),
        ("Region", address.region),
        ("PostalCode", address.postal_code),
        ("Country", address.country),
        ("AttentionTo", address.attention),
    )
    return {name: value for name, value in fields if value}


@dataclass
class Organisation:
    tenant_id: str
    name: str
    short_code: str
    timezone: str
    currency: str
    email: str
    clock: SandboxClock
    country: str = "US"
    address: PostalAddress | None = None  # the organisation's postal (POBOX) address
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    credits: dict[str, dict[str, Any]] = field(default_factory=dict)  # credit notes, overpayments, prepayments
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # + "_members": list of contact ids
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # entity id -> records
    sent_emails: list[SentEmail] = field(default_factory=list)
    scenario_ids: dict[str, dict[str, str]] = field(default_factory=dict)
    listeners: list[ChangeListener] = field(default_factory=list)
    link_base: str = "http://127.0.0.1"
    lock: threading.RLock = field(default_factory=threading.RLock)
    _payments_by_invoice: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _payment_index_seen: set[str] = field(default_factory=set, repr=False)
    revision: int = 0  # bumped by every write (`changed`), which outdates the indexes below
    _by_contact: tuple[tuple[int, int], dict[str, list[dict[str, Any]]]] | None = field(default=None, repr=False)
    _allocations: tuple[tuple[int, int], dict[str, list[tuple[dict[str, Any], Decimal]]]] | None = field(
        default=None, repr=False
    )
    _listings: dict[str, tuple[tuple[int, int], Listing]] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def today(self) -> dt.date:
        return self.now().astimezone(self.tz).date()

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def changed(self, category: str, resource_id: str, event_type: str = "UPDATE") -> None:
        self.revision += 1
        at = self.now()
        for listener in self.listeners:
            listener(self, category, resource_id, event_type, at)

    def add_history(
        self, entity_id: str, changes: str, details: str, at: dt.datetime | None = None, user: str = "System Generated"
    ) -> dict[str, Any]:
        record = {"Changes": changes, "DateUTC": at or self.now(), "User": user, "Details": details}
        self.history.setdefault(entity_id, []).append(record)
        return record

    # -- derived money ---------------------------------------------------------------------------
    def invoice_payments(self, invoice_id: str) -> list[dict[str, Any]]:
        return [p for p in self._payments_of(invoice_id) if p["Status"] == "AUTHORISED"]

    def _payments_of(self, invoice_id: str) -> list[dict[str, Any]]:
        """Payments by invoice, indexed as they are added (payments are never removed, only their
        Status changes): a scan of every payment per invoice made a 100,000-invoice listing quadratic."""
        if len(self._payment_index_seen) != len(self.payments):
            for payment_id, payment in self.payments.items():
                if payment_id not in self._payment_index_seen:
                    self._payment_index_seen.add(payment_id)
                    self._payments_by_invoice.setdefault(payment["_invoice"], []).append(payment)
        return self._payments_by_invoice.get(invoice_id, [])

    def invoice_total(self, record: dict[str, Any]) -> Decimal:
        return sum((Decimal(line["LineAmount"]) for line in record["LineItems"]), ZERO)

    def amount_paid(self, record: dict[str, Any]) -> Decimal:
        return sum((Decimal(p["Amount"]) for p in self.invoice_payments(record["InvoiceID"])), ZERO)

    def amount_due(self, record: dict[str, Any]) -> Decimal:
        if record["Status"] in ("VOIDED", "DELETED"):
            return ZERO
        return self.invoice_total(record) - self.amount_paid(record) - self.amount_credited(record)

    def amount_credited(self, record: dict[str, Any]) -> Decimal:
        """What credit notes, overpayments and prepayments allocated to the invoice settle of it."""
        return sum((amount for _, amount in self.allocations_to(record["InvoiceID"])), ZERO)

    def allocations_to(self, invoice_id: str) -> list[tuple[dict[str, Any], Decimal]]:
        """(credit, amount) of every approved credit's allocation to the invoice, indexed until the next write."""
        stamp = (self.revision, len(self.credits))
        if self._allocations is None or self._allocations[0] != stamp:
            index: dict[str, list[tuple[dict[str, Any], Decimal]]] = {}
            for credit in self.credits.values():
                if credit["Status"] in credit_kinds.USABLE:
                    for allocation in credit["Allocations"]:
                        index.setdefault(allocation["_invoice"], []).append((credit, Decimal(allocation["Amount"])))
            self._allocations = (stamp, index)
        return self._allocations[1].get(invoice_id, [])

    def invoice_status(self, record: dict[str, Any]) -> str:
        if record["Status"] == "AUTHORISED" and self.invoice_total(record) > 0 and self.amount_due(record) <= 0:
            return "PAID"
        status: str = record["Status"]
        return status

    def invoice_updated(self, record: dict[str, Any]) -> dt.datetime:
        changes: list[dt.datetime] = [
            record["_updated"],
            *(p["_updated"] for p in self.invoice_payments(record["InvoiceID"])),
            *(credit_kinds.updated(c) for c, _ in self.allocations_to(record["InvoiceID"])),
        ]
        return max(changes)

    def contact_balances(self, contact_id: str, invoice_type: str = "ACCREC") -> dict[str, Decimal]:
        """What Xero counts as owed: approved (AUTHORISED) documents only, never drafts or SUBMITTED
        ones awaiting approval; sales (ACCREC) for AccountsReceivable, bills (ACCPAY) for AccountsPayable."""
        today = self.today()
        outstanding = overdue = ZERO
        for record in self._invoices_of(contact_id):
            if record["Type"] != invoice_type or record["Status"] != "AUTHORISED":
                continue
            due = self.amount_due(record)
            outstanding += due
            if record["DueDate"] < today:
                overdue += due
        # Xero nets the contact's unallocated credit off what it is owed.
        outstanding -= sum(
            (credit_kinds.remaining(c) for c in self.credits.values() if c["_contact"] == contact_id), ZERO
        )
        return {"Outstanding": outstanding, "Overdue": overdue}

    def _invoices_of(self, contact_id: str) -> list[dict[str, Any]]:
        """A contact's invoices, indexed until the next write: a scan of every invoice per contact
        made a page of contacts quadratic in the organisation."""
        stamp = (self.revision, len(self.invoices))
        if self._by_contact is None or self._by_contact[0] != stamp:
            index: dict[str, list[dict[str, Any]]] = {}
            for record in self.invoices.values():
                index.setdefault(record["_contact"], []).append(record)
            self._by_contact = (stamp, index)
        return self._by_contact[1].get(contact_id, [])

    def listing(self, kind: str) -> Listing:
        """ "invoices", "contacts", "payments" or a credit listing ("CreditNotes"…) with their facts,
        oldest change first, kept until the next write."""
        if kind in credit_kinds.BY_LISTING:
            wanted = credit_kinds.BY_LISTING[kind].kind
            records = {k: r for k, r in self.credits.items() if r["_kind"] == wanted}

            def facts(record: dict[str, Any]) -> Facts:
                return Facts(credit_kinds.GETTERS[record["_kind"]], record)

        else:
            records, facts = {
                "invoices": (self.invoices, self.invoice_facts),
                "contacts": (self.contacts, self.contact_facts),
                "payments": (self.payments, self.payment_facts),
            }[kind]
        stamp = (self.revision, len(records))
        cached = self._listings.get(kind)
        if cached is None or cached[0] != stamp:
            cached = self._listings[kind] = (stamp, Listing.of(records.values(), facts))
        return cached[1]

    def contact_updated(self, record: dict[str, Any]) -> dt.datetime:
        updated: dt.datetime = record["_updated"]
        return updated

    def groups_of(self, contact_id: str) -> list[dict[str, Any]]:
        return [g for g in self.groups.values() if g["Status"] == "ACTIVE" and contact_id in g["_members"]]

    # -- facts for where/order -------------------------------------------------------------------
    def invoice_facts(self, record: dict[str, Any]) -> Facts:
        return Facts(self._invoice_facts, record)

    def contact_facts(self, record: dict[str, Any]) -> Facts:
        return Facts(self._contact_facts, record)

    def payment_facts(self, record: dict[str, Any]) -> Facts:
        return Facts(self._payment_facts, record)

    @cached_property
    def _invoice_facts(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        def contact(record: dict[str, Any]) -> dict[str, Any]:
            return self.contacts[record["_contact"]]

        def fully_paid_on(record: dict[str, Any]) -> dt.date | None:
            return self._fully_paid_on(record) if self.invoice_status(record) == "PAID" else None

        return {
            "InvoiceID": lambda r: r["InvoiceID"],
            "InvoiceNumber": lambda r: r["InvoiceNumber"],
            "Reference": lambda r: r.get("Reference", ""),
            "Type": lambda r: r["Type"],
            "Status": self.invoice_status,
            "Date": lambda r: r["Date"],
            "DueDate": lambda r: r["DueDate"],
            "AmountDue": self.amount_due,
            "AmountPaid": self.amount_paid,
            "Total": self.invoice_total,
            "SubTotal": self.invoice_total,
            "CurrencyCode": lambda r: r["CurrencyCode"],
            "UpdatedDateUTC": self.invoice_updated,
            "Contact.ContactID": lambda r: contact(r)["ContactID"],
            "Contact.Name": lambda r: contact(r)["Name"],
            "SentToContact": lambda r: r["SentToContact"],
            "FullyPaidOnDate": fully_paid_on,
        }

    @cached_property
    def _contact_facts(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        def stored(name: str) -> Callable[[dict[str, Any]], Any]:
            return lambda record: record.get(name)

        return {name: stored(name) for name in CONTACT_FIELDS if name != "UpdatedDateUTC"} | {
            "IsSupplier": lambda r: False,
            "UpdatedDateUTC": self.contact_updated,
        }

    @cached_property
    def _payment_facts(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        def invoice(record: dict[str, Any]) -> dict[str, Any]:
            return self.invoices[record["_invoice"]]

        return {
            "PaymentID": lambda r: r["PaymentID"],
            "Date": lambda r: r["Date"],
            "Amount": lambda r: Decimal(r["Amount"]),
            "Status": lambda r: r["Status"],
            "PaymentType": lambda r: "ACCRECPAYMENT",
            "Reference": lambda r: r.get("Reference", ""),
            "UpdatedDateUTC": lambda r: r["_updated"],
            "Invoice.InvoiceID": lambda r: invoice(r)["InvoiceID"],
            "Invoice.InvoiceNumber": lambda r: invoice(r)["InvoiceNumber"],
            "Invoice.Contact.ContactID": lambda r: invoice(r)["_contact"],
        }

    def _fully_paid_on(self, record: dict[str, Any]) -> dt.date | None:
        dates = [p["Date"] for p in self.invoice_payments(record["InvoiceID"])]
        return max(dates) if dates else None

    # -- rendering -------------------------------------------------------------------------------
    def render_organisation(self) -> dict[str, Any]:
        """GET /Organisation's one organisation, with the fields the published example shows."""
        return {
            "Name": self.name,
            "LegalName": self.name,
            "PaysTax": True,
            "OrganisationType": "COMPANY",
            "BaseCurrency": self.currency,
            "CountryCode": self.country,
            "IsDemoCompany": False,
            "OrganisationStatus": "ACTIVE",
            "OrganisationEntityType": "COMPANY",
            "Timezone": xero_timezone(self.timezone),
            "ShortCode": self.short_code,
            "OrganisationID": self.tenant_id,
            "Edition": "BUSINESS",
            "Class": "PREMIUM",
            "Addresses": [xero_address(self.address, "POBOX")] if self.address else [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {},
        }

    def render_contact_ref(self, contact_id: str) -> dict[str, Any]:
        contact = self.contacts[contact_id]
        return {
            "ContactID": contact["ContactID"],
            "Name": contact["Name"],
            "Addresses": [],
            "Phones": [],
            "ContactGroups": [],
            "ContactPersons": [],
            "HasValidationErrors": False,
        }

    def render_invoice(self, record: dict[str, Any], *, lines: bool = True, summary: bool = False) -> dict[str, Any]:
        status = self.invoice_status(record)
        total = self.invoice_total(record)
        updated = self.invoice_updated(record)
        out: dict[str, Any] = {
            "Type": record["Type"],
            "InvoiceID": record["InvoiceID"],
            "InvoiceNumber": record["InvoiceNumber"],
            "Reference": record.get("Reference", ""),
        }
        if not summary:
            out["Payments"] = [self.render_payment_summary(p) for p in self.invoice_payments(record["InvoiceID"])]
            allocated = self.allocations_to(record["InvoiceID"])
            out.update(
                {
                    listing: [credit_kinds.on_invoice(c, amount) for c, amount in allocated if c["_kind"] == kind.kind]
                    for listing, kind in (
                        ("CreditNotes", credit_kinds.KINDS["CreditNote"]),
                        ("Prepayments", credit_kinds.KINDS["Prepayment"]),
                        ("Overpayments", credit_kinds.KINDS["Overpayment"]),
                    )
                }
            )
        out.update(
            AmountDue=self.amount_due(record),
            AmountPaid=self.amount_paid(record),
            AmountCredited=self.amount_credited(record),
            SentToContact=record["SentToContact"],
            CurrencyRate=Decimal("1"),
            IsDiscounted=False,
            HasAttachments=False,
            HasErrors=False,
            Contact=self.render_contact_ref(record["_contact"]),
            DateString=msdate.date_string(record["Date"]),
            Date=msdate.ms_date(record["Date"]),
            DueDateString=msdate.date_string(record["DueDate"]),
            DueDate=msdate.ms_date(record["DueDate"]),
            Status=status,
            LineAmountTypes=record["LineAmountTypes"],
        )
        if not summary:
            out["LineItems"] = copy.deepcopy(record["LineItems"]) if lines else []
        out.update(
            SubTotal=total,
            TotalTax=ZERO,
            Total=total,
            UpdatedDateUTC=msdate.ms_instant(updated),
            UpdatedDateUTCString=msdate.instant_string(updated),
            CurrencyCode=record["CurrencyCode"],
        )
        paid_on = self._fully_paid_on(record) if status == "PAID" else None
        if paid_on is not None:
            out["FullyPaidOnDate"] = msdate.ms_date(paid_on)
        return out

    def render_contact(self, record: dict[str, Any], *, summary: bool = False) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}
        out.setdefault("ContactPersons", [])
        out.setdefault("Phones", [])
        out.setdefault("Addresses", [])
        out.update(
            IsSupplier=False,
            IsCustomer=record.get("IsCustomer", False),
            UpdatedDateUTC=msdate.ms_instant(self.contact_updated(record)),
            HasAttachments=False,
            HasValidationErrors=False,
        )
        if summary:
            for heavy in ("ContactPersons", "Phones", "Addresses", "PaymentTerms"):
                out.pop(heavy, None)
            return out
        out["ContactGroups"] = [
            {"ContactGroupID": g["ContactGroupID"], "Name": g["Name"], "Status": g["Status"], "Contacts": []}
            for g in self.groups_of(record["ContactID"])
        ]
        out["Balances"] = {
            "AccountsReceivable": self.contact_balances(record["ContactID"]),
            "AccountsPayable": self.contact_balances(record["ContactID"], "ACCPAY"),
        }
        return out

    def render_group(self, record: dict[str, Any], *, members: bool) -> dict[str, Any]:
        listed = (
            [
                {"ContactID": c, "Name": self.contacts[c]["Name"], "HasValidationErrors": False}
                for c in record["_members"]
                if c in self.contacts
            ]
            if members
            else []
        )
        return {
            "Name": record["Name"],
            "Status": record["Status"],
            "ContactGroupID": record["ContactGroupID"],
            "Contacts": listed,
            "HasValidationErrors": False,
        }

    def render_payment_summary(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "PaymentID": record["PaymentID"],
            "Date": msdate.ms_date(record["Date"]),
            "Amount": record["Amount"],
            "Reference": record.get("Reference", ""),
            "CurrencyRate": Decimal("1"),
            "HasAccount": False,
            "HasValidationErrors": False,
        }

    def render_payment(self, record: dict[str, Any]) -> dict[str, Any]:
        invoice = self.invoices[record["_invoice"]]
        updated = record["_updated"]
        return {
            "PaymentID": record["PaymentID"],
            "Date": msdate.ms_date(record["Date"]),
            "BankAmount": record["Amount"],
            "Amount": record["Amount"],
            "Reference": record.get("Reference", ""),
            "CurrencyRate": Decimal("1"),
            "PaymentType": "ACCRECPAYMENT",
            "Status": record["Status"],
            "UpdatedDateUTC": msdate.ms_instant(updated),
            "UpdatedDateUTCString": msdate.instant_string(updated),
            "HasAccount": True,
            "IsReconciled": False,
            "Account": copy.deepcopy(record["Account"]),
            "Invoice": {
                "Type": invoice["Type"],
                "InvoiceID": invoice["InvoiceID"],
                "InvoiceNumber": invoice["InvoiceNumber"],
                "Contact": self.render_contact_ref(invoice["_contact"]),
                "CurrencyCode": invoice["CurrencyCode"],
                "Payments": [],
                "CreditNotes": [],
                "Prepayments": [],
                "Overpayments": [],
                "LineItems": [],
                "HasErrors": False,
                "IsDiscounted": False,
            },
            "HasValidationErrors": False,
        }

    def render_credit(self, record: dict[str, Any]) -> dict[str, Any]:
        return credit_kinds.render(
            record,
            self.render_contact_ref(record["_contact"]),
            lambda invoice_id: self.invoices[invoice_id]["InvoiceNumber"],
        )

    def render_history(self, record: dict[str, Any]) -> dict[str, Any]:
        at = record["DateUTC"]
        return {
            "Changes": record["Changes"],
            "DateUTCString": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "DateUTC": msdate.ms_instant(at),
            "User": record["User"],
            "Details": record["Details"],
        }

    def online_invoice_url(self, invoice_id: str) -> str:
        return f"{self.link_base}/in/{self.tenant_id}/{invoice_id}"


def xero_timezone(zone: str) -> str:
    """The Timezone value Xero would show for an organisation kept in `zone`: the value that names
    it, else the first whose zone keeps the same clock in January and July, else UTC."""
    named = xero_name(zone)
    if named is not None:
        return named

    def offsets(name: str) -> tuple[dt.timedelta | None, ...]:
        return tuple(
            dt.datetime(2026, month, 15, 12, tzinfo=dt.UTC).astimezone(ZoneInfo(name)).utcoffset() for month in (1, 7)
        )

    same = offsets(zone)
    return next((name for name, iana in XERO_ZONES.items() if offsets(iana) == same), "UTC")
