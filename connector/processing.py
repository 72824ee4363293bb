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
from connector.enqueue import enqueue
from connector.errors import BadImageError, ConnectorError, TransientError
from connector.faults import fail_point
from connector.imaging import cutter_for, preset_settings, run_workflow
from connector.media_types import sniff_mime
from connector.models import (
    Image,
    ImageVersion,
    Run,
    Store,
    StoreMode,
    VersionKind,
    utcnow,
)
from connector.services import Services
from connector.settings import Settings, export_model_home
from connector.states import ImageStatus, VersionState, set_state
from connector.stores import get_store, open_client

if TYPE_CHECKING:  # the pipeline (rembg, onnxruntime) loads only in processes that process images
    from PIL.Image import Image as Photo

    from jobs.imaging import Cutter, Outcome, PipelineSettings


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
    set_state(image, ImageStatus.FAILED, "status")
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
    config: Settings,
) -> ImageVersion:
    assert outcome.data is not None
    fail_point(config, "record")
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
        set_state(image, ImageStatus.REVIEW, "status")
        image.failure_code = "needs_decision"
    else:
        set_state(image, ImageStatus.SKIPPED, "status")
        image.failure_code = None
    image.failure_reason = reason
    return ProcessResult(image.status, reason=reason)


def _decide(
    session: Session, store: Store, image: Image, version: ImageVersion, run_id: int | None
) -> ProcessResult:
    """Turn a result's verdict into the image's next state (a result reused keeps a person's verdict)."""
    if version.state == VersionState.REJECTED.value:
        set_state(image, ImageStatus.FAILED, "status")
        image.failure_code = "quality" if version.verdict == "fail" else "rejected"
        image.failure_reason = (
            "quality gates failed: " + "; ".join(version.reasons or ["no reason"])
            if version.verdict == "fail"
            else f"this result was rejected by {version.actor}; reprocess with other settings"
        )
        return ProcessResult(image.status, version.id, reason=image.failure_reason)
    if version.verdict == "fail":
        set_state(version, VersionState.REJECTED)
        return _decide(session, store, image, version, run_id)
    if _is_dry(session, run_id):
        # a dry run writes nothing to the store; the result is kept and reused by the real run
        if version.state in (VersionState.DRAFT.value, VersionState.REVIEW.value):
            set_state(version, VersionState.DRAFT)
        set_state(image, ImageStatus.NEW, "status")
        image.failure_code = image.failure_reason = None
        return ProcessResult(image.status, version.id)
    if version.state == VersionState.PUBLISHED.value:
        set_state(image, ImageStatus.PUBLISHED, "status")
        return ProcessResult(image.status, version.id, reason="already published")
    passed = version.verdict in ("pass", "skip")  # skip with an image: a clean input, only re-framed
    auto = store.mode == StoreMode.AUTO.value and passed
    set_state(version, VersionState.APPROVED if auto else VersionState.REVIEW)
    if auto:
        version.decided_at = utcnow()
    set_state(image, ImageStatus.APPROVED if auto else ImageStatus.REVIEW, "status")
    image.failure_code = image.failure_reason = None
    return ProcessResult(image.status, version.id, publish=auto)


def process_image(
    services: Services, image_id: int, run_id: int | None = None, force: bool = False
) -> ProcessResult:
    """Fetch, back up, process and judge one image; say whether to publish the result.

    A transient error puts the image back in the queue state (the job retries); any other
    error fails the image with its reason, so nothing is left "processing" (errors that are not
    the connector's own are recorded on the image by the job wrapper).
    """
    try:
        return _process(services, image_id, run_id, force)
    except TransientError:
        _set_status(services, image_id, ImageStatus.QUEUED)
        raise
    except ConnectorError as exc:
        with services.session() as s:
            image = s.get(Image, image_id)
            if image is not None:
                _fail(s, image, exc)
        raise


def _set_status(services: Services, image_id: int, status: ImageStatus) -> None:
    with services.session() as s:
        image = s.get(Image, image_id)
        if image is not None:
            set_state(image, status, "status")


class _FaultPointCutter:
    """A cutter that passes the ``cut`` fault point first (tests inject failures there)."""

    def __init__(self, cutter: Cutter, config: Settings) -> None:
        self.cutter, self.config = cutter, config

    def mask(self, photo: Photo) -> Photo:
        fail_point(self.config, "cut")
        return self.cutter.mask(photo)


def _process(services: Services, image_id: int, run_id: int | None, force: bool) -> ProcessResult:
    with services.session() as s:
        image = s.get(Image, image_id)
        if image is None or image.status == ImageStatus.GONE.value:
            return ProcessResult(ImageStatus.GONE.value, reason="image no longer on the store")
        store = get_store(s, image.store_id)
        if not store.active or store.mode == StoreMode.PAUSED.value:
            if image.status == ImageStatus.QUEUED.value:  # it waits, still new, for a resync
                set_state(image, ImageStatus.NEW, "status")
            return ProcessResult(image.status, reason="store paused or uninstalled")
        if image.origin == "connector" and not force:
            if image.status == ImageStatus.QUEUED.value:
                set_state(image, ImageStatus.SKIPPED, "status")
            return ProcessResult(image.status, reason="connector's own media")
        src, settings = image.src, store_pipeline_settings(services, store)
        set_state(image, ImageStatus.PROCESSING, "status")
    client = open_client(services, store.id)
    data = client.fetch_bytes(src)
    fail_point(services.settings, "load")
    digest = services.blobs.put(data)  # verified backup before anything else
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        store = get_store(s, image.store_id)
        if digest in connector_result_hashes(s, store.id):
            image.origin = "connector"
            set_state(image, ImageStatus.SKIPPED, "status")
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
        cutter = cutter_for(
            settings.model,
            services.settings.onnx_providers,
            settings.alpha_matting,
            threads=services.settings.onnx_threads,
            memory_arena=services.settings.onnx_memory_arena,
        )
        outcome = run_workflow(data, settings, _FaultPointCutter(cutter, services.settings))
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
        fail_point(services.settings, "qa")
        if outcome.data is None:
            return _no_result(image, outcome)
        services.blobs.put(outcome.data)
        version = _record_result(s, image, outcome, digest, settings, run_id, services.settings)
        return _decide(s, store, image, version, run_id)


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
    """Queue process jobs for images (one live job per image, whichever run queued it); how many."""
    queued = 0
    allowed = _limit_products(services, run_id, image_ids)
    with services.session() as s:
        for image in s.scalars(select(Image).where(Image.id.in_(allowed))):
            set_state(image, ImageStatus.QUEUED, "status")
    for image_id in allowed:
        queued += enqueue(
            services,
            "process_image_job",
            image_id,
            run_id,
            force,
            job_id=f"process-{image_id}",
            kind="process",
            run_id=run_id,
            image_id=image_id,
        )
    return queued
