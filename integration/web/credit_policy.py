"""The credit policy page: the organization's rules as the policy its customers are held to, printable.

The content is `integration.owner.written_policy`'s document (the same sentences as its printable HTML and
plain text, autoescaped there), so the page cannot drift from what the rules do. `GET /credit-policy`
shows it in the app's layout (the print stylesheets drop the navigation and buttons);
`GET /credit-policy.txt` is the plain text, to paste into an email or terms of business.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from connectors.contract import UnsupportedCurrency
from integration.owner.stored_rules import load_rules
from integration.owner.written_policy import RenderedDocument, render_credit_policy
from integration.store.models import Organization
from integration.web.auth import owner_required
from integration.web.common import runtime
from integration.web.nav import add_nav_item
from reminders.errors import InvalidLocale

bp = Blueprint("credit_policy", __name__)


class PolicyUnwritable(ValueError):
    """The organization's locale or currency cannot be written (a setting to fix, not a crash)."""


def init_app(app: Flask) -> None:
    add_nav_item(app, "credit_policy.page", "Credit policy")


def _document() -> RenderedDocument:
    with runtime().sessions() as db:
        organization = db.get(Organization, g.organization_id)
        assert organization is not None  # owner_required found its user, and users go with it
        rules = load_rules(db, g.organization_id)
    try:
        return render_credit_policy(rules, organization.name, organization.locale, currency=organization.base_currency)
    except (InvalidLocale, UnsupportedCurrency) as exc:
        raise PolicyUnwritable(str(exc)) from exc


@bp.get("/credit-policy")
@owner_required
def page() -> ResponseReturnValue:
    try:
        document = _document()
    except PolicyUnwritable as exc:
        return render_template("credit_policy.html", document=None, problem=str(exc)), 500
    # Markup: the body was rendered by the reminders environment, which autoescapes every value.
    return render_template("credit_policy.html", document=document, body=Markup(document.body_html), problem=None)


@bp.get("/credit-policy.txt")
@owner_required
def text() -> ResponseReturnValue:
    try:
        document = _document()
    except PolicyUnwritable as exc:
        return Response(f"The credit policy cannot be written: {exc}\n", 500, mimetype="text/plain")
    return Response(
        document.text,
        mimetype="text/plain",
        headers={"Content-Disposition": 'attachment; filename="credit-policy.txt"'},
    )
