"""A customer proposes a payment plan on their page, within the owner's limits (rules.plans): a number
of instalments and the first payment's date; the open invoices' balance is spread evenly, a calendar
month apart (31 January, then the last of February). It arrives as the owner's word, as their
promise does: stored (`save_account_plan`, which logs it), noted on each covered invoice in the
books in live mode, and confirmed to them by email.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from integration.customer.actions import (
    ActionDeps,
    CustomerInputError,
    confirm_to_customer,
    record_note_state,
    write_page_note,
)
from integration.customer.reads import open_account
from integration.customer.tokens import PageKey
from integration.owner.account_plans import (
    PlanWord,
    SavedPlan,
    one_currency,
    open_invoices,
    save_account_plan,
    stored_account_plan,
    suggested,
)
from integration.owner.overrides import OwnerWordError
from integration.owner.reply_address import confirmed_reply_address
from integration.owner.stored_rules import load_rules
from integration.policy.recipients import checked
from integration.policy.rules import Plans
from integration.store.db import transaction
from integration.store.models import Connection, Organization

MONTHLY = None  # suggested's step: a calendar month


@dataclass(frozen=True)
class PlanOffer:
    """What the page offers: up to `max_instalments`, the first payment by `first_by` (0: no offer)."""

    max_instalments: int
    first_by: dt.date

    @classmethod
    def of(cls, plans: Plans, today: dt.date) -> PlanOffer:
        return cls(plans.customer_max_instalments, today + dt.timedelta(days=plans.first_payment_within_days))


@dataclass(frozen=True)
class Proposal:
    count: int
    first: dt.date


def parse_proposal(count: str, first: str, today: dt.date, offer: PlanOffer) -> Proposal:
    """The form's two fields, each refused in plain words naming the limit."""
    if not count.strip().isdigit() or not 1 <= int(count) <= offer.max_instalments:
        raise CustomerInputError("count", f"Choose from 1 to {offer.max_instalments} payments.")
    try:
        day = dt.date.fromisoformat(first.strip())
    except ValueError:
        raise CustomerInputError("first", "Enter the first payment's date, like 2026-12-01.") from None
    if not today <= day <= offer.first_by:
        raise CustomerInputError(
            "first", f"Choose a first payment date from {today.isoformat()} to {offer.first_by.isoformat()}."
        )
    return Proposal(int(count), day)


def note_plan(
    deps: ActionDeps,
    saved: SavedPlan,
    connection: Connection,
    organization: Organization,
    today: dt.date,
    live: bool,
    text: str,
) -> None:
    """In live mode, the plan noted on each covered invoice in the books (the owner's plans too); how
    that went is kept on the plan's activity entry."""
    note = "not written: observe mode"
    if live:
        states = [
            write_page_note(deps, connection, organization, i, f"arpilot: {text}.", saved.entry_id, today)
            for i in saved.invoice_ids
        ]
        note = next((s for s in states if s != "written"), "written")
    record_note_state(deps.sessions, saved.entry_id, note)


def record_proposal(deps: ActionDeps, key: PageKey, proposal: Proposal) -> str:
    """Store the plan over every open invoice of the link's customer; returns how it reads."""
    now = deps.clock()
    with transaction(deps.sessions) as session:
        account = open_account(session, key)
        if account is None:
            raise LookupError("the link no longer opens")
        today = account.today(now)
        if stored_account_plan(session, account.customer) is not None:
            # The agreed plan is the owner's word: changing it is a conversation, not a form.
            raise CustomerInputError("count", "You already have a payment plan; to change it, please write to us.")
        invoices = open_invoices(session, account.customer)
        if not invoices:
            raise CustomerInputError("count", "Nothing is open: there is nothing to plan.")
        try:
            currency = one_currency(invoices)
        except OwnerWordError:
            raise CustomerInputError(
                "count", "Your invoices are in more than one currency: please write to us to agree a plan."
            ) from None
        balance = sum((i.balance for i in invoices), Decimal(0))
        instalments = suggested(balance, proposal.count, proposal.first, MONTHLY, currency=currency)
        word = PlanWord(tuple(i.provider_id for i in invoices), instalments)
        try:
            saved = save_account_plan(session, account.organization.id, account.customer, word, today, by_customer=True)
        except OwnerWordError as exc:  # the limits changed while the page was open, or currencies differ
            raise CustomerInputError("count", exc.message) from exc
        live = load_rules(session, account.organization.id).mode == "live"
        owner = confirmed_reply_address(session, account.organization.id)
        recipients, _ = checked([account.customer.email, *(c.get("email") for c in account.customer.contacts or ())])
        customer_name, company = account.customer.name, account.company_name
        connection, organization = account.connection, account.organization
        session.expunge_all()
    note_plan(
        deps, saved, connection, organization, today, live, f"customer's page: customer proposed a {saved.sentence}"
    )
    confirm_to_customer(deps, saved.entry_id, recipients, customer_name, company, owner, f"proposed a {saved.sentence}")
    return saved.sentence
