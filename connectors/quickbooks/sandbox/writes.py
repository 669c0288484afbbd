"""Writes to a sandbox company: create, full and sparse update with SyncToken, delete, void, send.

Each entity has a `_check_<entity>` that validates a complete candidate record (after merging a
sparse update, or replacing with a full one) and fills QuickBooks' defaults, raising `QboFault`s
with the documented codes. Every successful change bumps SyncToken and LastUpdatedTime and tells
the company's listeners (webhooks).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.quickbooks.mapping import split_line
from connectors.quickbooks.sandbox import errors
from connectors.quickbooks.sandbox.company import ZERO, Company, SentEmail
from connectors.quickbooks.sandbox.schema import ENTITIES, NAME_LIST

LENGTHS = {"PrivateNote": 4000, "DocNumber": 21, "DisplayName": 500, "Notes": 2000}
EMAIL_STATUSES = ("NotSet", "NeedToSend", "EmailSent")
DELIVERY_METHODS = ("Print", "Email", "None")


def save(company: Company, entity: str, body: Any, *, include: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Create (no Id) or update (Id present; `sparse: true` for a sparse update). Returns the rendered entity."""
    if not isinstance(body, dict):
        raise errors.invalid(entity, "the body must be a JSON object")
    with company.lock:
        if body.get("Id") not in (None, "", 0, "0"):
            return _update(company, entity, body, include)
        return _create(company, entity, body, include)


def _writable(entity: str, body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in ENTITIES[entity].writable}


