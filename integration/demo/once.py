"""One demo cycle from nothing: start the sandbox, connect through its consent page, run a live
cycle with the default rules, and summarise what happened.

Everything runs on loopback with the embedded defaults; the database is `var/demo/arpilot.db`,
new each run unless `keep` is set (then a second run finds nothing new to do, and says so).
"""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from connectors.quickbooks.sandbox import QboSandboxConfig
from connectors.quickbooks.sandbox import create_app as create_quickbooks_sandbox
from connectors.sandbox import SandboxClock, SandboxServer
from connectors.sandbox.consent import click_through
from connectors.sandbox.scenario import Scenario
from connectors.xero.sandbox import XeroSandboxConfig
from connectors.xero.sandbox import create_app as create_xero_sandbox
from integration.app_context import Runtime
from integration.config import Settings, load_settings
from integration.cycle.providers import connector_factory
from integration.cycle.run import CycleDeps, CycleSummary, cycle_once
from integration.demo.report import DemoReport, build_report
from integration.owner.stored_rules import save_rules
from integration.store.db import transaction
from integration.store.models import Connection, InvoicePause, Organization, OrganizationRules
from integration.web import create_app
from reminders.delivery import OutboxSender

DEMO_HOUR = 10  # the cycle runs at 10:00 in the company's time zone: inside business hours


class DemoError(RuntimeError):
    """The demo could not connect or run; the message says where it stopped."""


@dataclass(frozen=True)
class DemoRun:
    summary: CycleSummary
    report: DemoReport


def demo_now(scenario: Scenario, day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(DEMO_HOUR), ZoneInfo(scenario.company.timezone))
    return local.astimezone(dt.UTC)


@dataclass(frozen=True)
class _DemoProvider:
    """How the demo starts one provider's sandbox and points arpilot at it."""

    name: str
    sandbox: Callable[[Scenario, SandboxClock], Flask]
    environment: Callable[[Flask, str], dict[str, str]]  # settings for a sandbox at base_url
    ids_path: str  # admin path of the scenario id -> provider id map of the demo company


def _quickbooks_environment(app: Flask, base_url: str) -> dict[str, str]:
    config = app.extensions["qbo_sandbox"].config
    return {
        "QUICKBOOKS_CLIENT_ID": config.client_id,
        "QUICKBOOKS_CLIENT_SECRET": config.client_secret,
        "QUICKBOOKS_ENVIRONMENT": app.extensions["qbo_sandbox"].discovery_url(base_url),
        "QUICKBOOKS_REDIRECT_URI": "http://127.0.0.1:5000/connect/quickbooks/callback",
    }


def _xero_environment(app: Flask, base_url: str) -> dict[str, str]:
    config = app.extensions["xero_sandbox"].config
    return {
        "XERO_CLIENT_ID": config.client_id,
        "XERO_CLIENT_SECRET": config.client_secret,
        "XERO_IDENTITY_URL": base_url,
        "XERO_API_URL": base_url,
        "XERO_REDIRECT_URI": "http://127.0.0.1:5000/connect/xero/callback",
    }


PROVIDERS = {
    "quickbooks": _DemoProvider(
        "quickbooks",
        lambda scenario, clock: create_quickbooks_sandbox(QboSandboxConfig(), scenario=scenario, clock=clock),
        _quickbooks_environment,
        "/_sandbox/companies/{company}/ids",
    ),
    "xero": _DemoProvider(
        "xero",
        lambda scenario, clock: create_xero_sandbox(XeroSandboxConfig(), scenario=scenario, clock=clock),
        _xero_environment,
        "/_sandbox/organisations/demo/ids",
    ),
}


def demo_settings(var_dir: Path, provider_environment: dict[str, str]) -> Settings:
    demo_dir = var_dir / "demo"
    return load_settings(
        {
            "ARPILOT_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{demo_dir / 'arpilot.db'}",
            "EMAIL_OUTBOX_DIR": str(demo_dir / "outbox"),
            "ARPILOT_EMBEDDED_CLOCK": "0",
            **provider_environment,
        }
    )


