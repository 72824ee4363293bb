"""Queue work on rq with idempotent job ids, retries for transient errors and a DB mirror."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rq import Queue, Retry
from rq.job import Job as RqJob
from rq.job import JobStatus

from connector.models import Job
from connector.services import Services

RETRY_INTERVALS = [10, 60, 300]
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def job_key(*parts: object) -> str:
    """An rq job id from parts (platform ids like ``gid://shopify/Product/1`` included)."""
    return "-".join(_UNSAFE.sub("_", str(p)).strip("_") for p in parts)


#: the longest a job id stays claimed when the process queueing it dies half-way
ENQUEUE_GUARD_SECONDS = 5

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def enqueue(
    services: Services,
    func: Callable[..., Any],
    *args: Any,
    job_id: str,
    kind: str,
    run_id: int | None = None,
    image_id: int | None = None,
) -> bool:
    """Queue ``func(*args)`` once under ``job_id``; False when the same job is already live.

    rq job ids are global in Redis, so the id is put inside the deployment's namespace.
    """
    job_id = job_key(services.settings.redis_namespace, job_id)
    queue = services.queue()
    # Workers started together (after a crash) queue the same resumptions at once: one of them
    # queues the job, the others see it being queued (a mutex per job id, not a time window).
    guard = f"{job_id}:enqueueing"
    if not queue.connection.set(guard, 1, nx=True, ex=ENQUEUE_GUARD_SECONDS):
        return False
    try:
        return _enqueue_once(services, queue, func, args, job_id, kind, run_id, image_id)
    finally:
        queue.connection.delete(guard)


def _enqueue_once(
    services: Services,
    queue: Queue,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    job_id: str,
    kind: str,
    run_id: int | None,
    image_id: int | None,
) -> bool:
    try:
        existing = RqJob.fetch(job_id, connection=queue.connection)
        if existing.get_status(refresh=True) in LIVE:
            return False
        existing.delete()
    except Exception:  # rq raises NoSuchJobError (and others on damaged hashes): nothing live to keep
        pass
    retries = services.settings.job_retries
    queue.enqueue(
        func,
        *args,
        job_id=job_id,
        job_timeout=services.settings.job_timeout,
        retry=Retry(max=retries, interval=RETRY_INTERVALS[:retries] or [10]) if retries else None,
        result_ttl=86400,
        failure_ttl=7 * 86400,
        description=f"{kind} {args}",
        meta={"kind": kind, "run": run_id, "image": image_id},  # the worker's log context and metrics
    )
    with services.session() as s:
        row = s.get(Job, job_id) or Job(id=job_id, kind=kind)
        row.run_id, row.image_id, row.status, row.error, row.attempts = run_id, image_id, "queued", None, 0
        s.add(row)
    return True


def mark_job(services: Services, job_id: str | None, status: str, error: str | None = None) -> None:
    """Record a job's outcome in the DB mirror (no-op outside a job)."""
    if not job_id:
        return
    with services.session() as s:
        row = s.get(Job, job_id)
        if row is not None:
            row.status, row.error = status, error
            row.attempts += 1
