"""Publish a result to the store, and roll any change back — both as recorded operations.

Publishing checks for drift first: when the merchant changed the image since it was
processed, their change wins; our version is marked stale and the new image is processed.
A rollback touches only the slot we replaced (three-way): the merchant's other edits stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from connector.blobs import sha256
from connector.errors import ConflictError, NotFound
from connector.locks import product_lock
from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Operation,
    OperationKind,
    OperationState,
    Origin,
    Product,
    VersionKind,
    VersionState,
)
from connector.operations import StepContext, run_operation, shows_our_result
from connector.services import Services
from connector.stores import open_client

#: how long an operation waits for another one on the same product to end before it retries later
LOCK_WAIT = 60.0


@dataclass(frozen=True)
class PublishResult:
    """The end state of a publish or rollback request."""

    state: str  # done | undone | failed | stale | noop
    operation_id: int | None = None
    reason: str | None = None


def _unfinished(services: Services, image_id: int) -> Operation | None:
    with services.session() as s:
        return s.scalar(
            select(Operation).where(
                Operation.image_id == image_id,
                Operation.state.in_([OperationState.PENDING.value, OperationState.RUNNING.value]),
            )
        )


def _new_operation(
    services: Services,
    kind: OperationKind,
    image_id: int,
    version_id: int,
    slot: dict,
    actor: str,
    run_id: int | None,
) -> int:
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        count = (
            s.scalar(select(func.count()).select_from(Operation).where(Operation.version_id == version_id))
            or 0
        )
        op = Operation(
            store_id=image.store_id,
            product_id=image.product_id,
            image_id=image.id,
            version_id=version_id,
            run_id=run_id,
            kind=kind.value,
            idempotency_key=f"{kind.value}:v{version_id}:{count}",
            actor=actor,
            **slot,
        )
        s.add(op)
        s.flush()
        return op.id


def _execute(services: Services, op_id: int) -> PublishResult:
    with services.session() as s:
        op = s.get(Operation, op_id)
        assert op is not None
        product = s.get(Product, op.product_id)
        assert product is not None
        store_id, product_id, platform_id = op.store_id, product.id, product.platform_id
    client = open_client(services, store_id)
    with product_lock(services, product_id, wait=LOCK_WAIT) as fence:
        state = run_operation(StepContext(services, client, op_id, platform_id, fence))
    with services.session() as s:
        op = s.get(Operation, op_id)
        return PublishResult(state, op_id, op.error if op else None)


def unfinished_operations(services: Services) -> list[int]:
    """Ids of operations that were started and never finished (a worker died)."""
    with services.session() as s:
        return list(
            s.scalars(
                select(Operation.id).where(
                    Operation.state.in_([OperationState.PENDING.value, OperationState.RUNNING.value])
                )
            )
        )


def resume_operation(services: Services, op_id: int) -> PublishResult:
    """Finish (or undo) an operation a killed worker left behind."""
    return _execute(services, op_id)


def _slot_of(services: Services, image_id: int) -> tuple[str, dict] | None:
    """Re-read the product: the image's live slot (media, position, alt, variants) or None."""
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        product = s.get(Product, image.product_id)
        assert product is not None
        store_id, platform_id, media_id = image.store_id, product.platform_id, image.platform_media_id
    remote = open_client(services, store_id).get_product(platform_id)
    shown = remote.image(media_id) if remote else None
    if shown is None:
        return None
    slot = {
        "old_media_id": media_id,
        "position": shown.position,
        "alt": shown.alt,
        "variant_ids": list(shown.variant_ids),
    }
    return shown.src, slot


def _mark_stale(services: Services, image_id: int, version_id: int, reason: str) -> PublishResult:
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        image = s.get(Image, image_id)
        assert version is not None and image is not None
        version.state = VersionState.STALE.value
        image.status = ImageStatus.NEW.value
        image.failure_reason = reason
    return PublishResult("stale", reason=reason)


def publish_version(
    services: Services, version_id: int, actor: str = "system", run_id: int | None = None
) -> PublishResult:
    """Replace the store image with this result version (approved or auto-passed)."""
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        if version is None or version.kind != VersionKind.RESULT.value:
            raise NotFound(f"result version {version_id} does not exist", hint="see `connector history`")
        if version.state not in (VersionState.APPROVED.value, VersionState.PUBLISHED.value):
            raise ConflictError(
                f"version {version_id} is {version.state}, not approved",
                hint="approve it first with `connector approve`",
            )
        image = s.get(Image, version.image_id)
        assert image is not None
        image_id, source_hash = image.id, version.source_hash
        if (
            version.state == VersionState.PUBLISHED.value
            and image.platform_media_id == version.platform_media_id
        ):
            return PublishResult("noop", reason="already published")
    pending = _unfinished(services, image_id)
    if pending is not None:
        if pending.version_id != version_id:
            raise ConflictError(
                f"image {image_id} has operation {pending.id} under way", hint="`connector resume`"
            )
        return _execute(services, pending.id)
    live = _slot_of(services, image_id)
    if live is None:
        return _mark_stale(services, image_id, version_id, "the merchant removed or replaced the image since")
    src, slot = live
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        original = s.get(ImageVersion, image.original_version_id) if image.original_version_id else None
        store_id, expected = image.store_id, image.content_hash or source_hash
        from_current_photo = original is None or original.blob_hash == source_hash
    # Compare bytes, not URLs (a webhook sync may already have recorded the merchant's new URL):
    # the slot must still show what we last saw or put there, and the result must have been
    # made from the photo the image has now.
    if not from_current_photo or sha256(open_client(services, store_id).fetch_bytes(src)) != expected:
        return _mark_stale(
            services, image_id, version_id, "the merchant changed the image since it was processed"
        )
    return _execute(
        services, _new_operation(services, OperationKind.REPLACE, image_id, version_id, slot, actor, run_id)
    )


def rollback_image(
    services: Services,
    image_id: int,
    actor: str = "operator",
    why: str = "rollback",
    run_id: int | None = None,
) -> PublishResult:
    """Put the original back into the slot our result occupies; byte-identical to the backup."""
    pending = _unfinished(services, image_id)
    if pending is not None:
        finished = _execute(services, pending.id)
        if pending.kind == OperationKind.ROLLBACK.value:
            return finished
        # a replacement a killed worker left: finished first, then rolled back like any other
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
        )
        s.add(rollback)
        s.flush()
        version_id, store_id, ours = rollback.id, image.store_id, image.content_hash
    live = _slot_of(services, image_id)
    if live is None:
        return _keep_merchant_edit(services, image_id, version_id, "removed our image", ImageStatus.GONE)
    src, slot = live
    if ours and sha256(open_client(services, store_id).fetch_bytes(src)) != ours:
        return _keep_merchant_edit(services, image_id, version_id, "replaced our image", ImageStatus.NEW)
    return _execute(
        services, _new_operation(services, OperationKind.ROLLBACK, image_id, version_id, slot, actor, run_id)
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
        image.status, version.state = status.value, VersionState.STALE.value
        image.origin = Origin.MERCHANT.value
    return PublishResult("noop", reason=f"the merchant {what} since; their edit is kept")
