"""The first handler of every update from a person: over ``telegram.max_messages_per_minute``
they get one polite notice and the rest is not handled, so one person cannot slow
the others (see :mod:`bot.flood`). In a group only what the bot answers counts; the
staff chats are not limited."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CommandHandler, TypeHandler, filters

from bot.conversation import COMMANDS, Assistant, Reply
from bot.flood import FloodGate, Verdict
from bot.phrases import say
from handlers.context import BotApplication, BotContext
from handlers.people import ADDRESSED, asker
from handlers.render import acknowledge, send

# Runs before every other handler.
FIRST = -1000
FORGET_EVERY = 300  # seconds between two clean-ups of the counts


async def _never(update: Update, context: BotContext) -> None:
    """Not called: :data:`_OWN_COMMANDS` only tells which commands are the bot's."""


_OWN_COMMANDS = CommandHandler([*COMMANDS, "forget"], _never, filters=filters.UpdateType.MESSAGE)
"""The people's commands as their handlers take them: bare, or for this bot (``/contact@it``),
not ``/roll@DiceBot``."""


def _counted(update: Update, context: BotContext) -> bool:
    """In a private chat every update; in a group what the bot answers there (its commands,
    new messages addressed to it, presses of its buttons), so members talking among
    themselves or to other bots cost nothing; in a staff chat nothing: its members are the
    agency's own."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return chat is not None
    if chat.id in context.bot_data.staff_desk.tickets.staff_chats:
        return False
    if update.callback_query is not None:
        return True
    return update.message is not None and bool(
        ADDRESSED.check_update(update) or _OWN_COMMANDS.check_update(update))


async def _gate(update: Update, context: BotContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not _counted(update, context):
        return
    brain = context.bot_data.assistant
    if user.id in brain.config.admins:
        return
    gate = context.bot_data.flood_gate
    # Anonymous admins all write as GroupAnonymousBot: counted as their group instead.
    sender = update.message.sender_chat if update.message is not None else None
    verdict = gate.admit(sender.id if sender is not None else user.id)
    if verdict is Verdict.HANDLE:
        return
    if verdict is Verdict.NOTICE:
        lang = await asyncio.to_thread(brain.language, asker(user))
        message = update.message if chat.type != ChatType.PRIVATE else None
        await send(context, chat.id, [Reply(say(lang, "flood", per_minute=gate.per_minute))],
                   reply_to=message.message_id if message is not None else None)
    if update.callback_query is not None:
        await acknowledge(update.callback_query)
    raise ApplicationHandlerStop


async def _forget_quiet(context: BotContext) -> None:
    context.bot_data.flood_gate.forget_quiet()


def register(application: BotApplication, brain: Assistant) -> None:
    application.bot_data.flood_gate = FloodGate(brain.config.telegram.max_messages_per_minute)
    application.add_handler(TypeHandler(Update, _gate), group=FIRST)
    if application.job_queue is not None:
        application.job_queue.run_repeating(_forget_quiet, interval=FORGET_EVERY,
                                            first=FORGET_EVERY, name="flood-forget")
