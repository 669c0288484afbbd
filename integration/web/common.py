"""What the web views share: the clock, the runtime, the message pages, who is signed in, and the
steps of an OAuth consent that are the same for QuickBooks and Xero.

Pages never show a token, a code or the client secret; provider failures are shown by kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from integration.app_context import Runtime
from integration.store.connections import PROVIDER_NAMES, OwnerIdentity
from integration.store.db import transaction
from integration.store.models import Organization, User
from integration.store.team import OWNER, TeamError, accept
from integration.web.soon import run_cycle_soon
from oauth.crypto import TokenCipher
from oauth.intuit import PROVIDER as QUICKBOOKS
from oauth.state import OAuthStateError, PendingAuthorization, consume_state
from oauth.xero import PROVIDER as XERO

# provider -> the endpoint that starts its consent (the connect, retry, reconnect and take-over links).
CONNECT_ENDPOINTS = {QUICKBOOKS: "connect_quickbooks.start", XERO: "connect_xero.start"}
# What every disconnect page tells the owner happens next (integration.clock.scheduler and integration.cycle.run
# run cycles for active connections only).
AFTER_DISCONNECT = (
    "Reminder cycles have stopped: arpilot sends no more reminders and writes nothing more "
    "for this company. Your reminder history is kept, activity log included; you can "
    "reconnect any time."
)
# Where an opened invitation link waits (its token) while the invited person signs in with a provider.
INVITATION_SESSION_KEY = "invitation_token"
# An OAuth error code as the providers send it; anything else is shown as "an unknown error".
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def runtime() -> Runtime:
    return current_app.extensions["arpilot"]


def cipher() -> TokenCipher:
    return TokenCipher(runtime().settings.token_encryption_keys)


def page(
    title: str, message: str, status: int = 200, *, retry: bool = False, provider: str = QUICKBOOKS
) -> ResponseReturnValue:
    """A plain message page; `retry` links to `provider`'s connect page."""
    retry_to = (url_for(CONNECT_ENDPOINTS[provider]), PROVIDER_NAMES[provider]) if retry else None
    return render_template("connect/message.html", title=title, message=message, retry_to=retry_to), status


def owned_elsewhere(provider: str, message: str) -> ResponseReturnValue:
    """409, with the way through: consenting again, asking to take the company over."""
    take_over_to = url_for(CONNECT_ENDPOINTS[provider], take_over="1")
    return render_template(
        "connect/message.html",
        title="This company is connected elsewhere",
        message=message,
        take_over_to=(take_over_to, PROVIDER_NAMES[provider]),
    ), 409


def asked_to_take_over() -> bool:
    return request.args.get("take_over") == "1"


def disconnect_reason(who: str | None) -> str:
    # No date in the text: the activity log's entry shows when, in the owner's zone and locale.
    return f"disconnected by {who or 'the owner'}"


def signed_in_user() -> User | None:
    """The signed-in person, or None (also when the user row is gone, or moved to another organization)."""
    user_id, organization_id = session.get("user_id"), session.get("organization_id")
    if user_id is None or organization_id is None:
        return None
    with runtime().sessions() as db:
        user = db.get(User, user_id)
    if user is None or user.organization_id != organization_id:
        session.clear()
        return None
    return user


def signed_in_organization_id() -> int | None:
    """The signed-in person's organization, or None."""
    user = signed_in_user()
    return user.organization_id if user else None


def signed_in_owner() -> User | None:
    """The signed-in owner: a company they consent to joins their organization."""
    user = signed_in_user()
    return user if user is not None and user.role == OWNER else None


def checked_callback(provider: str) -> PendingAuthorization | ResponseReturnValue:
    """The callback's pending authorization once its state checks out and no error came back;
    otherwise the page to answer with (400 for a bad state, a friendly page for a refusal)."""
    name = PROVIDER_NAMES[provider]
    try:
        pending = consume_state(session, provider, request.args.get("state"), now())
    except OAuthStateError as exc:
        return page(
            "This connection link cannot be used", f"{exc} Please start again.", 400, retry=True, provider=provider
        )
    error = request.args.get("error")
    if error == "access_denied":
        return page(
            f"{name} was not connected",
            "You chose not to connect arpilot. Nothing was changed; you can connect whenever you are ready.",
            retry=True,
            provider=provider,
        )
    if error:
        shown = error if _ERROR_CODE.match(error) else "an unknown error"
        return page(f"{name} did not connect", f"{name} answered with {shown}.", 400, retry=True, provider=provider)
    return pending


def signed_in_with(user: User, connection_ids: Iterable[int], *, message: str | None = None) -> ResponseReturnValue:
    """Sign the person in after a consent and start the new connections' first cycles; `message` is
    shown on the dashboard. A signed-in owner who added a company is signed in again as themselves."""
    _sign_in(user)
    for connection_id in connection_ids:
        run_cycle_soon(connection_id)  # the owner sees their invoices now, not at the next interval
    if message:
        flash(message)
    return redirect(url_for("dashboard"))


def added_to_account(names: Iterable[str]) -> str:
    """What a signed-in owner reads after consenting to a company: it is in this account, not a new one."""
    return (
        f"Connected to this account: {', '.join(names)}. The invoices appear after the first sync, "
        "in a minute or so; the Companies page lists every company."
    )


def answered_without_connecting(identity: OwnerIdentity) -> ResponseReturnValue | None:
    """The answer to a consent that connects nothing: an invited person joining the team, or a member
    (not an owner) signing in, since only owners add companies. None: the consent connects its company.

    The caller drops the new grant (see each provider's callback for whether it is revoked)."""
    token = session.get(INVITATION_SESSION_KEY)
    if token is not None:
        try:
            with transaction(runtime().sessions) as db:
                user = accept(db, token, identity, now())
                organization = db.get(Organization, user.organization_id)
                joined = f"You joined {organization.name if organization else 'the team'} as {user.role}."
        except TeamError as exc:
            session.pop(INVITATION_SESSION_KEY, None)
            return page("You could not join", str(exc), 400)
        return signed_in_with(user, [], message=joined)
    if signed_in_owner() is not None:
        return None
    with runtime().sessions() as db:
        member = db.scalar(select(User).where(User.provider == identity.provider, User.subject == identity.subject))
    if member is not None and member.role != OWNER:
        return signed_in_with(member, [])
    return None


def _sign_in(user: User) -> None:
    # A fresh session on sign-in, under a new key: nothing from before (pending states included) carries
    # over, and the key the browser had before (copied, or planted by someone else) opens nothing.
    session.clear()
    session.renew_key()  # type: ignore[attr-defined]  # integration.web.sessions.ServerSession
    session["user_id"] = user.id
    session["organization_id"] = user.organization_id
