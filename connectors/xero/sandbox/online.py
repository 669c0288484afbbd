"""The page behind an OnlineInvoiceUrl: what the customer sees (number, amount due, due date)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template_string
from flask.typing import ResponseReturnValue

from connectors.xero.sandbox.app import XeroSandbox

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Invoice {{ number }}</title></head>
<body><p>Local Xero sandbox: no real payment is taken.</p><h1>{{ org }}: invoice {{ number }}</h1>
<p>Amount due: {{ currency }} {{ due }}</p><p>Due date: {{ due_date }}</p></body></html>"""


def make_blueprint(sandbox: XeroSandbox) -> Blueprint:
    bp = Blueprint("xero_online", __name__)

    @bp.get("/in/<tenant_id>/<invoice_id>")
    def online_invoice(tenant_id: str, invoice_id: str) -> ResponseReturnValue:
        org = sandbox.organisations.get(tenant_id)
        record = org.invoices.get(invoice_id) if org else None
        if org is None or record is None:
            abort(404)
        with org.lock:
            return render_template_string(
                _PAGE,
                org=org.name,
                number=record["InvoiceNumber"],
                currency=record["CurrencyCode"],
                due=org.amount_due(record),
                due_date=record["DueDate"].isoformat(),
            )

    return bp
