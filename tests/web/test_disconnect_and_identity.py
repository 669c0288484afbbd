"""Disconnecting stops the cycles and says so, keeping the history; the owner's identity is the
provider's OpenID userinfo answer. Both providers, through their sandboxes' real consent pages."""

from __future__ import annotations

import requests
from flask import Flask
from sqlalchemy import func, select

from integration.clock.scheduler import Clock, ClockPlan, active_connection_ids
from integration.cycle.run import cycle_once, default_deps
from integration.store.db import transaction
from integration.store.models import ActivityEntry, Connection, ConnectionStatus, CycleRun, User
from integration.web.common import AFTER_DISCONNECT
from tests.clock_helpers import ManualScheduler
from tests.oauth import sandbox_flow, xero_flow
from tests.oauth.sandbox_flow import Sandbox, stored
from tests.oauth.webflow import csrf_token
from tests.oauth.xero_flow import XeroSandbox


def _clock(app: Flask) -> Clock:
    sessions = app.extensions["arpilot"].sessions
    clock = Clock(
        ManualScheduler(),
        ClockPlan.from_settings(app.extensions["arpilot"].settings),
        "tests.clock_helpers:record_cycle",
        lambda: active_connection_ids(sessions),
    )
    clock.scheduler.start()
    return clock


def _assert_cycles_stopped(app: Flask, clock: Clock, connection_id: int) -> None:
    runtime = app.extensions["arpilot"]
    assert clock.refresh().removed == (connection_id,)  # the clock drops its job
    assert connection_id not in clock.scheduled_connection_ids()
    # A cycle already queued (run soon, or on RQ before the disconnect) does nothing either.
    summary = cycle_once(default_deps(runtime), connection_id)
    assert (summary.status, summary.detail) == ("skipped", "connection is disconnected")
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(CycleRun).where(CycleRun.connection_id == connection_id)) == 0
        assert db.get(Connection, connection_id).status is ConnectionStatus.DISCONNECTED  # type: ignore[union-attr]


def _keep_history(app: Flask, connection_id: int) -> None:
    with transaction(app.extensions["arpilot"].sessions) as db:
        connection = db.get(Connection, connection_id)
        db.add(
            ActivityEntry(
                organization_id=connection.organization_id,  # type: ignore[union-attr]
                connection_id=connection_id,
                kind="action_done",
                message="reminder 1 emailed before the disconnect",
            )
        )


def test_quickbooks_disconnect_says_cycles_stop_and_they_do(sandbox_app: Flask) -> None:
    client = sandbox_app.test_client()
    connection_id, _ = sandbox_flow.connect(sandbox_app, client)
    _keep_history(sandbox_app, connection_id)
    clock = _clock(sandbox_app)
    assert clock.refresh().added == (connection_id,)

    page = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert AFTER_DISCONNECT in html and "Reminder cycles have stopped" in html and "history is kept" in html
    _assert_cycles_stopped(sandbox_app, clock, connection_id)
    assert client.get("/activity").status_code == 302  # the last company gone, the session ends with it (#15.5)
    assert sandbox_flow.connect(sandbox_app, client)[0] == connection_id  # consenting again: the same connection
    activity = client.get("/activity").get_data(as_text=True)
    assert "reminder 1 emailed before the disconnect" in activity  # the history is still there


def test_quickbooks_disconnect_url_says_the_same(sandbox_app: Flask) -> None:
    html = sandbox_app.test_client().get("/disconnected/quickbooks").get_data(as_text=True)
    assert AFTER_DISCONNECT in html


def test_xero_disconnect_says_cycles_stop_and_they_do(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    client = xero_app.test_client()
    tenant = xero_sandbox.tenant_ids()["demo"]
    connection_id = xero_flow.connect(xero_app, client, [tenant])[tenant]
    clock = _clock(xero_app)
    assert clock.refresh().added == (connection_id,)

    page = client.post(f"/connections/{connection_id}/disconnect", data={"csrf_token": csrf_token(client)})
    assert page.status_code == 200 and AFTER_DISCONNECT in page.get_data(as_text=True)
    _assert_cycles_stopped(xero_app, clock, connection_id)


def _owner(app: Flask) -> User:
    with app.extensions["arpilot"].sessions() as db:
        return db.execute(select(User)).scalar_one()


def test_quickbooks_owner_is_the_userinfo_answer(sandbox_app: Flask, sandbox: Sandbox) -> None:
    connection_id, _ = sandbox_flow.connect(sandbox_app, sandbox_app.test_client())
    userinfo = requests.get(
        f"{sandbox.base_url}/v1/openid_connect/userinfo",
        timeout=10,
        headers={"Authorization": f"Bearer {stored(sandbox_app, connection_id).access_token}"},
    ).json()
    owner = _owner(sandbox_app)
    # The name is in the userinfo answer only (Intuit's ID token carries no name).
    assert (owner.provider, owner.subject, owner.email, owner.name) == (
        "quickbooks",
        userinfo["sub"],
        userinfo["email"],
        f"{userinfo['givenName']} {userinfo['familyName']}",
    )


def test_xero_owner_is_the_userinfo_answer(xero_app: Flask, xero_sandbox: XeroSandbox) -> None:
    tenant = xero_sandbox.tenant_ids()["demo"]
    connection_id = xero_flow.connect(xero_app, xero_app.test_client(), [tenant])[tenant]
    access = stored(xero_app, connection_id).access_token
    userinfo = requests.get(
        f"{xero_sandbox.base_url}/connect/userinfo", timeout=10, headers={"Authorization": f"Bearer {access}"}
    ).json()
    owner = _owner(xero_app)
    assert (owner.provider, owner.subject, owner.email, owner.name) == (
        "xero",
        userinfo["xero_userid"],
        userinfo["email"],
        userinfo["name"],
    )
