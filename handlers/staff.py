"""The staff chat: replies to tickets, the tickets' buttons and the staff's commands.

Only members of the staff chat (asked with getChatMember, remembered for a
few minutes) and the configured admins may act; anyone else is ignored. What
they do reaches Telegram through the outbox (:mod:`handlers.outbox`); a job
announces tickets that wait too long, and another forgets old bookkeeping.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time

from telegram import Bot, Message, Update, User
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import (Application, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, filters)

from bot import phrases
from bot.conversation import Assistant
from bot.tickets import STAFF_LANGUAGE, StaffMember, StaffMessage, Tickets
from handlers.outbox import Sender

log = logging.getLogger(__name__)

MEMBER_CACHE_SECONDS = 300
STAFF_COMMANDS = ("close", "reopen", "open", "ban", "unban")
_STAFF_BUTTON = re.compile(r"^tk:(claim|close|faq):(\d{1,9})$")
_MEMBER = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)
_CONTENT = ("photo", "document", "video", "audio", "voice", "animation")


class StaffDesk:
    """What the staff handlers share: the tickets, the sender and who is staff."""

    def __init__(self, tickets: Tickets, sender: Sender) -> None:
        self.tickets = tickets
        self.sender = sender
        self._members: dict[int, tuple[bool, float]] = {}

    async def is_staff(self, bot: Bot, user: User) -> bool:
        """An admin, or a member of the staff chat (cached for a few minutes)."""
        if self.tickets.is_admin(user.id):
            return True
        chat_id = self.tickets.staff.chat_id
        if chat_id is None or user.is_bot:
            return False
        cached = self._members.get(user.id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await bot.get_chat_member(chat_id, user.id)
        except TelegramError as exc:
            log.warning("could not check whether %s is staff: %s", user.id, exc)
            return False
        allowed = member.status in _MEMBER or (
            member.status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False))
        self._members[user.id] = (allowed, time.monotonic() + MEMBER_CACHE_SECONDS)
        return allowed


def desk(context: ContextTypes.DEFAULT_TYPE) -> StaffDesk:
    return context.application.bot_data["staff_desk"]


def staff_member(user: User) -> StaffMember:
    return StaffMember(id=user.id, name=user.full_name or str(user.id))


def staff_message(message: Message) -> StaffMessage:
    kind = "text" if message.text is not None else next(
        (k for k in _CONTENT if getattr(message, k)), "other")
    replied = message.reply_to_message
    # In a forum every message of a topic "replies" to the topic's first message.
    thread = message.message_thread_id if message.is_topic_message else None
    return StaffMessage(chat_id=message.chat.id, message_id=message.message_id,
                        thread_id=thread, reply_to=replied.message_id if replied else None,
                        text=message.text if message.text is not None else message.caption,
                        kind=kind)


def _plain(text: str) -> str:
    """A phrase without its HTML, for a button's notice."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _posted_ticket(message: Message | None, bot_id: int) -> int | None:
    """The ticket whose post ``message`` is, read from its buttons (Telegram's copy of the
    bot's own message): for the moment between sending a post and recording its id."""
    if message is None or message.from_user is None or message.from_user.id != bot_id:
        return None
    for row in message.reply_markup.inline_keyboard if message.reply_markup else ():
        for button in row:
            match = _STAFF_BUTTON.match(str(button.callback_data or ""))
            if match:
                return int(match.group(2))
    return None


async def _ticket_of(staff: StaffDesk, message: Message, bot_id: int) -> int | None:
    """The ticket a staff message is about (its topic, or the bot message it replies to).

    A reply to a bot message sent a moment ago may come before the outbox has
    recorded that message's id: then wait for the sending in hand to finish."""
    found = staff_message(message)
    ticket_id = await asyncio.to_thread(staff.tickets.ticket_of, found)
    if ticket_id is not None:
        return ticket_id
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    ticket_id = _posted_ticket(replied, bot_id)
    if ticket_id is None and staff.sender.busy:
        await staff.sender.idle()
        ticket_id = await asyncio.to_thread(staff.tickets.ticket_of, found)
    return ticket_id


