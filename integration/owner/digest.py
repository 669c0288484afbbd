"""The weekly digest email to each organization's owner: what arpilot did, and what needs them.

`gather_digest` reads one organization's week (I/O); `compose_digest` turns it into an email
(pure: Jinja templates `digest.html`/`digest.txt` beside the reminders); `send_digest` sends it at
most once per organization and ISO week: a row in `weekly_digests` is claimed (unique on the week)
and committed before the email leaves, so two clocks, a retry or `arpilot digest --send` run twice
never send a second copy. A failed send is recorded and may be retried; a send interrupted by a
crash is not repeated unless the sender is idempotent (the outbox is), like the executor's emails.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from integration.app_context import Runtime
from integration.owner.approvals import approvals_link
from integration.owner.call_list import CallTask, open_call_tasks
from integration.owner.call_outcomes import ACTIVITY_KIND as CALL_OUTCOME
from integration.owner.connection_health import ConnectionHealth, connection_health
from integration.owner.customer_names import CustomerNames
from integration.owner.dashboard_lists import AccountFlag, ActionLine, kind_label, status_word
from integration.policy.actions import ActionKind
from integration.policy.aging import local_today
from integration.store.db import transaction
from integration.store.models import (
    Action,
    ActionStatus,
    ActivityEntry,
    Connection,
    ConnectionStatus,
    Organization,
    User,
    WeeklyDigest,
)
from integration.store.scoping import scoped
from oauth.redact import redact
from reminders.delivery import Address, DeliveryError, EmailMessage, EmailSender
from reminders.environment import render, render_block

log = logging.getLogger(__name__)

WEEK = dt.timedelta(days=7)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class DigestFacts:
    organization_id: int
    organization_name: str
    week: str
    since: dt.datetime
    until: dt.datetime
    done: dict[str, int]  # label -> how many, for actions done in the week
    emails_sent: int
    calls_logged: int
    failed: list[ActionLine]
    calls: list[CallTask]
    escalations: list[ActionLine]
    reconnects: list[ConnectionHealth]
    newly_on_hold: list[AccountFlag]
    credits_to_apply: list[ActionLine] = field(default_factory=list)  # customers whose credit covers what they owe
    approvals: list[ActionLine] = field(default_factory=list)  # waiting in the Approve list
    warnings: list[ActionLine] = field(default_factory=list)  # done, its note refused: told, not to redo

    @property
    def needs_count(self) -> int:
        """How many things need the owner: approvals, calls, escalations, credits to apply, reconnects, new
        holds, failures."""
        return sum(
            map(
                len,
                (
                    self.approvals,
                    self.calls,
                    self.escalations,
                    self.credits_to_apply,
                    self.reconnects,
                    self.newly_on_hold,
                    self.failed,
                ),
            )
        )

    @property
    def needs_owner(self) -> bool:
        return self.needs_count > 0


def gather_digest(session: Session, organization_id: int, now: dt.datetime, interval: dt.timedelta) -> DigestFacts:
    """The seven days up to `now` for one organization."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} does not exist")
    since = now - WEEK
    names = CustomerNames(session, organization_id)
    done_rows = session.scalars(
        scoped(Action, organization_id)
        .where(Action.completed_at >= since, Action.completed_at < now)
        .order_by(Action.id)
    ).all()
    done = [r for r in done_rows if r.status is ActionStatus.DONE]
    waiting = session.scalars(
        scoped(Action, organization_id).where(Action.status == ActionStatus.AWAITING_APPROVAL).order_by(Action.id)
    ).all()
    names.load((r.connection_id, r.payload.get("customer_id")) for r in waiting)
    names.load((r.connection_id, r.payload.get("customer_id")) for r in done_rows)
    counts = Counter(kind_label(r.kind) for r in done)
    calls_logged = len(
        session.scalars(
            scoped(ActivityEntry, organization_id).where(
                ActivityEntry.kind == CALL_OUTCOME,
                ActivityEntry.created_at >= since,
                ActivityEntry.created_at < now,
            )
        ).all()
    )

    def line(row: Action) -> ActionLine:
        return ActionLine(
            row.id,
            row.completed_at or row.created_at,
            kind_label(row.kind),
            names.name(row.connection_id, row.payload.get("customer_id")),
            row.last_error if row.status is ActionStatus.FAILED else row.warning or row.reason,
            status_word(row),
        )

    return DigestFacts(
        organization_id=organization_id,
        organization_name=organization.name,
        week=iso_week(local_today(now, organization.timezone)),
        since=since,
        until=now,
        done=dict(sorted(counts.items())),
        emails_sent=sum(1 for r in done if r.kind in (ActionKind.SEND_REMINDER.value, ActionKind.RESEND_INVOICE.value)),
        calls_logged=calls_logged,
        failed=[line(r) for r in done_rows if r.status is ActionStatus.FAILED],
        calls=open_call_tasks(session, organization_id, now, names),
        escalations=[line(r) for r in done if r.kind == ActionKind.RECOMMEND_ESCALATION.value],
        credits_to_apply=[line(r) for r in done if r.kind == ActionKind.APPLY_CREDIT.value],
        reconnects=[c for c in connection_health(session, organization_id, interval, now) if c.needs_reconnect],
        newly_on_hold=[
            AccountFlag(names.name(r.connection_id, r.payload["customer_id"]), r.reason, r.completed_at or r.created_at)
            for r in done
            if r.kind == ActionKind.CREDIT_HOLD_ON.value
        ],
        approvals=[line(r) for r in waiting],
        warnings=[line(r) for r in done if r.warning],
    )


