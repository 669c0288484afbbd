"""Turning a planned monthly statement into the email a customer receives: the statement read from
the mirror as it stands when the email goes out (the cycle has just synced), its PDF attached, to the
billing addresses the books hold then (a mailbox changed since planning is the one written to)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus
from integration.cycle.gather import customer_record, invoice_record
from integration.documents.pdf import statement_pdf
from integration.documents.reads import customer_statement
from integration.documents.statement import RECENT_DAYS
from integration.documents.statement_email import statement_message
from integration.policy.recipients import addresses
from integration.policy.rules import Rules
from integration.store.models import Action, MirroredCustomer, MirroredInvoice
from reminders.delivery import EmailMessage, InvalidMessage


@dataclass(frozen=True)
class StatementComposer:
    rules: Rules
    from_address: str
    owner_reply_address: str | None = None  # confirmed in Settings: where the customer's answer goes

    def __call__(self, session: Session, row: Action, now: dt.datetime) -> EmailMessage:
        customer = session.scalars(
            select(MirroredCustomer).where(
                MirroredCustomer.connection_id == row.connection_id,
                MirroredCustomer.provider_id == row.payload["customer_id"],
            )
        ).one_or_none()
        if customer is None:
            raise InvalidMessage("the customer is no longer in the books")
        recent_days = (row.payload.get("payload") or {}).get("recent_days", RECENT_DAYS)
        statement = customer_statement(session, row.organization_id, customer, now, recent_days)
        open_invoices = session.scalars(
            select(MirroredInvoice).where(
                MirroredInvoice.connection_id == row.connection_id,
                MirroredInvoice.customer_provider_id == customer.provider_id,
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
            )
        )
        recipients, invalid = addresses(
            customer_record(customer), [invoice_record(i) for i in open_invoices], ["billing"]
        )
        return statement_message(
            statement,
            statement_pdf(statement),
            key=row.idempotency_key,
            recipients=recipients,
            invalid=invalid,
            sender=self.rules.sender,
            from_address=self.from_address,
            reply_to=self.owner_reply_address or self.rules.sender.reply_to,
        )
