"""Mirror a store's catalog in the database and queue one job per new image.

Loop guard: media the connector itself put on the store (every upload of an operation, every
result version) is recognised by id and never queued, so the platform's products/update
webhook for our own change ends here.  A sync with nothing changed queues nothing, and a
paused store is mirrored but queues nothing (its new images wait, still new, for a resync
after it is resumed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.faults import fail_point
from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Operation,
    OperationState,
    Origin,
    Product,
    Store,
    StoreMode,
    utcnow,
)
from connector.port import RemoteProduct
from connector.services import Services
from connector.stores import get_store, open_client


@dataclass
class SyncReport:
    """What one sync saw and did."""

    products: int = 0
    images: int = 0
    new_images: int = 0
    gone_images: int = 0
    own_media_seen: int = 0
    to_process: list[int] = field(default_factory=list)


def own_media_ids(session: Session, store_id: int) -> set[str]:
    """Every media id the connector uploaded to this store (results and re-uploads)."""
    from_ops = session.scalars(
        select(Operation.new_media_id).where(
            Operation.store_id == store_id, Operation.new_media_id.is_not(None)
        )
    )
    from_versions = session.scalars(
        select(ImageVersion.platform_media_id)
        .join(Image, Image.id == ImageVersion.image_id)
        .where(
            Image.store_id == store_id,
            ImageVersion.kind != "original",
            ImageVersion.platform_media_id.is_not(None),
        )
    )
    return {m for m in [*from_ops, *from_versions] if m}


def busy_media_ids(session: Session, store_id: int) -> set[str]:
    """Media ids taking part in an unfinished operation (they may be briefly off the product)."""
    rows = session.execute(
        select(Operation.old_media_id, Operation.new_media_id).where(
            Operation.store_id == store_id,
            Operation.state.in_([OperationState.PENDING.value, OperationState.RUNNING.value]),
        )
    )
    return {m for pair in rows for m in pair if m}


def _upsert_product(session: Session, store: Store, remote: RemoteProduct) -> Product:
    product = session.scalar(
        select(Product).where(Product.store_id == store.id, Product.platform_id == remote.product_id)
    )
    if product is None:
        product = Product(store_id=store.id, platform_id=remote.product_id)
        session.add(product)
    product.title = remote.title
    product.handle = remote.handle
    product.variant_ids = list(remote.variant_ids)
    product.remote_updated_at = remote.updated_at
    product.deleted = False
    product.synced_at = utcnow()
    session.flush()
    return product


class KnownMedia:
    """The connector's own and in-flight media of a store, read once per sync.

    Looked up again only when the sync meets a media id it does not know, so a long sync stays
    linear in the catalog and still recognises media an operation uploaded while it ran.
    """

    def __init__(self, session: Session, store_id: int) -> None:
        self.store_id = store_id
        self.refresh(session)

    def refresh(self, session: Session) -> None:
        """Read the sets again."""
        self.own = own_media_ids(session, self.store_id)
        self.busy = busy_media_ids(session, self.store_id)

    def is_own(self, session: Session, media_id: str, known: bool) -> bool:
        """Whether the connector put this media on the store (re-reading once for unknown ids)."""
        if media_id not in self.own and not known:
            self.refresh(session)
        return media_id in self.own


def mirror_product(session: Session, store: Store, remote: RemoteProduct, media: KnownMedia) -> SyncReport:
    """Bring one product's rows in line with what the store shows; report new image ids."""
    report = SyncReport(products=1)
    product = _upsert_product(session, store, remote)
    by_media = {
        img.platform_media_id: img
        for img in session.scalars(
            select(Image).where(Image.store_id == store.id, Image.product_id == product.id)
        )
    }
    shown: set[str] = set()
    for remote_image in remote.images:
        report.images += 1
        shown.add(remote_image.media_id)
        image = by_media.get(remote_image.media_id)
        own = media.is_own(session, remote_image.media_id, known=image is not None)
        if image is None and own:
            report.own_media_seen += 1
            continue
        if image is None:
            image = Image(
                store_id=store.id,
                product_id=product.id,
                platform_media_id=remote_image.media_id,
                original_media_id=remote_image.media_id,
                origin=Origin.MERCHANT.value,
                status=ImageStatus.NEW.value,
            )
            session.add(image)
            report.new_images += 1
        elif own:
            report.own_media_seen += 1
        image.position = remote_image.position
        image.alt = remote_image.alt
        image.src = remote_image.src
        image.filename = remote_image.filename
        image.variant_ids = list(remote_image.variant_ids)
        if image.status == ImageStatus.GONE.value:
            image.status = ImageStatus.NEW.value
        session.flush()
        if image.status == ImageStatus.NEW.value:
            report.to_process.append(image.id)
    missing = [(m, i) for m, i in by_media.items() if m not in shown and i.status != ImageStatus.GONE.value]
    if missing:
        media.refresh(session)  # an operation may have it off the product for a moment
    for media_id, image in missing:
        if media_id not in media.busy:
            image.status = ImageStatus.GONE.value
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
        media = KnownMedia(s, store_id)
    for remote in remotes:
        fail_point(services.settings, "sync")
        seen_ids.add(remote.product_id)
        with services.session() as s:
            store = get_store(s, store_id)
            _merge(total, mirror_product(s, store, remote, media))
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
    for product in session.scalars(
        select(Product).where(Product.store_id == store_id, Product.deleted.is_(False))
    ):
        if product.platform_id not in seen:
            mark_product_deleted(session, store_id, product.platform_id)


def store_accepts_work(store: Store) -> bool:
    """Whether new work may be queued for a store."""
    return store.active and store.mode != StoreMode.PAUSED.value
