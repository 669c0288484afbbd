"""Turning a planned reminder into the email a customer receives: live invoices in, message out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.contract import Customer, Invoice, Money
from integration.inbound.tokens import reply_address
from integration.policy.actions import ActionKind
from integration.policy.recipients import addresses, instalment_roles, quoted, stage_roles
from integration.policy.rules import Rules
from integration.policy.snapshot import Company
from integration.store.models import Action
from reminders.content import ReminderContext, ReminderFee, ReminderInvoice, render_reminder
from reminders.delivery import Address, EmailMessage, InvalidMessage
from reminders.instalment import TEMPLATE as INSTALMENT
from reminders.instalment import render_instalment
from reminders.text import HEADER_NAME_LIMIT, one_line
from reminders.wording import Wording


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
    customer_page: Callable[[str], str] | None = None  # customer id -> the signed link to their page
    late_fees: Mapping[str, tuple[ReminderFee, ...]] = field(default_factory=dict)  # by invoice id (fee or overdue)

    def __call__(
        self,
        row: Action,
        customer: Customer,
        invoices: Sequence[Invoice],
        credit: Mapping[str, Money] | None = None,
        *,
        by_post: bool = False,
    ) -> EmailMessage:
        """`credit`: the customer's unapplied credit per currency, read when sending (the email states net amounts).
        With `by_post`, the text is the letter's (ReminderContext.by_post). An account plan's instalment
        reminder (no stage) is worded by reminders/instalment.py."""
        instalment = row.kind == ActionKind.INSTALMENT_REMINDER.value
        stage = row.payload["stage"]
        # The instalment email is laid out as the gentlest stage; its own words replace the stage's.
        template = "courtesy" if instalment else next(s.template for s in self.rules.ladder.stages if s.name == stage)
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
                    number=i.number,
                    issue_date=i.issue_date,
                    due_date=i.due_date,
                    total=i.total,
                    balance=i.balance,
                    days_overdue=(self.today - (i.due_date or i.issue_date)).days,
                    pay_link=i.pay_link,
                )
                for i in invoices
            ),
            credit_hold=customer.provider_id in self.on_hold,
            referral_date=referral_date(row) if template == "final_notice" else None,
            credits=tuple((credit or {}).values()),
            customer_page_url=self.customer_page(customer.provider_id) if self.customer_page else None,
            late_fees=tuple(dict.fromkeys(fee for i in invoices for fee in self.late_fees.get(i.provider_id, ()))),
            by_post=by_post,
        )
        if instalment:
            planned = row.payload["payload"]
            owed = Money(Decimal(row.payload.get("instalment_owed") or planned["amount"]), invoices[0].balance.currency)
            email = render_instalment(context, owed, dt.date.fromisoformat(planned["instalment_date"]))
        else:
            email = render_reminder(context, self.wordings.get(template))
        # Read from the books as the email goes out (an address changed since planning is the one written
        # to, never the stale one), each checked on its own: a bad address is left out, never the rest.
        recipients, invalid = addresses(customer, invoices, self._roles(row, invoices, instalment))
        if not recipients:
            raise InvalidMessage(f"no valid email address to send to ({quoted(invalid) or 'none on file'})")
        # A name from the accounting system may hold line breaks (in a header, an injection) or bidi overrides.
        name = one_line(customer.name, HEADER_NAME_LIMIT) or None
        return EmailMessage(
            key=row.idempotency_key,
            # Every address the customer can be written to receives it as a recipient of its own.
            to=tuple(Address(r, name) for r in recipients),
            sender=Address(self.from_address, context.sender_name),
            reply_to=Address(
                reply_address(self.inbound_address, row.id, self.token_secret)
                if self.inbound_address
                else context.reply_to,
                context.sender_name,
            ),
            subject=email.subject,
            text=email.text,
            html=email.html,
            categories=("arpilot", f"stage-{stage or INSTALMENT}"),
            custom_args={"arpilot_action": str(row.id), "arpilot_organization": str(row.organization_id)},
        )

    def _roles(self, row: Action, invoices: Sequence[Invoice], instalment: bool) -> list[str]:
        """The contacts the stages of the invoices it carries name (the owner's rules as they are now)."""
        if instalment:
            return instalment_roles(self.rules)
        by_name = {s.name: s for s in self.rules.ladder.stages}
        stages = row.payload["payload"]["invoice_stages"]
        return stage_roles(by_name[stages[i.provider_id]] for i in invoices)


def referral_date(row: Action) -> dt.date | None:
    """The referral date the owner chose when approving the final notice; arpilot never picks one."""
    chosen = (row.payload.get("approval") or {}).get("referral_date")
    return dt.date.fromisoformat(chosen) if chosen else None