def compose_digest(
    facts: DigestFacts, to: Address, from_address: str, dashboard_url: str, link_key: str | None = None
) -> EmailMessage:
    """`link_key` (the app's secret key) signs the link to the Approve list; without it the link
    is the plain page, which asks the owner to sign in all the same."""
    approve_url = (
        approvals_link(dashboard_url, link_key, facts.organization_id)
        if link_key
        else f"{dashboard_url.rstrip('/')}/approvals"
    )
    variables: dict[str, Any] = {"facts": facts, "dashboard_url": dashboard_url, "approve_url": approve_url}
    return EmailMessage(
        key=digest_key(facts.organization_id, facts.week),
        to=(to,),
        sender=Address(from_address, "arpilot"),
        subject=render_block("digest.txt", "subject", variables),
        text=render("digest.txt", variables),
        html=render("digest.html", variables),
        categories=("arpilot", "weekly-digest"),
        custom_args={"arpilot_organization": str(facts.organization_id), "arpilot_digest": facts.week},
    )


def digest_key(organization_id: int, week: str) -> str:
    return f"digest:{organization_id}:{week}"


def owner_address(session: Session, organization_id: int) -> Address | None:
    """The organization's first owner with an email address on file."""
    owner = session.scalars(
        scoped(User, organization_id).where(User.role == "owner", User.email.is_not(None)).order_by(User.id)
    ).first()
    return Address(owner.email, owner.name) if owner and owner.email else None


@dataclass(frozen=True)
class DigestResult:
    organization_id: int
    week: str
    status: str  # sent, already_sent, no_recipient, failed
    detail: str = ""


def send_digest(
    sessions: sessionmaker[Session],
    sender: EmailSender,
    organization_id: int,
    now: dt.datetime,
    interval: dt.timedelta,
    from_address: str,
    dashboard_url: str,
    link_key: str | None = None,
) -> DigestResult:
    with sessions() as session:
        facts = gather_digest(session, organization_id, now, interval)
        to = owner_address(session, organization_id)
    if to is None:
        return DigestResult(organization_id, facts.week, "no_recipient", "no owner with an email address")
    message = compose_digest(facts, to, from_address, dashboard_url, link_key)
    if not _claim(sessions, organization_id, facts.week, to.email, getattr(sender, "idempotent", False)):
        return DigestResult(organization_id, facts.week, "already_sent")
    try:
        receipt = sender.send(message)
    except DeliveryError as exc:
        error = redact(str(exc)) or type(exc).__name__
        _settle(sessions, organization_id, facts.week, status="failed", error=error)
        return DigestResult(organization_id, facts.week, "failed", error)
    _settle(
        sessions,
        organization_id,
        facts.week,
        status="sent",
        message_ref=receipt.message_id or receipt.provider,
        sent_at=dt.datetime.now(dt.UTC),
        error=None,
    )
    return DigestResult(organization_id, facts.week, "sent", to.email)


def _claim(
    sessions: sessionmaker[Session], organization_id: int, week: str, recipient: str, idempotent_sender: bool
) -> bool:
    """Take this week's digest for sending; False when it was sent (or may have been) already."""
    try:
        with transaction(sessions) as session:
            session.add(WeeklyDigest(organization_id=organization_id, week=week, recipient=recipient, status="sending"))
        return True
    except IntegrityError:
        pass
    # Retry a failed send; an interrupted one only when the sender drops a repeated key itself.
    retryable = ("failed", "sending") if idempotent_sender else ("failed",)
    with transaction(sessions) as session:
        taken = session.execute(
            update(WeeklyDigest)
            .where(
                WeeklyDigest.organization_id == organization_id,
                WeeklyDigest.week == week,
                WeeklyDigest.status.in_(retryable),
            )
            .values(status="sending", recipient=recipient, error=None)
        )
        return taken.rowcount == 1  # type: ignore[attr-defined]


def _settle(sessions: sessionmaker[Session], organization_id: int, week: str, **values: object) -> None:
    with transaction(sessions) as session:
        session.execute(
            update(WeeklyDigest)
            .where(WeeklyDigest.organization_id == organization_id, WeeklyDigest.week == week)
            .values(**values)
        )


def organizations_to_tell(session: Session) -> list[int]:
    """Organizations with a connection that is still theirs (active or waiting for a reconnect)."""
    return list(
        session.scalars(
            select(Connection.organization_id)
            .where(Connection.status.in_((ConnectionStatus.ACTIVE, ConnectionStatus.NEEDS_RECONNECT)))
            .distinct()
            .order_by(Connection.organization_id)
        )
    )


def send_digests(
    runtime: Runtime, now: dt.datetime, organization_ids: Iterable[int] | None = None
) -> list[DigestResult]:
    """Each organization's digest (default: every one with a connection), each at most once per week."""
    from integration.cycle.run import DEFAULT_FROM_ADDRESS
    from reminders.delivery import make_sender

    settings = runtime.settings
    sender = make_sender(settings)
    if organization_ids is None:
        with runtime.sessions() as session:
            organization_ids = organizations_to_tell(session)
    results = []
    for organization_id in organization_ids:
        result = send_digest(
            runtime.sessions,
            sender,
            organization_id,
            now,
            settings.cycle_interval,
            DEFAULT_FROM_ADDRESS,
            settings.base_url,
            settings.secret_key,
        )
        log.info(
            "weekly digest for organization %s (%s): %s %s", organization_id, result.week, result.status, result.detail
        )
        results.append(result)
    return results


def send_weekly_digests() -> None:
    """The clock's weekly job."""
    from integration.cycle.run import process_runtime

    send_digests(process_runtime(), dt.datetime.now(dt.UTC))
