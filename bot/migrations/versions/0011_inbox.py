"""The inbox: updates stored before Telegram is told they arrived (it also keeps the
ids of handled updates, which ``processed_updates`` kept before).

Revision ID: 0011
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("payload", sa.JSON()),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_inbox_pending", "inbox", ["handled_at", "update_id"])
    op.drop_table("processed_updates")


def downgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.drop_index("ix_inbox_pending", table_name="inbox")
    op.drop_table("inbox")
