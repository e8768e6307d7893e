"""What the bot learned, in Telegram: an admin's /learned lists the learned phrasings
and the out-of-scope questions (the staff's own answers), with remove buttons.

Only the user ids under ``admins:`` can list or remove; anyone else's /learned is
the usual "unknown command" and their presses of a (forged) remove button change
nothing. A job picks up changes made from the command line (``ngo-faq-bot learn``,
``learned remove``, ``forget``) every ``learning.refresh_interval``.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import learning
from bot.choices import Button, RemoveLearned, RemoveOutOfScope
from bot.conversation import Assistant, Reply
from bot.phrases import Html, say
from handlers import buttons
from handlers.context import BotApplication, BotContext
from handlers.people import asker
from handlers.render import acknowledge, send, without_buttons

log = logging.getLogger(__name__)

MAX_SHOWN = 10  # of each kind listed by /learned, newest first; the CLI lists all


def describe(lang: str, item: learning.Learned, min_votes: int, in_faq: bool) -> Html:
    """One learned phrasing as an admin reads it."""
    return say(lang, "adm_learned_item", id=item.id, entry=item.entry_id,
               language=item.language, state=item.state(lang, min_votes, in_faq),
               text="\n".join(item.texts))


async def on_learned(update: Update, context: BotContext) -> None:
    """/learned: the newest learned phrasings, each with a remove button."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    brain, who = context.bot_data.assistant, asker(message.from_user)
    min_votes = brain.config.learning.min_votes

    def read() -> tuple[str, list[learning.Learned], list[learning.HandedOn]]:
        with brain.db.session():  # one transaction: one snapshot of what was learned
            return (brain.language(who), learning.listing(brain.db, min_votes),
                    learning.handed_on(brain.db))

    lang, items, handed_on = await asyncio.to_thread(read)  # one trip off the event loop
    replies = [Reply(describe(lang, item, min_votes, brain.faq.get(item.entry_id) is not None),
                     ((Button(say(lang, "adm_learned_remove", id=item.id),
                              RemoveLearned(item.id)),),))
               for item in items[:MAX_SHOWN]]
    if not items:
        replies.append(Reply(say(lang, "adm_learned_none")))
    elif len(items) > MAX_SHOWN:
        replies.append(Reply(say(lang, "adm_learned_more", count=len(items) - MAX_SHOWN)))
    replies += [Reply(say(lang, "adm_out_of_scope_item", id=q.id, language=q.language,
                          source=say(lang, f"adm_out_of_scope_{q.source}"), text=q.text),
                      ((Button(say(lang, "adm_out_of_scope_remove", id=q.id),
                               RemoveOutOfScope(q.id)),),))
                for q in handed_on[:MAX_SHOWN]]
    if len(handed_on) > MAX_SHOWN:
        replies.append(Reply(say(lang, "adm_learned_more", count=len(handed_on) - MAX_SHOWN)))
    await send(context, message.chat.id, replies)


async def on_button(update: Update, context: BotContext) -> None:
    """An admin's remove button; from anyone else it changes nothing."""
    query = update.callback_query
    if query is None:
        return
    brain = context.bot_data.assistant
    lang = await asyncio.to_thread(brain.language, asker(query.from_user))
    choice = buttons.unpack(query.data)
    if (not isinstance(choice, RemoveLearned | RemoveOutOfScope)
            or query.from_user.id not in brain.config.admins):
        await acknowledge(query, say(lang, "button_expired"))
        return
    learned = isinstance(choice, RemoveLearned)
    kind = "adm_learned" if learned else "adm_out_of_scope"
    removed = await asyncio.to_thread(learning.remove if learned else learning.remove_handed_on,
                                      brain.db, choice.number)
    await asyncio.to_thread(brain.refresh_learned)
    message = query.message if isinstance(query.message, Message) else None
    text = say(lang, f"{kind}_removed" if removed else f"{kind}_gone", id=choice.number)
    await send(context, message.chat.id if message else query.from_user.id, [Reply(text)],
               edit=without_buttons(message))
    await acknowledge(query)


async def refresh(context: BotContext) -> None:
    """Pick up learned phrasings changed from the command line while the bot runs (and
    let old questions leave the matcher's memory: a forget there may have named them)."""
    assistant = context.bot_data.assistant
    if await asyncio.to_thread(assistant.refresh_learned):
        log.info("learned phrasings changed (or the FAQ was reloaded); the matcher has them")
    await asyncio.to_thread(assistant.expire_questions)  # waits while a reload embeds


def register(application: BotApplication, assistant: Assistant) -> None:
    """Add /learned and its buttons (before the people's handlers, which catch the rest)."""
    admins = filters.User(user_id=list(assistant.config.admins))
    application.add_handler(CommandHandler(
        "learned", on_learned,
        filters=filters.UpdateType.MESSAGE & admins & filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(on_button, pattern=buttons.of(RemoveLearned,
                                                                            RemoveOutOfScope)))
    if application.job_queue is not None:
        interval = assistant.config.learning.refresh_interval
        application.job_queue.run_repeating(refresh, interval=interval, first=interval,
                                            name="learned-refresh")
