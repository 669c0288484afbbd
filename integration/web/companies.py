"""An organization's companies: the Companies page (`/companies`), adding one (a link to a provider's
consent, which joins the signed-in owner's organization: integration.web.common), and the company
switcher in every page's header (`POST /companies/select`).

The switcher's choice lives in the server session under `SELECTED_KEY`: a connection id, or None
for all companies. Pages that show one company at a time read it through `selected_connection_id`,
which forgets a choice that no longer holds (a company disconnected since, another organization's id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, g, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.store.connections import PROVIDER_NAMES
from integration.store.models import Connection, ConnectionStatus, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import page, runtime, signed_in_organization_id
from integration.web.inputs import whole_number
from integration.web.nav import add_nav_item

bp = Blueprint("companies", __name__)

SELECTED_KEY = "company_connection_id"
STATUS_WORDS = {
    ConnectionStatus.ACTIVE: "Connected",
    ConnectionStatus.NEEDS_RECONNECT: "Needs reconnecting",
    ConnectionStatus.DISCONNECTED: "Disconnected",
}


@dataclass(frozen=True)
class Company:
    id: int
    provider: str
    name: str


def init_app(app: Flask) -> None:
    add_nav_item(app, "companies.companies", "Companies")
    app.context_processor(_switcher)


def active_companies(db: Session, organization_id: int) -> list[Company]:
    rows = db.scalars(
        scoped(Connection, organization_id)
        .where(Connection.status == ConnectionStatus.ACTIVE)
        .order_by(Connection.display_name, Connection.id)
    )
    return [Company(c.id, PROVIDER_NAMES.get(c.provider, c.provider), c.display_name) for c in rows]


def selected_connection_id() -> int | None:
    """The company the signed-in person chose to see, or None for all of them."""
    chosen = session.get(SELECTED_KEY)
    if chosen is None:
        return None
    organization_id = g.get("organization_id") or signed_in_organization_id()  # owner_required's, when it ran
    if organization_id is None:
        return None
    with runtime().sessions() as db:
        if any(company.id == chosen for company in active_companies(db, organization_id)):
            return int(chosen)
    session.pop(SELECTED_KEY, None)  # disconnected since, or not this organization's: all companies again
    return None


def _switcher() -> dict[str, Any]:
    organization_id = signed_in_organization_id() if "organization_id" in session else None
    if organization_id is None:
        return {"company_switcher": None}
    with runtime().sessions() as db:
        companies = active_companies(db, organization_id)
    chosen = session.get(SELECTED_KEY)
    if not any(company.id == chosen for company in companies):
        chosen = None
    return {"company_switcher": {"companies": companies, "selected": chosen} if companies else None}


@bp.get("/companies")
@owner_required
def companies() -> ResponseReturnValue:
    with runtime().sessions() as db:
        organization = db.get(Organization, g.organization_id)
        assert organization is not None  # owner_required saw the signed-in member's organization
        rows = list(db.scalars(scoped(Connection, g.organization_id).order_by(Connection.id)))
    return render_template(
        "companies/index.html",
        companies=rows,
        provider_names=PROVIDER_NAMES,
        status_words=STATUS_WORDS,
        zone=ZoneInfo(organization.timezone),
        selected=selected_connection_id(),
    )


@bp.post("/companies/select")
@owner_required
def select() -> ResponseReturnValue:
    """Show one company (its id in the form's `company`) or all (`company` empty); then back where the person was."""
    typed = request.form.get("company", "").strip()
    if typed:
        with runtime().sessions() as db:
            known = {company.id for company in active_companies(db, g.organization_id)}
        chosen = whole_number(typed)
        if chosen is None or chosen not in known:
            return page(
                "No such company",
                "That company is not one of this account's connected companies, so the choice was not changed.",
                400,
            )
        session[SELECTED_KEY] = chosen
    else:
        session[SELECTED_KEY] = None
    back = request.form.get("next", "")
    # Only a path on this site: never an address elsewhere (//host, or a scheme).
    return redirect(back if back.startswith("/") and not back.startswith("//") and "\\" not in back else "/")
