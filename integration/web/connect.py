"""Connecting a QuickBooks company: the OAuth pages, sign-in by Flask session, disconnect.

Routes: `/connect/quickbooks` (start), `/connect/quickbooks/callback`, `/launch/quickbooks` (the
Intuit app-store Launch URL), `/disconnected/quickbooks` (the Disconnect URL Intuit sends a person
to after disconnecting inside QuickBooks) and `POST /connections/<id>/disconnect`. Every POST form
carries a Flask-WTF CSRF token (CSRFProtect is installed app-wide by `init_app`).

Pages never show a token, a code or the client secret; provider failures are shown by kind.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect

from connectors.contract import AuthExpired, ConnectorError, ProviderValidationError
from integration.app_context import Runtime
from integration.store.connections import (
    PROVIDER_NAMES,
    ConnectionOwnedElsewhere,
    OwnerIdentity,
    connect_company,
    load_tokens,
    mark_disconnected,
)
from integration.store.db import transaction
from integration.store.models import Connection, User
from integration.cycle.providers import quickbooks_company_name
from integration.store.scoping import scoped
from integration.web.soon import run_cycle_soon
from oauth.crypto import TokenCipher
from oauth.intuit import PROVIDER as QUICKBOOKS, IntuitOAuth, IntuitUser, InvalidGrant
from oauth.redact import install_log_redaction
from integration.store.token_refresh import locked_connection
from oauth.state import OAuthStateError, PendingAuthorization, consume_state, issue_state

log = logging.getLogger(__name__)

bp = Blueprint("connect", __name__)
csrf = CSRFProtect()

# Intuit realm ids are digits; the sandbox's may carry letters. Anything else is refused unread.
_REALM_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
# What every disconnect page tells the owner happens next (integration.clock.scheduler and integration.cycle.run
# run cycles for active connections only).
AFTER_DISCONNECT = ("Reminder cycles have stopped: arpilot sends no more reminders and writes nothing more "
                    "for this company. Your reminder history is kept, activity log included; you can "
                    "reconnect any time.")
# provider -> how one of its connections is disconnected (the owner's connection row, who asked).
Disconnector = Callable[[Connection, str | None], ResponseReturnValue]
DISCONNECTORS: dict[str, Disconnector] = {}


def init_app(app: Flask) -> None:
    """Install CSRF protection, log redaction and the connect pages on the app."""
    install_log_redaction()
    # CSRF is checked on every unsafe request that carries the session cookie, i.e. every owner
    # form. Machine callers (signed webhooks) send no cookie; a request without one has no ambient
    # authority to forge, so they need no exemption list that every new endpoint must remember.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    app.before_request(_protect_browser_requests)
    app.register_error_handler(CSRFError, _csrf_failed)
    from integration.web import connect_xero  # noqa: F401 - adds the Xero routes to `bp`

    app.register_blueprint(bp)


def _protect_browser_requests() -> None:
    if request.method in current_app.config["WTF_CSRF_METHODS"] and current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        csrf.protect()


def _csrf_failed(error: CSRFError) -> ResponseReturnValue:
    return page("This form has expired", "The page was open too long or came from another site. "
                 "Reload the page and try again.", 400)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def runtime() -> Runtime:
    return current_app.extensions["arpilot"]


def cipher() -> TokenCipher:
    return TokenCipher(runtime().settings.token_encryption_keys)


def _intuit() -> IntuitOAuth | None:
    config = runtime().settings.quickbooks
    return IntuitOAuth(config) if config else None


def page(title: str, message: str, status: int = 200, *, retry: bool = False,
         provider: str = QUICKBOOKS) -> ResponseReturnValue:
    """A plain message page; `retry` links to `provider`'s connect page."""
    retry_to = (url_for(f"connect.connect_{provider}"), PROVIDER_NAMES[provider]) if retry else None
    return render_template("connect/message.html", title=title, message=message, retry_to=retry_to), status


def owned_elsewhere(provider: str, message: str) -> ResponseReturnValue:
    """409, with the way through: consenting again, asking to take the company over."""
    take_over_to = url_for(f"connect.connect_{provider}", take_over="1")
    return render_template("connect/message.html", title="This company is connected elsewhere", message=message,
                           take_over_to=(take_over_to, PROVIDER_NAMES[provider])), 409


def asked_to_take_over() -> bool:
    return request.args.get("take_over") == "1"



