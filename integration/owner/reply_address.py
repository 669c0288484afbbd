"""The owner's reply address: where customers' replies are forwarded. Suggested from sign-in (the
provider's userinfo email) and confirmed by the owner in Settings; live mode waits for it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from integration.store.models import Organization, User
from integration.store.scoping import scoped
from integration.store.team import OWNER
from reminders.delivery import Address, InvalidMessage


class BadReplyAddress(ValueError):
    """Not one plain email address the sender would accept."""


def confirmed_reply_address(session: Session, organization_id: int) -> str | None:
    organization = session.get(Organization, organization_id)
    if organization is None or organization.reply_address_confirmed_at is None:
        return None
    return organization.reply_address


def suggested_reply_address(session: Session, organization_id: int) -> str:
    """The address saved before, else the owner's sign-in email, else nothing."""
    organization = session.get(Organization, organization_id)
    if organization is not None and organization.reply_address:
        return organization.reply_address
    owner = session.scalars(
        scoped(User, organization_id).where(User.role == OWNER, User.email.is_not(None)).order_by(User.id)
    ).first()
    return owner.email if owner and owner.email else ""


def confirm_reply_address(session: Session, organization_id: int, address: str, now: dt.datetime) -> str:
    address = address.strip()
    try:
        Address(address)  # the sender's own rule, so what is saved can always be sent to
    except InvalidMessage:
        raise BadReplyAddress(f"{address!r} is not one email address") from None
    if "," in address or ";" in address or len(address) > 320:
        raise BadReplyAddress("give one email address")
    organization = session.get(Organization, organization_id)
    assert organization is not None
    organization.reply_address, organization.reply_address_confirmed_at = address, now
    return address
