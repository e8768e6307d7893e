"""The staff desk end to end: notes, FAQ answers, saved replies, satisfaction, business
hours, media tickets and edits, assignment and history, routing, and a staff chat that
moves. The real Application long polls the Bot API test server; assertions are on what
the person and the staff see."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import phrases
from bot.config import Config
from bot.faq import load_faq
from bot.matcher import FaqMatcher
from bot.storage import Database, SavedReply, Ticket, TicketMessage
from bot.workhours import parse_hours
from botapi import BotApiServer, Call
from botapi.harness import PROJECT_ROOT, RunningBot
from handlers.staff import DESK_COMMANDS, STAFF_COMMANDS, entry_key
from staffchat import (BESA, DRITA, OUTSIDER, STAFF_CHAT, UNANSWERABLE, ask_staff, card_of,
                       deliveries, edited_follow_up, replies_to, settled, staff_chat,
                       staff_config, staff_says, start, wait_until)

ADMIN = 9500
GRANTS_CHAT = -1005550002222
NEW_CHAT = -1005550003333


pytestmark = pytest.mark.usefixtures("staff_members")


def desk_config(api: BotApiServer, database: Path | str, **staff: Any) -> Config:
    """The staff tests' config, with time for a slow machine: a call that outlives its
    timeout is retried, and Telegram would show that message twice."""
    return staff_config(api, database, **{"send_timeout": 10.0, **staff})


def besa(api: BotApiServer) -> dict[str, Any]:
    return {**api.user(BESA, "Besa"), "username": "besa_h"}


def drita(api: BotApiServer) -> dict[str, Any]:
    return {**api.user(DRITA, "Drita"), "username": "Drita_K"}


async def staff_command(api: BotApiServer, user: dict[str, Any], text: str,
                        reply_to: Call | dict | None = None, chat: dict | None = None) -> Call:
    """A staff member's command in the staff chat, and the bot's answer there."""
    since = api.mark()
    chat = chat or staff_chat(api)
    replied = reply_to.result if isinstance(reply_to, Call) else reply_to
    await api.send_text(user, text, chat=chat, reply_to=replied)
    return await api.wait_for("sendMessage", since=since,
                              where=lambda c: c.chat_id == chat["id"])


async def ask_directly(api: BotApiServer, person: dict[str, Any], question: str) -> int:
    """``/ask QUESTION``; returns the ticket's number."""
    [reply] = await replies_to(api, person, f"/ask {question}")
    return int(reply.text.split("#")[1].split(".")[0])


def ticket_row(config: Config, number: int) -> Ticket:
    with Database(config.database_url) as db, db.session() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        return ticket


# --- private notes ---------------------------------------------------------------

