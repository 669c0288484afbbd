"""QuickBooks query-language literals: names with quotes, backslashes and injection attempts round-trip
through a real query on the sandbox and match exactly their own record, never another."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.quickbooks import queries
from connectors.quickbooks.connector import QuickBooksConnector
from connectors.sandbox.scenario.model import ScenarioCustomer
from integration.store.models import Connection, Organization
from tests.cycle.conftest import NOW, World, make_world
from tests.sandbox.conftest import APOSTROPHE_NAME, small_scenario

TRICKY_NAMES = (
    APOSTROPHE_NAME,  # O'Brien\Sons Hardware: \S is an escape of its own if unescaped
    "Ends With A Backslash\\",
    "'Quoted Throughout'",
    "Backslash Then Quote \\' Co",
    "Double \\\\ Backslash",
    "Percent % and _ Underscore",
    "a' OR DisplayName LIKE '%",  # an injection that would match every customer
    "Zoë & Søn 漢字",
)


@pytest.fixture
def tricky_world(sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[World]:
    base = small_scenario(NOW.date())
    extra = tuple(
        ScenarioCustomer(f"tricky-{n}", name, None, None, "USD", 30)
        for n, name in enumerate(TRICKY_NAMES)
        if name != APOSTROPHE_NAME
    )
    yield from make_world(dataclasses.replace(base, customers=base.customers + extra), sessions, tmp_path)


def test_tricky_names_round_trip_through_a_sandbox_query(tricky_world: World, tally) -> None:  # type: ignore[no-untyped-def]
    world = tricky_world
    with world.sessions() as db:
        connection = db.get(Connection, world.connection_id)
        organization = db.get(Organization, world.organization_id)
    connector = world.deps().connectors(connection, organization)
    assert isinstance(connector, QuickBooksConnector)
    for name in TRICKY_NAMES:
        found = (
            connector.client.query(queries.by_name("Customer", "DisplayName", name))["QueryResponse"].get("Customer")
            or []
        )
        assert [c["DisplayName"] for c in found] == [name], name
        tally["bad_inputs_tried"] += 1
