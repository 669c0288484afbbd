"""What a customer says on their page, recorded as the owner's word would be.

- "I already paid" (date, amount, reference): the invoice waits (`says_paid`, through
  `integration.owner.overrides.save_invoice_word`) and a check task opens for the owner (a reply
  that says it is paid, on the dashboard's replies list, closed with "I have checked").
- "I dispute this" (reason): the invoice's dispute pause, and the owner is emailed at once.
- "I will pay on" (a date no later than the rules' `pauses.max_days_ahead`): a promise to pay, the
  same stored word a call's promise is, so a broken promise moves the ladder on as it does today.

Each is one activity entry (kind `customer_page`) committed first, so nothing the customer said is
lost; then, in live mode only, a note on the invoice in the accounting system through the
executor's note path, keyed by the entry; then a confirmation email to the customer.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Connector, ConnectorError, Note, amount_text, minor_digits
from integration.app_context import Runtime
from integration.config import ConfigError
from integration.customer.reads import Account, amount_example, find_invoice, open_account
from integration.customer.tokens import PageKey
from integration.cycle.attempt import NOTE_PREFIX
from integration.cycle.book_writes import write_invoice_notes
from integration.cycle.providers import connector_factory
from integration.cycle.run import DEFAULT_FROM_ADDRESS
from integration.owner.overrides import (
    OwnerWordError,
    finer_than_unit,
    invoice_pauses,
    save_invoice_word,
    stored_invoice_word,
)
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.policy.recipients import checked
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, InboundReply, Organization
from oauth.redact import redact
from reminders.delivery import Address, DeliveryError, EmailMessage, EmailSender, InvalidMessage, make_sender
from reminders.text import one_line

log = logging.getLogger(__name__)

ACTIVITY_KIND = "customer_page"
SAID_BY = "said by the customer on their page"
REASON_LIMIT = 1000
REFERENCE_LIMIT = 200
MAX_AMOUNT = Decimal("1e12")  # beyond any invoice, and beyond what the activity log's figures are read as
PAID_LOOKBACK = dt.timedelta(days=3 * 365)  # a payment date further back is a typo


class Said(str, enum.Enum):
    PAID = "paid"
    DISPUTE = "dispute"
    PROMISE = "promise"


class CustomerInputError(ValueError):
    """What the customer typed cannot be taken; `.field` names the input, the text says how to fix it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotYourInvoice(LookupError):
    """The invoice is not one of this link's customer's open invoices (or the link no longer opens)."""


@dataclass(frozen=True)
class Statement:
    """What the customer said about one invoice, checked."""

    said: Said
    paid_on: dt.date | None = None
    amount: Decimal | None = None
    reference: str = ""
    reason: str = ""
    promised_on: dt.date | None = None


@dataclass(frozen=True)
class Recorded:
    entry_id: int
    invoice_number: str
    note: str  # written, failed, not written: observe mode
    confirmation_error: str | None


ConnectorFor = Callable[[Connection, Organization], Connector]


@dataclass(frozen=True)
class ActionDeps:
    sessions: sessionmaker[Session]
    sender: EmailSender
    connector_for: ConnectorFor
    from_address: str
    clock: Callable[[], dt.datetime]


def page_deps(runtime: Runtime, clock: Callable[[], dt.datetime]) -> ActionDeps:
    """What the customer's page (and the owner's plan, noted the same way) records through, from the
    process's settings."""
    return ActionDeps(
        sessions=runtime.sessions,
        sender=make_sender(runtime.settings),
        connector_for=connector_factory(runtime.settings, runtime.sessions),
        from_address=DEFAULT_FROM_ADDRESS,
        clock=clock,
    )


# --- reading the forms (pure) -------------------------------------------------------------------


def _date(text: str, field: str, what: str) -> dt.date:
    text = text.strip()
    if not text:
        raise CustomerInputError(field, f"Enter {what}.")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CustomerInputError(field, f"Enter {what} as a date like 2026-12-01.") from None


def parse_paid(paid_on: str, amount: str, reference: str, today: dt.date, currency: str) -> Statement:
    """`amount` in the invoice's `currency`, no finer than its minor unit (whole yen, fils of a dinar)."""
    day = _date(paid_on, "paid_on", "the date you paid")
    if day > today:
        raise CustomerInputError("paid_on", f"The date you paid cannot be after today ({today.isoformat()}).")
    if day < today - PAID_LOOKBACK:
        raise CustomerInputError("paid_on", "That date is more than three years ago: check the year.")
    example = f"like {amount_example(currency)}."
    try:
        value = Decimal(amount.strip().replace(",", ""))
    except InvalidOperation:
        raise CustomerInputError("amount", f"Enter the amount you paid as a number, {example}") from None
    if not value.is_finite() or value <= 0 or finer_than_unit(value, currency):
        raise CustomerInputError("amount", f"Enter the amount you paid as a number above zero, {example}")
    if value >= MAX_AMOUNT:
        raise CustomerInputError("amount", "That is more than any invoice could be: check the amount you paid.")
    reference = one_line(reference)
    if len(reference) > REFERENCE_LIMIT:
        raise CustomerInputError("reference", f"Keep the reference to {REFERENCE_LIMIT} characters.")
    return Statement(Said.PAID, paid_on=day, amount=value, reference=reference)