async def test_private_notes_stay_in_the_staff_chat(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = desk_config(api, database_url)
    await start(started, config)
    ana = api.user(6001, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    since = api.mark()
    said = await staff_command(api, besa(api), "! E njoh, ka ardhur edhe javën e kaluar", card)
    assert said.text == f"🔒 Shënim privat te bileta #{number}: personi nuk e sheh."
    said = await staff_command(api, besa(api), "/note Kontrollo statutin e tyre", card)
    assert said.text.startswith("🔒")
    [help_] = await settled(api, ana)
    assert api.sent_to(6001, since) == [help_]
    with Database(database_url) as db, db.session() as session:
        notes = session.scalars(select(TicketMessage.text).where(
            TicketMessage.ticket_id == number, TicketMessage.direction == "note")
            .order_by(TicketMessage.id)).all()
    assert notes == ["E njoh, ka ardhur edhe javën e kaluar", "Kontrollo statutin e tyre"]
    # The next plain reply does reach the person, and the notes never do.
    await staff_says(api, BESA, "Po, ju lutem sillni statutin.", card)
    await wait_until(lambda: deliveries(api, 6001, number))
    assert all("statutin e tyre" not in c.text and "javën e kaluar" not in c.text
               for c in api.sent_to(6001))


# --- answers from the FAQ and saved replies ---------------------------------------

async def test_faq_answer_in_the_persons_language_links_the_ticket(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = desk_config(api, database_url)
    await start(started, config)
    john = api.user(6002, "John", language_code="en")
    [reply] = await replies_to(api, john, "/ask Do I need a lawyer for our statute?")
    number = int(reply.text.split("#")[1].split(".")[0])
    card = await card_of(api, number)
    since = api.mark()
    offer = await staff_command(api, besa(api), "/faq ndryshimi i statutit", card)
    assert offer.text.startswith(f"Cila hyrje e FAQ t'i dërgohet personit të biletës #{number}")
    assert offer.buttons and all(re.fullmatch(rf"tk:fa:{number}:[0-9a-f]{{8}}", d)
                                 for row in offer.buttons for _, d in row)
    # nothing reaches the person before a choice
    [help_] = await settled(api, john)
    assert api.sent_to(6002, since) == [help_]

    faq = load_faq(config.faq_path)
    data = offer.buttons[0][0][1]
    entry = next(e for e in faq.entries if entry_key(e.id) == data.rsplit(":", 1)[1])
    # Someone who is not staff presses it: nothing happens.
    await api.press(api.user(OUTSIDER, "Xhon"), offer, data)
    toast = await api.wait_for("answerCallbackQuery", since=since)
    assert toast.params["text"] == "Vetëm stafi mund ta bëjë këtë."
    [again] = await settled(api, john)
    assert api.sent_to(6002, since) == [help_, again]

    since = api.mark()
    await api.press(besa(api), offer, data)
    answer = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6002)
    assert answer.text.startswith(f"💬 Answer from the staff (ticket #{number}):")
    assert entry.question_in("en") in answer.text and entry.answer_in("en")[:40] in answer.text
    assert answer.labels == ["Close the ticket"]
    await wait_until(lambda: "Përgjigjur me FAQ" in api.message_text(
        STAFF_CHAT, card.result["message_id"]))
    ticket = ticket_row(config, number)
    assert ticket.entry_id == entry.id and ticket.status == "answered"


async def test_saving_a_photo_keeps_its_caption_and_says_so(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, desk_config(api, database_url))
    form = await api.send_photo(besa(api), caption="Formulari i aplikimit", chat=staff_chat(api))
    said = await staff_command(api, besa(api), "/save formular", form["message"])
    assert said.text == ("Përgjigja «formular» u ruajt. Përdoreni me /saved si përgjigje një "
                         "bilete.\nRuhet vetëm teksti i saj: fotoja ose skedari jo.")


async def test_saved_replies_are_kept_and_sent_only_when_chosen(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = desk_config(api, database_url)
    await start(started, config)
    hours = await api.send_text(besa(api), "Zyra jonë është e hapur nga e hëna në të premte, "
                                "08:00-16:30.", chat=staff_chat(api))
    said = await staff_command(api, besa(api), "/save orari", hours["message"])
    assert said.text == "Përgjigja «orari» u ruajt. Përdoreni me /saved si përgjigje një bilete."
    said = await staff_command(api, besa(api), "/save emër me hapësira", hours["message"])
    assert said.text.startswith("Përdorimi: /save EMRI")
    listing = await staff_command(api, drita(api), "/saved")
    assert listing.text.splitlines() == ["Përgjigjet e ruajtura",
                                         "• orari: Zyra jonë është e hapur nga e hëna në të "
                                         "premte, 08:00-16:3…"]
    ana = api.user(6003, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    since = api.mark()
    offer = await staff_command(api, drita(api), "/saved", card)
    with Database(database_url) as db, db.session() as session:
        saved_id = session.scalars(select(SavedReply.id)).one()
    assert offer.buttons == [[("orari", f"tk:sv:{number}:{saved_id}")]]
    [help_] = await settled(api, ana)
    assert api.sent_to(6003, since) == [help_]  # offered
    # Pressed twice, the second press before the first is handled: sent once.
    await api.press(drita(api), offer, f"tk:sv:{number}:{saved_id}")
    await api.press(besa(api), offer, f"tk:sv:{number}:{saved_id}")
    [delivered] = await wait_until(lambda: deliveries(api, 6003, number))
    assert delivered.text.endswith("Zyra jonë është e hapur nga e hëna në të premte, 08:00-16:30.")
    # The choice is marked in the staff chat, without its buttons.
    await wait_until(lambda: "✓ U dërgua te personi" in api.message_text(
        STAFF_CHAT, offer.result["message_id"]))
    assert "reply_markup" not in api.stored(STAFF_CHAT, offer.result["message_id"])
    notices = [c.params.get("text") for c in api.calls_of("answerCallbackQuery", since)]
    assert "Kjo përgjigje është dërguar tashmë (bileta #1)." in notices
    await settled(api, ana)
    assert len(deliveries(api, 6003, number)) == 1


# --- satisfaction -----------------------------------------------------------------

async def test_satisfaction_is_asked_once_and_reported(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = dataclasses.replace(desk_config(api, database_url), admins=(ADMIN,))
    await start(started, config)
    ana = api.user(6004, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    await staff_says(api, BESA, "Ja përgjigja.", card)
    await wait_until(lambda: deliveries(api, 6004, number))
    since = api.mark()
    await staff_command(api, besa(api), f"/close {number}")
    closed = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6004)
    assert closed.text == (f"Stafi e mbylli biletën #{number}. Mund të më shkruani sërish kur "
                           "të doni.\n\nSi shkoi? Na tregoni me një prekje:")
    assert closed.buttons == [[("👍", f"r:sq:{number}:1"), ("👎", f"r:sq:{number}:0")]]
    # Someone else's press changes nothing.
    since = api.mark()
    await api.press(api.user(6099, "Besnik"), closed, f"r:sq:{number}:1")
    toast = await api.wait_for("answerCallbackQuery", since=since)
    assert toast.params["text"] == "Ky buton nuk është më i vlefshëm."

    since = api.mark()
    await api.press(ana, closed, f"r:sq:{number}:0")
    thanks = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6004)
    assert thanks.text == "Faleminderit për vlerësimin! Dëshironi të shtoni një koment?"
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT
                       and c.text == f"Personi vlerësoi biletën #{number}: 👎")
    again = api.mark()
    await api.press(ana, closed, f"r:sq:{number}:1")  # once per ticket
    toast = await api.wait_for("answerCallbackQuery", since=again)
    assert toast.params["text"] == "Ky buton nuk është më i vlefshëm."
    since = api.mark()
    await api.press(ana, thanks, thanks.buttons[0][0][1])
    prompt = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6004)
    assert prompt.text == "Shkruani komentin tuaj në mesazhin e radhës."
    [ok] = await replies_to(api, ana, "Përgjigja erdhi shumë vonë")
    assert ok.text == "Faleminderit për komentin!"
    await api.wait_for("sendMessage", where=lambda c: c.chat_id == STAFF_CHAT and c.text ==
                       f"💬 Komenti i personit për biletën #{number}: Përgjigja erdhi shumë vonë")
    # The next message is a question again.
    [reply] = await replies_to(api, ana, "Si ndryshoj statutin?")
    assert "A ju ndihmoi kjo përgjigje?" in reply.text

    # The person closes their own ticket: asked too; then /stats shows the figures.
    [opened] = await replies_to(api, ana, "/ask Pyetje tjetër për stafin")
    other = int(opened.text.split("#")[1].split(".")[0])
    await card_of(api, other)
    since = api.mark()
    await api.press(ana, opened, f"c:sq:{other}")
    closing = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6004)
    assert closing.buttons == [[("👍", f"r:sq:{other}:1"), ("👎", f"r:sq:{other}:0")]]
    await api.press(ana, closing, f"r:sq:{other}:1")
    await api.wait_for("sendMessage", where=lambda c: c.chat_id == STAFF_CHAT
                       and c.text == f"Personi vlerësoi biletën #{other}: 👍")
    since = api.mark()
    await api.send_text(api.user(ADMIN, "Admin"), "/stats")
    stats = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == ADMIN)
    assert "Kënaqësia me stafin: 50% 👍 (1 nga 2 vlerësime)" in stats.text
    assert re.search(rf"#{number} · \d{{4}}-\d\d-\d\d · .+ — «Përgjigja erdhi shumë vonë»",
                     stats.text), stats.text


