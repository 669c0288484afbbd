"""The page an InvoiceLink opens: the invoice's balance and a Pay button that records a payment,
so a person clicking the link in a reminder sees the invoice get paid in the sandbox."""

from __future__ import annotations

from flask import Blueprint, abort, render_template_string, request
from flask.typing import ResponseReturnValue

from connectors.quickbooks.sandbox import writes
from connectors.quickbooks.sandbox.app import QboSandbox

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Invoice {{ inv.DocNumber }}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto">
<p><em>Local QuickBooks sandbox: no money moves.</em></p>
<h1>{{ company.name }}: invoice {{ inv.DocNumber }}</h1>
<p>Due {{ inv.DueDate }}. Balance: {{ inv.CurrencyRef.value }} {{ "%.2f"|format(inv.Balance) }}</p>
{% if paid %}<p role="status">Thank you: your payment was recorded.</p>{% endif %}
{% if inv.Balance > 0 %}<form method="post">
<button type="submit">Pay {{ "%.2f"|format(inv.Balance) }} now</button></form>
{% else %}<p>This invoice is paid.</p>{% endif %}
</body></html>"""


def make_blueprint(sandbox: QboSandbox) -> Blueprint:
    bp = Blueprint("qbo_pay", __name__)

    @bp.route("/app/pay/<realm>/<invoice_id>", methods=["GET", "POST"])
    def pay(realm: str, invoice_id: str) -> ResponseReturnValue:
        company = sandbox.company(realm)
        if company is None or invoice_id not in company.entities["Invoice"]:
            abort(404)
        with company.lock:
            invoice = company.read("Invoice", invoice_id)
            paid = False
            if request.method == "POST" and invoice["Balance"] > 0:
                writes.save(
                    company,
                    "Payment",
                    {
                        "CustomerRef": invoice["CustomerRef"],
                        "TotalAmt": invoice["Balance"],
                        "Line": [
                            {"Amount": invoice["Balance"], "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
                        ],
                    },
                )
                invoice, paid = company.read("Invoice", invoice_id), True
        return render_template_string(_PAGE, inv=invoice, company=company, paid=paid)

    return bp
