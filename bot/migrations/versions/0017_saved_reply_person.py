"""A saved reply made of a person's message (``/save`` as a reply to the bot's copy of it,
or to their ticket's post) names that person, so that their forget deletes it too.

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
    with op.batch_alter_table("saved_replies") as batch:
        batch.add_column(sa.Column("user_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("saved_replies") as batch:
        batch.drop_column("user_id")
