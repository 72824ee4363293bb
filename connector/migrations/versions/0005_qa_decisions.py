"""qa decisions: every approve and reject with the scores the gates saw

Revision ID: 0005
Revises: 0003 (re-chained after merging main: 0001 -> 0007 -> 0006 -> 0003 -> 0005)
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["image_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("qa_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_decisions_store_id"), ["store_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("qa_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_decisions_store_id"))
    op.drop_table("qa_decisions")
