"""What a customer's page shows, read from the mirror: their open invoices with aging and pay links,
who they owe, and how to reach them. Everything is reached through the link's organization
(`scoped`), connection and account, so nothing of another customer or organization can appear.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.contract import InvoiceStatus, minor_digits
from integration.customer.tokens import PageKey
from integration.cycle.gather import company_of, customer_record
from integration.cycle.late_fee import fees_by_invoice
from integration.owner.overrides import invoice_pauses
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.policy.accounts import billed_through
from integration.policy.aging import bucket, local_today
from integration.store.models import (
    Connection,
    ConnectionStatus,
    CustomerLink,
    InvoicePause,
    MirroredCustomer,
    MirroredInvoice,
    Organization,
)
from integration.store.scoping import scoped
from reminders.content import ReminderFee

LIST_SIZE = 50  # invoices to a page of the customer's list

BUCKET_WORDS = {
    "current": "Not yet due",
    "1-30": "1–30 days overdue",
    "31-60": "31–60 days overdue",
    "61-90": "61–90 days overdue",
    "90+": "Over 90 days overdue",
}


def amount_example(currency: str) -> str:
    """An amount as typed in `currency`: 250.00 dollars, 250 yen, 250.000 dinars."""
    return f"{Decimal(250):.{minor_digits(currency)}f}"


@dataclass(frozen=True)
class Account:
    """The customer a valid link opens, checked against the store."""

    organization: Organization
    connection: Connection
    customer: MirroredCustomer
    members: frozenset[str]  # provider ids of the customer and the jobs billed with it

    @property
    def company_name(self) -> str:
        return self.connection.display_name or self.organization.name

    @property
    def timezone(self) -> str:
        return company_of(self.organization, self.connection).timezone

    def today(self, now: dt.datetime) -> dt.date:
        return local_today(now, self.timezone)


@dataclass(frozen=True)
class PageInvoice:
    row_id: int
    number: str
    issue_date: dt.date
    due_date: dt.date | None
    balance: Decimal
    currency: str
    aging: str  # words for the bucket, e.g. "1–30 days overdue"
    pay_link: str | None
    standing: str | None  # what already holds it: "You told us it is paid", "Disputed", "Promised by …"
    # Late fees in the books and not reversed that this invoice is, or that were charged on it.
    fees: tuple[ReminderFee, ...] = ()

    @property
    def amount_example(self) -> str:
        return amount_example(self.currency)

    @property
    def fee_for(self) -> str | None:
        """The overdue invoice's number when this invoice is a late fee."""
        return next((fee.invoice_number for fee in self.fees if fee.fee_number == self.number), None)

    @property
    def fees_charged(self) -> tuple[ReminderFee, ...]:
        return tuple(fee for fee in self.fees if fee.fee_number != self.number)


@dataclass(frozen=True)
class CustomerPage:
    company_name: str
    reply_address: str | None
    customer_name: str
    today: dt.date
    invoices: tuple[PageInvoice, ...]
    totals: tuple[tuple[str, Decimal], ...]  # (currency, open balance), currencies sorted
    promise_limit: dt.date  # the latest date a promise may name (the owner's rule)


@dataclass(frozen=True)
class Listing:
    """One page of the open invoices: a long account's page stays small, its totals whole."""

    invoices: tuple[PageInvoice, ...]
    number: int  # from 1
    pages: int
    first: int  # the first shown invoice's place in the list, from 1
    count: int  # every open invoice

    @property
    def last(self) -> int:
        return self.first + len(self.invoices) - 1


