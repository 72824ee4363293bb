"""The database side of a sync's batches: the store's known media, the sharing rule, multi-row inserts.

Rows are inserted with one executemany (``row_insert``; no RETURNING: in parameter order it makes
SQLite insert row by row) and their ids read back with one query per batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    VersionKind,
    utcnow,
)
from connector.port import RemoteImage, RemoteProduct
from connector.row_insert import insert_rows

SHARED = "shared_media"
NEW = ImageStatus.NEW.value
SKIPPED = ImageStatus.SKIPPED.value
GONE = ImageStatus.GONE.value
MERCHANT = Origin.MERCHANT.value


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


class KnownMedia:
    """The connector's own and in-flight media of a store, and the media its slots hold, read once per sync.

    The own and busy sets are read again at most once per batch of products, and only when the
    batch meets a media id they do not know (or an image missing from its product), so a long
    sync stays linear in the catalog and still recognises media an operation uploaded while it
    ran: the store showed the batch's products after such an operation recorded its upload, and
    the batch re-reads after that.  ``slots`` counts the slots naming each media (as original or
    as shown), read at the first batch; the sync adds the slots it inserts, so a media counted
    once is in no other slot and the sharing rule has nothing to decide for it.  Without
    ``count_slots`` (a sync of one product, where reading every slot of the store costs more than
    it saves) every media may be shared.
    """

    def __init__(self, session: Session, store_id: int, count_slots: bool = True) -> None:
        self.store_id = store_id
        self.count_slots = count_slots
        self.slots: Counter[str] | None = None
        self.refresh(session)

    def _read_slots(self, session: Session) -> None:
        """Count the store's slots (at the first batch: a listing that took long is over by then)."""
        self.slots = Counter()
        rows = session.execute(
            select(Image.original_media_id, Image.platform_media_id).where(Image.store_id == self.store_id)
        )
        for original, shown in rows:
            self.count_slot(original, shown)

    def count_slot(self, original: str, shown: str) -> None:
        """Note one more slot holding these media."""
        if self.slots is not None:
            self.slots[original] += 1
            if shown != original:
                self.slots[shown] += 1

    def maybe_shared(self, media_id: str) -> bool:
        """Whether another slot may name this media (one of the slots counted is the asking one)."""
        return self.slots is None or self.slots[media_id] > 1

    def refresh(self, session: Session) -> None:
        """Read the own and busy sets again."""
        self.own = own_media_ids(session, self.store_id)
        self.busy = busy_media_ids(session, self.store_id)
        self.fresh = True

    def new_batch(self, session: Session) -> None:
        """Products read from the store after the last refresh follow: allow one more refresh."""
        self.fresh = False
        if self.count_slots and self.slots is None:
            self._read_slots(session)

    def refresh_once(self, session: Session) -> None:
        """Refresh unless this batch already did."""
        if not self.fresh:
            self.refresh(session)

    def is_own(self, session: Session, media_id: str, known: bool) -> bool:
        """Whether the connector put this media on the store (re-reading once per batch for unknown ids)."""
        if media_id not in self.own and not known:
            self.refresh_once(session)
        return media_id in self.own


def _shared_with(session: Session, image: Image, unseen: Collection[int] = ()) -> Image | None:
    """The slot of another product that owns this slot's (merchant) media, or None when this one may.

    ``unseen``: slots inserted with this one whose rule has not been applied yet (they come later).
    """
    query = select(Image).where(
        Image.store_id == image.store_id,
        Image.product_id != image.product_id,
        Image.status != GONE,
        (Image.failure_code != SHARED) | Image.failure_code.is_(None),
        (Image.original_media_id == image.original_media_id)
        | (Image.platform_media_id == image.original_media_id),
    )
    if unseen:
        query = query.where(Image.id.not_in(list(unseen)))
    return session.scalar(query.order_by(Image.id).limit(1))


def apply_sharing_rule(session: Session, image: Image, unseen: Collection[int] = ()) -> None:
    """Hold back a new slot whose media another product owns; free a held one whose owner left."""
    held = image.failure_code == SHARED
    if image.status not in (NEW, SKIPPED) or (image.status == SKIPPED and not held):
        return
    owner = _shared_with(session, image, unseen)
    if owner is not None and image.status == NEW:
        product = session.get(Product, owner.product_id)
        image.status, image.failure_code = SKIPPED, SHARED
        image.failure_reason = (
            f"product {product.platform_id if product else owner.product_id} shows the same photo; "
            "a shared photo is processed and replaced there only"
        )
    elif owner is None and held:
        image.status, image.failure_code, image.failure_reason = NEW, None, None


