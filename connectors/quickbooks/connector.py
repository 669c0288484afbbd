"""The QuickBooks Online Connector: sync streams, reads and every write-back arpilot performs.

Writes are sparse updates with explicit bodies (Id, SyncToken, `sparse: true`, only the changed
fields) and the action's idempotency key as `requestid`. A stale SyncToken (fault 5010) re-reads
the record, re-applies the change and retries once (with a derived requestid, so QuickBooks cannot
answer the retry with the failed first attempt), then raises Conflict. Each write first checks for
its own evidence (the action id in the note, the hold marker, the terms already set), so running an
action twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from quickbooks.exceptions import QuickbooksException

from connectors.contract import (
    AccessTokenSource,
    Conflict,
    ConnectorError,
    Credit,
    Customer,
    Invoice,
    InvoiceStatus,
    LateFee,
    Note,
    NotFound,
    Page,
    Payment,
    PostalAddress,
    Provider,
    ProviderValidationError,
    SyncRequest,
)
from connectors.quickbooks import mapping, notes, queries, stream
from connectors.quickbooks.client import PRODUCTION_URL, QboClient
from connectors.quickbooks.errors import classify, error_for
from connectors.quickbooks.limiter import RealmLimiter, Sleep

Json = dict[str, Any]
CREDIT_HOLD_TERM = "Credit hold: due on receipt"
BATCH_SIZE = 30  # QuickBooks' documented batch ceiling
REQUEST_ID_MAX = 50


def request_id(key: str, attempt: int = 0) -> str:
    """QuickBooks' requestid for an idempotency key: the key itself when short, else its digest."""
    text = key if attempt == 0 else f"{key}~{attempt}"
    return text if len(text) <= REQUEST_ID_MAX else hashlib.sha256(text.encode()).hexdigest()[:REQUEST_ID_MAX]


def read_company_name(client: QboClient) -> str:
    """The realm's CompanyInfo name. Intuit documents the read as `companyinfo/<realm id>`."""
    return mapping.company_name(client.read("CompanyInfo", client.realm_id))