def _create(company: Company, entity: str, body: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
    candidate = _writable(entity, body)
    _CHECKS[entity](company, candidate, None, include)
    now = company.now()
    record = {"Id": company.new_id(entity), "SyncToken": 0, **candidate, "_created": now, "_updated": now}
    company.entities[entity][record["Id"]] = record
    _after_write(company, entity, record)
    company.changed(entity, record["Id"], "Create")
    return company.render(entity, record, include=include)


def _update(company: Company, entity: str, body: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
    existing = company.stored(entity, str(body["Id"]))
    _check_sync_token(entity, existing, body)
    changes = _writable(entity, body)
    if body.get("sparse") is True:
        candidate = {k: v for k, v in existing.items() if k in ENTITIES[entity].writable} | changes
    else:
        candidate = changes  # full update: every writable field left out becomes null
    _CHECKS[entity](company, candidate, existing, include)
    for key in ENTITIES[entity].writable:
        existing.pop(key, None)
    existing.update(candidate)
    _touch(company, existing)
    _after_write(company, entity, existing)
    company.changed(entity, existing["Id"], "Update")
    return company.render(entity, existing, include=include)


def delete(company: Company, entity: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("Id"):
        raise errors.required("Id")
    with company.lock:
        if ENTITIES[entity].kind == NAME_LIST:
            raise errors.QboFault(
                errors.UNSUPPORTED_OPERATION,
                "Operation Delete is not supported.",
                f"{entity} cannot be deleted; set Active to false instead.",
            )
        record = company.stored(entity, str(body["Id"]))
        _check_sync_token(entity, record, body)
        if entity == "Payment":
            _apply_payment(company, record["Id"], [])
        else:
            _unlink_payments(company, record["Id"])
        del company.entities[entity][record["Id"]]
        company.deleted[entity][record["Id"]] = company.now()
        company.changed(entity, record["Id"], "Delete")
        return {"Id": record["Id"], "status": "Deleted", "domain": "QBO"}


def void_invoice(company: Company, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not body.get("Id"):
        raise errors.required("Id")
    with company.lock:
        record = company.stored("Invoice", str(body["Id"]))
        _check_sync_token("Invoice", record, body)
        if company.applied.get(record["Id"]):
            raise errors.business("An invoice with payments applied cannot be voided; remove the payments first.")
        record["_voided"] = True
        # QuickBooks keeps the memo behind the word; the mapping knows a voided invoice by it.
        record["PrivateNote"] = f"Voided - {record['PrivateNote']}" if record.get("PrivateNote") else "Voided"
        for line in record.get("Line", []):
            line["Amount"] = ZERO
        _touch(company, record)
        company.changed("Invoice", record["Id"], "Void")
        return company.render("Invoice", record)


def send_invoice(company: Company, invoice_id: str, send_to: str | None) -> dict[str, Any]:
    with company.lock:
        record = company.stored("Invoice", invoice_id)
        address = send_to or (record.get("BillEmail") or {}).get("Address")
        if not address:
            raise errors.required("BillEmail/sendTo")
        _check_email("sendTo" if send_to else "BillEmail", address)
        if record.get("_voided"):
            raise errors.business("A voided invoice cannot be sent.")
        if send_to:
            record["BillEmail"] = {"Address": send_to}
        now = company.now()
        record["EmailStatus"] = "EmailSent"
        record["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": company.stamp(now)}
        company.sent_emails.append(
            SentEmail(record["Id"], str(record.get("DocNumber", "")), address, company.stamp(now))
        )
        _touch(company, record)
        company.changed("Invoice", record["Id"], "Update")
        return company.render("Invoice", record)


# -- shared helpers ------------------------------------------------------------------------------


def _check_sync_token(entity: str, record: dict[str, Any], body: dict[str, Any]) -> None:
    if "SyncToken" not in body or body["SyncToken"] in (None, ""):
        raise errors.required("SyncToken")
    if str(body["SyncToken"]) != str(record["SyncToken"]):
        raise errors.stale(entity)


def _touch(company: Company, record: dict[str, Any]) -> None:
    record["SyncToken"] += 1
    record["_updated"] = company.now()


def _after_write(company: Company, entity: str, record: dict[str, Any]) -> None:
    if entity == "Payment":
        _apply_payment(company, record["Id"], record.get("Line", []))


def _apply_payment(company: Company, payment_id: str, lines: list[dict[str, Any]]) -> None:
    """Re-point the applied-amount indexes for one payment (a line linking several invoices pays
    each its share, a line linking a credit memo uses that much of it); touch every invoice and
    credit memo whose balance moved."""
    touched = {("Invoice", i) for i, by in company.applied.items() if payment_id in by}
    touched |= {("CreditMemo", c) for c, by in company.credited.items() if payment_id in by}
    for entity, target in touched:
        (company.applied if entity == "Invoice" else company.credited)[target].pop(payment_id, None)
    for line in lines:
        links = line.get("LinkedTxn", [])
        for link, share in zip(links, split_line(Decimal(line["Amount"]), len(links)) if links else (), strict=True):
            entity = "CreditMemo" if link.get("TxnType") == "CreditMemo" else "Invoice"
            by = (company.credited if entity == "CreditMemo" else company.applied).setdefault(str(link["TxnId"]), {})
            by[payment_id] = by.get(payment_id, ZERO) + share
            touched.add((entity, str(link["TxnId"])))
    for entity, target in touched:
        record = company.entities[entity].get(target)
        if record is not None:
            _touch(company, record)
            company.changed(entity, target, "Update")


def _unlink_payments(company: Company, invoice_id: str) -> None:
    """Deleting an invoice leaves its payments as unapplied credit, as QuickBooks does."""
    for payment_id in list(company.applied.pop(invoice_id, {})):
        payment = company.entities["Payment"][payment_id]
        payment["Line"] = [
            line
            for line in payment.get("Line", [])
            if all(str(link.get("TxnId")) != invoice_id for link in line.get("LinkedTxn", []))
        ]
        _touch(company, payment)
        company.changed("Payment", payment_id, "Update")


def _amount(value: Any, field_name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise errors.invalid(field_name, f"is not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise errors.invalid(field_name, f"is not an amount: {value!r}")
    return amount


def _date(candidate: dict[str, Any], field_name: str) -> dt.date | None:
    value = candidate.get(field_name)
    if value in (None, ""):
        candidate.pop(field_name, None)
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise errors.invalid(field_name, f"is not a date (YYYY-MM-DD): {value!r}") from exc


def _length(candidate: dict[str, Any], field_name: str, maximum: int | None = None) -> None:
    value = candidate.get(field_name)
    limit = maximum or LENGTHS[field_name]
    if value is not None and len(str(value)) > limit:
        raise errors.too_long(field_name, limit, len(str(value)))


def _check_email(field_name: str, address: Any) -> None:
    if not isinstance(address, str) or "@" not in address or "." not in address.split("@")[-1] or len(address) > 100:
        raise errors.invalid(field_name, f"is not an email address: {address!r}")


def _ref(
    company: Company, candidate: dict[str, Any], field_name: str, entity: str, *, needed: bool
) -> dict[str, Any] | None:
    ref = candidate.get(field_name)
    if ref in (None, "", {}):
        candidate.pop(field_name, None)
        if needed:
            raise errors.required(field_name)
        return None
    if not isinstance(ref, dict) or not ref.get("value"):
        raise errors.invalid(field_name, "must be an object with a value")
    target = company.entities[entity].get(str(ref["value"]))
    if target is None:
        raise errors.bad_reference(field_name, ref["value"])
    candidate[field_name] = {"value": str(ref["value"]), "name": target.get("DisplayName") or target.get("Name", "")}
    return target


def _enum(candidate: dict[str, Any], field_name: str, allowed: tuple[str, ...]) -> None:
    value = candidate.get(field_name)
    if value in (None, ""):
        candidate.pop(field_name, None)
    elif value not in allowed:
        raise errors.QboFault(
            errors.INVALID_ENUMERATION,
            "Invalid Enumeration",
            f"Invalid Enumeration : {value} for {field_name}",
            element=field_name,
        )


def _integer(candidate: dict[str, Any], field_name: str, low: int, high: int) -> int | None:
    value = candidate.get(field_name)
    if value in (None, ""):
        candidate.pop(field_name, None)
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise errors.invalid(field_name, f"is not a whole number: {value!r}") from exc
    if number != number.to_integral_value() or not low <= number <= high:
        raise errors.invalid(field_name, f"must be a whole number from {low} to {high}")
    candidate[field_name] = int(number)
    return int(number)


def due_date(term: dict[str, Any], issued: dt.date) -> dt.date:
    """DueDate from a term: STANDARD adds DueDays; DATE_DRIVEN is DayOfMonthDue, rolled to next month
    when the invoice is issued DueNextMonthDays or fewer days before it."""
    if term.get("DueDays") is not None:
        return issued + dt.timedelta(days=int(term["DueDays"]))
    day = int(term["DayOfMonthDue"])

    def on_day(year: int, month: int) -> dt.date:
        return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))

    candidate = on_day(issued.year, issued.month)
    if candidate < issued or (candidate - issued).days <= int(term.get("DueNextMonthDays") or 0):
        year, month = (issued.year + 1, 1) if issued.month == 12 else (issued.year, issued.month + 1)
        candidate = on_day(year, month)
    return candidate


# -- per-entity checks ---------------------------------------------------------------------------


def _check_invoice(
    company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]
) -> None:
    if existing is not None and existing.get("_voided"):
        raise errors.business("A voided invoice cannot be changed.")
    customer = _ref(company, c, "CustomerRef", "Customer", needed=True)
    assert customer is not None
    lines = [
        line
        for line in c.get("Line") or []
        if isinstance(line, dict) and line.get("DetailType") != "SubTotalLineDetail"
    ]
    if not lines:
        raise errors.required("Line")
    for number, line in enumerate(lines, start=1):
        line["Amount"] = _amount(line.get("Amount", 0), f"Line[{number}].Amount")
        line.setdefault("DetailType", "SalesItemLineDetail")
        if isinstance(line.get("SalesItemLineDetail"), dict) and "ItemRef" in line["SalesItemLineDetail"]:
            _ref(company, line["SalesItemLineDetail"], "ItemRef", "Item", needed=True)
        line["Id"] = str(line.get("Id") or number)
        line["LineNum"] = number
    c["Line"] = lines
    txn_date = _date(c, "TxnDate") or company.today()
    c["TxnDate"] = txn_date.isoformat()
    term = _ref(company, c, "SalesTermRef", "Term", needed=False)
    if term is None and customer.get("SalesTermRef"):
        term = company.entities["Term"].get(customer["SalesTermRef"]["value"])
    due = _date(c, "DueDate") or (due_date(term, txn_date) if term else txn_date)
    c["DueDate"] = due.isoformat()
    c.setdefault("CurrencyRef", customer.get("CurrencyRef") or {"value": company.currency})
    for name in ("PrivateNote", "DocNumber"):
        _length(c, name)
    if isinstance(c.get("CustomerMemo"), dict):
        _length(c["CustomerMemo"], "value", 1000)
    _enum(c, "EmailStatus", EMAIL_STATUSES)
    c.setdefault("EmailStatus", "NotSet")
    if not (c.get("BillEmail") or {}).get("Address"):
        c.pop("BillEmail", None)
        customer_email = (customer.get("PrimaryEmailAddr") or {}).get("Address")
        if customer_email:
            c["BillEmail"] = {"Address": customer_email}
    else:
        _check_email("BillEmail.Address", c["BillEmail"]["Address"])
    if c.get("EmailStatus") == "NeedToSend" and not c.get("BillEmail"):
        raise errors.business("Email Address required: BillEmail is required when EmailStatus is NeedToSend.")
    if existing is not None and existing.get("DeliveryInfo"):
        c["DeliveryInfo"] = existing["DeliveryInfo"]  # read-only, kept across updates
    _doc_number(company, c, existing, include)


def _doc_number(company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]) -> None:
    numbers = {str(r.get("DocNumber")): r["Id"] for r in company.entities["Invoice"].values() if r.get("DocNumber")}
    if not c.get("DocNumber"):
        numeric = [int(n) for n in numbers if n.isdigit()]
        c["DocNumber"] = str(max(numeric, default=1000) + 1)
        return
    owner = numbers.get(str(c["DocNumber"]))
    if owner is not None and (existing is None or owner != existing["Id"]) and "allowduplicatedocnum" not in include:
        raise errors.QboFault(
            errors.DUPLICATE_DOC_NUM,
            "Duplicate Document Number Error",
            f"Duplicate Document Number Error : You must specify a different number. "
            f"This number has already been used. DocNumber={c['DocNumber']}",
        )


def _check_customer(
    company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]
) -> None:
    name = (
        c.get("DisplayName")
        or " ".join(str(c[k]) for k in ("GivenName", "FamilyName") if c.get(k))
        or c.get("CompanyName")
    )
    if not name or not str(name).strip():
        raise errors.required("DisplayName")
    if any(ch in str(name) for ch in ":\t\n"):
        raise errors.invalid("DisplayName", "cannot contain a colon, a tab or a newline")
    c["DisplayName"] = str(name)
    _length(c, "DisplayName")
    _length(c, "Notes")
    for other in company.entities["Customer"].values():
        if other.get("DisplayName", "").lower() == c["DisplayName"].lower() and (
            existing is None or other["Id"] != existing["Id"]
        ):
            raise errors.QboFault(
                errors.DUPLICATE_NAME,
                "Duplicate Name Exists Error",
                "The name supplied already exists. : Another customer is already using this name. "
                "Please use a different name.",
                element="DisplayName",
            )
    email = (c.get("PrimaryEmailAddr") or {}).get("Address")
    if email:
        _check_email("PrimaryEmailAddr.Address", email)
    else:
        c.pop("PrimaryEmailAddr", None)
    _ref(company, c, "SalesTermRef", "Term", needed=False)
    _enum(c, "PreferredDeliveryMethod", DELIVERY_METHODS)
    if "CurrencyRef" not in c:
        c["CurrencyRef"] = (existing or {}).get("CurrencyRef") or {"value": company.currency}
    active = c.get("Active", True)
    if not isinstance(active, bool):
        raise errors.invalid("Active", "must be true or false")
    c["Active"] = active
    if not active and existing is not None and company.customer_balance(existing["Id"]) > 0:
        raise errors.business(
            "Delete List Has Balance Error: this customer has an open balance and cannot be made inactive."
        )


def _check_term(company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]) -> None:
    name = c.get("Name")
    if not name or not str(name).strip():
        raise errors.required("Name")
    _length(c, "Name", 31)
    for other in company.entities["Term"].values():
        if other.get("Name", "").lower() == str(name).lower() and (existing is None or other["Id"] != existing["Id"]):
            raise errors.QboFault(
                errors.DUPLICATE_NAME,
                "Duplicate Name Exists Error",
                "The name supplied already exists. : Another term is already using this name.",
                element="Name",
            )
    standard = _integer(c, "DueDays", 0, 999)
    day = _integer(c, "DayOfMonthDue", 1, 31)
    next_month = _integer(c, "DueNextMonthDays", 0, 999)
    discount_day = _integer(c, "DiscountDayOfMonth", 0, 31)
    _integer(c, "DiscountDays", 0, 999)
    if standard is not None and day is not None:
        raise errors.business("A term is either standard (DueDays) or date driven (DayOfMonthDue), not both.")
    if standard is None:
        for field_name, value in (
            ("DayOfMonthDue", day),
            ("DueNextMonthDays", next_month),
            ("DiscountDayOfMonth", discount_day),
        ):
            if value is None:
                raise errors.required(field_name)
    if c.get("DiscountPercent") not in (None, ""):
        c["DiscountPercent"] = _amount(c["DiscountPercent"], "DiscountPercent")
    c["Active"] = bool(c.get("Active", True))


