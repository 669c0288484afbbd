"""The customer's acceptance of the organization's credit policy: kept with the policy's version (the
SHA-256 of its text as the customer read it), when, who (name and title) and from which address;
asked for again once the policy's text changes or the acceptance is older than the setting allows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from connectors.contract import UnsupportedCurrency
from integration.customer.reads import Account
from integration.owner.stored_rules import load_rules
from integration.owner.written_policy import RenderedDocument, render_credit_policy
from integration.store.models import ActivityEntry, Organization, PolicyAcceptance
from integration.store.scoping import scoped
from reminders.errors import InvalidLocale

FIELD_LIMIT = 200


class AcceptanceError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Policy:
    document: RenderedDocument
    version: str


def policy_version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def current_policy(session: Session, organization: Organization) -> Policy | None:
    """The policy as the owner's credit policy page writes it; None when the settings cannot be written."""
    try:
        document = render_credit_policy(
            load_rules(session, organization.id),
            organization.name,
            organization.locale,
            currency=organization.base_currency,
        )
    except (InvalidLocale, UnsupportedCurrency):
        return None
    return Policy(document, policy_version(document.text))


def latest_acceptance(
    session: Session, organization_id: int, connection_id: int, customer_id: str
) -> PolicyAcceptance | None:
    return session.scalars(
        scoped(PolicyAcceptance, organization_id)
        .where(PolicyAcceptance.connection_id == connection_id, PolicyAcceptance.customer_provider_id == customer_id)
        .order_by(PolicyAcceptance.accepted_at.desc(), PolicyAcceptance.id.desc())
        .limit(1)
    ).first()


def needs_acceptance(latest: PolicyAcceptance | None, version: str, now: dt.datetime, valid_for: dt.timedelta) -> bool:
    """Ask when nobody has accepted, the policy has changed since, or the acceptance has aged out."""
    return latest is None or latest.policy_version != version or now - latest.accepted_at >= valid_for


def parse_signer(name: str, title: str) -> tuple[str, str]:
    checked = []
    for field, text, what in (("name", name, "your name"), ("title", title, "your job title")):
        text = " ".join(text.split())
        if not text:
            raise AcceptanceError(field, f"Enter {what}.")
        if len(text) > FIELD_LIMIT:
            raise AcceptanceError(field, f"Keep {what} to {FIELD_LIMIT} characters.")
        checked.append(text)
    return checked[0], checked[1]


def accept(
    session: Session,
    account: Account,
    version: str,
    name: str,
    title: str,
    ip: str | None,
    now: dt.datetime,
) -> PolicyAcceptance:
    row = PolicyAcceptance(
        organization_id=account.organization.id,
        connection_id=account.connection.id,
        customer_provider_id=account.customer.provider_id,
        policy_version=version,
        accepted_at=now,
        name=name,
        title=title,
        ip=(ip or "")[:64] or None,
    )
    session.add(row)
    session.add(
        ActivityEntry(
            organization_id=account.organization.id,
            connection_id=account.connection.id,
            kind="policy_accepted",
            message=f"{account.customer.name}: {name} ({title}) accepted the credit policy on their page.",
            customer_provider_id=account.customer.provider_id,
            details={"policy_version": version, "name": name, "title": title, "ip": ip},
        )
    )
    session.flush()
    return row
