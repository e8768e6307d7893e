"""What people from NGOs do with the bot: commands, questions, buttons, other media.

In a private chat the bot answers everything; in a group it answers only
commands, messages that mention it and replies to its own messages.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

from telegram import Message, MessageEntity, Update, User
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import choices
from bot.conversation import COMMANDS, SETTLE_POLL, Asker, Assistant, Reply
from bot.phrases import raw, say
from handlers import buttons
from handlers.context import BotApplication, BotContext
from handlers.inbox import until
from handlers.media import content
from handlers.render import Edited, acknowledge, answer, send
from handlers.staff import command_under_ticket, followups_may_wait

log = logging.getLogger(__name__)


class _AddressedToBot(filters.MessageFilter):
    """Private messages, and group messages that mention the bot or reply to it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        entities = {**message.parse_entities(), **message.parse_caption_entities()}
        for entity, text in entities.items():
            if entity.type == MessageEntity.MENTION and text.lower() == mention:
                return True
            if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None \
                    and entity.user.id == bot.id:
                return True
        return False


ADDRESSED = _AddressedToBot(name="addressed_to_bot")
# The buttons the conversation (Assistant.press) acts on.
PEOPLE_BUTTONS = (choices.Pick, choices.Helpful, choices.Unhelpful, choices.NoneOfThese,
                  choices.AskStaff, choices.CloseTicket, choices.Rate, choices.Comment,
                  choices.Topic, choices.Topics, choices.ShowOrganisation,
                  choices.SetLanguage)
MEDIA = (filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
         | filters.Sticker.ALL | filters.Document.ALL | filters.ANIMATION | filters.LOCATION
         | filters.CONTACT)


async def settled(context: BotContext) -> None:
    """Right after a start, let a question or a pick wait for the matcher the configuration
    asks for (:meth:`bot.conversation.Assistant.matcher_wait`), without holding a thread;
    should the bot stop meanwhile, it is handled at the next start. One task looks for all
    of them: a thread of the core, which knows no event loop, makes the matcher ready."""
    brain = context.bot_data.assistant
    if brain.matcher_wait() <= 0:
        return
    if context.bot_data.matcher_settled is None:
        context.bot_data.matcher_settled = asyncio.create_task(_settle(brain))
    await until(context.bot_data.matcher_settled)


async def _settle(brain: Assistant) -> None:
    while (left := brain.matcher_wait()) > 0:  # noqa: ASYNC110 - see settled
        await asyncio.sleep(min(left, SETTLE_POLL))


def asker(user: User) -> Asker:
    return Asker(id=user.id, language_code=user.language_code, name=user.first_name or "")


async def _answer(context: BotContext, message: Message,
                  replies: list[Reply] | Callable[[], list[Reply]]) -> None:
    """Send ``replies`` to the chat of ``message``, quoting it in groups; ``replies`` may be
    the core's work that makes them (run off the loop, in one transaction with the
    queuing, see :func:`handlers.render.answer`)."""
    in_group = message.chat.type != ChatType.PRIVATE
    reply_to = message.message_id if in_group else None
    if callable(replies):
        await answer(context, message.chat.id, replies, reply_to=reply_to)
    else:
        await send(context, message.chat.id, replies, reply_to=reply_to)


async def on_command(update: Update, context: BotContext) -> None:
    """/start, /help, /faq, /search NAME, /lang, /contact."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.text:
        return
    if await command_under_ticket(update, context):
        return  # "/search ..." as a staff reply under a ticket: not a search
    name = message.text.split(maxsplit=1)[0][1:].split("@")[0].lower()
    # As typed after the command (a question to /ask keeps its lines).
    argument = (message.text.split(maxsplit=1)[1:] or [""])[0]
    brain, who = context.bot_data.assistant, asker(message.from_user)
    if name == "ask" and message.chat.type != ChatType.PRIVATE and brain.tickets.enabled:
        lang = await asyncio.to_thread(brain.language, who)
        await _answer(context, message, [Reply(say(lang, "ticket_private_only"))])
        return
    private = message.message_id if message.chat.type == ChatType.PRIVATE else None
    if name == "ask":
        await settled(context)  # the staff see the FAQ's guesses for the question
    await _answer(context, message, lambda: brain.command(who, name, argument, private))


async def on_text(update: Update, context: BotContext) -> None:
    """A question or a name to look up."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    text = message.text
    if context.bot.username:
        text = re.sub(f"@{re.escape(context.bot.username)}\\b", " ", text, flags=re.IGNORECASE)
    brain, who, chat_id = context.bot_data.assistant, asker(message.from_user), message.chat.id
    await settled(context)
    await _answer(context, message, lambda: brain.reply(who, text, chat_id=chat_id,
                                                        message_id=message.message_id))
    if message.chat.type == ChatType.PRIVATE:
        followups_may_wait(context)


