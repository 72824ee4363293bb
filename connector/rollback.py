"""Roll changes back: choose what a rollback covers (an image, a product, a run, a store) and put
the original back into each slot our result occupies, byte-identical to the backup.

A rollback touches only the slot we replaced (three-way): the merchant's other edits stay.  A
rollback job that runs late — after a newer decision for the image (a later approval) — ends
"superseded" and changes nothing: it never undoes newer work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from connector.blobs import sha256
from connector.changes import (
    PublishResult,
    execute,
    later,
    live_slot,
    new_operation,
    newest_decision,
    resume_operation,
    unfinished_operation,
    unfinished_operations,
)
from connector.errors import NotFound
from connector.models import (
    Image,
    ImageVersion,
    Operation,
    OperationKind,
    Origin,
    Product,
    Run,
    VersionKind,
    utcnow,
)
from connector.operations import shows_our_result
from connector.services import Services
from connector.states import ImageStatus, OperationState, VersionState, set_state
from connector.stores import open_client

__all__ = [
    "interleave_by_product",
    "resume_operation",
    "rollback_image",
    "rollback_targets",
    "unfinished_operations",
]


def rollback_targets(
    services: Services,
    *,
    store_id: int | None = None,
    product_id: int | None = None,
    run_id: int | None = None,
    image_id: int | None = None,
) -> list[int]:
    """Ids of images that currently show a connector result, within the given scope.

    Ordered round-robin over products (each product's first image, then each one's second...),
    so workers taking consecutive jobs seldom wait on each other's product lock.
    """
    query = (
        select(Image.id, Image.product_id)
        .join(ImageVersion, ImageVersion.id == Image.current_version_id)
        .where(  # what shows_our_result says, in SQL: whatever the status after a later approval
            Image.status != ImageStatus.GONE.value,
            ImageVersion.kind == VersionKind.RESULT.value,
            ImageVersion.state == VersionState.PUBLISHED.value,
        )
    )
    if image_id is not None:
        query = query.where(Image.id == image_id)
    if product_id is not None:
        query = query.where(Image.product_id == product_id)
    if store_id is not None:
        query = query.where(Image.store_id == store_id)
    if run_id is not None:
        run_version = aliased(ImageVersion)
        published_in_run = (
            select(Operation.image_id)
            .join(run_version, run_version.id == Operation.version_id)
            .where(
                Operation.kind == OperationKind.REPLACE.value,
                Operation.state == OperationState.DONE.value,
                (Operation.run_id == run_id) | (run_version.run_id == run_id),
            )
        )
        query = query.where(Image.id.in_(published_in_run))
    with services.session() as s:
        rows = s.execute(query.join(Product, Product.id == Image.product_id).order_by(Image.id)).all()
    return interleave_by_product([(image, product) for image, product in rows])


def interleave_by_product(rows: list[tuple[int, int]]) -> list[int]:
    """Image ids from (image id, product id) rows, taking one image of each product in turn."""
    queues: dict[int, list[int]] = {}
    for image_id, product_id in rows:
        queues.setdefault(product_id, []).append(image_id)
    ordered: list[int] = []
    for rank in range(max((len(q) for q in queues.values()), default=0)):
        ordered.extend(q[rank] for q in queues.values() if rank < len(q))
    return ordered


def _requested_at(services: Services, run_id: int | None) -> datetime | None:
    with services.session() as s:
        run = s.get(Run, run_id) if run_id else None
        return run.started_at if run is not None else None


def rollback_image(
    services: Services,
    image_id: int,
    actor: str = "operator",
    why: str = "rollback",
    run_id: int | None = None,
) -> PublishResult:
    """Put the original back into the slot our result occupies; byte-identical to the backup."""
    requested = _requested_at(services, run_id) or utcnow()
    pending = unfinished_operation(services, image_id)
    if pending is not None:
        finished = execute(services, pending.id)
        if pending.kind == OperationKind.ROLLBACK.value:
            return finished
        # a replacement a killed worker left: finished first, then rolled back like any other
    if later(newest_decision(services, image_id), requested):
        return PublishResult("superseded", reason="a newer decision was taken for this image since")
    with services.session() as s:
        image = s.get(Image, image_id)
        if image is None:
            raise NotFound(f"image {image_id} does not exist")
        if image.status == ImageStatus.GONE.value or not image.original_version_id:
            return PublishResult("noop", reason=f"image is {image.status}: nothing of ours on the store")
        if not shows_our_result(s, image):
            return PublishResult("noop", reason=f"image is {image.status}: nothing of ours on the store")
        original = s.get(ImageVersion, image.original_version_id)
        assert original is not None
        rollback = ImageVersion(
            image_id=image.id,
            run_id=run_id,
            kind=VersionKind.ROLLBACK.value,
            state=VersionState.APPROVED.value,
            blob_hash=original.blob_hash,
            mime=original.mime,
            width=original.width,
            height=original.height,
            size_bytes=original.size_bytes,
            actor=actor,
            why=why,
            decided_at=requested,
        )
        s.add(rollback)
        s.flush()
        version_id, store_id, ours = rollback.id, image.store_id, image.content_hash
    live = live_slot(services, image_id)
    if live is None:
        return _keep_merchant_edit(services, image_id, version_id, "removed our image", ImageStatus.GONE)
    src, slot = live
    if ours and sha256(open_client(services, store_id).fetch_bytes(src)) != ours:
        return _keep_merchant_edit(services, image_id, version_id, "replaced our image", ImageStatus.NEW)
    return execute(
        services, new_operation(services, OperationKind.ROLLBACK, image_id, version_id, slot, actor, run_id)
    )


def _keep_merchant_edit(
    services: Services, image_id: int, version_id: int, what: str, status: ImageStatus
) -> PublishResult:
    """A rollback that finds the merchant changed our slot leaves it alone (three-way); what is
    there now is theirs (a re-shot image is processed like any new one)."""
    with services.session() as s:
        image = s.get(Image, image_id)
        version = s.get(ImageVersion, version_id)
        assert image is not None and version is not None
        set_state(image, status, "status")
        set_state(version, VersionState.STALE)
        image.origin = Origin.MERCHANT.value
    return PublishResult("noop", reason=f"the merchant {what} since; their edit is kept")
