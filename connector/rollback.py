"""Choose what a rollback covers: one image, a product, a run, or a whole store."""

from __future__ import annotations

from sqlalchemy import select

from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Operation,
    OperationKind,
    OperationState,
    Product,
)
from connector.services import Services


def rollback_targets(
    services: Services,
    *,
    store_id: int | None = None,
    product_id: int | None = None,
    run_id: int | None = None,
    image_id: int | None = None,
) -> list[int]:
    """Ids of images that currently show a connector result, within the given scope."""
    query = select(Image.id).where(Image.status == ImageStatus.PUBLISHED.value)
    if image_id is not None:
        query = query.where(Image.id == image_id)
    if product_id is not None:
        query = query.where(Image.product_id == product_id)
    if store_id is not None:
        query = query.where(Image.store_id == store_id)
    if run_id is not None:
        published_in_run = (
            select(Operation.image_id)
            .join(ImageVersion, ImageVersion.id == Operation.version_id)
            .where(
                Operation.kind == OperationKind.REPLACE.value,
                Operation.state == OperationState.DONE.value,
                (Operation.run_id == run_id) | (ImageVersion.run_id == run_id),
            )
        )
        query = query.where(Image.id.in_(published_in_run))
    with services.session() as s:
        return list(s.scalars(query.join(Product, Product.id == Image.product_id).order_by(Image.id)))
