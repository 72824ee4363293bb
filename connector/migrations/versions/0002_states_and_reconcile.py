"""states and reconcile: jobs remember what to run, decisions are ordered, webhooks are done after acting

Revision ID: 0002
Revises: 0005
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("func", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("args", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("timeout", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("error_class", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=32))
    with op.batch_alter_table("image_versions") as batch:
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("webhook_events") as batch:
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="done"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_webhook_events_state", ["state"])
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("reconciliations")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_index("ix_webhook_events_state")
        batch.drop_column("handled_at")
        batch.drop_column("attempts")
        batch.drop_column("state")
    with op.batch_alter_table("image_versions") as batch:
        batch.drop_column("decided_at")
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("status", existing_type=sa.String(length=32), type_=sa.String(length=16))
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("finished_at")
        batch.drop_column("retry_at")
        batch.drop_column("error_class")
        batch.drop_column("timeout")
        batch.drop_column("args")
        batch.drop_column("func")
