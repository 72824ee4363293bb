"""compute seconds of each pipeline result (cost per image)

Revision ID: 0007
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("image_versions") as batch:
        batch.add_column(sa.Column("compute_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("image_versions") as batch:
        batch.drop_column("compute_seconds")
