"""``connector status``: what the service is doing, from the queue and the database, in one answer."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from connector.changes import later
from connector.models import Image, Job, Reconciliation, Run, utcnow
from connector.reconcile import live_worker_names
from connector.services import Services
from connector.states import JOB_LIVE, ImageStatus, JobStatus, RunStatus


def _queue_depths(services: Services) -> dict[str, dict[str, int]]:
    names = dict.fromkeys([services.settings.rq_queue, services.settings.rq_publish_queue])
    return {
        queue.name: {
            "queued": queue.count,
            "running": StartedJobRegistry(queue=queue).count,
            "scheduled": ScheduledJobRegistry(queue=queue).count,
            "failed": FailedJobRegistry(queue=queue).count,
        }
        for queue in (services.queue(name) for name in names)
    }


def _jobs(services: Services) -> dict[str, Any]:
    now = utcnow()
    with services.session() as s:
        jobs = list(s.scalars(select(Job).where(Job.status.in_([*JOB_LIVE, JobStatus.FAILED.value]))))
        by_status = Counter(job.status for job in jobs)
        stuck = [
            job.id
            for job in jobs
            if job.status == JobStatus.RUNNING.value
            and later(now, job.updated_at + timedelta(seconds=job.timeout or services.settings.job_timeout))
        ]
        failed = Counter(job.error_class or "unknown" for job in jobs if job.status == JobStatus.FAILED.value)
    return {"by_status": dict(by_status), "stuck": stuck, "failed_by_reason": dict(failed)}


def service_status(services: Services) -> dict[str, Any]:
    """Queue depth per queue, live workers, running/stuck/failed counts by reason, last reconcile."""
    try:
        queues: Any = _queue_depths(services)
        workers: Any = sorted(live_worker_names(services))
    except Exception as exc:  # Redis down: say so, and still show what the database knows
        queues = workers = f"Redis unreachable: {type(exc).__name__}: {exc}"
    with services.session() as s:
        runs = Counter(s.scalars(select(Run.status).where(Run.status == RunStatus.RUNNING.value)))
        failed_images = Counter(
            s.scalars(select(Image.failure_code).where(Image.status == ImageStatus.FAILED.value))
        )
        last = s.scalar(select(Reconciliation).order_by(Reconciliation.id.desc()).limit(1))
        last_reconcile = (
            {"at": last.finished_at or last.started_at, "by": last.actor, "report": last.report}
            if last is not None
            else None
        )
    return {
        "queues": queues,
        "workers": workers,
        "runs_running": runs.get(RunStatus.RUNNING.value, 0),
        "jobs": _jobs(services),
        "failed_images_by_reason": {k or "unknown": v for k, v in failed_images.items()},
        "last_reconcile": last_reconcile,
    }
