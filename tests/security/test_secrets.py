"""Secrets at rest and in transit through arpilot: a full cycle on each provider's sandbox (sync,
reminders, notes, a token refresh, then a grant revoked inside the provider) and the owner's pages,
with every log record of the process captured at DEBUG. No access token, refresh token, client
secret, webhook key, session secret or encryption key may appear in a log record, a page, an email,
an exception, or any database column other than the encrypted token blob; and key rotation keeps
every connection working."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from integration.store.connections import rotate_token_keys
from integration.store.models import Base, Connection, ConnectionStatus, User
from integration.web import create_app
from oauth.crypto import TokenCipher, TokenSet
from oauth.intuit import IntuitOAuth
from oauth.xero import XeroOAuth
from tests.cycle.conftest import NOW, World, make_world
from tests.cycle.xero_world import XeroWorld, make_xero_world
from tests.oauth.sandbox_flow import consent as quickbooks_consent
from tests.oauth.xero_flow import consent as xero_consent
from tests.sandbox.conftest import small_scenario
from tests.security.capture import all_log_records, rendered
from tests.security.tenants import csrf_token

LIVE = {"mode": "live"}
AnyWorld = World | XeroWorld


@pytest.fixture(params=["quickbooks", "xero"])
def any_world(request: pytest.FixtureRequest, sessions: sessionmaker[Session], tmp_path: Path) -> Iterator[AnyWorld]:
    make = make_world if request.param == "quickbooks" else make_xero_world
    yield from make(small_scenario(NOW.date()), sessions, tmp_path)  # type: ignore[operator]


def stored(world: AnyWorld) -> TokenSet:
    with world.sessions() as db:
        blob = db.get(Connection, world.connection_id).token_blob  # type: ignore[union-attr]
    return TokenCipher(world.settings.token_encryption_keys).decrypt(blob)  # type: ignore[arg-type]


def configured_secrets(world: AnyWorld) -> set[str]:
    s = world.settings
    values = {
        s.secret_key,
        *s.token_encryption_keys,
        s.quickbooks_webhook_verifier,
        s.xero_webhook_key,
        s.quickbooks.client_secret if s.quickbooks else None,
        s.xero.client_secret if s.xero else None,
    }
    return {v for v in values if v}


def revoke(world: AnyWorld, refresh_token: str) -> None:
    if isinstance(world, World):
        IntuitOAuth(world.settings.quickbooks).revoke(refresh_token)  # type: ignore[arg-type]
    else:
        XeroOAuth(world.settings.xero).revoke(refresh_token)  # type: ignore[arg-type]


def database_text(world: AnyWorld) -> tuple[str, list[bytes]]:
    """Every column of every row, read raw (no ORM types); the token blobs apart."""
    text, blobs = [], []
    with world.sessions() as db:
        for table in Base.metadata.sorted_tables:
            for row in db.execute(select(table)).mappings():
                for column, value in row.items():
                    if table.name == "connections" and column == "token_blob":
                        blobs.append(bytes(value) if value is not None else b"")
                    elif isinstance(value, bytes | memoryview):
                        text.append(bytes(value).decode("latin-1"))
                    else:
                        text.append(str(value))
    return "\n".join(text), blobs


def test_no_secret_escapes_a_full_cycle_or_the_owner_pages(any_world: AnyWorld, database_url: str, tally) -> None:  # type: ignore[no-untyped-def]
    world = any_world
    world.set_rules(LIVE)
    secrets = configured_secrets(world)
    shown: list[str] = []  # pages, emails, exceptions and cycle summaries
    with all_log_records() as records:
        secrets.update((stored(world).access_token, stored(world).refresh_token))
        first = world.cycle()
        assert first.status == "done", first.detail
        world.clock.advance(dt.timedelta(hours=2))  # the access token expires: the next cycle refreshes it
        before = stored(world)
        second = world.cycle()
        refreshed = stored(world)
        assert refreshed.access_token != before.access_token, "the cycle did not refresh the token"
        secrets.update((refreshed.access_token, refreshed.refresh_token))

        revoke(world, refreshed.refresh_token)  # the owner disconnects inside the provider
        world.clock.advance(dt.timedelta(hours=2))
        third = world.cycle()
        with world.sessions() as db:
            connection = db.get(Connection, world.connection_id)
            assert connection.status == ConnectionStatus.NEEDS_RECONNECT, (third.status, third.detail)  # type: ignore[union-attr]
            user = db.scalars(select(User).where(User.organization_id == world.organization_id)).one()

        app = create_app(dataclasses.replace(world.settings, database_url=database_url))
        client = app.test_client()
        with client.session_transaction() as session:
            session["user_id"], session["organization_id"] = user.id, world.organization_id
        for rule in app.url_map.iter_rules():
            if "GET" in (rule.methods or ()) and not rule.arguments:
                response = client.get(rule.rule)
                shown.append(response.get_data(as_text=True))
                shown.extend(f"{k}: {v}" for k, v in response.headers.items())
    shown.extend(str(summary.to_json()) for summary in (first, second, third))
    shown.extend(str(entry) for entry in world.outbox.entries())
    shown.extend(path.read_text(errors="replace") for path in Path(world.outbox.directory).rglob("*") if path.is_file())

    logged = [rendered(record) for record in records]
    assert any(r.levelno == 10 for r in records), "nothing was logged at DEBUG: the capture is not working"
    database, blobs = database_text(world)
    places = {"log": "\n".join(logged), "page/email/exception": "\n".join(shown), "database": database}
    found = [(secret[:6] + "…", where) for secret in secrets for where, text in places.items() if secret in text]
    assert not found, f"secrets found: {found}"
    assert blobs and all(blob.startswith(b"gAAAAA") for blob in blobs), "token blobs are not Fernet ciphertext"
    assert not [s for s in secrets for blob in blobs if s.encode() in blob]
    tally["log_records_searched"] += len(records)
    tally["secrets_searched_for"] += len(secrets)


def test_rotated_keys_keep_the_cycle_working(any_world: AnyWorld) -> None:
    world = any_world
    old_keys = world.settings.token_encryption_keys
    before = stored(world)
    with world.sessions() as db:
        old_blob = db.get(Connection, world.connection_id).token_blob  # type: ignore[union-attr]
    new = Fernet.generate_key().decode()
    assert rotate_token_keys(world.sessions, TokenCipher([new, *old_keys])) == 1
    with world.sessions() as db:
        new_blob = db.get(Connection, world.connection_id).token_blob  # type: ignore[union-attr]
    assert new_blob != old_blob
    assert TokenCipher([new]).decrypt(new_blob) == before  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017,PT011 - any failure: the old key alone no longer opens it
        TokenCipher(list(old_keys)).decrypt(new_blob)  # type: ignore[arg-type]

    world.settings = dataclasses.replace(world.settings, token_encryption_keys=(new,))  # the old key is dropped
    world.clock.advance(dt.timedelta(hours=2))  # and the cycle must refresh, decrypting and re-encrypting
    summary = world.cycle()
    assert summary.status in ("observed", "done"), summary.detail
    assert stored(world).access_token != before.access_token


def test_no_secret_escapes_the_connect_and_disconnect_flows(both, tally) -> None:  # type: ignore[no-untyped-def]
    app, quickbooks, xero = both
    settings = app.extensions["arpilot"].settings
    secrets = {
        settings.secret_key,
        *settings.token_encryption_keys,
        quickbooks.config.client_secret,
        xero.config.client_secret,
        xero.webhook_key,
    }
    shown: list[str] = []

    def keep(response) -> None:  # type: ignore[no-untyped-def]
        shown.append(response.get_data(as_text=True))
        shown.extend(f"{k}: {v}" for k, v in response.headers.items() if k != "Set-Cookie")

    owners = {"quickbooks": app.test_client(), "xero": app.test_client()}
    with all_log_records() as records:
        _, params = quickbooks_consent(owners["quickbooks"])
        keep(owners["quickbooks"].get("/connect/quickbooks/callback", query_string=params))
        xero_params = xero_consent(owners["xero"], [xero.tenant_ids()["demo"], xero.tenant_ids()["second"]])
        keep(owners["xero"].get("/connect/xero/callback", query_string=xero_params))
        secrets.update((params["code"], xero_params["code"]))
        cipher = TokenCipher(settings.token_encryption_keys)
        with app.extensions["arpilot"].sessions() as db:
            connections = list(db.scalars(select(Connection)))
        assert len(connections) == 3
        for connection in connections:
            tokens = cipher.decrypt(connection.token_blob)  # type: ignore[arg-type]
            secrets.update((tokens.access_token, tokens.refresh_token))
        for provider, client in owners.items():
            for rule in app.url_map.iter_rules():
                if "GET" in (rule.methods or ()) and not rule.arguments and not rule.rule.startswith("/connect/"):
                    keep(client.get(rule.rule))
            for connection in (c for c in connections if c.provider == provider):
                keep(
                    client.post(
                        f"/connections/{connection.id}/disconnect", data={"csrf_token": csrf_token(app, client)}
                    )
                )
    logged = "\n".join(rendered(record) for record in records)
    assert any(r.name.startswith("urllib3") for r in records), "the HTTP libraries logged nothing to check"
    found = [
        (secret[:6] + "…", where)
        for secret in secrets
        for where, text in (("log", logged), ("page", "\n".join(shown)))
        if secret in text
    ]
    assert not found, f"secrets found: {found}"
    tally["log_records_searched"] += len(records)
    tally["secrets_searched_for"] += len(secrets)
