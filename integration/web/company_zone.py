"""Settings: each connected company's time zone, which the owner may change.

A company's zone is read from its books at its first cycle (integration.cycle.run); here the owner
corrects it, for instance a QuickBooks company whose address names no state. The choice is a
select of the IANA zones (zone.tab's, plus UTC and the zone already set); anything the IANA
database does not know is refused and nothing is saved.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from connectors.regions import listed_zones
from integration.store.connections import set_company_timezone
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, Organization
from integration.store.scoping import scoped
from integration.web.auth import owner_required
from integration.web.common import runtime

# Under /settings with the rules page, which shows each company's zone and posts here.
bp = Blueprint("company_zone", __name__, url_prefix="/settings")


@dataclass(frozen=True)
class CompanyZone:
    connection_id: int
    name: str
    zone: str
    read: bool  # False: not read from the books yet, the organization's zone stands in
    choices: tuple[str, ...]


def company_zones(db: Session, organization: Organization) -> list[CompanyZone]:
    connections = db.scalars(
        scoped(Connection, organization.id)
        .where(Connection.status != ConnectionStatus.DISCONNECTED)
        .order_by(Connection.id)
    )
    found = []
    for c in connections:
        zone = c.timezone or organization.timezone
        choices = listed_zones() if zone in listed_zones() else tuple(sorted((*listed_zones(), zone)))
        found.append(CompanyZone(c.id, c.display_name, zone, c.timezone is not None, choices))
    return found


@bp.post("/timezone/<int:connection_id>")
@owner_required
def save_timezone(connection_id: int) -> ResponseReturnValue:
    zone = request.form.get("timezone", "").strip()
    with transaction(runtime().sessions) as db:
        connection = db.scalars(
            scoped(Connection, g.organization_id).where(Connection.id == connection_id)
        ).one_or_none()
        if connection is None:  # another organization's company is a 404 whatever the zone
            abort(404)
        if zone not in zoneinfo.available_timezones():
            flash(
                f"Nothing was saved: {zone or 'an empty value'!r} is not a time zone. Choose one from the list.",
                "error",
            )
            return redirect(url_for("settings.rules", _anchor="timezones"))
        before = connection.timezone
        set_company_timezone(db, connection, zone)
        db.add(
            ActivityEntry(
                organization_id=g.organization_id,
                connection_id=connection.id,
                kind="timezone_changed",
                message=f"{connection.display_name}'s time zone set to {zone} (was {before or 'not read yet'}).",
                details={"timezone": zone},
            )
        )
    flash(f"{zone} is saved: days overdue, quiet hours and dates for this company now follow it.")
    return redirect(url_for("settings.rules", _anchor="timezones"))
