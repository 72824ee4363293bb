"""What the photos cost and what that returns: compute per image, next to a paid service and a person.

Compute seconds are recorded on each pipeline result (``image_versions.compute_seconds``).  The
estimate prices them at ``COMPUTE_PRICE_PER_HOUR`` (one CPU- or GPU-hour); the comparison is a paid
background-removal service at ``PAID_SERVICE_PRICE_PER_IMAGE`` for every image processed, and a person
spending ``RETOUCH_MINUTES_PER_PHOTO`` at ``RETOUCH_HOURLY_RATE`` on every image published.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from connector.models import Image, ImageVersion, Operation, OperationKind, OperationState, VersionKind
from connector.settings import Settings


@dataclass(frozen=True)
class CostReport:
    """Cost and return of a set of images (one run, one store, everything)."""

    images_processed: int
    images_published: int
    compute_seconds: float
    compute_seconds_per_image: float
    compute_cost: float
    compute_cost_per_image: float
    paid_service_cost: float
    retouch_minutes: float
    retouch_cost: float
    saved_vs_paid_service: float
    saved_vs_retouching: float
    currency: str
    compute_unit: str

    def to_dict(self) -> dict[str, Any]:
        """Rounded for people and JSON."""
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def estimate(settings: Settings, processed: int, published: int, seconds: float) -> CostReport:
    """The report for ``processed`` images that took ``seconds`` of compute, ``published`` of them live."""
    compute = seconds / 3600 * settings.compute_price_per_hour
    paid = processed * settings.paid_service_price_per_image
    minutes = published * settings.retouch_minutes_per_photo
    retouch = minutes / 60 * settings.retouch_hourly_rate
    return CostReport(
        images_processed=processed,
        images_published=published,
        compute_seconds=seconds,
        compute_seconds_per_image=seconds / processed if processed else 0.0,
        compute_cost=compute,
        compute_cost_per_image=compute / processed if processed else 0.0,
        paid_service_cost=paid,
        retouch_minutes=minutes,
        retouch_cost=retouch,
        saved_vs_paid_service=paid - compute,
        saved_vs_retouching=retouch - compute,
        currency=settings.cost_currency,
        compute_unit=settings.compute_unit,
    )


def _report(
    session: Session, settings: Settings, results: ColumnElement[bool], ops: ColumnElement[bool]
) -> CostReport:
    processed, seconds = session.execute(
        select(func.count(ImageVersion.id), func.coalesce(func.sum(ImageVersion.compute_seconds), 0.0))
        .join(Image, Image.id == ImageVersion.image_id)
        .where(ImageVersion.kind == VersionKind.RESULT.value, results)
    ).one()
    published = session.scalar(
        select(func.count(func.distinct(Operation.image_id))).where(
            Operation.kind == OperationKind.REPLACE.value, Operation.state == OperationState.DONE.value, ops
        )
    )
    return estimate(settings, int(processed or 0), int(published or 0), float(seconds or 0.0))


def run_costs(session: Session, settings: Settings, run_id: int) -> CostReport:
    """Cost and return of one run (the results it made, the replacements it published)."""
    return _report(session, settings, ImageVersion.run_id == run_id, Operation.run_id == run_id)


def store_costs(session: Session, settings: Settings, store_id: int | None = None) -> CostReport:
    """Cost and return of one store's images, or of every store (``store_id`` None)."""
    if store_id is None:
        return _report(session, settings, Image.id.is_not(None), Operation.id.is_not(None))
    return _report(session, settings, Image.store_id == store_id, Operation.store_id == store_id)
