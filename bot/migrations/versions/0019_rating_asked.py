"""When the person was asked how their ticket went: asked once per ticket, not again when
it is reopened and closed again.

Tickets closed before this version count as not asked: one reopened and closed again is
asked once more, as it was before.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("rating_asked_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("rating_asked_at")
