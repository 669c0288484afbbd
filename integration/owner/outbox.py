"""The outbox: every email arpilot sent or will send for the organization, a page at a time, and one email.

A reminder is an action of kind `send_reminder` (arpilot's own email) or `resend_invoice` (the
accounting system emails its invoice), and a monthly statement one of kind `send_statement`; its
subject, recipients and text are kept in the action's payload as it went out. Sorting, searching
and paging happen in the database; every query starts from `integration.store.scoping.scoped`, so
another organization's email is simply not found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy.orm import Session

from integration.cycle.email_send import email_note
from integration.owner.records import RecordNotFound
from integration.policy.actions import ActionKind
from integration.policy.reasons import STAGE_WORDS
from integration.store.models import Action, ActionStatus, MirroredCustomer
from integration.store.scoping import scoped

PAGE_SIZE = 50
# An account plan's instalment reminder and a statement are emails to the customer like the ladder's.
EMAIL_KINDS = (
    ActionKind.SEND_REMINDER.value,
    ActionKind.RESEND_INVOICE.value,
    ActionKind.SEND_STATEMENT.value,
    ActionKind.INSTALMENT_REMINDER.value,
)
SORTS = ("date", "customer", "subject", "status")
SEARCH_LIMIT = 200  # characters; a longer search is cut, never refused
STATUS_WORDS = {
    ActionStatus.PLANNED: "queued",
    ActionStatus.IN_FLIGHT: "sending",
    ActionStatus.DONE: "sent",
    ActionStatus.SKIPPED: "skipped",
    ActionStatus.FAILED: "failed",
    ActionStatus.AWAITING_APPROVAL: "waiting for your approval",
}


class BadOutboxQuery(ValueError):
    """A sort or page the outbox cannot show; the message says what would work."""


@dataclass(frozen=True)
class OutboxQuery:
    sort: str = "date"
    descending: bool = True
    search: str = ""
    page: int = 1

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise BadOutboxQuery(f"Sort by one of: {', '.join(SORTS)}.")
        if self.page < 1:
            raise BadOutboxQuery("Page numbers start at 1.")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    when: dt.datetime
    customer_id: int | None  # the mirrored customer's row, for the link to their timeline
    customer_name: str
    stage: str
    recipients: str
    subject: str  # empty until arpilot writes it (as it sends), and for the accounting system's own email
    status: str


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    query: OutboxQuery
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


@dataclass(frozen=True)
class OutboxEmail:
    row: OutboxRow
    reason: str
    text: str | None  # the text as sent; None when it was not kept (the accounting system's email, or older)
    by_accounting_system: bool
    outcome: str  # what happened, in plain words
    note: str | None  # the note written on the invoices in the books, when one was
    not_before: dt.datetime | None = None  # queued until the send window opens


def status_word(row: Action) -> str:
    if row.status is ActionStatus.DONE:
        if row.kind == ActionKind.RESEND_INVOICE.value:
            return "sent by the accounting system"
        if row.warning:
            return "sent, note not written"
    return STATUS_WORDS[row.status]


def stage_words(stage: str | None) -> str:
    return STAGE_WORDS.get(stage or "", (stage or "").replace("_", " "))


def _customer_join() -> ColumnElement[bool]:
    return and_(
        MirroredCustomer.connection_id == Action.connection_id,
        MirroredCustomer.provider_id == Action.payload["customer_id"].as_string(),
    )


def _sort_column(sort: str) -> ColumnElement[Any]:
    return {
        "date": func.coalesce(Action.completed_at, Action.created_at),
        "customer": func.lower(func.coalesce(MirroredCustomer.name, "")),
        "subject": func.lower(func.coalesce(Action.payload["subject"].as_string(), "")),
        "status": _status_sql(),
    }[sort]


def _status_sql() -> ColumnElement[str]:
    """`status_word` in SQL, so the outbox sorts by the words the owner reads (the stored enum sorts
    by declaration on PostgreSQL and by name on SQLite)."""
    done = Action.status == ActionStatus.DONE
    return case(
        (and_(done, Action.kind == ActionKind.RESEND_INVOICE.value), "sent by the accounting system"),
        (and_(done, Action.warning.is_not(None)), "sent, note not written"),
        *((Action.status == status, word) for status, word in STATUS_WORDS.items()),
    )


def _searched(text: str) -> ColumnElement[bool]:
    needle = text.strip().lower()[:SEARCH_LIMIT]
    return or_(
        *(
            func.lower(func.coalesce(column, "")).contains(needle, autoescape=True)
            for column in (
                MirroredCustomer.name,
                Action.payload["subject"].as_string(),
                Action.payload["recipients"].as_string(),
                Action.payload["sent_to"].as_string(),
            )
        )
    )


def _row(action: Action, customer: MirroredCustomer | None) -> OutboxRow:
    payload = action.payload
    return OutboxRow(
        id=action.id,
        when=action.completed_at or action.created_at,
        customer_id=customer.id if customer is not None else None,
        customer_name=customer.name if customer is not None else str(payload.get("customer_id") or ""),
        stage="statement of account"
        if action.kind == ActionKind.SEND_STATEMENT.value
        else stage_words(payload.get("stage")),
        recipients=", ".join(payload.get("sent_to") or payload.get("recipients") or ()),
        subject=payload.get("subject") or "",
        status=status_word(action),
    )


def outbox_page(session: Session, organization_id: int, query: OutboxQuery) -> OutboxPage:
    statement = (
        scoped(Action, organization_id)
        .add_columns(MirroredCustomer)
        .outerjoin(MirroredCustomer, _customer_join())
        .where(Action.kind.in_(EMAIL_KINDS))
    )
    if query.search.strip():
        statement = statement.where(_searched(query.search))
    total = session.scalar(statement.with_only_columns(func.count(Action.id)).order_by(None)) or 0
    column = _sort_column(query.sort)
    order = (column.desc(), Action.id.desc()) if query.descending else (column.asc(), Action.id.asc())
    found = session.execute(statement.order_by(*order).offset((query.page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return OutboxPage([_row(action, customer) for action, customer in found], query, total)


def outbox_email(session: Session, organization_id: int, action_id: int) -> OutboxEmail:
    found = session.execute(
        scoped(Action, organization_id)
        .add_columns(MirroredCustomer)
        .outerjoin(MirroredCustomer, _customer_join())
        .where(Action.id == action_id, Action.kind.in_(EMAIL_KINDS))
    ).first()
    if found is None:
        raise RecordNotFound(f"email {action_id}")
    action, customer = found
    by_system = action.kind == ActionKind.RESEND_INVOICE.value
    delivered = action.status is ActionStatus.DONE
    return OutboxEmail(
        row=_row(action, customer),
        reason=action.reason,
        text=action.payload.get("body_text"),
        by_accounting_system=by_system,
        outcome=_outcome(action),
        note=email_note(action) if delivered and _noted(action) else None,
        not_before=action.not_before if action.status is ActionStatus.PLANNED else None,
    )


def _noted(action: Action) -> bool:
    """Whether the delivered email wrote its note on the invoices (a statement writes none)."""
    return action.kind == ActionKind.SEND_REMINDER.value and not action.warning


def _outcome(action: Action) -> str:
    if action.status is ActionStatus.DONE:
        ref = f" (reference {action.external_ref})" if action.external_ref else ""
        warned = f" The note for the books could not be written: {action.warning}" if action.warning else ""
        return f"Sent{ref}.{warned}"
    if action.status is ActionStatus.FAILED:
        return f"Not sent: {action.last_error or 'it failed'}."
    if action.status is ActionStatus.SKIPPED:
        return f"Not sent: {action.last_error or 'skipped'}."
    if action.status is ActionStatus.AWAITING_APPROVAL:
        return "Waiting for your approval in the Approve list."
    if action.status is ActionStatus.IN_FLIGHT:
        return "Being sent now."
    return "Queued: it goes out with the next cycle, inside the send window."
