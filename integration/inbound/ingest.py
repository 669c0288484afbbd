"""Taking in one inbound email: matched to its reminder and customer, recorded, and acted on.

A person's reply pauses that customer's reminders for the rules' `reply_pause_days` (the snapshot
reads the pause, so the policy stays pure), opens a check task when it says the invoice is paid,
and is forwarded to the owner through the configured sender. An automatic reply is recorded and
pauses nothing. Whatever cannot be matched or read is still stored with its bytes and the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.app_context import Runtime
from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.inbound.classify import automatic_reason, says_paid
from integration.inbound.mail import InboundMail
from integration.inbound.tokens import read_token
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.store.db import transaction
from integration.store.models import Action, ActivityEntry, Connection, InboundReply, MirroredCustomer
from oauth.redact import redact
from reminders.delivery import Address, DeliveryError, EmailMessage, EmailSender, InvalidMessage, make_sender

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundDeps:
    sessions: sessionmaker[Session]
    sender: EmailSender
    inbound_address: str
    token_secret: str
    from_address: str
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class InboundResult:
    status: str  # reply, automatic, unmatched, unreadable, duplicate
    reply_id: int
    detail: str


@dataclass(frozen=True)
class _Match:
    organization_id: int
    connection_id: int
    customer_id: str
    action_id: int | None
    matched_by: str


def receive(deps: InboundDeps, mail: InboundMail, source: str) -> InboundResult:
    now = deps.clock()
    with transaction(deps.sessions) as session:
        if mail.message_id:
            seen = session.scalar(
                select(InboundReply.id).where(InboundReply.source == source, InboundReply.message_id == mail.message_id)
            )
            if seen is not None:
                return InboundResult("duplicate", seen, "this message was received before")
        match, why_not = (None, "no sender address") if not mail.sender else _match(session, deps, mail)
        row = InboundReply(
            source=source,
            message_id=mail.message_id,
            sender=mail.sender[:320],
            subject=mail.subject,
            text=mail.text,
            raw=mail.raw,
            received_at=now,
            status="unmatched",
        )
        session.add(row)
        problems = list(mail.problems)
        if match is None:
            row.status, row.problem = (
                ("unreadable" if not mail.sender else "unmatched"),
                "; ".join([why_not, *problems]),
            )
            session.flush()
            return InboundResult(row.status, row.id, row.problem)
        row.organization_id, row.connection_id = match.organization_id, match.connection_id
        row.customer_provider_id, row.action_id, row.matched_by = match.customer_id, match.action_id, match.matched_by
        row.problem = "; ".join(problems) or None
        automatic = automatic_reason(mail.headers, mail.subject, mail.sender)
        name = session.scalar(
            select(MirroredCustomer.name).where(
                MirroredCustomer.connection_id == match.connection_id, MirroredCustomer.provider_id == match.customer_id
            )
        )
        if automatic:
            row.status = "automatic"
            message = f"Automatic reply from {name or mail.sender} ({automatic}): reminders continue."
        else:
            row.status = "reply"
            row.says_paid = says_paid(mail.subject, mail.fresh_text)
            days = load_rules(session, match.organization_id, match.connection_id).pauses.reply_pause_days
            row.paused_until = now + dt.timedelta(days=days) if days else None
            message = (
                f"{name or mail.sender} replied: {mail.subject or '(no subject)'}"
                + (f" Reminders paused for {days} days." if days else "")
                + (" They say it is paid: check for the payment." if row.says_paid else "")
            )
        session.flush()
        session.add(
            ActivityEntry(
                organization_id=match.organization_id,
                connection_id=match.connection_id,
                action_id=match.action_id,
                kind="customer_replied" if not automatic else "automatic_reply",
                level="warning" if row.says_paid else "info",
                message=message,
                customer_provider_id=match.customer_id,
                details={"reply_id": row.id},
            )
        )
        reply_id, status, owner = row.id, row.status, confirmed_reply_address(session, match.organization_id)
    if status == "reply":
        _forward(deps, reply_id, mail, owner, name or mail.sender)
    return InboundResult(status, reply_id, message)


def record_unreadable(deps: InboundDeps, raw: bytes, source: str, problem: str) -> InboundResult:
    """Keep what could not be read at all (its bytes and why), so nothing is lost."""
    with transaction(deps.sessions) as session:
        row = InboundReply(source=source, status="unreadable", problem=problem, raw=raw, received_at=deps.clock())
        session.add(row)
        session.flush()
        return InboundResult("unreadable", row.id, problem)


def _match(session: Session, deps: InboundDeps, mail: InboundMail) -> tuple[_Match | None, str]:
    token = read_token(mail.recipients, deps.inbound_address, deps.token_secret)
    if token.action_id is not None:
        action = session.get(Action, token.action_id)
        if action is not None and "customer_id" in action.payload:
            return _Match(
                action.organization_id, action.connection_id, str(action.payload["customer_id"]), action.id, "token"
            ), ""
    by_sender = session.execute(
        select(Connection.organization_id, MirroredCustomer.connection_id, MirroredCustomer.provider_id)
        .join(Connection, Connection.id == MirroredCustomer.connection_id)
        .where(func.lower(MirroredCustomer.email) == mail.sender, MirroredCustomer.deleted.is_(False))
        .limit(2)
    ).all()
    if len(by_sender) != 1:
        why = "no customer has this address" if not by_sender else "several customers have this address"
        return None, f"{token.problem or 'reply token names no reminder'}, and {why}"
    organization_id, connection_id, customer_id = by_sender[0]
    latest = session.scalar(
        select(Action.id)
        .where(
            Action.connection_id == connection_id,
            Action.kind == "send_reminder",
            Action.payload["customer_id"].as_string() == customer_id,
        )
        .order_by(Action.created_at.desc(), Action.id.desc())
        .limit(1)
    )
    return _Match(organization_id, connection_id, customer_id, latest, "sender"), ""


def _forward(deps: InboundDeps, reply_id: int, mail: InboundMail, owner: str | None, customer: str) -> None:
    """Send the reply on to the owner; a failure is recorded on the reply, which is kept either way."""
    ref, error = None, None
    try:
        if owner is None:
            raise InvalidMessage("no reply address is confirmed in Settings")
        receipt = deps.sender.send(
            EmailMessage(
                key=f"reply-forward:{reply_id}",
                to=(Address(owner),),
                sender=Address(deps.from_address, "arpilot"),
                reply_to=Address(mail.sender),  # answering the forward answers the customer
                subject=" ".join(f"Reply from {customer}: {mail.subject or '(no subject)'}".split())[:900],
                text=f"{customer} <{mail.sender}> replied to a reminder:\n\n{mail.text or '(no text)'}\n",
                categories=("arpilot", "reply-forward"),
            )
        )
        ref = f"{receipt.provider}:{receipt.message_id or ''}"
    except (DeliveryError, InvalidMessage) as exc:
        error = redact(str(exc)) or type(exc).__name__
        log.warning("reply %s not forwarded: %s", reply_id, error)
    with transaction(deps.sessions) as session:
        row = session.get(InboundReply, reply_id)
        assert row is not None
        row.forwarded_ref, row.forward_error = ref, error


def inbound_deps(runtime: Runtime) -> InboundDeps:
    """What the webhook and the inbox reader take mail in with, from the process's settings."""
    settings = runtime.settings
    return InboundDeps(
        sessions=runtime.sessions,
        sender=make_sender(settings),
        inbound_address=settings.inbound_address,
        token_secret=settings.secret_key,
        from_address=DEFAULT_FROM_ADDRESS,
    )
