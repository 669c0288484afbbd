"""The executor's emails: a reminder or a monthly statement from arpilot, or an invoice the
accounting system emails itself. Each is marked sending before it is handed over and its delivery
committed before any note, so a crash never sends it twice."""

from __future__ import annotations

from typing import Any

from connectors.contract import Money
from integration.cycle.attempt import Attempt, save_payload
from integration.cycle.book_writes import already_noted, write_notes
from integration.cycle.invoice_recheck import instalment_owed, net_of_credit, restage, still_owed
from integration.cycle.letters import keep_letter, wants_letter
from integration.policy.actions import ActionKind
from integration.store.models import Action
from reminders.delivery import DeliveryError, EmailMessage


def _stage_words(row: Action) -> str:
    if row.kind == ActionKind.INSTALMENT_REMINDER.value:
        return "instalment reminder"
    return (row.payload.get("stage") or "reminder").replace("_", " ")


def send_reminder(row: Action, at: Attempt) -> str:
    if row.payload["payload"].get("channel") == "accounting_system_email":
        return send_through_provider(row, at)
    delivered = row.payload.get("delivered")
    if delivered is None:
        _refuse_unsure_resend(row, at)
        credit: dict[str, Money] = {}
        if row.kind == ActionKind.INSTALMENT_REMINDER.value:
            invoices = instalment_owed(at, row)
        else:
            invoices, credit = net_of_credit(at, row, still_owed(at, row))
            restage(at, row, invoices)
        customer = at.effects.connector.get_customer(row.payload["customer_id"])
        compose = at.effects.compose_reminder
        message = compose(row, customer, invoices, credit, by_post=False)
        # A letter stage's letter is worded as it goes out too, from the same facts as the email.
        letter = compose(row, customer, invoices, credit, by_post=True) if wants_letter(row) else None
        _mark_sending(at, row, message, letter)
        receipt = at.effects.sender.send(message)
        delivered = [i.provider_id for i in invoices]
        # Committed before the notes: from here on a crash never sends the email again.
        save_payload(
            at.sessions,
            row,
            delivered=delivered,
            sent_at=at.effects.local_now().strftime("%Y-%m-%d %H:%M"),
            external_ref=f"email:{receipt.message_id or receipt.provider}",
        )
        if not receipt.already_sent:
            at.report.emails_sent += 1
    if wants_letter(row):
        keep_letter(at.sessions, row, at.effects.clock())
    # Written after delivery and saying when: the books never claim a step before it happened.
    write_notes(at, row, delivered, email_note(row))
    return row.external_ref or "email"


def _mark_sending(at: Attempt, row: Action, message: EmailMessage, letter: EmailMessage | None = None) -> None:
    """Marked sending before the email is handed over. The note names exactly who it went to (the
    addresses still valid as it went out), and the text is kept as sent for the owner's outbox:
    what the customer read, word for word; a letter stage's letter text beside it."""
    save_payload(at.sessions, row, **sending_facts(message), **({"letter_text": letter.text} if letter else {}))


def sending_facts(message: EmailMessage) -> dict[str, Any]:
    """What a row carries from the moment its email is handed over: marked sending, with the subject,
    who it went to and its text."""
    return {
        "sending": True,
        "subject": message.subject,
        "sent_to": [a.email for a in message.to],
        "body_text": message.text,
    }


def _refuse_unsure_resend(row: Action, at: Attempt) -> None:
    if at.recovering and row.payload.get("sending") and not getattr(at.effects.sender, "idempotent", False):
        raise DeliveryError(
            "arpilot stopped while this email was being handed to the email provider and cannot tell "
            "whether it went out; it was not sent again so the customer cannot get it twice"
        )


def send_statement(row: Action, at: Attempt) -> str:
    """The monthly statement: sent like a reminder (marked sending, sent under its key, delivery
    committed), with no invoice notes: a statement is about the account, not one invoice."""
    if row.payload.get("delivered") is None:
        _refuse_unsure_resend(row, at)
        with at.sessions() as session:
            message = at.effects.compose_statement(session, row, at.effects.clock())
        _mark_sending(at, row, message)
        receipt = at.effects.sender.send(message)
        save_payload(
            at.sessions,
            row,
            delivered=[],
            sent_at=at.effects.local_now().strftime("%Y-%m-%d %H:%M"),
            external_ref=f"email:{receipt.message_id or receipt.provider}",
        )
        if not receipt.already_sent:
            at.report.emails_sent += 1
    return row.external_ref or "email"


def email_note(row: Action) -> str:
    """The note a delivered reminder writes on its invoices (also shown with the email in the outbox)."""
    recipients = ", ".join(row.payload.get("sent_to") or row.payload.get("recipients") or ())
    return (
        f"{_stage_words(row).capitalize()} emailed {row.payload.get('sent_at', '')} to {recipients}; "
        f'action {row.id}: "{row.payload.get("subject", "")}"'
    )


def send_through_provider(row: Action, at: Attempt) -> str:
    """The accounting system emails its own invoice; the per-invoice key makes a repeat harmless,
    and the note after each send marks it done."""
    connector = at.effects.connector
    done = set(already_noted(at, row)) if at.recovering or at.retry else set()
    if done:  # partly carried out before a crash: finish it without re-judging the decision
        invoices = [connector.get_invoice(i) for i in row.payload["invoice_ids"] if i not in done]
    else:
        invoices, _ = net_of_credit(at, row, still_owed(at, row))
    refs = []
    for invoice in invoices:
        refs.append(connector.send_invoice(invoice.provider_id, f"{row.idempotency_key}:send:{invoice.provider_id}"))
        at.report.emails_sent += 1
        # Recorded before the note, like arpilot's own email: a refused note then leaves it done with a warning.
        sent_at = at.effects.local_now().strftime("%Y-%m-%d %H:%M")
        save_payload(at.sessions, row, delivered=[*(row.payload.get("delivered") or ()), invoice.provider_id])
        write_notes(
            at,
            row,
            [invoice.provider_id],
            f"{_stage_words(row).capitalize()}: invoice emailed by the accounting system {sent_at}; action {row.id}",
        )
    return ",".join(refs) or "sent before a restart"
