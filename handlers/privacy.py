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
from bot.choices import Button, Forget
from bot.conversation import Assistant, Reply
from bot.outbox import FORGET, REPLY
from bot.phrases import raw, say
from handlers import buttons
from handlers.people import asker
from handlers.render import send, without_buttons


def _brain(context: ContextTypes.DEFAULT_TYPE) -> Assistant:
    return context.application.bot_data["assistant"]


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation with two buttons."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    lang = await asyncio.to_thread(_brain(context).language, asker(message.from_user))
    rows = ((Button(raw(lang, "forget_yes"), Forget(lang, confirm=True)),
             Button(raw(lang, "forget_no"), Forget(lang, confirm=False))),)
    await send(context, message.chat.id, [Reply(say(lang, "forget_confirm"), rows)])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes: delete the presser's data (only their own, whoever's message it is); no: nothing."""
    query = update.callback_query
    if query is None:
        return
    choice = buttons.unpack(query.data)
    if not isinstance(choice, Forget):
        return
    lang = choice.lang
    await query.answer()
    if choice.confirm:
        brain = _brain(context)
        done = await asyncio.to_thread(privacy.forget, brain.db, query.from_user.id,
                                       keep=privacy.KEPT_WHEN_ASKED)
        await asyncio.to_thread(brain.tickets.after_forget, done)
        # Drops what only this person taught the bot.
        await asyncio.to_thread(brain.refresh_learned)
    message = query.message if isinstance(query.message, Message) else None
    chat_id = message.chat.id if message is not None else query.from_user.id
    # The confirmation's rows go once they are sent.
    await send(context, chat_id, [Reply(say(lang, "forget_done" if choice.confirm
                                            else "forget_kept"))],
               purpose=FORGET if choice.confirm else REPLY, edit=without_buttons(message))


def register(application: Application, assistant: Assistant) -> None:
    application.bot_data["assistant"] = assistant
    application.add_handler(CommandHandler("forget", on_forget,
                                           filters=filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(on_button, pattern=buttons.of(Forget)))
