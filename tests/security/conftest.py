"""The security suite's figures (`tally` counts what one test tried, see tests/security/figures.py),
arpilot's web app with both providers' sandboxes, and an app holding two organizations."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from integration.web import customer_page, request_limits
from integration.web.request_limits import Limit
from tests.conftest import MakeApp
from tests.oauth.sandbox_flow import Sandbox, running_sandbox
from tests.oauth.xero_flow import XeroSandbox, running_xero_sandbox
from tests.security.figures import ARTIFACT, merge
from tests.security.tenants import Tenant, add_tenant


@pytest.fixture(scope="session")
def security_figures() -> Iterator[dict[str, Counter[str]]]:
    figures: dict[str, Counter[str]] = {}
    yield figures
    if figures:
        merge(ARTIFACT, figures)


@pytest.fixture
def tally(security_figures: dict[str, Counter[str]], request: pytest.FixtureRequest) -> Counter[str]:
    """This test's counts: `tally["bad_inputs_tried"] += 1`."""
    return security_figures.setdefault(request.node.nodeid, Counter())


@pytest.fixture
def both(make_app: MakeApp) -> Iterator[tuple[Flask, Sandbox, XeroSandbox]]:
    """arpilot's web app configured for the QuickBooks and the Xero sandbox at once."""
    for quickbooks in running_sandbox():
        for xero in running_xero_sandbox():
            yield (
                make_app(quickbooks=quickbooks.config, xero=xero.config, xero_webhook_key=xero.webhook_key),
                quickbooks,
                xero,
            )


@pytest.fixture
def tenants(make_app: MakeApp, database_url: str) -> tuple[Flask, Tenant, Tenant]:
    """The web app on each database with two organizations, Alpha and Bravo, under a fresh token key."""
    # The walks send hundreds of requests through one customer-page link from one address; those
    # limits have their own tests (tests/web/test_customer_page.py), here they would answer 429 first.
    unlimited = Limit(1_000_000, 60)
    groups = tuple(
        dataclasses.replace(g, limit=unlimited) if g.name == "customer-page" else g
        for g in request_limits.DEFAULT_GROUPS
    )
    app = make_app(
        {request_limits.CONFIG_KEY: groups, customer_page.LINK_LIMIT_KEY: unlimited},
        database_url=database_url,
        token_encryption_keys=(Fernet.generate_key().decode(),),
    )
    return app, add_tenant(app, "Alpha"), add_tenant(app, "Bravo")
