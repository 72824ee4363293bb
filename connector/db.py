"""Engine, sessions and migrations.  SQLite under ``var/`` by default, Postgres via ``DATABASE_URL``."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from connector.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine with the per-backend settings the service needs (WAL and FKs on SQLite)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a crashed process; only a power cut may lose the
            # last commits.  One fsync per checkpoint instead of one per commit.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per database URL per process."""
    return make_engine(url)


@lru_cache(maxsize=8)
def session_factory(url: str) -> sessionmaker[Session]:
    """The session factory for a database URL."""
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


#: key of the PostgreSQL advisory lock that lets one process migrate at a time
MIGRATION_LOCK_KEY = 0x1C0_0A1E


@contextmanager
def migration_lock(url: str, conn: Connection) -> Iterator[None]:
    """Hold the database's migration lock (PostgreSQL advisory lock; a file lock beside SQLite)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        yield
        return
    path = url.split("///", 1)[-1]
    if conn.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (idempotent), one process at a time."""
    engine = engine_for(url)
    cfg = alembic_config(url)
    with engine.begin() as conn, migration_lock(url, conn):
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def schema_revisions(url: str) -> tuple[set[str], set[str]]:
    """(revisions the database is at, revisions this code needs)."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine_for(url).connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads


def require_schema(url: str) -> None:
    """Raise ConfigurationError, saying what to run, unless the schema is the one this code needs."""
    current, heads = schema_revisions(url)
    if current == heads:
        return
    at = ", ".join(sorted(current)) or "empty"
    raise ConfigurationError(
        f"the database schema is at {at}, this version needs {', '.join(sorted(heads))}",
        hint="run `connector migrate` (production: the Procfile's release step does it)",
    )
