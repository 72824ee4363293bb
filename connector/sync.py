"""Mirror a store's catalog in the database and queue one job per new image.

Loop guard: media the connector itself put on the store (every upload of an operation, every
result version) is recognised by id and never queued, so the platform's products/update
webhook for our own change ends here.  A sync with nothing changed queues nothing, and a
paused store is mirrored but queues nothing (its new images wait, still new, for a resync
after it is resumed).

Shared media: an image slot is (product, media).  A media several products show (WooCommerce's
"Duplicate", Shopify's shared files) is processed, replaced and rolled back in one of them, the
product that showed it first; its slots in the others are kept as SKIPPED (``shared_media``) and
show the merchant's photo unchanged.  When that product no longer shows it, the next sync hands the
media to another product showing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.faults import fail_point
from connector.models import Image, ImageStatus, Origin, Product, Store, StoreMode, utcnow
from connector.port import RemoteProduct
from connector.services import Services
from connector.stores import get_store, open_client
from connector.sync_rows import (
    GONE,
    NEW,
    SHARED,
    ImageBatch,
    KnownMedia,
    apply_sharing_rule,
    busy_media_ids,
    insert_products,
    needs_sharing_rule,
    own_media_ids,
)

__all__ = ["SHARED", "SYNC_BATCH", "KnownMedia", "busy_media_ids", "own_media_ids", "sync_store"]


@dataclass
class SyncReport:
    """What one sync saw and did."""

    products: int = 0
    images: int = 0
    new_images: int = 0
    gone_images: int = 0
    own_media_seen: int = 0
    to_process: list[int] = field(default_factory=list)


#: Products mirrored per database transaction (their rows are read with one query per batch).
SYNC_BATCH = 250


def _update_product(product: Product, remote: RemoteProduct) -> None:
    product.title = remote.title
    product.handle = remote.handle
    product.variant_ids = list(remote.variant_ids)
    product.remote_updated_at = remote.updated_at
    product.deleted = False
    product.synced_at = utcnow()


def mirror_product(session: Session, store: Store, remote: RemoteProduct, media: KnownMedia) -> SyncReport:
    """Bring one product's rows in line with what the store shows; report new image ids."""
    return mirror_products(session, store, [remote], media)


def mirror_products(
    session: Session, store: Store, remotes: list[RemoteProduct], media: KnownMedia
) -> SyncReport:
    """Mirror a batch of products in one transaction.

    Existing rows are read with one query per table and updated; new products and images are
    inserted with one multi-row statement each.
    """
    media.new_batch(session)
    wanted = [r.product_id for r in remotes]
    products = {
        p.platform_id: p
        for p in session.scalars(
            select(Product).where(Product.store_id == store.id, Product.platform_id.in_(wanted))
        )
    }
    images: dict[int, dict[str | None, Image]] = {p.id: {} for p in products.values()}
    if images:
        for img in session.scalars(select(Image).where(Image.product_id.in_(list(images)))):
            images[img.product_id][img.platform_media_id] = img
    for remote in remotes:
        if remote.product_id in products:
            _update_product(products[remote.product_id], remote)
    fresh = [r for r in remotes if r.product_id not in products]
    ids = {p.platform_id: p.id for p in products.values()} | insert_products(session, store, fresh)
    report = SyncReport()
    batch = ImageBatch(store.id, media)
    for remote in remotes:
        product_id = ids[remote.product_id]
        _merge(report, _mirror_images(session, remote, product_id, images.get(product_id, {}), media, batch))
    report.to_process.extend(batch.flush(session))
    return report


