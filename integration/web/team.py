"""The team: who may use this account and with which role (`/team`), invitations, and joining by one.

An owner invites by email (`POST /team/invitations`): the link is shown once on the page and sent
to the address through the app's email sender (SendGrid, or the local outbox). The invited person
opens it (`GET /join?token=...`), which keeps the token in their browser's session, and signs in
with QuickBooks or Xero: the consent's callback (integration.web.common: answered_without_connecting)
makes them a member instead of giving them an account of their own. Owners change roles and
remove members; the last owner stays.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.store.db import transaction
from integration.store.models import Organization, User
from integration.store.team import (
    ROLES,
    NewInvitation,
    TeamError,
    invite,
    members,
    open_invitation,
    pending_invitations,
    remove,
    revoke,
    set_role,
)
from integration.web.auth import owner_required
from integration.web.common import INVITATION_SESSION_KEY, now, page, runtime
from integration.web.inputs import whole_number
from integration.web.nav import add_nav_item
from reminders.delivery import Address, DeliveryError, EmailMessage, InvalidMessage, make_sender

bp = Blueprint("team", __name__)


def init_app(app: Flask) -> None:
    add_nav_item(app, "team.team", "Team")


@bp.get("/team")
@owner_required
def team() -> ResponseReturnValue:
    return _team_page()


def _team_page(
    *, link: str | None = None, typed: dict[str, str] | None = None, error: str | None = None
) -> ResponseReturnValue:
    with runtime().sessions() as db:
        people = members(db, g.organization_id)
        waiting = pending_invitations(db, g.organization_id, now())
        organization = db.get(Organization, g.organization_id)
    return render_template(
        "team/index.html",
        members=people,
        invitations=waiting,
        roles=ROLES,
        link=link,
        typed=typed or {},
        error=error,
        me=g.user_id,
        zone=ZoneInfo(organization.timezone if organization else "UTC"),
    ), 400 if error else 200


@bp.post("/team/invitations")
@owner_required
def create_invitation() -> ResponseReturnValue:
    typed = {"email": request.form.get("email", ""), "role": request.form.get("role", "")}
    try:
        with transaction(runtime().sessions) as db:
            inviter = db.get(User, g.user_id)
            assert inviter is not None  # owner_required found them
            created = invite(db, inviter, typed["email"], typed["role"], now())
            organization = db.get(Organization, g.organization_id)
            account = organization.name if organization else "an arpilot account"
    except TeamError as exc:
        return _team_page(typed=typed, error=str(exc))
    link = url_for("team.join", token=created.token, _external=True)
    flash(_sent(created, link, account))
    return _team_page(link=link)


def _sent(created: NewInvitation, link: str, account: str) -> str:
    """Email the link; the page shows it either way, so a failed send loses nothing."""
    invitation = created.invitation
    try:
        make_sender(runtime().settings).send(
            EmailMessage(
                key=f"invitation:{invitation.id}",
                to=(Address(invitation.email),),
                sender=Address(DEFAULT_FROM_ADDRESS, "arpilot"),
                subject=f"You are invited to {account} on arpilot",
                text=(
                    f"You are invited to join {account} on arpilot as {invitation.role}.\n\n"
                    f"Open this link within 7 days and sign in with QuickBooks or Xero:\n{link}\n"
                ),
                categories=("arpilot", "invitation"),
            )
        )
    except (DeliveryError, InvalidMessage) as exc:
        return f"The invitation is ready, but the email could not be sent ({exc}): copy the link below to them."
    return f"The invitation was emailed to {invitation.email}. You can also copy the link below to them."


@bp.post("/team/invitations/revoke")
@owner_required
def revoke_invitation() -> ResponseReturnValue:
    return _change(lambda db, number: revoke(db, g.organization_id, number, now()), "invitation_id", "Withdrawn.")


@bp.post("/team/members/role")
@owner_required
def change_role() -> ResponseReturnValue:
    role = request.form.get("role", "")
    return _change(
        lambda db, number: set_role(db, g.organization_id, number, role, now()), "user_id", "The role is changed."
    )


@bp.post("/team/members/remove")
@owner_required
def remove_member() -> ResponseReturnValue:
    return _change(lambda db, number: remove(db, g.organization_id, number, now()), "user_id", "Removed from the team.")


def _change(apply: Callable[[Session, int], object], field: str, done: str) -> ResponseReturnValue:
    number = whole_number(request.form.get(field, ""))
    if number is None:
        return _team_page(error="Nothing was changed: choose a member or an invitation from the list.")
    try:
        with transaction(runtime().sessions) as db:
            apply(db, number)
    except TeamError as exc:
        return _team_page(error=f"Nothing was changed: {exc}")
    flash(done)
    return redirect(url_for("team.team"))


@bp.get("/join")
def join() -> ResponseReturnValue:
    """An invitation link: say who invites whom, then sign in with a provider to accept."""
    token = request.args.get("token", "")
    try:
        with runtime().sessions() as db:
            invitation = open_invitation(db, token, now())
            organization = db.get(Organization, invitation.organization_id)
    except TeamError as exc:
        return page("This invitation cannot be used", str(exc), 400)
    session[INVITATION_SESSION_KEY] = token
    return render_template(
        "team/join.html", account=organization.name if organization else "arpilot", role=invitation.role
    )
