"""Two worker processes on one shop share its cost bucket through Redis instead of each guessing.

Shopify's leaky bucket is per app and shop.  Here the sandbox's bucket restores slowly and
starts empty, and two `connector worker` processes each run a full, paged sync of the same shop
at the same time: every page asks for most of the bucket.  With a bucket per process both
workers see the points free and one of them is THROTTLED on nearly every page; with the shared
bucket at most the first guesses (before any answer reported the emptied bucket) are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Worker
from rq.job import Job as RqJob
from sandbox.devstack import DevStack
from sqlalchemy import select

from connector import actions
from connector.models import Job
from tests.conftest import base_env
from tests.e2e.shopify_connector_support import (
    UNTHROTTLED,
    connector_mirror,
    run_jobs,
    sandbox_admin,
    set_throttle,
    store_truth,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOP = "shared-bucket.myshopify.com"
RESTORE_RATE = 200.0  # points per second; a page of this shop asks for about 900 of the 1000


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    with DevStack(base_env(tmp_path)) as running:
        set_throttle(running, UNTHROTTLED)
        yield running


def test_two_workers_syncing_one_shop_are_not_throttled(stack: DevStack, tmp_path: Path) -> None:
    store_id = stack.install_shopify(SHOP, seed=5, size=60, profile="clean", mode="paused")
    assert stack.run_burst() == 0  # the install's first sync, unthrottled

    workers = [stack.worker(log=tmp_path / f"worker-{n}.log") for n in range(2)]
    queue = stack.services.queue()
    wait_until(lambda: Worker.count(queue=queue) == 2, timeout=30, what="both workers to listen")

    set_throttle(stack, RESTORE_RATE)
    sandbox_admin(stack, "PUT", f"/shops/{SHOP}/throttle", json={"currently_available": 0})
    seen = len(sandbox_admin(stack, "GET", f"/shops/{SHOP}/api-log"))
    runs = [actions.resync(stack.services, store_id) for _ in range(2)]
    try:
        stack.wait_idle(timeout=60)
    finally:
        set_throttle(stack, UNTHROTTLED)
        for proc in workers:
            proc.terminate()
    calls = sandbox_admin(stack, "GET", f"/shops/{SHOP}/api-log")[seen:]

    assert [run_jobs(stack.services, run) for run in runs] == [{"sync": ["done"]}] * 2
    spans = [_span(stack, run) for run in runs]
    assert max(s[0] for s in spans) < min(s[1] for s in spans), f"the syncs did not overlap: {spans}"
    pages = [c for c in calls if c["operation"] == "ProductsPage" and c["outcome"] == "ok"]
    assert len(pages) >= 8 and sum(int(p["requested"]) for p in pages) > 6 * 1000
    throttled = [c for c in calls if c["outcome"] == "throttled"]
    # only the workers' first requests may still count on points from before the bucket was emptied
    assert len(throttled) <= 2, throttled
    assert connector_mirror(stack.services, store_id) == store_truth(stack, SHOP)


def _span(stack: DevStack, run_id: int) -> tuple[float, float]:
    """When rq started and ended the (one) job of a run."""
    with stack.services.session() as s:
        job_id = s.scalars(select(Job.id).where(Job.run_id == run_id)).one()
    job = RqJob.fetch(job_id, connection=stack.services.redis)
    assert job.started_at is not None and job.ended_at is not None, job_id
    return job.started_at.timestamp(), job.ended_at.timestamp()