def _mirror_images(
    session: Session,
    remote: RemoteProduct,
    product_id: int,
    by_media: dict[str | None, Image],
    media: KnownMedia,
    batch: ImageBatch,
) -> SyncReport:
    report = SyncReport(products=1)
    shown: set[str] = set()
    for remote_image in remote.images:
        report.images += 1
        shown.add(remote_image.media_id)
        image = by_media.get(remote_image.media_id)
        own = media.is_own(session, remote_image.media_id, known=image is not None)
        if image is None and own:
            report.own_media_seen += 1
            continue
        if image is None and remote_image.media_id in media.busy:
            continue  # entering a slot through an unfinished operation (a rollback's original): it records it
        if image is None:
            batch.add(product_id, remote_image)
            report.new_images += 1
            continue
        if own:
            report.own_media_seen += 1
        image.position = remote_image.position
        image.alt = remote_image.alt
        image.src = remote_image.src
        image.filename = remote_image.filename
        image.variant_ids = list(remote_image.variant_ids)
        if image.status == GONE:  # shown again: ours again, or the merchant's to process
            ours = image.origin == Origin.CONNECTOR.value
            image.status = ImageStatus.PUBLISHED.value if ours else NEW
        if needs_sharing_rule(image, media):
            session.flush()
            apply_sharing_rule(session, image)
        batch.met.append(image)
    missing = [(m, i) for m, i in by_media.items() if m not in shown and i.status != GONE]
    if missing:
        media.refresh_once(session)  # an operation may have it off the product for a moment
    for media_id, image in missing:
        if media_id not in media.busy:
            image.status = GONE
            report.gone_images += 1
    return report


def _merge(total: SyncReport, part: SyncReport) -> None:
    total.products += part.products
    total.images += part.images
    total.new_images += part.new_images
    total.gone_images += part.gone_images
    total.own_media_seen += part.own_media_seen
    total.to_process.extend(part.to_process)


def sync_store(
    services: Services, store_id: int, *, full: bool = True, product_id: str | None = None
) -> SyncReport:
    """Mirror the store (all products, those changed since the last sync, or one product)."""
    client = open_client(services, store_id)
    with services.session() as s:
        store = get_store(s, store_id)
        since = None if full else store.last_synced_at
        accepting = store_accepts_work(store)
    started = datetime.now(UTC)
    if product_id is not None:
        one = client.get_product(product_id)
        remotes = iter([one] if one else [])
    else:
        remotes = client.iter_products(updated_since=since)
    total = SyncReport()
    seen_ids: set[str] = set()
    with services.session() as s:
        media = KnownMedia(s, store_id, count_slots=product_id is None)
    for batch in _batches(remotes, SYNC_BATCH):
        fail_point(services.settings, "sync")
        seen_ids.update(remote.product_id for remote in batch)
        with services.session() as s:
            store = get_store(s, store_id)
            _merge(total, mirror_products(s, store, batch, media))
    with services.session() as s:
        store = get_store(s, store_id)
        if product_id is not None and not seen_ids:
            mark_product_deleted(s, store_id, product_id)
        if product_id is None:
            store.last_synced_at = started
            if full:
                _mark_missing_deleted(s, store_id, seen_ids)
    if not accepting:
        total.to_process.clear()
    return total


def _batches(items: Iterable[RemoteProduct], size: int) -> Iterator[list[RemoteProduct]]:
    batch: list[RemoteProduct] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def mark_product_deleted(session: Session, store_id: int, platform_id: str) -> None:
    """The store deleted a product: keep its history, stop work on it."""
    product = session.scalar(
        select(Product).where(Product.store_id == store_id, Product.platform_id == platform_id)
    )
    if product is not None:
        product.deleted = True
        for image in product.images:
            image.status = ImageStatus.GONE.value


def _mark_missing_deleted(session: Session, store_id: int, seen: set[str]) -> None:
    listed = session.scalars(
        select(Product.platform_id).where(Product.store_id == store_id, Product.deleted.is_(False))
    )
    for platform_id in [p for p in listed if p not in seen]:
        mark_product_deleted(session, store_id, platform_id)


def store_accepts_work(store: Store) -> bool:
    """Whether new work may be queued for a store."""
    return accepts_work(store.active, store.mode)


def accepts_work(active: bool, mode: str) -> bool:
    """Whether new work may be queued for a store that is ``active`` (or not) in ``mode``."""
    return active and mode != StoreMode.PAUSED.value
