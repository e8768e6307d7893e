"""The question log: each question the bot decided, what became of it, and the feedback.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(64)),
        sa.Column("score", sa.Float()),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("feedback", sa.SmallInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_question_log_created", "question_log", ["created_at"])
    op.create_index("ix_question_log_user", "question_log", ["user_id", "id"])


def downgrade() -> None:
    op.drop_table("question_log")
