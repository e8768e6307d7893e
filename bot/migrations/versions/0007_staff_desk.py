"""The staff desk: notes, FAQ answers, satisfaction, edits, saved replies, who the staff
are by @username, and where the staff chat moved.

Revision ID: 0007
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_drafts") as batch:
        batch.add_column(sa.Column("message_id", sa.BigInteger()))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("entry_id", sa.String(64)))
        batch.add_column(sa.Column("question_edited_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("rating", sa.SmallInteger()))
        batch.add_column(sa.Column("rating_comment", sa.Text()))
        batch.add_column(sa.Column("rated_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("comment_wanted_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("ticket_messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(16)))
        batch.add_column(sa.Column("file_id", sa.String(256)))
        batch.add_column(sa.Column("relay_id", sa.Integer()))
        batch.add_column(sa.Column("edited_at", sa.DateTime(timezone=True)))
    op.create_index("ix_ticket_messages_source", "ticket_messages", ["chat_id", "message_id"])
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "staff_members",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("username", sa.String(64), index=True),
        sa.Column("name", sa.Text()),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "staff_chat_moves",
        sa.Column("old_chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("new_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_chat_moves")
    op.drop_table("staff_members")
    op.drop_table("saved_replies")
    op.drop_index("ix_ticket_messages_source", "ticket_messages")
    with op.batch_alter_table("ticket_messages") as batch:
        for column in ("edited_at", "relay_id", "file_id", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("ticket_drafts") as batch:
        batch.drop_column("message_id")
    with op.batch_alter_table("tickets") as batch:
        for column in ("comment_wanted_at", "rated_at", "rating_comment", "rating",
                       "question_edited_at", "entry_id"):
            batch.drop_column(column)