async def on_media(update: Update, context: BotContext) -> None:
    """Photos, voice, stickers, documents...: to the staff (a ticket), else "write text" (a
    poll, a dice...: always)."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    kind, file_id = content(message)
    brain, who, chat_id = context.bot_data.assistant, asker(message.from_user), message.chat.id
    await settled(context)
    await _answer(context, message, lambda: brain.media(who, chat_id, message.message_id,
                                                        message.caption, kind, file_id))


async def on_button(update: Update, context: BotContext) -> None:
    """A press on one of the bot's inline buttons for people; one that is no longer valid
    gets a polite notice and changes nothing."""
    query = update.callback_query
    if query is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    await settled(context)  # a pick is checked against what the matcher would offer
    pressed = await asyncio.to_thread(context.bot_data.assistant.press, asker(query.from_user),
                                      buttons.unpack(query.data),
                                      message.chat.id if message is not None else None)
    if not pressed.valid:
        await acknowledge(query, pressed.notice)
        return
    edit: tuple[int, Edited] | None = None
    if message is not None and pressed.edit is not None:
        edit = (message.message_id, pressed.edit)
    elif message is not None and pressed.close and message.reply_markup is not None:
        # The pressed row goes (a vote is given once); the others stay ("You also asked").
        edit = (message.message_id, [
            [[button.text, button.callback_data] for button in row]
            for row in message.reply_markup.inline_keyboard
            if all(button.callback_data != query.data for button in row)] or None)
    chat_id = message.chat.id if message is not None else query.from_user.id
    await send(context, chat_id, pressed.replies, edit=edit)
    await acknowledge(query, pressed.notice)


async def on_unknown_button(update: Update, context: BotContext) -> None:
    """Button data no handler knows (forged, or from a version of the bot long gone):
    a polite notice, nothing else."""
    query = update.callback_query
    if query is None:
        return
    lang = await asyncio.to_thread(context.bot_data.assistant.language, asker(query.from_user))
    await acknowledge(query, raw(lang, "button_expired"))


def register(application: BotApplication, brain: Assistant) -> None:
    """Add the handlers for people to ``application``."""
    only_messages = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler(list(COMMANDS), on_command, filters=only_messages))
    application.add_handler(MessageHandler(
        only_messages & filters.COMMAND & filters.ChatType.PRIVATE, on_command))
    application.add_handler(MessageHandler(
        only_messages & filters.TEXT & ~filters.COMMAND & ADDRESSED, on_text))
    application.add_handler(MessageHandler(only_messages & MEDIA & ADDRESSED, on_media))
    # A poll, a dice, a story... in a private chat: "write text", not silence.
    application.add_handler(MessageHandler(
        only_messages & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
        on_media))
    application.add_handler(CallbackQueryHandler(on_button, pattern=buttons.of(*PEOPLE_BUTTONS)))
    application.add_handler(CallbackQueryHandler(on_unknown_button))  # last: all the rest
    if application.job_queue is not None:
        interval = brain.config.registry.refresh_interval
        application.job_queue.run_repeating(refresh_registry, interval=interval, first=interval,
                                            name="registry-refresh")


async def refresh_registry(context: BotContext) -> None:
    """Pick up organisations imported from the command line while the bot runs."""
    if await asyncio.to_thread(context.bot_data.assistant.refresh_registry):
        log.info("registry index updated after an import")
