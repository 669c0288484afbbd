"""Connecting a QuickBooks company: the OAuth pages, and disconnecting one.

Routes: `/connect/quickbooks` (start), `/connect/quickbooks/callback`, `/launch/quickbooks` (the
Intuit app-store Launch URL) and `/disconnected/quickbooks` (the Disconnect URL Intuit sends a person
to after disconnecting inside QuickBooks). The owner's disconnect button posts to
`integration.web.account`, which hands a QuickBooks connection to `disconnect` here.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from connectors.contract import AuthExpired, ConnectorError, ProviderValidationError
from integration.cycle.providers import quickbooks_company_name
from integration.store.connections import (
    ConnectionOwnedElsewhere,
    OwnerIdentity,
    connect_company,
    load_tokens,
    mark_disconnected,
)
from integration.store.db import transaction
from integration.store.models import Connection
from integration.store.token_refresh import locked_connection
from integration.web.common import (
    AFTER_DISCONNECT,
    added_to_account,
    answered_without_connecting,
    asked_to_take_over,
    checked_callback,
    cipher,
    disconnect_reason,
    now,
    owned_elsewhere,
    page,
    runtime,
    signed_in_owner,
    signed_in_with,
)
from integration.web.connect_pages import exchange_refused, link_expired, not_configured, unreachable
from oauth.intuit import PROVIDER as QUICKBOOKS
from oauth.intuit import IntuitOAuth, IntuitUser, InvalidGrant
from oauth.state import PendingAuthorization, issue_state

log = logging.getLogger(__name__)

bp = Blueprint("connect_quickbooks", __name__)

# Intuit realm ids are digits; the sandbox's may carry letters. Anything else is refused unread.
_REALM_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def _intuit() -> IntuitOAuth | None:
    config = runtime().settings.quickbooks
    return IntuitOAuth(config) if config else None


@bp.get("/connect/quickbooks")
def start() -> ResponseReturnValue:
    intuit = _intuit()
    if intuit is None:
        return not_configured(QUICKBOOKS)
    state = issue_state(session, QUICKBOOKS, now(), take_over=asked_to_take_over())
    try:
        return redirect(intuit.authorization_url(state))
    except ConnectorError as exc:
        log.warning("QuickBooks authorization could not start: %s", exc)
        return unreachable(QUICKBOOKS)


@bp.get("/launch/quickbooks")
def launch() -> ResponseReturnValue:
    """Intuit's app-store Launch URL: start (or refresh) the connection."""
    return redirect(url_for(".start"))


@bp.get("/disconnected/quickbooks")
def disconnected() -> ResponseReturnValue:
    """Intuit's Disconnect URL. Intuit has already revoked the grant; the next refresh notices it."""
    return page(
        "arpilot is disconnected from QuickBooks",
        f"arpilot no longer has access to your QuickBooks company. {AFTER_DISCONNECT}",
        retry=True,
    )


@bp.get("/connect/quickbooks/callback")
def callback() -> ResponseReturnValue:
    intuit = _intuit()
    if intuit is None:
        return not_configured(QUICKBOOKS)
    pending = checked_callback(QUICKBOOKS)
    if not isinstance(pending, PendingAuthorization):
        return pending
    code, realm_id = request.args.get("code", ""), request.args.get("realmId", "")
    if not code or not _REALM_ID.match(realm_id):
        return page(
            "QuickBooks did not connect",
            "Intuit's answer lacked the authorization code or the company id.",
            400,
            retry=True,
        )

    try:
        tokens = intuit.exchange_code(code, realm_id)
        owner = intuit.user_info(tokens.access_token)
    except AuthExpired:
        return link_expired(QUICKBOOKS)
    except ProviderValidationError as exc:
        log.error("QuickBooks code exchange refused: %s", exc)
        return exchange_refused(QUICKBOOKS)
    except ConnectorError:
        return unreachable(QUICKBOOKS)

    claimed_realm = (tokens.id_token_claims or {}).get("realmid")
    if claimed_realm is not None and str(claimed_realm) != realm_id:
        # The callback's realmId was altered on the way: never bind tokens to the wrong company.
        _revoke_quietly(intuit, tokens.refresh_token)
        return page(
            "QuickBooks did not connect",
            "The company in Intuit's answer does not match the authorization. Please start again.",
            400,
            retry=True,
        )

    identity = _identity(owner)
    answered = answered_without_connecting(identity)
    if answered is not None:
        return answered  # the grant is dropped unused, not revoked (revoking would cut the company's connection)
    into = signed_in_owner()
    display_name = _company_name(realm_id, tokens.access_token)
    try:
        with transaction(runtime().sessions) as db:
            user, connection = connect_company(
                db,
                identity=identity,
                external_id=realm_id,
                display_name=display_name,
                tokens=tokens,
                cipher=cipher(),
                take_over=pending.take_over,
                into=into,
            )
    except ConnectionOwnedElsewhere as exc:
        # The new grant is dropped unused, not revoked: revoking an Intuit token disconnects arpilot
        # from the company itself, which would cut the other account's working connection.
        return owned_elsewhere(QUICKBOOKS, str(exc))
    log.info("connection %s: QuickBooks company connected", connection.id)
    return signed_in_with(user, [connection.id], message=added_to_account([connection.display_name]) if into else None)


def _company_name(realm_id: str, access_token: str) -> str | None:
    """The company's name, or None when QuickBooks cannot tell it now: connecting goes on, and the
    connection's first cycle asks again."""
    try:
        return quickbooks_company_name(runtime().settings, realm_id, access_token)
    except ConnectorError as exc:
        log.warning("QuickBooks company %s: its name could not be read while connecting: %s", realm_id, exc)
        return None


def _identity(owner: IntuitUser) -> OwnerIdentity:
    return OwnerIdentity(provider=QUICKBOOKS, subject=owner.subject, email=owner.email, name=owner.name)


def _revoke_quietly(intuit: IntuitOAuth, token: str) -> None:
    """Give back a grant arpilot will not keep; failing that, it expires unused."""
    try:
        intuit.revoke(token)
    except ConnectorError as exc:
        log.warning("could not revoke an unused QuickBooks grant: %s", exc)


def disconnect(owned: Connection, who: str | None) -> ResponseReturnValue:
    """Revoke arpilot's grant at Intuit and stop the connection's cycles."""
    intuit = _intuit()
    if intuit is None:
        return not_configured(QUICKBOOKS)
    with locked_connection(runtime().sessions, owned.id) as (db, connection):
        tokens = load_tokens(connection, cipher())
        if tokens is not None:
            try:
                intuit.revoke(tokens.refresh_token)
            except InvalidGrant:
                pass  # already revoked (for instance from inside QuickBooks): nothing left to give back
            except ConnectorError as exc:
                log.warning("connection %s: revoke failed: %s", owned.id, exc)
                return unreachable(QUICKBOOKS)
        mark_disconnected(db, connection, disconnect_reason(who))
    return page(
        "QuickBooks disconnected",
        f"{owned.display_name} is disconnected and arpilot's access was revoked at Intuit. {AFTER_DISCONNECT}",
        retry=True,
    )
