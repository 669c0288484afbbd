"""The writes the sandbox accepts, each validated before any effect (a 400 changes nothing):
history notes, invoice email, contact updates, contact groups and their members, payments.
Callers hold the organisation's lock."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.xero.sandbox import errors, msdate
from connectors.xero.sandbox.org import Organisation, SentEmail, stable_id

MAX_HISTORY_DETAILS = 2500
EMAILABLE = ("SUBMITTED", "AUTHORISED", "PAID")
TERM_TYPES = ("DAYSAFTERBILLDATE", "DAYSAFTERBILLMONTH", "OFCURRENTMONTH", "OFFOLLOWINGMONTH")
CONTACT_SCALARS = (
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "ContactNumber",
    "AccountNumber",
    "ContactStatus",
    "DefaultCurrency",
    "TaxNumber",
)
CONTACT_ARRAYS = ("ContactPersons", "Phones")


def _items(body: Any, key: str) -> list[dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise errors.PostDataInvalid(f'The request body must be {{"{key}": [ {{...}} ]}} with at least one element')
    return items


# -- history -------------------------------------------------------------------------------------
def add_history(org: Organisation, entity_id: str, body: Any) -> list[dict[str, Any]]:
    items = _items(body, "HistoryRecords")
    for item in items:
        details = item.get("Details")
        if not isinstance(details, str) or not details.strip():
            raise errors.ValidationFailed(["The Details field is required for a history record"])
        if len(details) > MAX_HISTORY_DETAILS:
            raise errors.ValidationFailed([f"The Details field must not exceed {MAX_HISTORY_DETAILS} characters"])
    added = [org.add_history(entity_id, "Note", item["Details"]) for item in items]
    return [{**org.render_history(record), "ValidationErrors": []} for record in added]


# -- email ---------------------------------------------------------------------------------------
def email_invoice(org: Organisation, invoice: dict[str, Any], daily_limit: int) -> SentEmail:
    element = {"InvoiceID": invoice["InvoiceID"]}
    if invoice["Type"] != "ACCREC":
        raise errors.ValidationFailed(["Only sales invoices (ACCREC) can be emailed"], element)
    if org.invoice_status(invoice) not in EMAILABLE:
        raise errors.ValidationFailed(
            ["Invoice must be of status SUBMITTED, AUTHORISED or PAID to be emailed"], element
        )
    contact = org.contacts[invoice["_contact"]]
    to = [contact["EmailAddress"]] if contact.get("EmailAddress") else []
    to += [
        p["EmailAddress"]
        for p in contact.get("ContactPersons", [])
        if p.get("IncludeInEmails") and p.get("EmailAddress")
    ]
    if not contact.get("EmailAddress"):
        raise errors.ValidationFailed(["The contact does not have a valid email address"], element)
    today = org.now().date()
    sent_today = sum(1 for e in org.sent_emails if e.at[:10] == today.isoformat())
    if sent_today >= daily_limit:
        raise errors.ValidationFailed(
            [
                f"The daily limit of {daily_limit} invoice emails sent through the API "
                "has been reached for this organisation"
            ],
            element,
        )
    sent = SentEmail(invoice["InvoiceID"], invoice["InvoiceNumber"], tuple(dict.fromkeys(to)), org.now().isoformat())
    org.sent_emails.append(sent)
    invoice["SentToContact"] = True
    invoice["_updated"] = org.now()
    org.add_history(invoice["InvoiceID"], "Emailed", f"This invoice was sent by email to {', '.join(sent.to)}.")
    org.changed("INVOICE", invoice["InvoiceID"])
    return sent


# -- contacts ------------------------------------------------------------------------------------
def _payment_terms(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"Sales", "Bills"}:
        raise errors.ValidationFailed(["PaymentTerms must be an object with Sales and/or Bills"])
    for side, term in value.items():
        if not isinstance(term, dict):
            raise errors.ValidationFailed([f"PaymentTerms.{side} must be an object with Day and Type"])
        day, kind = term.get("Day"), term.get("Type")
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 31:
            raise errors.ValidationFailed([f"PaymentTerms.{side}.Day must be a whole number from 0 to 31"])
        if kind not in TERM_TYPES:
            raise errors.ValidationFailed([f"PaymentTerms.{side}.Type must be one of {', '.join(TERM_TYPES)}"])
    return {side: {"Day": term["Day"], "Type": term["Type"]} for side, term in value.items()}


def update_contact(org: Organisation, contact: dict[str, Any], body: Any) -> dict[str, Any]:
    items = _items(body, "Contacts")
    if len(items) != 1:
        raise errors.ValidationFailed(["Update one contact per request to /Contacts/{ContactID}"])
    item = items[0]
    element = {"ContactID": contact["ContactID"]}
    given = str(item.get("ContactID", contact["ContactID"])).lower()
    if given != contact["ContactID"]:
        raise errors.ValidationFailed(["The ContactID in the body does not match the one in the URL"], element)
    changes: dict[str, Any] = {}
    for name in CONTACT_SCALARS:
        if name in item:
            if not isinstance(item[name], str):
                raise errors.ValidationFailed([f"{name} must be a string"], element)
            changes[name] = item[name]
    if "Name" in changes and not changes["Name"].strip():
        raise errors.ValidationFailed(["The contact name must not be empty"], element)
    if changes.get("ContactStatus", "ACTIVE") not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
        raise errors.ValidationFailed(["ContactStatus must be ACTIVE, ARCHIVED or GDPRREQUEST"], element)
    for name in CONTACT_ARRAYS:  # arrays sent replace what is stored, as in Xero
        if name in item:
            if not isinstance(item[name], list) or not all(isinstance(x, dict) for x in item[name]):
                raise errors.ValidationFailed([f"{name} must be a list of objects"], element)
            changes[name] = item[name]
    if "PaymentTerms" in item:
        changes["PaymentTerms"] = _payment_terms(item["PaymentTerms"])
    # Balances, ContactGroups, IsCustomer and UpdatedDateUTC are read-only here: ignored, as Xero does.
    contact.update(changes)
    contact["_updated"] = org.now()
    org.changed("CONTACT", contact["ContactID"])
    return org.render_contact(contact)


# -- contact groups ------------------------------------------------------------------------------
def _check_group_name(org: Organisation, name: Any, exclude: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise errors.ValidationFailed(["The contact group name is required"])
    if any(
        g["Name"].lower() == name.strip().lower() and g["Status"] == "ACTIVE" and g["ContactGroupID"] != exclude
        for g in org.groups.values()
    ):
        raise errors.ValidationFailed([f"A contact group named '{name.strip()}' already exists"])
    return name.strip()


def create_groups(org: Organisation, body: Any) -> list[dict[str, Any]]:
    items = _items(body, "ContactGroups")
    names = [_check_group_name(org, item.get("Name")) for item in items]
    if len({n.lower() for n in names}) != len(names):
        raise errors.ValidationFailed(["The request names the same contact group twice"])
    created = []
    for name in names:
        group_id = org.new_id()
        org.groups[group_id] = {"ContactGroupID": group_id, "Name": name, "Status": "ACTIVE", "_members": []}
        created.append(org.render_group(org.groups[group_id], members=True))
    return created


def update_group(org: Organisation, group: dict[str, Any], body: Any) -> dict[str, Any]:
    item = _items(body, "ContactGroups")[0]
    name = _check_group_name(org, item["Name"], group["ContactGroupID"]) if "Name" in item else group["Name"]
    status = item.get("Status", group["Status"])
    if status not in ("ACTIVE", "DELETED"):
        raise errors.ValidationFailed(["A contact group's Status is ACTIVE or DELETED"])
    group.update(Name=name, Status=status)
    return org.render_group(group, members=True)


def add_members(org: Organisation, group: dict[str, Any], body: Any) -> list[dict[str, Any]]:
    items = _items(body, "Contacts")
    if group["Status"] != "ACTIVE":
        raise errors.ValidationFailed(["Contacts cannot be added to a deleted contact group"])
    ids = [str(item.get("ContactID", "")).lower() for item in items]
    missing = [i for i in ids if i not in org.contacts]
    if missing:
        raise errors.ValidationFailed([f"Contact {i or '(no ContactID)'} could not be found" for i in missing])
    for contact_id in ids:
        if contact_id not in group["_members"]:
            group["_members"].append(contact_id)
    return [{"ContactID": i, "HasValidationErrors": False} for i in dict.fromkeys(ids)]


def remove_member(org: Organisation, group: dict[str, Any], contact_id: str) -> None:
    if contact_id not in group["_members"]:
        raise errors.NotFound()
    group["_members"].remove(contact_id)


# -- payments ------------------------------------------------------------------------------------
def _object(item: dict[str, Any], key: str) -> dict[str, Any]:
    """item[key] when it is a JSON object, else an empty one."""
    value = item.get(key)
    return value if isinstance(value, dict) else {}


def _payment_plan(org: Organisation, item: dict[str, Any], pending: dict[str, Decimal]) -> dict[str, Any]:
    target = _object(item, "Invoice")
    invoice = org.invoices.get(str(target.get("InvoiceID", "")).lower()) or next(
        (
            r
            for r in org.invoices.values()
            if target.get("InvoiceNumber") and r["InvoiceNumber"] == target["InvoiceNumber"]
        ),
        None,
    )
    if invoice is None:
        raise errors.ValidationFailed(["Invoice could not be found (give Invoice.InvoiceID or Invoice.InvoiceNumber)"])
    element = {"InvoiceID": invoice["InvoiceID"]}
    account = _object(item, "Account")
    if not (account.get("Code") or account.get("AccountID")):
        raise errors.ValidationFailed(["Account code or AccountID is required for a payment"], element)
    try:
        amount = Decimal(str(item.get("Amount")))
    except InvalidOperation as exc:
        raise errors.ValidationFailed(["Amount must be a number"], element) from exc
    if amount <= 0:
        raise errors.ValidationFailed(["Payment amount must be greater than zero"], element)
    if org.invoice_status(invoice) != "AUTHORISED":
        raise errors.ValidationFailed(["Payments can only be made against AUTHORISED invoices"], element)
    outstanding = org.amount_due(invoice) - pending.get(invoice["InvoiceID"], Decimal("0"))
    if amount > outstanding:
        raise errors.ValidationFailed(
            [f"Payment amount {amount} exceeds the amount outstanding {outstanding}"], element
        )
    try:
        day = msdate.parse_input_date(item["Date"]) if item.get("Date") else org.today()
    except ValueError as exc:
        raise errors.ValidationFailed([str(exc)], element) from exc
    pending[invoice["InvoiceID"]] = pending.get(invoice["InvoiceID"], Decimal("0")) + amount
    code = account.get("Code") or "090"
    return {
        "_invoice": invoice["InvoiceID"],
        "Amount": amount,
        "Date": day,
        "Reference": str(item.get("Reference", "")),
        "Status": "AUTHORISED",
        "Account": {"AccountID": account.get("AccountID") or stable_id(org.tenant_id, "account", code), "Code": code},
    }


def record_payments(org: Organisation, items: list[Any]) -> list[dict[str, Any]]:
    """Apply payments to invoices: every one validated first, then all applied."""
    if not items or not all(isinstance(i, dict) for i in items):
        raise errors.PostDataInvalid("A payment must be an object")
    pending: dict[str, Decimal] = {}
    plans = [_payment_plan(org, item, pending) for item in items]
    rendered = []
    for plan in plans:
        payment_id = org.new_id()
        org.payments[payment_id] = {"PaymentID": payment_id, **plan, "_updated": org.now()}
        org.changed("INVOICE", plan["_invoice"])
        rendered.append(org.render_payment(org.payments[payment_id]))
    return rendered
