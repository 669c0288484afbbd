"""Connecting Xero: "Sign up with Xero", the callback making one connection per organisation granted,
and disconnecting one organisation (the owner's disconnect button posts to `integration.web.account`,
which hands a Xero connection to `disconnect` here).

One consent may grant several organisations. Each becomes its own Connection (external_id = the
tenant id, display_name = the tenant name) in the owner's organization, each holding an encrypted
copy of the grant's tokens carrying the same TokenSet.grant_id. integration.store.token_refresh.locked_grant makes
refreshing rotation-safe: the lock is the grant's, and the new tokens are stored into every
connection of the grant in the same transaction.

Disconnecting one organisation deletes its Xero connection (DELETE /connections/{id}); the grant
is revoked only when it was the grant's last connection, so the other organisations keep working.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import Blueprint, redirect, request, session
from flask.typing import ResponseReturnValue

from connectors.contract import AuthExpired, ConnectorError, ProviderValidationError
from integration.store.connections import (
    ConnectionOwnedElsewhere,
    OwnerIdentity,
    connect_company,
    load_tokens,
    mark_disconnected,
)
from integration.store.db import transaction
from integration.store.models import Connection, User
from integration.store.token_refresh import ConnectionTokenSource, locked_grant
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
from oauth.crypto import TokenSet
from oauth.errors import InvalidGrant
from oauth.state import PendingAuthorization, PkcePair, issue_state
from oauth.xero import PROVIDER as XERO
from oauth.xero import XeroOAuth, XeroTenant

log = logging.getLogger(__name__)

bp = Blueprint("connect_xero", __name__)


def _xero() -> XeroOAuth | None:
    config = runtime().settings.xero
    return XeroOAuth(config) if config else None


@bp.get("/connect/xero")
def start() -> ResponseReturnValue:
    """Sign up with Xero: the state and the PKCE verifier wait in the browser's session."""
    xero = _xero()
    if xero is None:
        return not_configured(XERO)
    pkce = PkcePair.new()
    state = issue_state(session, XERO, now(), pkce=pkce, take_over=asked_to_take_over())
    return redirect(xero.authorization_url(state, pkce))


@bp.get("/connect/xero/callback")
def callback() -> ResponseReturnValue:
    xero = _xero()
    if xero is None:
        return not_configured(XERO)
    pending = checked_callback(XERO)
    if not isinstance(pending, PendingAuthorization):
        return pending
    code = request.args.get("code", "")
    if not code or not pending.code_verifier:
        return page(
            "Xero did not connect", "Xero's answer lacked the authorization code.", 400, retry=True, provider=XERO
        )

    try:
        tokens = xero.exchange_code(code, pending.code_verifier)
        owner = xero.user_info(tokens.access_token)
        tenants = xero.tenants(tokens.access_token)
    except AuthExpired:
        return link_expired(XERO)
    except ProviderValidationError as exc:
        log.error("Xero code exchange refused: %s", exc)
        return exchange_refused(XERO)
    except ConnectorError:
        return unreachable(XERO)
    if not tenants:
        _revoke_quietly(xero, tokens.refresh_token)
        return page(
            "Xero did not connect", "No organisation was chosen on Xero's page.", 400, retry=True, provider=XERO
        )

    identity = OwnerIdentity(provider=XERO, subject=owner.subject, email=owner.email, name=owner.name)
    answered = answered_without_connecting(identity)
    if answered is not None:
        _revoke_quietly(xero, tokens.refresh_token)  # the person's own grant: nobody else's is touched
        return answered
    into = signed_in_owner()
    connected, refused = _connect_tenants(identity, tokens, tenants, take_over=pending.take_over, into=into)
    for tenant in refused:
        _remove_quietly(xero, tokens.access_token, tenant)
    if not connected:
        # A Xero grant is the consenting user's own: revoking it leaves the other account's grant alone.
        _revoke_quietly(xero, tokens.refresh_token)
        return owned_elsewhere(
            XERO,
            "Every organisation chosen is connected to another arpilot account. If you are "
            "an administrator of it at Xero, you can take it over: the other account stops "
            "working on it, is told, and keeps its history.",
        )
    user, connection_ids = connected
    log.info("connections %s: Xero organisations connected", connection_ids)
    names = [tenant.tenant_name or tenant.tenant_id for tenant in tenants if tenant not in refused]
    return signed_in_with(user, connection_ids, message=added_to_account(names) if into else None)


def _connect_tenants(
    identity: OwnerIdentity, tokens: TokenSet, tenants: list[XeroTenant], *, take_over: bool, into: User | None
) -> tuple[tuple[User, list[int]] | None, list[XeroTenant]]:
    """One connection per tenant, all in the owner's organization (`into`'s, when an owner is signed in),
    in one transaction.

    A tenant already connected to another arpilot account is left out (and handed back to Xero
    by the caller); connect_company refuses before changing anything, so the rest still commit.
    """
    user: User | None = None
    ids: list[int] = []
    refused: list[XeroTenant] = []
    with transaction(runtime().sessions) as db:
        for tenant in tenants:
            try:
                user, connection = connect_company(
                    db,
                    identity=identity,
                    external_id=tenant.tenant_id,
                    display_name=tenant.tenant_name,
                    tokens=replace(tokens, external_id=tenant.tenant_id),
                    cipher=cipher(),
                    take_over=take_over,
                    into=into,
                )
            except ConnectionOwnedElsewhere:
                refused.append(tenant)
                continue
            ids.append(connection.id)
    return ((user, ids) if user is not None else None), refused


def _revoke_quietly(xero: XeroOAuth, refresh_token: str) -> None:
    try:
        xero.revoke(refresh_token)
    except ConnectorError as exc:
        log.warning("could not revoke an unused Xero grant: %s", exc)


def _remove_quietly(xero: XeroOAuth, access_token: str, tenant: XeroTenant) -> None:
    try:
        xero.remove_tenant(access_token, tenant.connection_id)
    except ConnectorError as exc:
        log.warning("could not remove an unused Xero connection: %s", exc)


def disconnect(owned: Connection, who: str | None) -> ResponseReturnValue:
    """Hand this organisation back to Xero (the whole grant when it was the last) and stop its cycles."""
    xero = _xero()
    if xero is None:
        return not_configured(XERO)
    sessions = runtime().sessions
    try:
        access = ConnectionTokenSource(sessions, cipher(), owned.id, lambda: xero).access_token()
    except AuthExpired:
        access = None  # the grant is already gone at Xero: nothing left to give back
    except ConnectorError:
        return unreachable(XERO)
    with locked_grant(sessions, cipher(), owned.id) as (db, connection, siblings):
        tokens = load_tokens(connection, cipher())
        last_of_grant = all(sibling.id == connection.id for sibling in siblings)
        try:
            if access is not None and tokens is not None:
                for tenant in xero.tenants(access):
                    if tenant.tenant_id == connection.external_id:
                        xero.remove_tenant(access, tenant.connection_id)
                if last_of_grant:
                    xero.revoke(tokens.refresh_token)
        except InvalidGrant:
            pass  # removed or revoked inside Xero already
        except ConnectorError as exc:
            log.warning("connection %s: Xero disconnect failed: %s", owned.id, exc)
            return unreachable(XERO)
        mark_disconnected(db, connection, disconnect_reason(who))
    revoked = " and arpilot's access was revoked at Xero" if last_of_grant else ""
    return page(
        "Xero disconnected",
        f"{owned.display_name} is disconnected{revoked}. {AFTER_DISCONNECT}",
        retry=True,
        provider=XERO,
    )