async def test_a_ticket_closed_again_after_a_reopen_does_not_ask_for_a_rating_again(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """Asked once per ticket: closed again by the staff or by the person, it is not asked
    again; the buttons of the first ask still take the rating."""
    await start(started, desk_config(api, tmp_path / "bot.db"))
    ana = api.user(6005, "Ana")
    number = await ask_staff(api, ana)
    await card_of(api, number)

    async def told(command: str) -> Call:
        since = api.mark()
        await staff_command(api, besa(api), command)
        return await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6005)

    asked = await told(f"/close {number}")
    assert asked.text.endswith("Si shkoi? Na tregoni me një prekje:")
    await told(f"/reopen {number}")
    closed = await told(f"/close {number}")
    assert closed.text == (f"Stafi e mbylli biletën #{number}. Mund të më shkruani sërish kur "
                           "të doni.")
    assert closed.buttons == []
    reopened = await told(f"/reopen {number}")
    since = api.mark()
    await api.press(ana, reopened, f"c:sq:{number}")  # the close button of an earlier answer
    closing = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6005)
    assert closing.text == (f"Bileta #{number} u mbyll. Faleminderit! Mund të më shkruani "
                            "sërish kur të doni.")
    assert closing.buttons == []
    since = api.mark()
    await api.press(ana, asked, f"r:sq:{number}:1")
    thanks = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6005)
    assert thanks.text == "Faleminderit për vlerësimin! Dëshironi të shtoni një koment?"


