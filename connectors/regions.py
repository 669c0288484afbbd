"""Which IANA time zone an address is in, from its country and state or province.

QuickBooks names no time zone for a company, and neither provider names one for a customer, but
both keep addresses: a country (free text: "US", "USA", "United States") and a state or province
("CO", "Colorado"). The country is read with the IANA database's own country list (tzdata's
iso3166.tab and zone.tab), so every country with one zone is known; the states of the United
States, the provinces and territories of Canada and the states of Australia are tabled below.

- `address_zone` answers only when the address settles it: a country with one zone (or one where
  practically everyone keeps one, New Zealand's Chatham Islands aside), or a known state of a
  country split into zones. Otherwise None, and the caller falls back (a customer to the company).
- `company_zone` is the company's default when its books name no zone: the address's zone, else
  the zone of the country's largest business centre (United States: New York), else UTC. The
  owner can change it in Settings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources

from connectors.contract import Customer

US_STATES: dict[str, tuple[str, str]] = {  # code -> (name, zone of most of the state's people)
    "AL": ("Alabama", "America/Chicago"),
    "AK": ("Alaska", "America/Anchorage"),
    "AZ": ("Arizona", "America/Phoenix"),
    "AR": ("Arkansas", "America/Chicago"),
    "CA": ("California", "America/Los_Angeles"),
    "CO": ("Colorado", "America/Denver"),
    "CT": ("Connecticut", "America/New_York"),
    "DE": ("Delaware", "America/New_York"),
    "DC": ("District of Columbia", "America/New_York"),
    "FL": ("Florida", "America/New_York"),
    "GA": ("Georgia", "America/New_York"),
    "HI": ("Hawaii", "Pacific/Honolulu"),
    "ID": ("Idaho", "America/Boise"),
    "IL": ("Illinois", "America/Chicago"),
    "IN": ("Indiana", "America/Indiana/Indianapolis"),
    "IA": ("Iowa", "America/Chicago"),
    "KS": ("Kansas", "America/Chicago"),
    "KY": ("Kentucky", "America/New_York"),
    "LA": ("Louisiana", "America/Chicago"),
    "ME": ("Maine", "America/New_York"),
    "MD": ("Maryland", "America/New_York"),
    "MA": ("Massachusetts", "America/New_York"),
    "MI": ("Michigan", "America/Detroit"),
    "MN": ("Minnesota", "America/Chicago"),
    "MS": ("Mississippi", "America/Chicago"),
    "MO": ("Missouri", "America/Chicago"),
    "MT": ("Montana", "America/Denver"),
    "NE": ("Nebraska", "America/Chicago"),
    "NV": ("Nevada", "America/Los_Angeles"),
    "NH": ("New Hampshire", "America/New_York"),
    "NJ": ("New Jersey", "America/New_York"),
    "NM": ("New Mexico", "America/Denver"),
    "NY": ("New York", "America/New_York"),
    "NC": ("North Carolina", "America/New_York"),
    "ND": ("North Dakota", "America/Chicago"),
    "OH": ("Ohio", "America/New_York"),
    "OK": ("Oklahoma", "America/Chicago"),
    "OR": ("Oregon", "America/Los_Angeles"),
    "PA": ("Pennsylvania", "America/New_York"),
    "RI": ("Rhode Island", "America/New_York"),
    "SC": ("South Carolina", "America/New_York"),
    "SD": ("South Dakota", "America/Chicago"),
    "TN": ("Tennessee", "America/Chicago"),
    "TX": ("Texas", "America/Chicago"),
    "UT": ("Utah", "America/Denver"),
    "VT": ("Vermont", "America/New_York"),
    "VA": ("Virginia", "America/New_York"),
    "WA": ("Washington", "America/Los_Angeles"),
    "WV": ("West Virginia", "America/New_York"),
    "WI": ("Wisconsin", "America/Chicago"),
    "WY": ("Wyoming", "America/Denver"),
    "PR": ("Puerto Rico", "America/Puerto_Rico"),
    "GU": ("Guam", "Pacific/Guam"),
    "VI": ("Virgin Islands", "America/St_Thomas"),
    "AS": ("American Samoa", "Pacific/Pago_Pago"),
    "MP": ("Northern Mariana Islands", "Pacific/Saipan"),
}
CANADA: dict[str, tuple[str, str]] = {
    "AB": ("Alberta", "America/Edmonton"),
    "BC": ("British Columbia", "America/Vancouver"),
    "MB": ("Manitoba", "America/Winnipeg"),
    "NB": ("New Brunswick", "America/Moncton"),
    "NL": ("Newfoundland and Labrador", "America/St_Johns"),
    "NS": ("Nova Scotia", "America/Halifax"),
    "NT": ("Northwest Territories", "America/Edmonton"),
    "NU": ("Nunavut", "America/Iqaluit"),
    "ON": ("Ontario", "America/Toronto"),
    "PE": ("Prince Edward Island", "America/Halifax"),
    "QC": ("Quebec", "America/Toronto"),
    "SK": ("Saskatchewan", "America/Regina"),
    "YT": ("Yukon", "America/Whitehorse"),
}
AUSTRALIA: dict[str, tuple[str, str]] = {
    "NSW": ("New South Wales", "Australia/Sydney"),
    "VIC": ("Victoria", "Australia/Melbourne"),
    "QLD": ("Queensland", "Australia/Brisbane"),
    "SA": ("South Australia", "Australia/Adelaide"),
    "WA": ("Western Australia", "Australia/Perth"),
    "TAS": ("Tasmania", "Australia/Hobart"),
    "NT": ("Northern Territory", "Australia/Darwin"),
    "ACT": ("Australian Capital Territory", "Australia/Sydney"),
}
REGIONS = {"US": US_STATES, "CA": CANADA, "AU": AUSTRALIA}
# Countries of several zones where one serves practically every business: it answers for any address there.
ONE_IN_PRACTICE = {
    "NZ": "Pacific/Auckland",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "DE": "Europe/Berlin",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia",
    "UA": "Europe/Kyiv",
    "MY": "Asia/Kuala_Lumpur",
    "AR": "America/Argentina/Buenos_Aires",
    "KZ": "Asia/Almaty",
    "UZ": "Asia/Tashkent",
    "PS": "Asia/Hebron",
    "PG": "Pacific/Port_Moresby",
    "GL": "America/Nuuk",
    "MH": "Pacific/Majuro",
}
# Countries split into zones: without a known region only a company's default comes from here.
LARGEST_CENTRE = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "RU": "Europe/Moscow",
    "ID": "Asia/Jakarta",
    "CD": "Africa/Kinshasa",
    "MN": "Asia/Ulaanbaatar",
}
COUNTRY_ALIASES = {
    "USA": "US",
    "UNITED STATES OF AMERICA": "US",
    "AMERICA": "US",
    "UK": "GB",
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "GBR": "GB",
    "CAN": "CA",
    "AUS": "AU",
    "NZL": "NZ",
    "IRL": "IE",
    "ZAF": "ZA",
    "SGP": "SG",
    "DEU": "DE",
    "FRA": "FR",
}


def _tab(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@functools.cache
def _countries() -> tuple[dict[str, str], dict[str, list[str]]]:
    """(spelling -> ISO code, ISO code -> its zones in zone.tab's order)."""
    names = dict(COUNTRY_ALIASES)
    for code, name in _tab("iso3166.tab"):
        names[code] = code
        names[name.upper()] = code
        base, _, extra = name.partition(" (")  # "Britain (UK)", "Korea (South)"
        names.setdefault(base.upper(), code)
        if extra and " " not in extra.rstrip(")"):
            names.setdefault(extra.rstrip(")").upper(), code)
    zones: dict[str, list[str]] = {}
    for row in _tab("zone.tab"):
        zones.setdefault(row[0], []).append(row[2])
    return names, zones


def _clean(text: str | None) -> str:
    return " ".join((text or "").replace(".", "").upper().split())


def country_code(country: str | None) -> str | None:
    """The ISO 3166 code of a country as an address spells it, None when unknown."""
    return _countries()[0].get(_clean(country))


@functools.lru_cache(maxsize=4096)  # addresses repeat across customers and cycles; their text is unbounded
def address_zone(country: str | None, region: str | None) -> str | None:
    """The zone an address is in when its country and region settle it, else None."""
    code = country_code(country)
    if code is None:
        return None
    regions = REGIONS.get(code)
    if regions is not None:
        wanted = _clean(region)
        return next((zone for key, (name, zone) in regions.items() if wanted in (key, name.upper())), None)
    zones = _countries()[1].get(code, [])
    if len(zones) == 1:
        return zones[0]
    return ONE_IN_PRACTICE.get(code)


def company_zone(country: str | None, region: str | None) -> str:
    """A company's default zone from its address: see the module's docstring for the fallbacks."""
    found = address_zone(country, region)
    if found is not None:
        return found
    code = country_code(country)
    zones = _countries()[1].get(code or "", [])
    return LARGEST_CENTRE.get(code or "") or (zones[0] if zones else "UTC")


def customer_zones(customers: Iterable[Customer], home_country: str | None = None) -> dict[str, str]:
    """Customer id -> zone, for the customers whose billing address settles their zone. An address
    with a state but no country (QuickBooks' own samples are written so) is read in the company's
    `home_country`: a Californian customer of a US company is in California."""
    return {
        c.provider_id: zone
        for c in customers
        if (zone := address_zone(c.country or (home_country if c.region else None), c.region)) is not None
    }


@functools.cache
def listed_zones() -> tuple[str, ...]:
    """The zones an owner picks from: every zone of zone.tab (one or more per country) and UTC, sorted."""
    return tuple(sorted({zone for zones in _countries()[1].values() for zone in zones} | {"UTC"}))
