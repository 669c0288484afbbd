from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from integration.store.connections import store_tokens
from integration.store.models import Connection, Organization
from oauth.crypto import TokenCipher, TokenSet
from tests.conftest import MakeApp
from tests.oauth.fake_intuit import FakeIntuit, fake_intuit
from tests.oauth.sandbox_flow import Sandbox, running_sandbox
from tests.oauth.xero_flow import XeroSandbox, running_xero_sandbox


@pytest.fixture
def intuit() -> Iterator[FakeIntuit]:
    with fake_intuit() as fake:
        yield fake


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The QuickBooks sandbox on a free loopback port, with the demo company."""
    yield from running_sandbox()


@pytest.fixture
def sandbox_app(make_app: MakeApp, sandbox: Sandbox) -> Flask:
    """arpilot's web app pointed at the sandbox."""
    return make_app(quickbooks=sandbox.config)


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher([Fernet.generate_key().decode()])


def make_tokens(
    refresh_token: str,
    *,
    expires_in: dt.timedelta,
    realm: str = "9130355555555555",
    access_token: str = "eyJ.access.seeded-0001",
) -> TokenSet:
    now = dt.datetime.now(dt.UTC)
    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token,
        access_expires_at=now + expires_in,
        refresh_expires_at=now + dt.timedelta(days=100),
        external_id=realm,
        scope=("com.intuit.quickbooks.accounting", "openid"),
    )


def add_connection(sessions, cipher: TokenCipher, tokens: TokenSet) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session, session.begin():
        organization = Organization(name="Harbor & Pine")
        session.add(organization)
        session.flush()
        connection = Connection(
            organization_id=organization.id,
            provider="quickbooks",
            external_id=tokens.external_id,
            display_name="Harbor & Pine",
        )
        store_tokens(connection, cipher, tokens)
        session.add(connection)
        session.flush()
        return connection.id


def stored_tokens(sessions, cipher: TokenCipher, connection_id: int) -> TokenSet:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return cipher.decrypt(session.get(Connection, connection_id).token_blob)


@pytest.fixture
def xero_sandbox() -> Iterator[XeroSandbox]:
    """The Xero sandbox on a free loopback port: the demo organisation and a second one."""
    yield from running_xero_sandbox()


@pytest.fixture
def xero_app(make_app: MakeApp, xero_sandbox: XeroSandbox) -> Flask:
    """arpilot's web app pointed at the Xero sandbox."""
    return make_app(xero=xero_sandbox.config, xero_webhook_key=xero_sandbox.webhook_key)
