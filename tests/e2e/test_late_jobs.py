"""Late jobs change nothing newer: workers SIGKILLed in the middle of a rollback, a newer decision
taken for the same images, then rq's own timeouts let the abandoned rollback run again — the store
keeps showing the newer results (Shopify sandbox over HTTP, real worker subprocesses)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from connector import actions
from connector.blobs import sha256
from connector.models import Image, Job, Run
from connector.publish import publish_version
from connector.states import ImageStatus, JobStatus, RunStatus
from tests.e2e.safe_replacement_support import images_of_store, install_quietly, result_png, running_stack
from tests.helpers import another_result, approved_result

pytestmark = pytest.mark.e2e
SHOP = "late-jobs.myshopify.com"
LATER = 10**6  # seconds: "after every timeout expired"


def _let_rq_timeouts_expire(queue) -> None:
    """rq's own recovery, as if much time had passed: abandoned jobs are retried, retries come due."""
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + LATER)
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_jobs_to_schedule(int(time.time() + LATER)):
        job = queue.fetch_job(job_id)
        scheduled.remove(job_id)
        if job is not None:
            queue.enqueue_job(job)


def test_killed_rollback_then_newer_decision_then_rq_retries_undo_nothing(tmp_path: Path) -> None:
    with running_stack(tmp_path, JOB_RETRIES="1") as stack:
        services = stack.services
        store_id = install_quietly(stack, SHOP, seed=21, size=5)
        images = images_of_store(services, store_id)[:3]
        for n, image in enumerate(images):
            version_id = approved_result(services, image.id, result_png(n + 1))
            assert publish_version(services, version_id).state == "done"
        rollback_run, queued = actions.rollback(services, store_id=store_id)
        assert queued == len(images)

        assert stack.run_burst(extra_env={"CONNECTOR_KILL_AT": "attach:after"}) == -9  # mid-rollback
        newer = {img.id: another_result(services, img.id, result_png(10 + n)) for n, img in enumerate(images)}
        for version_id in newer.values():
            actions.approve(services, version_id)  # the operator's newer decision, after the rollback
        queue = services.queue(services.settings.rq_publish_queue)  # rollbacks and publishes
        _let_rq_timeouts_expire(queue)  # rq retries the killed worker's rollback job
        assert stack.run_burst() == 0
        _let_rq_timeouts_expire(queue)
        assert stack.run_burst() == 0

        served = stack.shopify_served(SHOP)
        with services.session() as s:
            for n, image in enumerate(images):
                row = s.get(Image, image.id)
                assert row is not None and row.status == ImageStatus.PUBLISHED.value
                assert row.current_version_id == newer[image.id]
                shown = served[row.product.platform_id]
                assert sha256(result_png(10 + n)) in shown and sha256(result_png(n + 1)) not in shown
            rollbacks = list(s.scalars(select(Job).where(Job.run_id == rollback_run)))
            assert {j.status for j in rollbacks} <= {JobStatus.SUPERSEDED.value, JobStatus.DONE.value}
            assert any(j.status == JobStatus.SUPERSEDED.value for j in rollbacks)
            assert max(j.attempts for j in rollbacks) == 2  # the killed one ran again, late
            run = s.get(Run, rollback_run)
            assert run is not None and run.status == RunStatus.DONE.value
