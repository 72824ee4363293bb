"""Process one image slot: fetch, back up, run the pipeline, record the result version.

The same bytes with the same settings are never processed twice: a result version is keyed
by (image, source hash, settings fingerprint).  A refused image fails with its named reason
and nothing on the store changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import metrics
from connector.blobs import sha256
from connector.errors import BadImageError, ConnectorError, TransientError
from connector.imaging import cutter_for, preset_settings, run_workflow
from connector.media_types import sniff_mime
from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Run,
    Store,
    StoreMode,
    VersionKind,
    VersionState,
)
from connector.services import Services
from connector.settings import export_model_home
from connector.stores import get_store, open_client

if TYPE_CHECKING:  # the pipeline (rembg, onnxruntime) loads only in processes that process images
    from jobs.imaging import Outcome, PipelineSettings


@dataclass(frozen=True)
class ProcessResult:
    """What processing decided: the image's new status and a version to publish, if any."""

    status: str
    version_id: int | None = None
    publish: bool = False
    reason: str | None = None


def pipeline_settings(store: Store, max_side: int | None = None) -> PipelineSettings:
    """The pipeline settings of a store: its preset and model with its overrides.

    ``max_side`` is the platform's longest side served unchanged: results never exceed it, so the
    store serves the bytes we uploaded (and verification by hash holds).
    """
    overrides = dict((store.settings or {}).get("pipeline", {}))
    overrides.setdefault("model", store.model)
    settings = preset_settings(store.preset, **overrides)
    if max_side and settings.max_size > max_side:
        settings = preset_settings(store.preset, **{**overrides, "max_size": max_side})
    return settings


def store_pipeline_settings(services: Services, store: Store) -> PipelineSettings:
    """A store's pipeline settings within its platform's limits."""
    return pipeline_settings(store, getattr(services.platform(store.platform), "max_image_side", None))


def connector_result_hashes(session: Session, store_id: int) -> set[str]:
    """Hashes of every result the connector made for a store (loop guard by content)."""
    rows = session.scalars(
        select(ImageVersion.blob_hash)
        .join(Image, Image.id == ImageVersion.image_id)
        .where(Image.store_id == store_id, ImageVersion.kind == VersionKind.RESULT.value)
    )
    return set(rows)


def record_original(
    session: Session,
    image: Image,
    digest: str,
    data_len: int,
    run_id: int | None,
    mime: str = "application/octet-stream",
) -> ImageVersion:
    """The original version for these bytes (created once, with their media type), made the original."""
    version = session.scalar(
        select(ImageVersion).where(
            ImageVersion.image_id == image.id,
            ImageVersion.kind == VersionKind.ORIGINAL.value,
            ImageVersion.blob_hash == digest,
        )
    )
    if version is None:
        version = ImageVersion(
            image_id=image.id,
            run_id=run_id,
            kind=VersionKind.ORIGINAL.value,
            state=VersionState.PUBLISHED.value,
            blob_hash=digest,
            mime=mime,
            size_bytes=data_len,
            platform_media_id=image.platform_media_id,
            why="backup before any change",
        )
        session.add(version)
        session.flush()
    image.original_version_id = version.id
    image.original_media_id = image.platform_media_id
    image.content_hash = digest
    if image.current_version_id is None:
        image.current_version_id = version.id
    return version


def _fail(session: Session, image: Image, exc: ConnectorError) -> ProcessResult:
    image.status = ImageStatus.FAILED.value
    image.failure_code = exc.code
    image.failure_reason = str(exc)
    return ProcessResult(ImageStatus.FAILED.value, reason=str(exc))


def _is_dry(session: Session, run_id: int | None) -> bool:
    run = session.get(Run, run_id) if run_id else None
    return bool(run and run.dry_run)


def _record_result(
    session: Session,
    image: Image,
    outcome: Outcome,
    source: str,
    settings: PipelineSettings,
    run_id: int | None,
) -> ImageVersion:
    assert outcome.data is not None
    version = ImageVersion(
        image_id=image.id,
        run_id=run_id,
        kind=VersionKind.RESULT.value,
        state=VersionState.DRAFT.value,
        blob_hash=sha256(outcome.data),
        mime=outcome.mime or "image/png",
        width=outcome.width,
        height=outcome.height,
        size_bytes=len(outcome.data),
        settings=settings.to_dict(),
        settings_fingerprint=settings.fingerprint(),
        source_hash=source,
        verdict=outcome.verdict,
        scores={k: float(v) for k, v in outcome.scores.items()},
        reasons=list(outcome.reasons),
        why=f"pipeline {settings.preset} verdict {outcome.verdict}",
        compute_seconds=outcome.seconds,
    )
    session.add(version)
    session.flush()
    return version