# --- business hours ---------------------------------------------------------------

async def test_outside_business_hours_the_person_hears_when_and_no_reminder_comes(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    hours = parse_hours("Europe/Tirane", {"mon-sun": "00:00-24:00"},
                        [today + timedelta(days=d) for d in (-1, 0, 1)])
    await start(started, desk_config(api, tmp_path / "bot.db", hours=hours,
                                      remind_after=timedelta(seconds=0.5)))
    opens = hours.next_open(datetime.now(UTC))
    assert opens is not None
    [reply] = await replies_to(api, api.user(6005, "Ana"), "/ask A punoni të shtunën?")
    day = phrases.raw("sq", f"weekday_{opens.weekday()}")
    assert reply.text.endswith("Stafi tani nuk është në punë; përgjigja mund të vijë nga "
                               f"{day}, {opens:%d.%m.%Y} në 00:00.")
    number = int(reply.text.split("#")[1].split(".")[0])
    await card_of(api, number)
    await asyncio.sleep(1.5)  # three reminder periods of clock time, none of working time
    assert not [c for c in api.sent_to(STAFF_CHAT) if c.text.startswith("⏰")]


# --- any message can be a ticket; edits ---------------------------------------------

async def test_photos_and_voice_open_and_join_tickets_and_edits_show(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = desk_config(api, database_url)
    await start(started, config)
    ana = api.user(6006, "Ana")
    since = api.mark()
    photo = await api.send_photo(ana, caption="A është në rregull ky vendim gjykate?")
    [opened] = await api.replies(6006, since=since)
    assert opened.text.startswith("Pyetja juaj iu dërgua stafit. Numri i biletës: #")
    number = int(opened.text.split("#")[1].split(".")[0])
    card = await card_of(api, number)
    assert "A është në rregull ky vendim gjykate?" in card.text
    copy = await api.wait_for("copyMessage", since=since, where=lambda c: c.result is not None)
    assert copy.chat_id == STAFF_CHAT
    assert copy.params["message_id"] == photo["message"]["message_id"]
    assert copy.params["reply_parameters"]["message_id"] == card.result["message_id"]
    assert "photo" in api.stored(STAFF_CHAT, copy.result["message_id"])

    since = api.mark()
    await api.send_voice(ana)  # no caption: joins the open ticket
    [ack] = await api.replies(6006, since=since)
    assert ack.text == f"U shtua te bileta #{number}."
    voice = await api.wait_for("copyMessage", since=since, where=lambda c: c.result is not None)
    assert "voice" in api.stored(STAFF_CHAT, voice.result["message_id"])

    # The person corrects the caption: the staff's copy and the ticket's post show it.
    since = api.mark()
    await api.edit(photo, caption="A është i vlefshëm ky vendim gjykate?")
    edit = await api.wait_for("editMessageCaption", since=since,
                              where=lambda c: c.result is not None)
    assert edit.params["message_id"] == copy.result["message_id"]
    assert api.stored(STAFF_CHAT, copy.result["message_id"])["caption"] == \
        "✏️ (ndryshuar)\nA është i vlefshëm ky vendim gjykate?"
    await wait_until(lambda: "✏️ (ndryshuar) A është i vlefshëm" in api.message_text(
        STAFF_CHAT, card.result["message_id"]))
    # A text follow-up edited later.
    shown = await edited_follow_up(api, ana, "Vendimi është i vitit 2019",
                                   "Vendimi është i vitit 2018")
    assert shown.endswith("\n\n✏️ (ndryshuar)\nVendimi është i vitit 2018")
    # An edit of a message no ticket holds changes nothing in the staff chat.
    since = api.mark()
    loose = await api.send_text(api.user(6007, "Besnik"), "Përshëndetje")
    await api.replies(6007, since=since)
    since = api.mark()
    await api.edit(loose, text="Mirëdita")
    await asyncio.sleep(0.4)
    assert api.calls_of("editMessageText", since) == []


async def test_an_edited_question_updates_the_ticket_post(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, desk_config(api, database_url))
    ana = api.user(6016, "Ana")
    since = api.mark()
    question = await api.send_text(ana, UNANSWERABLE)
    [offer] = await api.replies(6016, since=since)
    await api.press(ana, offer, offer.buttons[-1][0][1])
    number = int((await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 6016
                                     and "#" in c.text)).text.split("#")[1].split(".")[0])
    card = await card_of(api, number)
    since = api.mark()
    await api.edit(question, text="sa kushton nje bilete treni per ne Durres?")
    edit = await api.wait_for("editMessageText", since=since, where=lambda c: c.result is not None)
    assert edit.params["message_id"] == card.result["message_id"]
    assert "✏️ (ndryshuar) sa kushton nje bilete treni per ne Durres?" in edit.text
    # /ask TEXT edited: the new text without the command.
    john = api.user(6017, "John", language_code="en")
    since = api.mark()
    asked = await api.send_text(john, "/ask Can a foreigner found an association?")
    [reply] = await api.replies(6017, since=since)
    other = int(reply.text.split("#")[1].split(".")[0])
    card = await card_of(api, other)
    since = api.mark()
    await api.edit(asked, text="/ask Can two foreigners found an association?")
    edit = await api.wait_for("editMessageText", since=since, where=lambda c: c.result is not None)
    assert edit.params["message_id"] == card.result["message_id"]
    assert "✏️ (ndryshuar) Can two foreigners found an association?" in edit.text


# --- assignment and history ----------------------------------------------------------

async def test_assign_unassign_mine_and_history(api: BotApiServer, database_url: str,
                                               started: list[RunningBot]) -> None:
    await start(started, desk_config(api, database_url))
    ana = api.user(6008, "Ana")
    first = await ask_directly(api, ana, "Pyetja e parë e Anës për stafin")
    await card_of(api, first)
    await staff_command(api, besa(api), f"/close {first}")
    await api.wait_for("sendMessage", where=lambda c: c.chat_id == 6008 and "mbylli" in c.text)
    second = await ask_directly(api, ana, "Pyetja e dytë e Anës për stafin")
    card = await card_of(api, second)

    mine = await staff_command(api, drita(api), "/mine")  # Drita is seen as @drita_k
    assert mine.text == "Nuk keni bileta të hapura."
    said = await staff_command(api, besa(api), f"/assign {second} @drita_k")
    assert said.text == f"Bileta #{second} iu dha Drita (nga Besa)."
    await wait_until(lambda: "E mori: Drita" in api.message_text(STAFF_CHAT,
                                                                  card.result["message_id"]))
    listing = await staff_command(api, drita(api), "/mine")
    assert listing.text.splitlines()[0] == "Biletat tuaja të hapura: 1"
    assert listing.text.splitlines()[1].startswith(f"#{second} · ")
    said = await staff_command(api, besa(api), f"/unassign {second}")
    assert said.text == f"Bileta #{second} nuk është më e askujt (nga Besa)."
    await wait_until(lambda: "E mori" not in api.message_text(STAFF_CHAT,
                                                               card.result["message_id"]))
    # As a reply to a colleague's message; not to someone outside the staff.
    colleague = await api.send_text(drita(api), "Unë e marr këtë", chat=staff_chat(api))
    said = await staff_command(api, besa(api), f"/assign {second}", colleague["message"])
    assert said.text == f"Bileta #{second} iu dha Drita (nga Besa)."
    stranger = await api.send_text(api.user(OUTSIDER, "Xhon"), "Më jepni mua",
                                   chat=staff_chat(api))
    said = await staff_command(api, besa(api), f"/assign {second}", stranger["message"])
    assert said.text.startswith("Përdorimi: /assign N")
    said = await staff_command(api, besa(api), f"/assign {second} @askush")
    assert said.text.startswith("Nuk e njoh @askush si anëtar të stafit")

    history = await staff_command(api, besa(api), "/history", card)
    lines = history.text.splitlines()
    assert lines[0] == f"Biletat e tjera të personit të biletës #{second}"
    assert re.fullmatch(rf"#{first} · \d\d\.\d\d\.\d{{4}} · e mbyllur · Pyetja e parë e Anës "
                        "për stafin", lines[1]), lines
    said = await staff_command(api, besa(api), "/history")
    assert said.text == "Përdoreni këtë komandë si përgjigje postimit të një bilete."


# --- routing --------------------------------------------------------------------------

async def test_a_staff_member_who_forgot_themselves_can_still_be_assigned_by_name(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """/forget deletes Drita's @username; when she goes on working in the staff chat it is
    stored again (the bot had remembered, in memory only, that it had stored it)."""
    await start(started, desk_config(api, tmp_path / "bot.db"))
    number = await ask_staff(api, api.user(6016, "Ana"))
    await card_of(api, number)
    await staff_command(api, drita(api), "/mine")  # Drita is seen as @drita_k
    since = api.mark()
    await api.send_text(drita(api), "/forget")
    [question] = await api.replies(DRITA, since=since)
    since = api.mark()
    await api.press(drita(api), question, question.buttons[0][0][1])
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == DRITA)
    await staff_command(api, drita(api), "/mine")
    said = await staff_command(api, besa(api), f"/assign {number} @drita_k")
    assert said.text == f"Bileta #{number} iu dha Drita (nga Besa)."


async def test_questions_are_routed_by_the_category_of_the_best_guess(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    question = "Kur hapet thirrja e radhës për grante dhe si aplikoj?"
    base = desk_config(api, database_url)
    matcher = FaqMatcher(load_faq(base.faq_path), base.matching)
    decision = matcher.decide(question)
    best = (decision.suggestions or (decision.top,))[0]
    assert best is not None
    category = best.entry.category
    other = matcher.decide(UNANSWERABLE)
    other_best = (other.suggestions or ((other.top,) if other.top else ()))
    assert not other_best or other_best[0].entry.category != category
    config = dataclasses.replace(base, staff=dataclasses.replace(
        base.staff, routes={category: GRANTS_CHAT}))
    api.members[GRANTS_CHAT] = {DRITA: "member"}
    await start(started, config)
    ana = api.user(6009, "Ana")
    [reply] = await replies_to(api, ana, f"/ask {question}")
    number = int(reply.text.split("#")[1].split(".")[0])
    card = await api.wait_for("sendMessage", where=lambda c: c.result is not None
                              and c.text.startswith(f"🎫 Bileta #{number} "))
    assert card.chat_id == GRANTS_CHAT
    # Drita (grants team) answers there; Besa is not in that chat and cannot.
    grants = api.group_chat(GRANTS_CHAT, "Grantet")
    since = api.mark()
    await api.send_text(besa(api), "Unë s'jam në këtë ekip", chat=grants, reply_to=card.result)
    await api.send_text(drita(api), "Thirrja hapet në mars.", chat=grants, reply_to=card.result)
    [delivered] = await wait_until(lambda: deliveries(api, 6009, number))
    assert delivered.text.endswith("Thirrja hapet në mars.")
    await settled(api, api.user(6009, "Ana"))
    assert len(deliveries(api, 6009, number)) == 1
    assert api.sent_to(STAFF_CHAT, since) == []
    # Anything else goes to the default staff chat.
    other_number = await ask_staff(api, api.user(6010, "Besnik"))
    assert (await card_of(api, other_number)).chat_id == STAFF_CHAT


# --- the staff chat moves ----------------------------------------------------------------

async def test_the_staff_chat_moves_and_tickets_follow(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = dataclasses.replace(desk_config(api, database_url), admins=(ADMIN,))
    first_run = await start(started, config)
    ana = api.user(6011, "Ana")
    number = await ask_staff(api, ana)
    old_card = await card_of(api, number)
    since = api.mark()
    await api.migrate(staff_chat(api), NEW_CHAT, by=besa(api))
    notice = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == NEW_CHAT
                                and c.text.startswith("ℹ️"))
    assert f"nga {STAFF_CHAT} në {NEW_CHAT}" in notice.text and "staff.chat_id" in notice.text
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == ADMIN
                       and c.text == notice.text)
    card = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == NEW_CHAT
                              and c.text.startswith(f"🎫 Bileta #{number} "))
    assert card.params["reply_markup"] == old_card.params["reply_markup"]
    # Staff answer under the card in the new chat.
    await api.send_text(besa(api), "Përgjigje nga supergrupi", chat=api.group_chat(NEW_CHAT),
                        reply_to=card.result)
    [delivered] = await wait_until(lambda: deliveries(api, 6011, number))
    assert delivered.text.endswith("Përgjigje nga supergrupi")
    # After a restart the bot still uses the new chat.
    await first_run.stop()
    started.remove(first_run)
    await start(started, config)
    later = await ask_staff(api, api.user(6012, "Besnik"))
    card = await api.wait_for("sendMessage", where=lambda c: c.result is not None
                              and c.text.startswith(f"🎫 Bileta #{later} "))
    assert card.chat_id == NEW_CHAT


