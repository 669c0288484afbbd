"""Xero's Timezone values: every value of the published enum maps to a real IANA zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from connectors.xero.mapping import MappingError
from connectors.xero.timezones import XERO_ZONES, iana_zone, xero_name
from tests.xero_conformance import load_spec

ENUM = load_spec().document["components"]["schemas"]["TimeZone"]["enum"]
JANUARY, JULY = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC), dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)


def test_the_table_names_exactly_the_published_enum() -> None:
    assert sorted(XERO_ZONES) == sorted(ENUM)


@pytest.mark.parametrize("name", ENUM)
def test_every_enum_value_maps_to_an_iana_zone(name: str) -> None:
    zone = ZoneInfo(iana_zone(name))  # raises for a zone the IANA database does not know
    assert JANUARY.astimezone(zone).utcoffset() is not None


@pytest.mark.parametrize(
    ("name", "zone", "january_hours", "july_hours"),
    [
        ("NEWZEALANDSTANDARDTIME", "Pacific/Auckland", 13, 12),
        ("MOUNTAINSTANDARDTIME", "America/Denver", -7, -6),
        ("GMTSTANDARDTIME", "Europe/London", 0, 1),
        ("AUSEASTERNSTANDARDTIME", "Australia/Sydney", 11, 10),
        ("USMOUNTAINSTANDARDTIME", "America/Phoenix", -7, -7),
        ("UTC+12", "Etc/GMT-12", 12, 12),
        ("UTC11", "Etc/GMT+11", -11, -11),
        ("CENTRALSTANDARDTIME(MEXICO)", "America/Mexico_City", -6, -6),
        ("INDIASTANDARDTIME", "Asia/Kolkata", 5.5, 5.5),
    ],
)
def test_zones_keep_the_offsets_their_windows_names_promise(
    name: str, zone: str, january_hours: float, july_hours: float
) -> None:
    assert iana_zone(name) == zone
    for instant, hours in ((JANUARY, january_hours), (JULY, july_hours)):
        assert instant.astimezone(ZoneInfo(zone)).utcoffset() == dt.timedelta(hours=hours)


def test_a_value_outside_the_enum_is_refused_with_its_name() -> None:
    with pytest.raises(MappingError, match="MARSSTANDARDTIME"):
        iana_zone("MARSSTANDARDTIME")
    assert iana_zone(" newzealandstandardtime ") == "Pacific/Auckland"


def test_the_sandbox_can_name_a_zone_back() -> None:
    assert xero_name("Pacific/Auckland") == "NEWZEALANDSTANDARDTIME"
    assert xero_name("Europe/Dublin") is None
