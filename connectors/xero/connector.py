"""The Xero connector: arpilot's Connector protocol on the Xero Accounting API (xero-python 15.x).

Sync: sales invoices (ACCREC), contacts, receivable payments and customers' credit notes, overpayments
and prepayments (each with its own cursor), in pages of up to 1000 ordered by each record's id. Xero
numbers pages afresh on every request, so the order must not move while a sync reads: ordered by
UpdatedDateUTC, a record edited after its page was read would jump to the end and push the next
unread record back onto the page already read, never to be fetched. By id, an edited record keeps
its place and a new one only pushes others forward (read twice; the mirror upserts). The cursor
stored after each page says which page comes next, so an interrupted sync resumes where it stopped;
once the last page is stored it becomes the If-Modified-Since of the next sync: the highest
UpdatedDateUTC seen, capped at the time the sync started, so a record changed during the sync is
fetched again next time rather than skipped.

Write-back: invoice History notes (each carrying the action id, so recovery finds it), invoice email
through Xero, mid-month payment terms, and credit hold as membership of a "Credit hold" contact
group plus a History note on the contact. Every PUT/POST carries an Idempotency-Key; the one DELETE
(leaving the group) is idempotent by nature and Xero defines no key for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.contract import (
    AccessTokenSource,
    AuthExpired,
    ConnectorError,
    Credit,
    Customer,
    Invoice,
    InvoiceStatus,
    LateFee,
    Note,
    NotFound,
    Page,
    PaymentTerms,
    PostalAddress,
    Provider,
    ProviderValidationError,
    RateLimited,
    Record,
    SyncRequest,
    read_each,
)
from connectors.xero.client import DEFAULT_BASE_URL, RetryPolicy, XeroClient
from connectors.xero.limiter import Clock, XeroLimiter
from connectors.xero.mapping import (
    CREDIT_HOLD_GROUP,
    CREDIT_TYPES,
    MappingError,
    credit_from_xero,
    customer_from_xero,
    email_recipients,
    in_group,
    invoice_from_xero,
    is_receivable_credit,
    is_receivable_payment,
    is_sales_invoice,
    payment_from_xero,
    payment_terms_from_xero,
    postal_address_of,
    terms_id,
)
from connectors.xero.timezones import iana_zone

MAX_PAGE_SIZE = 1000
IDS_PER_READ = 100
HISTORY_NOTE_LIMIT = 2500
IDEMPOTENCY_KEY_LIMIT = 128
EMAILABLE_STATUSES = frozenset({"SUBMITTED", "AUTHORISED", "PAID"})
# Frozen, so one instance serves every connector that keeps the default.
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class _Cursor:
    """Where a sync stands: the If-Modified-Since it runs with, the next page, the newest change seen."""

    since: dt.datetime | None = None
    page: int = 1
    high_water: dt.datetime | None = None

    def dump(self) -> str:
        return json.dumps(
            {
                "since": self.since.isoformat() if self.since else None,
                "page": self.page,
                "high_water": self.high_water.isoformat() if self.high_water else None,
            },
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str | None) -> _Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            since, high = data["since"], data["high_water"]
            cursor = cls(
                since=dt.datetime.fromisoformat(since) if since else None,
                page=int(data["page"]),
                high_water=dt.datetime.fromisoformat(high) if high else None,
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ConnectorError(f"unreadable Xero sync cursor {text!r}: {exc}") from None
        if cursor.page < 1:
            raise ConnectorError(f"unreadable Xero sync cursor {text!r}: page must be at least 1")
        return cursor


@dataclass(frozen=True)
class _Stream:
    """One syncable Xero collection: what to call, with what, and how to read its records."""

    operation: str
    envelope: str
    params: Mapping[str, Any]
    keep: Callable[[object], bool]
    id_field: str  # what pages are ordered by: a record's place never moves while a sync reads (module doc)


def _one_type(receivable: tuple[str, ...]) -> dict[str, str]:
    return {"where": f'Type=="{receivable[0]}"'} if len(receivable) == 1 else {}


_STREAMS = {
    "invoice": _Stream("get_invoices", "Invoices", {"where": 'Type=="ACCREC"'}, is_sales_invoice, "InvoiceID"),
    # Archived contacts are included so that archiving reaches the mirror as active=False.
    "customer": _Stream("get_contacts", "Contacts", {"include_archived": True}, lambda raw: True, "ContactID"),
    "payment": _Stream(
        "get_payments", "Payments", {"where": 'PaymentType=="ACCRECPAYMENT"'}, is_receivable_payment, "PaymentID"
    ),
    # Customers' credit, each collection with its own cursor. A where leaves out suppliers' credit
    # where one Type is a customer's; overpayments and prepayments have two, and are few: those
    # listings come whole and the suppliers' are left out here.
    **{
        entity: _Stream(
            operation,
            envelope,
            _one_type(CREDIT_TYPES[entity][1]),
            is_receivable_credit(entity),
            CREDIT_TYPES[entity][2],
        )
        for entity, operation, envelope in (
            ("credit_note", "get_credit_notes", "CreditNotes"),
            ("overpayment", "get_overpayments", "Overpayments"),
            ("prepayment", "get_prepayments", "Prepayments"),
        )
    },
}
CREDIT_ENTITIES = ("credit_note", "overpayment", "prepayment")


def derived_key(key: str, purpose: str) -> str:
    """A distinct Idempotency-Key for a secondary write of one action, within Xero's 128 chars."""
    candidate = f"{key}:{purpose}"
    if len(candidate) <= IDEMPOTENCY_KEY_LIMIT:
        return candidate
    return hashlib.sha256(candidate.encode()).hexdigest()