def _check_payment(
    company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]
) -> None:
    customer = _ref(company, c, "CustomerRef", "Customer", needed=True)
    assert customer is not None
    if c.get("TotalAmt") in (None, ""):
        raise errors.required("TotalAmt")
    total = _amount(c["TotalAmt"], "TotalAmt")
    if total < 0:
        raise errors.invalid("TotalAmt", "must not be negative")
    c["TotalAmt"] = total
    c["TxnDate"] = (_date(c, "TxnDate") or company.today()).isoformat()
    c.setdefault("CurrencyRef", customer.get("CurrencyRef") or {"value": company.currency})
    own = existing["Id"] if existing else None
    applied = ZERO
    lines = []
    for number, line in enumerate(c.get("Line") or [], start=1):
        amount = _amount(line.get("Amount", 0), f"Line[{number}].Amount")
        links = line.get("LinkedTxn") or []
        kinds = {link.get("TxnType") for link in links}
        if not kinds <= {"Invoice", "CreditMemo"} or kinds == {"Invoice", "CreditMemo"}:
            raise errors.invalid(f"Line[{number}].LinkedTxn", "a line links invoices or one credit memo")
        for link, share in zip(links, split_line(amount, len(links)) if links else (), strict=True):
            _check_link(company, link, share, customer["Id"], own)
        applied += -amount if kinds == {"CreditMemo"} else amount
        lines.append(
            {
                "Amount": amount,
                "LinkedTxn": [{"TxnId": str(link["TxnId"]), "TxnType": link["TxnType"]} for link in links],
            }
        )
    if applied > total:
        raise errors.business("The amounts applied exceed the payment's TotalAmt.")
    c["Line"] = lines


