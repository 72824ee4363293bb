"""Starting the service on an empty database: `connector migrate` (the Procfile's release step),
`connector web` and two `connector worker`s started at the same moment all come up; a command run
before the migration says what to run instead of migrating by itself.

Real processes on SQLite and PostgreSQL, sharing one embedded Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from rq import Worker

from connector.cli import main
from connector.errors import ConfigurationError
from connector.queue import embedded_redis_url
from connector.services import Services, set_services
from connector.settings import Settings
from tests.conftest import base_env
from tests.helpers import eventually, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    settings = Settings.from_env(base_env(tmp_path, DATABASE_URL=database_url))
    redis_url = embedded_redis_url(settings)
    yield {**os.environ, **base_env(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url)}


def _connector(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "wb") if log else subprocess.PIPE  # noqa: SIM115 - owned by the process
    return subprocess.Popen(
        [sys.executable, "-m", "connector", *args], env=env, stdout=out, stderr=subprocess.STDOUT
    )


def _web_up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_commands_check_the_schema_instead_of_migrating(sqlite_services: Services, tmp_path: Path) -> None:
    fresh = Services(sqlite_services.settings.with_(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    previous = set_services(fresh)
    try:
        answer = CliRunner().invoke(main, ["stores"])
    finally:
        set_services(previous)
    assert answer.exit_code == 2
    assert "schema is at empty" in answer.output and "connector migrate" in answer.output
    with pytest.raises(ConfigurationError):
        fresh.require_schema()  # nothing was migrated behind the operator's back


def test_web_and_two_workers_started_at_once_on_an_empty_database(
    env: dict[str, str], tmp_path: Path
) -> None:
    before = _connector(env, "stores")
    output = before.communicate(timeout=120)[0].decode()
    assert before.returncode == 2 and "connector migrate" in output  # checks, does not migrate

    port = free_port()
    procs = {
        "web": _connector(env, "web", "--port", str(port), log=tmp_path / "web.log"),
        "worker-1": _connector(env, "worker", log=tmp_path / "worker-1.log"),
        "worker-2": _connector(env, "worker", log=tmp_path / "worker-2.log"),
        "migrate": _connector(env, "migrate", log=tmp_path / "migrate.log"),
    }
    services = Services(Settings.from_env(env))
    try:
        assert procs["migrate"].wait(timeout=120) == 0, (tmp_path / "migrate.log").read_text()
        assert eventually(lambda: _web_up(port)), (tmp_path / "web.log").read_text()
        assert eventually(lambda: len(Worker.all(queue=services.queue())) == 2), [
            (tmp_path / f"worker-{n}.log").read_text() for n in (1, 2)
        ]
        assert all(p.poll() is None for p in procs.values() if p is not procs["migrate"])
        services.require_schema()
        services.migrate()  # idempotent: a second release step changes nothing
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        codes = {}
        for name, proc in procs.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert codes["worker-1"] == codes["worker-2"] == 0  # SIGTERM: a warm shutdown, not a restart
