"""What a signed-in owner does with their account whichever provider they connected: sign out, and
disconnect one of their connections (`POST /sign-out`; `GET /connections/<id>/disconnect` says what
disconnecting does and asks, its form `POST`s to the same address).

Both are POST forms carrying the CSRF token (integration.web.security), so no other site can sign an
owner out or disconnect their company.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from integration.store.connections import PROVIDER_NAMES
from integration.store.models import Connection, ConnectionStatus, User
from integration.store.scoping import scoped
from integration.web import connect_quickbooks, connect_xero
from integration.web.common import AFTER_DISCONNECT, page, runtime, signed_in_organization_id
from integration.web.disconnected import disconnected_words
from oauth.intuit import PROVIDER as QUICKBOOKS
from oauth.xero import PROVIDER as XERO

bp = Blueprint("account", __name__)

# provider -> how one of its connections is disconnected (the owner's connection row, who asked).
Disconnector = Callable[[Connection, str | None], ResponseReturnValue]
DISCONNECTORS: dict[str, Disconnector] = {QUICKBOOKS: connect_quickbooks.disconnect, XERO: connect_xero.disconnect}


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """Forget the signed-in owner."""
    session.clear()
    return redirect(url_for("dashboard"))


@bp.get("/connections/<int:connection_id>/disconnect")
def confirm_disconnect(connection_id: int) -> ResponseReturnValue:
    """What disconnecting does, and the button that does it: a company is never disconnected by one stray click."""
    found = _owned(connection_id)
    if not isinstance(found, Connection):
        return found
    if found.status is ConnectionStatus.DISCONNECTED:
        return page("Already disconnected", disconnected_words(found), retry=True, provider=found.provider)
    return render_template(
        "account/disconnect.html",
        connection_id=found.id,
        name=found.display_name or "this company",
        provider=PROVIDER_NAMES.get(found.provider, found.provider),
        after=AFTER_DISCONNECT,
    )


@bp.post("/connections/<int:connection_id>/disconnect")
def disconnect(connection_id: int) -> ResponseReturnValue:
    owned = _owned(connection_id)
    if not isinstance(owned, Connection):
        return owned
    with runtime().sessions() as db:
        user = db.get(User, session["user_id"])
    disconnector = DISCONNECTORS.get(owned.provider)
    if disconnector is None:
        return page("Not supported", f"{owned.provider} connections cannot be disconnected here.", 400)
    return disconnector(owned, (user.email or user.name) if user else None)


def _owned(connection_id: int) -> Connection | ResponseReturnValue:
    """The signed-in organization's connection, or the page to answer with."""
    organization_id = signed_in_organization_id()
    if organization_id is None:
        return page("Please sign in", "Connect to QuickBooks to sign in, then try again.", 401, retry=True)
    with runtime().sessions() as db:
        owned = db.execute(
            scoped(Connection, organization_id).where(Connection.id == connection_id)
        ).scalar_one_or_none()
    if owned is None:  # another organization's connection looks exactly like a missing one
        return page("No such connection", "This connection does not exist.", 404)
    return owned
