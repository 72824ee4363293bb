"""Recorded, resumable replacement of one image slot on the store.

A replace and a rollback are the same operation with roles swapped: some media leaves the
slot (``old_media_id``) and other media enters it (``new_media_id``), at the slot's position
and with its variant links.  Steps, in an order that keeps at least one image on the product
at every moment::

    backup → upload → wait_ready → attach → move → link_variants → detach → verify

Every step is written to the database before it runs and after it succeeds, and each is
idempotent against the store, so a worker killed anywhere is resumed by running the remaining
steps again.  The upload step finds an upload that happened but was not recorded by its
filename (which carries the operation id), so there is never a second upload.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.blobs import sha256
from connector.errors import ConflictError, ConnectorError, MediaFailed, NotFound, TransientError
from connector.faults import fail_point, kill_point
from connector.locks import Fence, FenceLost
from connector.models import (
    Image,
    ImageVersion,
    Operation,
    OperationKind,
    OperationStep,
    Origin,
    VersionKind,
    utcnow,
)
from connector.port import VARIANTS_ONLY, MediaState, StoreClient
from connector.services import Services
from connector.states import ImageStatus, OperationState, VersionState, set_state

STEPS = ("backup", "upload", "wait_ready", "attach", "move", "link_variants", "detach", "verify")
#: First wait before asking again whether an upload is ready, growing 1.5 times a poll up to 3 s: a
#: small image is often ready within a fraction of a second, a large one takes seconds.
FIRST_POLL = 0.1
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


@dataclass(frozen=True)
class StepContext:
    """What a step needs: the store client, the operation's ids and the lock fence."""

    services: Services
    client: StoreClient
    op_id: int
    product_platform_id: str
    fence: Fence


_OUR_SUFFIXES = re.compile(r"(-ic\d+(-\d+)?)+$")  # WordPress may add "-1" to a taken name


def upload_filename(op: Operation, version: ImageVersion, base: str | None) -> str:
    """The filename an operation uploads under; it carries the operation id (idempotency).

    The merchant's name stays the stem: the suffix of an earlier operation (a slot replaced again)
    is dropped, so names never stack up (``shoe-ic3-ic20.png``)."""
    stem = (base or "image").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = _OUR_SUFFIXES.sub("", stem)[:60] or "image"
    return f"{stem}-ic{op.id}.{EXTENSIONS.get(version.mime, 'png')}"


def _load(session: Session, op_id: int) -> tuple[Operation, Image, ImageVersion]:
    op = session.get(Operation, op_id)
    if op is None:
        raise NotFound(f"operation {op_id} does not exist")
    image = session.get(Image, op.image_id)
    version = session.get(ImageVersion, op.version_id)
    assert image is not None and version is not None
    return op, image, version


def _step_upload(ctx: StepContext) -> None:
    with ctx.services.session() as s:
        op, image, version = _load(s, ctx.op_id)
        if op.new_media_id:
            return
        filename = upload_filename(op, version, image.filename)
        reuse = (
            version.platform_media_id if op.kind == OperationKind.REPLACE.value else image.original_media_id
        )
        blob_hash, mime, alt = version.blob_hash, version.mime, op.alt
    media_id = ctx.client.find_media(filename)
    uploaded = media_id is not None  # our upload, made by a worker killed before recording it
    if media_id is None and reuse and ctx.client.media_exists(reuse):
        media_id = reuse  # roll forward again, or rollback onto the store's own original
    if media_id is None:
        data = ctx.services.blobs.get(blob_hash)
        media_id = ctx.client.upload_media(ctx.product_platform_id, data, filename, mime, alt)
        uploaded = True
    kill_point(ctx.services.settings, "upload", "call")
    with ctx.services.session() as s:
        ctx.fence.check(s)
        op, _image, version = _load(s, ctx.op_id)
        op.new_media_id = media_id
        op.uploads += int(uploaded)
        version.platform_media_id = media_id


def _new_media(ctx: StepContext) -> tuple[str, str]:
    with ctx.services.session() as s:
        op, _image, _version = _load(s, ctx.op_id)
        assert op.new_media_id, "upload step must run first"
        return op.new_media_id, op.old_media_id