def _not_configured() -> ResponseReturnValue:
    return page("QuickBooks is not set up", "This arpilot has no QuickBooks app credentials "
                 "(QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET).", 503)


def _unreachable() -> ResponseReturnValue:
    return page("QuickBooks could not be reached", "Intuit did not answer in time. Nothing was "
                 "changed; please try again in a minute.", 503, retry=True)


def signed_in_organization_id() -> int | None:
    """The signed-in person's organization, or None (also when the user row is gone)."""
    user_id, organization_id = session.get("user_id"), session.get("organization_id")
    if user_id is None or organization_id is None:
        return None
    with runtime().sessions() as db:
        user = db.get(User, user_id)
    if user is None or user.organization_id != organization_id:
        session.clear()
        return None
    return organization_id


def _sign_in(user: User) -> None:
    # A fresh session on sign-in, under a new key: nothing from before (pending states included) carries
    # over, and the key the browser had before (copied, or planted by someone else) opens nothing.
    session.clear()
    session.renew_key()  # type: ignore[attr-defined]  # integration.web.sessions.ServerSession
    session["user_id"] = user.id
    session["organization_id"] = user.organization_id


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """Forget the signed-in owner (a POST with the CSRF token, so no other site can sign them out)."""
    session.clear()
    return redirect(url_for("dashboard"))


@bp.get("/connect/quickbooks")
def connect_quickbooks() -> ResponseReturnValue:
    intuit = _intuit()
    if intuit is None:
        return _not_configured()
    state = issue_state(session, QUICKBOOKS, now(), take_over=asked_to_take_over())
    try:
        return redirect(intuit.authorization_url(state))
    except ConnectorError as exc:
        log.warning("QuickBooks authorization could not start: %s", exc)
        return _unreachable()


@bp.get("/launch/quickbooks")
def launch_quickbooks() -> ResponseReturnValue:
    """Intuit's app-store Launch URL: start (or refresh) the connection."""
    return redirect(url_for("connect.connect_quickbooks"))


@bp.get("/disconnected/quickbooks")
def disconnected_quickbooks() -> ResponseReturnValue:
    """Intuit's Disconnect URL. Intuit has already revoked the grant; the next refresh notices it."""
    return page("arpilot is disconnected from QuickBooks", "arpilot no longer has access to your "
                 f"QuickBooks company. {AFTER_DISCONNECT}", retry=True)


@bp.get("/connect/quickbooks/callback")
def quickbooks_callback() -> ResponseReturnValue:
    intuit = _intuit()
    if intuit is None:
        return _not_configured()
    pending = checked_callback(QUICKBOOKS)
    if not isinstance(pending, PendingAuthorization):
        return pending
    code, realm_id = request.args.get("code", ""), request.args.get("realmId", "")
    if not code or not _REALM_ID.match(realm_id):
        return page("QuickBooks did not connect", "Intuit's answer lacked the authorization code "
                     "or the company id.", 400, retry=True)

    try:
        tokens = intuit.exchange_code(code, realm_id)
        owner = intuit.user_info(tokens.access_token)
    except AuthExpired:
        return page("This connection link has expired", "The authorization was already used or "
                     "expired. Please start again.", 400, retry=True)
    except ProviderValidationError as exc:
        log.error("QuickBooks code exchange refused: %s", exc)
        return page("QuickBooks did not connect", "Intuit refused arpilot's request. The problem "
                     "has been logged for the administrator.", 502)
    except ConnectorError:
        return _unreachable()

    claimed_realm = (tokens.id_token_claims or {}).get("realmid")
    if claimed_realm is not None and str(claimed_realm) != realm_id:
        # The callback's realmId was altered on the way: never bind tokens to the wrong company.
        _revoke_quietly(intuit, tokens.refresh_token)
        return page("QuickBooks did not connect", "The company in Intuit's answer does not match "
                     "the authorization. Please start again.", 400, retry=True)

    display_name = _company_name(realm_id, tokens.access_token)
    try:
        with transaction(runtime().sessions) as db:
            user, connection = connect_company(
                db,
                identity=_identity(owner),
                external_id=realm_id,
                display_name=display_name,
                tokens=tokens,
                cipher=cipher(),
                take_over=pending.take_over,
            )
    except ConnectionOwnedElsewhere as exc:
        # The new grant is dropped unused, not revoked: revoking an Intuit token disconnects arpilot
        # from the company itself, which would cut the other account's working connection.
        return owned_elsewhere(QUICKBOOKS, str(exc))
    log.info("connection %s: QuickBooks company connected", connection.id)
    return signed_in_with(user, [connection.id])


