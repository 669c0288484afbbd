"""Rotation-safe refresh over both databases: one refresh per connection, commit before use."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from connectors.contract import AccessTokenSource, AuthExpired, Transient
from integration.store.db import make_engine, make_session_factory
from integration.store.models import ActivityEntry, Connection, ConnectionStatus
from integration.store.token_refresh import ConnectionTokenSource
from oauth.intuit import IntuitOAuth
from tests.oauth import fake_intuit as fake
from tests.oauth.conftest import add_connection, make_tokens, stored_tokens
from tests.oauth.fake_intuit import FakeIntuit


def _source(sessions, cipher, connection_id: int) -> ConnectionTokenSource:  # type: ignore[no-untyped-def]
    return ConnectionTokenSource(sessions, cipher, connection_id, lambda: IntuitOAuth(fake.SETTINGS))


def test_is_an_access_token_source(sessions, cipher) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(_source(sessions, cipher, 1), AccessTokenSource)


def test_fresh_token_is_used_without_a_call(sessions, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=30))
    connection_id = add_connection(sessions, cipher, tokens)
    assert _source(sessions, cipher, connection_id).access_token() == tokens.access_token
    assert intuit.refresh_calls == 0


def test_token_expiring_within_five_minutes_is_refreshed_and_stored(sessions, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=4))
    connection_id = add_connection(sessions, cipher, tokens)
    access = _source(sessions, cipher, connection_id).access_token()
    stored = stored_tokens(sessions, cipher, connection_id)
    assert intuit.refresh_calls == 1 and access == stored.access_token != tokens.access_token
    assert stored.refresh_token in intuit.current_refresh and stored.refresh_token != tokens.refresh_token
    assert stored.scope == tokens.scope  # kept from the grant: refresh answers do not repeat it
    with sessions() as session:
        assert session.get(Connection, connection_id).access_expires_at == stored.access_expires_at


def test_refreshed_after_401_refreshes_once_then_reuses(sessions, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=50))
    connection_id = add_connection(sessions, cipher, tokens)
    source = _source(sessions, cipher, connection_id)
    first = source.refreshed(tokens.access_token)
    assert first != tokens.access_token and intuit.refresh_calls == 1
    # Another caller that also saw the stale token gets the new one without a second call.
    assert source.refreshed(tokens.access_token) == first and intuit.refresh_calls == 1


def test_a_401_on_the_fresh_token_refreshes_again_and_the_connection_stays_active(
    sessions, cipher, intuit: FakeIntuit
) -> None:  # type: ignore[no-untyped-def]
    """Issue 15.8: the connector's second round after a 401 on a just-refreshed token rotates again."""
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=50))
    connection_id = add_connection(sessions, cipher, tokens)
    source = _source(sessions, cipher, connection_id)
    first = source.refreshed(tokens.access_token)
    second = source.refreshed(first)
    assert len({tokens.access_token, first, second}) == 3 and intuit.refresh_calls == 2
    stored = stored_tokens(sessions, cipher, connection_id)
    assert stored.access_token == second and stored.refresh_token in intuit.current_refresh
    with sessions() as session:
        assert session.get(Connection, connection_id).status is ConnectionStatus.ACTIVE


def test_invalid_grant_marks_needs_reconnect_and_raises(sessions, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    dead = "AB11" + "x" * 40  # never issued, so Intuit answers invalid_grant (echoing it)
    connection_id = add_connection(sessions, cipher, make_tokens(dead, expires_in=dt.timedelta(minutes=1)))
    source = _source(sessions, cipher, connection_id)
    with pytest.raises(AuthExpired, match="invalid_grant") as caught:
        source.access_token()
    assert dead not in str(caught.value)
    with sessions() as session:
        connection = session.get(Connection, connection_id)
        assert connection.status is ConnectionStatus.NEEDS_RECONNECT
        assert "invalid_grant" in connection.status_reason and dead not in connection.status_reason
        assert connection.token_blob is not None  # kept: the history and the row stay
        activity = (
            session.execute(select(ActivityEntry).where(ActivityEntry.connection_id == connection_id)).scalars().all()
        )
        assert [entry.level for entry in activity] == ["warning"]
    # From now on no call is made: the owner has to reconnect.
    with pytest.raises(AuthExpired, match="needs_reconnect"):
        source.access_token()
    with pytest.raises(AuthExpired, match="needs_reconnect"):
        source.refreshed("anything")
    assert intuit.refresh_calls == 1


def test_transient_failure_changes_nothing(sessions, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=1))
    connection_id = add_connection(sessions, cipher, tokens)
    intuit.next_token_error = (503, "busy")
    with pytest.raises(Transient):
        _source(sessions, cipher, connection_id).access_token()
    assert stored_tokens(sessions, cipher, connection_id) == tokens
    with sessions() as session:
        assert session.get(Connection, connection_id).status is ConnectionStatus.ACTIVE


