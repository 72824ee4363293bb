"""The reconciler: compare the database (the source of truth) with the queue and repair the queue.

- a live job (queued, running, retrying) that Redis lost, or that a dead worker held, is queued
  again under its own id (never twice: one live rq job per id); one whose worker died too often
  is failed with that reason;
- an image left "queued", "processing" or "approved" with no live job gets its job back;
- an operation a killed worker left unfinished is queued for resumption;
- a webhook recorded but never acted on to the end is acted on again;
- a run none of whose jobs is live any more is ended.

``connector reconcile`` runs it; every worker runs it at start and every ``RECONCILE_INTERVAL``.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from contextlib import suppress
from datetime import timedelta
from typing import Any

from rq import Worker
from rq.job import Job as RqJob
from rq.job import JobStatus as RqStatus
from rq.worker import BaseWorker
from sqlalchemy import select

from connector.changes import UNFINISHED
from connector.enqueue import LIVE, JobSpec, enqueue, is_due, put_on_queue
from connector.models import (
    Image,
    ImageVersion,
    Job,
    Operation,
    Reconciliation,
    Run,
    VersionKind,
    WebhookEventRecord,
    utcnow,
)
from connector.runs import finish_if_idle
from connector.services import Services
from connector.states import (
    JOB_LIVE,
    ImageStatus,
    JobStatus,
    RunStatus,
    VersionState,
    WebhookState,
    set_state,
)
from connector.webhooks import act_on_record

#: seconds a piece of work may look stuck before the reconciler steps in (enqueueing is not atomic)
GRACE_SECONDS = 60
#: a job whose worker died this many times is failed instead of being queued again
MAX_DEATHS = 3


def _alive(worker: BaseWorker) -> bool:
    """Whether a registered worker runs (one on this host whose process is gone is dead)."""
    if worker.hostname == socket.gethostname() and worker.pid:
        try:
            os.kill(int(worker.pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    return True


def live_worker_names(services: Services) -> set[str]:
    """Names of the rq workers alive now."""
    return {w.name for w in Worker.all(connection=services.redis) if _alive(w)}


def _worker_alive(services: Services, name: str | None, known: set[str]) -> bool:
    if not name:
        return False
    if name in known:
        return True
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=services.redis)
    return worker is not None and _alive(worker)


def _rq_state(services: Services, job_id: str) -> tuple[str | None, str | None]:
    """(rq status, worker name) of a job, (None, None) when Redis does not hold it."""
    try:
        job = RqJob.fetch(job_id, connection=services.redis)
        return job.get_status(refresh=True), job.worker_name
    except Exception:  # NoSuchJobError, or a hash damaged by a flush mid-write
        return None, None


def _repair_jobs(services: Services, workers: set[str], report: Counter[str]) -> None:
    now = utcnow()
    with services.session() as s:
        ids = list(s.scalars(select(Job.id).where(Job.status.in_(list(JOB_LIVE)))))
    for job_id in ids:
        status, worker = _rq_state(services, job_id)
        if status in LIVE and not (
            status == RqStatus.STARTED and not _worker_alive(services, worker, workers)
        ):
            continue  # rq holds it, and a live worker runs it if it is running
        with services.session() as s:  # read after rq: a job that just ended has recorded it
            row = s.get(Job, job_id)
            if row is None or row.status not in JOB_LIVE:
                continue
            s.expunge(row)
        if row.status == JobStatus.RETRYING.value and status is None and not is_due(row, now):
            continue  # lost while waiting for its retry: it is queued again once due
        died = row.status == JobStatus.RUNNING.value
        if died and row.attempts >= MAX_DEATHS:
            _fail_job(services, row.id, f"the worker running it died {row.attempts} times", report)
            continue
        if status is not None:
            with suppress(Exception):  # off the dead worker's registry
                RqJob.fetch(row.id, connection=services.redis).delete()
        if not row.func:
            _fail_job(services, row.id, "lost from the queue and recorded without what to run", report)
            continue
        if put_on_queue(services, JobSpec.of(row)):
            report["requeued_after_dead_worker" if died else "requeued_lost"] += 1


def _fail_job(services: Services, job_id: str, reason: str, report: Counter[str]) -> None:
    with services.session() as s:
        row = s.get(Job, job_id)
        if row is None or row.status not in JOB_LIVE:
            return
        set_state(row, JobStatus.FAILED, "status")
        row.error, row.error_class, row.finished_at = reason, "Abandoned", utcnow()
        image = s.get(Image, row.image_id) if row.image_id else None
        if image is not None and image.status in (ImageStatus.QUEUED.value, ImageStatus.PROCESSING.value):
            set_state(image, ImageStatus.FAILED, "status")
            image.failure_code, image.failure_reason = "abandoned", reason
    report["failed_abandoned"] += 1


def _repair_images(services: Services, grace: float, report: Counter[str]) -> None:
    cutoff = utcnow() - timedelta(seconds=grace)
    waiting = [ImageStatus.QUEUED.value, ImageStatus.PROCESSING.value, ImageStatus.APPROVED.value]
    with services.session() as s:
        busy = set(s.scalars(select(Job.image_id).where(Job.status.in_(list(JOB_LIVE)))))
        stuck = [
            (image.id, image.status)
            for image in s.scalars(select(Image).where(Image.status.in_(waiting), Image.updated_at <= cutoff))
            if image.id not in busy
        ]
        approved = {
            image_id: s.scalar(
                select(ImageVersion.id)
                .where(ImageVersion.image_id == image_id, ImageVersion.kind == VersionKind.RESULT.value)
                .where(ImageVersion.state == VersionState.APPROVED.value)
                .order_by(ImageVersion.id.desc())
            )
            for image_id, status in stuck
            if status == ImageStatus.APPROVED.value
        }
    for image_id, _status in stuck:
        version_id = approved.get(image_id)
        if version_id is not None:
            queued = enqueue(
                services,
                "publish_version_job",
                version_id,
                None,
                job_id=f"publish-v{version_id}",
                kind="publish",
                image_id=image_id,
            )
        else:
            queued = enqueue(
                services,
                "process_image_job",
                image_id,
                None,
                False,
                job_id=f"process-{image_id}",
                kind="process",
                image_id=image_id,
            )
        report["requeued_stuck_images"] += int(queued)


def queue_resumptions(services: Services, grace: float = 0) -> int:
    """Queue a resume job for every unfinished operation (idempotent: one live job each)."""
    cutoff = utcnow() - timedelta(seconds=grace)
    with services.session() as s:
        ops = list(
            s.scalars(
                select(Operation.id).where(Operation.state.in_(UNFINISHED), Operation.updated_at <= cutoff)
            )
        )
    return sum(
        enqueue(services, "resume_operation_job", op_id, job_id=f"resume-op-{op_id}", kind="resume")
        for op_id in ops
    )


def _repair_webhooks(services: Services, grace: float, report: Counter[str]) -> None:
    cutoff = utcnow() - timedelta(seconds=grace)
    with services.session() as s:
        rows = list(
            s.scalars(
                select(WebhookEventRecord.id).where(
                    WebhookEventRecord.state != WebhookState.DONE.value,
                    WebhookEventRecord.received_at <= cutoff,
                )
            )
        )
    for row_id in rows:
        act_on_record(services, row_id)
        report["webhooks_acted"] += 1


def _finish_runs(services: Services, report: Counter[str]) -> None:
    with services.session() as s:
        runs = list(s.scalars(select(Run.id).where(Run.status == RunStatus.RUNNING.value)))
    for run_id in runs:
        if finish_if_idle(services, run_id) != RunStatus.RUNNING.value:
            report["runs_ended"] += 1


def reconcile(services: Services, actor: str = "system", grace: float = GRACE_SECONDS) -> dict[str, Any]:
    """One pass of the reconciler; what it did (also recorded for ``connector status``)."""
    with services.session() as s:
        record = Reconciliation(actor=actor, report={})
        s.add(record)
        s.flush()
        record_id = record.id
    report: Counter[str] = Counter()
    workers = live_worker_names(services)
    _repair_jobs(services, workers, report)
    _repair_images(services, grace, report)
    # an unfinished operation whose worker is alive gets a resume job that waits for the product's
    # lock and then finds nothing left to do: resuming at once costs nothing and heals a kill fast
    report["resumptions_queued"] += queue_resumptions(services)
    _repair_webhooks(services, grace, report)
    _finish_runs(services, report)
    result = {"live_workers": len(workers), **report}
    with services.session() as s:
        row = s.get(Reconciliation, record_id)
        if row is not None:
            row.report, row.finished_at = result, utcnow()
    return result