def _connect(settings: Settings, provider: str) -> int:
    """Drive the web app's own connect flow: arpilot's redirect, the consent page, the callback."""
    app = create_app(settings)
    client = app.test_client()
    start = client.get(f"/connect/{provider}")
    if start.status_code != 302:
        raise DemoError(f"arpilot could not start the {provider} connection (HTTP {start.status_code})")
    callback = urllib.parse.urlsplit(click_through(start.headers["Location"]))
    finish = client.get(callback.path, query_string=callback.query)
    if finish.status_code != 302:
        raise DemoError(
            f"the {provider} callback failed (HTTP {finish.status_code}): {finish.get_data(as_text=True)[:300]}"
        )
    with app.extensions["arpilot"].sessions() as session:
        # The consent chose the sandbox's first company: the demo's, the newest connection made.
        return session.scalars(
            select(Connection.id).where(Connection.provider == provider).order_by(Connection.updated_at.desc()).limit(1)
        ).one()


def _set_up_company(settings: Settings, connection_id: int, scenario: Scenario, disputed_ids: list[str]) -> None:
    """What the owner would do on the settings page: the company's details, live mode, the dispute."""
    with transaction(Runtime(settings).sessions) as session:
        connection = session.get(Connection, connection_id)
        assert connection is not None
        connection.display_name = scenario.company.name
        organization = session.get(Organization, connection.organization_id)
        assert organization is not None
        organization.name, organization.timezone = scenario.company.name, scenario.company.timezone
        organization.base_currency, organization.locale = scenario.company.currency, scenario.company.locale
        if (
            session.scalar(select(OrganizationRules).where(OrganizationRules.organization_id == organization.id))
            is None
        ):
            save_rules(session, organization.id, {"mode": "live"})
        for invoice_id in disputed_ids:
            exists = session.scalar(
                select(InvoicePause).where(
                    InvoicePause.connection_id == connection_id, InvoicePause.invoice_provider_id == invoice_id
                )
            )
            if exists is None:
                session.add(
                    InvoicePause(
                        connection_id=connection_id,
                        invoice_provider_id=invoice_id,
                        disputed=True,
                        note="The customer disputes this invoice.",
                    )
                )


def run_demo_once(
    scenario: Scenario, day: dt.date, var_dir: Path, *, provider: str = "quickbooks", keep: bool = False
) -> DemoRun:
    demo_dir = var_dir / "demo"
    if not keep and demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True, exist_ok=True)
    now = demo_now(scenario, day)
    # Ticking, not frozen: the sandbox's per-minute limits must see time pass, as the providers' do.
    clock = SandboxClock(now)
    chosen = PROVIDERS[provider]
    sandbox_app = chosen.sandbox(scenario, clock)
    with SandboxServer(sandbox_app) as server:
        settings = demo_settings(var_dir, chosen.environment(sandbox_app, server.base_url))
        connection_id = _connect(settings, provider)
        runtime = Runtime(settings)
        with runtime.sessions() as session:
            company = session.get(Connection, connection_id).external_id  # type: ignore[union-attr]
        mapping = sandbox_app.test_client().get(chosen.ids_path.format(company=company)).get_json()["invoices"]
        disputed = [mapping[i.id] for i in scenario.invoices if i.disputed and i.id in mapping]
        _set_up_company(settings, connection_id, scenario, disputed)
        deps = CycleDeps(
            sessions=runtime.sessions,
            connectors=connector_factory(settings, runtime.sessions, clock=clock.now),
            sender=OutboxSender(settings.outbox_dir),
            clock=clock.now,
            from_address=scenario.company.email,
        )
        summary = cycle_once(deps, connection_id)
        report = build_report(runtime.sessions, connection_id, summary, now)
        runtime.engine.dispose()
    return DemoRun(summary, report)
