"""What an operator can do — shared by the CLI and the dashboard so both behave the same."""

from __future__ import annotations

from sqlalchemy import select

from connector.enqueue import enqueue
from connector.errors import ConflictError, NotFound
from connector.models import Image, ImageStatus, ImageVersion, Product, VersionKind, VersionState
from connector.qa_learning import record_decision
from connector.rollback import rollback_targets
from connector.runs import finish_if_empty, start_run
from connector.services import Services


def resync(
    services: Services,
    store_id: int,
    *,
    full: bool = True,
    dry_run: bool = False,
    limit: int | None = None,
    actor: str = "operator",
) -> int:
    """Start a sync run (optionally dry, or a canary of N products); returns the run id."""
    from jobs.tasks import sync_store_job

    run_id = start_run(services, store_id, "resync", dry_run=dry_run, limit=limit, actor=actor)
    enqueue(
        services,
        sync_store_job,
        store_id,
        run_id,
        full,
        job_id=f"sync-store-{store_id}-r{run_id}",
        kind="sync",
        run_id=run_id,
    )
    return run_id


def latest_result(services: Services, image_id: int) -> ImageVersion:
    """The newest result version of an image."""
    with services.session() as s:
        version = s.scalar(
            select(ImageVersion)
            .where(ImageVersion.image_id == image_id, ImageVersion.kind == VersionKind.RESULT.value)
            .order_by(ImageVersion.id.desc())
        )
    if version is None:
        raise NotFound(f"image {image_id} has no result yet", hint="reprocess it first")
    return version


def approve(services: Services, version_id: int, actor: str = "operator") -> None:
    """Approve a result held for review and queue its publication."""
    from jobs.tasks import publish_version_job

    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        if version is None or version.kind != VersionKind.RESULT.value:
            raise NotFound(f"result version {version_id} does not exist")
        if version.state not in (
            VersionState.REVIEW.value,
            VersionState.APPROVED.value,
            VersionState.SUPERSEDED.value,
            VersionState.DRAFT.value,
        ):
            raise ConflictError(
                f"version {version_id} is {version.state} and cannot be approved",
                hint="reprocess the image to get a fresh result",
            )
        version.state, version.actor = VersionState.APPROVED.value, actor
        image = s.get(Image, version.image_id)
        assert image is not None
        image.status = ImageStatus.APPROVED.value
        image_id = image.id
        record_decision(s, version, image, "approve", actor)
    enqueue(
        services,
        publish_version_job,
        version_id,
        None,
        actor,
        job_id=f"publish-v{version_id}",
        kind="publish",
        image_id=image_id,
    )


def reject(services: Services, version_id: int, actor: str = "operator") -> None:
    """Reject a result: the original stays on the store."""
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        if version is None:
            raise NotFound(f"version {version_id} does not exist")
        version.state, version.actor = VersionState.REJECTED.value, actor
        image = s.get(Image, version.image_id)
        if image is not None and version.kind == VersionKind.RESULT.value:
            record_decision(s, version, image, "reject", actor)
        if image is not None and image.status in (ImageStatus.REVIEW.value, ImageStatus.APPROVED.value):
            image.status, image.failure_reason = ImageStatus.FAILED.value, f"rejected by {actor}"


def reprocess(
    services: Services,
    *,
    store_id: int,
    image_id: int | None = None,
    product_id: int | None = None,
    actor: str = "operator",
    dry_run: bool = False,
) -> int:
    """Process images again (new settings or a merchant request); returns the run id."""
    from jobs.tasks import queue_processing

    query = select(Image.id).where(Image.store_id == store_id, Image.status != ImageStatus.GONE.value)
    if image_id is not None:
        query = query.where(Image.id == image_id)
    if product_id is not None:
        query = query.where(Image.product_id == product_id)
    run_id = start_run(services, store_id, "reprocess", actor=actor, dry_run=dry_run)
    with services.session() as s:
        ids = list(s.scalars(query.where(Image.origin == "merchant")))
        for image in s.scalars(select(Image).where(Image.id.in_(ids))):
            image.status = ImageStatus.QUEUED.value
    queue_processing(services, ids, run_id, force=True)
    finish_if_empty(services, run_id, len(ids))
    return run_id


def rollback(
    services: Services,
    *,
    store_id: int,
    image_id: int | None = None,
    product_id: int | None = None,
    run_id: int | None = None,
    actor: str = "operator",
    why: str = "rollback",
) -> tuple[int, int]:
    """Queue rollbacks for the scope; returns (rollback run id, images queued)."""
    from jobs.tasks import rollback_image_job

    targets = rollback_targets(
        services, store_id=store_id, product_id=product_id, run_id=run_id, image_id=image_id
    )
    new_run = start_run(services, store_id, "rollback", actor=actor)
    for target in targets:
        enqueue(
            services,
            rollback_image_job,
            target,
            new_run,
            actor,
            why,
            job_id=f"rollback-{target}-r{new_run}",
            kind="rollback",
            run_id=new_run,
            image_id=target,
        )
    finish_if_empty(services, new_run, len(targets))
    return new_run, len(targets)


def release_waiting(services: Services, store_id: int) -> int:
    """Queue the publication of every result that waited for a plan (once one is active); how many.

    Each is approved again in the name of whoever approved it first.
    """
    from connector.billing import take_waiting

    waiting = take_waiting(services, store_id)
    for version_id, actor in waiting:
        approve(services, version_id, actor=actor)
    return len(waiting)


def product_by_platform_id(services: Services, store_id: int, platform_id: str) -> int:
    """The product row id for a store's platform product id."""
    with services.session() as s:
        pid = s.scalar(
            select(Product.id).where(Product.store_id == store_id, Product.platform_id == platform_id)
        )
    if pid is None:
        raise NotFound(f"product {platform_id} is not synced", hint="run `connector resync` first")
    return pid
