"""What the merchant's page shows: catalog status, the review queue, changes to undo, failures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.billing import PLAN_REQUIRED, UsageSummary, usage_summary
from connector.imaging import preset_names
from connector.models import Image, ImageStatus, Product, Run, Store
from connector.services import Services
from connector.store_settings import STRICTNESS, model_choices, store_choices
from connector.web.dashboard import _image_card

Card = dict[str, Any]

#: most cards shown per section (the operators' dashboard pages through everything)
LIMIT = 24


@dataclass(frozen=True)
class Overview:
    """Everything on the merchant's page."""

    counts: dict[str, int]
    products: int
    review: list[Card]  # the operators' dashboard's cards: image, product, original and newest result
    changed: list[Card]
    failed: list[Card]
    waiting: list[Card]
    runs: list[Run]
    settings: dict[str, Any]
    usage: UsageSummary
    presets: list[str]
    models: list[str]
    strictness: tuple[str, ...]


def _cards(s: Session, store_id: int, *statuses: str, plan_wait: bool | None = None) -> list[Card]:
    query = select(Image).where(Image.store_id == store_id, Image.status.in_(statuses))
    if plan_wait is not None:
        waits = Image.failure_code == PLAN_REQUIRED
        query = query.where(waits if plan_wait else (Image.failure_code.is_(None) | ~waits))
    return [
        _image_card(s, image) for image in s.scalars(query.order_by(Image.updated_at.desc()).limit(LIMIT))
    ]


def overview(services: Services, store_id: int) -> Overview:
    """The page's content for one store."""
    with services.session() as s:
        counts = dict(Counter(s.scalars(select(Image.status).where(Image.store_id == store_id))))
        products = len(
            list(s.scalars(select(Product.id).where(Product.store_id == store_id, ~Product.deleted)))
        )
        review = _cards(s, store_id, ImageStatus.REVIEW.value)
        changed = _cards(s, store_id, ImageStatus.PUBLISHED.value)
        failed = _cards(s, store_id, ImageStatus.FAILED.value)
        waiting = _cards(s, store_id, ImageStatus.APPROVED.value, plan_wait=True)
        runs = list(s.scalars(select(Run).where(Run.store_id == store_id).order_by(Run.id.desc()).limit(8)))
        store = s.get(Store, store_id)
        assert store is not None
        settings = store_choices(store)
        s.expunge_all()
    return Overview(
        counts=counts,
        products=products,
        review=review,
        changed=changed,
        failed=failed,
        waiting=waiting,
        runs=runs,
        settings=settings,
        usage=usage_summary(services, store_id),
        presets=preset_names(),
        models=model_choices(services, str(settings["model"])),
        strictness=STRICTNESS,
    )
