"""An organization's team: members with a role, and invitations to join it.

Roles: an owner does everything; a collector reads every page and logs call outcomes; a viewer
reads only (what each may post is decided in integration.web.auth). An invitation is a link with
a random token, stored as its SHA-256, good for `INVITATION_LIFETIME`, once, unless revoked first.

Functions change rows in the caller's session and never commit; a refusal raises `TeamError` with
a sentence for the person, before anything is changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from integration.store.connections import OwnerIdentity
from integration.store.models import ActivityEntry, Invitation, User, WebSession
from integration.store.scoping import scoped
from reminders.delivery.message import is_address

OWNER, COLLECTOR, VIEWER = "owner", "collector", "viewer"
ROLES = {
    OWNER: "Owner: everything, the team included",
    COLLECTOR: "Collector: reads everything, logs call outcomes",
    VIEWER: "Viewer: reads everything, changes nothing",
}
INVITATION_LIFETIME = dt.timedelta(days=7)
EMAIL_LENGTH = 320


class TeamError(ValueError):
    """A team change that cannot be made; the message says why, in plain words."""


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str  # shown once, in the link; only its hash is stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(session: Session, inviter: User, email: str, role: str, now: dt.datetime) -> NewInvitation:
    address = email.strip()
    if len(address) > EMAIL_LENGTH or not is_address(address):
        raise TeamError("Enter the email address of the person to invite, such as sam@example.com.")
    if role not in ROLES:
        raise TeamError("Choose a role: owner, collector or viewer.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization_id=inviter.organization_id,
        email=address,
        role=role,
        token_hash=token_hash(token),
        invited_by_user_id=inviter.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    _record(session, inviter.organization_id, f"{_who(inviter)} invited {address} as {role}.", now)
    return NewInvitation(invitation, token)


def open_invitation(session: Session, token: str, now: dt.datetime) -> Invitation:
    """The invitation `token` opens, while it can still be accepted."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise TeamError("This invitation link is not valid. Ask the owner who invited you for a new one.")
    if invitation.revoked_at is not None:
        raise TeamError("This invitation was withdrawn by the owner. Ask them for a new one if you still need it.")
    if invitation.accepted_at is not None:
        raise TeamError("This invitation has already been used. Sign in with QuickBooks or Xero instead.")
    if invitation.expires_at <= now:
        raise TeamError("This invitation has expired (they last 7 days). Ask the owner for a new one.")
    return invitation


def accept(session: Session, token: str, identity: OwnerIdentity, now: dt.datetime) -> User:
    """Make the person who signed in a member with the invitation's role, using the invitation up."""
    invitation = open_invitation(session, token, now)
    existing = session.scalar(select(User).where(User.provider == identity.provider, User.subject == identity.subject))
    if existing is not None:
        raise TeamError(
            "This sign-in already belongs to an arpilot account, so it cannot join another. "
            "Sign in with a different login, or ask the owner to invite another address."
        )
    # Claimed with a conditional UPDATE, so two browsers accepting one link at once make one member.
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE answers with a CursorResult
        raise TeamError("This invitation has already been used. Sign in with QuickBooks or Xero instead.")
    user = User(
        organization_id=invitation.organization_id,
        provider=identity.provider,
        subject=identity.subject,
        email=identity.email or invitation.email,
        name=identity.name,
        role=invitation.role,
    )
    session.add(user)
    session.flush()
    invitation.accepted_at, invitation.accepted_user_id = now, user.id  # the row as the UPDATE left it
    _record(session, invitation.organization_id, f"{_who(user)} joined as {invitation.role}.", now)
    return user


def revoke(session: Session, organization_id: int, invitation_id: int, now: dt.datetime) -> Invitation:
    invitation = session.scalar(scoped(Invitation, organization_id).where(Invitation.id == invitation_id))
    if invitation is None:
        raise TeamError("There is no such invitation.")
    if invitation.accepted_at is not None:
        raise TeamError(f"{invitation.email} has already joined: change their role or remove them instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        _record(session, organization_id, f"The invitation to {invitation.email} was withdrawn.", now)
    return invitation


def set_role(session: Session, organization_id: int, user_id: int, role: str, now: dt.datetime) -> User:
    if role not in ROLES:
        raise TeamError("Choose a role: owner, collector or viewer.")
    member = _member(session, organization_id, user_id)
    if member.role == OWNER and role != OWNER:
        _keep_an_owner(session, organization_id)
    if member.role != role:
        member.role = role
        _record(session, organization_id, f"{_who(member)} is now {role}.", now)
    return member


def remove(session: Session, organization_id: int, user_id: int, now: dt.datetime) -> None:
    """The member leaves the organization; every browser signed in as them is signed out."""
    member = _member(session, organization_id, user_id)
    if member.role == OWNER:
        _keep_an_owner(session, organization_id)
    _record(session, organization_id, f"{_who(member)} was removed from the team.", now)
    session.execute(delete(WebSession).where(WebSession.user_id == member.id))
    session.delete(member)
    session.flush()


def members(session: Session, organization_id: int) -> list[User]:
    return list(session.scalars(scoped(User, organization_id).order_by(User.id)))


def pending_invitations(session: Session, organization_id: int, now: dt.datetime) -> list[Invitation]:
    return list(
        session.scalars(
            scoped(Invitation, organization_id)
            .where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)
            .order_by(Invitation.id)
        )
    )


def _member(session: Session, organization_id: int, user_id: int) -> User:
    member = session.scalar(scoped(User, organization_id).where(User.id == user_id))
    if member is None:
        raise TeamError("There is no such member.")
    return member


def _keep_an_owner(session: Session, organization_id: int) -> None:
    owners = session.scalar(
        select(func.count()).select_from(User).where(User.organization_id == organization_id, User.role == OWNER)
    )
    if (owners or 0) <= 1:
        raise TeamError("The team needs at least one owner: make someone else an owner first.")


def _who(user: User) -> str:
    return user.email or user.name or "A member"


def _record(session: Session, organization_id: int, message: str, now: dt.datetime) -> None:
    session.add(ActivityEntry(organization_id=organization_id, kind="team", message=message, created_at=now))
