"""The collections packet: one customer's complete collection record as a ZIP of HTML and CSV files,
with a one-file PDF summary (the account as a statement shows it, and the record's figures) on top.

HTML + CSV carry the whole record: the files open anywhere (a browser, a spreadsheet) without
arpilot, and the output is deterministic (entries are written in a fixed order with a fixed
timestamp, the PDF with a fixed creation date), so the same record always gives the same bytes.

The ZIP is written into a spooled temporary file: small packets stay in memory, a customer with
years of history spills to disk past `SPOOL_BYTES`, so memory stays bounded either way.

Cells a spreadsheet would run as a formula (a name like `=HYPERLINK(...)`) are written with a
leading apostrophe; the HTML is rendered by Jinja with autoescaping, so names and notes are text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from flask import current_app, render_template

from integration.documents.pdf import summary_pdf
from integration.documents.statement import Statement
from integration.owner.records import CustomerRecord
from integration.store.models import Action, ActivityEntry

SPOOL_BYTES = 8 * 1024 * 1024
_FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # ZIP entries carry this, not the build time: same record, same bytes
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def packet_filename(customer_name: str) -> str:
    """`collections-packet-<name>.zip` with the name reduced to ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", customer_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:60].strip("-")
    return f"collections-packet-{slug or 'customer'}.zip"


def _cell(value: Any) -> str:
    text = "" if value is None else str(getattr(value, "value", value))
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheets read UTF-8


_ACTION_HEADER = (
    "action_id",
    "planned_at",
    "kind",
    "stage",
    "invoice_ids",
    "reason",
    "status",
    "reference",
    "error",
    "completed_at",
)


def _action_rows(actions: Iterable[Action]) -> list[tuple[Any, ...]]:
    return [
        (
            a.id,
            a.created_at.isoformat(),
            a.kind,
            a.payload.get("stage"),
            " ".join(a.payload.get("invoice_ids") or ()),
            a.reason,
            a.status,
            a.external_ref,
            a.last_error,
            a.completed_at.isoformat() if a.completed_at else None,
        )
        for a in actions
    ]


def _activity_rows(entries: Iterable[ActivityEntry]) -> list[tuple[Any, ...]]:
    return [
        (
            e.id,
            e.created_at.isoformat(),
            e.level,
            e.kind,
            e.message,
            e.invoice_provider_id,
            e.action_id,
            json.dumps(e.details, sort_keys=True, default=str) if e.details else "",
        )
        for e in entries
    ]


_PLAN_HEADER = ("instalment_date", "amount", "invoice_ids", "invoice_numbers", "proposed_by", "agreed_at")


def _plan_rows(record: CustomerRecord) -> list[tuple[Any, ...]]:
    """The payment plan over several invoices, one row per instalment."""
    plan = record.plan
    if plan is None:
        return []
    numbers = " ".join(record.invoice_numbers.get(i, i) for i in plan.invoice_ids)
    return [
        (i["date"], i["amount"], " ".join(plan.invoice_ids), numbers, plan.proposed_by, plan.created_at.isoformat())
        for i in plan.instalments
    ]


def summary_facts(record: CustomerRecord) -> list[tuple[str, str]]:
    """What the summary PDF counts of the record, as label and value."""
    return [
        ("Invoices on record", str(len(record.invoices))),
        ("Payments on record", str(len(record.payments))),
        ("Emails to the customer", str(len(record.emails))),
        ("Calls", str(len(record.calls))),
        ("Notes and account actions", str(len(record.other_actions))),
        ("Promises, disputes and payment plans", str(len(record.pauses))),
        ("Replies from the customer", str(len(record.replies))),
        ("Credit policy accepted", "yes" if record.acceptance else "no"),
    ]


def packet_files(record: CustomerRecord, statement: Statement) -> list[tuple[str, bytes]]:
    """The packet's files, in the order they are written; `statement` is the customer's as of now."""
    c = record.customer
    return [
        ("index.html", render_template("activity/packet.html", record=record).encode()),
        ("style.css", _stylesheet()),
        (
            "customer.csv",
            _csv(
                ("provider_id", "name", "email", "phone", "currency", "active"),
                [(c.provider_id, c.name, c.email, c.phone, c.currency, c.active)],
            ),
        ),
        (
            "invoices.csv",
            _csv(
                ("provider_id", "number", "issue_date", "due_date", "total", "balance", "currency", "status"),
                [
                    (i.provider_id, i.number, i.issue_date, i.due_date, i.total, i.balance, i.currency, i.status)
                    for i in record.invoices
                ],
            ),
        ),
        (
            "payments.csv",
            _csv(
                ("provider_id", "date", "amount", "currency", "applied_to", "deleted"),
                [
                    (
                        p.provider_id,
                        p.date,
                        p.amount,
                        p.currency,
                        " ".join(f"{a.get('invoice_id')}:{a.get('amount')}" for a in p.applied_to),
                        p.deleted,
                    )
                    for p in record.payments
                ],
            ),
        ),
        (
            "promises.csv",
            _csv(
                ("invoice_id", "invoice_number", "disputed", "promise_to_pay", "payment_plan", "note", "updated_at"),
                [
                    (
                        p.invoice_provider_id,
                        record.invoice_numbers.get(p.invoice_provider_id),
                        p.disputed,
                        p.promise_to_pay,
                        " ".join(f"{i.get('date')}:{i.get('amount')}" for i in p.plan),
                        p.note,
                        p.updated_at.isoformat(),
                    )
                    for p in record.pauses
                ],
            ),
        ),
        ("plans.csv", _csv(_PLAN_HEADER, _plan_rows(record))),
        (
            "credit-policy-acceptance.csv",
            _csv(
                ("policy_version", "accepted_at", "name", "title", "ip"),
                [
                    (a.policy_version, a.accepted_at.isoformat(), a.name, a.title, a.ip)
                    for a in ([record.acceptance] if record.acceptance else [])
                ],
            ),
        ),
        ("emails.csv", _csv(_ACTION_HEADER, _action_rows(record.emails))),
        ("calls.csv", _csv(_ACTION_HEADER, _action_rows(record.calls))),
        ("notes-and-account-actions.csv", _csv(_ACTION_HEADER, _action_rows(record.other_actions))),
        (
            "activity.csv",
            _csv(
                ("entry_id", "at", "level", "kind", "message", "invoice_id", "action_id", "details"),
                _activity_rows(record.activity),
            ),
        ),
        ("summary.pdf", summary_pdf(statement, summary_facts(record))),
    ]


def _stylesheet() -> bytes:
    with current_app.open_resource("static/app.css") as sheet:
        return sheet.read()


def write_packet(record: CustomerRecord, statement: Statement) -> IO[bytes]:
    """The packet as a ZIP in a spooled temporary file, rewound for reading; the caller closes it."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in packet_files(record, statement):
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    target.seek(0)
    return target