def test_missing_connection_is_auth_expired(sessions, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthExpired, match="does not exist"):
        _source(sessions, cipher, 4242).access_token()
    with pytest.raises(AuthExpired, match="does not exist"):
        _source(sessions, cipher, 4242).refreshed("stale")


def test_concurrent_refreshes_make_exactly_one_call(database_url, cipher, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    """Two workers, each with its own engine (own database sessions), see the same 401 at once."""
    engines = [make_engine(database_url) for _ in range(2)]
    factories = [make_session_factory(engine) for engine in engines]
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=50))
    connection_id = add_connection(factories[0], cipher, tokens)
    intuit.refresh_delay = 0.2  # the first refresh is still in flight when the second asks
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(factory) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            results.append(_source(factory, cipher, connection_id).refreshed(tokens.access_token))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(factory,)) for factory in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for engine in engines:
        engine.dispose()
    assert errors == []
    assert intuit.refresh_calls == 1
    assert len(results) == 2 and results[0] == results[1] != tokens.access_token


def test_new_refresh_token_is_committed_before_the_access_token_is_used(
    database_url, cipher, intuit: FakeIntuit
) -> None:  # type: ignore[no-untyped-def]
    """A crash right after the token response: what is stored must already be the new grant."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=1))
    connection_id = add_connection(sessions, cipher, tokens)

    class Crash(Exception):
        pass

    def use(access_token: str) -> None:
        # The first use of the new access token: look from a different process's point of view.
        observer = make_engine(database_url)
        try:
            seen = stored_tokens(make_session_factory(observer), cipher, connection_id)
        finally:
            observer.dispose()
        assert seen.access_token == access_token
        assert seen.refresh_token in intuit.current_refresh  # the rotated one, already durable
        raise Crash

    with pytest.raises(Crash):
        use(_source(sessions, cipher, connection_id).access_token())
    engine.dispose()
    # After the "restart" the stored refresh token still works: no invalid_grant, no reconnect.
    restarted = make_session_factory(make_engine(database_url))
    assert _source(restarted, cipher, connection_id).refreshed(
        stored_tokens(restarted, cipher, connection_id).access_token
    )
    assert intuit.refresh_calls == 2


def test_failed_commit_hands_out_no_token(sessions, cipher, intuit: FakeIntuit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    tokens = make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=1))
    connection_id = add_connection(sessions, cipher, tokens)

    def fail(session) -> None:  # type: ignore[no-untyped-def]
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    event.listen(sessions, "before_commit", fail)
    try:
        with pytest.raises(Transient, match="database failed"):
            _source(sessions, cipher, connection_id).access_token()
    finally:
        event.remove(sessions, "before_commit", fail)
    assert stored_tokens(sessions, cipher, connection_id) == tokens


def test_sqlite_write_lock_alone_serialises_separate_processes(
    tmp_path, cipher, intuit: FakeIntuit, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Without the process-local lock (as between two processes), BEGIN IMMEDIATE still serialises."""
    import integration.store.token_refresh
    from integration.store.db import upgrade

    url = f"sqlite:///{tmp_path / 'two-processes.db'}"
    upgrade(url)
    monkeypatch.setattr(integration.store.token_refresh._LOCAL_LOCKS, "get", lambda *_: threading.Lock())
    test_concurrent_refreshes_make_exactly_one_call(url, cipher, intuit)


def test_quickbooks_token_source_from_settings(settings, sessions, intuit: FakeIntuit) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from integration.store.token_refresh import quickbooks_token_source
    from oauth.crypto import TokenCipher

    configured = dataclasses.replace(settings, quickbooks=fake.SETTINGS)
    cipher = TokenCipher(configured.token_encryption_keys)
    connection_id = add_connection(
        sessions, cipher, make_tokens(intuit.seed_refresh_token(), expires_in=dt.timedelta(minutes=1))
    )
    assert quickbooks_token_source(configured, sessions, connection_id).access_token() in intuit.access_tokens
    with pytest.raises(AuthExpired, match="not configured"):
        quickbooks_token_source(dataclasses.replace(settings, quickbooks=None), sessions, connection_id)
