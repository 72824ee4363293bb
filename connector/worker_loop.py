"""``connector worker``'s loop: waits for the schema, reconciles, and rides out Redis outages.

The worker runs jobs in its own process by default, so the model session is loaded once and kept
— also across a Redis outage: when Redis goes away the worker logs it, waits with back-off and
reconnects instead of exiting.  It runs the reconciler at start and every ``RECONCILE_INTERVAL``
seconds (one worker at a time per deployment).
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Worker
from rq.exceptions import StopRequested

from connector.errors import ConfigurationError
from connector.reconcile import reconcile
from connector.services import Services
from connector.worker import WatchedForkWorker
from connector.worker_memory import LeanWorker

log = logging.getLogger(__name__)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)
MAX_BACKOFF = 30.0


def wait_for_schema(services: Services, timeout: float) -> None:
    """Wait up to ``timeout`` seconds for `connector migrate` (web and workers start alongside it)."""
    deadline, said = time.monotonic() + timeout, False
    while True:
        try:
            services.require_schema()
            return
        except ConfigurationError:
            if time.monotonic() >= deadline:
                raise
            if not said:
                log.warning("waiting for the database schema: run `connector migrate`")
                said = True
            time.sleep(0.5)


def reconcile_now(services: Services, actor: str, every: float = 0) -> dict | None:
    """Run the reconciler unless another worker did within ``every`` seconds; its report."""
    if every:
        key = services.settings.redis_key("reconcile", "recent")
        if not services.redis.set(key, actor, nx=True, ex=max(int(every), 1)):
            return None
    try:
        return reconcile(services, actor=actor)
    except REDIS_DOWN as exc:
        log.warning("reconcile skipped: Redis is unreachable (%s)", exc)
    except Exception:
        log.exception("reconcile failed")
    return None


def _worker_class(services: Services, fork: bool) -> type[Worker]:
    base: type[Worker] = WatchedForkWorker if fork else LeanWorker  # type: ignore[assignment]
    interval = services.settings.reconcile_interval

    class ConnectorWorker(base):  # type: ignore[valid-type,misc]
        """rq's worker, reconciling the database with the queue during its maintenance."""

        def run_maintenance_tasks(self) -> None:
            super().run_maintenance_tasks()
            reconcile_now(services, f"worker {self.name}", every=interval)

    return ConnectorWorker


class _Stop(Exception):
    """SIGTERM or SIGINT while the worker waits to reconnect."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def _stopping(worker: Worker | None) -> bool:
    return worker is not None and (worker._stop_requested or worker._shutdown_requested_date is not None)


def _pause(seconds: float) -> bool:
    """Sleep between reconnects; False when asked to stop meanwhile."""
    signal.signal(signal.SIGTERM, _raise_stop)  # rq's handlers belong to the worker that just ended
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        time.sleep(seconds)
    except _Stop:
        return False
    return True


def run_worker(
    services: Services, queue_names: list[str], *, burst: bool = False, fork: bool = False
) -> None:
    """Work the queue until stopped (or, with ``burst``, until it is empty); the schema must be current."""
    reconcile_now(services, "worker start")
    worker_class, pause = _worker_class(services, fork), 1.0
    while True:
        worker: Worker | None = None
        try:
            worker = worker_class(
                [services.queue(name) for name in queue_names],
                connection=services.redis,
                maintenance_interval=max(1, min(services.settings.reconcile_interval, 600)),
            )
            worker.work(burst=burst, with_scheduler=not burst, logging_level=services.settings.log_level)
            if burst or _stopping(worker):
                return
            log.warning("the worker loop stopped; starting it again in %.0f s", pause)
        except REDIS_DOWN as exc:
            if _stopping(worker):
                return
            log.warning("Redis is unreachable (%s); reconnecting in %.0f s", exc, pause)
        except StopRequested:
            return
        if not _pause(pause):
            return
        pause = min(pause * 2, MAX_BACKOFF)
        reconcile_now(services, "worker reconnect")
