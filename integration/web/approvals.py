"""The owner's Approve list: final notices, credit holds and escalations waiting for a decision.

Reached from the dashboard and from the weekly digest's signed link; either way the owner must be
signed in, and a link signed for another organization is a 404 like a missing page.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from integration.owner.approvals import ApprovalError, approve, awaiting, linked_organization, parse_referral_date, skip
from integration.owner.customer_names import CustomerNames
from integration.owner.dashboard_lists import kind_label
from integration.policy.aging import local_today
from integration.store.db import transaction
from integration.store.models import Action, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.disconnected import refuse_if_disconnected
from integration.web.formatting import day_text, request_style
from integration.web.nav import add_nav_item

bp = Blueprint("approvals", __name__, url_prefix="/approvals")


def init_app(app: Flask) -> None:
    add_nav_item(app, "approvals.waiting", "Approve")


@bp.get("")
@owner_required
def waiting() -> ResponseReturnValue:
    link = request.args.get("link")
    if link is not None and linked_organization(link, runtime().settings.secret_key) != g.organization_id:
        abort(404)  # a link for another organization, or not arpilot's: nothing to show
    return _page()


@bp.post("/<int:action_id>")
@owner_required
def decide(action_id: int) -> ResponseReturnValue:
    decision, typed = request.form.get("decision"), request.form.get("referral_date", "")
    try:
        with transaction(runtime().sessions) as db:
            step = db.scalar(scoped(Action, g.organization_id).where(Action.id == action_id))
            if step is None:
                abort(404)  # another organization's step looks like a missing one, whatever the form says
            refuse_if_disconnected(db, g.organization_id, step.connection_id)
            organization = db.get(Organization, g.organization_id)
            assert organization is not None
            if decision == "approve":
                referral = parse_referral_date(typed, local_today(now(), organization.timezone))
                approve(db, g.organization_id, action_id, referral)
                # The date input is ISO, as HTML has it; the owner reads the chosen day back in their own form.
                naming = f", naming {day_text(referral, request_style())} as the referral date" if referral else ""
                flash(f"Approved{naming}: it goes out in the next cycle, within your sending hours.")
            elif decision == "skip":
                skip(db, g.organization_id, action_id)
                flash("Skipped: nothing is sent or changed for this step.")
            else:
                raise ApprovalError("decision", "Choose Approve or Skip.")
    except LookupError:
        abort(404)
    except ApprovalError as exc:
        return _page(errors={action_id: str(exc)}, typed={action_id: typed}, status=400)
    return redirect(url_for("approvals.waiting"))


def _page(
    *, errors: dict[int, str] | None = None, typed: dict[int, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    with runtime().sessions() as db:
        rows = awaiting(db, g.organization_id)
        names = CustomerNames(db, g.organization_id)
        names.load((w.connection_id, w.customer_id) for w in rows)
        listed = [(w, kind_label(w.kind), names.name(w.connection_id, w.customer_id)) for w in rows]
    errors = errors or {}
    shown = {w.action_id for w in rows}
    elsewhere = [message for action_id, message in errors.items() if action_id not in shown]  # decided meanwhile
    return render_template(
        "approvals/waiting.html", listed=listed, errors=errors, typed=typed or {}, elsewhere=elsewhere
    ), status