def needs_sharing_rule(image: Image, media: KnownMedia) -> bool:
    """Whether the sharing rule may change this existing slot (held, or new with its media elsewhere too)."""
    if image.status == SKIPPED:
        return image.failure_code == SHARED
    return image.status == NEW and media.maybe_shared(image.original_media_id)


def insert_products(session: Session, store: Store, remotes: list[RemoteProduct]) -> dict[str, int]:
    """Insert new products in one executemany; their ids by platform id (read back in one query)."""
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
            "lock_token": 0,
        }
        for r in remotes
    ]
    insert_rows(session.connection(), Product, rows)
    found = session.connection().execute(  # Core: plain rows, no ORM loading
        select(Product.platform_id, Product.id).where(
            Product.store_id == store.id, Product.platform_id.in_([r.product_id for r in remotes])
        )
    )
    return {platform_id: pk for platform_id, pk in found}


class ImageBatch:
    """New image rows of a batch (inserted together) and the order images were met in."""

    def __init__(self, store_id: int, media: KnownMedia) -> None:
        self.store_id = store_id
        self.media = media
        self.rows: list[dict[str, Any]] = []
        self.met: list[Image | int] = []  # an existing image, or the index of a new row
        self.now = utcnow()  # one timestamp for the batch (no default called per row)

    def add(self, product_id: int, remote: RemoteImage) -> None:
        """A slot to insert."""
        self.met.append(len(self.rows))
        self.rows.append(
            {
                "store_id": self.store_id,
                "product_id": product_id,
                "platform_media_id": remote.media_id,
                "original_media_id": remote.media_id,
                "origin": MERCHANT,
                "status": NEW,
                "position": remote.position,
                "alt": remote.alt,
                "src": remote.src,
                "filename": remote.filename,
                "variant_ids": list(remote.variant_ids),
                "updated_at": self.now,
            }
        )

    def flush(self, session: Session) -> list[int]:
        """Insert the new rows; ids of every image met that is new to process, in the order met."""
        new_ids = self._insert(session)
        session.flush()
        held = self._share(session, new_ids)  # new slots whose media another product owns: not queued
        queued: list[int] = []
        for item in self.met:
            if isinstance(item, int) and new_ids[item] not in held:
                queued.append(new_ids[item])
            elif isinstance(item, Image) and item.status == NEW:
                queued.append(item.id)
        return queued

    def _insert(self, session: Session) -> list[int]:
        """Insert the new rows in one executemany; their ids, row for row (read back in one query)."""
        if not self.rows:
            return []
        insert_rows(session.connection(), Image, self.rows)
        for row in self.rows:
            self.media.count_slot(row["original_media_id"], row["platform_media_id"])
        products = list({row["product_id"] for row in self.rows})
        found = session.connection().execute(  # Core: plain rows, no ORM loading
            select(Image.product_id, Image.platform_media_id, Image.id).where(Image.product_id.in_(products))
        )
        ids = {(product_id, media_id): pk for product_id, media_id, pk in found}
        return [ids[(row["product_id"], row["platform_media_id"])] for row in self.rows]

    def _share(self, session: Session, new_ids: list[int]) -> set[int]:
        """The sharing rule on the new slots, in the order met, for media other slots name too; the ids
        of the new slots it held back."""
        shared = {str(row["original_media_id"]) for row in self.rows}
        shared = {m for m in shared if self.media.maybe_shared(m)}
        held: set[int] = set()
        if not shared:
            return held
        slots: dict[str, list[int]] = {}  # the new slots of each shared media
        for pk, row in zip(new_ids, self.rows, strict=True):
            if row["original_media_id"] in shared:
                slots.setdefault(row["original_media_id"], []).append(pk)
        candidates = [pk for ids in slots.values() for pk in ids]
        for image in session.scalars(select(Image).where(Image.id.in_(candidates)).order_by(Image.id)):
            # new slots of the same media after it: their rule comes later (no other one can match)
            unseen = [pk for pk in slots[image.original_media_id] if pk > image.id]
            apply_sharing_rule(session, image, unseen)
            session.flush()
            if image.status != NEW:
                held.add(image.id)
        return held
