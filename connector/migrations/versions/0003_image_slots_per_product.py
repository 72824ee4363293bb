"""image slots per product: one media may be shown by several products

Revision ID: 0003
Revises: 0006
Create Date: 2026-12-03 08:00:00

An image slot is (product, media): WooCommerce's "Duplicate" (and Shopify's shared files) let
several products show one attachment, so media ids are unique per product, not per store.
"""

from alembic import op


revision = "0003"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_constraint("uq_image_store_media", type_="unique")
        batch_op.create_unique_constraint("uq_image_product_media", ["product_id", "platform_media_id"])
        batch_op.create_index("ix_images_store_media", ["store_id", "platform_media_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_store_media")
        batch_op.drop_constraint("uq_image_product_media", type_="unique")
        batch_op.create_unique_constraint("uq_image_store_media", ["store_id", "platform_media_id"])
