"""What a Telegram message holds: its kind (text, photo, voice...) and the file's id.

Media are kept by Telegram's file id and passed on by copying the message;
the bot never downloads them to relay them.
"""

from __future__ import annotations

from telegram import Message

# Attributes of a message that hold content, the first one set naming its kind.
KINDS = ("photo", "document", "voice", "video", "audio", "video_note", "sticker",
         "animation", "location", "contact")


def content(message: Message) -> tuple[str, str | None]:
    """``("text", None)``, ``("photo", file_id)``, ... or ``("other", None)``."""
    if message.text is not None:
        return "text", None
    for kind in KINDS:
        value = getattr(message, kind)
        if value:
            item = value[-1] if isinstance(value, tuple) else value  # photos: the largest size
            return kind, getattr(item, "file_id", None)
    return "other", None
