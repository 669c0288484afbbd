"""The executor's writes to the books: notes on invoices (each carrying the action's reference, the
evidence a recovered action looks for before writing again), mid-month terms, credit holds, late
fees, and the owner's tasks, which stay on the dashboard once their invoices are found still owed."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.contract import Connector, Note
from integration.cycle import late_fee
from integration.cycle.attempt import Attempt, Effects, Handler, Skip, action_ref, save_payload
from integration.cycle.invoice_recheck import still_owed
from integration.cycle.sync import store_invoices
from integration.owner.stored_rules import load_rules
from integration.store.db import transaction
from integration.store.models import Action


def _note(row: Action, effects: Effects, text: str) -> Note:
    return Note(text=text, action_id=action_ref(row), on=effects.local_now().date())


def write_invoice_notes(connector: Connector, invoice_ids: Sequence[str], note: Note, key: str) -> None:
    """Write `note` on each invoice, keyed per invoice under `key` (the executor's and the call log's one path)."""
    for invoice_id in invoice_ids:
        # The key makes a prompt repeat harmless (QuickBooks also looks for the reference itself);
        # Xero honours a key for minutes only, so a late recovery checks the evidence first (write_notes).
        connector.add_invoice_note(invoice_id, note, f"{key}:note:{invoice_id}")


def write_notes(at: Attempt, row: Action, invoice_ids: Sequence[str], text: str) -> None:
    if at.recovering or at.retry:  # the note may be there already: its reference is the evidence
        ref = action_ref(row)
        invoice_ids = [i for i in invoice_ids if not at.effects.connector.find_invoice_note(i, ref)]
    write_invoice_notes(at.effects.connector, invoice_ids, _note(row, at.effects, text), row.idempotency_key)
    at.report.notes_written += len(invoice_ids)


def already_noted(at: Attempt, row: Action) -> list[str]:
    ref = action_ref(row)
    return [i for i in row.payload["invoice_ids"] if at.effects.connector.find_invoice_note(i, ref)]


def add_note(row: Action, at: Attempt) -> str:
    invoices = still_owed(at, row)
    write_notes(at, row, [i.provider_id for i in invoices], row.payload["payload"].get("text") or row.reason)
    return action_ref(row)


def set_terms(row: Action, at: Attempt) -> str:
    day = int(row.payload["payload"]["day_of_month"])
    return at.effects.connector.set_mid_month_terms(row.payload["customer_id"], day, row.idempotency_key)


def hold(on: bool) -> Handler:
    def handler(row: Action, at: Attempt) -> str:
        customer_id = row.payload["customer_id"]
        if at.effects.connector.customer_on_hold(customer_id) is on:
            if at.recovering or at.retry:
                return "already in place"  # our own earlier try got there
            raise Skip("the customer is already on credit hold" if on else "the customer is not on credit hold")
        return at.effects.connector.set_credit_hold(
            customer_id, on, _note(row, at.effects, row.reason), row.idempotency_key
        )

    return handler


def owner_task(row: Action, at: Attempt) -> str:
    # Call tasks and escalation advice are for the owner: they live on the dashboard, not at the
    # provider; an invoice paid since is no call to make.
    if row.payload.get("invoice_ids"):
        still_owed(at, row)
    return "owner task"


def charge_late_fee(row: Action, at: Attempt) -> str:
    """The fee goes into the books once, is recorded on the row at once, then noted on the overdue
    invoice (a note the books refuse leaves the fee done with a warning). After a crash the fee is
    looked for by its number first (cycle/late_fee.py), before the invoice is judged again."""
    connector = at.effects.connector
    if row.payload.get("fee_invoice_id") is None:
        number = late_fee.number_of(row.payload, row.idempotency_key)
        written = connector.find_late_fee(number) if at.recovering or at.retry else None
        if written is None:
            (invoice,) = still_owed(at, row)
            with at.sessions() as session:
                rules = load_rules(session, row.organization_id).late_fees
            fee = late_fee.late_fee(
                row.payload, row.idempotency_key, invoice, connector.provider, rules, _note(row, at.effects, row.reason)
            )
            written = connector.charge_late_fee(fee, row.idempotency_key)
        # The fee is the customer's invoice from now on, in the mirror too, not from the next sync.
        with transaction(at.sessions) as session:
            store_invoices(session, row.connection_id, [written])
        save_payload(
            at.sessions,
            row,
            fee_invoice_id=written.provider_id,
            fee_invoice_number=written.number,
            delivered=list(row.payload["invoice_ids"]),
            note_text=late_fee.charged_note(written, at.effects.local_now().date(), row.id),
            external_ref=f"late-fee:{written.provider_id}",
        )
    write_notes(at, row, row.payload["invoice_ids"], row.payload["note_text"])
    return row.external_ref or f"late-fee:{row.payload['fee_invoice_id']}"
