"""Throwaway migrated databases for the benchmarks: a SQLite file, or a PostgreSQL database dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from integration.store.db import create_postgres_database, drop_postgres_database, upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "ARPILOT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def throwaway_database(kind: str) -> Iterator[str]:
    """The URL of an empty, migrated database of `kind` (sqlite or postgresql), gone on exit."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="arpilot-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    if kind != "postgresql":
        raise ValueError(f"database kind must be sqlite or postgresql, not {kind!r}")
    name = f"arpilot_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(POSTGRES_ADMIN_URL, name)
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_database(POSTGRES_ADMIN_URL, name)
