"""Coming up: the next two weeks of planned steps per customer, each with Do it now, Skip and Pause customer.

`GET /coming-up`; `POST /coming-up/now`, `/coming-up/skip` (form: connection, key) and
`/coming-up/pause` (form: customer). The work is in `integration.owner.coming_up`; Do it now then
asks for the connection's cycle at once (`integration.web.soon`), which carries the step out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.owner.coming_up import ObserveMode, StepGone, coming_up, do_now, pause_customer, skip_step
from integration.owner.records import RecordNotFound
from integration.store.db import transaction
from integration.store.models import Organization
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.inputs import whole_number
from integration.web.nav import add_nav_item
from integration.web.soon import run_cycle_soon

bp = Blueprint("coming_up", __name__, url_prefix="/coming-up")


def init_app(app: Flask) -> None:
    add_nav_item(app, "coming_up.index", "Coming up")


@bp.get("")
@owner_required
def index() -> ResponseReturnValue:
    with runtime().sessions() as db:
        calendar = coming_up(db, g.organization_id, now())
        organization = db.get(Organization, g.organization_id)
    assert organization is not None
    return render_template("coming_up.html", calendar=calendar, zone=ZoneInfo(organization.timezone))


def _number(name: str) -> int:
    value = whole_number(request.form.get(name, "").strip())
    if value is None:
        abort(404)  # nothing names a step or customer this way: like a missing one
    return value


def _back() -> ResponseReturnValue:
    return redirect(url_for("coming_up.index"))


# What Do it now and Skip do to a projected step: (session, organization, connection, key, now) -> its label.
StepChoice = Callable[[Session, int, int, str, dt.datetime], str]


def _owner_chose(choice: StepChoice) -> tuple[int, str] | None:
    """Apply the owner's choice to the step the form names: its connection and label, or None when
    the step is gone or the company observes (said in a flash)."""
    connection_id, key = _number("connection"), request.form.get("key", "")
    try:
        with transaction(runtime().sessions) as db:
            return connection_id, choice(db, g.organization_id, connection_id, key, now())
    except RecordNotFound:
        abort(404)
    except (StepGone, ObserveMode) as exc:
        flash(str(exc))
        return None


@bp.post("/now")
@owner_required
def now_step() -> ResponseReturnValue:
    chosen = _owner_chose(do_now)
    if chosen is not None:
        connection_id, label = chosen
        run_cycle_soon(connection_id)
        flash(
            f"{label}: queued now. This company's cycle was asked to start at once; it checks the step again "
            "(pauses, payments, your sending hours) and carries it out. The activity log shows the result."
        )
    return _back()


@bp.post("/skip")
@owner_required
def skip() -> ResponseReturnValue:
    chosen = _owner_chose(skip_step)
    if chosen is not None:
        flash(f"Skipped: {chosen[1]}. arpilot will not take this step; the next one comes when it falls due.")
    return _back()


@bp.post("/pause")
@owner_required
def pause() -> ResponseReturnValue:
    try:
        with transaction(runtime().sessions) as db:
            customer = pause_customer(db, g.organization_id, _number("customer"))
            name = customer.name
    except RecordNotFound:
        abort(404)
    flash(f"Paused: arpilot sends nothing to {name} until you lift the pause in the customer's settings.")
    return _back()
