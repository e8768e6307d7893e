"""The staff desk under load: a ticket keyed by the update that opened it, and follow-ups
that wait to be posted together (found by their empty relay).

Revision ID: 0014
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("update_id", sa.BigInteger()))
    op.create_index("ix_tickets_update", "tickets", ["update_id"], unique=True)
    op.create_index("ix_ticket_messages_relay", "ticket_messages", ["relay_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_messages_relay", table_name="ticket_messages")
    op.drop_index("ix_tickets_update", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("update_id")
