"""rq workers that are watched: each job runs inside its log context and is measured.

Every line a job logs carries its store, run, job and image (from the job's database mirror); when
it ends, its kind, outcome and duration go to :mod:`connector.metrics`, and the worker's peak memory
to Redis for the scrape.  The same for the in-process worker and the forking one (the work happens
in the work horse, which writes its own metrics files).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rq import SimpleWorker, Worker

from connector import metrics
from connector.logs import log_context
from connector.models import Image, Job, Run
from connector.services import get_services

log = logging.getLogger(__name__)

#: Jobs whose first argument is the store's id.
_STORE_FIRST = ("sync_store_job", "sync_product_job")


def job_context(job: Any) -> dict[str, Any]:
    """``store``, ``run``, ``job``, ``image`` and ``kind`` of an rq job.

    Kind, run and image travel with the job (its ``meta``, set when it is queued); the store is
    looked up from the image or run (or is a sync job's first argument).
    """
    meta = job.meta or {}
    kind = meta.get("kind") or (job.func_name or "").rsplit(".", 1)[-1]
    run_id, image_id = meta.get("run"), meta.get("image")
    store: Any = None
    with get_services().session() as s:
        image = s.get(Image, image_id) if image_id else None
        run = s.get(Run, run_id) if run_id else None
        store = image.store_id if image else run.store_id if run else None
    if store is None and str(job.func_name).endswith(_STORE_FIRST):
        store = job.args[0] if job.args else None
    return {"kind": kind, "store": store, "run": run_id, "job": job.id, "image": image_id}


def job_outcome(job_id: str, succeeded: bool) -> str:
    """How a job ended, as its database mirror says (done, failed, retrying), else from rq."""
    with get_services().session() as s:
        row = s.get(Job, job_id)
        status = row.status if row is not None else None
    if status in ("done", "failed", "retrying", "superseded", "cancelled"):
        return status
    return "done" if succeeded else "crashed"


class _Watched:
    """Mixin: log context, metrics and memory around each job."""

    name: str

    def perform_job(self, job: Any, queue: Any, *args: Any) -> bool:
        try:
            context = job_context(job)
        except Exception as exc:  # the database being down must not stop rq from failing the job properly
            context = {"job": job.id, "kind": "unknown"}
            log.warning("could not read job %s's context: %s", job.id, type(exc).__name__)
        kind = context.pop("kind")
        started = time.monotonic()
        with log_context(**context):
            log.info("job %s started", kind)
            succeeded = super().perform_job(job, queue, *args)  # type: ignore[misc]
            seconds = time.monotonic() - started
            try:
                outcome = job_outcome(job.id, succeeded)
            except Exception:
                outcome = "done" if succeeded else "crashed"
            metrics.job_finished(kind, outcome, seconds)
            log.info("job %s %s in %.2f s", kind, outcome, seconds)
            self._report_memory()
        return bool(succeeded)

    def register_birth(self, *args: Any, **kwargs: Any) -> None:
        super().register_birth(*args, **kwargs)  # type: ignore[misc]
        self._report_memory()  # a worker's memory shows from its start, not only after its first job

    def unsubscribe(self) -> None:
        """Stop listening for commands, waiting at most a second for the listener thread.

        rq stops its pub/sub thread with ``stop()`` then ``join(timeout=1)``; since redis-py 8,
        ``stop()`` itself waits for the thread, which sleeps up to rq's 60 s poll once unsubscribed,
        so a stopped worker hung for a minute (past a platform's 30 s grace before SIGKILL).
        """
        thread = getattr(self, "pubsub_thread", None)
        if thread is None:
            return
        self.pubsub.unsubscribe()  # type: ignore[attr-defined]
        try:
            thread.stop(timeout=1)  # redis-py 8 and later
        except TypeError:
            thread.stop()
        thread.join(timeout=1)
        self.pubsub.close()  # type: ignore[attr-defined]

    def _report_memory(self) -> None:
        services = get_services()
        try:
            metrics.report_worker_memory(services.settings, services.redis, self.name)
        except Exception as exc:
            log.warning("could not report worker memory: %s", type(exc).__name__)


class WatchedWorker(_Watched, SimpleWorker):
    """Runs jobs in the worker process (one model session, reused)."""


class WatchedForkWorker(_Watched, Worker):
    """Runs each job in a forked work horse."""
