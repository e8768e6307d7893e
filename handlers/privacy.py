"""/forget: a person deletes everything the bot keeps about them, after confirming."""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot import privacy
from bot.conversation import Assistant, Button, Reply
from bot.outbox import FORGET
from bot.phrases import raw, say
from handlers.people import asker
from handlers.render import send


def _brain(context: ContextTypes.DEFAULT_TYPE) -> Assistant:
    return context.application.bot_data["assistant"]


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation with two buttons."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    lang = _brain(context).language(asker(message.from_user))
    buttons = ((Button(raw(lang, "forget_yes"), f"pv:{lang}:yes"),
                Button(raw(lang, "forget_no"), f"pv:{lang}:no")),)
    await send(context, message.chat.id, [Reply(say(lang, "forget_confirm"), buttons)])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes: delete the presser's data (only their own, whoever's message it is); no: nothing."""
    query = update.callback_query
    if query is None:
        return
    _, lang, answer = ((query.data or "").split(":", 2) + ["", ""])[:3]
    lang = lang if lang in ("sq", "en") else "sq"
    await query.answer()
    if answer == "yes":
        brain = _brain(context)
        done = await asyncio.to_thread(privacy.forget, brain.db, query.from_user.id,
                                       keep=privacy.KEPT_WHEN_ASKED)
        await asyncio.to_thread(brain.tickets.after_forget, done)
        # Drops what only this person taught the bot.
        await asyncio.to_thread(brain.refresh_learned)
    message = query.message if isinstance(query.message, Message) else None
    if message is not None and message.reply_markup is not None:
        await query.edit_message_reply_markup(None)
    chat_id = message.chat.id if message is not None else query.from_user.id
    if answer == "yes":  # the confirmation's row goes once it is sent
        await send(context, chat_id, [Reply(say(lang, "forget_done"))], purpose=FORGET)
    else:
        await send(context, chat_id, [Reply(say(lang, "forget_kept"))])


def register(application: Application, assistant: Assistant) -> None:
    application.bot_data["assistant"] = assistant
    application.add_handler(CommandHandler("forget", on_forget,
                                           filters=filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^pv:(sq|en):(yes|no)$"))
