"""The database is the source of truth: Redis emptied in the middle of a run, webhooks whose acting
failed, and late jobs of overtaken decisions — repaired or refused, never done twice.

The fake platform in-process, real rq workers (in-process burst), SQLite and embedded Redis
(a private server per test: emptying it touches nobody else)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner
from rq import SimpleWorker
from sandbox.fake_platform import FakeApp, FakeStore
from sqlalchemy import select

from connector import actions
from connector.cli import main
from connector.errors import ConflictError
from connector.models import Image, ImageVersion, Job, Operation, Run, WebhookEventRecord
from connector.publish import publish_version
from connector.reconcile import reconcile
from connector.rollback import rollback_image
from connector.runs import start_run
from connector.services import Services
from connector.states import ImageStatus, JobStatus, RunStatus, VersionState, WebhookState
from connector.stores import save_install
from connector.sync import sync_store
from tests.helpers import another_result, approved_result, drain, png, queue_publish

pytestmark = pytest.mark.integration


def _shop(services: Services, name: str, products: int, per_product: int = 1) -> tuple[FakeStore, int]:
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store(name)
    for p in range(products):
        shop.add_product(f"p{p}", [png((p % 250, i * 40, 90)) for i in range(per_product)])
    store_id = save_install(services, "fake", name, {"token": f"tok-{name}"}, mode="auto")
    sync_store(services, store_id)
    return shop, store_id


def _image_ids(services: Services, store_id: int) -> list[int]:
    with services.session() as s:
        return list(s.scalars(select(Image.id).where(Image.store_id == store_id).order_by(Image.id)))


@pytest.mark.slow
def test_redis_emptied_mid_run_then_reconcile_publishes_each_image_once(sqlite_services: Services) -> None:
    services = sqlite_services
    shop, store_id = _shop(services, "flush.fake", products=25, per_product=4)
    images = _image_ids(services, store_id)
    assert len(images) == 100
    run_id = start_run(services, store_id, "publish")
    for n, image_id in enumerate(images):
        version_id = approved_result(services, image_id, png((255, 255, n), (48, 40)), run_id)
        queue_publish(services, version_id, image_id, run_id)
    publishing = services.queue(services.settings.rq_publish_queue)
    SimpleWorker([publishing], connection=services.redis).work(burst=True, max_jobs=40)
    services.redis.flushall()  # Redis restarted empty: 60 jobs gone from the queue
    assert publishing.count == 0

    answer = CliRunner().invoke(main, ["reconcile", "--grace", "0"], catch_exceptions=False)
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output)["requeued_lost"] == 60
    again = CliRunner().invoke(main, ["reconcile", "--grace", "0"], catch_exceptions=False)
    assert "requeued_lost" not in json.loads(again.output)  # never queued twice
    drain(services)

    with services.session() as s:
        statuses = Counter(s.scalars(select(Image.status).where(Image.store_id == store_id)))
        replaced = Counter(s.scalars(select(Operation.image_id).where(Operation.state == "done")))
        run = s.get(Run, run_id)
        assert run is not None and run.status == RunStatus.DONE.value
    assert statuses == {ImageStatus.PUBLISHED.value: 100}
    assert set(replaced.values()) == {1} and len(replaced) == 100  # each image replaced exactly once
    assert len(shop.uploads) == len(set(shop.uploads)) == 100  # none uploaded twice
    status = CliRunner().invoke(main, ["status"], catch_exceptions=False)
    report = json.loads(status.output)
    assert report["jobs"]["by_status"] == {} and report["last_reconcile"]["by"] == "cli"


def test_webhook_acting_failed_stays_retryable(sqlite_services: Services) -> None:
    from connector.webhooks import handle_webhook

    services = sqlite_services
    _shop(services, "hooks.fake", products=1)
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    healthy = services.settings

    def deliver(event_id: str) -> tuple[int, str]:
        body = json.dumps({"product_id": "p-1"}).encode()
        headers = {
            "X-Fake-Shop": "hooks.fake",
            "X-Fake-Topic": "product.updated",
            "X-Fake-Event": event_id,
            "X-Fake-Signature": app.sign(body),
        }
        answer = handle_webhook(services, "fake", headers, body)
        return answer.status, answer.outcome

    services.settings = healthy.with_(redis_url="redis://127.0.0.1:1/0")  # Redis down
    assert deliver("e-1")[0] == 503 and deliver("e-2")[0] == 503
    with services.session() as s:
        states = {r.event_id: r.state for r in s.scalars(select(WebhookEventRecord))}
    assert states == {"e-1": WebhookState.FAILED.value, "e-2": WebhookState.FAILED.value}

    services.settings = healthy
    assert deliver("e-1") == (200, "sync queued")  # the platform's retry acts on it
    assert deliver("e-1") == (200, "duplicate ignored")  # done: a replay changes nothing
    reconcile(services, grace=0)  # the reconciler acts on the one no retry came for
    with services.session() as s:
        rows = {r.event_id: (r.state, r.outcome, r.attempts) for r in s.scalars(select(WebhookEventRecord))}
        jobs = [(j.kind, j.status) for j in s.scalars(select(Job))]
    assert rows == {"e-1": ("done", "sync queued", 2), "e-2": ("done", "sync already queued", 2)}
    assert services.queue().count == 1 and jobs == [("sync_product", JobStatus.QUEUED.value)]


def test_rejecting_the_published_version_is_refused(sqlite_services: Services) -> None:
    services = sqlite_services
    shop, store_id = _shop(services, "reject.fake", products=1)
    original = next(iter(shop.products.values())).media[0]
    image_id = _image_ids(services, store_id)[0]
    version_id = approved_result(services, image_id, png((255, 255, 255)))
    assert publish_version(services, version_id).state == "done"
    with pytest.raises(ConflictError, match="what the store shows now") as refused:
        actions.reject(services, version_id)
    assert "connector rollback" in (refused.value.hint or "")
    assert rollback_image(services, image_id).state == "done"  # rollback still sees our result
    assert next(iter(shop.products.values())).media == [original]


def test_late_publish_of_an_older_decision_is_superseded(sqlite_services: Services) -> None:
    services = sqlite_services
    shop, store_id = _shop(services, "late.fake", products=1)
    image_id = _image_ids(services, store_id)[0]
    older = approved_result(services, image_id, png((250, 250, 250)))
    newer = another_result(services, image_id, png((240, 240, 240)))
    actions.approve(services, newer)  # the operator's newest decision
    queue_publish(services, older, image_id, None)  # a job for the older one, running late
    drain(services)
    with services.session() as s:
        states = {v.id: v.state for v in s.scalars(select(ImageVersion).where(ImageVersion.kind == "result"))}
        jobs = {j.id.rsplit("-", 1)[-1]: j.status for j in s.scalars(select(Job))}
    assert states == {older: VersionState.SUPERSEDED.value, newer: VersionState.PUBLISHED.value}
    assert jobs[f"v{older}"] == JobStatus.SUPERSEDED.value and jobs[f"v{newer}"] == JobStatus.DONE.value
    assert len(shop.uploads) == 1  # the older result never reached the store


def test_late_rollback_overtaken_by_a_newer_approval_changes_nothing(sqlite_services: Services) -> None:
    services = sqlite_services
    shop, store_id = _shop(services, "overtaken.fake", products=1)
    image_id = _image_ids(services, store_id)[0]
    first = approved_result(services, image_id, png((250, 250, 250)))
    assert publish_version(services, first).state == "done"
    rollback_run, queued = actions.rollback(services, store_id=store_id)  # queued, not run yet
    assert queued == 1
    newer = another_result(services, image_id, png((230, 230, 230)))
    actions.approve(services, newer)  # decided after the rollback was asked for
    queue = services.queue(services.settings.rq_publish_queue)
    publish_job = next(j for j in queue.get_job_ids() if j.endswith(f"publish-v{newer}"))
    queue.remove(publish_job)
    queue.enqueue_job(queue.fetch_job(publish_job), at_front=True)  # the newer decision runs first
    drain(services)
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None and image.current_version_id == newer
        assert image.status == ImageStatus.PUBLISHED.value
        rollback_job = s.scalar(select(Job).where(Job.run_id == rollback_run))
        assert rollback_job is not None and rollback_job.status == JobStatus.SUPERSEDED.value
        run = s.get(Run, rollback_run)
        assert run is not None and run.status == RunStatus.DONE.value
    product = next(iter(shop.products.values()))
    assert shop.library[product.media[0]].data == png((230, 230, 230))  # the newer result stays


def test_own_superseded_uploads_leave_the_library_merchant_files_stay(sqlite_services: Services) -> None:
    services = sqlite_services
    shop, store_id = _shop(services, "files.fake", products=1)
    product = next(iter(shop.products.values()))
    merchant = set(shop.library)
    image_id = _image_ids(services, store_id)[0]
    first = approved_result(services, image_id, png((250, 250, 250)))
    assert publish_version(services, first).state == "done"
    first_upload = product.media[0]
    assert publish_version(services, another_result(services, image_id, png((240, 240, 240)))).state == "done"
    second_upload = product.media[0]
    assert first_upload not in shop.library  # superseded by our newer result: gone from the library
    assert rollback_image(services, image_id).state == "done"
    assert second_upload not in shop.library  # rolled back: nothing needs it
    assert set(shop.library) == merchant  # the merchant's files all stay, nothing of ours is left over
