"""The process's wiring: settings, database, blobs, queue and platforms, built once.

Entry points (web, worker, CLI) call :func:`get_services`; tests build their own
:class:`Services` (e.g. with a fake platform) and install it with :func:`set_services`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from redis import Redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connector.blobs import BlobStore, open_blob_store
from connector.db import engine_for, migrate, require_schema, session_scope
from connector.errors import ConfigurationError
from connector.platforms import build_platforms
from connector.port import PlatformApp
from connector.queue import get_queue, redis_connection
from connector.settings import Settings, get_settings


@dataclass
class Services:
    """Everything a job, a request or a command needs, built from one Settings."""

    settings: Settings
    platforms: dict[str, PlatformApp] = field(default_factory=dict)

    @cached_property
    def blobs(self) -> BlobStore:
        return open_blob_store(self.settings.blob_url, self.settings.s3_endpoint_url)

    @property
    def redis(self) -> Redis:
        return redis_connection(self.settings)

    def queue(self, name: str | None = None) -> Queue:
        """The rq queue for image work."""
        return get_queue(self.settings, name)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A database session that commits on success."""
        with session_scope(self.settings.database_url) as s:
            yield s

    @property
    def engine(self) -> Engine:
        """The database engine of this process."""
        return engine_for(self.settings.database_url)

    def load_platforms(self) -> None:
        """Build the platform apps now (a web worker does it before its first request, not during)."""
        if not self.platforms:
            self.platforms.update(build_platforms(self.settings))

    def platform(self, name: str) -> PlatformApp:
        """The platform app by name, with a clear error for unknown ones."""
        self.load_platforms()
        try:
            return self.platforms[name]
        except KeyError:
            raise ConfigurationError(
                f"unknown platform {name!r}", hint=f"use one of: {', '.join(sorted(self.platforms))}"
            ) from None

    def migrate(self) -> None:
        """Bring the database schema up to date (one process at a time, under a database lock)."""
        migrate(self.settings.database_url)

    def require_schema(self) -> None:
        """ConfigurationError saying to run `connector migrate` unless the schema is current."""
        require_schema(self.settings.database_url)


_current: Services | None = None


def get_services() -> Services:
    """The services of this process (built from the environment on first use)."""
    global _current
    if _current is None:
        _current = Services(get_settings())
    return _current


def set_services(services: Services | None) -> Any:
    """Install (or clear) the process's services; returns the previous ones."""
    global _current
    previous, _current = _current, services
    return previous
