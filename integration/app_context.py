"""The process-wide wiring: settings, the engine and the session factory, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from integration.config import Settings, load_settings
from integration.store.db import make_engine, make_session_factory, upgrade


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def migrate(self) -> None:
        upgrade(self.settings.database_url)

    @classmethod
    def from_environment(cls) -> Runtime:
        return cls(load_settings())
