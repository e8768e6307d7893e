"""The people a staff chat's answer names without being about one ticket of theirs (/open,
/mine, /ban by id), so that their forget deletes it.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_mentions",
        sa.Column("outbox_id", sa.Integer,
                  sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True))
    op.create_index("ix_outbox_mentions_user_id", "outbox_mentions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_mentions_user_id", table_name="outbox_mentions")
    op.drop_table("outbox_mentions")
