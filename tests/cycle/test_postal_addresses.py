"""Postal addresses from the books to the letter, on both sandboxes through the real SDKs: the
cycle mirrors each customer's billing address and keeps the company's own (read again daily), and
a letter carries both, the street and postal code inside the envelope's window; a customer with no
postal address gets no letter to print but a plain word on the list."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import PostalAddress
from connectors.sandbox.scenario import Scenario
from integration.documents.pdf import letter_pdf
from integration.owner.letters import NoPostalAddress, letters_to_post, printed_letter
from integration.store.db import transaction
from integration.store.models import Connection, Letter, MirroredCustomer
from integration.store.postal import stored_address
from reminders.formatting import parse_locale
from tests.cycle.conftest import World, make_world
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.documents.test_letter import drawn_lines
from tests.sandbox.conftest import small_scenario

LETTERS_ON: dict[str, object] = {"mode": "live", "ladder": {"stages": [{"letter": True}] * 7}}
COMPANY = PostalAddress(("2150 Pearl St",), "Boulder", "CO", "80302", "US")
BOULDER = PostalAddress(("22 Elm St", "Suite 4"), "Boulder", "CO", "80304", "US")
HAMBURG = PostalAddress(("Am Sandtorkai 37",), "Hamburg", None, "20457", "DE")


def _scenario() -> Scenario:
    """The small company with addresses: Acme in Boulder, O'Brien in Hamburg, Cobalt with none."""
    scenario = small_scenario()
    where = {"cust-01": BOULDER, "cust-02": HAMBURG}

    def placed(address: PostalAddress) -> dict[str, Any]:
        return {
            "street": address.lines,
            "city": address.city,
            "region": address.region,
            "postal_code": address.postal_code,
            "country": address.country,
        }

    return dataclasses.replace(
        scenario,
        company=dataclasses.replace(scenario.company, **placed(COMPANY)),
        customers=tuple(
            dataclasses.replace(c, **placed(where[c.id])) if c.id in where else c for c in scenario.customers
        ),
    )


@pytest.fixture(params=["quickbooks", "xero"])
def books(
    request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path
) -> Iterator[World | XeroWorld]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    yield from make(_scenario(), sessions, tmp_path)


def _customers(world: World | XeroWorld) -> dict[str, PostalAddress | None]:
    with world.sessions() as session:
        return {c.name: stored_address(c.billing_address) for c in session.scalars(select(MirroredCustomer))}


def test_the_cycle_mirrors_billing_addresses_and_the_companys_own(books: World | XeroWorld) -> None:
    books.cycle()
    assert _customers(books) == {"Acme Plumbing": BOULDER, "O'Brien\\Sons Hardware": HAMBURG, "Cobalt Dental": None}
    with books.sessions() as session:
        connection = session.get_one(Connection, books.connection_id)
        assert stored_address(connection.company_address) == COMPANY
        assert connection.company_address_read_at is not None


def _letter_to(world: World | XeroWorld, name: str) -> Letter:
    """The cycle's letter (to Acme, the one customer with reminders due and an email), sent to `name` instead."""
    with transaction(world.sessions) as session:
        letter = session.scalars(select(Letter)).one()
        customer = session.scalars(select(MirroredCustomer).where(MirroredCustomer.name == name)).one()
        letter.customer_provider_id, letter.customer_name = customer.provider_id, name
        session.flush()
        session.expunge(letter)
        return letter


def test_a_letter_carries_both_addresses_and_the_window_shows_street_and_postal_code(books: World | XeroWorld) -> None:
    books.set_rules(LETTERS_ON)
    books.cycle()
    with books.sessions() as session:
        acme, _ = printed_letter(session, books.organization_id, _letter_to(books, "Acme Plumbing"))
        (row,) = letters_to_post(session, books.organization_id)
    assert row.no_address is None
    assert acme.recipient == ("Acme Plumbing", "22 Elm St", "Suite 4", "Boulder CO 80304")
    assert acme.sender == ("Harbor & Pine Landscaping", "2150 Pearl St", "Boulder CO 80302")
    paper = acme.paper
    runs = drawn_lines(letter_pdf(acme, parse_locale("en_US")), paper)
    for wanted in ("22 Elm St", "Boulder CO 80304"):
        (x, baseline) = next((x, y) for text, x, y in runs if text == wanted)
        assert paper.window.x <= x <= paper.window.x + paper.window.width, wanted
        assert paper.window.y <= baseline <= paper.window.y + paper.window.height, wanted


def test_a_letter_abroad_names_both_countries(books: World | XeroWorld) -> None:
    books.set_rules(LETTERS_ON)
    books.cycle()
    with books.sessions() as session:
        obrien, _ = printed_letter(session, books.organization_id, _letter_to(books, "O'Brien\\Sons Hardware"))
    # The postal code before the city, as German post reads it, and the country named; the
    # sender's country too, for a reply from abroad.
    assert obrien.recipient == ("O'Brien\\Sons Hardware", "Am Sandtorkai 37", "20457 Hamburg", "GERMANY")
    assert obrien.sender == ("Harbor & Pine Landscaping", "2150 Pearl St", "Boulder CO 80302", "UNITED STATES")


def test_a_customer_without_a_postal_address_is_named_and_gets_no_letter(books: World | XeroWorld) -> None:
    books.set_rules(LETTERS_ON)
    books.cycle()
    provider = "QuickBooks" if isinstance(books, World) else "Xero"
    letter = _letter_to(books, "Cobalt Dental")
    with books.sessions() as session:
        (row,) = letters_to_post(session, books.organization_id)
        with pytest.raises(NoPostalAddress, match=f"add one in {provider}"):
            printed_letter(session, books.organization_id, letter)
    assert row.no_address == f"No postal address in the books: add one in {provider}."


def test_the_company_address_is_read_again_after_a_day_not_every_cycle(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    for world in make_world(_scenario(), sessions, tmp_path):
        world.cycle()
        with transaction(world.sessions) as session:
            connection = session.get_one(Connection, world.connection_id)
            first = connection.company_address_read_at
            connection.company_address = None  # as if the books had none then
        world.clock.set(world.clock.now() + dt.timedelta(hours=2))
        world.cycle()
        with world.sessions() as session:
            connection = session.get_one(Connection, world.connection_id)
            assert (connection.company_address, connection.company_address_read_at) == (None, first)
        world.clock.set(world.clock.now() + dt.timedelta(days=1))
        world.cycle()
        with world.sessions() as session:
            connection = session.get_one(Connection, world.connection_id)
            assert stored_address(connection.company_address) == COMPANY
            assert connection.company_address_read_at is not None and first is not None
            assert connection.company_address_read_at > first
