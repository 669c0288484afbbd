"""The migrations form one numbered sequence, and at head they build exactly what the models declare.

Revision ids are historical (databases in the field carry them in alembic_version), so only the
file names say where a migration stands: 0001 is the base, each next number revises the one before.
"""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from integration.store.db import MIGRATIONS_DIR, alembic_config, make_engine, upgrade
from integration.store.models import Base


def _scripts() -> ScriptDirectory:
    # The URL is never used: reading the scripts does not connect.
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def test_there_is_one_head() -> None:
    assert len(_scripts().get_heads()) == 1


def test_file_names_number_the_chain_from_base_to_head() -> None:
    # walk_revisions goes from head down to base.
    chain = [Path(script.path).name for script in reversed(list(_scripts().walk_revisions()))]
    on_disk = sorted(path.name for path in (MIGRATIONS_DIR / "versions").glob("*.py"))
    assert chain == on_disk
    assert [name[:5] for name in chain] == [f"{position:04d}_" for position in range(1, len(chain) + 1)]


def test_autogenerate_finds_nothing_to_do_at_head(empty_database_url: str) -> None:
    """What `alembic revision --autogenerate` would write after upgrading to head: nothing.

    The context is configured as env.py configures it, so this compares what autogenerate compares.
    """
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
