"""The owner's Approve list: steps that threaten or restrict wait here until the owner decides.

The executor parks such a step as `awaiting_approval` (integration.policy.recheck.needs_approval).
Approving puts it back in the queue with the owner's word on the row (and, for a final notice, the
referral date the owner chose: arpilot never invents one); the next cycle performs it, re-checked
like any other step. Skipping closes it with the owner's reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from integration.store.models import Action, ActionStatus, ActivityEntry
from integration.store.scoping import scoped, still_connected

MAX_REFERRAL_DAYS = 365  # a referral date further out than a year is a typo, not a plan
_LINK_SALT = "arpilot-approve-list"


class ApprovalError(ValueError):
    """The owner's decision cannot be taken as given; `.field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Waiting:
    action_id: int
    kind: str
    stage: str | None
    customer_id: str
    connection_id: int
    reason: str
    since: dt.datetime


def awaiting(session: Session, organization_id: int) -> list[Waiting]:
    rows = session.scalars(
        still_connected(scoped(Action, organization_id), Action)
        .where(Action.status == ActionStatus.AWAITING_APPROVAL)
        .order_by(Action.id)
    )
    return [
        Waiting(r.id, r.kind, r.payload.get("stage"), r.payload["customer_id"], r.connection_id, r.reason, r.updated_at)
        for r in rows
    ]


def parse_referral_date(text: str, today: dt.date) -> dt.date | None:
    """The owner's referral date from a form field (blank: the notice names no date)."""
    text = text.strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ApprovalError(
            "referral_date", f"Enter a date like {today + dt.timedelta(days=14)}; you entered {text!r}."
        ) from None
    if not today < day <= today + dt.timedelta(days=MAX_REFERRAL_DAYS):
        raise ApprovalError("referral_date", f"Choose a date after today and within a year; you entered {day}.")
    return day


def approve(session: Session, organization_id: int, action_id: int, referral_date: dt.date | None) -> Action:
    row = _waiting_row(session, organization_id, action_id)
    word: dict[str, str] = {"decision": "approved"}
    if referral_date is not None:
        if row.payload.get("stage") != "final_notice":
            raise ApprovalError("referral_date", "Only a final notice names a referral date.")
        word["referral_date"] = referral_date.isoformat()
    row.payload = {**row.payload, "approval": word}
    row.status, row.not_before = ActionStatus.PLANNED, None
    dated = f" with the referral date {referral_date.isoformat()}" if referral_date else ""
    _log(session, row, f"You approved{dated}: {row.reason}", "action_approved")
    return row


def skip(session: Session, organization_id: int, action_id: int) -> Action:
    row = _waiting_row(session, organization_id, action_id)
    row.status, row.last_error = ActionStatus.SKIPPED, "skipped by the owner"
    row.completed_at = dt.datetime.now(dt.UTC)
    _log(session, row, f"You skipped: {row.reason}", "action_skipped")
    return row


def _waiting_row(session: Session, organization_id: int, action_id: int) -> Action:
    row = session.scalar(scoped(Action, organization_id).where(Action.id == action_id).with_for_update())
    if row is None:
        raise LookupError(f"no action {action_id}")
    if row.status is not ActionStatus.AWAITING_APPROVAL:
        raise ApprovalError(
            "action", f"This step is no longer waiting for approval (it is {row.status.value.replace('_', ' ')})."
        )
    return row


def _log(session: Session, row: Action, message: str, kind: str) -> None:
    session.add(
        ActivityEntry(
            organization_id=row.organization_id,
            connection_id=row.connection_id,
            action_id=row.id,
            level="info",
            kind=kind,
            message=message,
            customer_provider_id=row.payload.get("customer_id"),
            details={
                "kind": row.kind,
                "invoice_ids": row.payload.get("invoice_ids") or [],
                "stage": row.payload.get("stage"),
            },
        )
    )


def approvals_link(base_url: str, secret_key: str, organization_id: int) -> str:
    """The weekly digest's link to the Approve list: signed, so it names its organization
    unforgeably; the page still needs that organization's owner signed in."""
    token = URLSafeSerializer(secret_key, salt=_LINK_SALT).dumps(organization_id)
    return f"{base_url.rstrip('/')}/approvals?link={token}"


def linked_organization(token: str, secret_key: str) -> int | None:
    """The organization a digest link names, or None when the link was not signed by arpilot."""
    try:
        organization_id = URLSafeSerializer(secret_key, salt=_LINK_SALT).loads(token)
    except BadSignature:
        return None
    return organization_id if isinstance(organization_id, int) else None
