from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from integration.clock.locks import ADVISORY_NAMESPACE, ConnectionLocked, connection_lock
from integration.store.db import make_engine
from tests.processes import holding_child


class Boom(Exception):
    pass


@pytest.fixture
def pg_engines(postgres_server_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on the same database, as two processes would have."""
    first, second = make_engine(postgres_server_url), make_engine(postgres_server_url)
    yield first, second
    first.dispose()
    second.dispose()


def advisory_locks_held(engine: Engine, connection_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns AND objid = :id"),
            {"ns": ADVISORY_NAMESPACE, "id": connection_id},
        ).scalar_one()


@pytest.mark.postgres
def test_postgres_second_holder_is_refused_while_the_first_holds(pg_engines: tuple[Engine, Engine]) -> None:
    first, second = pg_engines
    with connection_lock(first, 11):
        with pytest.raises(ConnectionLocked) as caught:
            with connection_lock(second, 11):
                pytest.fail("a second holder got in")
        assert caught.value.connection_id == 11
        with pytest.raises(ConnectionLocked):  # another session of the same engine is refused too
            with connection_lock(first, 11):
                pass
        with connection_lock(second, 12):  # other connections are unaffected
            pass
    with connection_lock(second, 11):
        assert advisory_locks_held(first, 11) == 1
    assert advisory_locks_held(first, 11) == 0


@pytest.mark.postgres
def test_postgres_lock_is_released_when_the_body_raises(pg_engines: tuple[Engine, Engine]) -> None:
    first, second = pg_engines
    with pytest.raises(Boom):
        with connection_lock(first, 21):
            raise Boom()
    assert advisory_locks_held(first, 21) == 0
    with connection_lock(second, 21):
        pass


@pytest.mark.postgres
def test_postgres_lock_dies_with_a_killed_process(postgres_server_url: str, pg_engines: tuple[Engine, Engine]) -> None:
    _, engine = pg_engines
    holder = holding_child(
        "from integration.store.db import make_engine\n"
        "from integration.clock.locks import connection_lock\n"
        "held = connection_lock(make_engine(url), 31)\nheld.__enter__()",
        postgres_server_url,
    )
    try:
        with pytest.raises(ConnectionLocked):
            with connection_lock(engine, 31):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert holder.returncode == -signal.SIGKILL

    # The server notices the closed socket and ends the session; poll until it has.
    deadline = time.monotonic() + 30
    while True:
        try:
            with connection_lock(engine, 31):
                break
        except ConnectionLocked:
            if time.monotonic() > deadline:
                pytest.fail("the killed process's advisory lock was never released")
            time.sleep(0.05)


def test_in_process_lock_refuses_a_second_thread_and_frees_on_exit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with connection_lock(engine, 5):
            holding.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait()
    try:
        with pytest.raises(ConnectionLocked):
            with connection_lock(engine, 5):
                pass
        with connection_lock(engine, 6):
            pass
        other_database = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
        with connection_lock(other_database, 5):  # keyed by database too
            pass
    finally:
        release.set()
        thread.join()
    with connection_lock(engine, 5):
        pass


def test_in_process_lock_is_released_when_the_body_raises(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(Boom):
        with connection_lock(engine, 7):
            raise Boom()
    with connection_lock(engine, 7):
        pass


@pytest.mark.parametrize("bad", [0, -1, 2**31, True, "3"])
def test_bad_connection_ids_are_refused(tmp_path: Path, bad: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(ValueError, match="connection id"):
        with connection_lock(engine, bad):  # type: ignore[arg-type]
            pass