def parse_dispute(reason: str) -> Statement:
    reason = reason.strip()
    if not reason:
        raise CustomerInputError("reason", "Tell us what is wrong with this invoice.")
    if len(reason) > REASON_LIMIT:
        raise CustomerInputError("reason", f"Keep the reason to {REASON_LIMIT} characters.")
    return Statement(Said.DISPUTE, reason=reason)


def parse_promise(promised_on: str, today: dt.date, latest: dt.date) -> Statement:
    day = _date(promised_on, "promised_on", "the date you will pay by")
    if day < today:
        raise CustomerInputError("promised_on", f"Choose today ({today.isoformat()}) or a later date.")
    if day > latest:
        raise CustomerInputError("promised_on", f"Choose a date no later than {latest.isoformat()}.")
    return Statement(Said.PROMISE, promised_on=day)


def describe(statement: Statement, number: str, currency: str) -> str:
    """One sentence of what the customer said: the activity log's, the note's and the emails'."""
    if statement.said is Said.PAID:
        assert statement.paid_on is not None and statement.amount is not None
        reference = f", reference {statement.reference}" if statement.reference else ""
        return (
            f"says invoice {number} was paid on {statement.paid_on.isoformat()}: "
            f"{amount_text(statement.amount, currency)}{reference}"
        )
    if statement.said is Said.DISPUTE:
        return f"disputes invoice {number}: {one_line(statement.reason)}"
    assert statement.promised_on is not None
    return f"promises to pay invoice {number} by {statement.promised_on.isoformat()}"


# --- recording ----------------------------------------------------------------------------------


def record_statement(
    deps: ActionDeps, key: PageKey, invoice_row_id: int, statement: Statement, ip: str | None
) -> Recorded:
    """Record what the customer said about one of their invoices (see the module's docstring)."""
    now = deps.clock()
    with transaction(deps.sessions) as session:
        account = open_account(session, key)
        invoice = find_invoice(session, account, invoice_row_id) if account is not None else None
        if account is None or invoice is None:
            raise NotYourInvoice(f"invoice {invoice_row_id} is not this link's")
        today = account.today(now)
        sentence = describe(statement, invoice.number, invoice.currency)
        stood = stored_invoice_word(invoice_pauses(session, [invoice]).get(invoice.id))
        word = {
            Said.PAID: replace(stood, says_paid=True),
            Said.DISPUTE: replace(stood, disputed=True),
            Said.PROMISE: replace(stood, promise_to_pay=statement.promised_on),
        }[statement.said]
        try:
            save_invoice_word(session, account.organization.id, invoice, word, today, said_by=SAID_BY)
        except OwnerWordError as exc:  # checked on the form already; only a day turning over in between gets here
            raise CustomerInputError("promised_on", "That date cannot be chosen now: please choose another.") from exc
        entry = ActivityEntry(
            organization_id=account.organization.id,
            connection_id=account.connection.id,
            kind=ACTIVITY_KIND,
            level="warning" if statement.said is not Said.PROMISE else "info",
            message=f"{account.customer.name} {sentence} (on their page).",
            customer_provider_id=account.customer.provider_id,
            invoice_provider_id=invoice.provider_id,
            details={
                "said": statement.said.value,
                "paid_on": statement.paid_on.isoformat() if statement.paid_on else None,
                "amount": f"{statement.amount:.{minor_digits(invoice.currency)}f}"
                if statement.amount is not None
                else None,
                "reference": statement.reference,
                "reason": statement.reason,
                "promised_on": statement.promised_on.isoformat() if statement.promised_on else None,
                "ip": ip,
                "note": "pending",
            },
        )
        session.add(entry)
        if statement.said is Said.PAID:
            session.add(_check_task(account, invoice.provider_id, sentence, now))
        session.flush()
        entry_id = entry.id
        live = load_rules(session, account.organization.id).mode == "live"
        owner = confirmed_reply_address(session, account.organization.id)
        number, invoice_id = invoice.number, invoice.provider_id
        recipients, _ = checked([account.customer.email, *(c.get("email") for c in account.customer.contacts or ())])
        customer_name, company = account.customer.name, account.company_name
        connection, organization = account.connection, account.organization
        session.expunge_all()
    note = "not written: observe mode"
    if live:
        note = write_page_note(
            deps,
            connection,
            organization,
            invoice_id,
            f"arpilot: customer's page: customer {sentence}.",
            entry_id,
            today,
        )
    record_note_state(deps.sessions, entry_id, note)
    if statement.said is Said.DISPUTE:
        _tell_owner(deps, entry_id, owner, customer_name, sentence, company)
    error = confirm_to_customer(deps, entry_id, recipients, customer_name, company, owner, sentence)
    return Recorded(entry_id, number, note, error)


