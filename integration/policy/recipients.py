"""Who a reminder is written to: every address on file for the stage's roles, each checked alone."""

from __future__ import annotations

from collections.abc import Iterable

from connectors.addresses import split_addresses
from connectors.contract import Customer, Invoice
from integration.policy.rules import CONTACT_ROLES, Rules, Stage
from reminders.delivery.message import is_address


def stage_roles(stages: Iterable[Stage]) -> list[str]:
    """The contact roles an email at these stages is written to, billing first."""
    wanted = {role for stage in stages for role in stage.recipients}
    return [role for role in CONTACT_ROLES if role in wanted]


def instalment_roles(rules: Rules) -> list[str]:
    """An instalment reminder is as gentle as the first stage, and written to its contacts."""
    return list(rules.ladder.stages[0].recipients) or ["billing"]


def addresses(
    customer: Customer, invoices: Iterable[Invoice], roles: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
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
    """(valid, invalid): every address in the fields, each once (any case), checked on its own."""
    valid: list[str] = []
    invalid: list[str] = []
    seen: set[str] = set()
    for text in texts:
        if not text:
            continue
        # Most fields hold one address: the list split only when there is a list (decide is hot).
        for address in split_addresses(text) if "," in text or ";" in text else (text.strip(),):
            key = address.lower()
            if address and key not in seen:
                seen.add(key)
                (valid if is_address(address) else invalid).append(address)
    return tuple(valid), tuple(invalid)


def quoted(emails: Iterable[str]) -> str:
    return ", ".join(f"'{email}'" for email in emails)
