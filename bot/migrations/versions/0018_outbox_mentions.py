"""The people a message names without being about one ticket of theirs (/open, /mine,
/ban by id, /stats...), so that their forget deletes it; and outbox ids and ticket
numbers never reused.

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
    # SQLite reuses the id of the last row once it is deleted: a call in flight whose row a
    # forget deleted could then, when Telegram answers, be recorded on a new call that took
    # its id (that call marked sent and never made). AUTOINCREMENT ids are never reused.
    # (The table is rebuilt; PostgreSQL's sequences never reuse an id: nothing to do.)
    # Tickets too: a forgotten ticket's number stays in the staff chat, where a new ticket
    # with the same number would be confused with it; and the suggestions, learned
    # phrasings and out-of-scope questions, whose ids are in the buttons of admins'
    # messages: a button of a deleted one must not act on a new one.
    if op.get_bind().dialect.name == "sqlite":
        for table in ("outbox", "tickets", "faq_suggestions", "learned_phrasings",
                      "out_of_scope_questions"):
            with op.batch_alter_table(table, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": True}):
                pass
    op.create_table(
        "outbox_mentions",
        sa.Column("outbox_id", sa.Integer,
                  sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.BigInteger, primary_key=True))
    op.create_index("ix_outbox_mentions_user_id", "outbox_mentions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_mentions_user_id", table_name="outbox_mentions")
    op.drop_table("outbox_mentions")
