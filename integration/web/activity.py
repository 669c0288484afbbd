"""The activity log, one customer's record, and its collections packet.

`GET /activity` lists every action and activity entry of the signed-in organization, newest first,
a page at a time, filtered by `?customer=<id>` and `?invoice=<number>`. `GET /customers/<id>` shows
one customer's timeline (integration.owner.timeline); `GET /customers/<id>/collections-packet.zip`
downloads their collection record.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, g, render_template, request, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.documents.reads import customer_statement
from integration.owner.records import (
    BadFilter,
    CustomerRecord,
    FeedFilter,
    RecordNotFound,
    activity_feed,
    customer_choices,
    customer_record,
    find_customer,
)
from integration.owner.timeline import customer_timeline
from integration.store.models import Organization
from integration.web.auth import owner_required
from integration.web.common import now, runtime
from integration.web.inputs import whole_number
from integration.web.nav import add_nav_item
from integration.web.packet import packet_filename, write_packet

bp = Blueprint("activity", __name__)

CUSTOMER_CHOICES_LIMIT = 1000  # the filter's list; beyond it, a customer is reached from a row's link


def init_app(app: Flask) -> None:
    add_nav_item(app, "activity.index", "Activity")


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    value = whole_number(raw)
    if value is None:
        raise BadFilter(f"{name.capitalize()} must be a whole number.", name)
    return value


@bp.get("/activity")
@owner_required
def index() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    feed, status = None, 200
    with runtime().sessions() as db:
        try:
            wanted = FeedFilter(
                customer_id=_int_arg("customer"),
                invoice_number=request.args.get("invoice", "").strip() or None,
                page=1 if (page := _int_arg("page")) is None else page,
            )
            feed = activity_feed(db, g.organization_id, wanted)
            customer = find_customer(db, g.organization_id, wanted.customer_id) if wanted.customer_id else None
        except BadFilter as exc:
            errors[exc.field], status = str(exc), exc.status
            wanted, customer = FeedFilter(), None
        choices = customer_choices(db, g.organization_id, CUSTOMER_CHOICES_LIMIT)
        organization = db.get(Organization, g.organization_id)
    assert organization is not None  # owner_required found its user, and users go with it
    return render_template(
        "activity/index.html",
        feed=feed,
        wanted=wanted,
        customer=customer,
        choices=choices,
        errors=errors,
        args=request.args,
        zone=ZoneInfo(organization.timezone),
    ), status


def _record_or_404(db: Session, customer_id: int) -> CustomerRecord:
    try:
        return customer_record(db, g.organization_id, customer_id)
    except RecordNotFound:
        abort(404)  # another organization's customer looks exactly like a missing one


@bp.get("/customers/<int:customer_id>")
@owner_required
def customer(customer_id: int) -> ResponseReturnValue:
    """The customer's timeline: everything that happened, what they owe by age, and what comes next."""
    with runtime().sessions() as db:
        try:
            timeline = customer_timeline(db, g.organization_id, customer_id, now())
        except RecordNotFound:
            abort(404)  # another organization's customer looks exactly like a missing one
        organization = db.get(Organization, g.organization_id)
    assert organization is not None
    return render_template(
        "activity/customer.html", timeline=timeline, record=timeline.record, zone=ZoneInfo(organization.timezone)
    )


@bp.get("/customers/<int:customer_id>/collections-packet.zip")
@owner_required
def packet(customer_id: int) -> ResponseReturnValue:
    with runtime().sessions() as db:
        record = _record_or_404(db, customer_id)
        archive = write_packet(record, customer_statement(db, g.organization_id, record.customer, now()))
    # send_file streams the spooled file in chunks and closes it when the response is done.
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=packet_filename(record.customer.name),
        max_age=0,
    )
