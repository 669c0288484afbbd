"""The same cycle on the Xero sandbox: nothing above the connector boundary knows the difference."""

from __future__ import annotations

import dataclasses
import datetime as dt

from integration.store.models import ActionStatus, Connection, ConnectionStatus, Organization
from tests.cycle.xero_world import XeroWorld, xero_world  # noqa: F401  (fixture)
from tests.xero_conformance import load_spec

LIVE = {"mode": "live"}


def test_live_cycle_on_xero_sends_writes_history_and_records_once(xero_world: XeroWorld) -> None:
    xero_world.set_rules(LIVE)
    first = xero_world.cycle()
    assert first.status == "done", first.detail
    actions = xero_world.actions()
    assert actions and all(a.status in (ActionStatus.DONE, ActionStatus.SKIPPED) for a in actions), [
        (a.kind, a.status, a.last_error) for a in actions
    ]
    reminders = [a for a in actions if a.kind == "send_reminder" and a.status == ActionStatus.DONE]
    assert len(xero_world.outbox.entries()) == len(reminders) > 0
    history = xero_world.history()
    for action in reminders:
        for invoice_id in action.payload["delivered"]:
            assert any(action.payload["subject"] in record["Details"] for record in history[invoice_id])
    second = xero_world.cycle()
    assert second.status == "done" and second.planned == 0
    assert len(xero_world.outbox.entries()) == len(reminders)
    assert xero_world.history() == history


def test_the_daily_limit_stops_the_cycle_cleanly_until_the_next_day(xero_world: XeroWorld) -> None:
    assert xero_world.cycle().status == "observed"  # the first sync, in observe mode
    calls_today = xero_world.admin("GET", "/requests").json()["total"]
    xero_world.set_rules(LIVE)
    # Enough for the incremental sync and a few write-backs, then the day's allowance is gone.
    assert xero_world.admin("POST", "/limits", json={"calls_per_day": calls_today + 4}).status_code == 200
    stopped = xero_world.cycle()
    assert stopped.status == "stopped" and "daily" in stopped.detail.lower(), stopped.detail
    with xero_world.sessions() as session:
        assert session.get(Connection, xero_world.connection_id).status is ConnectionStatus.ACTIVE
    left = [a for a in xero_world.actions() if a.status == ActionStatus.PLANNED]
    assert left, "what the limit stopped waits for tomorrow"

    xero_world.clock.advance(dt.timedelta(days=1))
    assert xero_world.admin("POST", "/limits", json={"calls_per_day": 5000}).status_code == 200
    resumed = xero_world.cycle()
    assert resumed.status == "done", resumed.detail
    assert not [
        a
        for a in xero_world.actions()
        if a.status in (ActionStatus.PLANNED, ActionStatus.IN_FLIGHT, ActionStatus.FAILED)
    ]
    keys = [entry["key"] for entry in xero_world.outbox.entries()]
    assert len(keys) == len(set(keys))


def test_every_request_the_connector_made_in_a_cycle_conforms_to_the_published_spec(xero_world: XeroWorld) -> None:
    xero_world.set_rules(LIVE)
    assert xero_world.cycle().status == "done"
    paths = {(e.method, e.path.split("?")[0].split("/api.xro/2.0/")[1].split("/")[0]) for e in xero_world.exchanges}
    assert {
        ("GET", "Invoices"),
        ("GET", "Contacts"),
        ("GET", "Payments"),
        ("PUT", "Invoices"),
        ("GET", "Organisation"),
    } <= paths, paths
    spec = load_spec()
    problems = {f"{e.method} {e.path}": spec.problems(e) for e in xero_world.exchanges}
    assert {where: found for where, found in problems.items() if found} == {}


def test_get_invoices_matches_single_reads_and_leaves_out_the_unknown(xero_world: XeroWorld) -> None:
    with xero_world.sessions() as session:
        connection = session.get(Connection, xero_world.connection_id)
        organization = session.get(Organization, xero_world.organization_id)
        connector = xero_world.deps().connectors(connection, organization)
    ids = list(xero_world.admin("GET", "/organisations/demo/ids").json()["invoices"].values())[:3]
    unknown = "00000000-0000-0000-0000-000000000000"
    found = connector.get_invoices([*ids, unknown])
    assert sorted(found) == sorted(ids)
    assert all(found[i] == connector.get_invoice(i) for i in ids)
    linked = {i for i in ids if found[i].pay_link}
    assert linked, "the demo company's first invoices include open ones"
    xero_world.admin("DELETE", "/requests")
    partial = connector.get_invoices(ids, pay_links=set(sorted(linked)[:1]))
    assert {i for i in ids if partial[i].pay_link} == set(sorted(linked)[:1])
    assert all(dataclasses.replace(partial[i], pay_link=found[i].pay_link) == found[i] for i in ids)
    assert xero_world.admin("GET", "/requests").json()["total"] == 2  # one IDs read, one online-invoice link