def _company_name(realm_id: str, access_token: str) -> str | None:
    """The company's name, or None when QuickBooks cannot tell it now: connecting goes on, and the
    connection's first cycle asks again."""
    try:
        return quickbooks_company_name(runtime().settings, realm_id, access_token)
    except ConnectorError as exc:
        log.warning("QuickBooks company %s: its name could not be read while connecting: %s", realm_id, exc)
        return None


def signed_in_with(user: User, connection_ids: Iterable[int]) -> ResponseReturnValue:
    """Sign the owner in after a consent and start the new connections' first cycles."""
    _sign_in(user)
    for connection_id in connection_ids:
        run_cycle_soon(connection_id)  # the owner sees their invoices now, not at the next interval
    return redirect(url_for("dashboard"))


def checked_callback(provider: str) -> PendingAuthorization | ResponseReturnValue:
    """The callback's pending authorization once its state checks out and no error came back;
    otherwise the page to answer with (400 for a bad state, a friendly page for a refusal)."""
    name = PROVIDER_NAMES[provider]
    try:
        pending = consume_state(session, provider, request.args.get("state"), now())
    except OAuthStateError as exc:
        return page("This connection link cannot be used", f"{exc} Please start again.", 400, retry=True, provider=provider)
    error = request.args.get("error")
    if error == "access_denied":
        return page(f"{name} was not connected", "You chose not to connect arpilot. Nothing was "
                    "changed; you can connect whenever you are ready.", retry=True, provider=provider)
    if error:
        shown = error if _ERROR_CODE.match(error) else "an unknown error"
        return page(f"{name} did not connect", f"{name} answered with {shown}.", 400, retry=True, provider=provider)
    return pending


def _identity(owner: IntuitUser) -> OwnerIdentity:
    return OwnerIdentity(provider=QUICKBOOKS, subject=owner.subject, email=owner.email, name=owner.name)


def _revoke_quietly(intuit: IntuitOAuth, token: str) -> None:
    """Give back a grant arpilot will not keep; failing that, it expires unused."""
    try:
        intuit.revoke(token)
    except ConnectorError as exc:
        log.warning("could not revoke an unused QuickBooks grant: %s", exc)


@bp.post("/connections/<int:connection_id>/disconnect")
def disconnect(connection_id: int) -> ResponseReturnValue:
    organization_id = signed_in_organization_id()
    if organization_id is None:
        return page("Please sign in", "Connect to QuickBooks to sign in, then try again.", 401, retry=True)
    with runtime().sessions() as db:
        owned = db.execute(scoped(Connection, organization_id).where(Connection.id == connection_id)).scalar_one_or_none()
        user = db.get(User, session["user_id"])
    if owned is None:  # another organization's connection looks exactly like a missing one
        return page("No such connection", "This connection does not exist.", 404)
    disconnector = DISCONNECTORS.get(owned.provider)
    if disconnector is None:
        return page("Not supported", f"{owned.provider} connections cannot be disconnected here.", 400)
    return disconnector(owned, (user.email or user.name) if user else None)


def _disconnect_quickbooks(owned: Connection, who: str | None) -> ResponseReturnValue:
    intuit = _intuit()
    if intuit is None:
        return _not_configured()
    with locked_connection(runtime().sessions, owned.id) as (db, connection):
        tokens = load_tokens(connection, cipher())
        if tokens is not None:
            try:
                intuit.revoke(tokens.refresh_token)
            except InvalidGrant:
                pass  # already revoked (for instance from inside QuickBooks): nothing left to give back
            except ConnectorError as exc:
                log.warning("connection %s: revoke failed: %s", owned.id, exc)
                return _unreachable()
        mark_disconnected(db, connection, disconnect_reason(who))
    return page("QuickBooks disconnected", f"{owned.display_name} is disconnected and arpilot's access "
                 f"was revoked at Intuit. {AFTER_DISCONNECT}", retry=True)


DISCONNECTORS[QUICKBOOKS] = _disconnect_quickbooks


def disconnect_reason(who: str | None) -> str:
    return f"disconnected by {who or 'the owner'} on {now():%Y-%m-%d}"
