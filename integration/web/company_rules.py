"""Rules per company on the settings page: whose rules it edits (the company chosen in the header's
switcher, or the organization's, which every company without rules of its own follows), and
"Copy rules from" another company (`POST /settings/rules/copy`).

A copy is saved as a new version of the target's rules and keeps the target's mode
(integration.owner.stored_rules: copy_rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from integration.owner.stored_rules import UnknownCompany, copy_rules, has_own_rules
from integration.store.db import transaction
from integration.web.auth import owner_required
from integration.web.common import page, runtime
from integration.web.companies import Company, active_companies
from integration.web.inputs import whole_number

bp = Blueprint("company_rules", __name__, url_prefix="/settings/rules")

ORGANIZATION = ""  # the form's value for the organization's rules


@dataclass(frozen=True)
class RulesScope:
    """Whose rules the settings page edits, and which others it may copy."""

    company: Company | None  # None: the organization's rules
    own: bool  # the company has rules of its own (else it follows the organization's until saved)
    sources: list[Company]  # the other active companies (each copied as the rules it follows)

    @property
    def target(self) -> str:
        return str(self.company.id) if self.company else ORGANIZATION


def rules_scope(db: Session, organization_id: int, selected: int | None) -> RulesScope:
    companies = active_companies(db, organization_id)
    company = next((c for c in companies if c.id == selected), None)
    sources = [c for c in companies if c.id != selected]
    own = company is not None and has_own_rules(db, organization_id, company.id)
    return RulesScope(company, own, sources)


@bp.post("/copy")
@owner_required
def copy() -> ResponseReturnValue:
    """Copy the source's rules (a company's, or the organization's: an empty value) to the target."""
    try:
        source, target = _company_id(request.form.get("source")), _company_id(request.form.get("target"))
        with transaction(runtime().sessions) as db:
            copy_rules(db, g.organization_id, source, target)
    except UnknownCompany:
        return page(
            "The rules were not copied",
            "Choose a company of this account to copy from, other than the one being edited. Nothing was changed.",
            400,
        )
    flash("The rules are copied and saved. Observe or live mode stayed as it was.")
    return redirect(url_for("settings.rules"))


def _company_id(typed: str | None) -> int | None:
    """A company's id from the form, or None for the organization's rules."""
    if typed == ORGANIZATION:
        return None
    number = whole_number(typed or "")
    if number is None:
        raise UnknownCompany("not a company")
    return number
