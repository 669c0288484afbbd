"""The backtest page: replay a past period of the owner's own books and compare what arpilot would
have done with what QuickBooks' and Xero's own reminder schedules would have sent.

`GET /backtest` shows the form and the organization's latest run (its progress while it runs, then
its result); `POST /backtest` checks the period and starts a run (integration.owner.backtest_runs);
`GET /backtest/status` is the progress the page's script polls. Without JavaScript the page offers
a link to reload it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from integration.owner.backtest_books import Company, companies, read_books
from integration.owner.backtest_figures import measures
from integration.owner.backtest_period import MAX_DAYS, PeriodError, check_period, default_period
from integration.owner.backtest_runs import CannotStart, MemoryStore, RedisStore, Runs
from integration.owner.stored_rules import load_rules
from integration.policy.aging import local_today
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.nav import add_nav_item

bp = Blueprint("backtest", __name__, url_prefix="/backtest")
RUNS_EXTENSION = "arpilot_backtests"


def init_app(app: Flask) -> None:
    redis_url = app.extensions["arpilot"].settings.redis_url
    app.extensions[RUNS_EXTENSION] = Runs(RedisStore(redis_url) if redis_url else MemoryStore(), now)
    add_nav_item(app, "backtest.page", "Backtest")


def _runs() -> Runs:
    return current_app.extensions[RUNS_EXTENSION]


def _zone_day(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """A calendar day as the instant it starts in the company's zone, for the `when` macro."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


@bp.get("")
@owner_required
def page() -> ResponseReturnValue:
    return _page()


@bp.post("")
@owner_required
def start() -> ResponseReturnValue:
    typed = {name: request.form.get(name, "") for name in ("start", "end", "company")}
    with runtime().sessions() as db:
        listed = companies(db, g.organization_id)
        company = _chosen(listed, typed["company"])
        if company is None:
            return _page(problems={"company": "Choose one of your companies."}, typed=typed, status=400)
        today = local_today(now(), company.timezone)
        try:
            period = check_period(typed["start"], typed["end"], today)
        except PeriodError as exc:
            return _page(problems=exc.problems, typed=typed, status=400)
        books = read_books(db, g.organization_id, company.connection_id, today)
        assert books is not None  # the company is one of the organization's: companies() listed it
        rules = load_rules(db, g.organization_id)
    if not books.has_history(period.start, period.end):
        return _page(
            problems={
                "form": f"{company.name} had no invoice open from {period.start.isoformat()} to "
                f"{period.end.isoformat()}, so there is nothing to replay. Choose a period when invoices were open."
            },
            typed=typed,
            status=400,
        )
    try:
        _runs().start(g.organization_id, company, books, rules, period)
    except CannotStart as exc:
        flash(str(exc), "error")
    return redirect(url_for("backtest.page"))


@bp.get("/status")
@owner_required
def status() -> ResponseReturnValue:
    run = _runs().latest(g.organization_id)
    if run is None:
        return jsonify({"status": "none"})
    return jsonify(run.progress())


def _chosen(listed: list[Company], typed: str) -> Company | None:
    if len(listed) == 1 and not typed:
        return listed[0]
    return next((c for c in listed if str(c.connection_id) == typed), None)


def _page(
    *, problems: dict[str, str] | None = None, typed: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    with runtime().sessions() as db:
        listed = companies(db, g.organization_id)
    run = _runs().latest(g.organization_id)
    zone = ZoneInfo(run.company.timezone if run else listed[0].timezone if listed else "UTC")
    offered = run.period if run else default_period(local_today(now(), zone.key))
    context: dict[str, Any] = {
        "companies": listed,
        "run": run,
        "problems": problems or {},
        "typed": typed or {"start": offered.start.isoformat(), "end": offered.end.isoformat(), "company": ""},
        "max_days": MAX_DAYS,
        "zone": zone,
        "measures": measures(run.report) if run is not None and run.report is not None else (),
        "period_shown": (_zone_day(run.period.start, zone), _zone_day(run.period.end, zone)) if run else None,
    }
    return render_template("backtest/page.html", **context), status
