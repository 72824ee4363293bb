"""Publish a result to the store as a recorded operation.

Publishing checks three things first: that this result is still the image's newest decision (a
late job for an older one ends "superseded" and changes nothing); that no other change of the
slot is half done (it is finished first); and drift: when the merchant changed the image since
it was processed, their change wins — our version is marked stale and the new image processed.
"""

from __future__ import annotations

from connector.blobs import sha256
from connector.changes import (
    PublishResult,
    execute,
    later,
    live_slot,
    new_operation,
    newest_decision,
    unfinished_operation,
)
from connector.errors import ConflictError, NotFound
from connector.models import Image, ImageVersion, OperationKind, VersionKind
from connector.services import Services
from connector.states import ImageStatus, VersionState, set_state
from connector.stores import open_client

__all__ = ["PublishResult", "publish_version"]


def _mark_stale(services: Services, image_id: int, version_id: int, reason: str) -> PublishResult:
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        image = s.get(Image, image_id)
        assert version is not None and image is not None
        set_state(version, VersionState.STALE)
        set_state(image, ImageStatus.NEW, "status")
        image.failure_reason = reason
    return PublishResult("stale", reason=reason)


def _superseded(services: Services, version_id: int, reason: str) -> PublishResult:
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        if version is not None and version.state == VersionState.APPROVED.value:
            set_state(version, VersionState.SUPERSEDED)
    return PublishResult("superseded", reason=reason)


def _check_wanted(services: Services, version_id: int) -> tuple[int, PublishResult | None]:
    """The version's image, and an end result when there is nothing to publish."""
    with services.session() as s:
        version = s.get(ImageVersion, version_id)
        if version is None or version.kind != VersionKind.RESULT.value:
            raise NotFound(f"result version {version_id} does not exist", hint="see `connector history`")
        image = s.get(Image, version.image_id)
        assert image is not None
        image_id, decided = image.id, version.decided_at or version.created_at
        if (
            version.state == VersionState.PUBLISHED.value
            and image.platform_media_id == version.platform_media_id
        ):
            return image_id, PublishResult("noop", reason="already published")
        if version.state in (VersionState.SUPERSEDED.value, VersionState.STALE.value):
            return image_id, PublishResult("superseded", reason=f"version {version_id} is {version.state}")
        if version.state not in (VersionState.APPROVED.value, VersionState.PUBLISHED.value):
            raise ConflictError(
                f"version {version_id} is {version.state}, not approved",
                hint="approve it first with `connector approve`",
            )
    if later(newest_decision(services, image_id, besides=version_id), decided):
        return image_id, _superseded(services, version_id, "a newer decision was taken for this image")
    return image_id, None


def publish_version(
    services: Services, version_id: int, actor: str = "system", run_id: int | None = None
) -> PublishResult:
    """Replace the store image with this result version (approved or auto-passed)."""
    image_id, done = _check_wanted(services, version_id)
    if done is not None:
        return done
    pending = unfinished_operation(services, image_id)
    if pending is not None:
        finished = execute(services, pending.id)  # a change a killed worker left: finished first
        if pending.version_id == version_id:
            return finished
        image_id, done = _check_wanted(services, version_id)
        if done is not None:
            return done
    live = live_slot(services, image_id)
    if live is None:
        return _mark_stale(services, image_id, version_id, "the merchant removed or replaced the image since")
    src, slot = live
    with services.session() as s:
        image = s.get(Image, image_id)
        version = s.get(ImageVersion, version_id)
        assert image is not None and version is not None
        original = s.get(ImageVersion, image.original_version_id) if image.original_version_id else None
        store_id, expected = image.store_id, image.content_hash or version.source_hash
        from_current_photo = original is None or original.blob_hash == version.source_hash
    # Compare bytes, not URLs (a webhook sync may already have recorded the merchant's new URL):
    # the slot must still show what we last saw or put there, and the result must have been
    # made from the photo the image has now.
    if not from_current_photo or sha256(open_client(services, store_id).fetch_bytes(src)) != expected:
        return _mark_stale(
            services, image_id, version_id, "the merchant changed the image since it was processed"
        )
    return execute(
        services, new_operation(services, OperationKind.REPLACE, image_id, version_id, slot, actor, run_id)
    )
