"""Collection rules in the database, validated before they are saved: the organization's, and a
company's own (`CompanyRules`), which replace the organization's for that company alone.

Every function takes `connection_id=None` for the organization's rules. Reading a company's rules
needs it to be one of `organization_id`'s companies (another's reads as the organization's rules);
writing them needs it to be one of its connected companies, else `UnknownCompany`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.policy.rules import Rules
from integration.store.models import CompanyRules, Connection, ConnectionStatus, OrganizationRules
from integration.store.scoping import scoped


class UnknownCompany(LookupError):
    """The connection is not one of the organization's companies."""


def load_rules(session: Session, organization_id: int, connection_id: int | None = None) -> Rules:
    """The company's own rules when it has them, else the organization's, else the defaults."""
    stored: CompanyRules | OrganizationRules | None = None
    if connection_id is not None:
        stored = _company_row(session, organization_id, connection_id)
    stored = stored or _organization_row(session, organization_id)
    return Rules.from_json(stored.rules) if stored else Rules.default()


def has_own_rules(session: Session, organization_id: int, connection_id: int) -> bool:
    return _company_row(session, organization_id, connection_id) is not None


def save_rules(
    session: Session, organization_id: int, data: Mapping[str, Any], connection_id: int | None = None
) -> Rules:
    """Validate `data` and store it in its normal form as a new version; a RuleError naming the field
    leaves the saved rules exactly as they were."""
    rules = Rules.from_json(data)
    if connection_id is None:
        stored: OrganizationRules | CompanyRules | None = _organization_row(session, organization_id)
        fresh: OrganizationRules | CompanyRules = OrganizationRules(organization_id=organization_id, rules={})
    else:
        _company(session, organization_id, connection_id)
        stored = _company_row(session, organization_id, connection_id)
        fresh = CompanyRules(connection_id=connection_id, rules={})
    if stored is None:
        fresh.rules = rules.to_json()
        session.add(fresh)
    else:
        stored.rules = rules.to_json()
        stored.version += 1
    session.flush()
    return rules


def copy_rules(session: Session, organization_id: int, source: int | None, target: int | None) -> Rules:
    """Save the rules `source` follows (a company's, or None: the organization's) as `target`'s, as a
    new version. The target keeps its mode: going live only ever happens through the live page."""
    if source == target:
        raise UnknownCompany("copy the rules of another company")
    if source is not None:
        _company(session, organization_id, source)
    mode = load_rules(session, organization_id, target).mode
    copied = load_rules(session, organization_id, source).to_json()
    return save_rules(session, organization_id, {**copied, "mode": mode}, target)


def _company(session: Session, organization_id: int, connection_id: int) -> Connection:
    connection = session.scalar(
        scoped(Connection, organization_id).where(
            Connection.id == connection_id, Connection.status == ConnectionStatus.ACTIVE
        )
    )
    if connection is None:
        raise UnknownCompany(f"no connected company {connection_id} in this organization")
    return connection


def _organization_row(session: Session, organization_id: int) -> OrganizationRules | None:
    return session.scalar(select(OrganizationRules).where(OrganizationRules.organization_id == organization_id))


def _company_row(session: Session, organization_id: int, connection_id: int) -> CompanyRules | None:
    return session.scalar(scoped(CompanyRules, organization_id).where(CompanyRules.connection_id == connection_id))