def mid_month_term_name(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"Due on the {day}{suffix}"


class QuickBooksConnector:
    provider = Provider.QUICKBOOKS
    credit_entities = ("credit_memo",)  # mirrored after payments, each with its own cursor

    def __init__(
        self,
        realm_id: str,
        tokens: AccessTokenSource,
        *,
        home_currency: str,
        base_url: str = PRODUCTION_URL,
        limiter: RealmLimiter | None = None,
        sleep: Sleep = time.sleep,
        throttle_wait: float = 60.0,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
        **client_options: Any,
    ) -> None:
        self.home_currency = home_currency
        self._today = today
        self._terms_by_name: dict[str, str] = {}
        # The last version read or written of each record, by (entity, id): a write may start from it
        # instead of reading again. Used once; SyncToken makes a stale copy fail safely (5010).
        self._known: dict[tuple[str, str], Json] = {}
        self.client = QboClient(
            realm_id,
            tokens,
            base_url=base_url,
            limiter=limiter,
            sleep=sleep,
            throttle_wait=throttle_wait,
            **client_options,
        )

    # --- sync and reads ----------------------------------------------------------------------

    def changes(self, request: SyncRequest) -> Iterator[Page]:
        """Pages of `request.entity` (customer, invoice, payment, term) changed since the cursor."""
        return stream.changes(self.client, request, self.home_currency)

    def get_invoice(self, invoice_id: str) -> Invoice:
        raw = self.client.read("Invoice", invoice_id, {"include": "invoiceLink"})
        return mapping.invoice(raw, self.home_currency)

    def get_invoices(
        self, invoice_ids: Sequence[str], *, pay_links: Collection[str] | None = None
    ) -> dict[str, Invoice]:
        """One `Id IN (...)` query per 1000 ids, pay links included (they cost nothing extra, so
        `pay_links` changes nothing here). Each copy read is also kept as the version a note
        written next starts from, so that note costs its write alone (a stale copy meets 5010 and
        is read again, see `_sparse_update`)."""
        ids = list(dict.fromkeys(invoice_ids))
        found: dict[str, Invoice] = {}
        for start in range(0, len(ids), queries.MAX_PAGE):
            response = self.client.query(
                queries.by_ids("Invoice", ids[start : start + queries.MAX_PAGE]), {"include": "invoiceLink"}
            )
            for raw in response["QueryResponse"].get("Invoice") or []:
                self._known[("Invoice", str(raw["Id"]))] = raw
                found[str(raw["Id"])] = mapping.invoice(raw, self.home_currency)
        return found

    def get_customer(self, customer_id: str) -> Customer:
        return mapping.customer(self.client.read("Customer", customer_id), self.home_currency)

    def get_credits(self, customer_id: str) -> list[Credit]:
        """Open credit memos and payments with an unapplied part, read now."""
        memos = (
            self.client.query(queries.of_customer("CreditMemo", customer_id))["QueryResponse"].get("CreditMemo") or []
        )
        credits = [mapping.credit_memo(raw, self.home_currency) for raw in memos]
        payments = self.client.query(queries.of_customer("Payment", customer_id))["QueryResponse"].get("Payment") or []
        unapplied = [mapping.payment(raw, self.home_currency).unapplied_credit() for raw in payments]
        return [c for c in credits if c.remaining.amount > 0] + [c for c in unapplied if c is not None]

    def get_payment(self, payment_id: str) -> Payment:
        """One payment as it is now: a Payment webhook names the payment, not the invoices it pays."""
        return mapping.payment(self.client.read("Payment", payment_id), self.home_currency)

    def company_name(self) -> str:
        return read_company_name(self.client)

    def company_timezone(self) -> str:
        return mapping.company_timezone(self.client.read("CompanyInfo", self.client.realm_id))

    def company_address(self) -> PostalAddress | None:
        return mapping.company_address(self.client.read("CompanyInfo", self.client.realm_id))

    # --- invoice notes -----------------------------------------------------------------------

    def _line(self, note: Note) -> str:
        return notes.note_line(note.on or self._today(), note.action_id, note.text)

    def add_invoice_note(self, invoice_id: str, note: Note, idempotency_key: str) -> str:
        def change(raw: Json) -> Json | None:
            if notes.has_note(raw.get("PrivateNote"), note.action_id):
                return None
            return {"PrivateNote": notes.append_note(raw.get("PrivateNote"), self._line(note))}

        self._sparse_update("Invoice", invoice_id, change, idempotency_key)
        return f"invoice/{invoice_id}/note/{note.action_id}"

    def add_invoice_notes(self, items: Sequence[tuple[str, Note, str]]) -> dict[str, str | ConnectorError]:
        """Many notes: one query per 30 invoices, one batch per 30 updates; stale items retried singly."""
        results: dict[str, str | ConnectorError] = {}
        by_invoice: dict[str, list[tuple[Note, str]]] = {}
        for invoice_id, note, key in items:
            by_invoice.setdefault(invoice_id, []).append((note, key))
        invoice_ids = list(by_invoice)
        for start in range(0, len(invoice_ids), BATCH_SIZE):
            chunk = invoice_ids[start : start + BATCH_SIZE]
            found = self.client.query(queries.by_ids("Invoice", chunk))["QueryResponse"].get("Invoice") or []
            raws = {str(raw["Id"]): raw for raw in found}
            bodies: list[Json] = []
            for invoice_id in chunk:
                pending = by_invoice[invoice_id]
                raw = raws.get(invoice_id)
                if raw is None:
                    results.update(
                        {note.action_id: NotFound(f"QuickBooks Invoice {invoice_id} not found") for note, _ in pending}
                    )
                    continue
                text = raw.get("PrivateNote")
                for note, _key in pending:
                    if not notes.has_note(text, note.action_id):
                        text = notes.append_note(text, self._line(note))
                if text != raw.get("PrivateNote"):
                    bodies.append(_sparse(raw, {"PrivateNote": text}))
                else:
                    results.update(
                        {note.action_id: f"invoice/{invoice_id}/note/{note.action_id}" for note, _ in pending}
                    )
            if bodies:
                self._batch_notes(bodies, by_invoice, results)
        return results

    def _batch_notes(
        self,
        bodies: list[Json],
        by_invoice: dict[str, list[tuple[Note, str]]],
        results: dict[str, str | ConnectorError],
    ) -> None:
        keys = sorted(key for body in bodies for _note, key in by_invoice[body["Id"]])
        items = [{"bId": body["Id"], "operation": "update", "Invoice": body} for body in bodies]
        for item in self.client.batch(items, request_id(hashlib.sha256("|".join(keys).encode()).hexdigest())):
            invoice_id = str(item.get("bId"))
            pending = by_invoice.get(invoice_id, [])
            fault = item.get("Fault")
            if not fault:
                results.update({note.action_id: f"invoice/{invoice_id}/note/{note.action_id}" for note, _ in pending})
                continue
            error = _fault_error(fault)
            for note, key in pending:
                if isinstance(error, Conflict):  # someone edited the invoice meanwhile: one at a time
                    try:
                        results[note.action_id] = self.add_invoice_note(invoice_id, note, key)
                    except ConnectorError as exc:
                        results[note.action_id] = exc
                else:
                    results[note.action_id] = error

    def find_invoice_note(self, invoice_id: str, action_id: str) -> bool:
        return notes.has_note(self.client.read("Invoice", invoice_id).get("PrivateNote"), action_id)

    def send_invoice(self, invoice_id: str, idempotency_key: str, to: str | None = None) -> str:
        sent = self.client.send_invoice(invoice_id, request_id(idempotency_key), to)
        delivered = (sent.get("DeliveryInfo") or {}).get("DeliveryTime") or sent.get("EmailStatus")
        return f"invoice/{invoice_id}/sent/{delivered}"

    # --- customer terms and credit hold ------------------------------------------------------

    def set_mid_month_terms(self, customer_id: str, day: int, idempotency_key: str) -> str:
        if not 1 <= day <= 28:
            raise ValueError(f"a mid-month due day must be 1..28, got {day}")
        term_id = self._ensure_term(
            mid_month_term_name(day),
            {"DayOfMonthDue": day, "DueNextMonthDays": 5, "DiscountDayOfMonth": 0},
            idempotency_key,
        )

        def change(raw: Json) -> Json | None:
            hold = notes.find_hold(raw.get("Notes"))
            if hold is not None:  # on hold: the release will land on the new terms
                if hold.previous_terms_id == term_id:
                    return None
                return {"Notes": notes.replace_previous_terms(raw.get("Notes") or "", term_id)}
            return None if _term_of(raw) == term_id else {"SalesTermRef": {"value": term_id}}

        self._sparse_update("Customer", customer_id, change, idempotency_key)
        return f"term/{term_id}"

    def set_credit_hold(self, customer_id: str, on: bool, note: Note, idempotency_key: str) -> str:
        hold_term = self._ensure_term(CREDIT_HOLD_TERM, {"DueDays": 0}, idempotency_key) if on else None

        def change(raw: Json) -> Json | None:
            hold = notes.find_hold(raw.get("Notes"))
            if on:
                if hold is not None:
                    return None
                marker = notes.Hold(note.on or self._today(), _term_of(raw), note.action_id)
                return {
                    "Notes": notes.add_hold(raw.get("Notes"), marker, note.text),
                    "SalesTermRef": {"value": hold_term},
                }
            if hold is None:
                return None
            released = notes.release_hold(raw.get("Notes"), note.on or self._today(), note.action_id, note.text)
            body: Json = {"Notes": released}
            if _term_of(raw) in (None, hold_term):  # the owner has not moved the customer meanwhile
                body["SalesTermRef"] = {"value": hold.previous_terms_id} if hold.previous_terms_id else None
            return body

        if not on:
            hold_term = self._terms_by_name.get(CREDIT_HOLD_TERM) or self._find_term(CREDIT_HOLD_TERM)
        saved = self._sparse_update("Customer", customer_id, change, idempotency_key)
        return f"customer/{customer_id}/hold/{'on' if on else 'off'}@{saved.get('SyncToken')}"

    def customer_on_hold(self, customer_id: str) -> bool:
        return notes.find_hold(self.client.read("Customer", customer_id).get("Notes")) is not None

    # --- late fees ---------------------------------------------------------------------------

    def charge_late_fee(self, fee: LateFee, idempotency_key: str) -> Invoice:
        """The fee is an Invoice of its own, one line on the owner's Service item ("Late fee"), to the
        same customer. Why not another record: the Accounting API creates no Charge (a delayed charge
        is a non-posting record of the QuickBooks screens, so the customer would not owe it and the
        A/R aging would not count it), and a line added to the overdue invoice would change a document
        the customer already holds, its total and its pay link. A posting invoice on an item the
        owner chose is what QuickBooks reports as income and what the customer can pay online."""
        item_id = self._late_fee_item(fee.account)
        amount = fee.amount.amount
        body: Json = {
            "CustomerRef": {"value": fee.customer_id},
            "DocNumber": fee.number,
            "TxnDate": fee.on.isoformat(),
            "DueDate": fee.on.isoformat(),
            "CurrencyRef": {"value": fee.amount.currency},
            "PrivateNote": self._line(fee.note),
            "CustomerMemo": {"value": fee.description},
            "Line": [
                {
                    "Amount": amount,
                    "DetailType": "SalesItemLineDetail",
                    "Description": fee.description,
                    "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": amount},
                }
            ],
        }
        return mapping.invoice(self.client.write("Invoice", body, request_id(idempotency_key)), self.home_currency)

    def find_late_fee(self, number: str) -> Invoice | None:
        found = self.client.query(queries.by_name("Invoice", "DocNumber", number))["QueryResponse"].get("Invoice")
        return mapping.invoice(found[0], self.home_currency) if found else None

    def reverse_late_fee(self, fee_invoice_id: str, note: Note, idempotency_key: str) -> str:
        """Void the fee invoice (QuickBooks keeps a voided invoice, at zero, with "Voided" before its
        memo): the owner's note goes into the memo first, since a voided invoice takes no changes."""
        raw = self.client.read("Invoice", fee_invoice_id)
        if mapping.invoice(raw, self.home_currency).status is InvoiceStatus.VOIDED:
            return f"invoice/{fee_invoice_id}/voided"  # an earlier try got there
        if not notes.has_note(raw.get("PrivateNote"), note.action_id):
            raw = self._sparse_update(
                "Invoice",
                fee_invoice_id,
                lambda r: {"PrivateNote": notes.append_note(r.get("PrivateNote"), self._line(note))},
                f"{idempotency_key}:note",
            )
        self.client.write(
            "Invoice", {"Id": raw["Id"], "SyncToken": raw["SyncToken"]}, request_id(idempotency_key), "void"
        )
        return f"invoice/{fee_invoice_id}/voided"

    def _late_fee_item(self, name_or_id: str) -> str:
        """The id of the item named `name_or_id` (or with that id): the owner's, never created here,
        since its income account is the owner's choice."""
        found = self.client.query(queries.by_name("Item", "Name", name_or_id))["QueryResponse"].get("Item") or []
        if found:
            return str(found[0]["Id"])
        if name_or_id.isdigit():
            try:
                return str(self.client.read("Item", name_or_id)["Id"])
            except NotFound:
                pass
        raise ProviderValidationError(
            f'QuickBooks has no item "{name_or_id}" for late fees: create a Service item with that name in '
            "QuickBooks (Sales > Products and services), or name the one to use in Settings, Late fees"
        )

    # --- helpers -----------------------------------------------------------------------------

    def _sparse_update(self, entity: str, entity_id: str, change: Callable[[Json], Json | None], key: str) -> Json:
        """Read, compute the changed fields, write sparsely; on a stale SyncToken re-read and retry once."""
        for attempt in range(2):
            known = self._known.pop((entity, entity_id), None) if attempt == 0 else None
            raw = known if known is not None else self.client.read(entity, entity_id)
            fields = change(raw)
            if fields is None:
                return raw  # already done: this is the evidence of an earlier run
            try:
                saved = self.client.write(entity, _sparse(raw, fields), request_id(key, attempt))
            except Conflict:
                if attempt == 1:
                    raise
                continue
            self._known[(entity, entity_id)] = saved
            return saved
        raise AssertionError("unreachable")

    def _find_term(self, name: str) -> str | None:
        found = self.client.query(queries.by_name("Term", "Name", name))["QueryResponse"].get("Term") or []
        return str(found[0]["Id"]) if found else None

    def _ensure_term(self, name: str, fields: Json, key: str) -> str:
        """The id of the Term called `name`, created once (a racing creator's duplicate is found again)."""
        if name in self._terms_by_name and self._terms_by_name[name]:
            return self._terms_by_name[name]
        term_id = self._find_term(name)
        if term_id is None:
            try:
                term_id = str(
                    self.client.write("Term", {"Name": name, **fields}, request_id(f"term:{name}:{key}"))["Id"]
                )
            except ConnectorError:
                term_id = self._find_term(name)  # 6240 Duplicate Name: someone else created it first
                if term_id is None:
                    raise
        self._terms_by_name[name] = term_id
        return term_id


def _sparse(raw: Json, fields: Json) -> Json:
    return {"Id": raw["Id"], "SyncToken": raw["SyncToken"], "sparse": True, **fields}


def _term_of(raw: Json) -> str | None:
    ref = raw.get("SalesTermRef")
    return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") else None


def _fault_error(fault: Json) -> ConnectorError:
    error = (fault.get("Error") or [{}])[0]
    return error_for(
        classify(
            QuickbooksException(
                error.get("Message", "batch item failed"), error.get("code", 0), error.get("Detail", "")
            )
        )
    )