def _check_task(account: Account, invoice_id: str, sentence: str, now: dt.datetime) -> InboundReply:
    """The owner's check task: the dashboard lists a reply that says it is paid until it is checked,
    and checking it lifts the invoice's pause (`integration.inbound.replies.close_check_task`)."""
    return InboundReply(
        organization_id=account.organization.id,
        connection_id=account.connection.id,
        customer_provider_id=account.customer.provider_id,
        invoice_provider_id=invoice_id,
        source="page",
        status="reply",
        matched_by="link",
        sender=(account.customer.email or "")[:320],
        subject=f"On their page: {sentence}"[:900],
        text=(
            f"{account.customer.name} {sentence}. Look for the payment in your books. Reminders for the "
            "invoice wait until you mark this checked; if the payment is there, it closes the invoice anyway."
        ),
        says_paid=True,
        received_at=now,
    )


def write_page_note(
    deps: ActionDeps,
    connection: Connection,
    organization: Organization,
    invoice_id: str,
    text: str,
    entry_id: int,
    today: dt.date,
) -> str:
    """The note on one invoice in the books, keyed by the page's activity entry (so a repeat is harmless);
    returns "written" or why it failed, for `record_note_state`."""
    try:
        connector = deps.connector_for(connection, organization)
        write_invoice_notes(
            connector,
            [invoice_id],
            Note(text=text, action_id=f"{NOTE_PREFIX}page-{entry_id}", on=today),
            f"customer-page:{entry_id}",
        )
    except (ConnectorError, ConfigError) as exc:
        return f"failed: {redact(str(exc)) or type(exc).__name__}"
    return "written"


def record_note_state(sessions: sessionmaker[Session], entry_id: int, state: str) -> None:
    """How the note went, kept on the activity entry; a failure is said in its message too."""
    with transaction(sessions) as session:
        entry = session.get(ActivityEntry, entry_id)
        assert entry is not None
        entry.details = {**entry.details, "note": state}
        if state.startswith("failed"):
            entry.message += f" The note could not be written in the accounting system ({state})."


def _send(deps: ActionDeps, message: Callable[[], EmailMessage], what: str, entry_id: int) -> str | None:
    """Send one email; a failure is logged on the entry (kept either way), and returned."""
    try:
        deps.sender.send(message())
    except (DeliveryError, InvalidMessage) as exc:
        error = redact(str(exc)) or type(exc).__name__
        log.warning("customer page entry %s: %s not sent: %s", entry_id, what, error)
        with transaction(deps.sessions) as session:
            entry = session.get(ActivityEntry, entry_id)
            assert entry is not None
            entry.details = {**entry.details, f"{what}_error": error}
        return error
    return None


def _tell_owner(deps: ActionDeps, entry_id: int, owner: str | None, customer: str, sentence: str, company: str) -> None:
    def message() -> EmailMessage:
        if owner is None:
            raise InvalidMessage("no reply address is confirmed in Settings")
        return EmailMessage(
            key=f"customer-page-dispute:{entry_id}",
            to=(Address(owner),),
            sender=Address(deps.from_address, "arpilot"),
            subject=one_line(f"{customer} {sentence}")[:300],
            text=(
                f"{customer} {sentence}\n\nThey said so on their page in the link arpilot sends with "
                f"{company}'s reminders. Reminders for this invoice are paused as disputed; clear the "
                "dispute on the invoice in Settings, Customers once it is resolved.\n"
            ),
            categories=("arpilot", "customer-dispute"),
        )

    _send(deps, message, "owner_email", entry_id)


def confirm_to_customer(
    deps: ActionDeps,
    entry_id: int,
    recipients: tuple[str, ...],
    customer: str,
    company: str,
    owner: str | None,
    sentence: str,
) -> str | None:
    """The email telling the customer what was recorded ("We have recorded that <customer> <sentence>");
    returns why it was not sent, if it was not (also kept on the entry)."""

    def message() -> EmailMessage:
        if not recipients:
            raise InvalidMessage("the customer has no valid email address on file")
        return EmailMessage(
            key=f"customer-page-confirm:{entry_id}",
            to=tuple(Address(r) for r in recipients),
            sender=Address(deps.from_address, company[:100] or None),
            reply_to=Address(owner) if owner else None,
            subject=one_line(f"{company}: we have your message")[:300],
            text=(
                f"Dear {customer},\n\nThank you. We have recorded that {customer} {sentence}.\n\n"
                + (f"Questions? Write to {owner}.\n\n" if owner else "")
                + f"{company}\n"
            ),
            categories=("arpilot", "customer-page"),
        )

    return _send(deps, message, "confirmation", entry_id)
