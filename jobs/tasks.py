"""rq entry points — every job function of the service.  Small functions that take ids, never objects.

Every job ends in a recorded terminal state, whatever was raised (:func:`_guard`):

- a transient error with retries left is recorded "retrying" (with when) and re-raised, so rq
  retries it with backoff; on its last try it is recorded "failed";
- any other error — the connector's own permanent ones and unexpected ones alike (a PIL or
  onnxruntime error, rq's job timeout, an IntegrityError) — is recorded "failed" with its class
  and message on the job and on the image, and not retried: it cannot succeed by itself;
- a job whose decision was overtaken (a newer approval, a later rollback) ends "superseded".

Then the job's run ends if none of its jobs is live any more.  The core queues these functions
by name through :mod:`connector.enqueue`; this module imports the core, never the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rq import get_current_job
from sqlalchemy import select

from connector.enqueue import enqueue, job_ended, job_key, job_started, retry_delay
from connector.errors import ConnectorError, TransientError
from connector.models import Image, ImageVersion, Job, Product
from connector.processing import process_image, queue_processing
from connector.publish import publish_version
from connector.rollback import resume_operation, rollback_image, unfinished_operations
from connector.runs import finish_if_idle
from connector.services import Services, get_services
from connector.states import ImageStatus, JobStatus, set_state
from connector.sync import sync_store

log = logging.getLogger(__name__)

#: ends of a store change that mean the job failed (the reason is on the operation and the image)
_CHANGE_FAILED = {"failed", "undone"}
#: image states that mean "work in progress": a failed job leaves them failed, not stuck
_IN_FLIGHT = {ImageStatus.QUEUED.value, ImageStatus.PROCESSING.value, ImageStatus.APPROVED.value}


def _record_on_image(services: Services, job_id: str, code: str, reason: str) -> None:
    """The job's image (if any) carries the failure's reason; work in progress ends failed."""
    with services.session() as s:
        job = s.get(Job, job_id)
        image = s.get(Image, job.image_id) if job is not None and job.image_id else None
        if image is None:
            return
        if image.status in _IN_FLIGHT:
            set_state(image, ImageStatus.FAILED, "status")
        image.failure_code, image.failure_reason = code, reason


def _guard(work: Callable[[Services], dict[str, Any]]) -> dict[str, Any]:
    services = get_services()
    job = get_current_job()
    job_id = job.id if job else None
    if not job_started(services, job_id):
        return {"state": JobStatus.CANCELLED.value}
    status, error, error_class = JobStatus.DONE, None, None
    try:
        result = work(services)
        if result.get("state") == JobStatus.SUPERSEDED.value:
            status = JobStatus.SUPERSEDED
        elif result.get("state") in _CHANGE_FAILED:  # the store change failed (and was undone)
            status, error = JobStatus.FAILED, str(result.get("reason") or result["state"])
            error_class = "OperationFailed"
    except TransientError as exc:
        if job is None:
            raise  # called outside rq: the caller decides about retrying
        left = job.retries_left or 0
        if left > 0:
            attempt = services.settings.job_retries - left + 1
            job_ended(
                services, job_id, JobStatus.RETRYING, str(exc), type(exc).__name__, retry_delay(attempt)
            )
            raise
        status, error, error_class = (
            JobStatus.FAILED,
            f"{exc} (gave up after its retries)",
            type(exc).__name__,
        )
        result = {"error": error, "code": exc.code}
    except ConnectorError as exc:
        status, error, error_class = JobStatus.FAILED, str(exc), type(exc).__name__
        result = {"error": error, "code": exc.code}
    except Exception as exc:  # unexpected: recorded with its class, not retried (it cannot succeed by itself)
        log.exception("job %s failed unexpectedly", job_id)
        status, error, error_class = JobStatus.FAILED, f"{type(exc).__name__}: {exc}", type(exc).__name__
        result = {"error": error, "code": "unexpected"}
    if status == JobStatus.FAILED and job_id and "code" in result:
        _record_on_image(services, job_id, str(result["code"]), str(error))
    run_id = job_ended(services, job_id, status, error, error_class)
    finish_if_idle(services, run_id)
    return result


def sync_store_job(store_id: int, run_id: int | None = None, full: bool = True) -> dict[str, Any]:
    """Mirror a store and queue processing of its new images."""

    def work(services: Services) -> dict[str, Any]:
        report = sync_store(services, store_id, full=full)
        queued = queue_processing(services, report.to_process, run_id)
        return {"products": report.products, "images": report.images, "queued": queued}

    return _guard(work)


def sync_product_job(store_id: int, product_platform_id: str) -> dict[str, Any]:
    """Mirror one product after a webhook and queue its new images."""

    def work(services: Services) -> dict[str, Any]:
        report = sync_store(services, store_id, product_id=product_platform_id)
        queued = queue_processing(services, report.to_process, None)
        return {"images": report.images, "own_media": report.own_media_seen, "queued": queued}

    return _guard(work)


def process_image_job(image_id: int, run_id: int | None = None, force: bool = False) -> dict[str, Any]:
    """Process one image; queue its publication when it passed and the store is in auto mode."""

    def work(services: Services) -> dict[str, Any]:
        result = process_image(services, image_id, run_id, force=force)
        if result.publish and result.version_id:
            enqueue(
                services,
                "publish_version_job",
                result.version_id,
                run_id,
                job_id=f"publish-v{result.version_id}",
                kind="publish",
                run_id=run_id,
                image_id=image_id,
            )
        return {"status": result.status, "version": result.version_id, "reason": result.reason}

    return _guard(work)


def publish_version_job(version_id: int, run_id: int | None = None, actor: str = "system") -> dict[str, Any]:
    """Replace the store image with a result version (superseded when a newer decision exists)."""

    def work(services: Services) -> dict[str, Any]:
        from connector import billing

        waiting = billing.publication_blocked_for_version(services, version_id)
        if waiting is not None:  # no plan and the free allowance is used up: the result waits
            billing.hold_for_plan(services, version_id, waiting)
            return {"state": "waiting", "operation": None, "reason": waiting}
        result = publish_version(services, version_id, actor=actor, run_id=run_id)
        if result.state == "stale":
            _resync_image_product(services, version_id)
        if result.state in ("done", "noop"):
            billing.record_version(services, version_id)  # once per publication, also on a retry
        return {"state": result.state, "operation": result.operation_id, "reason": result.reason}

    return _guard(work)


def _resync_image_product(services: Services, version_id: int) -> None:
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        image = s.get(Image, version.image_id) if version else None
        product = s.get(Product, image.product_id) if image else None
        if image is None or product is None:
            return
        store_id, platform_id = image.store_id, product.platform_id
    enqueue(
        services,
        "sync_product_job",
        store_id,
        platform_id,
        job_id=job_key("sync-product", store_id, platform_id),
        kind="sync_product",
    )


def rollback_image_job(
    image_id: int, run_id: int | None = None, actor: str = "operator", why: str = "rollback"
) -> dict[str, Any]:
    """Roll one image back to its original (superseded when a later decision overtook it)."""

    def work(services: Services) -> dict[str, Any]:
        result = rollback_image(services, image_id, actor=actor, why=why, run_id=run_id)
        return {"state": result.state, "operation": result.operation_id, "reason": result.reason}

    return _guard(work)


def resume_operation_job(op_id: int) -> dict[str, Any]:
    """Finish an operation a killed worker left behind."""

    def work(services: Services) -> dict[str, Any]:
        result = resume_operation(services, op_id)
        if result.state == "done":
            from connector.billing import record_publication

            record_publication(services, op_id)  # a replacement a killed worker left is counted too
        return {"state": result.state, "operation": op_id}

    return _guard(work)


def erase_blobs_job(digests: list[str]) -> dict[str, Any]:
    """Delete those blobs no image version refers to any more (shared bytes stay); how many."""

    def work(services: Services) -> dict[str, Any]:
        with services.session() as s:
            kept = set(s.scalars(select(ImageVersion.blob_hash).where(ImageVersion.blob_hash.in_(digests))))
        erased = [d for d in digests if d not in kept]
        for digest in erased:
            services.blobs.delete(digest)
        return {"erased": len(erased)}

    return _guard(work)


def queue_resumptions(services: Services) -> int:
    """Queue a resume job for every unfinished operation (idempotent: one live job each)."""
    return sum(
        enqueue(services, "resume_operation_job", op_id, job_id=f"resume-op-{op_id}", kind="resume")
        for op_id in unfinished_operations(services)
    )