def note_marker(action_id: str) -> str:
    return f"[arpilot {action_id}]"


def note_text(note: Note, today: dt.date) -> str:
    """The marker leads, so truncation to Xero's 2500 characters can never cut it off."""
    return f"{note_marker(note.action_id)} {(note.on or today).isoformat()} {note.text}"[:HISTORY_NOTE_LIMIT]


class XeroConnector:
    provider = Provider.XERO
    credit_entities = CREDIT_ENTITIES  # mirrored after payments, each with its own cursor

    def __init__(
        self,
        *,
        tenant_id: str,
        tokens: AccessTokenSource,
        base_url: str = DEFAULT_BASE_URL,
        base_currency: str | None = None,
        limiter: XeroLimiter | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        """`base_currency`: the organisation's (for contacts without a DefaultCurrency); read from
        GET /Organisation on first need when not given."""
        self.client = XeroClient(
            tenant_id=tenant_id, tokens=tokens, base_url=base_url, limiter=limiter, clock=clock, retry=retry
        )
        self._base_currency = base_currency
        self._credit_hold_group_id: str | None = None

    # --- sync ------------------------------------------------------------------------------------

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        stream = _STREAMS.get(request.entity)
        if stream is None:
            raise ConnectorError(f"Xero cannot sync {request.entity!r}; known: {', '.join(_STREAMS)}")
        cursor = _Cursor.load(request.cursor)
        page_size = max(1, min(request.page_size, MAX_PAGE_SIZE))
        while True:
            params = dict(stream.params, page=cursor.page, page_size=page_size, order=f"{stream.id_field} ASC")
            if cursor.since is not None:
                params["if_modified_since"] = cursor.since
            body = self.client.call(stream.operation, **params)
            raw_records = _records(body, stream.envelope)
            if request.entity == "customer":
                self.base_currency()  # the organisation's, read up front: its absence is no one contact's fault
            records, rejected = read_each(
                request.entity,
                [raw for raw in raw_records if stream.keep(raw)],
                lambda raw: self._map(request.entity, raw),
            )
            seen = [r.updated_at for r in records if not isinstance(r, PaymentTerms)]
            high_water = max([*seen, cursor.high_water] if cursor.high_water else seen, default=None)
            if _last_page(body, len(raw_records), page_size, cursor.page):
                since = min(high_water, request.started_at) if high_water else cursor.since
                yield Page(request.entity, records, _Cursor(since=since).dump(), done=True, rejected=tuple(rejected))
                return
            cursor = _Cursor(since=cursor.since, page=cursor.page + 1, high_water=high_water)
            yield Page(request.entity, records, cursor.dump(), rejected=tuple(rejected))

    def _map(self, entity: str, raw: object) -> list[Record]:
        """The records one raw item yields; the item's own record (with updated_at) comes last."""
        if entity == "invoice":
            return [invoice_from_xero(raw)]
        if entity == "payment":
            return [payment_from_xero(raw)]
        if entity in CREDIT_TYPES:
            return [credit_from_xero(raw, entity)]
        terms = payment_terms_from_xero(raw)
        return [*([terms] if terms else []), customer_from_xero(raw, self.base_currency())]

    # --- reads -----------------------------------------------------------------------------------

    def base_currency(self) -> str:
        if self._base_currency is None:
            self._base_currency = self._organisation_text("BaseCurrency")
        return self._base_currency

    def company_name(self) -> str:
        return self._organisation_text("Name")

    def company_timezone(self) -> str:
        return iana_zone(self._organisation_text("Timezone"))

    def company_address(self) -> PostalAddress | None:
        return postal_address_of(self._organisation().get("Addresses"))

    def _organisation(self) -> Mapping[str, Any]:
        return _single(self.client.call("get_organisations"), "Organisations", "organisation")

    def _organisation_text(self, field: str) -> str:
        value = self._organisation().get(field)
        if not isinstance(value, str) or not value.strip():
            raise MappingError("organisation", None, field, "is missing")
        return value.strip()

    def _raw_invoice(self, invoice_id: str) -> Mapping[str, Any]:
        return _single(self.client.call("get_invoice", invoice_id), "Invoices", f"invoice {invoice_id}")

    def _raw_contact(self, contact_id: str) -> Mapping[str, Any]:
        return _single(self.client.call("get_contact", contact_id), "Contacts", f"contact {contact_id}")

    def get_invoice(self, invoice_id: str) -> Invoice:
        return self._with_pay_link(invoice_from_xero(self._raw_invoice(invoice_id)))

    def get_invoices(
        self, invoice_ids: Sequence[str], *, pay_links: Collection[str] | None = None
    ) -> dict[str, Invoice]:
        """GET /Invoices?IDs=… per 100 ids (a URL of 100 GUIDs stays well under Xero's limits), plus
        the online-invoice link of each open one in `pay_links` (None: all): only the per-invoice
        endpoint gives it, a call per invoice, so it is fetched only where a reminder will carry it."""
        ids = list(dict.fromkeys(invoice_ids))
        found: dict[str, Invoice] = {}
        for start in range(0, len(ids), IDS_PER_READ):
            chunk = ids[start : start + IDS_PER_READ]
            body = self.client.call("get_invoices", i_ds=chunk, page=1, page_size=MAX_PAGE_SIZE)
            for raw in _records(body, "Invoices"):
                invoice = invoice_from_xero(raw)
                if pay_links is None or invoice.provider_id in pay_links:
                    invoice = self._with_pay_link(invoice)
                found[invoice.provider_id] = invoice
        return found

    def _with_pay_link(self, invoice: Invoice) -> Invoice:
        if invoice.status is not InvoiceStatus.OPEN:
            return invoice
        return dataclasses.replace(invoice, pay_link=self._online_invoice_url(invoice.provider_id))

    def _online_invoice_url(self, invoice_id: str) -> str | None:
        try:
            body = self.client.call("get_online_invoice", invoice_id)
        except (NotFound, ProviderValidationError):
            return None  # Xero has no online invoice for this one (e.g. not yet approved)
        online = _records(body, "OnlineInvoices")
        url = online[0].get("OnlineInvoiceUrl") if online and isinstance(online[0], Mapping) else None
        return url if isinstance(url, str) and url else None

    def get_customer(self, customer_id: str) -> Customer:
        return customer_from_xero(self._raw_contact(customer_id), self.base_currency())

    def get_credits(self, customer_id: str) -> list[Credit]:
        """Approved credit notes, overpayments and prepayments with credit left, read now."""
        try:
            contact = str(uuid.UUID(customer_id))  # only a GUID goes into the where text
        except ValueError:
            raise NotFound(f"Xero contact ids are GUIDs, not {customer_id!r}") from None
        found: list[Credit] = []
        for entity in CREDIT_ENTITIES:
            stream = _STREAMS[entity]
            by_contact = f'Contact.ContactID==Guid("{contact}")'
            where = f"{stream.params['where']} AND {by_contact}" if "where" in stream.params else by_contact
            page = 1
            while True:
                body = self.client.call(stream.operation, where=where, page=page, page_size=MAX_PAGE_SIZE)
                raws = _records(body, stream.envelope)
                found += [credit_from_xero(raw, entity) for raw in raws if stream.keep(raw)]
                if _last_page(body, len(raws), MAX_PAGE_SIZE, page):
                    break
                page += 1
        return [c for c in found if c.remaining.amount > 0]

    def customer_on_hold(self, customer_id: str) -> bool:
        return in_group(self._raw_contact(customer_id), CREDIT_HOLD_GROUP)

    # --- notes -----------------------------------------------------------------------------------

    def add_invoice_note(self, invoice_id: str, note: Note, idempotency_key: str) -> str:
        outcome = self.add_invoice_notes([(invoice_id, note, idempotency_key)])[note.action_id]
        if isinstance(outcome, ConnectorError):
            raise outcome
        return outcome

    def add_invoice_notes(self, notes: Sequence[tuple[str, Note, str]]) -> dict[str, str | ConnectorError]:
        """One PUT /Invoices/{id}/History per invoice, however many notes it gets.

        A refusal for one invoice is recorded against its notes and the rest go on; an expired grant
        or a rate limit stops the batch and is recorded against every note not yet written.
        """
        by_invoice: dict[str, list[tuple[Note, str]]] = {}
        for invoice_id, note, key in notes:
            by_invoice.setdefault(invoice_id, []).append((note, key))
        today = self.client.clock.now().date()
        results: dict[str, str | ConnectorError] = {}
        stop: ConnectorError | None = None
        for invoice_id, items in by_invoice.items():
            if stop is None:
                keys = [key for _, key in items]
                key = keys[0] if len(keys) == 1 else derived_key("|".join(sorted(keys)), "batch")
                body = {"HistoryRecords": [{"Details": note_text(note, today)} for note, _ in items]}
                try:
                    self.client.call("create_invoice_history", invoice_id, body, idempotency_key=key)
                except (AuthExpired, RateLimited) as exc:
                    stop = exc
                except ConnectorError as exc:
                    results.update({note.action_id: exc for note, _ in items})
                    continue
            for note, _ in items:
                results[note.action_id] = stop or f"history:{invoice_id}"
        return results

    def find_invoice_note(self, invoice_id: str, action_id: str) -> bool:
        marker = note_marker(action_id)
        body = self.client.call("get_invoice_history", invoice_id)
        return any(
            isinstance(record, Mapping) and marker in str(record.get("Details") or "")
            for record in _records(body, "HistoryRecords")
        )

    # --- effects ---------------------------------------------------------------------------------

    def send_invoice(self, invoice_id: str, idempotency_key: str, to: str | None = None) -> str:
        """Xero emails the invoice with the organisation's template to the contact's own addresses."""
        raw = self._raw_invoice(invoice_id)
        status = raw.get("Status")
        if raw.get("Type") != "ACCREC" or status not in EMAILABLE_STATUSES:
            raise ProviderValidationError(
                f"Xero emails only submitted, approved or paid sales invoices; {invoice_id} is {status}"
            )
        contact = raw.get("Contact")
        contact_id = contact.get("ContactID") if isinstance(contact, Mapping) else None
        if not isinstance(contact_id, str):
            raise MappingError("invoice", invoice_id, "Contact.ContactID", "is missing")
        addresses = {
            person.email.casefold() for person in email_recipients(self._raw_contact(contact_id)) if person.email
        }
        if not addresses:
            raise ProviderValidationError(f"the Xero contact of invoice {invoice_id} has no email address")
        if to is not None and to.casefold() not in addresses:
            raise ProviderValidationError(
                "Xero sends invoices only to the contact's own addresses; add the address to the contact first"
            )
        self.client.call("email_invoice", invoice_id, {}, idempotency_key=idempotency_key)
        return f"email:{invoice_id}"

    def set_mid_month_terms(self, customer_id: str, day: int, idempotency_key: str) -> str:
        """Contact.PaymentTerms.Sales = day `day` of the following month; bill terms are kept."""
        if not 1 <= day <= 31:
            raise ProviderValidationError(f"day of month must be between 1 and 31, got {day}")
        current = self._raw_contact(customer_id).get("PaymentTerms")
        terms: dict[str, Any] = {"Sales": {"Day": day, "Type": "OFFOLLOWINGMONTH"}}
        if isinstance(current, Mapping) and isinstance(current.get("Bills"), Mapping):
            terms["Bills"] = dict(current["Bills"])
        body = {"Contacts": [{"ContactID": customer_id, "PaymentTerms": terms}]}
        self.client.call("update_contact", customer_id, body, idempotency_key=idempotency_key)
        return terms_id("OFFOLLOWINGMONTH", day)

    def set_credit_hold(self, customer_id: str, on: bool, note: Note, idempotency_key: str) -> str:
        """Join (or leave) the "Credit hold" contact group, then note it in the contact's History."""
        group_id = self._credit_hold_group(create=on)
        if on:
            body = {"Contacts": [{"ContactID": customer_id}]}
            self.client.call("create_contact_group_contacts", group_id, body, idempotency_key=idempotency_key)
        elif group_id is not None:
            self.client.call("delete_contact_group_contact", group_id, customer_id)
        history = {"HistoryRecords": [{"Details": note_text(note, self.client.clock.now().date())}]}
        self.client.call(
            "create_contact_history", customer_id, history, idempotency_key=derived_key(idempotency_key, "note")
        )
        return f"contact-group:{group_id}" if group_id else "contact-group:none"

    # --- late fees -------------------------------------------------------------------------------

    def charge_late_fee(self, fee: LateFee, idempotency_key: str) -> Invoice:
        """A separate approved sales invoice (ACCREC) to the contact, one line on the owner's account
        code, its Reference naming the overdue invoice; the action's note goes into its History."""
        if not fee.account:
            raise ProviderValidationError(
                "no Xero account code is set for late fees: choose one (say 260, Other Revenue) in Settings, Late fees"
            )
        amount = fee.amount.amount
        body = {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": fee.customer_id},
                    "InvoiceNumber": fee.number,
                    "Reference": fee.description,
                    "Date": fee.on.isoformat(),
                    "DueDate": fee.on.isoformat(),
                    "CurrencyCode": fee.amount.currency,
                    "Status": "AUTHORISED",
                    "LineAmountTypes": "NoTax",
                    "LineItems": [
                        {
                            "Description": fee.description,
                            "Quantity": 1,
                            "UnitAmount": amount,
                            "AccountCode": fee.account,
                        }
                    ],
                }
            ]
        }
        created = invoice_from_xero(
            _single(self.client.call("create_invoices", body, idempotency_key=idempotency_key), "Invoices", "invoice")
        )
        self.add_invoice_note(created.provider_id, fee.note, derived_key(idempotency_key, "note"))
        return created

    def find_late_fee(self, number: str) -> Invoice | None:
        body = self.client.call("get_invoices", invoice_numbers=[number], page=1, page_size=MAX_PAGE_SIZE)
        found = [invoice_from_xero(raw) for raw in _records(body, "Invoices") if is_sales_invoice(raw)]
        return next((i for i in found if i.status is not InvoiceStatus.DELETED), None)

    def reverse_late_fee(self, fee_invoice_id: str, note: Note, idempotency_key: str) -> str:
        """Void the fee invoice (Xero voids only an approved invoice without payments), then note why."""
        if invoice_from_xero(self._raw_invoice(fee_invoice_id)).status is not InvoiceStatus.VOIDED:
            body = {"Invoices": [{"InvoiceID": fee_invoice_id, "Status": "VOIDED"}]}
            self.client.call("update_invoice", fee_invoice_id, body, idempotency_key=idempotency_key)
        if not self.find_invoice_note(fee_invoice_id, note.action_id):
            self.add_invoice_note(fee_invoice_id, note, derived_key(idempotency_key, "note"))
        return f"invoice/{fee_invoice_id}/voided"

    def _credit_hold_group(self, *, create: bool) -> str | None:
        """The id of the active "Credit hold" group, created once when `create` and missing."""
        if self._credit_hold_group_id is None:
            for group in _records(self.client.call("get_contact_groups"), "ContactGroups"):
                if (
                    isinstance(group, Mapping)
                    and str(group.get("Name", "")).casefold() == CREDIT_HOLD_GROUP.casefold()
                    and group.get("Status", "ACTIVE") == "ACTIVE"
                    and isinstance(group.get("ContactGroupID"), str)
                ):
                    self._credit_hold_group_id = group["ContactGroupID"]
                    break
        if self._credit_hold_group_id is None and create:
            # One key per organisation: two cycles creating the group at once get one group.
            body = {"ContactGroups": [{"Name": CREDIT_HOLD_GROUP}]}
            created = _single(
                self.client.call(
                    "create_contact_group", body, idempotency_key=f"arpilot-credit-hold-group-{self.client.tenant_id}"
                ),
                "ContactGroups",
                "contact group",
            )
            group_id = created.get("ContactGroupID")
            if not isinstance(group_id, str) or not group_id:
                raise MappingError("contact group", None, "ContactGroupID", "is missing")
            self._credit_hold_group_id = group_id
        return self._credit_hold_group_id


def _records(body: Any, envelope: str) -> list[Any]:
    if not isinstance(body, Mapping) or not isinstance(body.get(envelope, []), list):
        raise MappingError(envelope.lower(), None, envelope, "is not a list in Xero's response")
    return list(body.get(envelope, []))


def _single(body: Any, envelope: str, what: str) -> Mapping[str, Any]:
    records = _records(body, envelope)
    if not records:
        raise NotFound(f"Xero returned no {what}")
    if not isinstance(records[0], Mapping):
        raise MappingError(envelope.lower(), None, envelope, "holds something other than objects")
    return records[0]


def _last_page(body: Mapping[str, Any], count: int, page_size: int, page: int) -> bool:
    """Xero's pagination block decides when present; otherwise a short page is the last."""
    pagination = body.get("pagination")
    if isinstance(pagination, Mapping) and isinstance(pagination.get("pageCount"), int):
        return page >= int(pagination["pageCount"])
    return count < page_size
