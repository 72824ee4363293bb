"""Start, run and resume recorded changes on the store (shared by publish and rollback).

A change is an :class:`~connector.models.Operation` run under the product's lock; whatever is
left unfinished by a killed worker is finished (or undone) before anything newer starts on the
same image, so two changes never interleave on one slot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from connector.errors import ConnectorError
from connector.locks import product_lock
from connector.models import Image, ImageVersion, Operation, OperationKind, Product, VersionKind
from connector.operations import StepContext, run_operation
from connector.port import StoreClient
from connector.services import Services
from connector.states import OperationState
from connector.stores import open_client

log = logging.getLogger(__name__)

#: how long an operation waits for another one on the same product to end before it retries later
LOCK_WAIT = 60.0
UNFINISHED = [OperationState.PENDING.value, OperationState.RUNNING.value]


@dataclass(frozen=True)
class PublishResult:
    """The end state of a publish or rollback request."""

    state: str  # done | undone | failed | stale | noop | superseded
    operation_id: int | None = None
    reason: str | None = None


def unfinished_operation(services: Services, image_id: int) -> Operation | None:
    """The image's operation a killed worker left unfinished, if any."""
    with services.session() as s:
        return s.scalar(
            select(Operation).where(Operation.image_id == image_id, Operation.state.in_(UNFINISHED))
        )


def unfinished_operations(services: Services) -> list[int]:
    """Ids of operations that were started and never finished (a worker died)."""
    with services.session() as s:
        return list(s.scalars(select(Operation.id).where(Operation.state.in_(UNFINISHED))))


def new_operation(
    services: Services,
    kind: OperationKind,
    image_id: int,
    version_id: int,
    slot: dict,
    actor: str,
    run_id: int | None,
) -> int:
    """Record a change of one image slot (not started yet); its id."""
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


def execute(services: Services, op_id: int) -> PublishResult:
    """Run an operation's remaining steps under its product's lock."""
    with services.session() as s:
        op = s.get(Operation, op_id)
        assert op is not None
        product = s.get(Product, op.product_id)
        assert product is not None
        store_id, product_id, platform_id = op.store_id, product.id, product.platform_id
    client = open_client(services, store_id)
    with product_lock(services, product_id, wait=LOCK_WAIT) as fence:
        state = run_operation(StepContext(services, client, op_id, platform_id, fence))
        if state == OperationState.DONE.value:
            release_own_upload(services, client, op_id)
    with services.session() as s:
        op = s.get(Operation, op_id)
        return PublishResult(state, op_id, op.error if op else None)


def release_own_upload(services: Services, client: StoreClient, op_id: int) -> bool:
    """After a change, delete the media that left the slot from the store's library when it is a
    result the connector uploaded and nothing needs it any more (never a merchant's file; rollbacks
    need only originals, and a result rolled forward again is uploaded again from its blob)."""
    with services.session() as s:
        op = s.get(Operation, op_id)
        if op is None or op.state != OperationState.DONE.value:
            return False
        old = op.old_media_id
        ours = s.scalar(
            select(ImageVersion.id)
            .join(Image, Image.id == ImageVersion.image_id)
            .where(
                Image.store_id == op.store_id,
                ImageVersion.kind == VersionKind.RESULT.value,
                ImageVersion.platform_media_id == old,
            )
            .limit(1)
        )
        needed = s.scalar(
            select(Image.id)
            .where(Image.store_id == op.store_id)
            .where((Image.platform_media_id == old) | (Image.original_media_id == old))
            .limit(1)
        )
        busy = s.scalar(
            select(Operation.id)
            .where(Operation.state.in_(UNFINISHED))
            .where((Operation.old_media_id == old) | (Operation.new_media_id == old))
            .limit(1)
        )
    if ours is None or needed is not None or busy is not None:
        return False
    try:
        client.delete_media(old)
    except ConnectorError as exc:  # best effort: the file stays in the library, nothing else changes
        log.warning("could not delete superseded upload %s: %s", old, exc)
        return False
    return True


def resume_operation(services: Services, op_id: int) -> PublishResult:
    """Finish (or undo) an operation a killed worker left behind."""
    return execute(services, op_id)


def live_slot(services: Services, image_id: int) -> tuple[str, dict] | None:
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


def newest_decision(services: Services, image_id: int, besides: int | None = None) -> datetime | None:
    """When the image's newest decision (an approval or a rollback) was taken, other than ``besides``."""
    with services.session() as s:
        query = select(func.max(ImageVersion.decided_at)).where(ImageVersion.image_id == image_id)
        if besides is not None:
            query = query.where(ImageVersion.id != besides)
        return s.scalar(query)


def later(a: datetime | None, b: datetime | None) -> bool:
    """Whether ``a`` is strictly after ``b`` (naive values are UTC, as SQLite returns them)."""
    if a is None or b is None:
        return False
    if a.tzinfo is None:
        a = a.replace(tzinfo=b.tzinfo)
    if b.tzinfo is None:
        b = b.replace(tzinfo=a.tzinfo)
    return a > b
