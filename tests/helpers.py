"""Small helpers shared by tests: images in memory and recorded results."""

from __future__ import annotations

import io

from PIL import Image as PILImage
from sqlalchemy.orm import Session

from adapters.outbound import OutboundPolicy
from connector.blobs import sha256
from connector.models import Image, ImageStatus, ImageVersion, VersionKind, VersionState
from connector.processing import record_original
from connector.services import Services
from connector.stores import open_client

#: The outbound policy of adapters built directly in tests: the sandboxes listen on loopback over http.
LOOPBACK = OutboundPolicy.from_hosts("127.0.0.1,localhost", https_only=False)


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    """A small PNG of one colour."""
    buf = io.BytesIO()
    PILImage.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def add_result(
    session: Session, image_id: int, data: bytes, source_hash: str, run_id: int | None = None, why: str = ""
) -> int:
    """Record an approved, QA-passed result with these bytes for an image; its version id."""
    version = ImageVersion(
        image_id=image_id,
        run_id=run_id,
        kind=VersionKind.RESULT.value,
        state=VersionState.APPROVED.value,
        blob_hash=sha256(data),
        mime="image/png",
        size_bytes=len(data),
        source_hash=source_hash,
        verdict="pass",
        why=why,
    )
    session.add(version)
    session.flush()
    return version.id


def approved_result(services: Services, image_id: int, data: bytes, run_id: int | None = None) -> int:
    """Back up an image's original and record an approved result with these bytes (no pipeline)."""
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        store_id, src = image.store_id, image.src
    original = open_client(services, store_id).fetch_bytes(src)
    services.blobs.put(original)
    services.blobs.put(data)
    with services.session() as s:
        image = s.get(Image, image_id)
        assert image is not None
        record_original(s, image, sha256(original), len(original), run_id)
        image.status = ImageStatus.APPROVED.value
        return add_result(s, image_id, data, sha256(original), run_id)


def drain(services: Services) -> None:
    """Run every queued job (image work, then store writes) in this process, as a worker would."""
    from connector.worker_memory import LeanWorker, worker_queue_names

    queues = [services.queue(name) for name in worker_queue_names(services.settings, publisher=False)]
    LeanWorker(queues, connection=services.redis).work(burst=True)


#: QA scores of a clean cut-out: every gate passes with the default thresholds.
CLEAN_SCORES: dict[str, float] = {
    "mask_area": 0.3,
    "edges_touched": 0.0,
    "main_component": 1.0,
    "thin_structure": 0.0,
    "uncertain": 0.0,
    "subject_size": 600.0,
    "new_holes": 0.0,
    "halo": 0.01,
    "clipped": 0.0,
    "low_contrast": 0.0,
    "camouflage": 0.0,
    "reflection": 0.0,
    "filled_holes": 0.0,
    "background_patches": 0.0,
    "people": 0.0,
    "misplaced_edge": 0.0,
    "color_fidelity": 1.0,
    "background_purity": 1.0,
    "resolution": 1.0,
    "upscale": 1.0,
    "fill": 0.85,
}
