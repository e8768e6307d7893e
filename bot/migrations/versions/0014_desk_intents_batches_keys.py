"""The staff desk under load: the outbox holds intents, a ticket is keyed by the update
that opened it, and follow-ups wait to be posted together.

The outbox used to hold Bot API calls (``method``: sendMessage, copyMessage...; Bot API
parameters); it now holds what the bot wants to happen (``method``: say, post_ticket,
note, deliver...; typed payloads, see bot/intents.py). Every row is converted, pending
ones so that they are sent as before, sent ones so that a forget still finds the copies
of a person's messages. A ticket's ``update_id`` is the update that opened it; a
person's follow-up with no relay yet waits for its batch post (found by that index).

Revision ID: 0014
Revises: 0007
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0007"
branch_labels = None
depends_on = None


def _intent(method: str, purpose: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The intent of an old row's Bot API call (this migration's own copy of the rules)."""
    p = params
    buttons = p.get("buttons") or []
    if method == "sendMessage":
        if purpose == "delivery":
            return "deliver", {"text": p["text"], "from_chat": None, "message_id": None,
                               "caption": None, "buttons": buttons}
        if p.get("reply_to_ticket"):
            return "note", {"text": p["text"]}
        if p.get("in_ticket_topic"):
            return "post_ticket", {"text": p["text"], "buttons": buttons}
        return "say", {"text": p["text"], "buttons": buttons,
                       "reply_to": p.get("reply_to_message_id"),
                       "thread": p.get("message_thread_id")}
    if method == "copyMessage":
        if p.get("reply_to_ticket"):
            return "relay", {"from_chat": p["from_chat_id"], "message_id": p["message_id"]}
        return "deliver", {"text": None, "from_chat": p["from_chat_id"],
                           "message_id": p["message_id"], "caption": p.get("caption"),
                           "buttons": buttons}
    if method == "editMessageText":
        if p.get("ticket_message"):
            return "update_ticket", {"text": p["text"], "buttons": buttons}
        return "edit", {"text": p["text"], "buttons": buttons,
                        "message_id": p.get("message_id"), "copy_of": p.get("copy_of")}
    if method == "editMessageCaption":
        return "edit_caption", {"caption": p["caption"], "copy_of": p.get("copy_of")}
    if method == "editMessageReplyMarkup":
        return "edit_buttons", {"message_id": p["message_id"], "buttons": buttons}
    if method == "deleteMessage":
        return "delete", {"message_id": p["message_id"]}
    if method == "editForumTopic":
        return "rename_topic", {"thread": p["message_thread_id"], "name": p["name"]}
    if method == "createForumTopic":
        return "open_topic", {"name": p["name"]}
    return method, params  # unknown: the sender gives it up, as it did


def _convert(to_intents: bool) -> None:
    outbox = sa.table("outbox", sa.column("id", sa.Integer), sa.column("method", sa.String),
                      sa.column("purpose", sa.String), sa.column("payload", sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(outbox.c.id, outbox.c.method, outbox.c.purpose,
                                        outbox.c.payload)).all()
    for row_id, method, purpose, payload in rows:
        if to_intents:
            kind, converted = _intent(method, purpose or "", dict(payload or {}))
        else:
            kind, converted = _call(method, dict(payload or {}))
        connection.execute(sa.update(outbox).where(outbox.c.id == row_id)
                           .values(method=kind, payload=converted))


def _call(kind: str, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Back to a Bot API call (for a downgrade)."""
    html = {"parse_mode": "HTML"}
    if kind == "say":
        params = {"text": p["text"], "buttons": p.get("buttons") or [], **html}
        if p.get("reply_to") is not None:
            params["reply_to_message_id"] = p["reply_to"]
        if p.get("thread") is not None:
            params["message_thread_id"] = p["thread"]
        return "sendMessage", params
    if kind == "post_ticket":
        return "sendMessage", {"text": p["text"], "buttons": p.get("buttons") or [],
                               "in_ticket_topic": True, **html}
    if kind == "note":
        return "sendMessage", {"text": p["text"], "reply_to_ticket": True,
                               "in_ticket_topic": True, **html}
    if kind == "relay":
        return "copyMessage", {"from_chat_id": p["from_chat"], "message_id": p["message_id"],
                               "reply_to_ticket": True, "in_ticket_topic": True}
    if kind == "deliver" and p.get("text") is not None:
        return "sendMessage", {"text": p["text"], "buttons": p.get("buttons") or [], **html}
    if kind == "deliver":
        params = {"from_chat_id": p["from_chat"], "message_id": p["message_id"],
                  "buttons": p.get("buttons") or []}
        if p.get("caption") is not None:
            params.update(caption=p["caption"], **html)
        return "copyMessage", params
    if kind == "update_ticket":
        return "editMessageText", {"text": p["text"], "buttons": p.get("buttons") or [],
                                   "ticket_message": True, **html}
    if kind == "edit":
        params = {"text": p["text"], "buttons": p.get("buttons") or [], **html}
        if p.get("copy_of") is not None:
            params["copy_of"] = p["copy_of"]
        else:
            params["message_id"] = p.get("message_id")
        return "editMessageText", params
    if kind == "edit_caption":
        return "editMessageCaption", {"caption": p["caption"], "copy_of": p["copy_of"], **html}
    if kind == "edit_buttons":
        return "editMessageReplyMarkup", {"message_id": p["message_id"],
                                          "buttons": p.get("buttons") or []}
    if kind == "delete":
        return "deleteMessage", {"message_id": p["message_id"]}
    if kind == "rename_topic":
        return "editForumTopic", {"message_thread_id": p["thread"], "name": p["name"]}
    if kind == "open_topic":
        return "createForumTopic", {"name": p["name"]}
    return kind, p


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("update_id", sa.BigInteger()))
    op.create_index("ix_tickets_update", "tickets", ["update_id"], unique=True)
    op.create_index("ix_ticket_messages_relay", "ticket_messages", ["relay_id"])
    _convert(to_intents=True)


def downgrade() -> None:
    _convert(to_intents=False)
    op.drop_index("ix_ticket_messages_relay", table_name="ticket_messages")
    op.drop_index("ix_tickets_update", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("update_id")
