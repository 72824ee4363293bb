"""Choose what a rollback covers: one image, a product, a run, or a whole store."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Operation,
    OperationKind,
    OperationState,
    Product,
    VersionKind,
    VersionState,
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
    """Ids of images that currently show a connector result, within the given scope.

    Ordered round-robin over products (each product's first image, then each one's second...),
    so workers taking consecutive jobs seldom wait on each other's product lock.
    """
    query = (
        select(Image.id, Image.product_id)
        .join(ImageVersion, ImageVersion.id == Image.current_version_id)
        .where(  # what shows_our_result says, in SQL: whatever the status after a later approval
            Image.status != ImageStatus.GONE.value,
            ImageVersion.kind == VersionKind.RESULT.value,
            ImageVersion.state == VersionState.PUBLISHED.value,
        )
    )
    if image_id is not None:
        query = query.where(Image.id == image_id)
    if product_id is not None:
        query = query.where(Image.product_id == product_id)
    if store_id is not None:
        query = query.where(Image.store_id == store_id)
    if run_id is not None:
        run_version = aliased(ImageVersion)
        published_in_run = (
            select(Operation.image_id)
            .join(run_version, run_version.id == Operation.version_id)
            .where(
                Operation.kind == OperationKind.REPLACE.value,
                Operation.state == OperationState.DONE.value,
                (Operation.run_id == run_id) | (run_version.run_id == run_id),
            )
        )
        query = query.where(Image.id.in_(published_in_run))
    with services.session() as s:
        rows = s.execute(query.join(Product, Product.id == Image.product_id).order_by(Image.id)).all()
    return interleave_by_product([(image, product) for image, product in rows])


def interleave_by_product(rows: list[tuple[int, int]]) -> list[int]:
    """Image ids from (image id, product id) rows, taking one image of each product in turn."""
    queues: dict[int, list[int]] = {}
    for image_id, product_id in rows:
        queues.setdefault(product_id, []).append(image_id)
    ordered: list[int] = []
    for rank in range(max((len(q) for q in queues.values()), default=0)):
        ordered.extend(q[rank] for q in queues.values() if rank < len(q))
    return ordered
