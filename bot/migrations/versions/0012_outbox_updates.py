"""Outbox calls remember the update whose handling queued them, so that handling an
update again after a crash queues nothing twice.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("update_id", sa.BigInteger()))
        batch.add_column(sa.Column("update_seq", sa.Integer()))
    op.create_index("ux_outbox_update", "outbox", ["update_id", "update_seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_outbox_update", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("update_seq")
        batch.drop_column("update_id")
