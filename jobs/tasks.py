"""rq entry points.  Small functions that take ids, never objects.

Transient errors are re-raised so rq retries them with backoff; permanent errors are
recorded on the image/job with their reason and end the job cleanly, so the worker lives on
and a retry does not hammer a store with a request that cannot succeed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import get_current_job
from sqlalchemy import select

from connector.enqueue import enqueue, job_key, mark_job
from connector.errors import ConnectorError, TransientError
from connector.models import Image, ImageStatus, Product, Run
from connector.processing import process_image
from connector.publish import publish_version, resume_operation, rollback_image
from connector.services import Services, get_services
from connector.sync import sync_store


def _guard(work: Callable[[Services], Any]) -> Any:
    services = get_services()
    job = get_current_job()
    job_id = job.id if job else None
    try:
        result = work(services)
    except TransientError as exc:
        mark_job(services, job_id, "retrying", str(exc))
        raise
    except ConnectorError as exc:
        mark_job(services, job_id, "failed", str(exc))
        return {"error": str(exc), "code": exc.code}
    mark_job(services, job_id, "done")
    return result


def _limit_products(services: Services, run_id: int | None, image_ids: list[int]) -> list[int]:
    """Canary runs: only images of the first N products of the run."""
    with services.session() as s:
        run = s.get(Run, run_id) if run_id else None
        if run is None or not run.limit:
            return image_ids
        allowed: list[int] = []
        products: set[int] = set()
        for image_id in image_ids:
            image = s.get(Image, image_id)
            if image is None:
                continue
            if image.product_id not in products and len(products) >= run.limit:
                continue
            products.add(image.product_id)
            allowed.append(image_id)
        return allowed


def queue_processing(
    services: Services, image_ids: list[int], run_id: int | None, force: bool = False
) -> int:
    """Queue process jobs for images (idempotent per image and run); how many were queued."""
    queued = 0
    allowed = _limit_products(services, run_id, image_ids)
    with services.session() as s:
        for image in s.scalars(select(Image).where(Image.id.in_(allowed))):
            image.status = ImageStatus.QUEUED.value
    for image_id in allowed:
        queued += enqueue(
            services,
            process_image_job,
            image_id,
            run_id,
            force,
            job_id=f"process-{image_id}",  # one live job per image, whichever sync or run queued it
            kind="process",
            run_id=run_id,
            image_id=image_id,
        )
    return queued


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
                publish_version_job,
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
    """Replace the store image with a result version."""

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
    from connector.models import ImageVersion

    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        image = s.get(Image, version.image_id) if version else None
        product = s.get(Product, image.product_id) if image else None
        if image is None or product is None:
            return
        store_id, platform_id = image.store_id, product.platform_id
    enqueue(
        services,
        sync_product_job,
        store_id,
        platform_id,
        job_id=job_key("sync-product", store_id, platform_id),
        kind="sync_product",
    )


def rollback_image_job(
    image_id: int, run_id: int | None = None, actor: str = "operator", why: str = "rollback"
) -> Any:
    """Roll one image back to its original."""

    def work(services: Services) -> dict[str, Any]:
        result = rollback_image(services, image_id, actor=actor, why=why, run_id=run_id)
        return {"state": result.state, "operation": result.operation_id, "reason": result.reason}

    return _guard(work)


def resume_operation_job(op_id: int) -> Any:
    """Finish an operation a killed worker left behind."""

    def work(services: Services) -> dict[str, Any]:
        result = resume_operation(services, op_id)
        if result.state == "done":
            from connector.billing import record_publication

            record_publication(services, op_id)  # a replacement a killed worker left is counted too
        return {"state": result.state, "operation": op_id}

    return _guard(work)


def queue_resumptions(services: Services) -> int:
    """Queue a resume job for every unfinished operation (idempotent: one live job each)."""
    from connector.publish import unfinished_operations

    return sum(
        enqueue(services, resume_operation_job, op_id, job_id=f"resume-op-{op_id}", kind="resume")
        for op_id in unfinished_operations(services)
    )
