"""An organization's collection rules in the database: validated before they are saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.policy.rules import Rules
from integration.store.models import OrganizationRules


def load_rules(session: Session, organization_id: int) -> Rules:
    """The saved rules, or the defaults when the owner has saved none."""
    stored = session.scalar(select(OrganizationRules).where(OrganizationRules.organization_id == organization_id))
    return Rules.from_json(stored.rules) if stored else Rules.default()


def save_rules(session: Session, organization_id: int, data: Mapping[str, Any]) -> Rules:
    """Validate `data` and store it in its normal form; a RuleError naming the field leaves the
    saved rules exactly as they were."""
    rules = Rules.from_json(data)
    stored = session.scalar(select(OrganizationRules).where(OrganizationRules.organization_id == organization_id))
    if stored is None:
        session.add(OrganizationRules(organization_id=organization_id, rules=rules.to_json()))
    else:
        stored.rules = rules.to_json()
        stored.version += 1
    session.flush()
    return rules
