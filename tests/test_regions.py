"""An address's time zone from its country and state, and a company's default from its address."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from connectors.regions import AUSTRALIA, CANADA, US_STATES, address_zone, company_zone, country_code


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
