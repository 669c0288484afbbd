"""Money, days and moments on the owner's pages: the organization's locale, the amount's own currency and
the company's time zone (integration/web/formatting.py and the shared macros)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask import Flask, render_template_string, session

from integration.store.db import transaction
from integration.store.models import Connection, Organization
from integration.web.formatting import (
    connection_zone,
    day_text,
    moment_text,
    money_text,
    month_text,
    style_of,
    whole_money_text,
)
from tests.web.conftest import Seeded, signed_in

AMOUNT = Decimal("3555.43")
NOON_UTC = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def _plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")  # CLDR's no-break spaces, as a reader sees them


@pytest.mark.parametrize(
    ("locale", "currency", "expected"),
    [
        ("en_US", "USD", "$3,555.43"),
        ("en_US", "EUR", "€3,555.43"),
        ("en_US", "JPY", "¥3,555"),
        ("de_DE", "EUR", "3.555,43 €"),
        ("de_DE", "USD", "3.555,43 $"),
        ("de_DE", "JPY", "3.555 ¥"),
        ("en_GB", "GBP", "£3,555.43"),
        ("en_GB", "USD", "US$3,555.43"),
    ],
)
def test_an_amount_is_in_its_own_currency_written_the_owners_way(locale: str, currency: str, expected: str) -> None:
    assert _plain(money_text(AMOUNT, currency, style_of(locale, None))) == expected


def test_chart_labels_round_to_the_unit_and_name_the_month_the_locales_way() -> None:
    assert _plain(whole_money_text(Decimal("35554.60"), "USD", style_of("en_US", None))) == "$35,555"
    assert _plain(whole_money_text(Decimal("35554.60"), "EUR", style_of("de_DE", None))) == "35.555 €"
    assert month_text(dt.date(2026, 3, 1), style_of("de_DE", None)) == "März"
    assert month_text(dt.date(2026, 3, 1), style_of("en_GB", None)) == "Mar"


@pytest.mark.parametrize(
    ("locale", "expected"), [("en_US", "Nov 2, 2026"), ("de_DE", "02.11.2026"), ("en_GB", "2 Nov 2026")]
)
def test_a_day_is_in_the_locales_form_never_iso_or_month_first_by_default(locale: str, expected: str) -> None:
    assert day_text(dt.date(2026, 11, 2), style_of(locale, None)) == expected


def test_a_moment_is_in_the_companys_zone_and_says_today_or_yesterday() -> None:
    tokyo = style_of("en_GB", "Asia/Tokyo")  # noon UTC is 21:00 in Tokyo, the same day
    assert _plain(moment_text(NOON_UTC, tokyo, dt.date(2026, 11, 2))) == "today, 21:00"
    assert _plain(moment_text(NOON_UTC, tokyo, dt.date(2026, 11, 3))) == "yesterday, 21:00"
    assert _plain(moment_text(NOON_UTC, tokyo, dt.date(2026, 11, 9))) == "2 Nov 2026, 21:00"
    new_york = style_of("en_US", "America/New_York")
    assert _plain(moment_text(NOON_UTC, new_york, dt.date(2026, 11, 9))) == "Nov 2, 2026, 7:00 AM"
    berlin = style_of("de_DE", "Europe/Berlin")
    assert _plain(moment_text(NOON_UTC, berlin, dt.date(2026, 11, 9))) == "02.11.2026, 13:00"


def test_the_companys_zone_comes_first_then_the_organizations_and_bad_settings_still_show(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    mine, theirs = two_orgs
    _organization(app, mine, "en_US", "Europe/Berlin")
    with app.test_request_context():
        session["organization_id"] = mine.organization_id
        assert str(connection_zone(mine.connection_id)) == "Europe/Berlin"  # the books named none yet
        with transaction(app.extensions["arpilot"].sessions) as db:
            db.get(Connection, mine.connection_id).timezone = "Asia/Tokyo"  # type: ignore[union-attr]
            db.get(Connection, theirs.connection_id).timezone = "America/Denver"  # type: ignore[union-attr]
        assert str(connection_zone(mine.connection_id)) == "Asia/Tokyo"
        assert str(connection_zone(theirs.connection_id)) == "Europe/Berlin"  # another organization's: not read
    broken = style_of("xx_NOWHERE", "Mars/Olympus")
    assert str(broken.zone) == "UTC" and str(broken.locale) == "en_US"


def _organization(app: Flask, seeded: Seeded, locale: str, zone: str) -> None:
    with transaction(app.extensions["arpilot"].sessions) as db:
        organization = db.get(Organization, seeded.organization_id)
        assert organization is not None
        organization.locale, organization.timezone = locale, zone


MACROS = (
    '{% from "dashboard/macros.html" import money, when with context %}'
    "{{ money(amount, 'EUR') }}|{{ when(at) }}|{{ when(at, '%Y-%m-%d') }}|{{ when(at, '%H:%M') }}|{{ when(none) }}"
)


def test_the_shared_macros_write_in_the_signed_in_organizations_locale_and_zone(
    app: Flask, two_orgs: tuple[Seeded, Seeded]
) -> None:
    mine = two_orgs[0]
    _organization(app, mine, "de_DE", "Europe/Berlin")
    at = dt.datetime(2026, 11, 2, 23, 30, tzinfo=dt.UTC)  # already Nov 3 in Berlin
    with app.test_request_context():
        session["organization_id"] = mine.organization_id
        shown = _plain(render_template_string(MACROS, amount=AMOUNT, at=at))
    assert shown.startswith("3.555,43 €|")
    assert '<time datetime="2026-11-02T23:30:00+00:00">03.11.2026, 00:30</time>' in shown
    assert '<time datetime="2026-11-02T23:30:00+00:00">03.11.2026</time>' in shown
    assert '<time datetime="2026-11-02T23:30:00+00:00">00:30</time>' in shown
    assert shown.endswith("|—")
    with app.test_request_context():  # a visitor: en_US, UTC
        assert _plain(render_template_string(MACROS, amount=AMOUNT, at=at, zone="Asia/Tokyo")).startswith(
            '€3,555.43|<time datetime="2026-11-02T23:30:00+00:00">Nov 3, 2026, 8:30 AM</time>'
        )


def test_pages_show_amounts_and_days_in_the_locale_not_by_hand(app: Flask, two_orgs: tuple[Seeded, Seeded]) -> None:
    mine = two_orgs[0]
    _organization(app, mine, "de_DE", "Europe/Berlin")
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection = db.get(Connection, mine.connection_id)
        assert connection is not None
        connection.timezone = "Asia/Tokyo"
    client = signed_in(app, mine)
    record = _plain(client.get(f"/customers/{mine.customer_id}").get_data(as_text=True))
    assert "500,00 $" in record and "01.10.2026" in record  # the payment's amount, an invoice's due day
    shown = re.sub(r"<[^>]+>", " ", record)  # what a reader sees: <time datetime="2026-10-01"> is for machines
    assert "2026-10-01" not in shown and " USD" not in shown and "(UTC)" not in shown
    settings = _plain(client.get(f"/settings/customers/{mine.customer_id}").get_data(as_text=True))
    assert "due 02.10.2026" in settings and "Promised by 30.11.2026" in settings
