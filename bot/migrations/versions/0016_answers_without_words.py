"""Answers keep no words once sent: the texts, names, buttons and bytes of the answers
(purpose ``reply``) sent or given up before this version are emptied, as the outbox now
does as it makes one (``bot.outbox._lighter``). They may quote a person where a forget
does not look: a group greeted by name, a question quoted in an admin's chat.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_EMPTIED = {"text": "", "caption": "", "name": "", "content": "", "buttons": []}
"""Each field of an intent that holds words or bytes (base64), and what it keeps."""
BATCH = 1000


def upgrade() -> None:
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("payload", sa.JSON),
                      sa.column("purpose", sa.String), sa.column("status", sa.String))
    connection = op.get_bind()
    after = 0
    while True:  # in batches: a year of answers need not fit in memory
        rows = connection.execute(
            sa.select(outbox.c.id, outbox.c.payload)
            .where(outbox.c.id > after, outbox.c.purpose == "reply",
                   outbox.c.status.in_(("sent", "failed")))
            .order_by(outbox.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row_id, payload in rows:
            if isinstance(payload, dict):
                emptied = {key: _EMPTIED.get(key, value) for key, value in payload.items()}
                if emptied != payload:
                    connection.execute(sa.update(outbox).where(outbox.c.id == row_id)
                                       .values(payload=emptied))
        after = rows[-1][0]


def downgrade() -> None:
    """Nothing to restore: the words are gone."""
