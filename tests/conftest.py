"""Shared fixtures: settings in a temporary var dir, databases on both backends, and the web app
built on them (`make_app` for special settings, `app` and its test `client`), and a `runner` for
the `arpilot` command on the same settings.

`database_url` is parametrized over the embedded SQLite and the PostgreSQL server on 127.0.0.1;
each test run gets a throwaway PostgreSQL database that is dropped afterwards. PostgreSQL being
unreachable is a failure, never a skip.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from integration.config import Settings, load_settings
from integration.store.db import (
    create_postgres_database,
    drop_postgres_database,
    make_engine,
    make_session_factory,
    upgrade,
)
from integration.web import create_app

POSTGRES_ADMIN_URL = os.environ.get(
    "ARPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new PostgreSQL database, dropped on the way out; an unreachable server fails the test."""
    name = f"arpilot_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        url = create_postgres_database(POSTGRES_ADMIN_URL, name)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server is the same failure
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is required for these tests: {exc}")
    try:
        yield url
    finally:
        drop_postgres_database(POSTGRES_ADMIN_URL, name)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped at the end."""
    with fresh_postgres_database() as url:
        yield url


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (no tables yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'arpilot.db'}"
    url = request.getfixturevalue("postgres_server_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A migrated database of each kind."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def sessions(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings_env(tmp_path: Path) -> dict[str, str]:
    """The environment of an embedded install with its var dir under tmp_path (no background clock in tests)."""
    return {"ARPILOT_VAR_DIR": str(tmp_path / "var"), "ARPILOT_EMBEDDED_CLOCK": "0"}


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    """Embedded-default settings loaded from `settings_env`."""
    return load_settings(settings_env)


class MakeApp(Protocol):
    def __call__(self, test_config: dict[str, Any] | None = None, **changes: Any) -> Flask: ...


@pytest.fixture
def make_app(settings: Settings) -> MakeApp:
    """create_app on `settings` with the given fields replaced, for tests that need their own settings."""

    def make(test_config: dict[str, Any] | None = None, **changes: Any) -> Flask:
        return create_app(dataclasses.replace(settings, **changes), test_config=test_config)

    return make


@pytest.fixture
def app(make_app: MakeApp, database_url: str) -> Flask:
    """The owner's web app on each database of `database_url`."""
    return make_app(database_url=database_url)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(settings_env: dict[str, str]) -> CliRunner:
    """Click's runner in the environment `settings` is loaded from: `runner.invoke(main, [...])`.

    arpilot's commands are a click group (integration.cli.main), not the Flask app's CLI, so Flask's
    test_cli_runner would reach none of them."""
    return CliRunner(env=settings_env)


def add_connection(sessions, external_id: str, provider: str = "quickbooks") -> int:  # type: ignore[no-untyped-def]
    """An organization with one active connection; returns the connection's id."""
    from integration.store.db import transaction
    from integration.store.models import Connection, Organization

    with transaction(sessions) as session:
        org = Organization(name="Harbor & Pine")
        session.add(org)
        session.flush()
        connection = Connection(organization_id=org.id, provider=provider, external_id=external_id)
        session.add(connection)
        session.flush()
        return connection.id
