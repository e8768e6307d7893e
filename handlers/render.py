"""Turning the core's replies into Telegram messages (HTML parse mode, inline keyboards),
queued in the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import CallbackQuery, Message
from telegram.error import TelegramError

from bot.choices import buttons_to_json
from bot.conversation import Reply
from bot.inbox import reply_key
from bot.intents import Edit, EditButtons, Intent, JsonButtons, Say
from bot.limits import MAX_NOTICE, split
from bot.outbox import REPLY, Call
from handlers.context import BotContext
from handlers.outbox import Sender

log = logging.getLogger(__name__)

async def acknowledge(query: CallbackQuery, notice: str | None = None) -> None:
    """Answer a button press (with ``notice``, cut to Telegram's limit). Call it after
    the press's work is done and queued: Telegram refuses to acknowledge a press that
    is too old (one stored before a restart and handled after it) or the network may
    fail, and the spinner stops by itself; what the press did must not depend on it."""
    try:
        await query.answer(notice[:MAX_NOTICE] if notice else None)
    except TelegramError as exc:
        log.warning("could not acknowledge a button: %s", exc)


def without_buttons(message: Message | None) -> tuple[int, None] | None:
    """The ``edit`` of :func:`send` that takes the buttons off ``message`` (a pressed
    button's message), if it has any."""
    if message is None or message.reply_markup is None:
        return None
    return message.message_id, None


Edited = Reply | JsonButtons | None
"""What an edit makes of one of the bot's messages: new content, the buttons that stay
(as Telegram holds them: label and callback data), or None to take its buttons away."""


def intents(replies: list[Reply] | tuple[Reply, ...], *, reply_to: int | None = None,
            edit: tuple[int, Edited] | None = None, thread: int | None = None
            ) -> list[tuple[Intent, frozenset[int]]]:
    """``replies`` as the calls that send them (see :func:`send`), each with whom it names
    (its reply's :attr:`Reply.naming`)."""
    calls: list[tuple[Intent, frozenset[int]]] = []
    if edit is not None:
        message_id, content = edit
        if not isinstance(content, Reply):
            calls.append((EditButtons(message_id, content or []), frozenset()))
        else:
            calls.append((Edit(split(content.text)[0], buttons_to_json(content.buttons),
                               message_id=message_id), content.naming))
    for reply in replies:
        pieces = split(reply.text)
        for number, piece in enumerate(pieces, start=1):
            last = number == len(pieces)
            calls.append((Say(piece, buttons_to_json(reply.buttons) if last else [],
                              reply_to=reply_to if not calls else None, thread=thread),
                          reply.naming))
    return calls


async def send(context: BotContext, chat_id: int,
               replies: list[Reply] | tuple[Reply, ...], *, reply_to: int | None = None,
               purpose: str = REPLY, edit: tuple[int, Edited] | None = None,
               thread: int | None = None, then: tuple[Intent, ...] = (),
               ticket: int | None = None) -> None:
    """Queue ``replies`` to ``chat_id`` in the outbox; the buttons go with the last piece
    of each, and ``then`` (files, pictures) after them, all in one transaction. The sender
    delivers them, retrying what Telegram does not take at once.

    ``reply_to`` quotes the person's message (used in groups, where several
    people talk at once), ``thread`` writes in a forum topic. ``edit`` (message id,
    :data:`Edited`) changes one of the bot's messages first,
    in the same queue. ``ticket``: the ticket whose person the replies are about.
    """
    calls = intents(replies, reply_to=reply_to, edit=edit, thread=thread) + [
        (extra, frozenset()) for extra in then]
    if not calls:
        return
    postman = context.bot_data.sender
    _hand(postman, await asyncio.to_thread(
        postman.outbox.queue_replies, chat_id, [call for call, _ in calls],
        update_key=reply_key(), purpose=purpose, ticket_id=ticket,
        naming=[named for _, named in calls]))


async def answer(context: BotContext, chat_id: int,
                 work: Callable[[], list[Reply]], *, reply_to: int | None = None,
                 purpose: str = REPLY, edit: tuple[int, Edited] | None = None,
                 thread: int | None = None, ticket: int | None = None) -> None:
    """Run ``work`` (the core answering an update) in a worker thread and queue its
    replies as :func:`send` does, all in one database transaction: a question costs
    one commit, not one for each thing the core reads and writes and one for the
    outbox; the answer is handed to the sender the moment it is stored; and a reply
    naming people is queued with what it read of them (a forget commits before or
    after, not between, and so finds it)."""
    postman = context.bot_data.sender

    def work_and_queue() -> list[Call] | None:
        with postman.outbox.db.session():
            calls = intents(work(), reply_to=reply_to, edit=edit, thread=thread)
            if not calls:
                return None
            return postman.outbox.queue_replies(
                chat_id, [call for call, _ in calls], update_key=reply_key(),
                purpose=purpose, ticket_id=ticket, naming=[named for _, named in calls])

    _hand(postman, await asyncio.to_thread(work_and_queue))


def _hand(postman: Sender, ready: list[Call] | None) -> None:
    """What was queued goes now (``ready``) or waits behind the chat's earlier calls ([]:
    the sender looks); None: nothing new was queued."""
    if ready:
        postman.hand(ready)
    elif ready is not None:
        postman.wake()
