"""Turning the core's replies into Telegram messages (HTML parse mode, inline keyboards)."""

from __future__ import annotations

import re

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import MessageLimit, ParseMode

from bot.conversation import Reply

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
# Never cut inside an HTML tag or an entity such as &amp;.
_UNSAFE_CUT = re.compile(r"<[^>]*$|&[#a-zA-Z0-9]*$")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
        for row in reply.buttons
    ])


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters.

    Cuts at a paragraph break, else a line break, else a space, and never
    inside a tag or an HTML entity.
    """
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 2:
                break
        else:
            cut = limit
        unsafe = _UNSAFE_CUT.search(text[:cut])
        if unsafe and unsafe.start() > 0:
            cut = unsafe.start()
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not pieces:
        pieces.append(text)
    return pieces


async def send(bot: Bot, chat_id: int, replies: list[Reply] | tuple[Reply, ...], *,
               reply_to: int | None = None) -> None:
    """Send ``replies`` to ``chat_id``; the buttons go with the last piece of each.

    ``reply_to`` quotes the person's message (used in groups, where several
    people talk at once).
    """
    quote = (ReplyParameters(reply_to, allow_sending_without_reply=True)
             if reply_to is not None else None)
    for reply in replies:
        pieces = split(reply.text)
        for number, piece in enumerate(pieces, start=1):
            markup = keyboard(reply) if number == len(pieces) else None
            await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=markup,
                                   reply_parameters=quote)
            quote = None
