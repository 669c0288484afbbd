"""The owner reverses a late fee from the customer's settings page, with a note
(`integration.owner.late_fees`); the page lists the customer's fees (`customer_settings`)."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from integration.cycle.providers import connector_factory
from integration.owner.late_fees import ReversalError, reverse_late_fee
from integration.owner.stored_rules import load_rules
from integration.policy.aging import local_today
from integration.store.models import Action, MirroredCustomer, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, page, runtime

bp = Blueprint("late_fees", __name__, url_prefix="/settings/late-fees")


@bp.post("/<int:action_id>/reverse")
@owner_required
def reverse(action_id: int) -> ResponseReturnValue:
    organization_id: int = g.organization_id
    rt = runtime()
    with rt.sessions() as db:
        fee = db.scalars(scoped(Action, organization_id).where(Action.id == action_id)).one_or_none()
        if fee is None or fee.kind != "charge_late_fee":
            return page("No such late fee", "This late fee does not exist.", 404)
        customer = db.scalars(
            scoped(MirroredCustomer, organization_id).where(
                MirroredCustomer.connection_id == fee.connection_id,
                MirroredCustomer.provider_id == fee.payload["customer_id"],
            )
        ).first()
        organization = db.get(Organization, organization_id)
        assert organization is not None
        today = local_today(now(), organization.timezone)
        live = load_rules(db, organization_id).mode == "live"
    back = url_for("customer_settings.customer", customer_id=customer.id) + "#late-fees" if customer else "/"
    try:
        reversed_ = reverse_late_fee(
            rt.sessions,
            organization_id,
            action_id,
            request.form.get("note", ""),
            connector_factory(rt.settings, rt.sessions),
            today,
            live=live,
        )
    except ReversalError as error:
        flash(f"The late fee was not reversed: {error.message}", "error")
        return redirect(back)
    flash(f"Late fee {reversed_.fee_number} is void in the accounting system, with your note.", "ok")
    return redirect(back)