async def _say(message: Message, text: str) -> None:
    """A short answer to a staff member, under their message."""
    try:
        await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=True)
    except TelegramError as exc:
        log.warning("could not answer in the staff chat: %s", exc)


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff member's message under a ticket (a reply to it, or in its topic): to the person."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    staff = desk(context)
    found = staff_message(message)
    ticket_id = await _ticket_of(staff, message, context.bot.id)
    if ticket_id is None or not await staff.is_staff(context.bot, message.from_user):
        return
    outcome = await asyncio.to_thread(staff.tickets.answer, ticket_id,
                                      staff_member(message.from_user), found)
    if not outcome.ok:
        await _say(message, outcome.text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Claim, Close, Add to FAQ under a ticket's post; from anyone else, or forged: nothing."""
    query = update.callback_query
    if query is None:
        return
    staff = desk(context)
    match = _STAFF_BUTTON.match(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    in_staff_chat = message is not None and message.chat.id == staff.tickets.staff.chat_id
    if match is None or not in_staff_chat or \
            not await staff.is_staff(context.bot, query.from_user):
        await query.answer(phrases.raw(STAFF_LANGUAGE, "staff_not_allowed"))
        return
    action, ticket_id = match.group(1), int(match.group(2))
    assert message is not None
    under = await asyncio.to_thread(staff.tickets.ticket_at, message.chat.id,
                                    message.message_id) or _posted_ticket(message, context.bot.id)
    if under != ticket_id:  # data for another ticket than the post it is under
        await query.answer(phrases.raw(STAFF_LANGUAGE, "button_expired"))
        return
    act = {"claim": staff.tickets.claim, "close": staff.tickets.close,
           "faq": staff.tickets.suggest_faq}[action]
    outcome = await asyncio.to_thread(act, ticket_id, staff_member(query.from_user))
    await query.answer(_plain(outcome.text)[:200])


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/close N, /reopen N, /open, /ban USER, /unban USER (USER: an id or #N, a ticket's person)."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.text:
        return
    staff = desk(context)
    if not await staff.is_staff(context.bot, message.from_user):
        return
    name = message.text.split(maxsplit=1)[0][1:].split("@")[0].lower()
    argument = context.args[0] if context.args else ""
    tickets, who = staff.tickets, staff_member(message.from_user)
    if name == "open":
        await _say(message, await asyncio.to_thread(tickets.listing))
        return
    replied = await _ticket_of(staff, message, context.bot.id) if not argument else None
    if name in ("close", "reopen"):
        number = int(argument.lstrip("#")) if argument.lstrip("#").isdecimal() else replied
        if number is None:
            await _say(message, phrases.say(STAFF_LANGUAGE, "staff_usage"))
            return
        act = tickets.close if name == "close" else tickets.reopen
        await _say(message, (await asyncio.to_thread(act, number, who)).text)
        return
    if argument.startswith("#") and argument[1:].isdecimal():
        number = int(argument[1:])
        user_id = await asyncio.to_thread(tickets.person_of, number)
        if user_id is None:
            await _say(message, phrases.say(STAFF_LANGUAGE, "staff_no_such_ticket",
                                            number=number))
            return
    elif argument.isdecimal() and len(argument) <= 15:  # Telegram user ids have at most 52 bits
        user_id = int(argument)
    else:
        user_id = await asyncio.to_thread(tickets.person_of, replied) if replied else None
    if user_id is None:
        await _say(message, phrases.say(STAFF_LANGUAGE, "staff_usage"))
        return
    act = tickets.ban if name == "ban" else tickets.unban
    await _say(message, (await asyncio.to_thread(act, user_id, who)).text)


async def remind(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Announce again the tickets waiting longer than ``staff.remind_after``."""
    if await asyncio.to_thread(desk(context).tickets.remind):
        desk(context).sender.wake()


async def forget_old(context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.to_thread(desk(context).tickets.forget_old)


async def prepare(application: Application) -> None:
    """Learn whether the staff chat is a forum (one topic per ticket); logged if it fails."""
    staff: StaffDesk | None = application.bot_data.get("staff_desk")
    if staff is None or staff.tickets.staff.chat_id is None:
        return
    try:
        chat = await application.bot.get_chat(staff.tickets.staff.chat_id)
    except TelegramError as exc:
        log.warning("could not look at the staff chat %s: %s", staff.tickets.staff.chat_id, exc)
        return
    staff.tickets.forum = bool(chat.is_forum)


def register(application: Application, brain: Assistant) -> None:
    """Add the staff chat's handlers and jobs (before the people's handlers)."""
    config = brain.config.staff
    staff = StaffDesk(brain.tickets, application.bot_data["sender"])
    application.bot_data["staff_desk"] = staff
    jobs = application.job_queue
    if jobs is not None:
        remind_every = min(max(config.remind_after.total_seconds() / 2, 0.2), 60.0)
        jobs.run_repeating(remind, interval=remind_every, first=remind_every, name="reminders")
        jobs.run_repeating(forget_old, interval=24 * 3600, first=60, name="forget")
    if config.chat_id is None:
        return
    in_staff_chat = filters.Chat(config.chat_id) & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler(list(STAFF_COMMANDS), on_command,
                                           filters=in_staff_chat))
    application.add_handler(MessageHandler(in_staff_chat & ~filters.COMMAND, on_reply))
    application.add_handler(CallbackQueryHandler(on_button, pattern=_STAFF_BUTTON.pattern))
