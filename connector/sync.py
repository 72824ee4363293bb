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

from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from connector.faults import fail_point
from connector.models import (
    Image,
    ImageStatus,
    ImageVersion,
    Operation,
    OperationKind,
    OperationState,
    Origin,
    Product,
    Store,
    StoreMode,
    VersionKind,
    utcnow,
)
from connector.port import RemoteImage, RemoteProduct
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
    """Every media id of a result the connector uploaded to this store.

    A rollback's media is the merchant's photo again (their attachment, or their bytes uploaded
    anew): a product that shows it later is the merchant's to have processed.
    """
    from_ops = session.scalars(
        select(Operation.new_media_id).where(
            Operation.store_id == store_id,
            Operation.kind == OperationKind.REPLACE.value,
            Operation.new_media_id.is_not(None),
        )
    )
    from_versions = session.scalars(
        select(ImageVersion.platform_media_id)
        .join(Image, Image.id == ImageVersion.image_id)
        .where(
            Image.store_id == store_id,
            ImageVersion.kind == VersionKind.RESULT.value,
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


#: Products mirrored per database transaction (their rows are read with one query per batch).
SYNC_BATCH = 250


def _update_product(product: Product, remote: RemoteProduct) -> None:
    product.title = remote.title
    product.handle = remote.handle
    product.variant_ids = list(remote.variant_ids)
    product.remote_updated_at = remote.updated_at
    product.deleted = False
    product.synced_at = utcnow()


def _insert_products(session: Session, store: Store, remotes: list[RemoteProduct]) -> dict[str, int]:
    """Insert new products in one multi-row statement; their ids by platform id."""
    if not remotes:
        return {}
    now = utcnow()
    rows = [
        {
            "store_id": store.id,
            "platform_id": r.product_id,
            "title": r.title,
            "handle": r.handle,
            "variant_ids": list(r.variant_ids),
            "remote_updated_at": r.updated_at,
            "deleted": False,
            "synced_at": now,
        }
        for r in remotes
    ]
    statement = insert(Product).returning(Product.id, Product.platform_id, sort_by_parameter_order=True)
    return {platform_id: pk for pk, platform_id in session.execute(statement, rows)}


class KnownMedia:
    """The connector's own and in-flight media of a store, read once per sync.

    Read again at most once per batch of products, and only when the batch meets a media id it
    does not know (or an image missing from its product), so a long sync stays linear in the
    catalog and still recognises media an operation uploaded while it ran: the store showed the
    batch's products after such an operation recorded its upload, and the batch re-reads after
    that.
    """

    def __init__(self, session: Session, store_id: int) -> None:
        self.store_id = store_id
        self.refresh(session)

    def refresh(self, session: Session) -> None:
        """Read the sets again."""
        self.own = own_media_ids(session, self.store_id)
        self.busy = busy_media_ids(session, self.store_id)
        self.fresh = True

    def new_batch(self) -> None:
        """Products read from the store after the last refresh follow: allow one more refresh."""
        self.fresh = False

    def refresh_once(self, session: Session) -> None:
        """Refresh unless this batch already did."""
        if not self.fresh:
            self.refresh(session)

    def is_own(self, session: Session, media_id: str, known: bool) -> bool:
        """Whether the connector put this media on the store (re-reading once per batch for unknown ids)."""
        if media_id not in self.own and not known:
            self.refresh_once(session)
        return media_id in self.own


SHARED = "shared_media"


def _shared_with(session: Session, image: Image, unseen: Collection[int] = ()) -> Image | None:
    """The slot of another product that owns this slot's (merchant) media, or None when this one may.

    ``unseen``: slots inserted with this one whose rule has not been applied yet (they come later).
    """
    query = select(Image).where(
        Image.store_id == image.store_id,
        Image.product_id != image.product_id,
        Image.status != ImageStatus.GONE.value,
        (Image.failure_code != SHARED) | Image.failure_code.is_(None),
        (Image.original_media_id == image.original_media_id)
        | (Image.platform_media_id == image.original_media_id),
    )
    if unseen:
        query = query.where(Image.id.not_in(list(unseen)))
    return session.scalar(query.order_by(Image.id).limit(1))


def _apply_sharing_rule(session: Session, image: Image, unseen: Collection[int] = ()) -> None:
    """Hold back a new slot whose media another product owns; free a held one whose owner left."""
    held = image.failure_code == SHARED
    if image.status not in (ImageStatus.NEW.value, ImageStatus.SKIPPED.value) or (
        image.status == ImageStatus.SKIPPED.value and not held
    ):
        return
    owner = _shared_with(session, image, unseen)
    if owner is not None and image.status == ImageStatus.NEW.value:
        product = session.get(Product, owner.product_id)
        image.status, image.failure_code = ImageStatus.SKIPPED.value, SHARED
        image.failure_reason = (
            f"product {product.platform_id if product else owner.product_id} shows the same photo; "
            "a shared photo is processed and replaced there only"
        )
    elif owner is None and held:
        image.status, image.failure_code, image.failure_reason = ImageStatus.NEW.value, None, None


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
    media.new_batch()
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
    ids = {p.platform_id: p.id for p in products.values()} | _insert_products(session, store, fresh)
    report = SyncReport()
    batch = _ImageBatch(store.id)
    for remote in remotes:
        product_id = ids[remote.product_id]
        _merge(report, _mirror_images(session, remote, product_id, images.get(product_id, {}), media, batch))
    report.to_process.extend(batch.flush(session))
    return report


class _ImageBatch:
    """New image rows of a batch (inserted together) and the order images were met in."""

    def __init__(self, store_id: int) -> None:
        self.store_id = store_id
        self.rows: list[dict[str, object]] = []
        self.met: list[Image | int] = []  # an existing image, or the index of a new row

    def add(self, product_id: int, remote: RemoteImage) -> None:
        self.met.append(len(self.rows))
        self.rows.append(
            {
                "store_id": self.store_id,
                "product_id": product_id,
                "platform_media_id": remote.media_id,
                "original_media_id": remote.media_id,
                "origin": Origin.MERCHANT.value,
                "status": ImageStatus.NEW.value,
                "position": remote.position,
                "alt": remote.alt,
                "src": remote.src,
                "filename": remote.filename,
                "variant_ids": list(remote.variant_ids),
            }
        )

    def flush(self, session: Session) -> list[int]:
        """Insert the new rows; ids of every image met that is new to process, in the order met."""
        new_ids: list[int] = []
        if self.rows:
            statement = insert(Image).returning(Image.id, sort_by_parameter_order=True)
            new_ids = list(session.scalars(statement, self.rows))
        session.flush()
        held = self._share(session, new_ids)  # new slots whose media another product owns: not queued
        queued: list[int] = []
        for item in self.met:
            if isinstance(item, int) and new_ids[item] not in held:
                queued.append(new_ids[item])
            elif isinstance(item, Image) and item.status == ImageStatus.NEW.value:
                queued.append(item.id)
        return queued

    def _share(self, session: Session, new_ids: list[int]) -> set[int]:
        """The sharing rule on the new slots, in the order met, for media shown elsewhere too; the ids
        of the new slots it held back."""
        media_ids = [str(row["platform_media_id"]) for row in self.rows]
        shared = {m for m, n in Counter(media_ids).items() if n > 1}
        rows = session.execute(
            select(Image.original_media_id, Image.platform_media_id).where(
                Image.store_id == self.store_id,
                Image.original_media_id.in_(media_ids) | Image.platform_media_id.in_(media_ids),
                Image.id.not_in(new_ids),
            )
        )
        wanted = set(media_ids)
        shared.update(m for row in rows for m in row if m in wanted)
        held: set[int] = set()
        if not shared:
            return held
        unseen = set(new_ids)
        for image in session.scalars(select(Image).where(Image.id.in_(new_ids)).order_by(Image.id)):
            unseen.discard(image.id)
            if image.original_media_id in shared:
                _apply_sharing_rule(session, image, unseen)
                session.flush()
                if image.status != ImageStatus.NEW.value:
                    held.add(image.id)
        return held


def _mirror_images(
    session: Session,
    remote: RemoteProduct,
    product_id: int,
    by_media: dict[str | None, Image],
    media: KnownMedia,
    batch: _ImageBatch,
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
        if image.status == ImageStatus.GONE.value:  # shown again: ours again, or the merchant's to process
            ours = image.origin == Origin.CONNECTOR.value
            image.status = ImageStatus.PUBLISHED.value if ours else ImageStatus.NEW.value
        if image.status in (ImageStatus.NEW.value, ImageStatus.SKIPPED.value):
            session.flush()
            _apply_sharing_rule(session, image)
        batch.met.append(image)
    missing = [(m, i) for m, i in by_media.items() if m not in shown and i.status != ImageStatus.GONE.value]
    if missing:
        media.refresh_once(session)  # an operation may have it off the product for a moment
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
    for product in session.scalars(
        select(Product).where(Product.store_id == store_id, Product.deleted.is_(False))
    ):
        if product.platform_id not in seen:
            mark_product_deleted(session, store_id, product.platform_id)


def store_accepts_work(store: Store) -> bool:
    """Whether new work may be queued for a store."""
    return accepts_work(store.active, store.mode)


def accepts_work(active: bool, mode: str) -> bool:
    """Whether new work may be queued for a store that is ``active`` (or not) in ``mode``."""
    return active and mode != StoreMode.PAUSED.value
