"""Rotation-safe refresh: one refresh per connection at a time, the new refresh token committed first.

Intuit (and Xero) rotate refresh tokens: once a new one is returned the old one soon dies, so two
workers refreshing the same connection at once, or a crash between receiving a token and saving
it, locks the company out. Every refresh therefore runs under a per-connection lock that spans
re-reading the stored tokens, the call to the provider and the COMMIT of the answer:

- PostgreSQL: `pg_advisory_xact_lock(namespace, connection id)` plus `SELECT … FOR UPDATE` on the
  row, both released by the transaction's end, so every process and machine is serialised.
- SQLite: a process-local lock (threads queue without busy-waiting) plus `BEGIN IMMEDIATE`, which
  takes SQLite's write lock up front, so other processes on the same file wait too.

Under the lock the blob is read again: if another worker already refreshed, its token is used and
no call is made. The new access token is handed out only after the COMMIT that stored the new
refresh token.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connectors.contract import AuthExpired, Transient
from integration.config import Settings
from integration.store.connections import load_tokens, mark_needs_reconnect, store_tokens
from integration.store.models import Connection, ConnectionStatus
from oauth.crypto import TokenCipher, TokenSet
from oauth.intuit import IntuitOAuth
from oauth.xero import XeroOAuth

log = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)
# First key of the two-key advisory lock form: keeps arpilot's locks apart from anyone else's.
ADVISORY_NAMESPACE = zlib.crc32(b"arpilot.connection.tokens") & 0x7FFFFFFF
GRANT_NAMESPACE = zlib.crc32(b"arpilot.grant.tokens") & 0x7FFFFFFF


class ConnectionNotFound(AuthExpired):
    """The connection row is gone: there is nothing to refresh."""


class TokenRefresher(Protocol):
    """What a provider's OAuth client offers the refresh (oauth.intuit.IntuitOAuth, oauth.xero.XeroOAuth)."""

    def refresh(self, refresh_token: str, external_id: str) -> TokenSet: ...


class _LocalLocks:
    """One lock per (database, lock key) for this process; entries are tiny and never removed."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def get(self, database: str, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault((database, key), threading.Lock())


_LOCAL_LOCKS = _LocalLocks()


@contextmanager
def _locked_transaction(sessions: sessionmaker[Session], namespace: int, key: int, local_key: str) -> Iterator[Session]:
    """A transaction holding the lock (namespace, key) across processes; commits on a normal exit."""
    with sessions() as session:
        engine = session.get_bind().engine  # a session bound to a Connection has no .url of its own
        dialect = engine.dialect.name
        local = (
            _LOCAL_LOCKS.get(engine.url.render_as_string(hide_password=True), local_key)
            if dialect == "sqlite"
            else nullcontext()
        )
        with local, session.begin():
            if dialect == "sqlite":
                # Must be the transaction's first statement: pysqlite has not begun one yet.
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            elif dialect == "postgresql":
                session.execute(select(func.pg_advisory_xact_lock(namespace, key)))
            yield session


def _row_for_update(session: Session, connection_id: int) -> Connection:
    connection = session.execute(
        select(Connection).where(Connection.id == connection_id).with_for_update()
    ).scalar_one_or_none()
    if connection is None:
        raise ConnectionNotFound(f"connection {connection_id} does not exist")
    return connection


@contextmanager
def locked_connection(sessions: sessionmaker[Session], connection_id: int) -> Iterator[tuple[Session, Connection]]:
    """A transaction holding the connection's token lock; commits on a normal exit."""
    with _locked_transaction(sessions, ADVISORY_NAMESPACE, connection_id, f"connection:{connection_id}") as session:
        yield session, _row_for_update(session, connection_id)


def _grant_of(sessions: sessionmaker[Session], cipher: TokenCipher, connection_id: int) -> str | None:
    with sessions() as session:
        connection = session.get(Connection, connection_id)
        tokens = load_tokens(connection, cipher) if connection is not None else None
    return tokens.grant_id if tokens is not None else None


@contextmanager
def locked_grant(
    sessions: sessionmaker[Session], cipher: TokenCipher, connection_id: int
) -> Iterator[tuple[Session, Connection, list[Connection]]]:
    """The connection and every connection sharing its grant (itself included), under the grant's lock.

    One Xero consent granting several organisations gives one refresh token to several
    connections. Refreshing them one by one would rotate the token under each other's feet, so the
    lock is taken on the grant, and whoever refreshes stores the answer into every sibling in the
    same transaction. A grant serving one connection (QuickBooks) is simply the connection's lock.
    """
    grant_id = _grant_of(sessions, cipher, connection_id)
    if grant_id is None:
        with locked_connection(sessions, connection_id) as (session, connection):
            yield session, connection, [connection]
        return
    key = zlib.crc32(grant_id.encode()) & 0x7FFFFFFF
    with _locked_transaction(sessions, GRANT_NAMESPACE, key, f"grant:{grant_id}") as session:
        connection = _row_for_update(session, connection_id)
        candidates = session.execute(
            select(Connection)
            .where(
                Connection.organization_id == connection.organization_id,
                Connection.provider == connection.provider,
                Connection.token_blob.is_not(None),
            )
            .order_by(Connection.id)
            .with_for_update()
        ).scalars()
        siblings = [c for c in candidates if c.id == connection.id or load_tokens(c, cipher).grant_id == grant_id]  # type: ignore[union-attr]
        yield session, connection, siblings or [connection]


