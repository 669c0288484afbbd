"""The owner's payment plan over several invoices of one customer (`integration.owner.account_plans`):
choose the invoices, the number of instalments and the first date, then edit the suggested schedule
and save. The customer is reached only through the signed-in organization (a foreign one is a 404).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.customer.actions import page_deps
from integration.customer.plan_proposal import note_plan
from integration.owner.account_plans import (
    PlanWord,
    one_currency,
    open_invoices,
    plan_standing,
    remove_account_plan,
    save_account_plan,
    stored_account_plan,
    suggested,
)
from integration.owner.overrides import OwnerWordError, parse_plan, plan_text
from integration.owner.stored_rules import load_rules
from integration.policy.aging import local_today
from integration.store.db import transaction
from integration.store.models import Connection, MirroredCustomer, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.disconnected import refuse_if_disconnected

bp = Blueprint("account_plans", __name__, url_prefix="/settings/customers")
MAX_EVERY_DAYS = 92


@bp.get("/<int:customer_id>/plan")
@owner_required
def plan(customer_id: int) -> ResponseReturnValue:
    """Without `suggest`, the current plan and the first step; with it, the suggested schedule to edit."""
    args = request.args
    if "suggest" not in args:
        return _page(customer_id, {})
    invoice_ids = args.getlist("invoice")
    count_text, first_text = args.get("count", "").strip(), args.get("first", "").strip()
    every_text = args.get("every", "30").strip()
    typed: dict[str, Any] = {"invoice_ids": invoice_ids, "count": count_text, "first": first_text, "every": every_text}
    try:
        with runtime().sessions() as db:
            customer, today = _owned_customer(db, customer_id)
            chosen = [i for i in open_invoices(db, customer) if i.provider_id in invoice_ids]
        if not chosen:
            raise OwnerWordError("invoices", "Choose at least one open invoice for the plan.")
        count = _whole(count_text, "count", "Enter how many instalments, such as 3.")
        every = _whole(every_text, "every", f"Enter the days between instalments, from 1 to {MAX_EVERY_DAYS}.")
        if not 1 <= every <= MAX_EVERY_DAYS:
            raise OwnerWordError("every", f"Enter the days between instalments, from 1 to {MAX_EVERY_DAYS}.")
        first = _day(first_text, "first") or today
        currency = one_currency(chosen)
        schedule = suggested(sum((i.balance for i in chosen), Decimal(0)), count, first, every, currency=currency)
    except OwnerWordError as exc:
        return _page(customer_id, typed, {exc.field: exc.message}, status=400)
    return _page(customer_id, {**typed, "schedule": plan_text(schedule, currency)})


@bp.post("/<int:customer_id>/plan")
@owner_required
def save(customer_id: int) -> ResponseReturnValue:
    form = request.form
    invoice_ids, schedule = form.getlist("invoice"), form.get("schedule", "").replace("\r\n", "\n")
    typed: dict[str, Any] = {"invoice_ids": invoice_ids, "schedule": schedule}
    try:
        with transaction(runtime().sessions) as db:
            customer, today = _owned_customer(db, customer_id)
            try:
                instalments = parse_plan(schedule)
            except OwnerWordError as exc:
                raise OwnerWordError("instalments", exc.message) from None
            saved = save_account_plan(db, g.organization_id, customer, PlanWord(tuple(invoice_ids), instalments), today)
            live = load_rules(db, g.organization_id, customer.connection_id).mode == "live"
            connection = db.get_one(Connection, customer.connection_id)
            organization = db.get_one(Organization, g.organization_id)
            db.expunge_all()
    except OwnerWordError as exc:  # raised before anything is written
        return _page(customer_id, typed, {exc.field: exc.message}, status=400)
    note_plan(
        page_deps(runtime(), now),
        saved,
        connection,
        organization,
        today,
        live,
        f"payment plan set by the owner: {saved.sentence}",
    )
    flash("Payment plan saved: reminders for its invoices wait while it is kept, from the next cycle.")
    return redirect(url_for(".plan", customer_id=customer_id))


@bp.post("/<int:customer_id>/plan/remove")
@owner_required
def remove(customer_id: int) -> ResponseReturnValue:
    with transaction(runtime().sessions) as db:
        customer, _ = _owned_customer(db, customer_id)
        remove_account_plan(db, g.organization_id, customer)
    flash("Payment plan removed: the reminders follow your rules again from the next cycle.")
    return redirect(url_for(".plan", customer_id=customer_id))


def _page(
    customer_id: int, typed: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    with runtime().sessions() as db:
        customer, today = _owned_customer(db, customer_id)
        invoices = open_invoices(db, customer)
        current = stored_account_plan(db, customer)
        standing = plan_standing(db, g.organization_id, customer, current, today) if current else None
    by_id = {i.provider_id: i for i in invoices}
    chosen = typed.get("invoice_ids") or (list(current.invoice_ids) if current else list(by_id))
    return render_template(
        "settings/account_plan.html",
        customer=customer,
        invoices=invoices,
        chosen=set(chosen),
        current=current,
        standing=standing,
        covered=[by_id[i] for i in current.invoice_ids if i in by_id] if current else [],
        currency=current.currency if current else customer.currency,
        typed=typed,
        first=typed.get("first") or (today + dt.timedelta(days=7)).isoformat(),
        errors=errors or {},
    ), status


def _owned_customer(db: Session, customer_id: int) -> tuple[MirroredCustomer, dt.date]:
    """The organization's customer (404 for any other) and the company's today."""
    row = db.scalars(
        scoped(MirroredCustomer, g.organization_id).where(MirroredCustomer.id == customer_id)
    ).one_or_none()
    if row is None or row.deleted:
        abort(404)
    refuse_if_disconnected(db, g.organization_id, row.connection_id)
    organization = db.get(Organization, g.organization_id)
    assert organization is not None
    return row, local_today(now(), organization.timezone)


def _whole(text: str, field: str, message: str) -> int:
    if not text.isdigit() or len(text) > 3:
        raise OwnerWordError(field, message)
    return int(text)


def _day(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OwnerWordError(field, f"{text!r} is not a date like 2026-12-01.") from None
