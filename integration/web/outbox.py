"""The outbox: every reminder email of the signed-in organization, sortable, searchable, a page at a time,
each opening on its own page as it was sent.

`GET /outbox?sort=date|customer|subject|status&dir=asc|desc&q=<text>&page=<n>`; `GET /outbox/<id>`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, g, render_template, request
from flask.typing import ResponseReturnValue

from integration.owner.outbox import SORTS, BadOutboxQuery, OutboxQuery, outbox_email, outbox_page
from integration.owner.records import RecordNotFound
from integration.store.models import Organization
from integration.web.auth import owner_required
from integration.web.common import runtime
from integration.web.inputs import whole_number
from integration.web.nav import add_nav_item

bp = Blueprint("outbox", __name__)


def init_app(app: Flask) -> None:
    add_nav_item(app, "outbox.index", "Outbox")


def _query() -> OutboxQuery:
    raw_page = request.args.get("page", "").strip()
    page = whole_number(raw_page) if raw_page else 1
    if page is None:
        raise BadOutboxQuery("Page must be a whole number.")
    return OutboxQuery(
        sort=request.args.get("sort", "date"),
        descending=request.args.get("dir", "desc") != "asc",
        search=request.args.get("q", ""),
        page=page,
    )


def _zone() -> ZoneInfo:
    with runtime().sessions() as db:
        organization = db.get(Organization, g.organization_id)
    assert organization is not None  # owner_required found its user, and users go with it
    return ZoneInfo(organization.timezone)


@bp.get("/outbox")
@owner_required
def index() -> ResponseReturnValue:
    error, status = None, 200
    try:
        query = _query()
    except BadOutboxQuery as exc:
        error, status, query = str(exc), 400, OutboxQuery(search=request.args.get("q", ""))
    with runtime().sessions() as db:
        found = outbox_page(db, g.organization_id, query)
    return render_template("outbox/index.html", found=found, sorts=SORTS, error=error, zone=_zone()), status


@bp.get("/outbox/<int:email_id>")
@owner_required
def email(email_id: int) -> ResponseReturnValue:
    with runtime().sessions() as db:
        try:
            found = outbox_email(db, g.organization_id, email_id)
        except RecordNotFound:
            abort(404)  # another organization's email looks exactly like a missing one
    return render_template("outbox/email.html", email=found, zone=_zone())
