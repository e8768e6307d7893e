"""Tickets and the outbox, on SQLite and on PostgreSQL: what the staff chat and the
person would receive, as the queued Bot API calls, with a clock the tests move."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import learning, privacy
from bot.choices import Button, CloseTicket, Rate, buttons_to_json
from bot.config import Config, StaffConfig, load_config
from bot.intents import Say
from bot.outbox import STAFF_REPLY, Call, Outbox, enqueue
from bot.phrases import Html, escape
from bot.storage import Database, FaqSuggestion, OutboxItem, OutboxMention, Ticket
from bot.tickets import FollowedUp, StaffMember, StaffMessage, Tickets, guesses_of
from bot.workhours import parse_hours
from botapi.harness import PROJECT_ROOT
from botapi.server import visible_text

STAFF_CHAT = -1001112223334
ANA = 5001
BESA = StaffMember(9001, "Besa Hoxha")
GUESSES = guesses_of([("ngo-registration", "Si regjistrohet një OJF?", 47.25),
                      ("ngo-statute", "Si ndryshoj statutin?", 44.0)])


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def config(**staff: object) -> Config:
    base = load_config(PROJECT_ROOT / "config.yaml")
    settings = {"chat_id": STAFF_CHAT, "remind_after": timedelta(minutes=10),
                "max_tickets_per_hour": 3, **staff}
    return dataclasses.replace(base, staff=StaffConfig(**settings), admins=(9999,))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tickets(database: Database, clock: Clock) -> Tickets:
    return Tickets(database, config(), clock=clock)


@pytest.fixture
def outbox(database: Database, clock: Clock, tickets: Tickets) -> Outbox:
    return Outbox(database, timedelta(seconds=2), clock=clock, undelivered=tickets.undelivered)


def send_all(outbox: Outbox) -> list[Call]:
    """Play a Telegram that accepts everything: make each due call, as the sender does (a
    look, then each chat's next call as the previous one is recorded), with new message
    ids."""
    done: list[Call] = []
    while calls := outbox.look()[0]:
        for first in calls:
            call: Call | None = first
            while call is not None:
                done.append(call)
                _, call = outbox.sent_then_next(
                    call, message_id=1000 + call.id,
                    thread_id=500 + call.id if call.kind == "open_topic" else None)
    return done


def open_ticket(tickets: Tickets, user: int = ANA, question: str = "Si e mbyll shoqatën?") -> int:
    opened = tickets.open(user, "Ana", question, "sq", GUESSES)
    assert opened.ticket_id is not None, opened
    return opened.ticket_id


def test_a_ticket_is_stored_and_posted_to_the_staff_chat(tickets: Tickets, outbox: Outbox,
                                                         database: Database) -> None:
    number = open_ticket(tickets)
    with database.session() as session:
        ticket = session.get(Ticket, number)
        assert (ticket.question, ticket.language, ticket.status) == (
            "Si e mbyll shoqatën?", "sq", "open")
        assert ticket.guesses[0] == {"id": "ngo-registration",
                                     "question": "Si regjistrohet një OJF?", "score": 47.2}
    [post], _ = outbox.look()
    assert post.chat_id == STAFF_CHAT and post.kind == "post_ticket"
    card = visible_text(post.intent.text)
    assert f"Bileta #{number}" in card and "Si e mbyll shoqatën?" in card
    assert f"Ana (id {ANA})" in card and "Si regjistrohet një OJF? (47.2)" in card
    assert [label for row in post.intent.buttons for label, _ in row] == [
        "Merre", "Mbyll", "Shto te FAQ"]
    assert outbox.sent_then_next(post, message_id=77) == (True, None)
    assert outbox.sent_then_next(post, message_id=78) == (False, None)  # marked once
    assert tickets.ticket_at(STAFF_CHAT, 77) == number
    assert outbox.look() == ([], None)


def test_follow_ups_in_a_row_are_acknowledged_once(tickets: Tickets, clock: Clock,
                                                    outbox: Outbox) -> None:
    """One "Added to ticket #N." for messages written in a row (followup_batch is 3 s)."""
    open_ticket(tickets)
    send_all(outbox)

    def told(message_id: int, kind: str = "text") -> bool:
        followed = tickets.follow_up(ANA, ANA, message_id, "më shumë", kind)
        assert followed is not None
        return followed.tell

    assert told(1)  # the first after the question that opened the ticket
    clock.advance(seconds=1)
    assert [told(2), told(3), told(4), told(5)] == [False] * 4
    assert told(1)  # handled again after a crash: the same answer
    clock.advance(seconds=10)  # still waiting to be posted: still in a row
    assert not told(6)
    assert tickets.post_followups() == 1
    clock.advance(seconds=4)
    assert told(7)  # a new row
    assert tickets.post_followups(everything=True) == 1
    clock.advance(seconds=4)
    assert [told(8, "photo"), told(9, "photo"), told(10, "document")] == [True, False, False]
    clock.advance(seconds=2)
    assert not told(11)  # 2 s after the last one
    clock.advance(seconds=3.5)
    assert tickets.post_followups() == 1
    assert told(12, "photo")


def test_the_bot_knows_when_the_next_follow_up_is_due(tickets: Tickets, clock: Clock) -> None:
    """followup_batch is 3 s: the staff chat gets the first text 3 s after it was written."""
    open_ticket(tickets)
    assert tickets.followups_due_in() is None
    tickets.follow_up(ANA, ANA, 42, "edhe diçka")
    assert tickets.followups_due_in() == timedelta(seconds=3)
    clock.advance(seconds=2)
    tickets.follow_up(ANA, ANA, 43, "dhe kjo")
    assert tickets.followups_due_in() == timedelta(seconds=1)
    clock.advance(seconds=1)
    assert tickets.post_followups() == 1
    assert tickets.followups_due_in() is None


def test_anonymous_mode_shows_only_an_alias(database: Database, clock: Clock,
                                            outbox: Outbox) -> None:
    tickets = Tickets(database, config(anonymous=True), clock=clock)
    number = open_ticket(tickets)
    [post], _ = outbox.look()
    card = visible_text(post.intent.text)
    assert f"Pyetësi #{number}" in card
    assert "Ana" not in card and str(ANA) not in card


def test_follow_ups_wait_for_the_ticket_post_and_reply_to_it(tickets: Tickets,
                                                             outbox: Outbox) -> None:
    number = open_ticket(tickets)
    assert tickets.follow_up(ANA, ANA, 42, "edhe diçka") == FollowedUp(number, "sq", True)
    assert tickets.follow_up(ANA, ANA, 42,  # handled again
                             "edhe diçka") == FollowedUp(number, "sq", True)
    assert tickets.post_followups() == 0  # they wait to be posted together
    assert tickets.follow_up(ANA, ANA, 44, "dhe <kjo>") == FollowedUp(number, "sq", False)
    assert tickets.post_followups(everything=True) == 1
    [post], _ = outbox.look()  # the follow-ups wait behind the post in the same chat
    assert post.kind == "post_ticket" and post.intent.text.startswith("🎫")
    _, copy = outbox.sent_then_next(post, message_id=300)
    assert copy is not None and copy.kind == "note"
    assert visible_text(copy.intent.text).endswith("\n\nedhe diçka\n\ndhe <kjo>")
    assert copy.ticket_post == 300
    outbox.sent_then_next(copy, message_id=301)
    assert tickets.post_followups(everything=True) == 0
    # A staff reply to the copy belongs to the same ticket.
    assert tickets.ticket_of(StaffMessage(STAFF_CHAT, 302, reply_to=301)) == number
    assert tickets.ticket_of(StaffMessage(STAFF_CHAT, 303, reply_to=300)) == number
    assert tickets.ticket_of(StaffMessage(STAFF_CHAT, 304, reply_to=299)) is None
    assert tickets.follow_up(6000, 6000, 43, "s'kam biletë") is None


def test_the_staff_answer_is_delivered_with_the_ticket_number(tickets: Tickets, outbox: Outbox,
                                                              database: Database) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    outcome = tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 400, reply_to=1001,
                                                        text="Me vendim gjykate."))
    assert outcome.ok
    calls = send_all(outbox)
    [delivery] = [c for c in calls if c.chat_id == ANA]
    assert visible_text(delivery.intent.text).startswith(
        f"💬 Përgjigje nga stafi (bileta #{number}):")
    assert "Me vendim gjykate." in delivery.intent.text
    assert delivery.intent.buttons == buttons_to_json(
        ((Button("Mbyll biletën", CloseTicket("sq", number)),),))
    [edit] = [c for c in calls if c.kind == "update_ticket"]
    assert "e përgjigjur" in visible_text(edit.intent.text)
    assert "Besa Hoxha" in visible_text(edit.intent.text)  # answering claims it
    with database.session() as session:
        assert session.get(Ticket, number).status == "answered"


def test_a_photo_answer_is_copied_with_the_ticket_number_as_caption(tickets: Tickets,
                                                                    outbox: Outbox) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 401, reply_to=1001, text="Formulari",
                                              kind="photo"))
    [copy] = [c for c in send_all(outbox) if c.chat_id == ANA]
    assert copy.kind == "deliver" and copy.intent.message_id == 401
    assert f"bileta #{number}" in copy.intent.caption and "Formulari" in copy.intent.caption


def test_a_failed_call_holds_back_its_chat_only_until_retried(tickets: Tickets, outbox: Outbox,
                                                              clock: Clock) -> None:
    first = open_ticket(tickets)
    second = open_ticket(tickets, user=ANA + 1)
    [post], _ = outbox.look()
    assert post.ticket_id == first
    outbox.retry(post, "429 Too Many Requests", after=30)
    # The second ticket's post waits behind the first, tried again in 30 s.
    assert outbox.look() == ([], clock.now + timedelta(seconds=30))
    clock.advance(seconds=29)
    assert outbox.look() == ([], clock.now + timedelta(seconds=1))
    clock.advance(seconds=2)
    assert [c.ticket_id for c in send_all(outbox)] == [first, second]
    assert outbox.counts() == {"sent": 2}


def test_retries_back_off(tickets: Tickets, outbox: Outbox, clock: Clock) -> None:
    open_ticket(tickets)
    [post], _ = outbox.look()
    assert outbox.retry(post, "500") == clock.now + timedelta(seconds=2)
    clock.advance(seconds=2)
    [post], _ = outbox.look()
    assert outbox.retry(post, "500") == clock.now + timedelta(seconds=4)


def test_given_up_calls_let_the_queue_move_on(tickets: Tickets, outbox: Outbox) -> None:
    open_ticket(tickets)
    open_ticket(tickets, user=ANA + 1)
    [post], _ = outbox.look()
    outbox.give_up(post, "403 Forbidden")
    [following], _ = outbox.look()
    assert following.id != post.id
    assert outbox.counts() == {"failed": 1, "pending": 1}


def test_at_most_n_tickets_per_hour(tickets: Tickets, clock: Clock) -> None:
    for _ in range(3):
        open_ticket(tickets)
    assert tickets.open(ANA, "Ana", "edhe një", "sq", []).refusal == "too_many"
    assert tickets.open(ANA + 1, "Besi", "unë jo", "sq", []).ticket_id is not None
    clock.advance(minutes=61)
    assert tickets.open(ANA, "Ana", "tani po", "sq", []).ticket_id is not None


def test_banned_people_get_no_tickets_and_their_open_ones_close(tickets: Tickets,
                                                                database: Database) -> None:
    number = open_ticket(tickets)
    assert tickets.ban(ANA, BESA).ok
    assert tickets.open(ANA, "Ana", "përsëri", "sq", []).refusal == "banned"
    assert tickets.follow_up(ANA, ANA, 7, "hello") is None
    with database.session() as session:
        assert session.get(Ticket, number).status == "closed"
    assert tickets.unban(ANA, BESA).ok
    assert not tickets.unban(ANA, BESA).ok
    assert tickets.open(ANA, "Ana", "përsëri", "sq", []).ticket_id is not None


def test_only_the_person_may_close_their_ticket(tickets: Tickets, outbox: Outbox,
                                                database: Database) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    assert tickets.close_by_person(ANA + 1, number) is False
    assert tickets.close_by_person(ANA, 999) is False
    assert tickets.current(ANA) == number
    assert tickets.close_by_person(ANA, number) is True
    assert tickets.current(ANA) is None
    notes = [visible_text(getattr(c.intent, "text", None) or "") for c in send_all(outbox)]
    assert f"Personi e mbylli biletën #{number}." in notes


def test_claim_close_reopen(tickets: Tickets, outbox: Outbox) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    assert tickets.claim(number, BESA).ok
    [edit] = send_all(outbox)
    assert edit.kind == "update_ticket" and edit.ticket_post == 1001
    assert "E mori: Besa Hoxha" in visible_text(edit.intent.text)
    assert tickets.close(number, BESA).ok
    assert not tickets.close(number, BESA).ok
    closed = send_all(outbox)
    [notice] = [c for c in closed if c.chat_id == ANA]
    assert f"Stafi e mbylli biletën #{number}" in notice.intent.text
    assert not tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 9, text="vonë")).ok
    assert tickets.reopen(number, BESA).ok and tickets.current(ANA) == number
    assert not tickets.claim(12345, BESA).ok


def test_add_to_faq_stores_a_suggestion_once(tickets: Tickets, outbox: Outbox,
                                             database: Database) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    assert not tickets.suggest_faq(number, BESA).ok  # no answer yet
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 500, reply_to=1001,
                                              text="Me kërkesë në gjykatë."))
    assert tickets.suggest_faq(number, BESA).ok
    assert not tickets.suggest_faq(number, BESA).ok
    with database.session() as session:
        [suggestion] = session.scalars(select(FaqSuggestion)).all()
        assert (suggestion.question, suggestion.language, suggestion.answer,
                suggestion.entry_id, suggestion.status) == (
            "Si e mbyll shoqatën?", "sq", "Me kërkesë në gjykatë.", "ngo-registration",
            "pending")


def test_open_tickets_are_announced_again_once_per_period(tickets: Tickets, outbox: Outbox,
                                                          clock: Clock) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    clock.advance(minutes=5)
    assert tickets.remind() == 0
    clock.advance(minutes=6)
    assert tickets.remind() == 1
    assert tickets.remind() == 0
    [reminder] = send_all(outbox)
    assert reminder.chat_id == STAFF_CHAT and reminder.kind == "note" and reminder.ticket_post == 1001
    assert f"Bileta #{number} pret prej 11m" in visible_text(reminder.intent.text)
    clock.advance(minutes=10)
    assert tickets.remind() == 1
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 600, reply_to=1001, text="ok"))
    clock.advance(minutes=30)
    assert tickets.remind() == 0  # answered tickets wait for the person, not the staff


def test_open_list_oldest_first_with_age_and_claim(tickets: Tickets, clock: Clock) -> None:
    first = open_ticket(tickets, question="E para")
    clock.advance(hours=2, minutes=5)
    second = open_ticket(tickets, user=ANA + 1, question="E dyta")
    tickets.claim(second, BESA)
    clock.advance(minutes=1)
    lines = visible_text(tickets.listing().text).splitlines()
    assert lines[1] == f"#{first} · 2h 06m · e hapur · pa marrë · E para"
    assert lines[2] == f"#{second} · 1m · e hapur · Besa Hoxha · E dyta"


def test_forum_topics_one_per_ticket(database: Database, clock: Clock, outbox: Outbox) -> None:
    tickets = Tickets(database, config(), clock=clock)
    tickets.forums.add(STAFF_CHAT)
    number = open_ticket(tickets)
    [topic], _ = outbox.look()
    assert topic.kind == "open_topic"
    assert topic.intent.name == f"#{number} Ana (id {ANA})"
    _, post = outbox.sent_then_next(topic, thread_id=77)
    assert post is not None and post.kind == "post_ticket" and post.ticket_topic == 77
    outbox.sent_then_next(post, message_id=88)
    assert tickets.ticket_of(StaffMessage(STAFF_CHAT, 90, thread_id=77, reply_to=77)) == number


def test_drafts_become_tickets_once_and_only_for_their_author(tickets: Tickets) -> None:
    draft = tickets.save_draft(ANA, "A ka afat?", "sq", GUESSES)
    assert tickets.open_from_draft(ANA + 1, "Tjetri", draft).refusal == "expired"
    opened = tickets.open_from_draft(ANA, "Ana", draft)
    assert opened.ticket_id is not None
    assert tickets.open_from_draft(ANA, "Ana", draft).refusal == "expired"


def test_without_a_staff_chat_nothing_is_opened(database: Database, clock: Clock) -> None:
    tickets = Tickets(database, config(chat_id=None), clock=clock)
    assert not tickets.enabled
    assert tickets.open(ANA, "Ana", "pyetje", "sq", []).refusal == "disabled"


def test_a_very_long_staff_answer_is_split_and_html_is_escaped(tickets: Tickets,
                                                               outbox: Outbox) -> None:
    number = open_ticket(tickets, question="<script>alert(1)</script> & <b>sa kushton?</b>")
    [post] = send_all(outbox)
    assert "<script>alert(1)</script> & <b>sa kushton?</b>" in visible_text(post.intent.text)
    body = "Përgjigje e gjatë & <i>e saktë</i>. " * 120  # about 4,300 characters
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 700, reply_to=1001, text=body))
    header, *pieces = [c for c in send_all(outbox) if c.chat_id == ANA]
    assert visible_text(header.intent.text).startswith(
        f"💬 Përgjigje nga stafi (bileta #{number})")
    assert len(pieces) == 2 and all(len(p.intent.text) <= 4096 for p in pieces)
    assert " ".join(visible_text(p.intent.text) for p in pieces).split() == body.split()
    assert header.intent.buttons == pieces[0].intent.buttons == []
    assert pieces[-1].intent.buttons[0][0][0] == "Mbyll biletën"


def test_anonymous_ban_does_not_show_the_id(database: Database, clock: Clock) -> None:
    tickets = Tickets(database, config(anonymous=True), clock=clock)
    outcome = tickets.ban(ANA, BESA)
    assert outcome.text == "Personi u bllokua: nuk mund të hapë më bileta."


def test_an_answer_that_cannot_be_delivered_is_reported_to_the_staff(tickets: Tickets,
                                                                      outbox: Outbox) -> None:
    number = open_ticket(tickets)
    send_all(outbox)
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 800, reply_to=1001, text="Ja"))
    [delivery, edit] = sorted(outbox.look()[0], key=lambda c: c.chat_id != ANA)
    assert delivery.chat_id == ANA
    outbox.give_up(delivery, "Bad Request: can't parse entities")
    _, reopened = outbox.sent_then_next(edit)
    assert reopened is not None and reopened.kind == "update_ticket"
    assert visible_text(reopened.intent.text).startswith(f"🎫 Bileta #{number} · e hapur\n")
    _, note = outbox.sent_then_next(reopened)
    assert note is not None
    assert note.chat_id == STAFF_CHAT and note.kind == "note" and note.ticket_post == 1001
    assert visible_text(note.intent.text) == (
        f"⚠️ Përgjigja nuk arriti te personi (bileta #{number}): Telegram e refuzoi "
        "(Bad Request: can't parse entities). Bileta është sërish e hapur: nuk llogaritet "
        "si e përgjigjur.")
    assert tickets.listing().text.splitlines()[1].startswith(f"#{number} · 0m · e hapur · ")


def test_an_answer_refused_while_another_is_on_its_way_leaves_the_ticket_answered(
        tickets: Tickets, outbox: Outbox, database: Database) -> None:
    """Of a long answer in pieces, each refused piece is reported; the ticket is open again
    only when the last one is refused too, and stays answered when one goes through."""
    number = open_ticket(tickets)
    send_all(outbox)
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 800, reply_to=1001, text="Ja"))
    tickets.answer(number, BESA, StaffMessage(STAFF_CHAT, 801, reply_to=1001, text="Dhe"))
    [first, _] = sorted(outbox.look()[0], key=lambda c: c.chat_id != ANA)
    outbox.give_up(first, "Forbidden: bot was blocked by the user", "blocked")
    with database.session() as session:
        assert session.get(Ticket, number).status == "answered"
    notes = [c for c in send_all(outbox) if c.kind == "note"]
    assert [visible_text(c.intent.text) for c in notes] == [
        f"⚠️ Përgjigja nuk arriti te personi (bileta #{number}): personi e ka bllokuar botin."]
    with database.session() as session:
        assert session.get(Ticket, number).status == "answered"


def test_the_outbox_settings_are_read_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("staff:\n  chat_id: -100123\n  retry_interval: 2s\n  send_timeout: 3\n",
                    encoding="utf-8")
    staff = load_config(path, environ={}).staff
    assert (staff.chat_id, staff.retry_interval, staff.send_timeout) == (
        -100123, timedelta(seconds=2), 3.0)


def test_forged_numbers_change_nothing(tickets: Tickets) -> None:
    number = open_ticket(tickets)
    huge = 10**12  # more than any id column holds
    assert not tickets.close(huge, BESA).ok and not tickets.claim(-1, BESA).ok
    assert tickets.close_by_person(ANA, huge) is False
    assert tickets.open_from_draft(ANA, "Ana", huge).refusal == "expired"
    assert tickets.person_of(huge) is None
    assert tickets.current(ANA) == number


# --- the staff desk ------------------------------------------------------------------

def test_reminders_count_working_time_only(database: Database, clock: Clock,
                                           outbox: Outbox) -> None:
    # 2026-03-06 is a Friday; the office closes at 16:00 in Tirana (15:00 UTC in winter).
    hours = parse_hours("Europe/Tirane", {"mon-fri": "08:00-16:00"})
    tickets = Tickets(database, config(hours=hours, remind_after=timedelta(hours=1)),
                      clock=clock)
    clock.now = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)   # 15:30 in Tirana
    opened = tickets.open(ANA, "Ana", "Pyetje e premtes", "sq", [])
    assert opened.staff_from is None
    send_all(outbox)
    clock.now = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)    # Sunday: 30 working minutes
    assert tickets.remind() == 0
    clock.now = datetime(2026, 3, 9, 7, 20, tzinfo=UTC)    # Monday 08:20: 50 minutes
    assert tickets.remind() == 0
    clock.now = datetime(2026, 3, 9, 7, 31, tzinfo=UTC)    # 08:31: an hour of work
    assert tickets.remind() == 1
    # A ticket opened on Saturday is told Monday 08:00 (Tirana time).
    clock.now = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    weekend = tickets.open(ANA + 1, "Besi", "Pyetje e shtunës", "sq", [])
    assert weekend.staff_from == datetime(2026, 3, 9, 8, 0, tzinfo=ZoneInfo("Europe/Tirane"))


def test_a_rating_is_given_once_by_the_person_after_closing(tickets: Tickets, outbox: Outbox,
                                                           clock: Clock,
                                                           database: Database) -> None:
    number = open_ticket(tickets)
    assert not tickets.rate(ANA, number, good=True)      # not closed yet
    assert tickets.close(number, BESA).ok
    [notice] = [c for c in send_all(outbox) if c.chat_id == ANA]
    assert notice.intent.buttons == buttons_to_json(
        ((Button("👍", Rate("sq", number, good=True)),
          Button("👎", Rate("sq", number, good=False))),))
    assert not tickets.rate(ANA + 1, number, good=True)  # someone else's
    assert not tickets.want_comment(ANA, number)         # not rated yet
    assert tickets.rate(ANA, number, good=False)
    assert not tickets.rate(ANA, number, good=True)      # once
    assert tickets.take_comment(ANA, "pa kërkuar") is None
    assert not tickets.want_comment(ANA + 1, number)      # not theirs
    assert tickets.want_comment(ANA, number)
    clock.advance(minutes=31)
    assert tickets.take_comment(ANA, "shumë vonë") is None  # the window passed
    assert tickets.want_comment(ANA, number)
    assert tickets.take_comment(ANA, "Përgjigja erdhi vonë") == number
    assert not tickets.want_comment(ANA, number)         # one comment
    with database.session() as session:
        ticket = session.get(Ticket, number)
        assert (ticket.rating, ticket.rating_comment) == (-1, "Përgjigja erdhi vonë")
    # Reopened and closed again: not asked a second time.
    tickets.reopen(number, BESA)
    send_all(outbox)
    tickets.close(number, BESA)
    [again] = [c for c in send_all(outbox) if c.chat_id == ANA]
    assert again.intent.buttons == []


def test_questions_go_to_the_chat_of_their_category(database: Database, clock: Clock,
                                                   outbox: Outbox) -> None:
    grants = -1005550009999
    tickets = Tickets(database, config(routes={"registration": grants}), clock=clock)
    tickets.category_of = {"ngo-registration": "registration"}.get
    routed = open_ticket(tickets)
    other = tickets.open(ANA + 1, "Besi", "Pa hamendje", "sq", []).ticket_id
    posts = {c.ticket_id: c.chat_id for c in send_all(outbox) if c.kind == "post_ticket"}
    assert posts == {routed: grants, other: STAFF_CHAT}
    assert tickets.staff_chats == {STAFF_CHAT, grants}


def test_a_moved_staff_chat_takes_its_tickets_and_queue(database: Database, clock: Clock,
                                                       outbox: Outbox) -> None:
    new_chat = -1007770001111
    tickets = Tickets(database, config(), clock=clock)
    stale = Tickets(database, config(), clock=clock)
    answered, waiting, closed = (open_ticket(tickets, ANA + i) for i in range(3))
    send_all(outbox)
    tickets.close(closed, BESA)
    send_all(outbox)
    tickets.claim(waiting, BESA)  # its edit is queued for the old chat when it moves
    assert tickets.move_chat(STAFF_CHAT, new_chat)
    with database.session() as session:  # a call queued for the old id meanwhile
        enqueue(session, chat_id=STAFF_CHAT, intent=Say("vonë"),
                purpose="staff_note", now=clock.now)
    straggler = open_ticket(stale, ANA + 9)  # a worker that did not know yet
    assert stale.load_moves() == {new_chat} and stale.default_chat == new_chat
    assert not tickets.move_chat(STAFF_CHAT, -1)  # told again: what waits for it moves
    calls = send_all(outbox)
    reposted = sorted(c.ticket_id for c in calls
                      if c.kind == "post_ticket" and c.chat_id == new_chat and c.ticket_id)
    assert reposted == [answered, waiting, straggler]
    assert not [c for c in calls if c.chat_id == STAFF_CHAT]
    assert [c.chat_id for c in calls if getattr(c.intent, "text", None) == "vonë"] == [new_chat]
    told = [c for c in calls if c.ticket_id is None and "vonë" not in c.intent.text]
    assert sorted(c.chat_id for c in told) == sorted([new_chat, 9999])  # told once
    assert f"{STAFF_CHAT}" in told[0].intent.text and "staff.chat_id" in told[0].intent.text
    # A closed ticket reopened there gets a new post.
    tickets.reopen(closed, BESA)
    [post] = [c for c in send_all(outbox) if c.ticket_id == closed and c.chat_id == new_chat
              and c.kind == "post_ticket" and "Bileta" in visible_text(c.intent.text)[:9]]
    assert visible_text(post.intent.text).startswith(f"🎫 Bileta #{closed} · e hapur")
    # A new Tickets (a restart) knows the move; new tickets go to the new chat.
    again = Tickets(database, config(), clock=clock)
    assert again.default_chat == new_chat and again.staff_chats == {new_chat}
    fresh = open_ticket(again, ANA + 5)
    [post] = [c for c in send_all(outbox) if c.ticket_id == fresh]
    assert post.chat_id == new_chat
    assert again.ticket_of(StaffMessage(new_chat, 5, reply_to=1000 + post.id)) == fresh


def test_an_edit_of_a_relayed_message_edits_the_staff_copy(tickets: Tickets,
                                                           outbox: Outbox) -> None:
    opened = tickets.open(ANA, "Ana", "[foto]", "sq", [], message_id=70, relay="photo")
    number = opened.ticket_id
    assert number is not None
    calls = send_all(outbox)
    [copy] = [c for c in calls if c.kind == "relay"]
    assert copy.intent.message_id == 70
    assert tickets.edited(ANA, ANA, 70, "Vendimi i gjykatës")
    assert not tickets.edited(ANA + 1, ANA, 70, "jo i imi")
    assert not tickets.edited(ANA, ANA, 71, "asnjë biletë")
    calls = send_all(outbox)
    [caption] = [c for c in calls if c.kind == "edit_caption"]
    assert caption.copied == 1000 + copy.id
    assert visible_text(caption.intent.caption) == "✏️ (ndryshuar)\nVendimi i gjykatës"
    [card] = [c for c in calls if c.kind == "update_ticket"]
    assert "✏️ (ndryshuar) Vendimi i gjykatës" in visible_text(card.intent.text)


def test_an_edit_after_the_ticket_is_closed_leaves_its_question(
        tickets: Tickets, outbox: Outbox, database: Database) -> None:
    # The staff answered the question as it was: the closed ticket keeps it.
    opened = tickets.open(ANA, "Ana", "Si hap llogari?", "sq", [], message_id=80)
    number = opened.ticket_id
    assert number is not None
    send_all(outbox)
    assert tickets.close_by_person(ANA, number)
    send_all(outbox)
    assert not tickets.edited(ANA, ANA, 80, "Pyetje krejt tjeter pas mbylljes")
    assert not [c for c in send_all(outbox) if c.ticket_id == number]
    with database.session() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.question == "Si hap llogari?"


def test_a_question_the_staff_answer_in_their_own_words_is_out_of_scope_until_linked(
        tickets: Tickets, outbox: Outbox, database: Database) -> None:
    own = open_ticket(tickets, question="A jeni duke punësuar staf?")
    faq = open_ticket(tickets, user=ANA + 1, question="Si e mbyll shoqatën?")
    send_all(outbox)
    tickets.answer(own, BESA, StaffMessage(STAFF_CHAT, 900, reply_to=1001, text="Jo tani."))
    tickets.answer(own, BESA, StaffMessage(STAFF_CHAT, 901, reply_to=1001, text="Faleminderit."))
    tickets.answer(faq, BESA, StaffMessage(STAFF_CHAT, 902, reply_to=1002, text="Në gjykatë."))
    tickets.answer_with(faq, BESA, lambda lang: escape("Me kërkesë në gjykatë."),
                        "ngo-dissolution", chosen_at=(STAFF_CHAT, 903))
    assert [(q.text, q.source) for q in learning.handed_on(database)] == [
        ("A jeni duke punësuar staf?", "staff")]
    assert tickets.suggest_faq(own, BESA).ok  # an admin links the answer to an entry
    with database.session() as session:
        suggestion_id = session.scalars(select(FaqSuggestion.id)).one()
    assert learning.link_suggestion(database, suggestion_id, 0.6) == "ngo-registration"
    assert learning.handed_on(database) == []


def test_a_faq_answer_longer_than_a_message_reaches_the_person_in_pieces(
        tickets: Tickets, outbox: Outbox) -> None:
    number = open_ticket(tickets, question="Si e mbyll shoqatën?")
    send_all(outbox)
    paragraph = "Hapi i radhës: <b>vendimi</b> i asamblesë &amp; kërkesa në gjykatë. " * 12
    answer = Html("\n\n".join([paragraph] * 8))  # about 6,700 characters
    assert tickets.answer_with(number, BESA, lambda lang: answer, "ngo-dissolution",
                               chosen_at=(STAFF_CHAT, 903)).ok
    delivered = [c.intent for c in send_all(outbox) if c.kind == "deliver"]
    assert len(delivered) == 3
    assert all(d.text and len(d.text) <= 4096 for d in delivered)
    # Every word in order, cut between paragraphs, never inside a tag or an entity.
    assert " ".join(d.text or "" for d in delivered[1:]).split() == answer.split()
    assert all(d.text and d.text.rstrip().endswith("gjykatë.") for d in delivered[1:])
    assert delivered[-1].buttons and not delivered[1].buttons  # Close under the last piece


def test_follow_ups_posted_by_two_looks_at_once_are_posted_once(tickets: Tickets,
                                                                outbox: Outbox) -> None:
    """The poll and a planned look may run side by side (two threads, or two workers):
    the staff chat gets the person's text once."""
    open_ticket(tickets)
    send_all(outbox)
    assert tickets.follow_up(ANA, ANA, 1, "Edhe diçka tjetër") is not None
    start = threading.Barrier(4)

    def look() -> int:
        start.wait()
        return tickets.post_followups(everything=True)

    with ThreadPoolExecutor(4) as pool:
        posted = list(pool.map(lambda _: look(), range(4)))
    assert sum(posted) == 1
    notes = [call for call in send_all(outbox) if "Edhe diçka tjetër" in call.intent.text]
    assert len(notes) == 1


@pytest.mark.parametrize("forgotten", [ANA, BESA.id], ids=["person", "staff"])
def test_a_forget_while_a_listing_is_made_finds_it_in_the_outbox(
        tickets: Tickets, outbox: Outbox, database: Database, forgotten: int) -> None:
    """/open is read and queued in one transaction that a forget waits for
    (privacy.hold_for_naming, as handlers.staff does): a forget in another thread of a
    person listed, or of the staff member who has their ticket, commits after it is
    queued and finds it (no row names them any more)."""
    number = open_ticket(tickets, question="A mund të na ndihmoni me qiranë?")
    tickets.claim(number, BESA)
    started = threading.Event()
    with ThreadPoolExecutor(1) as pool, database.session() as session:
        privacy.hold_for_naming(session)
        listing = tickets.listing()
        forgets = pool.submit(lambda: (started.set(), privacy.forget(database, forgotten))[1])
        started.wait()
        time.sleep(0.3)  # the forget waits for this transaction
        assert not forgets.done()
        outbox.queue_replies(STAFF_CHAT, [Say(listing.text)], purpose=STAFF_REPLY,
                             naming=[listing.naming])
    done = forgets.result(timeout=30)
    with database.session() as session:
        named = session.scalars(select(OutboxMention.user_id)).all()
        listings = session.scalars(select(OutboxItem).where(
            OutboxItem.purpose == STAFF_REPLY)).all()
    assert f"#{number} " in listing.text and "Besa Hoxha" in listing.text
    assert forgotten not in named and not listings
    assert done.deleted.get("outbox", 0) >= 1


def test_a_forgotten_staff_members_reminders_leave_the_staff_chat(
        tickets: Tickets, outbox: Outbox, database: Database, clock: Clock) -> None:
    """A reminder of a claimed ticket names who has it: that staff member's forget deletes
    it from the staff chat (the ticket's post shows a pseudonym instead)."""
    number = open_ticket(tickets)
    tickets.claim(number, BESA)
    send_all(outbox)
    clock.advance(minutes=11)
    assert tickets.remind() == 1
    [reminder] = send_all(outbox)
    assert "Besa Hoxha" in visible_text(reminder.intent.text)
    done = privacy.forget(database, BESA.id)
    assert (STAFF_CHAT, 1000 + reminder.id) in done.copies
    with database.session() as session:
        assert session.get(OutboxItem, reminder.id) is None
