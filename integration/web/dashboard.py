"""The owner's dashboard at "/" (the landing page for visitors) and logging what came of a call.

The page, top first: banners (reconnect, failing, a cycle's progress), the headline tiles, the
approvals waiting, today's calls by expected value (one line each, the details and the outcome form
behind a disclosure), the aging chart, then the rest compact: replies, the trend (inline SVG drawn
from `integration.owner.dashboard_figures`, with a table of the same figures), today's actions,
holds and mid-month terms, the outbox, connections and the open invoices. It shows the company
the owner chose (session["company_connection_id"]), or all of them. `POST /calls/<id>/outcome`
records an outcome (`integration.owner.call_outcomes`) and comes back to the page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.cycle.providers import connector_factory
from integration.inbound.replies import recent_replies
from integration.owner.call_list import FORMULA
from integration.owner.call_outcomes import (
    CallAlreadyLogged,
    CallOutcome,
    CallTaskNotFound,
    OutcomeError,
    find_call_task,
    log_call_outcome,
    parse_outcome,
)
from integration.owner.dashboard_figures import bars, line_points, polyline
from integration.owner.dashboard_reads import CALLS_SHOWN, Dashboard, load_dashboard
from integration.owner.stored_rules import load_rules
from integration.policy.aging import local_today
from integration.store.connections import PROVIDER_NAMES
from integration.store.models import Connection, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import now, page, runtime, signed_in_organization_id
from integration.web.disconnected import refuse_if_disconnected
from integration.web.formatting import day_text, request_style
from integration.web.nav import add_nav_item

bp = Blueprint("calls", __name__)

CHART_WIDTH, CHART_HEIGHT = 480, 160
BUCKET_LABELS = {
    "current": "Current",
    "1-30": "1–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "Over 90 days",
}


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "dashboard", dashboard)
    add_nav_item(app, "dashboard", "Dashboard")


def dashboard() -> ResponseReturnValue:
    # One address for both: the landing page until an owner signs in, their dashboard after.
    organization_id = signed_in_organization_id()
    if organization_id is None:
        return render_template("landing.html")
    return _render(organization_id)


def _render(
    organization_id: int, errors: dict[int, OutcomeError] | None = None, status: int = 200
) -> ResponseReturnValue:
    settings = runtime().settings
    with runtime().sessions() as db:
        company = chosen_company(db, organization_id)
        # A refused outcome is shown beside its call, wherever that call ranks.
        shown = None if request.args.get("calls") == "all" or errors else CALLS_SHOWN
        data = load_dashboard(db, organization_id, now(), settings.cycle_interval, company, shown)
        replies = recent_replies(db, organization_id, now(), connection_id=company)
    return render_template(
        "dashboard.html",
        data=data,
        outcomes=list(CallOutcome),
        errors=errors or {},
        provider_names=PROVIDER_NAMES,
        aging_charts=aging_charts(data),
        trend_charts=trend_charts(data),
        bucket_labels=BUCKET_LABELS,
        chart_width=CHART_WIDTH,
        chart_height=CHART_HEIGHT,
        zone=ZoneInfo(data.organization.timezone),
        replies=replies,
        call_formula=FORMULA,
    ), status


def chosen_company(db: Session, organization_id: int) -> int | None:
    """The company the owner chose in the switcher, if it is one of the organization's; else None (all)."""
    chosen = session.get("company_connection_id")
    if not isinstance(chosen, int) or isinstance(chosen, bool):
        return None
    found = db.scalar(
        scoped(Connection, organization_id).where(Connection.id == chosen).with_only_columns(Connection.id)
    )
    return found


def aging_charts(data: Dashboard) -> dict[str, Any]:
    return {currency: bars(totals, width=CHART_WIDTH, height=CHART_HEIGHT) for currency, totals in data.aging.items()}


def trend_charts(data: Dashboard) -> dict[str, dict[str, Any]]:
    charts = {}
    for currency, points in data.trend.items():
        # Receivables and overdue share one scale (overdue is part of receivables); DSO has its own.
        top = max((p.receivable for p in points), default=Decimal(0))
        size = {"width": CHART_WIDTH, "height": CHART_HEIGHT}
        charts[currency] = {
            "receivable": polyline(line_points([p.receivable for p in points], top=top, **size)),
            "overdue": polyline(line_points([p.overdue for p in points], top=top, **size)),
            "dso": polyline(line_points([p.dso for p in points], **size)),
            "top": top,
            "top_dso": max((p.dso for p in points if p.dso is not None), default=0),
        }
    return charts


@bp.post("/calls/<int:action_id>/outcome")
@owner_required
def log_outcome(action_id: int) -> ResponseReturnValue:
    organization_id: int = g.organization_id
    rt = runtime()
    with rt.sessions() as db:
        task = find_call_task(db, organization_id, action_id)
        if task is None:
            return page("No such call", "This call task does not exist.", 404)
        refuse_if_disconnected(db, organization_id, task.connection_id)
        organization = db.get(Organization, organization_id)
        assert organization is not None
        today = local_today(now(), organization.timezone)
        live = load_rules(db, organization_id, task.connection_id).mode == "live"
    try:
        outcome, promised_on, comment = parse_outcome(
            request.form.get("outcome", ""),
            request.form.get("promised_on", "").strip(),
            request.form.get("comment", ""),
            today,
        )
        logged = log_call_outcome(
            rt.sessions,
            organization_id,
            action_id,
            outcome,
            promised_on,
            comment,
            connector_factory(rt.settings, rt.sessions),
            today,
            write_note=live,
        )
    except CallTaskNotFound:
        return page("No such call", "This call task does not exist.", 404)
    except OutcomeError as error:
        return _render(organization_id, {action_id: error}, 400)
    except CallAlreadyLogged as already:
        flash(f"This call was already recorded as “{already.outcome.label}”; nothing more was written.", "ok")
        return redirect(url_for("dashboard") + "#calls-heading")
    # The date input is ISO, as HTML has it; the owner reads the promised day back in their own form.
    recorded = f"Recorded “{outcome.label}”" + (f" by {day_text(promised_on, request_style())}" if promised_on else "")
    if logged.note_error:
        flash(
            f"{recorded}, but the note could not be written in the accounting system: {logged.note_error}",
            "error",
        )
    elif not logged.note_written:
        flash(f"{recorded}. Observe mode: no note was written in the accounting system.", "ok")
    else:
        flash(f"{recorded} and noted it on the invoice in the accounting system.", "ok")
    return redirect(url_for("dashboard") + "#calls-heading")