def _step_wait_ready(ctx: StepContext, timeout: float = 120.0) -> None:
    media_id, _old = _new_media(ctx)
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL
    while True:
        status = ctx.client.media_status(media_id)
        if status.state == MediaState.READY:
            return
        if status.state == MediaState.FAILED:
            raise MediaFailed(
                f"the store could not process the uploaded image {media_id}: "
                f"{status.error or 'no reason given'}",
                hint="the original stays on the product; reprocess with another output format",
            )
        if time.monotonic() > deadline:
            raise TransientError(f"media {media_id} is still {status.state.value} after {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 3.0)


def _in_gallery(ctx: StepContext) -> bool:
    """False for a slot only variants show: it is swapped by relinking them, the gallery untouched."""
    with ctx.services.session() as s:
        return _load(s, ctx.op_id)[0].position != VARIANTS_ONLY


def _step_attach(ctx: StepContext) -> None:
    new, _old = _new_media(ctx)
    if _in_gallery(ctx):
        ctx.client.attach_media(ctx.product_platform_id, new)


def _step_move(ctx: StepContext) -> None:
    new, old = _new_media(ctx)
    with ctx.services.session() as s:
        fallback = _load(s, ctx.op_id)[0].position
    if fallback == VARIANTS_ONLY:
        return
    order = ctx.client.media_order(ctx.product_platform_id)
    if order is None:
        raise NotFound(f"product {ctx.product_platform_id} was deleted on the store")
    # three-way: the slot is where the old media is *now* (the merchant may have reordered)
    position = order.index(old) if old in order else fallback
    if old in order and new in order and order.index(new) == position + 1:
        return  # right behind the old media: detaching that puts the new one in its place
    ctx.client.move_media(ctx.product_platform_id, new, position)


def _step_link_variants(ctx: StepContext) -> None:
    new, _old = _new_media(ctx)
    with ctx.services.session() as s:
        variants = tuple(_load(s, ctx.op_id)[0].variant_ids)
    if variants:
        ctx.client.link_variants(ctx.product_platform_id, new, variants)


def _step_detach(ctx: StepContext) -> None:
    _new, old = _new_media(ctx)
    ctx.client.detach_media(ctx.product_platform_id, old)


def _step_backup(ctx: StepContext) -> None:
    with ctx.services.session() as s:
        _op, image, version = _load(s, ctx.op_id)
        hashes = [version.blob_hash]
        if image.original_version_id:
            original = s.get(ImageVersion, image.original_version_id)
            if original is not None:
                hashes.append(original.blob_hash)
    for digest in hashes:
        ctx.services.blobs.get(digest)  # raises BlobMissing: nothing on the store changes


def _step_verify(ctx: StepContext) -> None:
    new, old = _new_media(ctx)
    remote = ctx.client.get_product(ctx.product_platform_id)
    if remote is None:
        raise NotFound(f"product {ctx.product_platform_id} was deleted on the store")
    shown = remote.image(new)
    if shown is None or remote.image(old) is not None:
        raise ConflictError(
            f"after the change the product shows new={shown is not None} old={remote.image(old) is not None}",
            hint="run `connector resume` to finish the operation",
        )
    with ctx.services.session() as s:
        _op, _image, version = _load(s, ctx.op_id)
        expected = version.blob_hash
    got = sha256(ctx.client.fetch_bytes(shown.src))
    if got != expected:
        raise ConflictError(
            f"the store serves bytes {got[:12]}… for media {new}, expected {expected[:12]}…",
            hint="the store changed the file after upload; check the product in the store admin",
        )
    with ctx.services.session() as s:
        ctx.fence.check(s)
        _finish(s, ctx.op_id, shown.src)


def _finish(session: Session, op_id: int, src: str) -> None:
    op, image, version = _load(session, op_id)
    previous = session.get(ImageVersion, image.current_version_id) if image.current_version_id else None
    if previous is not None and previous.id != version.id and previous.state == VersionState.PUBLISHED.value:
        set_state(previous, VersionState.SUPERSEDED)
    set_state(version, VersionState.PUBLISHED)
    image.current_version_id = version.id
    image.platform_media_id = op.new_media_id or image.platform_media_id
    image.src = src
    image.content_hash = version.blob_hash
    if op.kind == OperationKind.REPLACE.value:
        set_state(image, ImageStatus.PUBLISHED, "status")
        image.origin = Origin.CONNECTOR.value
    else:
        set_state(image, ImageStatus.ROLLED_BACK, "status")
        image.origin = Origin.MERCHANT.value
    image.failure_code = image.failure_reason = None
    set_state(op, OperationState.DONE)


STEP_FUNCS: dict[str, Callable[[StepContext], None]] = {
    "backup": _step_backup,
    "upload": _step_upload,
    "wait_ready": _step_wait_ready,
    "attach": _step_attach,
    "move": _step_move,
    "link_variants": _step_link_variants,
    "detach": _step_detach,
    "verify": _step_verify,
}


def _record(ctx: StepContext, name: str, state: str, detail: str | None = None) -> None:
    """Write a step's progress, checking the fence first (and extending the lock's lease)."""
    with ctx.services.session() as s:
        ctx.fence.check(s)
        op_id = ctx.op_id
        op = s.get(Operation, op_id)
        assert op is not None
        step = s.scalar(
            select(OperationStep)
            .where(OperationStep.operation_id == op_id, OperationStep.name == name)
            .order_by(OperationStep.id.desc())
        )
        if state == "started" or step is None:
            s.add(OperationStep(operation_id=op_id, name=name, state=state, detail=detail))
        else:
            step.state, step.detail, step.finished_at = state, detail, utcnow()
        if op.state == OperationState.PENDING.value:
            set_state(op, OperationState.RUNNING)


def done_steps(session: Session, op_id: int) -> set[str]:
    """Names of the steps an operation has finished."""
    return set(
        session.scalars(
            select(OperationStep.name).where(
                OperationStep.operation_id == op_id, OperationStep.state == "done"
            )
        )
    )


def undo(ctx: StepContext) -> None:
    """Put the old media back in its slot and take the new one off (after a permanent failure)."""
    with ctx.services.session() as s:
        op, _image, _version = _load(s, ctx.op_id)
        new, old, position, variants = op.new_media_id, op.old_media_id, op.position, tuple(op.variant_ids)
    if ctx.client.media_exists(old):
        if position != VARIANTS_ONLY:
            ctx.client.attach_media(ctx.product_platform_id, old)
            ctx.client.move_media(ctx.product_platform_id, old, position)
        if variants:
            ctx.client.link_variants(ctx.product_platform_id, old, variants)
    if new:
        ctx.client.detach_media(ctx.product_platform_id, new)


def run_operation(ctx: StepContext) -> str:
    """Run the remaining steps of an operation; returns its final state.

    Transient errors propagate (the job is retried and resumes here); so does a lost fence
    (another worker owns the product now and finishes the operation).  Any other error — the
    connector's own or an unexpected one — undoes what was changed on the store and marks the
    operation failed with the reason.
    """
    with ctx.services.session() as s:
        finished = done_steps(s, ctx.op_id)
    for name in STEPS:
        if name in finished:
            continue
        _record(ctx, name, "started")
        kill_point(ctx.services.settings, name, "before")
        try:
            fail_point(ctx.services.settings, name)
            STEP_FUNCS[name](ctx)
        except (TransientError, FenceLost):
            raise
        except Exception as exc:
            error = (
                exc
                if isinstance(exc, ConnectorError)
                else ConnectorError(f"{type(exc).__name__}: {exc}", code="unexpected")
            )
            _record(ctx, name, "failed", str(error))
            return _fail(ctx, error)
        kill_point(ctx.services.settings, name, "after")
        _record(ctx, name, "done")
    return OperationState.DONE.value


def _fail(ctx: StepContext, exc: ConnectorError) -> str:
    state = OperationState.FAILED.value
    try:
        undo(ctx)
        state = OperationState.UNDONE.value
    except TransientError:
        raise
    except ConnectorError as undo_exc:
        exc = ConnectorError(
            f"{exc}; undo failed too: {undo_exc}", hint="check the product in the store admin"
        )
    with ctx.services.session() as s:
        op, image, version = _load(s, ctx.op_id)
        set_state(op, OperationState(state))
        op.error = str(exc)
        image.failure_code, image.failure_reason = exc.code, str(exc)
        if op.kind == OperationKind.REPLACE.value:
            if isinstance(exc, MediaFailed):
                set_state(version, VersionState.REJECTED)
            # an earlier result of ours still in the slot stays published (and can be rolled back)
            set_state(
                image, ImageStatus.PUBLISHED if shows_our_result(s, image) else ImageStatus.FAILED, "status"
            )
    return state


def shows_our_result(session: Session, image: Image) -> bool:
    """Whether the image's current version is a published result of ours."""
    current = session.get(ImageVersion, image.current_version_id) if image.current_version_id else None
    return (
        current is not None
        and current.kind == VersionKind.RESULT.value
        and current.state == VersionState.PUBLISHED.value
    )