def _check_link(company: Company, link: dict[str, Any], share: Decimal, customer_id: str, own: str | None) -> None:
    """One invoice (or credit memo) a payment line links: the customer's own, with that much open."""
    entity = str(link.get("TxnType"))  # the caller allowed only Invoice and CreditMemo
    record = company.entities[entity].get(str(link.get("TxnId")))
    if record is None:
        raise errors.bad_reference("LinkedTxn.TxnId", link.get("TxnId"))
    if (record.get("CustomerRef") or {}).get("value") != customer_id:
        raise errors.business(f"{entity} {record['Id']} belongs to another customer.")
    if entity == "CreditMemo":
        open_amount = company.credit_remaining(record) + company.credited.get(record["Id"], {}).get(own or "", ZERO)
    else:
        open_amount = company.invoice_balance(record) + company.applied.get(record["Id"], {}).get(own or "", ZERO)
    if share > open_amount:
        raise errors.business(
            f"The payment amount {share} exceeds the open balance {open_amount} of {entity} {record['Id']}."
        )


def _check_credit_memo(
    company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]
) -> None:
    customer = _ref(company, c, "CustomerRef", "Customer", needed=True)
    assert customer is not None
    if not c.get("Line"):
        raise errors.required("Line")
    for number, line in enumerate(c["Line"], start=1):
        if _amount(line.get("Amount", 0), f"Line[{number}].Amount") < 0:
            raise errors.invalid(f"Line[{number}].Amount", "must not be negative")
    c["TxnDate"] = (_date(c, "TxnDate") or company.today()).isoformat()
    c.setdefault("CurrencyRef", customer.get("CurrencyRef") or {"value": company.currency})
    _length(c, "DocNumber", LENGTHS["DocNumber"])


ITEM_TYPES = ("Service", "NonInventory", "Inventory")


def _check_item(company: Company, c: dict[str, Any], existing: dict[str, Any] | None, include: frozenset[str]) -> None:
    name = c.get("Name")
    if not name or not str(name).strip():
        raise errors.required("Name")
    _length(c, "Name", 100)
    for other in company.entities["Item"].values():
        if other.get("Name", "").lower() == str(name).lower() and (existing is None or other["Id"] != existing["Id"]):
            raise errors.QboFault(
                errors.DUPLICATE_NAME,
                "Duplicate Name Exists Error",
                "The name supplied already exists. : Another product or service is already using this name.",
                element="Name",
            )
    _enum(c, "Type", ITEM_TYPES)
    c.setdefault("Type", "Service")
    if c.get("UnitPrice") not in (None, ""):
        c["UnitPrice"] = _amount(c["UnitPrice"], "UnitPrice")
    c["Active"] = bool(c.get("Active", True))


_CHECKS = {
    "Invoice": _check_invoice,
    "Customer": _check_customer,
    "Term": _check_term,
    "Payment": _check_payment,
    "CreditMemo": _check_credit_memo,
    "Item": _check_item,
}
