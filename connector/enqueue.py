"""Queue work on rq — the one place the core names its jobs — and record every job in the database.

Jobs are queued by dotted name (``jobs.tasks.<function>``), so the core never imports the job
module (jobs import the core, never the reverse).  Every job gets a row in ``jobs`` holding what
to run (function and arguments), so the reconciler can queue it again when Redis loses it; the
database, not the queue, is the source of truth.  Job ids are idempotency keys: one live job per id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job as RqJob
from rq.job import JobStatus as RqStatus
from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from connector.models import Job, utcnow
from connector.services import Services
from connector.states import JOB_LIVE, JobStatus, set_state, sources

RETRY_INTERVALS = [10, 60, 300]
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
#: the module holding every rq job function
TASKS = "jobs.tasks"

#: the longest a job id stays claimed when the process queueing it dies half-way
ENQUEUE_GUARD_SECONDS = 5

LIVE = {RqStatus.QUEUED, RqStatus.STARTED, RqStatus.DEFERRED, RqStatus.SCHEDULED}
LIVE_VALUES = frozenset(status.value for status in LIVE)


def task(name: str) -> str:
    """The dotted name of a job function in :data:`TASKS`."""
    return f"{TASKS}.{name}"


def job_key(*parts: object) -> str:
    """An rq job id from parts (platform ids like ``gid://shopify/Product/1`` included)."""
    return "-".join(_UNSAFE.sub("_", str(p)).strip("_") for p in parts)


def full_job_id(services: Services, job_id: str) -> str:
    """rq job ids are global in Redis: the id inside the deployment's namespace."""
    return job_key(services.settings.redis_namespace, job_id)


@dataclass(frozen=True)
class JobSpec:
    """What to run and under which id: enough to queue a job again from its database row."""

    job_id: str  # the full rq id, inside the namespace
    func: str  # dotted name of the job function
    args: list[Any]
    kind: str
    run_id: int | None = None
    image_id: int | None = None

    @classmethod
    def of(cls, row: Job) -> JobSpec:
        """The spec a job's row records."""
        return cls(row.id, row.func or "", list(row.args or []), row.kind, row.run_id, row.image_id)


def enqueue(
    services: Services,
    func: str,
    *args: Any,
    job_id: str,
    kind: str,
    run_id: int | None = None,
    image_id: int | None = None,
) -> bool:
    """Queue the job function ``func`` (a name in :data:`TASKS`) once under ``job_id``.

    Returns False when the same job is already live (queued, running or waiting for a retry).
    """
    name = task(func) if "." not in func else func
    spec = JobSpec(full_job_id(services, job_id), name, list(args), kind, run_id, image_id)
    return put_on_queue(services, spec)


def put_on_queue(services: Services, spec: JobSpec) -> bool:
    """Queue a recorded job (also used by the reconciler to queue a lost one again)."""
    queue = services.queue(services.settings.queue_for(spec.kind))
    # Workers started together (after a crash) queue the same resumptions at once: one of them
    # queues the job, the others see it being queued (a mutex per job id, not a time window).
    guard = f"{spec.job_id}:enqueueing"
    try:
        # the common case (a product changing again while its sync waits): one Redis read, no writes
        if _rq_status(queue, spec.job_id) in LIVE_VALUES:
            return False
        if not queue.connection.set(guard, 1, nx=True, ex=ENQUEUE_GUARD_SECONDS):
            return False
    except RedisError:  # Redis down: the database keeps the job, the reconciler queues it later
        _record(services, spec, unless_live=True)
        raise
    try:
        status = _rq_status(queue, spec.job_id)  # again, now that this process holds the guard
        if status is not None and (status in LIVE_VALUES or rq_job_live(queue, spec.job_id)):
            return False  # (rq_job_live deletes a dead job's hash)
        _record(services, spec)
        retries = services.settings.job_retries
        queue.enqueue(
            spec.func,
            *spec.args,
            job_id=spec.job_id,
            job_timeout=services.settings.timeout_for(spec.kind),
            retry=Retry(max=retries, interval=RETRY_INTERVALS[:retries] or [10]) if retries else None,
            result_ttl=86400,
            failure_ttl=7 * 86400,
            description=f"{spec.kind} {tuple(spec.args)}",
            meta={"kind": spec.kind, "run": spec.run_id, "image": spec.image_id},  # log context, metrics
        )
        return True
    finally:
        queue.connection.delete(guard)


def _rq_status(queue: Queue, job_id: str) -> str | None:
    """The status rq's hash of the job holds (one HGET), None when there is no such job."""
    status = queue.connection.hget(RqJob.key_for(job_id), "status")
    return status.decode() if isinstance(status, bytes) else status


def rq_job_live(queue: Queue, job_id: str) -> bool:
    """Whether rq holds the job queued, running, deferred or scheduled (a dead one is deleted)."""
    try:
        existing = RqJob.fetch(job_id, connection=queue.connection)
        if existing.get_status(refresh=True) in LIVE:
            return True
        existing.delete()
    except Exception:  # rq raises NoSuchJobError (and others on damaged hashes): nothing live to keep
        pass
    return False


#: what queueing a job (again) writes on its row; statements built once (webhooks queue many jobs)
_QUEUED_FIELDS = (
    "status", "kind", "func", "args", "timeout", "run_id", "image_id",
    "error", "error_class", "attempts", "retry_at", "finished_at",
)  # fmt: skip
_JOBS = Job.__table__.c
_REQUEUE = (
    update(Job)
    .where(Job.id == bindparam("job_id"), Job.status.in_(bindparam("movable", expanding=True)))
    .values({name: bindparam(f"v_{name}", type_=_JOBS[name].type) for name in _QUEUED_FIELDS})
)
_FIRST_QUEUE = insert(Job).values(
    id=bindparam("job_id"),
    **{name: bindparam(f"v_{name}", type_=_JOBS[name].type) for name in _QUEUED_FIELDS},
)


def _record(services: Services, spec: JobSpec, unless_live: bool = False) -> None:
    """Record the job as queued (``unless_live``: leave a live row alone)."""
    values = {
        "status": JobStatus.QUEUED.value,
        "kind": spec.kind,
        "func": spec.func,
        "args": spec.args,
        "timeout": services.settings.timeout_for(spec.kind),
        "run_id": spec.run_id,
        "image_id": spec.image_id,
        "error": None,
        "error_class": None,
        "attempts": 0,
        "retry_at": None,
        "finished_at": None,
    }
    params = {"job_id": spec.job_id, **{f"v_{name}": value for name, value in values.items()}}
    params["movable"] = [s.value for s in sources(JobStatus.QUEUED) if not (unless_live and s in JOB_LIVE)]
    try:
        with services.engine.begin() as conn:
            if conn.execute(_REQUEUE, params).rowcount == 0:  # a new job id (or, unless_live, a live row)
                conn.execute(_FIRST_QUEUE, params)
    except IntegrityError:  # the row exists in a state it may not leave (a live one, unless_live)
        with services.session() as s:
            if s.get(Job, spec.job_id) is None:
                raise  # something else (a run or image deleted meanwhile)


def job_started(services: Services, job_id: str | None) -> bool:
    """Record that a worker took the job; False when it was cancelled meanwhile (do nothing)."""
    if not job_id:
        return True
    with services.session() as s:
        row = s.get(Job, job_id)
        if row is None:
            return True
        if row.status == JobStatus.CANCELLED.value:
            return False
        if row.status not in JOB_LIVE:  # rq ran a job the database finished (a late rq retry)
            set_state(row, JobStatus.QUEUED, "status")
        set_state(row, JobStatus.RUNNING, "status")
        row.attempts += 1
        return True


def job_ended(
    services: Services,
    job_id: str | None,
    status: JobStatus,
    error: str | None = None,
    error_class: str | None = None,
    retry_in: float | None = None,
) -> int | None:
    """Record a job's outcome (no-op outside a job); returns its run id."""
    if not job_id:
        return None
    with services.session() as s:
        row = s.get(Job, job_id)
        if row is None:
            return None
        if row.status == JobStatus.CANCELLED.value:
            return row.run_id
        set_state(row, status, "status")
        row.error, row.error_class = error, error_class
        row.retry_at = utcnow() + timedelta(seconds=retry_in) if retry_in is not None else None
        row.finished_at = None if status in JOB_LIVE else utcnow()
        return row.run_id


def retry_delay(attempt: int) -> int:
    """Seconds rq waits before the ``attempt``-th retry (1-based)."""
    return RETRY_INTERVALS[min(attempt, len(RETRY_INTERVALS)) - 1] if attempt > 0 else RETRY_INTERVALS[0]


def is_due(row: Job, now: datetime) -> bool:
    """Whether a job waiting for a retry should have run by now."""
    retry_at = row.retry_at
    if retry_at is None:
        return True
    if retry_at.tzinfo is None:  # SQLite returns naive UTC
        retry_at = retry_at.replace(tzinfo=now.tzinfo)
    return retry_at <= now
