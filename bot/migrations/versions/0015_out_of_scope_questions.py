"""Out-of-scope questions: what the staff handled without a FAQ entry, kept as
nearest-neighbour evidence for the decision beside the learned phrasings.

``ticket_id`` is a plain column, not a foreign key: the row is the person's (``user_id``,
deleted by a forget like the rest of their rows), and it outlives nothing it points at
that matters (an admin linking the ticket's answer to an entry deletes it).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "out_of_scope_questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("ticket_id", sa.Integer()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_out_of_scope_questions_user", "out_of_scope_questions", ["user_id"])
    op.create_index("ix_out_of_scope_questions_ticket", "out_of_scope_questions",
                    ["ticket_id"])


def downgrade() -> None:
    op.drop_table("out_of_scope_questions")
