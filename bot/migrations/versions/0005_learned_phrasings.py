"""Learned phrasings: questions people taught the bot for FAQ entries, and their votes.

Revision ID: 0005
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_phrasings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_learned_phrasings_entry", "learned_phrasings", ["entry_id"])
    op.create_table(
        "learned_votes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("phrasing_id", sa.Integer(),
                  sa.ForeignKey("learned_phrasings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_learned_votes_phrasing", "learned_votes", ["phrasing_id"])
    op.create_index("ix_learned_votes_user", "learned_votes", ["user_id"])


def downgrade() -> None:
    op.drop_table("learned_votes")
    op.drop_table("learned_phrasings")
