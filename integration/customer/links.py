"""Issuing and revoking a customer's page links: the URL a reminder carries, and the owner's "revoke
every link sent so far" (the customer's link generation raised by one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from integration.customer.reads import current_generation
from integration.customer.tokens import PageKey, sign_link
from integration.store.models import ActivityEntry, CustomerLink, MirroredCustomer
from integration.store.scoping import scoped

PAGE_PATH = "/c/"


def page_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PAGE_PATH}{token}"


@dataclass(frozen=True)
class PageLinks:
    """Signs page links for one connection's customers at one instant (a cycle's reminders)."""

    base_url: str
    secret: str
    organization_id: int
    connection_id: int
    now: dt.datetime
    generations: Mapping[str, int] = field(default_factory=dict)  # customers whose links were revoked

    def __call__(self, customer_id: str) -> str:
        key = PageKey(self.organization_id, self.connection_id, customer_id, self.generations.get(customer_id, 1))
        return page_url(self.base_url, sign_link(key, self.secret, self.now))


def link_for(
    session: Session, base_url: str, secret: str, organization_id: int, customer: MirroredCustomer, now: dt.datetime
) -> str:
    """A fresh link to one customer's page (the owner's copy, on the customer's settings)."""
    generation = current_generation(session, customer.connection_id, customer.provider_id)
    key = PageKey(organization_id, customer.connection_id, customer.provider_id, generation)
    return page_url(base_url, sign_link(key, secret, now))


def revoke_links(session: Session, organization_id: int, customer: MirroredCustomer, now: dt.datetime) -> None:
    """Every link to this customer's page sent so far stops opening; the next reminder carries a new one."""
    row = session.scalars(
        scoped(CustomerLink, organization_id)
        .where(
            CustomerLink.connection_id == customer.connection_id,
            CustomerLink.customer_provider_id == customer.provider_id,
        )
        .with_for_update(of=CustomerLink)
    ).one_or_none()
    if row is None:
        row = CustomerLink(
            connection_id=customer.connection_id, customer_provider_id=customer.provider_id, generation=1
        )
        session.add(row)
    row.generation += 1
    row.revoked_at = now
    session.add(
        ActivityEntry(
            organization_id=organization_id,
            connection_id=customer.connection_id,
            kind="customer_links_revoked",
            message=f"{customer.name}: every link to their page sent so far was revoked (by the owner).",
            customer_provider_id=customer.provider_id,
            details={"generation": row.generation},
        )
    )
    session.flush()
