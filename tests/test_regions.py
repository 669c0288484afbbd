"""An address's time zone from its country and state, and a company's default from its address."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import Customer
from connectors.regions import AUSTRALIA, CANADA, US_STATES, address_zone, company_zone, country_code, customer_zones
from integration.cycle.gather import load_snapshot
from integration.store.db import transaction
from integration.store.models import Connection, MirroredCustomer
from tests.conftest import add_connection

UPDATED = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("US", "US"),
        ("USA", "US"),
        ("United States", "US"),
        ("U.S.A.", "US"),
        ("united states of america", "US"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("Britain", "GB"),
        ("England", "GB"),
        ("New Zealand", "NZ"),
        ("Australia", "AU"),
        ("canada", "CA"),
        ("Japan", "JP"),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_countries_are_read_however_an_address_spells_them(country: str | None, code: str | None) -> None:
    assert country_code(country) == code


@pytest.mark.parametrize("table", [US_STATES, CANADA, AUSTRALIA])
def test_every_tabled_region_is_a_real_zone_by_code_and_by_name(table: dict[str, tuple[str, str]]) -> None:
    country = {id(US_STATES): "US", id(CANADA): "CA", id(AUSTRALIA): "AU"}[id(table)]
    for code, (name, zone) in table.items():
        ZoneInfo(zone)
        assert address_zone(country, code) == address_zone(country, name.lower()) == zone


@pytest.mark.parametrize(
    ("country", "region", "zone"),
    [
        ("US", "CO", "America/Denver"),
        ("USA", "Arizona", "America/Phoenix"),
        ("CA", "BC", "America/Vancouver"),
        ("Australia", "WA", "Australia/Perth"),
        ("UK", None, "Europe/London"),
        ("NZ", "", "Pacific/Auckland"),
        ("Ireland", "Dublin", "Europe/Dublin"),
        ("Japan", None, "Asia/Tokyo"),
    ],
)
def test_an_address_that_settles_its_zone(country: str, region: str | None, zone: str) -> None:
    assert address_zone(country, region) == zone


@pytest.mark.parametrize(
    ("country", "region"),
    [("US", None), ("US", "Nowhere"), ("Canada", ""), ("AU", None), ("Brazil", "SP"), ("Atlantis", "X"), (None, "CO")],
)
def test_an_address_that_does_not_settle_it_answers_none(country: str | None, region: str | None) -> None:
    assert address_zone(country, region) is None


@pytest.mark.parametrize(
    ("country", "region", "zone"),
    [
        ("US", "CO", "America/Denver"),
        ("US", None, "America/New_York"),
        ("Canada", None, "America/Toronto"),
        ("AU", None, "Australia/Sydney"),
        ("Brazil", None, "America/Sao_Paulo"),
        ("GB", None, "Europe/London"),
        ("Atlantis", None, "UTC"),
        (None, None, "UTC"),
    ],
)
def test_a_company_always_gets_a_zone_the_largest_centre_then_utc(
    country: str | None, region: str | None, zone: str
) -> None:
    assert company_zone(country, region) == zone


def test_a_customer_address_with_a_state_and_no_country_is_read_in_the_companys_country() -> None:
    """Intuit's own Customer samples give CountrySubDivisionCode without Country."""
    people = [
        Customer("ca", "West Co", None, None, "USD", None, True, UPDATED, region="CA"),
        Customer("ny", "East Co", None, None, "USD", None, True, UPDATED, country="USA", region="NY"),
        Customer("none", "Nowhere Co", None, None, "USD", None, True, UPDATED),
    ]
    assert customer_zones(people) == {"ny": "America/New_York"}  # without the company's country: unknown
    assert customer_zones(people, "US") == {"ca": "America/Los_Angeles", "ny": "America/New_York"}
    assert customer_zones(people, "United States") == customer_zones(people, "US")


def test_the_snapshot_reads_such_addresses_in_the_country_of_the_companys_own_address(
    sessions: sessionmaker[Session],
) -> None:
    connection_id = add_connection(sessions, "realm-zones")
    with transaction(sessions) as db:
        db.add(
            MirroredCustomer(
                connection_id=connection_id,
                provider_id="ca",
                name="West Co",
                currency="USD",
                active=True,
                provider_updated_at=UPDATED,
                region="CA",
            )
        )
    now = dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC)
    with sessions() as db:
        assert load_snapshot(db, connection_id, now).customer_zones == {}
    with transaction(sessions) as db:
        connection = db.get_one(Connection, connection_id)
        connection.company_address = {"lines": ["2150 Pearl St"], "city": "Boulder", "region": "CO", "country": "US"}
    with sessions() as db:
        assert load_snapshot(db, connection_id, now).customer_zones == {"ca": "America/Los_Angeles"}
