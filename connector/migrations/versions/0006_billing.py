"""billing: subscriptions and usage per published image

Revision ID: 0006
Revises: 0007 (written on 0001; chained after main's 0007 when main was merged into this branch)
Create Date: 2026-12-03 08:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("usage_line_id", sa.String(length=255), nullable=True),
        sa.Column("capped_amount", sa.String(length=32), nullable=True),
        sa.Column("balance_used", sa.String(length=32), nullable=True),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("store_id", "platform_id", name="uq_billing_subscription"),
    )
    op.create_index("ix_billing_subscriptions_store_id", "billing_subscriptions", ["store_id"])
    op.create_table(
        "billing_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("platform_record_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subscription_id"], ["billing_subscriptions.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operation_id"),
    )
    op.create_index("ix_billing_usage_store_id", "billing_usage", ["store_id"])
    op.create_index("ix_billing_usage_period", "billing_usage", ["period"])


def downgrade() -> None:
    op.drop_index("ix_billing_usage_period", table_name="billing_usage")
    op.drop_index("ix_billing_usage_store_id", table_name="billing_usage")
    op.drop_table("billing_usage")
    op.drop_index("ix_billing_subscriptions_store_id", table_name="billing_subscriptions")
    op.drop_table("billing_subscriptions")
