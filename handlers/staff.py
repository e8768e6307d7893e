"""The staff chats: replies to tickets, the tickets' buttons and the staff's commands.

Only members of the staff chat (asked with getChatMember, remembered for a
few minutes) and the configured admins may act; anyone else is ignored. What
they do reaches Telegram through the outbox (:mod:`handlers.outbox`); a job
announces tickets that wait too long, one posts a person's follow-ups when they
are due, and another forgets old bookkeeping.

The staff chats are the default one and those of ``staff.routes``; when one
moves (a group upgraded to a supergroup), the handlers follow it. A person's
edit of a message the staff have seen edits the staff's copy.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot, ChatMember, Message, Update, User
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot import phrases, privacy
from bot.backoff import backoff
from bot.choices import AnswerWithFaq, AnswerWithSaved, Button, Buttons, TicketAction
from bot.conversation import Assistant, Reply
from bot.faq import Entry
from bot.limits import label
from bot.outbox import STAFF_REPLY
from bot.phrases import Html, escape, plain, say
from bot.tickets import Listing, StaffMember, StaffMessage, Tickets, user_id_of
from handlers import buttons
from handlers.context import BotApplication, BotContext
from handlers.inbox import FIRST_WAIT, LAST_WAIT, pause
from handlers.media import content
from handlers.outbox import Sender
from handlers.render import acknowledge, answer, send
from handlers.retrying import until_answered

log = logging.getLogger(__name__)

MEMBER_CACHE_SECONDS = 300
STAFF_COMMANDS = ("close", "reopen", "open", "ban", "unban")
DESK_COMMANDS = ("help", "mine", "assign", "unassign", "note", "faq", "saved", "save",
                 "history")
MAX_FAQ_CHOICES = 5
MAX_SAVED_SHOWN = 30  # a listing stays within one message (4096 characters)
FOLLOWUPS_POLL = 60.0
"""Seconds between looks for follow-ups that no worker is waiting to post: those another
worker stored and did not post (it stopped first), or this one before a restart. A
worker looks for the follow-ups it stores when they are due (:func:`followups_may_wait`)."""
FOLLOWUPS_AGAIN = 1.0
"""Seconds at least from a look for due follow-ups to the next one it plans. A look posts
all that were due when it began; one falling due while it looks waits this long. Should
one ever stay waiting when due, the worker looks for it once a second, not nonstop."""
FOLLOWUPS_LOOK = "follow-ups"
"""The name of the planned look for due follow-ups (:meth:`StaffDesk.look_for_followups`)."""
_MEMBER = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)


class StaffDesk:
    """What the staff handlers share: the tickets, the sender, the FAQ and who is staff."""

    def __init__(self, tickets: Tickets, sender: Sender, brain: Assistant) -> None:
        self.tickets = tickets
        self.sender = sender
        self.brain = brain
        # The staff chats, for the handlers' filters (grows when a chat moves).
        self.chats = filters.Chat(chat_id=tickets.staff_chats)
        self._members: dict[tuple[int, int], tuple[bool, float]] = {}
        # Each staff member's @username as last stored, and until when it is trusted: a
        # forget deletes it, in this worker or in another process.
        self._seen: dict[int, tuple[str | None, float]] = {}

    @staticmethod
    def look_for_followups(jobs: JobQueue[Any], delay: float) -> None:
        """Post the follow-ups due in ``delay`` seconds then: one look for all that fall
        due by then, and one look pending at a time (the sooner one stays, a later one is
        replaced).

        What is pending is what the job queue holds, not a note of ours: a look that ran,
        is running or was dropped is not in it, so none can stop the next being planned.
        A look runs however late the event loop lets it (no ``misfire_grace_time``)."""
        delay = max(delay, 0.0)
        wanted = datetime.now(UTC) + timedelta(seconds=delay)
        pending = jobs.get_jobs_by_name(FOLLOWUPS_LOOK)
        if any(job.next_t is not None and job.next_t <= wanted for job in pending):
            return
        for job in pending:
            job.schedule_removal()
        # Planned out of the update's context: the scheduler's wake-ups, and so every job,
        # run in the context of the call that planned them, as if still handling the
        # person's update (bot.inbox.handling) and keying what they queue by it.
        contextvars.Context().run(jobs.run_once, post_followups, delay, name=FOLLOWUPS_LOOK,
                                  job_kwargs={"misfire_grace_time": None})

    async def post_followups(self, jobs: JobQueue[Any] | None) -> None:
        """Post the people's follow-ups that waited ``staff.followup_batch``, one post a
        ticket; and look again when the earliest of those still waiting is due."""

        def post() -> tuple[int, timedelta | None]:
            return self.tickets.post_followups(), self.tickets.followups_due_in()
        posted, due_in = await asyncio.to_thread(post)
        if posted:
            self.sender.wake()
        if due_in is not None and jobs is not None:
            self.look_for_followups(jobs, max(due_in.total_seconds(), FOLLOWUPS_AGAIN))

    async def is_staff(self, bot: Bot, user: User, chat_id: int | None = None) -> bool:
        """An admin, or a member of the staff chat ``chat_id`` (default: the default staff
        chat), cached for a few minutes."""
        if self.tickets.is_admin(user.id):
            return True
        chat_id = chat_id if chat_id is not None else self.tickets.default_chat
        if chat_id is None or chat_id not in self.tickets.staff_chats or user.is_bot:
            return False
        cached = self._members.get((chat_id, user.id))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        member = await _chat_member(bot, chat_id, user.id)
        if member is None:
            return False
        allowed = member.status in _MEMBER or (
            member.status == ChatMemberStatus.RESTRICTED and getattr(member, "is_member", False))
        self._members[(chat_id, user.id)] = (allowed, time.monotonic() + MEMBER_CACHE_SECONDS)
        return allowed

    async def seen(self, user: User) -> None:
        """Remember a staff member's @username, for /assign N @username (stored again
        when it changed, or every few minutes)."""
        known = self._seen.get(user.id)
        if known is None or known[0] != user.username or known[1] < time.monotonic():
            await asyncio.to_thread(self.tickets.seen, staff_member(user), user.username)
            self._seen[user.id] = (user.username, time.monotonic() + MEMBER_CACHE_SECONDS)

    def forgot(self, user_id: int) -> None:
        """A person was forgotten: their @username leaves this worker's memory (and is
        stored again if they go on working as staff)."""
        self._seen.pop(user_id, None)

    async def moved(self, old: int, new: int) -> bool:
        """Follow a staff chat that moved (its waiting calls go to the new chat); False if
        it is no staff chat."""
        if old not in self.tickets.staff_chats and old not in self.tickets.moves:
            return False
        if await asyncio.to_thread(self.tickets.move_chat, old, new):
            log.warning("the staff chat %s moved to %s; update the config", old, new)
        self.chats.add_chat_ids(self.tickets.chat(old))
        return True


async def _chat_member(bot: Bot, chat_id: int, user_id: int) -> ChatMember | None:
    """What Telegram says of ``user_id`` in ``chat_id``; None when it refuses to say (no
    such user, the bot is not in the chat).

    Not being able to ask is no answer: while Telegram fails for a passing reason (a 5xx,
    a timeout, a 429) the question is asked again, after growing waits or the wait a 429
    asks for, and the update being handled waits; should the bot stop meanwhile, the update
    is left for the next start (:func:`handlers.inbox.pause`). Taking the staff member for
    an outsider would drop their answer to a person without a word."""
    told = False

    def failing(error: TelegramError, wait: float) -> None:
        nonlocal told
        if not told:
            log.warning("could not check whether %s is staff (%s); asking again",
                        user_id, error)
            told = True

    try:
        return await until_answered(lambda: bot.get_chat_member(chat_id, user_id),
                                    waits=backoff(FIRST_WAIT, LAST_WAIT), rest=pause,
                                    failing=failing)
    except TelegramError as exc:
        log.warning("could not check whether %s is staff: %s", user_id, exc)
        return None


def staff_member(user: User) -> StaffMember:
    return StaffMember(id=user.id, name=user.full_name or str(user.id))


def staff_message(message: Message) -> StaffMessage:
    kind, file_id = content(message)
    replied = message.reply_to_message
    # In a forum every message of a topic "replies" to the topic's first message.
    thread = message.message_thread_id if message.is_topic_message else None
    return StaffMessage(chat_id=message.chat.id, message_id=message.message_id,
                        thread_id=thread, reply_to=replied.message_id if replied else None,
                        text=message.text if message.text is not None else message.caption,
                        kind=kind, file_id=file_id)


def _posted_ticket(message: Message | None, bot_id: int) -> int | None:
    """The ticket whose post ``message`` is, read from its buttons (Telegram's copy of the
    bot's own message): for the moment between sending a post and recording its id."""
    if message is None or message.from_user is None or message.from_user.id != bot_id:
        return None
    for row in message.reply_markup.inline_keyboard if message.reply_markup else ():
        for button in row:
            choice = buttons.unpack(button.callback_data)
            if isinstance(choice, TicketAction):
                return choice.ticket
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


async def _say(context: BotContext, message: Message, text: Html, rows: Buttons = (),
               about: int | None = None) -> None:
    """A short answer to a staff member, under their message (in its forum topic), through
    the outbox; ``about``: the ticket whose person it names (a forget deletes it)."""
    await send(context, message.chat.id, [Reply(text, rows)], reply_to=message.message_id,
               thread=message.message_thread_id if message.is_topic_message else None,
               purpose=STAFF_REPLY, ticket=about)


async def _answer(context: BotContext, message: Message, work: Callable[[], Reply],
                  about: int | None = None) -> None:
    """:func:`_say` the reply ``work`` makes in the core, made and queued in one
    transaction that a forget waits for (:func:`bot.privacy.hold_for_naming`): a reply
    naming people (:attr:`Reply.naming`) is then always found by their forget."""
    db = context.bot_data.assistant.db

    def named() -> list[Reply]:
        with db.session() as session:
            privacy.hold_for_naming(session)
            return [work()]

    await answer(context, message.chat.id, named, reply_to=message.message_id,
                 thread=message.message_thread_id if message.is_topic_message else None,
                 purpose=STAFF_REPLY, ticket=about)


def _listed(listing: Listing) -> Reply:
    return Reply(listing.text, naming=listing.naming)


def _anonymous(message: Message) -> bool:
    """Written by an anonymous admin: Telegram sends it as the group itself, so no staff
    member can be named (it claims, answers and is thanked as nobody)."""
    return message.sender_chat is not None and message.sender_chat.id == message.chat.id


async def _may_act(context: BotContext, message: Message) -> bool:
    """Whether the author of ``message`` in a staff chat is staff; an anonymous admin is
    told to write as themselves instead of being ignored."""
    if _anonymous(message):
        await _say(context, message, say(context.bot_data.staff_desk.tickets.lang,
                                         "staff_anonymous"))
        return False
    return message.from_user is not None and await context.bot_data.staff_desk.is_staff(
        context.bot, message.from_user, message.chat.id)


def _replies_to_bot(message: Message, bot_id: int) -> bool:
    """Whether ``message`` answers one of the bot's messages; in a forum every message of a
    topic "replies" to the topic's first message (the bot's, for a ticket's topic), which
    is no answer to it."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return False
    return not (message.is_topic_message and replied.message_id == message.message_thread_id)


async def on_reply(update: Update, context: BotContext) -> None:
    """A staff member's message under a ticket (a reply to it, or in its topic): to the
    person. A reply to one of the bot's other messages (a notice, a listing) is sent to
    nobody, and the staff member is told so rather than left to think it was."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    staff = context.bot_data.staff_desk
    found = staff_message(message)
    ticket_id = await _ticket_of(staff, message, context.bot.id)
    if ticket_id is None:
        if _replies_to_bot(message, context.bot.id) and not _anonymous(message) and \
                await staff.is_staff(context.bot, message.from_user, message.chat.id):
            await _say(context, message, say(staff.tickets.lang, "staff_not_a_ticket"))
        return
    if not await _may_act(context, message):
        return
    await staff.seen(message.from_user)
    who = staff_member(message.from_user)
    if found.text is not None and found.text.startswith("!"):  # a private note
        outcome = await asyncio.to_thread(staff.tickets.note, ticket_id, who, found,
                                          found.text[1:].strip())
        await _say(context, message, outcome.text)
        return
    outcome = await asyncio.to_thread(staff.tickets.answer, ticket_id, who, found)
    if not outcome.ok:
        await _say(context, message, outcome.text)


async def on_staff_edit(update: Update, context: BotContext) -> None:
    """A staff member edited their reply to a ticket: the person has the reply as it was
    sent (Telegram tells the bot of the edit, and an edit is no new answer to send), so
    the staff member is told to send the correction as a new reply."""
    message = update.edited_message
    if message is None or message.from_user is None or _anonymous(message):
        return
    staff = context.bot_data.staff_desk
    ticket_id = await _ticket_of(staff, message, context.bot.id)
    text = message.text or message.caption or ""
    if ticket_id is None or text.startswith("!") or \
            not await staff.is_staff(context.bot, message.from_user, message.chat.id):
        return
    await _say(context, message, say(staff.tickets.lang, "staff_edit_not_sent",
                                     number=ticket_id))


async def on_button(update: Update, context: BotContext) -> None:
    """Claim, Close, Add to FAQ under a ticket's post; from anyone else, or forged: nothing."""
    query = update.callback_query
    if query is None:
        return
    staff = context.bot_data.staff_desk
    choice = buttons.unpack(query.data)
    message = query.message if isinstance(query.message, Message) else None
    in_staff_chat = message is not None and message.chat.id in staff.tickets.staff_chats
    lang = staff.tickets.lang
    if not isinstance(choice, TicketAction) or message is None or not in_staff_chat or \
            not await staff.is_staff(context.bot, query.from_user, message.chat.id):
        await acknowledge(query, phrases.raw(lang, "staff_not_allowed"))
        return
    action, ticket_id = choice.action, choice.ticket
    under = await asyncio.to_thread(staff.tickets.ticket_at, message.chat.id,
                                    message.message_id) or _posted_ticket(message, context.bot.id)
    if under != ticket_id:  # data for another ticket than the post it is under
        await acknowledge(query, phrases.raw(lang, "button_expired"))
        return
    act = {"claim": staff.tickets.claim, "close": staff.tickets.close,
           "faq": staff.tickets.suggest_faq}[action]
    outcome = await asyncio.to_thread(act, ticket_id, staff_member(query.from_user))
    await acknowledge(query, plain(outcome.text))


async def on_command(update: Update, context: BotContext) -> None:
    """/close N, /reopen N, /open, /ban USER, /unban USER (USER: an id or #N, a ticket's person)."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.text:
        return
    staff = context.bot_data.staff_desk
    if not await _may_act(context, message):
        return
    name = message.text.split(maxsplit=1)[0][1:].split("@")[0].lower()
    argument = context.args[0] if context.args else ""
    tickets, who = staff.tickets, staff_member(message.from_user)
    if name == "open":
        await _answer(context, message, lambda: _listed(tickets.listing()))
        return
    replied = await _ticket_of(staff, message, context.bot.id) if not argument else None
    if name in ("close", "reopen"):
        number = int(argument.lstrip("#")) if argument.lstrip("#").isdecimal() else replied
        if number is None:
            await _say(context, message, phrases.say(tickets.lang, "staff_usage"))
            return
        act, ticket_id = (tickets.close if name == "close" else tickets.reopen), number
        await _answer(context, message, lambda: Reply(  # "closed by NAME"
            act(ticket_id, who).text, naming=frozenset({who.id} if name == "close" else ())))
        return
    about = None  # the ticket whose person the answer names, if one
    if argument.startswith("#") and argument[1:].isdecimal():
        number = int(argument[1:])
        user_id = await asyncio.to_thread(tickets.person_of, number)
        about = number if user_id is not None else None
        if user_id is None:
            await _say(context, message, phrases.say(tickets.lang, "staff_no_such_ticket",
                                            number=number))
            return
    elif argument:
        user_id = user_id_of(argument)
        if user_id is None:
            await _say(context, message, phrases.say(tickets.lang, "staff_not_a_user_id",
                                                     given=label(argument), command=name))
            return
    else:
        user_id = await asyncio.to_thread(tickets.person_of, replied) if replied else None
        about = replied if user_id is not None else None
    if user_id is None:
        await _say(context, message, phrases.say(tickets.lang, "staff_usage"))
        return
    decide = tickets.ban if name == "ban" else tickets.unban
    named = frozenset({user_id} if about is None else ())
    await _answer(context, message, lambda: Reply(decide(user_id, who).text, naming=named),
                  about=about)


async def remind(context: BotContext) -> None:
    """Announce again the tickets waiting longer than ``staff.remind_after``."""
    staff = context.bot_data.staff_desk
    if await asyncio.to_thread(staff.tickets.remind):
        staff.sender.wake()


async def post_followups(context: BotContext) -> None:
    await context.bot_data.staff_desk.post_followups(context.job_queue)


def followups_may_wait(context: BotContext) -> None:
    """A person wrote to the bot in private (handled and stored): a text to their open
    ticket waits ``staff.followup_batch`` for the next ones, to be posted with them."""
    staff = context.bot_data.staff_desk
    if staff.tickets.enabled and context.job_queue is not None:
        staff.look_for_followups(context.job_queue,
                                 staff.tickets.staff.followup_batch.total_seconds())


async def forget_old(context: BotContext) -> None:
    await asyncio.to_thread(context.bot_data.staff_desk.tickets.forget_old)


async def follow_moves(context: BotContext) -> None:
    """Staff chats another worker saw move: listen there too."""
    staff = context.bot_data.staff_desk
    staff.chats.add_chat_ids(await asyncio.to_thread(staff.tickets.load_moves))


async def prepare(application: BotApplication) -> None:
    """Learn which staff chats are forums (one topic per ticket); logged if it fails."""
    staff = application.bot_data.staff_desk
    for chat_id in sorted(staff.tickets.staff_chats):
        try:
            chat = await application.bot.get_chat(chat_id)
        except TelegramError as exc:
            log.warning("could not look at the staff chat %s: %s", chat_id, exc)
            continue
        if chat.is_forum:
            staff.tickets.forums.add(chat_id)


# --- the staff desk: notes, FAQ answers, saved replies, assignment, history ------------

def entry_key(entry_id: str) -> str:
    """A short, stable key of a FAQ entry for button data (ids may be long)."""
    return hashlib.sha1(entry_id.encode()).hexdigest()[:8]


def _entry_answer(entry: Entry) -> Callable[[str], Html]:
    """A FAQ entry as the person reads it, in their language."""
    def body(lang: str) -> Html:
        return Html(f"<b>{escape(entry.question_in(lang))}</b>\n\n"
                    f"{escape(entry.answer_in(lang))}")
    return body


async def on_desk_command(update: Update, context: BotContext) -> None:
    """/help, /mine, /assign, /unassign, /note, /faq, /saved, /save, /history."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.text:
        return
    staff = context.bot_data.staff_desk
    if not await _may_act(context, message):
        return
    await staff.seen(message.from_user)
    tickets, who, lang = staff.tickets, staff_member(message.from_user), staff.tickets.lang
    name = message.text.split(maxsplit=1)[0][1:].split("@")[0].lower()
    rest = message.text.split(maxsplit=1)[1].strip() if len(message.text.split(maxsplit=1)) > 1 \
        else ""
    args = list(context.args or ())
    if name in ("help", "start"):  # /start in the staff chat: not the people's greeting
        await _say(context, message, say(lang, "staff_help"))
        return
    if name == "mine":
        await _answer(context, message, lambda: _listed(tickets.mine(who)))
        return
    if name == "save":
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None \
                and replied.from_user.id == context.bot.id:
            # A ticket's post, a copy of a person's message, a listing: their name and
            # words, which a saved reply would send to others and no forget would reach.
            await _say(context, message, say(lang, "staff_save_bots"))
            return
        text = (replied.text or replied.caption) if replied else None
        outcome = await asyncio.to_thread(tickets.save_reply, rest, text, who)
        attached = replied is not None and any(
            (replied.photo, replied.document, replied.video, replied.voice, replied.audio))
        await _say(context, message, Html(outcome.text + "\n" + say(lang, "staff_saved_text_only"))
                   if outcome.ok and attached else outcome.text)
        return
    if name in ("assign", "unassign"):
        await _assign(context, message, name, args)
        return
    ticket_id = await _ticket_of(staff, message, context.bot.id)
    if name == "saved" and ticket_id is None:
        saved = (await asyncio.to_thread(tickets.saved_replies))[:MAX_SAVED_SHOWN]
        lines = [say(lang, "staff_saved_line", name=n, text=label(t)) for _, n, t in saved]
        await _say(context, message, Html("\n".join([say(lang, "staff_saved_header"), *lines]))
                   if lines else say(lang, "staff_saved_none"))
        return
    if ticket_id is None:
        await _say(context, message, say(lang, "staff_faq_usage" if name == "faq"
                                else "staff_note_usage" if name == "note"
                                else "staff_reply_to_ticket"))
        return
    if name == "note":
        outcome = await asyncio.to_thread(tickets.note, ticket_id, who, staff_message(message),
                                          rest)
        await _say(context, message, outcome.text)
    elif name == "history":
        await _say(context, message, await asyncio.to_thread(tickets.history, ticket_id),
                   about=ticket_id)
    elif name == "saved":
        saved = (await asyncio.to_thread(tickets.saved_replies))[:MAX_SAVED_SHOWN]
        if not saved:
            await _say(context, message, say(lang, "staff_saved_none"))
            return
        # Answers offered as buttons under the command (nothing is sent to the person yet).
        await _say(context, message, say(lang, "staff_saved_choose", number=ticket_id),
                   tuple((Button(label(n), AnswerWithSaved(ticket_id, i)),)
                         for i, n, _ in saved))
    elif name == "faq":
        if not rest:
            await _say(context, message, say(lang, "staff_faq_usage"))
            return
        found = await asyncio.to_thread(staff.brain.matcher.matches, rest)
        if not found:
            await _say(context, message, say(lang, "staff_faq_none", query=label(rest)))
            return
        await _say(context, message, say(lang, "staff_faq_choose", number=ticket_id),
                   tuple((Button(label(m.entry.question_in(lang)),
                                 AnswerWithFaq(ticket_id, entry_key(m.entry.id))),)
                         for m in found[:MAX_FAQ_CHOICES]))


async def _assign(context: BotContext, message: Message, name: str, args: list[str]) -> None:
    """/assign N (as a reply to a colleague's message, or with @username), /unassign N."""
    assert message.from_user is not None
    staff = context.bot_data.staff_desk
    tickets, who, lang = staff.tickets, staff_member(message.from_user), staff.tickets.lang
    numbers = [a.lstrip("#") for a in args if a.lstrip("#").isdecimal()]
    usernames = [a for a in args if a.startswith("@")]
    ticket_id = int(numbers[0]) if numbers else await _ticket_of(staff, message,
                                                                 context.bot.id)
    if ticket_id is None:
        await _say(context, message, say(lang, "staff_assign_usage"))
        return
    if name == "unassign":
        await _answer(context, message, lambda: Reply(
            tickets.assign(ticket_id, None, who).text, naming=frozenset({who.id})))
        return
    target: StaffMember | None = None
    if usernames:
        target = await asyncio.to_thread(tickets.staff_named, usernames[0])
        if target is None:
            await _say(context, message, say(lang, "staff_unknown_member", who=usernames[0]))
            return
    else:
        replied = message.reply_to_message
        author = replied.from_user if replied else None
        if author is None or author.is_bot or \
                not await staff.is_staff(context.bot, author, message.chat.id):
            await _say(context, message, say(lang, "staff_assign_usage"))
            return
        target = staff_member(author)
    named = frozenset({who.id, target.id})
    await _answer(context, message, lambda: Reply(
        tickets.assign(ticket_id, target, who).text, naming=named))


async def on_choice(update: Update, context: BotContext) -> None:
    """A FAQ entry (/faq) or a saved reply (/saved) chosen for a ticket: sent to the person."""
    query = update.callback_query
    if query is None:
        return
    staff = context.bot_data.staff_desk
    lang = staff.tickets.lang
    choice = buttons.unpack(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if not isinstance(choice, (AnswerWithFaq, AnswerWithSaved)) or message is None \
            or message.chat.id not in staff.tickets.staff_chats \
            or not await staff.is_staff(context.bot, query.from_user, message.chat.id):
        await acknowledge(query, phrases.raw(lang, "staff_not_allowed"))
        return
    who = staff_member(query.from_user)
    # One answer per offer, however often (or however fast) its buttons are pressed.
    chosen_at = (message.chat.id, message.message_id)
    if isinstance(choice, AnswerWithFaq):
        entry = next((e for e in staff.brain.faq.entries if entry_key(e.id) == choice.entry_key),
                     None)
        if entry is None:
            await acknowledge(query, phrases.raw(lang, "button_expired"))
            return
        outcome = await asyncio.to_thread(staff.tickets.answer_with, choice.ticket, who,
                                          _entry_answer(entry), entry.id, chosen_at=chosen_at)
    else:
        outcome = await asyncio.to_thread(staff.tickets.answer_saved, choice.ticket, who,
                                          choice.saved, chosen_at=chosen_at)
    await acknowledge(query, plain(outcome.text))
    if outcome.ok:  # the offer shows what was sent, without its buttons
        await send(context, message.chat.id, [],
                   edit=(message.message_id,
                         Reply(Html(message.text_html + "\n\n" + outcome.text))))


async def on_edited(update: Update, context: BotContext) -> None:
    """A person edited a message in their private chat: the staff's copy shows the edit."""
    message = update.edited_message
    if message is None or message.from_user is None:
        return
    tickets = context.bot_data.staff_desk.tickets
    await asyncio.to_thread(tickets.edited, message.from_user.id, message.chat.id,
                            message.message_id, message.text or message.caption)


async def on_migrate(update: Update, context: BotContext) -> None:
    """A staff group became a supergroup: follow it (both service messages say so)."""
    message = update.effective_message
    if message is None:
        return
    staff = context.bot_data.staff_desk
    if message.migrate_to_chat_id:
        await staff.moved(message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await staff.moved(message.migrate_from_chat_id, message.chat.id)


async def command_under_ticket(update: Update, context: BotContext) -> bool:
    """A staff member's message under a ticket that starts with a command no staff handler
    knows ("/restart the app, then pick Register", "/closse 12", or a people's command such
    as "/search ..."): not sent to the person (it may be a mistyped command), and the staff
    member is told so, not left to think it was. True when the message is under a ticket
    (handled, told or not)."""
    message = update.effective_message
    if message is None or message.text is None:
        return False
    staff = context.bot_data.staff_desk
    if message.chat.id not in staff.tickets.staff_chats:
        return False
    ticket_id = await _ticket_of(staff, message, context.bot.id)
    if ticket_id is None:
        return False
    if await _may_act(context, message):
        await _say(context, message, phrases.say(staff.tickets.lang, "staff_unknown_command",
                                                 number=ticket_id,
                                                 command=message.text.split(maxsplit=1)[0]))
    return True


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """The staff chat's commands that no handler took: see :func:`command_under_ticket`."""
    await command_under_ticket(update, context)


def register_last(application: BotApplication, brain: Assistant) -> None:
    """After every other handler (:func:`on_unknown_command`): the staff chat's commands
    that no handler took."""
    if brain.config.staff.chat_id is not None:
        application.add_handler(MessageHandler(
            application.bot_data.staff_desk.chats & filters.UpdateType.MESSAGE
            & filters.COMMAND, on_unknown_command))


def register(application: BotApplication, brain: Assistant) -> None:
    """Add the staff chat's handlers and jobs (before the people's handlers)."""
    config = brain.config.staff
    staff = StaffDesk(brain.tickets, application.bot_data.sender, brain)
    staff.sender.on_moved = staff.moved
    application.bot_data.staff_desk = staff
    jobs = application.job_queue
    if jobs is not None:
        remind_every = min(max(config.remind_after.total_seconds() / 2, 0.2), 60.0)
        jobs.run_repeating(remind, interval=remind_every, first=remind_every, name="reminders")
        jobs.run_repeating(post_followups, interval=FOLLOWUPS_POLL, first=1.0,
                           name="follow-ups-poll")
        jobs.run_repeating(forget_old, interval=24 * 3600, first=60, name="forget")
        jobs.run_repeating(follow_moves, interval=60, first=60, name="staff-chats")
    if config.chat_id is None:
        return
    unknown = sorted(set(config.routes) - set(brain.faq.categories()))
    if unknown:
        log.warning("staff.routes names FAQ categories the FAQ does not have: %s",
                    ", ".join(unknown))
    in_staff_chat = staff.chats & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    application.add_handler(MessageHandler(
        filters.UpdateType.EDITED_MESSAGE & filters.ChatType.PRIVATE, on_edited))
    application.add_handler(MessageHandler(
        staff.chats & filters.UpdateType.EDITED_MESSAGE & ~filters.COMMAND, on_staff_edit))
    application.add_handler(CommandHandler(list(STAFF_COMMANDS), on_command,
                                           filters=in_staff_chat))
    application.add_handler(CommandHandler([*DESK_COMMANDS, "start"], on_desk_command,
                                           filters=in_staff_chat))
    # Not service messages: a forum topic closed, reopened or renamed, a message pinned in
    # a ticket's topic is no answer to send the person.
    application.add_handler(MessageHandler(
        in_staff_chat & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_reply))
    application.add_handler(CallbackQueryHandler(on_button, pattern=buttons.of(TicketAction)))
    application.add_handler(CallbackQueryHandler(
        on_choice, pattern=buttons.of(AnswerWithFaq, AnswerWithSaved)))