def _usable_tokens(connection: Connection, cipher: TokenCipher) -> TokenSet:
    if connection.status is not ConnectionStatus.ACTIVE:
        reason = f": {connection.status_reason}" if connection.status_reason else ""
        raise AuthExpired(f"connection {connection.id} is {connection.status.value}{reason}")
    tokens = load_tokens(connection, cipher)
    if tokens is None:
        raise AuthExpired(f"connection {connection.id} holds no tokens")
    return tokens


class ConnectionTokenSource:
    """connectors.contract.AccessTokenSource over the database, for one connection."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        cipher: TokenCipher,
        connection_id: int,
        oauth_client_factory: Callable[[], TokenRefresher],
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        margin: dt.timedelta = REFRESH_MARGIN,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self.connection_id = connection_id
        self._client_factory = oauth_client_factory
        self._clock = clock
        self._margin = margin

    def __repr__(self) -> str:
        return f"ConnectionTokenSource(connection_id={self.connection_id})"

    def access_token(self) -> str:
        """The stored access token, refreshed first when it expires within the margin."""
        with self._sessions() as session:
            connection = session.get(Connection, self.connection_id)
            if connection is None:
                raise ConnectionNotFound(f"connection {self.connection_id} does not exist")
            tokens = _usable_tokens(connection, self._cipher)
        if not tokens.expires_within(self._margin, self._clock()):
            return tokens.access_token
        return self._refresh(lambda current: current.expires_within(self._margin, self._clock()))

    def refreshed(self, stale_access_token: str) -> str:
        """After a 401: refresh once, unless someone already replaced the stale token."""
        return self._refresh(lambda current: current.access_token == stale_access_token)

    def _refresh(self, still_needed: Callable[[TokenSet], bool]) -> str:
        failure: AuthExpired | None = None
        try:
            with locked_grant(self._sessions, self._cipher, self.connection_id) as (session, connection, siblings):
                current = _usable_tokens(connection, self._cipher)
                if not still_needed(current):
                    log.debug("connection %s: tokens already refreshed by another worker", self.connection_id)
                    return current.access_token
                try:
                    answer = self._client_factory().refresh(current.refresh_token, connection.external_id)
                except AuthExpired as exc:
                    # Committed below with the transaction, then raised: the owner must reconnect.
                    # The grant is dead for every connection sharing it.
                    for sibling in siblings:
                        if sibling.status is ConnectionStatus.ACTIVE:
                            mark_needs_reconnect(session, sibling, str(exc))
                    failure = AuthExpired(f"connection {self.connection_id} needs reconnect: {exc}")
                else:
                    fresh = current.with_refresh(answer)
                    for sibling in siblings:
                        store_tokens(sibling, self._cipher, replace(fresh, external_id=sibling.external_id))
                    log.info(
                        "connection %s: access token refreshed (%d connection(s) of the grant)",
                        self.connection_id,
                        len(siblings),
                    )
        except OperationalError as exc:
            # The provider may have rotated the refresh token we failed to store; say so plainly.
            log.error("connection %s: token storage failed (%s)", self.connection_id, type(exc).__name__)
            raise Transient(f"connection {self.connection_id}: the database failed during token refresh") from None
        if failure is not None:
            raise failure
        return fresh.access_token


def quickbooks_token_source(
    settings: Settings, sessions: sessionmaker[Session], connection_id: int
) -> ConnectionTokenSource:
    """The AccessTokenSource of one QuickBooks connection, configured from the settings."""
    config = settings.quickbooks
    if config is None:
        raise AuthExpired("QuickBooks is not configured (QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET)")
    return ConnectionTokenSource(
        sessions, TokenCipher(settings.token_encryption_keys), connection_id, lambda: IntuitOAuth(config)
    )


def xero_token_source(
    settings: Settings,
    sessions: sessionmaker[Session],
    connection_id: int,
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> ConnectionTokenSource:
    """The AccessTokenSource of one Xero connection (one tenant), configured from the settings."""
    config = settings.xero
    if config is None:
        raise AuthExpired("Xero is not configured (XERO_CLIENT_ID and XERO_CLIENT_SECRET)")
    return ConnectionTokenSource(
        sessions,
        TokenCipher(settings.token_encryption_keys),
        connection_id,
        lambda: XeroOAuth(config, clock=clock),
        clock=clock,
    )
