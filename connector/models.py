"""Database models (SQLAlchemy 2).  The schema itself is owned by the Alembic migrations.

The history model: an :class:`Image` is one slot on a product (the merchant's photo).  Every
state that slot's bytes have been in is an :class:`ImageVersion`: the original (backed up before
anything changes), each result of the pipeline, each rollback.  An :class:`Operation` is a
recorded, resumable multi-step change on the store (replace or rollback) with its steps.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored naive-UTC on SQLite, aware on Postgres)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a JSON type that works on SQLite and Postgres."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class StoreMode(enum.StrEnum):
    """What happens to a result that passes QA."""

    AUTO = "auto"  # publish to the store
    REVIEW = "review"  # hold for an operator's approval
    PAUSED = "paused"  # no work at all


class ImageStatus(enum.StrEnum):
    """Where one image slot stands in the workflow."""

    NEW = "new"
    QUEUED = "queued"
    PROCESSING = "processing"
    REVIEW = "review"  # a result waits for approval
    APPROVED = "approved"  # approved, publish queued
    PUBLISHED = "published"  # the store shows our result
    SKIPPED = "skipped"  # nothing to do (already clean)
    FAILED = "failed"  # refused or QA failed; the original stays
    ROLLED_BACK = "rolled_back"  # the store shows the original again
    GONE = "gone"  # deleted on the store


class Origin(enum.StrEnum):
    """Who put an image's bytes on the store."""

    MERCHANT = "merchant"
    CONNECTOR = "connector"


class VersionKind(enum.StrEnum):
    ORIGINAL = "original"
    RESULT = "result"
    ROLLBACK = "rollback"


class VersionState(enum.StrEnum):
    DRAFT = "draft"  # made, not on the store
    REVIEW = "review"
    APPROVED = "approved"
    PUBLISHED = "published"
    REJECTED = "rejected"
    STALE = "stale"  # the merchant changed the image after this was made
    SUPERSEDED = "superseded"  # replaced by a later version on the store


class OperationKind(enum.StrEnum):
    REPLACE = "replace"
    ROLLBACK = "rollback"


class OperationState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    domain: Mapped[str] = mapped_column(String(255))
    credentials_encrypted: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(16), default=StoreMode.REVIEW.value)
    preset: Mapped[str] = mapped_column(String(64), default="clean-white")
    model: Mapped[str] = mapped_column(String(64), default="u2netp")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # pipeline overrides, QA thresholds
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (UniqueConstraint("platform", "domain", name="uq_store_platform_domain"),)

    products: Mapped[list[Product]] = relationship(back_populates="store", cascade="all, delete-orphan")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    handle: Mapped[str | None] = mapped_column(String(255), nullable=True)
    variant_ids: Mapped[list[Any]] = mapped_column(default=list)
    remote_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_token: Mapped[int] = mapped_column(Integer, default=0)  # fencing token of the product lock
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("store_id", "platform_id", name="uq_product_store_platform_id"),)

    store: Mapped[Store] = relationship(back_populates="products")
    images: Mapped[list[Image]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="Image.position"
    )


class Image(Base):
    """One image slot of a product, keyed by the media id the store shows in it now.

    ``position`` is the slot's place in the product's gallery, or ``VARIANTS_ONLY`` (-1) for a photo
    only variants show.  A media several products show is processed in one of them (the first
    synced); its slots in the others are SKIPPED with ``failure_code`` ``shared_media``.
    """

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    platform_media_id: Mapped[str] = mapped_column(String(255))  # what the store shows in this slot now
    original_media_id: Mapped[str] = mapped_column(String(255))  # the merchant's media, kept in the library
    position: Mapped[int] = mapped_column(Integer, default=0)
    alt: Mapped[str | None] = mapped_column(Text, nullable=True)
    src: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    variant_ids: Mapped[list[Any]] = mapped_column(default=list)
    content_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True
    )  # sha256 of the bytes shown now
    origin: Mapped[str] = mapped_column(String(16), default=Origin.MERCHANT.value)
    status: Mapped[str] = mapped_column(String(16), default=ImageStatus.NEW.value, index=True)
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    original_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    current_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    # one media may be shown by several products (WooCommerce's "Duplicate", Shopify's shared files)
    __table_args__ = (
        UniqueConstraint("product_id", "platform_media_id", name="uq_image_product_media"),
        Index("ix_images_store_media", "store_id", "platform_media_id"),
    )

    product: Mapped[Product] = relationship(back_populates="images")
    versions: Mapped[list[ImageVersion]] = relationship(
        back_populates="image", cascade="all, delete-orphan", order_by="ImageVersion.id"
    )


class ImageVersion(Base):
    """One state of an image slot's bytes: original, a result, or a rollback — the history."""

    __tablename__ = "image_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=VersionState.DRAFT.value)
    blob_hash: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str] = mapped_column(String(64), default="application/octet-stream")
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    platform_media_id: Mapped[str | None] = mapped_column(
        String(255), nullable=True
    )  # store media with these bytes
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True
    )  # hash of the input it was made from
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    actor: Mapped[str] = mapped_column(String(128), default="system")
    why: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    compute_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)  # pipeline time (cost)

    image: Mapped[Image] = relationship(back_populates="versions")


class Run(Base):
    """One batch of work an operator or a webhook started: sync, reprocess, rollback."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(128), default="system")
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Job(Base):
    """A queued unit of work, mirrored from rq so the dashboard can show and retry it."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # the rq job id (idempotency key)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class WebhookEventRecord(Base):
    """A verified webhook delivery; the unique key makes a replay a no-op."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    shop: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    outcome: Mapped[str] = mapped_column(String(64), default="received")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("platform", "shop", "event_id", name="uq_webhook_event"),)


class Operation(Base):
    """A recorded, resumable change on the store (replace or rollback of one image slot)."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("image_versions.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=OperationState.PENDING.value, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    old_media_id: Mapped[str] = mapped_column(String(255))  # the media leaving the slot
    new_media_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # the media entering it
    position: Mapped[int] = mapped_column(Integer, default=0)
    alt: Mapped[str | None] = mapped_column(Text, nullable=True)
    variant_ids: Mapped[list[Any]] = mapped_column(default=list)
    uploads: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    steps: Mapped[list[OperationStep]] = relationship(
        back_populates="operation", cascade="all, delete-orphan", order_by="OperationStep.id"
    )


class OperationStep(Base):
    """One step of an operation, written before it runs (started) and after (done/failed)."""

    __tablename__ = "operation_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="started")
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    operation: Mapped[Operation] = relationship(back_populates="steps")


class QaDecision(Base):
    """A person's approve or reject of a result, kept with the scores the gates saw (to learn from)."""

    __tablename__ = "qa_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("image_versions.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))  # "approve" or "reject"
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the gates' verdict then
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    model: Mapped[str] = mapped_column(String(64), default="")
    actor: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
