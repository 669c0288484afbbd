"""One grant shared by several connections (a Xero consent granting two organisations), over both
databases: concurrent refreshes through either connection make one call and store into both."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import select

from connectors.contract import AuthExpired
from integration.store.connections import store_tokens
from integration.store.models import Connection, ConnectionStatus, Organization
from integration.store.token_refresh import ConnectionTokenSource
from oauth.crypto import TokenCipher, TokenSet
from oauth.errors import InvalidGrant
from tests.oauth.conftest import make_tokens, stored_tokens


class CountingRefresher:
    """Rotates on every call, like Xero; slow enough that racing callers overlap."""

    def __init__(self, current: str) -> None:
        self.current = current
        self.calls = 0
        self._lock = threading.Lock()

    def refresh(self, refresh_token: str, external_id: str) -> TokenSet:
        with self._lock:
            if refresh_token != self.current:
                raise InvalidGrant("Xero refused the token refresh: HTTP 400, invalid_grant")
            self.calls += 1
            self.current = f"refresh-{self.calls:04d}-" + "r" * 30
            threading.Event().wait(0.05)
            return make_tokens(
                self.current,
                expires_in=dt.timedelta(minutes=30),
                realm=external_id,
                access_token=f"access-{self.calls:04d}-" + "a" * 30,
            )


def _two_connections_of_one_grant(sessions, cipher: TokenCipher, refresh_token: str) -> list[int]:  # type: ignore[no-untyped-def]
    grant = dataclasses.replace(make_tokens(refresh_token, expires_in=dt.timedelta(minutes=1)), grant_id="consent-1")
    with sessions() as session, session.begin():
        organization = Organization(name="Kereru")
        session.add(organization)
        session.flush()
        rows = []
        for tenant in ("tenant-a", "tenant-b"):
            connection = Connection(
                organization_id=organization.id, provider="xero", external_id=tenant, display_name=tenant
            )
            store_tokens(connection, cipher, dataclasses.replace(grant, external_id=tenant))
            session.add(connection)
            rows.append(connection)
        session.flush()
        return [c.id for c in rows]


def test_concurrent_refreshes_of_a_shared_grant_make_one_call(sessions, cipher) -> None:  # type: ignore[no-untyped-def]
    refresher = CountingRefresher("seed-refresh-" + "s" * 30)
    ids = _two_connections_of_one_grant(sessions, cipher, refresher.current)
    results: list[str] = []

    def work(connection_id: int) -> None:
        results.append(ConnectionTokenSource(sessions, cipher, connection_id, lambda: refresher).access_token())

    threads = [threading.Thread(target=work, args=(connection_id,)) for connection_id in ids * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refresher.calls == 1 and len(set(results)) == 1
    stored = [stored_tokens(sessions, cipher, connection_id) for connection_id in ids]
    assert {t.refresh_token for t in stored} == {refresher.current}
    assert [t.external_id for t in stored] == ["tenant-a", "tenant-b"]
    assert {t.grant_id for t in stored} == {"consent-1"}


def test_a_dead_grant_marks_every_connection_sharing_it(sessions, cipher) -> None:  # type: ignore[no-untyped-def]
    refresher = CountingRefresher("current-" + "c" * 30)
    ids = _two_connections_of_one_grant(sessions, cipher, "revoked-" + "x" * 30)
    source = ConnectionTokenSource(sessions, cipher, ids[0], lambda: refresher)
    with pytest.raises(AuthExpired, match="needs reconnect"):
        source.access_token()
    with sessions() as session:
        statuses = session.execute(select(Connection.status).where(Connection.id.in_(ids))).scalars().all()
    assert set(statuses) == {ConnectionStatus.NEEDS_RECONNECT}