def listing(invoices: tuple[PageInvoice, ...], number: int, size: int = LIST_SIZE) -> Listing:
    """The `number`th page of `size` invoices; a page past either end is the nearest one."""
    pages = max(1, -(-len(invoices) // size))
    number = min(max(number, 1), pages)
    start = (number - 1) * size
    return Listing(invoices[start : start + size], number, pages, start + 1, len(invoices))


def current_generation(session: Session, connection_id: int, customer_id: str) -> int:
    generation = session.scalar(
        select(CustomerLink.generation).where(
            CustomerLink.connection_id == connection_id, CustomerLink.customer_provider_id == customer_id
        )
    )
    return generation or 1


def link_generations(session: Session, connection_id: int) -> dict[str, int]:
    """Each customer's current link generation where it is not the first (the composer signs with them)."""
    return dict(
        session.execute(
            select(CustomerLink.customer_provider_id, CustomerLink.generation).where(
                CustomerLink.connection_id == connection_id
            )
        ).all()
    )


def open_account(session: Session, key: PageKey) -> Account | None:
    """The account a link names, or None when it opens nothing: a revoked generation, a connection
    not of that organization or no longer connected, a customer gone from the books."""
    organization = session.get(Organization, key.organization_id)
    connection = session.scalar(scoped(Connection, key.organization_id).where(Connection.id == key.connection_id))
    if organization is None or connection is None or connection.status is ConnectionStatus.DISCONNECTED:
        return None
    if current_generation(session, connection.id, key.customer_id) != key.generation:
        return None
    customers = list(
        session.scalars(
            scoped(MirroredCustomer, key.organization_id).where(
                MirroredCustomer.connection_id == connection.id, MirroredCustomer.deleted.is_(False)
            )
        )
    )
    customer = next((c for c in customers if c.provider_id == key.customer_id), None)
    if customer is None:
        return None
    members = billed_through((customer_record(c) for c in customers), customer.provider_id)
    return Account(organization, connection, customer, members)


def open_invoices(session: Session, account: Account) -> list[MirroredInvoice]:
    """The account's open invoices with something owed, oldest due first."""
    return list(
        session.scalars(
            scoped(MirroredInvoice, account.organization.id)
            .where(
                MirroredInvoice.connection_id == account.connection.id,
                MirroredInvoice.customer_provider_id.in_(account.members),
                MirroredInvoice.status == InvoiceStatus.OPEN.value,
                MirroredInvoice.balance > 0,
            )
            .order_by(MirroredInvoice.due_date.is_(None), MirroredInvoice.due_date, MirroredInvoice.number)
        )
    )


def find_invoice(session: Session, account: Account, invoice_row_id: int) -> MirroredInvoice | None:
    """One of the account's open invoices by its row id; any other invoice is None, like a missing one."""
    return next((i for i in open_invoices(session, account) if i.id == invoice_row_id), None)


def load_page(session: Session, account: Account, now: dt.datetime) -> CustomerPage:
    today = account.today(now)
    invoices = open_invoices(session, account)
    pauses = invoice_pauses(session, invoices)
    rules = load_rules(session, account.organization.id)
    fees = fees_by_invoice(session, account.connection.id)
    shown = tuple(
        _shown(invoice, pauses.get(invoice.id), fees.get(invoice.provider_id, ()), today) for invoice in invoices
    )
    totals: dict[str, Decimal] = {}
    for invoice in shown:
        totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.balance
    return CustomerPage(
        company_name=account.company_name,
        reply_address=confirmed_reply_address(session, account.organization.id) or rules.sender.reply_to,
        customer_name=account.customer.name,
        today=today,
        invoices=shown,
        totals=tuple(sorted(totals.items())),
        promise_limit=rules.pauses.latest_date(today),
    )


def _shown(
    invoice: MirroredInvoice, pause: InvoicePause | None, fees: tuple[ReminderFee, ...], today: dt.date
) -> PageInvoice:
    days = (today - (invoice.due_date or invoice.issue_date)).days
    return PageInvoice(
        row_id=invoice.id,
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        balance=invoice.balance,
        currency=invoice.currency,
        aging=BUCKET_WORDS[bucket(days)],
        pay_link=invoice.pay_link
        if invoice.pay_link and invoice.pay_link.startswith(("https://", "http://"))
        else None,
        standing=_standing(pause),
        fees=fees,
    )


def _standing(pause: InvoicePause | None) -> str | None:
    if pause is None:
        return None
    if pause.says_paid:
        return "You told us this is paid: we are checking"
    if pause.disputed:
        return "Disputed: reminders are paused while we look into it"
    if pause.promise_to_pay is not None:
        return f"You promised to pay by {pause.promise_to_pay.isoformat()}"
    if pause.plan:
        return "On a payment plan"
    return None
