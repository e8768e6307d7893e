"""Updates that stop the bot are set aside: the inbox counts the handlings begun after a
restart that never ended, and marks an update set aside (see ``bot.inbox``).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("unfinished", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("set_aside_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    """An update set aside is handled again, as it was before this version."""
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("set_aside_at")
        batch.drop_column("unfinished")
