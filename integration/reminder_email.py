"""Turning a planned reminder into the email a customer receives: live invoices in, message out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.base import Customer, Invoice
from integration.models import Action
from integration.policy.rules import Rules
from integration.policy.snapshot import Company
from reminders.content import ReminderContext, ReminderInvoice, render_reminder
from reminders.delivery import Address, EmailMessage


@dataclass(frozen=True)
class ReminderComposer:
    company: Company
    rules: Rules
    today: dt.date  # company-local
    from_address: str
    on_hold: frozenset[str] = frozenset()

    def __call__(self, row: Action, customer: Customer, invoices: Sequence[Invoice]) -> EmailMessage:
        stage = row.payload["stage"]
        template = next(s.template for s in self.rules.ladder.stages if s.name == stage)
        sender = self.rules.sender
        context = ReminderContext(
            company_name=self.company.name,
            locale=self.company.locale,
            sender_name=sender.from_name or self.company.name,
            signature=sender.signature,
            reply_to=sender.reply_to or self.from_address,
            customer_name=customer.name,
            stage=template,
            invoices=tuple(
                ReminderInvoice(
                    number=i.number, issue_date=i.issue_date, due_date=i.due_date, total=i.total, balance=i.balance,
                    days_overdue=(self.today - (i.due_date or i.issue_date)).days, pay_link=i.pay_link,
                )
                for i in invoices
            ),
            credit_hold=customer.provider_id in self.on_hold,
            referral_date=referral_date(row) if template == "final_notice" else None,
        )
        email = render_reminder(context)
        recipients = _distinct(row.payload["recipients"])
        return EmailMessage(
            key=row.idempotency_key,
            # A name from the accounting system may hold line breaks; in a header they would be an injection.
            to=(Address(recipients[0], " ".join(customer.name.split()) or None),),
            cc=tuple(Address(r) for r in recipients[1:]),
            sender=Address(self.from_address, context.sender_name),
            reply_to=Address(context.reply_to),
            subject=email.subject,
            text=email.text,
            html=email.html,
            categories=("arpilot", f"stage-{stage}"),
            custom_args={"arpilot_action": str(row.id), "arpilot_organization": str(row.organization_id)},
        )


def _distinct(addresses: Sequence[str]) -> list[str]:
    """Each address once, in order, however its case was typed in the accounting system."""
    seen: set[str] = set()
    kept = []
    for address in addresses:
        if address.lower() not in seen:
            seen.add(address.lower())
            kept.append(address)
    return kept


def referral_date(row: Action) -> dt.date | None:
    """The referral date the owner chose when approving the final notice; arpilot never picks one."""
    chosen = (row.payload.get("approval") or {}).get("referral_date")
    return dt.date.fromisoformat(chosen) if chosen else None
