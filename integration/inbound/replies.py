"""Customers' replies read back for the owner: the dashboard's list (one customer's are in
integration.owner.records), and the check task a "we already paid" reply opens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import or_, tuple_
from sqlalchemy.orm import Session

from integration.owner.overrides import invoice_pauses, save_invoice_word, stored_invoice_word
from integration.policy.aging import local_today
from integration.store.models import Action, InboundReply, MirroredCustomer, MirroredInvoice, Organization
from integration.store.scoping import scoped

RECENT = dt.timedelta(days=30)


@dataclass(frozen=True)
class ReplyLine:
    reply: InboundReply
    customer: MirroredCustomer | None
    thread: str | None  # the stage of the reminder replied to, e.g. "reminder_1"

    @property
    def check_open(self) -> bool:
        return self.reply.says_paid and self.reply.task_done_at is None


def recent_replies(
    session: Session, organization_id: int, now: dt.datetime, limit: int = 20, connection_id: int | None = None
) -> list[ReplyLine]:
    """The last month's replies, and any older one whose check task is still open; newest first.
    With `connection_id`, only that company's (a reply matched to no company belongs to none)."""
    replies_of = scoped(InboundReply, organization_id)
    if connection_id is not None:
        replies_of = replies_of.where(InboundReply.connection_id == connection_id)
    replies = list(
        session.scalars(
            replies_of.where(
                or_(
                    InboundReply.received_at >= now - RECENT,
                    InboundReply.says_paid.is_(True) & InboundReply.task_done_at.is_(None),
                )
            )
            .order_by(InboundReply.received_at.desc(), InboundReply.id.desc())
            .limit(limit)
        )
    )
    keys = {(r.connection_id, r.customer_provider_id) for r in replies}
    # A reply not matched to a customer or a reminder has None in its keys: it finds nothing.
    customers: dict[tuple[int | None, str | None], MirroredCustomer] = (
        {
            (c.connection_id, c.provider_id): c
            for c in session.scalars(
                scoped(MirroredCustomer, organization_id).where(
                    tuple_(MirroredCustomer.connection_id, MirroredCustomer.provider_id).in_(keys)
                )
            )
        }
        if keys
        else {}
    )
    threads: dict[int | None, str | None] = {
        action.id: action.payload.get("stage")
        for action in session.scalars(
            scoped(Action, organization_id).where(Action.id.in_({r.action_id for r in replies if r.action_id}))
        )
    }
    return [
        ReplyLine(r, customers.get((r.connection_id, r.customer_provider_id)), threads.get(r.action_id))
        for r in replies
    ]


def close_check_task(session: Session, organization_id: int, reply_id: int, now: dt.datetime) -> bool:
    """The owner has checked the payment a reply claimed; False when there is no such open task.
    A claim made on the customer's page about one invoice held that invoice's reminders: they resume
    (a payment the owner found closes the invoice at the next sync anyway)."""
    reply = session.scalar(scoped(InboundReply, organization_id).where(InboundReply.id == reply_id))
    if reply is None or not reply.says_paid or reply.task_done_at is not None:
        return False
    reply.task_done_at = now
    if reply.invoice_provider_id is not None:
        _lift_says_paid(session, organization_id, reply, now)
    return True


def _lift_says_paid(session: Session, organization_id: int, reply: InboundReply, now: dt.datetime) -> None:
    invoice = session.scalar(
        scoped(MirroredInvoice, organization_id).where(
            MirroredInvoice.connection_id == reply.connection_id,
            MirroredInvoice.provider_id == reply.invoice_provider_id,
        )
    )
    organization = session.get(Organization, organization_id)
    if invoice is None or organization is None:
        return
    stood = stored_invoice_word(invoice_pauses(session, [invoice]).get(invoice.id))
    if stood.says_paid:
        today = local_today(now, organization.timezone)
        save_invoice_word(
            session, organization_id, invoice, replace(stood, says_paid=False), today, said_by="checked by the owner"
        )
