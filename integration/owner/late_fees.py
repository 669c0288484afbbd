"""The late fees arpilot charged a customer (the customer's settings page lists them), and the
owner's reversal of one, with a note.

A reversal voids the fee's invoice at the provider (`Connector.reverse_late_fee`), notes it on the
overdue invoice, and marks the ledger row `reversed`: the policy then leaves the fee out of the cap
but does not charge its period again (`integration.cycle.gather.history_of`). Like every write to
the books it happens in live mode only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import ConnectorError, Note
from integration.config import ConfigError
from integration.cycle.attempt import NOTE_PREFIX
from integration.cycle.book_writes import write_invoice_notes
from integration.owner.call_outcomes import ConnectorFor
from integration.policy.actions import ActionKind
from integration.store.db import transaction
from integration.store.models import Action, ActionStatus, ActivityEntry, Connection, Organization
from integration.store.scoping import scoped
from oauth.redact import redact

MAX_NOTE = 500
KIND = ActionKind.CHARGE_LATE_FEE.value


@dataclass(frozen=True)
class ChargedFee:
    action_id: int
    invoice_number: str
    fee_number: str
    amount: Decimal
    currency: str
    charged_at: dt.datetime
    reversed_on: str | None
    reversal_note: str | None


class ReversalError(ValueError):
    """The reversal cannot be done; `.field` names the form input the message belongs beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def charged_fees(db: Session, organization_id: int, connection_id: int, customer_id: str) -> list[ChargedFee]:
    """The customer's fees in the books, newest first."""
    rows = db.scalars(
        scoped(Action, organization_id)
        .where(Action.connection_id == connection_id, Action.kind == KIND, Action.status == ActionStatus.DONE)
        .order_by(Action.id.desc())
    )
    return [
        _fee(row) for row in rows if row.payload.get("customer_id") == customer_id and row.payload.get("fee_invoice_id")
    ]


def _fee(row: Action) -> ChargedFee:
    planned, reversal = row.payload["payload"], row.payload.get("reversed") or {}
    return ChargedFee(
        row.id,
        planned["invoice_number"],
        row.payload["fee_invoice_number"],
        Decimal(planned["amount"]),
        planned["currency"],
        row.completed_at or row.updated_at,
        reversal.get("on"),
        reversal.get("note"),
    )


def reverse_late_fee(
    sessions: sessionmaker[Session],
    organization_id: int,
    action_id: int,
    note: str,
    connector_for: ConnectorFor,
    today: dt.date,
    *,
    live: bool,
) -> ChargedFee:
    """Void the fee in the books with the owner's note, and record it. ReversalError when the note is
    missing, the fee is already reversed, observe mode is on, or the books refuse."""
    note = " ".join(note.split())
    if not note:
        raise ReversalError("note", "Say why you reverse this fee: the note goes into the books with it.")
    if len(note) > MAX_NOTE:
        raise ReversalError("note", f"The note must be at most {MAX_NOTE} characters; it has {len(note)}.")
    if not live:
        raise ReversalError(
            "note", "Observe mode: arpilot writes nothing in the books. Switch to live to reverse a fee."
        )
    with transaction(sessions) as session:
        row = _fee_row(session, organization_id, action_id)
        fee = _fee(row)
        if fee.reversed_on:
            raise ReversalError("note", f"This fee was already reversed on {fee.reversed_on}.")
        connection = session.get(Connection, row.connection_id)
        organization = session.get(Organization, organization_id)
        fee_invoice_id, invoice_ids, key = (
            row.payload["fee_invoice_id"],
            row.payload["invoice_ids"],
            row.idempotency_key,
        )
        session.expunge_all()
    said = Note(
        f"Late fee {fee.fee_number} reversed on {today.isoformat()}: {note}", f"{NOTE_PREFIX}rev-{action_id}", today
    )
    try:
        connector = connector_for(connection, organization)  # type: ignore[arg-type]
        connector.reverse_late_fee(fee_invoice_id, said, f"{key}:reverse")
        # A reversal tried before (the books refused its note) may have left the note already: no second one.
        unnoted = [i for i in invoice_ids if not connector.find_invoice_note(i, said.action_id)]
        write_invoice_notes(connector, unnoted, said, f"{key}:reverse")
    except (ConnectorError, ConfigError) as exc:
        raise ReversalError("note", f"The accounting system refused: {redact(str(exc)) or type(exc).__name__}") from exc
    with transaction(sessions) as session:
        row = _fee_row(session, organization_id, action_id)
        row.payload = {**row.payload, "reversed": {"on": today.isoformat(), "note": note}}
        session.add(
            ActivityEntry(
                organization_id=organization_id,
                connection_id=row.connection_id,
                action_id=row.id,
                level="info",
                kind="late_fee_reversed",
                message=f"You reversed late fee {fee.fee_number} on invoice {fee.invoice_number}: {note}",
                customer_provider_id=row.payload.get("customer_id"),
                invoice_provider_id=invoice_ids[0],
                details={"kind": KIND, "invoice_ids": invoice_ids, "note": note},
            )
        )
        return _fee(row)


def _fee_row(session: Session, organization_id: int, action_id: int) -> Action:
    row = session.scalars(
        scoped(Action, organization_id).where(
            Action.id == action_id, Action.kind == KIND, Action.status == ActionStatus.DONE
        )
    ).one_or_none()
    if row is None or not row.payload.get("fee_invoice_id"):
        raise ReversalError("note", "There is no such late fee in the books.")
    return row
