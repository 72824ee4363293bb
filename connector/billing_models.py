"""Billing records: a store's subscriptions to the plan, and one usage row per published image.

The schema is owned by migration 0006.  A usage row is written once per publish operation
(the unique ``operation_id``), so a retried job never charges twice; ``state`` says whether it
was free (within the allowance of a store without a plan), charged, or waits to be charged.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from connector.models import Base, utcnow


class UsageState(enum.StrEnum):
    FREE = "free"  # within the free allowance: nothing charged
    PENDING = "pending"  # to be charged (the platform call failed or has not run yet)
    CHARGED = "charged"  # a usage record exists on the platform


class BillingSubscription(Base):
    """A subscription the store was offered or holds, mirrored from the platform."""

    __tablename__ = "billing_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(32), default="PENDING")
    usage_line_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    capped_amount: Mapped[str | None] = mapped_column(String(32), nullable=True)
    balance_used: Mapped[str | None] = mapped_column(String(32), nullable=True)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("store_id", "platform_id", name="uq_billing_subscription"),)


class BillingUsage(Base):
    """One published image, free or charged."""

    __tablename__ = "billing_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    operation_id: Mapped[int] = mapped_column(Integer, unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # calendar month, YYYY-MM (UTC)
    state: Mapped[str] = mapped_column(String(16), default=UsageState.FREE.value)
    amount: Mapped[str] = mapped_column(String(32), default="0")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_subscriptions.id", ondelete="SET NULL"), nullable=True
    )
    platform_record_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
