"""Nothing stuck, nothing silent: an unexpected error at every stage (load, cut, QA, record, sync and
each step of a publish) ends the image failed with the reason, the job failed and not retried, and
the run ended "done with failures" — and ``connector run --wait`` exits non-zero.

Real rq workers (in-process burst), SQLite and embedded Redis, the fake platform; the failures are
injected with ``CONNECTOR_FAIL_AT`` (an error that is none of the connector's own)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from rq.registry import ScheduledJobRegistry
from sandbox.fake_platform import FakeApp, FakeStore
from sqlalchemy import select

from connector import actions
from connector.cli import main
from connector.models import Image, Job, Operation, Run
from connector.operations import STEPS
from connector.runs import start_run
from connector.services import Services
from connector.settings import PROJECT_ROOT
from connector.states import ImageStatus, JobStatus, OperationState, RunStatus
from connector.stores import save_install
from connector.sync import sync_store
from tests.helpers import approved_result, drain, png, queue_publish

pytestmark = pytest.mark.integration
PHOTO = PROJECT_ROOT / "devkit" / "sandbox" / "assets" / "rembg-examples" / "car-1.jpg"


def _shop(services: Services, stage: str, photo: bytes) -> tuple[FakeStore, int]:
    app = services.platforms["fake"]
    assert isinstance(app, FakeApp)
    shop = app.store(f"{stage}.fake")
    shop.add_product("mug", [photo], variants=1)
    store_id = save_install(services, "fake", f"{stage}.fake", {"token": f"tok-{stage}.fake"}, mode="auto")
    services.settings = services.settings.with_(fail_at=stage, job_retries=3)  # retries on: none used
    return shop, store_id


def _assert_ended_with_failure(services: Services, run_id: int, stage: str) -> None:
    with services.session() as s:
        run = s.get(Run, run_id)
        assert run is not None and run.status == RunStatus.DONE_WITH_FAILURES.value
        jobs = list(s.scalars(select(Job).where(Job.run_id == run_id)))
    failed = [j for j in jobs if j.status == JobStatus.FAILED.value]
    assert len(failed) == 1 and f"injected failure at {stage}" in (failed[0].error or "")
    assert failed[0].attempts == 1  # not retried: it cannot succeed by itself
    assert all(j.status in (JobStatus.DONE.value, JobStatus.FAILED.value) for j in jobs)
    for name in (services.settings.rq_queue, services.settings.rq_publish_queue):
        assert ScheduledJobRegistry(queue=services.queue(name)).count == 0
    waited = CliRunner().invoke(main, ["run", str(run_id), "--wait", "--timeout", "5"])
    assert waited.exit_code == 1, waited.output
    assert "done with 1 failure" in waited.output and f"injected failure at {stage}" in waited.output


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["load", "cut", "qa", "record"])
def test_processing_stage_failure_ends_image_job_and_run(sqlite_services: Services, stage: str) -> None:
    services = sqlite_services
    _store, store_id = _shop(services, stage, PHOTO.read_bytes())
    run_id = actions.resync(services, store_id)
    drain(services)
    with services.session() as s:
        image = s.scalar(select(Image))
        assert image is not None and image.status == ImageStatus.FAILED.value
        assert image.failure_code == "unexpected"
        assert image.failure_reason == f"InjectedFault: injected failure at {stage}"
    _assert_ended_with_failure(services, run_id, stage)


def test_sync_failure_ends_the_run(sqlite_services: Services) -> None:
    services = sqlite_services
    _store, store_id = _shop(services, "sync", png((200, 10, 10)))
    run_id = actions.resync(services, store_id)
    drain(services)
    _assert_ended_with_failure(services, run_id, "sync")


@pytest.mark.parametrize("step", STEPS)
def test_publish_step_failure_is_undone_and_recorded(sqlite_services: Services, step: str) -> None:
    services = sqlite_services
    shop, store_id = _shop(services, step, png((200, 10, 10)))
    services.settings = services.settings.with_(fail_at="")
    sync_store(services, store_id)
    product = next(iter(shop.products.values()))
    original = product.media[0]
    with services.session() as s:
        image_id = s.scalar(select(Image.id))
    assert image_id is not None
    run_id = start_run(services, store_id, "publish")
    version_id = approved_result(services, image_id, png((250, 250, 250)), run_id)
    services.settings = services.settings.with_(fail_at=step)
    queue_publish(services, version_id, image_id, run_id)
    drain(services)
    assert product.media == [original]  # the original stays in its slot
    with services.session() as s:
        op = s.scalar(select(Operation))
        image = s.get(Image, image_id)
        assert op is not None and op.state == OperationState.UNDONE.value
        assert image is not None and image.status == ImageStatus.FAILED.value
        assert image.failure_reason == f"InjectedFault: injected failure at {step}"
    _assert_ended_with_failure(services, run_id, step)