def _no_result(image: Image, outcome: Outcome) -> ProcessResult:
    """The pipeline made no image: nothing needed doing, or a person must decide (no single subject)."""
    reason = "; ".join(outcome.reasons) or "nothing to improve"
    if outcome.verdict == "review":
        image.status, image.failure_code = ImageStatus.REVIEW.value, "needs_decision"
    else:
        image.status, image.failure_code = ImageStatus.SKIPPED.value, None
    image.failure_reason = reason
    return ProcessResult(image.status, reason=reason)


def _decide(
    session: Session, store: Store, image: Image, version: ImageVersion, run_id: int | None
) -> ProcessResult:
    """Turn a result's verdict into the image's next state."""
    if version.verdict == "fail":
        version.state = VersionState.REJECTED.value
        image.status = ImageStatus.FAILED.value
        image.failure_code = "quality"
        image.failure_reason = "quality gates failed: " + "; ".join(version.reasons or ["no reason"])
        return ProcessResult(image.status, version.id, reason=image.failure_reason)
    if _is_dry(session, run_id):
        # a dry run writes nothing to the store; the result is kept and reused by the real run
        version.state, image.status = VersionState.DRAFT.value, ImageStatus.NEW.value
        image.failure_code = image.failure_reason = None
        return ProcessResult(image.status, version.id)
    passed = version.verdict in ("pass", "skip")  # skip with an image: a clean input, only re-framed
    auto = store.mode == StoreMode.AUTO.value and passed
    version.state = VersionState.APPROVED.value if auto else VersionState.REVIEW.value
    image.status = ImageStatus.APPROVED.value if auto else ImageStatus.REVIEW.value
    image.failure_code = image.failure_reason = None
    return ProcessResult(image.status, version.id, publish=auto)


def process_image(
    services: Services, image_id: int, run_id: int | None = None, force: bool = False
) -> ProcessResult:
    """Fetch, back up, process and judge one image; say whether to publish the result.

    A transient error puts the image back in the queue state (the job retries); any other
    error fails the image with its reason, so nothing is left "processing".
    """
    try:
        return _process(services, image_id, run_id, force)
    except TransientError:
        _set_status(services, image_id, ImageStatus.QUEUED.value)
        raise
    except ConnectorError as exc:
        with services.session() as s:
            image = s.get(Image, image_id)
            if image is not None:
                _fail(s, image, exc)
        raise


def _set_status(services: Services, image_id: int, status: str) -> None:
    with services.session() as s:
        image = s.get(Image, image_id)
        if image is not None:
            image.status = status


def _process(services: Services, image_id: int, run_id: int | None, force: bool) -> ProcessResult:
    with services.session() as s:
        image = s.get(Image, image_id)
        if image is None or image.status == ImageStatus.GONE.value:
            return ProcessResult(ImageStatus.GONE.value, reason="image no longer on the store")
        store = get_store(s, image.store_id)
        if not store.active or store.mode == StoreMode.PAUSED.value:
            return ProcessResult(image.status, reason="store paused or uninstalled")
        if image.origin == "connector" and not force:
            return ProcessResult(image.status, reason="connector's own media")
        src, settings = image.src, store_pipeline_settings(services, store)
        image.status = ImageStatus.PROCESSING.value
    client = open_client(services, store.id)
    data = client.fetch_bytes(src)
    digest = services.blobs.put(data)  # verified backup before anything else
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        store = get_store(s, image.store_id)
        if digest in connector_result_hashes(s, store.id):
            image.origin, image.status = "connector", ImageStatus.SKIPPED.value
            return ProcessResult(image.status, reason="bytes are a result the connector made (loop guard)")
        record_original(s, image, digest, len(data), run_id, sniff_mime(data))
        existing = s.scalar(
            select(ImageVersion).where(
                ImageVersion.image_id == image.id,
                ImageVersion.kind == VersionKind.RESULT.value,
                ImageVersion.source_hash == digest,
                ImageVersion.settings_fingerprint == settings.fingerprint(),
            )
        )
        if existing is not None and not force:
            return _decide(s, store, image, existing, run_id)
    export_model_home(services.settings)
    try:
        cutter = cutter_for(settings.model, services.settings.onnx_providers, settings.alpha_matting)
        outcome = run_workflow(data, settings, cutter)
        metrics.image_processed(outcome.seconds, outcome.verdict, outcome.scores)
    except BadImageError as exc:
        with services.session() as s:
            image = s.get(Image, image_id)
            assert image is not None
            return _fail(s, image, exc)
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        store = get_store(s, image.store_id)
        if outcome.data is None:
            return _no_result(image, outcome)
        services.blobs.put(outcome.data)
        version = _record_result(s, image, outcome, digest, settings, run_id)
        return _decide(s, store, image, version, run_id)
