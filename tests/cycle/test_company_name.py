"""A connection whose company's name could not be read at connect is named by its next cycle."""

from __future__ import annotations

import pytest

from connectors.quickbooks.connector import QuickBooksConnector
from integration.store.connections import placeholder_name
from integration.store.db import transaction
from integration.store.models import Connection, Organization
from tests.cycle.conftest import World

COMPANY = "Harbor & Pine Landscaping"  # small_scenario's company


def _as_if_unnamed(world: World) -> str:
    """The rows as a connect whose CompanyInfo read failed left them."""
    with transaction(world.sessions) as session:
        connection = session.get(Connection, world.connection_id)
        placeholder = placeholder_name(connection.provider, connection.external_id)
        connection.display_name = placeholder
        session.get(Organization, world.organization_id).name = placeholder
    return placeholder


def _names(world: World) -> tuple[str, str]:
    with world.sessions() as session:
        return (
            session.get(Connection, world.connection_id).display_name,
            session.get(Organization, world.organization_id).name,
        )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each company name the connector read."""
    names: list[str] = []
    read = QuickBooksConnector.company_name

    def counted(connector: QuickBooksConnector) -> str:
        names.append(read(connector))
        return names[-1]

    monkeypatch.setattr(QuickBooksConnector, "company_name", counted)
    return names


def test_the_next_cycle_names_a_connection_left_with_its_placeholder(world: World, reads: list[str]) -> None:
    _as_if_unnamed(world)
    assert world.cycle().status == "observed"
    assert _names(world) == (COMPANY, COMPANY)
    world.cycle()
    assert reads == [COMPANY]  # named once, never asked again


def test_an_organization_named_by_its_owner_keeps_its_name(world: World) -> None:
    _as_if_unnamed(world)
    with transaction(world.sessions) as session:
        session.get(Organization, world.organization_id).name = "Pat's books"
    world.cycle()
    assert _names(world) == (COMPANY, "Pat's books")


def test_a_failing_read_leaves_the_placeholder_and_the_cycle_runs_on(world: World) -> None:
    placeholder = _as_if_unnamed(world)
    world.qbo.admin("POST", "/faults", json={"path": "/companyinfo/", "kind": "status", "status": 503, "count": 10})
    summary = world.cycle()
    assert summary.status == "observed" and summary.synced["invoice"] == 5
    assert _names(world) == (placeholder, placeholder)
    world.qbo.admin("DELETE", "/faults")
    world.cycle()
    assert _names(world) == (COMPANY, COMPANY)


def test_a_named_connection_is_not_asked(world: World, reads: list[str]) -> None:
    world.cycle()
    assert reads == []
