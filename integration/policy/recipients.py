"""Who a reminder is written to: every address on file for the stage's roles, each checked alone."""

from __future__ import annotations

from collections.abc import Iterable

from connectors.addresses import distinct_addresses, split_addresses
from connectors.base import Customer, Invoice
from reminders.delivery.message import is_address


def addresses(customer: Customer, invoices: Iterable[Invoice], roles: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(valid, invalid) emails for the roles, billing first: the invoices' own bill-to addresses,
    the customer's, then contacts of each role. A field may list several addresses; each is checked
    on its own, so one typo never costs the others. Duplicates dropped (any case), order kept."""
    candidates: list[str | None] = []
    for role in roles:
        if role == "billing":
            candidates += [i.email for i in invoices] + [customer.email]
        candidates += [c.email for c in customer.contacts if c.role == role]
    return checked(candidates)


def checked(texts: Iterable[str | None]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(valid, invalid): every address in the fields, each once, checked on its own."""
    found = distinct_addresses(address for text in texts for address in split_addresses(text))
    return tuple([a for a in found if is_address(a)]), tuple([a for a in found if not is_address(a)])


def quoted(emails: Iterable[str]) -> str:
    return ", ".join(f"'{email}'" for email in emails)
