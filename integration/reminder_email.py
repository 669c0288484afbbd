"""Turning a planned reminder into the email a customer receives: live invoices in, message out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from connectors.base import Customer, Invoice
from integration.inbound.tokens import reply_address
from integration.models import Action
from integration.policy.rules import Rules
from integration.policy.snapshot import Company
from reminders.content import ReminderContext, ReminderInvoice, render_reminder
from reminders.delivery import Address, EmailMessage
from reminders.wording import Wording

# A final notice states when the account goes to collections; this is how far ahead that is.
REFERRAL_NOTICE = dt.timedelta(days=14)


@dataclass(frozen=True)
class ReminderComposer:
    company: Company
    rules: Rules
    today: dt.date  # company-local
    from_address: str
    on_hold: frozenset[str] = frozenset()
    wordings: Mapping[str, Wording] = field(default_factory=dict)  # the owner's words by template
    owner_reply_address: str | None = None  # confirmed in Settings: named in the email's text
    inbound_address: str | None = None  # with a token, the Reply-To that brings replies back to arpilot
    token_secret: str = ""

    def __call__(self, row: Action, customer: Customer, invoices: Sequence[Invoice]) -> EmailMessage:
        stage = row.payload["stage"]
        template = next(s.template for s in self.rules.ladder.stages if s.name == stage)
        sender = self.rules.sender
        context = ReminderContext(
            company_name=self.company.name,
            locale=self.company.locale,
            sender_name=sender.from_name or self.company.name,
            signature=sender.signature,
            reply_to=self.owner_reply_address or sender.reply_to or self.from_address,
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
            referral_date=self.today + REFERRAL_NOTICE if template == "final_notice" else None,
        )
        email = render_reminder(context, self.wordings.get(template))
        recipients = _distinct(row.payload["recipients"])
        return EmailMessage(
            key=row.idempotency_key,
            # A name from the accounting system may hold line breaks; in a header they would be an injection.
            to=(Address(recipients[0], " ".join(customer.name.split()) or None),),
            cc=tuple(Address(r) for r in recipients[1:]),
            sender=Address(self.from_address, context.sender_name),
            reply_to=Address(
                reply_address(self.inbound_address, row.id, self.token_secret) if self.inbound_address else context.reply_to,
                context.sender_name,
            ),
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
