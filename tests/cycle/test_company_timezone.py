"""A company's time zone comes from its books at its first cycle, is the organization's when it
is the first company, and is the clock the company is judged and written on."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.sandbox.scenario import Scenario
from integration.store.connections import set_company_timezone
from integration.store.db import transaction
from integration.store.models import Connection, Organization
from tests.cycle.conftest import World, make_world
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.sandbox.conftest import small_scenario

DENVER_THURSDAY_1519 = dt.datetime(2026, 11, 26, 22, 19, tzinfo=dt.UTC)  # 15:19 MST, Thanksgiving aside


def _with_company(**changes: Any) -> Scenario:
    scenario = small_scenario()
    return dataclasses.replace(scenario, company=dataclasses.replace(scenario.company, **changes))


def _as_installed(world: World | XeroWorld) -> None:
    """Rows as a fresh connect leaves them: the organization on UTC, the company's zone not read yet."""
    with transaction(world.sessions) as session:
        session.get(Organization, world.organization_id).timezone = "UTC"
        session.get(Connection, world.connection_id).timezone = None


def _zones(world: World | XeroWorld) -> tuple[str | None, str]:
    with world.sessions() as session:
        return session.get(Connection, world.connection_id).timezone, session.get(
            Organization, world.organization_id
        ).timezone


@pytest.fixture
def quickbooks(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    yield from make_world(_with_company(**request.param), sessions, tmp_path)


@pytest.mark.parametrize(
    ("quickbooks", "zone"),
    [
        ({"timezone": "America/Denver", "country": "US", "region": "CO"}, "America/Denver"),
        ({"timezone": "Europe/London", "country": "GB", "region": None}, "Europe/London"),
        ({"timezone": "Pacific/Auckland", "country": "New Zealand", "region": None}, "Pacific/Auckland"),
        (
            {"timezone": "America/New_York", "country": "US", "region": None},
            "America/New_York",
        ),  # no state: the documented default
    ],
    indirect=["quickbooks"],
)
def test_quickbooks_company_zone_comes_from_its_address(quickbooks: World, zone: str) -> None:
    _as_installed(quickbooks)
    quickbooks.cycle()
    assert _zones(quickbooks) == (zone, zone)


@pytest.fixture
def xero(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[XeroWorld]:
    yield from make_xero_world(_with_company(timezone=request.param), sessions, tmp_path)


@pytest.mark.parametrize("xero", ["Pacific/Auckland", "Europe/London", "America/Denver"], indirect=True)
def test_xero_company_zone_is_the_organisations_timezone(xero: XeroWorld) -> None:
    _as_installed(xero)
    xero.cycle()
    zone = _zones(xero)[0]
    assert _zones(xero) == (zone, zone) and zone == xero.app.extensions["xero_sandbox"].organisation("demo").timezone


@pytest.mark.parametrize("quickbooks", [{"timezone": "America/Denver", "region": "CO"}], indirect=True)
def test_the_owners_choice_is_kept_and_the_issue_case_sends_on_a_denver_afternoon(quickbooks: World) -> None:
    _as_installed(quickbooks)
    quickbooks.clock.set(DENVER_THURSDAY_1519)
    quickbooks.set_rules({"mode": "live"})
    summary = quickbooks.cycle()
    assert summary.execution["emails_sent"] >= 1  # 15:19 in Denver is inside 08:00-18:00: nothing waits for 08:00 UTC
    assert not [a for a in quickbooks.actions() if a.not_before is not None]
    with transaction(quickbooks.sessions) as session:
        set_company_timezone(session, session.get(Connection, quickbooks.connection_id), "America/Chicago")
    quickbooks.cycle()
    assert _zones(quickbooks) == ("America/Chicago", "America/Chicago")  # not read from the books again


def test_only_the_first_company_sets_the_organizations_zone(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        organization = Organization(name="Two companies")
        session.add(organization)
        session.flush()
        first, second = (
            Connection(organization_id=organization.id, provider="xero", external_id=f"t-{n}") for n in (1, 2)
        )
        session.add_all([first, second])
        session.flush()
        set_company_timezone(session, second, "Europe/London")
        assert organization.timezone == "UTC"
        set_company_timezone(session, first, "Pacific/Auckland")
        assert (organization.timezone, first.timezone, second.timezone) == (
            "Pacific/Auckland",
            "Pacific/Auckland",
            "Europe/London",
        )
        with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
            set_company_timezone(session, first, "Mars/Olympus")
        assert first.timezone == "Pacific/Auckland"


@pytest.mark.parametrize("quickbooks", [{"timezone": "America/Denver", "region": "CO"}], indirect=True)
def test_notes_carry_the_companys_date_not_utcs(quickbooks: World) -> None:
    _as_installed(quickbooks)
    quickbooks.clock.set(dt.datetime(2026, 11, 27, 0, 30, tzinfo=dt.UTC))  # Thursday 17:30 in Denver, Friday in UTC
    quickbooks.set_rules({"mode": "live"})
    quickbooks.cycle()
    written = [text for text in quickbooks.notes().values() if text]
    assert written and all("2026-11-26" in text and "2026-11-27" not in text for text in written)
