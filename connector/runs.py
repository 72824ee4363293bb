"""Runs: batches of work an operator starts (resync, reprocess, rollback), and their summaries."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from connector.costs import run_costs
from connector.models import Image, ImageVersion, Job, Operation, Run, utcnow
from connector.services import Services


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


def finish_if_empty(services: Services, run_id: int, queued: int) -> None:
    """Close a run that queued nothing (it has no job whose end would close it)."""
    if queued:
        return
    with services.session() as s:
        run = s.get(Run, run_id)
        if run is not None and run.finished_at is None:
            run.finished_at, run.status = utcnow(), "done"


def run_summary(services: Services, run_id: int) -> dict[str, Any]:
    """Counts of what a run did: jobs by status, images by status, operations by state."""
    with services.session() as s:
        run = s.get(Run, run_id)
        if run is None:
            return {}
        jobs = Counter(s.scalars(select(Job.status).where(Job.run_id == run_id)))
        image_ids = set(
            s.scalars(select(Job.image_id).where(Job.run_id == run_id, Job.image_id.is_not(None)))
        )
        image_ids |= set(s.scalars(select(ImageVersion.image_id).where(ImageVersion.run_id == run_id)))
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
        live = jobs.get("queued", 0) + jobs.get("retrying", 0)
        if not live and run.finished_at is None and jobs:
            run.finished_at, run.status = utcnow(), "done"
        summary = {
            "run": run_id,
            "kind": run.kind,
            "dry_run": run.dry_run,
            "limit": run.limit,
            "status": run.status,
            "jobs": dict(jobs),
            "images": dict(images),
            "operations": dict(ops),
            "cost": run_costs(s, services.settings, run_id).to_dict(),
        }
        run.stats = summary
        return summary
