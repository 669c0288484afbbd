"""Settings for one customer and its invoices: pause, exclude, custom grace, opted out; and per
invoice a dispute, a promise to pay by a date, a payment plan in instalments, and the customer's
word that it is paid. The customer's page link (integration.customer) is shown here, and revoked.

Customers and invoices are the mirror's rows, reached only through the signed-in organization
(`scoped`), by their row ids: another organization's customer is a 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func
from sqlalchemy.orm import Session

from integration.customer.links import link_for, revoke_links
from integration.owner.late_fees import charged_fees
from integration.owner.overrides import (
    CustomerWord,
    InvoiceWord,
    OwnerWordError,
    customer_word,
    invoice_pauses,
    parse_plan,
    plan_text,
    save_customer_word,
    save_invoice_word,
    stored_invoice_word,
)
from integration.policy.aging import local_today
from integration.store.db import transaction
from integration.store.models import (
    CustomerOverride,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    Organization,
)
from integration.store.scoping import scoped, still_connected
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.disconnected import refuse_if_disconnected

bp = Blueprint("customer_settings", __name__, url_prefix="/settings")  # a part of the settings pages
CUSTOMER_LIMIT = 500


@bp.get("/customers")
@owner_required
def customers() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()
    with runtime().sessions() as db:
        statement = still_connected(scoped(MirroredCustomer, g.organization_id), MirroredCustomer).where(
            MirroredCustomer.deleted.is_(False)
        )
        if query:
            statement = statement.where(func.lower(MirroredCustomer.name).contains(query.lower(), autoescape=True))
        rows = list(
            db.scalars(statement.order_by(MirroredCustomer.name, MirroredCustomer.id).limit(CUSTOMER_LIMIT + 1))
        )
        overrides = {
            (o.connection_id, o.customer_provider_id): o
            for o in db.scalars(scoped(CustomerOverride, g.organization_id))
        }
        paused_invoices = _paused_invoice_counts(db)
    listed = [
        (c, overrides.get((c.connection_id, c.provider_id)), paused_invoices.get((c.connection_id, c.provider_id), 0))
        for c in rows[:CUSTOMER_LIMIT]
    ]
    return render_template("settings/customers.html", listed=listed, query=query, more=len(rows) > CUSTOMER_LIMIT)


def _paused_invoice_counts(db: Session) -> dict[tuple[int, str], int]:
    pauses = {(p.connection_id, p.invoice_provider_id) for p in db.scalars(scoped(InvoicePause, g.organization_id))}
    counts: dict[tuple[int, str], int] = {}
    if not pauses:
        return counts
    for invoice in db.scalars(
        scoped(MirroredInvoice, g.organization_id).where(MirroredInvoice.provider_id.in_({p for _, p in pauses}))
    ):
        if (invoice.connection_id, invoice.provider_id) in pauses:
            key = (invoice.connection_id, invoice.customer_provider_id)
            counts[key] = counts.get(key, 0) + 1
    return counts


@bp.get("/customers/<int:customer_id>")
@owner_required
def customer(customer_id: int) -> ResponseReturnValue:
    return _customer_page(customer_id)


@bp.post("/customers/<int:customer_id>")
@owner_required
def save_customer(customer_id: int) -> ResponseReturnValue:
    form = request.form
    typed = {
        "paused": "paused" in form,
        "excluded": "excluded" in form,
        "opted_out": "opted_out" in form,
        "grace_days": form.get("grace_days", "").strip(),
    }
    try:
        grace = typed["grace_days"]
        if grace and not re.fullmatch(r"-?\d{1,4}", grace):
            raise OwnerWordError("grace_days", "Enter a whole number of days, or leave it empty.")
        word = CustomerWord(typed["paused"], typed["excluded"], int(grace) if grace else None, typed["opted_out"])
    except OwnerWordError as exc:
        return _customer_page(
            customer_id, customer_typed=typed, errors={("customer", exc.field): exc.message}, status=400
        )
    with transaction(runtime().sessions) as db:
        save_customer_word(db, g.organization_id, _owned_customer(db, customer_id), word)
    flash("Saved: arpilot follows this from the next cycle.")
    return redirect(url_for(".customer", customer_id=customer_id))


@bp.post("/invoices/<int:invoice_id>")
@owner_required
def save_invoice(invoice_id: int) -> ResponseReturnValue:
    form = request.form
    typed = {
        "disputed": "disputed" in form,
        "promise_to_pay": form.get("promise_to_pay", "").strip(),
        "plan": form.get("plan", "").replace("\r\n", "\n"),
        "note": form.get("note", "").strip(),
        "says_paid": "says_paid" in form,
    }
    customer_id: int | None = None
    try:
        with transaction(runtime().sessions) as db:
            invoice = _owned_invoice(db, invoice_id)
            customer_id = _invoice_customer(db, invoice).id
            organization = db.get(Organization, g.organization_id)
            assert organization is not None
            word = InvoiceWord(
                typed["disputed"],
                _date(typed["promise_to_pay"]),
                parse_plan(typed["plan"]),
                typed["note"],
                "says_paid" in form,
            )
            save_invoice_word(db, g.organization_id, invoice, word, local_today(now(), organization.timezone))
            number = invoice.number
    except OwnerWordError as exc:  # raised before anything is written; the transaction is rolled back anyway
        assert customer_id is not None
        return _customer_page(
            customer_id,
            invoice_typed={invoice_id: typed},
            errors={(str(invoice_id), exc.field): exc.message},
            status=400,
        )
    flash(f"Invoice {number}: saved. arpilot follows this from the next cycle.")
    return redirect(url_for(".customer", customer_id=customer_id) + f"#invoice-{invoice_id}")


@bp.post("/customers/<int:customer_id>/revoke-links")
@owner_required
def revoke_customer_links(customer_id: int) -> ResponseReturnValue:
    with transaction(runtime().sessions) as db:
        revoke_links(db, g.organization_id, _owned_customer(db, customer_id), now())
    flash("Every link to this customer's page sent so far no longer opens; the next reminder carries a new one.")
    return redirect(url_for(".customer", customer_id=customer_id) + "#customer-page")


def _invoice_customer(db: Session, invoice: MirroredInvoice) -> MirroredCustomer:
    row = db.scalars(
        scoped(MirroredCustomer, g.organization_id).where(
            MirroredCustomer.connection_id == invoice.connection_id,
            MirroredCustomer.provider_id == invoice.customer_provider_id,
        )
    ).one_or_none()
    if row is None or row.deleted:
        abort(404)
    return row


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OwnerWordError("promise_to_pay", f"{text!r} is not a date like 2026-12-01.") from None


def _owned_customer(db: Session, customer_id: int) -> MirroredCustomer:
    row = db.scalars(
        scoped(MirroredCustomer, g.organization_id).where(MirroredCustomer.id == customer_id)
    ).one_or_none()
    if row is None or row.deleted:
        abort(404)
    refuse_if_disconnected(db, g.organization_id, row.connection_id)
    return row


def _owned_invoice(db: Session, invoice_id: int) -> MirroredInvoice:
    row = db.scalars(scoped(MirroredInvoice, g.organization_id).where(MirroredInvoice.id == invoice_id)).one_or_none()
    if row is None:
        abort(404)
    refuse_if_disconnected(db, g.organization_id, row.connection_id)
    return row


def _customer_page(
    customer_id: int,
    *,
    customer_typed: dict[str, Any] | None = None,
    invoice_typed: dict[int, dict[str, Any]] | None = None,
    errors: dict[tuple[str, str], str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """One customer's settings and open invoices; `*_typed` and `errors` redraw a refused submit."""
    with runtime().sessions() as db:
        row = _owned_customer(db, customer_id)
        word = customer_word(db, row)
        invoices = list(
            db.scalars(
                scoped(MirroredInvoice, g.organization_id)
                .where(
                    MirroredInvoice.connection_id == row.connection_id,
                    MirroredInvoice.customer_provider_id == row.provider_id,
                    MirroredInvoice.status == "open",
                    MirroredInvoice.balance != 0,
                )
                .order_by(MirroredInvoice.due_date.is_(None), MirroredInvoice.due_date, MirroredInvoice.number)
            )
        )
        pauses = invoice_pauses(db, invoices)
        settings = runtime().settings
        page_link = link_for(db, settings.base_url, settings.secret_key, g.organization_id, row, now())
        fees = charged_fees(db, g.organization_id, row.connection_id, row.provider_id)
        organization = db.get(Organization, g.organization_id)
        assert organization is not None
        zone = ZoneInfo(organization.timezone)
    shown_customer = customer_typed or {
        "paused": word.paused,
        "excluded": word.excluded,
        "opted_out": word.opted_out,
        "grace_days": "" if word.grace_days is None else str(word.grace_days),
    }
    typed = invoice_typed or {}
    shown_invoices = []
    for invoice in invoices:
        pause = pauses.get(invoice.id)
        word = stored_invoice_word(pause)
        saved = {
            "disputed": word.disputed,
            "promise_to_pay": word.promise_to_pay.isoformat() if word.promise_to_pay else "",
            "plan": plan_text(word.plan, invoice.currency),
            "note": word.note,
            "says_paid": bool(pause and pause.says_paid),
        }
        shown_invoices.append((invoice, typed.get(invoice.id, saved), pause))
    return render_template(
        "settings/customer.html",
        customer=row,
        values=shown_customer,
        invoices=shown_invoices,
        errors=errors or {},
        page_link=page_link,
        link_days=runtime().settings.customer_link_days,
        fees=fees,
        zone=zone,
    ), status
