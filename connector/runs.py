"""Runs: batches of work an operator starts (resync, reprocess, rollback), how they end, what they did.

A run ends when none of its jobs is live any more: "done", "done with N failures" (a failed job or
a failed image), or "cancelled".  :func:`run_summary` only reads.
"""

from __future__ import annotations

from collections import Counter
from contextlib import suppress
from typing import Any

from rq.job import Job as RqJob
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.costs import run_costs
from connector.models import Image, ImageVersion, Job, Operation, Run, utcnow
from connector.services import Services
from connector.states import JOB_LIVE, RUN_FINAL, ImageStatus, JobStatus, RunStatus, set_state


def start_run(
    services: Services,
    store_id: int,
    kind: str,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    actor: str = "operator",
) -> int:
    """Record a new run and return its id."""
    with services.session() as s:
        run = Run(store_id=store_id, kind=kind, dry_run=dry_run, limit=limit, actor=actor, stats={})
        s.add(run)
        s.flush()
        return run.id


def _run_images(session: Session, run_id: int) -> set[int]:
    image_ids = set(
        session.scalars(select(Job.image_id).where(Job.run_id == run_id, Job.image_id.is_not(None)))
    )
    image_ids |= set(session.scalars(select(ImageVersion.image_id).where(ImageVersion.run_id == run_id)))
    return {i for i in image_ids if i is not None}


def _failures(session: Session, run_id: int) -> dict[str, str]:
    """What failed in a run: ``image N`` or ``job ID`` → the reason."""
    failed: dict[str, str] = {}
    for job in session.scalars(select(Job).where(Job.run_id == run_id, Job.status == JobStatus.FAILED.value)):
        key = f"image {job.image_id}" if job.image_id else f"job {job.id}"
        failed[key] = f"{job.error_class or 'error'}: {job.error or ''}".strip()
    images = _run_images(session, run_id)
    if images:
        for image in session.scalars(
            select(Image).where(Image.id.in_(images), Image.status == ImageStatus.FAILED.value)
        ):
            failed.setdefault(f"image {image.id}", image.failure_reason or image.failure_code or "failed")
    return failed


def describe(status: str, failures: int) -> str:
    """A run's end in words: "running", "done", "done with 3 failures", "cancelled"."""
    if status == RunStatus.DONE_WITH_FAILURES.value:
        return f"done with {failures} failure{'s' if failures != 1 else ''}"
    return status


def run_summary(services: Services, run_id: int) -> dict[str, Any]:
    """Counts of what a run did: jobs by status, images by status, operations by state, failures."""
    with services.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            return {}
        jobs = Counter(s.scalars(select(Job.status).where(Job.run_id == run_id)))
        image_ids = _run_images(s, run_id)
        images = (
            Counter(s.scalars(select(Image.status).where(Image.id.in_(image_ids))))
            if image_ids
            else Counter()
        )
        ops = Counter(
            f"{kind}:{state}"
            for kind, state in s.execute(
                select(Operation.kind, Operation.state).where(Operation.run_id == run_id)
            )
        )
        failures = _failures(s, run_id)
        return {
            "run": run_id,
            "kind": run.kind,
            "dry_run": run.dry_run,
            "limit": run.limit,
            "status": run.status,
            "outcome": describe(run.status, len(failures)),
            "finished": run.status in RUN_FINAL,
            "jobs": dict(jobs),
            "images": dict(images),
            "operations": dict(ops),
            "failures": failures,
            "cost": run_costs(s, services.settings, run_id).to_dict(),
        }


def finish_if_idle(services: Services, run_id: int | None) -> str | None:
    """End a run none of whose jobs is live any more; its status (None: no such run)."""
    if run_id is None:
        return None
    with services.session() as s:
        run = s.get(Run, run_id, with_for_update=True)
        if run is None:
            return None
        if run.status in RUN_FINAL:
            return run.status
        live = s.scalar(select(Job.id).where(Job.run_id == run_id, Job.status.in_(list(JOB_LIVE))).limit(1))
        if live is not None:
            return run.status
        failures = _failures(s, run_id)
        set_state(run, RunStatus.DONE_WITH_FAILURES if failures else RunStatus.DONE, "status")
        run.finished_at = utcnow()
        run.stats = {"failures": len(failures)}
        return run.status


def cancel_run(services: Services, run_id: int) -> int:
    """Cancel a run's live jobs (taken off the queue; a running one stops at its next job start)."""
    with services.session() as s:
        run = s.get(Run, run_id)
        if run is None or run.status in RUN_FINAL:
            return 0
        jobs = list(s.scalars(select(Job).where(Job.run_id == run_id, Job.status.in_(list(JOB_LIVE)))))
        for job in jobs:
            set_state(job, JobStatus.CANCELLED, "status")
            job.finished_at = utcnow()
        set_state(run, RunStatus.CANCELLED, "status")
        run.finished_at = utcnow()
        ids = [job.id for job in jobs]
    for job_id in ids:
        with suppress(Exception):  # gone from Redis already: the database row is what counts
            RqJob.fetch(job_id, connection=services.redis).cancel()
    return len(ids)