async def test_a_chat_that_moved_silently_is_followed_when_telegram_says_so(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, dataclasses.replace(desk_config(api, tmp_path / "bot.db"),
                                             admins=(ADMIN,)))
    api.migrated[STAFF_CHAT] = NEW_CHAT  # Telegram refuses the old id from now on
    api.members[NEW_CHAT] = dict(api.members[STAFF_CHAT])
    number = await ask_staff(api, api.user(6013, "Ana"))
    card = await api.wait_for("sendMessage", where=lambda c: c.result is not None
                              and c.text.startswith(f"🎫 Bileta #{number} "))
    assert card.chat_id == NEW_CHAT
    await api.wait_for("sendMessage", where=lambda c: c.chat_id == ADMIN
                       and str(NEW_CHAT) in c.text)
    await api.send_text(besa(api), "Ja ku jemi", chat=api.group_chat(NEW_CHAT),
                        reply_to=card.result)
    await wait_until(lambda: deliveries(api, 6013, number))


# --- who may do what ---------------------------------------------------------------------

async def test_forged_buttons_and_commands_from_outside_change_nothing(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    config = desk_config(api, tmp_path / "bot.db")
    await start(started, config)
    ana = api.user(6014, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    offer = await staff_command(api, besa(api), "/faq statuti", card)
    data = offer.buttons[0][0][1]
    outsider = api.user(OUTSIDER, "Xhon")
    since = api.mark()
    # Outsiders in the staff chat: notes, saves, assignments, FAQ answers.
    for text in ("! shënim i rremë", "/note shënim", "/save vjedhje", f"/assign {number}",
                 "/faq statuti", "/history", "/saved", "/mine", "/help"):
        await api.send_text(outsider, text, chat=staff_chat(api), reply_to=card.result)
    await api.press(outsider, offer, data)
    # A staff member's command or button from a private chat or another group.
    elsewhere = api.group_chat(-1009998887776, "OJF Forum")
    await api.send_text(besa(api), f"/assign {number} @besa_h", chat=elsewhere)
    await api.send_text(besa(api), "/save vjedhje", chat=elsewhere)
    forged = {**offer.result, "chat": elsewhere}
    await api.press(besa(api), forged, data)
    await api.press(besa(api), {**offer.result, "chat": api.private_chat(besa(api))},
                    f"tk:sv:{number}:1")
    await wait_until(lambda: len(api.calls_of("answerCallbackQuery", since)) == 3)
    await asyncio.sleep(0.5)
    assert {c.params["text"] for c in api.calls_of("answerCallbackQuery", since)} == {
        "Vetëm stafi mund ta bëjë këtë."}
    assert api.sent_to(6014, since) == []
    assert api.sent_to(STAFF_CHAT, since) == []
    assert api.calls_of("editMessageText", since) == []
    ticket = ticket_row(config, number)
    assert ticket.claimed_by is None and ticket.entry_id is None
    with Database(config.database_url) as db, db.session() as session:
        assert session.scalars(select(SavedReply)).all() == []


# --- help and the staff's language ------------------------------------------------------

async def test_help_in_the_staff_chat_lists_every_staff_command_in_both_languages(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, desk_config(api, tmp_path / "bot.db", language="en"))
    said = await staff_command(api, besa(api), "/help")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    staff_row = next(line for line in readme.splitlines() if line.startswith("| staff |"))
    for command in (*STAFF_COMMANDS, *DESK_COMMANDS):
        assert f"/{command}" in said.text, command
        assert f"/{command}" in staff_row, command
        assert f"/{command}" in phrases.raw("sq", "staff_help"), command
    assert said.text.startswith("Staff commands")
    number = await ask_staff(api, api.user(6015, "Ana"))
    card = await api.wait_for("sendMessage", where=lambda c: c.result is not None
                              and c.text.startswith(f"🎫 Ticket #{number} "))
    assert card.labels == ["Claim", "Close", "Add to FAQ"]
    said = await staff_command(api, besa(api), "! a note", card)
    assert said.text == f"🔒 Private note on ticket #{number}: the person does not see it."
