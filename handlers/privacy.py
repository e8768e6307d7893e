"""/forget: a person deletes everything the bot keeps about them, after confirming."""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.choices import Button, Forget
from bot.conversation import Reply
from bot.outbox import FORGET
from bot.phrases import raw, say
from handlers import buttons
from handlers.context import BotApplication, BotContext
from handlers.people import asker
from handlers.render import acknowledge, answer, send, without_buttons
from handlers.staff import command_under_ticket


async def on_forget(update: Update, context: BotContext) -> None:
    """/forget: ask for confirmation with two buttons."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    if await command_under_ticket(update, context):
        return  # "/forget ..." as a staff reply under a ticket: not the staff's own forget
    brain = context.bot_data.assistant
    lang = await asyncio.to_thread(brain.language, asker(message.from_user))
    rows = ((Button(raw(lang, "forget_yes"), Forget(lang, confirm=True)),
             Button(raw(lang, "forget_no"), Forget(lang, confirm=False))),)
    await send(context, message.chat.id, [Reply(say(lang, "forget_confirm"), rows)])


async def on_button(update: Update, context: BotContext) -> None:
    """Yes: delete the presser's data (only their own, whoever's message it is); no: nothing."""
    query = update.callback_query
    if query is None:
        return
    choice = buttons.unpack(query.data)
    if not isinstance(choice, Forget):
        return
    lang = choice.lang
    message = query.message if isinstance(query.message, Message) else None
    chat_id = message.chat.id if message is not None else query.from_user.id
    if not choice.confirm:
        await send(context, chat_id, [Reply(say(lang, "forget_kept"))],
                   edit=without_buttons(message))
        await acknowledge(query)
        return
    brain = context.bot_data.assistant

    def forget() -> list[Reply]:
        brain.forget(query.from_user.id)
        return [Reply(say(lang, "forget_done"))]

    # The forget, the staff chat's changes and the confirmation in one transaction: a
    # crash leaves all of them to do or none (the update was deleted with the rest of the
    # person's rows, so it is not handled again). The confirmation's rows go once sent.
    await answer(context, chat_id, forget, purpose=FORGET, edit=without_buttons(message))
    context.bot_data.staff_desk.forgot(query.from_user.id)
    await asyncio.to_thread(brain.refresh_learned)  # drops what only they taught the bot
    await acknowledge(query)


def register(application: BotApplication) -> None:
    application.add_handler(CommandHandler("forget", on_forget,
                                           filters=filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(on_button, pattern=buttons.of(Forget)))
