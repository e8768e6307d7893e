"""Registry: sample and removed organisations, a change log, a persisted search index.

``sample`` marks the bundled demo rows (the first real import removes them);
``removed_at`` marks organisations a ``registry import --replace`` or
``registry remove`` took out (kept, no longer found; a re-import restores
them). ``registry_changes`` lists each NIPT an import or removal touched, so the
running bot updates its index with only those; ``registry_index`` holds the
last saved index and the change it includes, so a restart does not rebuild it.

Revision ID: 0006
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("sample", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("removed_at", sa.DateTime(timezone=True)))
    op.create_table(
        "registry_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("nipt", sa.String(10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "registry_index",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("registry_index")
    op.drop_table("registry_changes")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("sample")
