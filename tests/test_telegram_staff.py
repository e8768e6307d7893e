"""Questions handed to the staff, end to end: the real Application long polling the Bot
API test server, a staff group (or forum) with members, failures injected in the
server, and the bot restarted on the same database. Assertions are on what the person
and the staff see: the messages the server received, in each chat."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.inbox import Inbox
from bot.storage import Ban, Database, FaqSuggestion, Ticket
from botapi import BotApiServer, Call
from botapi.harness import RunningBot
from staffchat import (BESA, DRITA, LOADED, OUTSIDER, STAFF_CHAT, UNANSWERABLE, ask_staff, card_of,
                       cards, deliveries, replies_to, settled, staff_chat, staff_config, staff_says,
                       start, wait_until)

pytestmark = pytest.mark.usefixtures("staff_members")


# --- the whole way -------------------------------------------------------------

async def test_question_to_staff_and_answer_back_on_sqlite_and_postgres(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, staff_config(api, database_url))
    ana = api.user(4001, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    assert "Nga: Ana (id 4001)" in card.text and UNANSWERABLE in card.text
    assert card.labels == ["Merre", "Mbyll", "Shto te FAQ"]

    since = api.mark()
    await staff_says(api, BESA, "Bileta nuk është punë e jona, por ja një link & një <b>", card)
    answer = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4001)
    assert answer.text == (f"💬 Përgjigje nga stafi (bileta #{number}):\n\n"
                           "Bileta nuk është punë e jona, por ja një link & një <b>")
    assert answer.labels == ["Mbyll biletën"]
    edited = await api.wait_for("editMessageText", since=since)
    assert "e përgjigjur" in api.message_text(STAFF_CHAT, card.result["message_id"])
    assert "E mori: Besa" in edited.text

    # A follow-up goes to the same ticket, under its post.
    since = api.mark()
    await api.send_text(ana, "Faleminderit! Po për trenin?")
    [ack] = await api.replies(4001, since=since)
    assert ack.text == f"U shtua te bileta #{number}."
    copy = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT)
    assert copy.params["reply_parameters"]["message_id"] == card.result["message_id"]
    assert copy.text == f"💬 Ana (id 4001) shkroi te bileta #{number}:\n\nFaleminderit! Po për trenin?"

    # The staff answer the copy; the person closes the ticket.
    since = api.mark()
    await api.send_text(api.user(DRITA, "Drita"), "Për trenin shkruani te hekurudha.",
                        chat=staff_chat(api),
                        reply_to=api.stored(STAFF_CHAT, copy.result["message_id"]))
    second = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4001)
    assert second.text.endswith("Për trenin shkruani te hekurudha.")
    since = api.mark()
    await api.press(ana, second, f"c:sq:{number}")
    closed = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4001)
    assert closed.text.startswith(f"Bileta #{number} u mbyll.")
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT
                       and c.text == f"Personi e mbylli biletën #{number}.")
    # Closed: the next message is a question for the FAQ again.
    [reply] = await asyncio.wait_for(replies_to(api, ana, "Si ndryshoj statutin?"), 10)
    assert "A ju ndihmoi kjo përgjigje?" in reply.text
    assert len(deliveries(api, 4001, number)) == 2


async def test_none_of_these_and_thumbs_down_open_tickets_with_the_question(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    john = api.user(4002, "John", language_code="en")
    [choices] = await replies_to(api, john, "grant documents when?")
    since = api.mark()
    await api.press(john, choices, choices.buttons[-1][0][1])  # None of these: ask the staff
    sent = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4002)
    assert sent.text.startswith("Your question was sent to the staff. Ticket number: #")
    card = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    assert "grant documents when?" in card.text and "Gjuha: English" in card.text
    assert "Hamendjet e botit:\n• " in card.text  # the suggestions the bot offered
    # A second press of the same button sends nothing twice.
    since = api.mark()
    await api.press(john, choices, choices.buttons[-1][0][1])
    toast = await api.wait_for("answerCallbackQuery", since=since)
    assert toast.params["text"] == "This button is no longer valid."
    await asyncio.sleep(0.5)
    assert cards(api, since) == []

    # 👎 under an answer offers the staff; accepting sends the question that was asked
    # (that answer's, though another was asked since).
    ana = api.user(4012, "Ana")
    [answer] = await replies_to(api, ana, "Si ndryshoj statutin?")
    [later] = await replies_to(api, ana, "Si hapet llogaria bankare e shoqates?")
    assert later.buttons[0][1][0] == "👎"
    since = api.mark()
    await api.press(ana, answer, answer.buttons[0][1][1])
    offer = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4012)
    assert offer.text.startswith("Më vjen keq që nuk ju ndihmoi.") and offer.labels == [
        "Dërgoja stafit"]
    assert "Nuk gjeta" not in offer.text  # it had found one: the person turned it down
    since = api.mark()
    await api.press(ana, offer, offer.buttons[0][0][1])
    await api.wait_for("editMessageReplyMarkup", since=since)  # the offer loses its button
    card = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    assert "Si ndryshoj statutin?" in card.text and "Nga: Ana (id 4012)" in card.text
    assert "llogaria" not in card.text


async def test_forum_one_topic_per_ticket_and_a_photo_answer(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    api.forums.add(STAFF_CHAT)
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, arben = api.user(4003, "Ana"), api.user(4004, "Arben")
    first, second = await ask_staff(api, ana), await ask_staff(api, arben)
    topics = [await api.wait_for("createForumTopic", where=lambda c, n=n: c.result is not None
                                 and c.params["name"].startswith(f"#{n} "))
              for n in (first, second)]
    threads = [t.result["message_thread_id"] for t in topics]
    assert threads[0] != threads[1] and topics[0].params["name"] == f"#{first} Ana (id 4003)"
    card = await card_of(api, second)
    assert card.params["message_thread_id"] == threads[1]
    # Staff write in the second ticket's topic (no reply): a photo with a caption.
    since = api.mark()
    staff = api.user(BESA, "Besa")
    photo = [{"file_id": "AgACphoto", "file_unique_id": "AQADp", "width": 9, "height": 9}]
    await api.deliver({"message": api.message(
        staff, chat=staff_chat(api), photo=photo, caption="Ky është formulari",
        message_thread_id=threads[1], is_topic_message=True)})
    copy = await api.wait_for("copyMessage", since=since, where=lambda c: c.result is not None)
    assert copy.chat_id == 4004
    assert copy.params["caption"].startswith(f"💬 <b>Përgjigje nga stafi</b> (bileta #{second})")
    delivered = api.stored(4004, copy.result["message_id"])
    assert "photo" in delivered and "Ky është formulari" in delivered["caption"]
    # The person's follow-up lands in the same topic.
    since = api.mark()
    await api.send_text(arben, "Faleminderit!")
    follow = await api.wait_for("sendMessage", since=since,
                                where=lambda c: c.result is not None and c.chat_id == STAFF_CHAT)
    assert follow.params["message_thread_id"] == threads[1]
    assert follow.text.endswith("Faleminderit!")
    # Nothing of the staff's answers to the other ticket reached Arben (texts or copies).
    assert not [c for c in api.sent_to(4003) if "Përgjigje nga stafi" in c.text
                or c.method == "copyMessage"]
    # A note written in the topic ("!") stays in the staff chat, in that topic.
    since = api.mark()
    await api.deliver({"message": api.message(
        staff, "! Pret vendimin e gjykatës", chat=staff_chat(api),
        message_thread_id=threads[1], is_topic_message=True)})
    noted = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    assert noted.text.startswith(f"🔒 Shënim privat te bileta #{second}")
    assert noted.params["message_thread_id"] == threads[1]
    await asyncio.sleep(0.3)
    assert api.sent_to(4004, since) == []


async def test_a_staff_reply_starting_with_an_unknown_command_is_not_lost_unseen(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """It may be a mistyped command: not sent to the person, and the staff member is told."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4011, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    since = api.mark()
    await staff_says(api, BESA, "/rinisni aplikacionin dhe zgjidhni Regjistrimin", card)
    notice = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                                and c.chat_id == STAFF_CHAT)
    assert notice.text.startswith(f"Nuk u dërgua te personi (bileta #{number}): /rinisni "
                                  "nuk është komandë e stafit.")
    # A people's command is no answer either (it had searched the registry).
    since = api.mark()
    await staff_says(api, BESA, "/search regjistrin tuaj online, aty e gjeni", card)
    notice = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                                and c.chat_id == STAFF_CHAT)
    assert notice.text.startswith(f"Nuk u dërgua te personi (bileta #{number}): /search ")
    # Nor the staff member's own /forget (it had asked them to delete their data).
    since = api.mark()
    await staff_says(api, BESA, "/forget dokumentet e vjetra, sillni vetëm vendimin", card)
    notice = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                                and c.chat_id == STAFF_CHAT)
    assert notice.text.startswith(f"Nuk u dërgua te personi (bileta #{number}): /forget ")
    await settled(api, ana)
    assert deliveries(api, 4011, number) == []


async def test_a_staff_reply_to_a_bot_message_of_no_ticket_is_not_lost_unseen(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """A reply to the bot's listing of open tickets reaches nobody: the staff member is told
    so; their chat among themselves gets no word from the bot."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, besa = api.user(4015, "Ana"), api.user(BESA, "Besa")
    number = await ask_staff(api, ana)
    await card_of(api, number)
    since = api.mark()
    await api.send_text(besa, "/open", chat=staff_chat(api))
    [listing] = await api.replies(STAFF_CHAT, since=since)
    assert f"#{number}" in listing.text
    since = api.mark()
    await api.send_text(besa, "Po e marr unë, mund ta regjistrojnë vetë.", chat=staff_chat(api),
                        reply_to=listing.result)
    [notice] = await api.replies(STAFF_CHAT, since=since)
    assert notice.text.startswith("Nuk u dërgua: mesazhi të cilit iu përgjigjët nuk i përket "
                                  "asnjë bilete.")
    since = api.mark()
    drita = api.user(DRITA, "Drita")
    chat = await api.send_text(drita, "Kush e merr sot biletën e Anës?", chat=staff_chat(api))
    await api.send_text(besa, "Unë.", chat=staff_chat(api), reply_to=chat["message"])
    [help_] = await settled(api, staff_chat(api))
    assert help_.text.startswith("Komandat e stafit")
    assert [c.text for c in api.sent_to(STAFF_CHAT, since) if c.method == "sendMessage"] \
        == [help_.text]
    await settled(api, ana)
    assert deliveries(api, 4015, number) == []


async def test_a_staff_member_who_edits_a_reply_is_told_to_send_the_correction(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """The person has the reply as it was sent: an edit does not reach them, and the staff
    member is told so rather than left to think it did."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4016, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    sent = await staff_says(api, BESA, "Afati eshte 5 maj.", card)
    await api.wait_for("sendMessage", where=lambda c: c.chat_id == 4016
                       and "Afati eshte 5 maj." in c.text)
    since = api.mark()
    await api.edit(sent["message"], text="Afati eshte 15 maj.")
    [notice] = await api.replies(STAFF_CHAT, since=since)
    assert notice.text == (f"Ndryshimi i përgjigjes nuk i shkon personit (bileta #{number}): "
                           "dërgojeni korrigjimin si përgjigje të re.")
    assert notice.params["reply_parameters"]["message_id"] == sent["message"]["message_id"]


async def test_in_a_forum_writing_in_a_topic_of_no_ticket_is_no_reply_to_the_bot(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """Telegram sends every message of a forum topic as a reply to the topic's first
    message, the bot's for a ticket's topic: with the ticket gone (forgotten), the staff
    writing there are not told, at each message, that they replied to no ticket."""
    api.forums.add(STAFF_CHAT)
    await start(started, staff_config(api, tmp_path / "bot.db"))
    opened = api.message(api.me, chat=staff_chat(api),
                         forum_topic_created={"name": "#99", "icon_color": 7322096})
    thread = opened["message_id"]
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), "E mbyllim këtë temë?", chat=staff_chat(api),
                        reply_to=opened, message_thread_id=thread, is_topic_message=True)
    [help_] = await settled(api, staff_chat(api))
    assert help_.text.startswith("Komandat e stafit")
    assert [c.text for c in api.sent_to(STAFF_CHAT, since) if c.method == "sendMessage"] \
        == [help_.text]


async def test_a_dice_is_no_follow_up_to_an_open_ticket(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4018, "Ana")
    await ask_staff(api, ana)
    since = api.mark()
    await api.deliver({"message": api.message(ana, dice={"emoji": "🎲", "value": 6})})
    [reply] = await api.replies(4018, since=since)
    assert reply.text == "Mund të lexoj vetëm tekst. Ju lutemi shkruani pyetjen tuaj."
    await settled(api, staff_chat(api))
    assert not [c for c in api.sent_to(STAFF_CHAT, since) if c.method == "copyMessage"]


async def test_an_anonymous_admin_is_asked_to_write_as_themselves(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """Telegram sends an anonymous admin's messages as the group itself: the bot cannot tell
    which staff member answers, so it does nothing and says why, instead of nothing."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4017, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                 "username": "GroupAnonymousBot"}
    for text in ("Po, mund ta bëni vetë në gjykatë.", f"/close {number}"):
        since = api.mark()
        await api.send_text(anonymous, text, chat=staff_chat(api), reply_to=card.result,
                            sender_chat=staff_chat(api))
        [notice] = await api.replies(STAFF_CHAT, since=since)
        assert notice.text.startswith("Nuk u krye: po shkruani si grupi (administrator anonim)")
    await settled(api, ana)
    assert deliveries(api, 4017, number) == []
    assert "e hapur" in api.message_text(STAFF_CHAT, card.result["message_id"])


async def test_a_service_message_in_a_tickets_topic_is_no_answer(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """Closing, reopening or renaming a ticket's forum topic, or pinning in it, sends the
    person nothing (it was sent as an empty staff answer)."""
    api.forums.add(STAFF_CHAT)
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4012, "Ana")
    number = await ask_staff(api, ana)
    topic = await api.wait_for("createForumTopic", where=lambda c: c.result is not None
                               and c.params["name"].startswith(f"#{number} "))
    thread = topic.result["message_thread_id"]
    besa = api.user(BESA, "Besa")
    for service in ({"forum_topic_closed": {}}, {"forum_topic_reopened": {}},
                    {"forum_topic_edited": {"name": "Bileta e Anës"}}):
        await api.deliver({"message": api.message(
            besa, chat=staff_chat(api), message_thread_id=thread, is_topic_message=True,
            **service)})
    await settled(api, ana, staff_chat(api))
    assert deliveries(api, 4012, number) == []
    assert not [c for c in api.sent_to(4012) if c.method == "copyMessage"]


async def test_in_a_group_a_question_for_the_staff_is_sent_from_a_private_chat(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """The staff's answer would go to a private chat the person may never have opened: a
    group is told where to ask, and no ticket is opened from it."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, group = api.user(4014, "Ana"), api.group_chat()
    since = api.mark()
    await api.send_text(ana, f"@ascs_test_bot {UNANSWERABLE}", chat=group)
    [reply] = await api.replies(group["id"], since=since)
    assert "më shkruani në një bisedë private" in reply.text
    assert "Dëshironi ta dërgoj te stafi" not in reply.text and reply.buttons == []


async def test_in_a_group_thumbs_down_points_to_a_private_chat(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """As a question there: a 👎 in a group offers no "send it to the staff", whose answer
    would go to a private chat the person may never have opened."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, group = api.user(4016, "Ana"), api.group_chat()
    since = api.mark()
    await api.send_text(ana, "@ascs_test_bot Si ndryshoj statutin?", chat=group)
    [answer] = await api.replies(group["id"], since=since)
    [thumbs_down] = [data for row in answer.buttons for label, data in row if label == "👎"]
    since = api.mark()
    await api.press(ana, answer, thumbs_down)
    sorry = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == group["id"])
    assert sorry.text.startswith("Më vjen keq që nuk ju ndihmoi.")
    assert "më shkruani në një bisedë private" in sorry.text and sorry.buttons == []
    assert "Nuk gjeta" not in sorry.text


async def test_anonymous_mode_hides_the_person(api: BotApiServer, started: list[RunningBot],
                                               tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db", anonymous=True))
    number = await ask_staff(api, api.user(4005, "Valbona"))
    card = await card_of(api, number)
    assert f"Nga: Pyetësi #{number}" in card.text
    assert "Valbona" not in card.text and "4005" not in card.text


# --- who may do what ------------------------------------------------------------

async def test_outsiders_and_forged_buttons_change_nothing(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, arben = api.user(4006, "Ana"), api.user(4007, "Arben")
    first = await ask_staff(api, ana)
    second = await ask_staff(api, arben)
    card = await card_of(api, first)
    await card_of(api, second)
    outsider = api.user(OUTSIDER, "Mallkuar")
    since = api.mark()
    # An outsider in the staff chat replies, claims, closes and uses the commands.
    await api.send_text(outsider, "Unë jam stafi, më dërgo para", chat=staff_chat(api),
                        reply_to=card.result)
    for data in (f"tk:claim:{first}", f"tk:close:{first}"):
        await api.press(outsider, card, data)
    await api.send_text(outsider, f"/close {first}", chat=staff_chat(api))
    await api.send_text(outsider, "/ban 4006", chat=staff_chat(api))
    # A staff member presses data for another ticket under this post, and the person
    # presses a staff button and someone else's close button.
    await api.press(api.user(BESA, "Besa"), card, f"tk:close:{second}")
    await api.press(ana, card, f"tk:claim:{first}")
    await api.press(ana, card, f"c:sq:{second}")
    await wait_until(lambda: len(api.calls_of("answerCallbackQuery", since)) == 5)
    await asyncio.sleep(0.5)
    toasts = [c.params.get("text") for c in api.calls_of("answerCallbackQuery", since)]
    assert toasts == ["Vetëm stafi mund ta bëjë këtë."] * 2 + [
        "Ky buton nuk është më i vlefshëm.", "Vetëm stafi mund ta bëjë këtë.",
        "Ky buton nuk është më i vlefshëm."]
    assert api.calls_of("editMessageText", since) == []
    assert api.sent_to(4006, since) == [] and api.sent_to(4007, since) == []
    assert api.sent_to(STAFF_CHAT, since) == []
    # Garbage in the person's buttons is refused too.
    since = api.mark()
    for data in ("a:sq:99999999999", "c:sq:²", "x:sq:-1", f"c:xx:{first}"):
        await api.press(ana, card, data)
    await wait_until(lambda: len(api.calls_of("answerCallbackQuery", since)) == 4)
    assert {c.params.get("text") for c in api.calls_of("answerCallbackQuery", since)} == {
        "Ky buton nuk është më i vlefshëm."}
    # The staff can still do all of it.
    await api.press(api.user(BESA, "Besa"), card, f"tk:claim:{first}")
    edit = await api.wait_for("editMessageText", since=since)
    assert "E mori: Besa" in edit.text


# --- nothing lost, nothing twice ---------------------------------------------------

async def test_failures_then_recovery_deliver_everything_exactly_once(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    people = [api.user(4100 + i, f"P{i}") for i in range(3)]
    api.fail("sendMessage", 2, status=502, chat_id=STAFF_CHAT)
    numbers = [await ask_staff(api, person) for person in people]
    await wait_until(lambda: len(cards(api)) == 3)
    # 429 four times: the rate limiter retries three times, then the outbox waits.
    api.fail("sendMessage", 4, retry_after=1, chat_id=people[0]["id"])
    api.fail("sendMessage", 1, delay=1.5, chat_id=people[1]["id"])
    api.fail("sendMessage", 3, status=500, chat_id=people[2]["id"])
    for number in numbers:
        await staff_says(api, BESA, f"Përgjigja për #{number}", await card_of(api, number))
    for person, number in zip(people, numbers):
        await wait_until(lambda p=person, n=number: deliveries(api, p["id"], n), timeout=20)
    await settled(api, *people, staff_chat(api))  # anything sent twice was sent before
    assert [c.text.split(" · ")[0] for c in cards(api)] == [f"🎫 Bileta #{n}" for n in numbers]
    for person, number in zip(people, numbers):
        [delivered] = deliveries(api, person["id"], number)
        assert delivered.text.endswith(f"Përgjigja për #{number}")
    assert len(api.failed) == 2 + 4 + 1 + 3


async def test_a_restart_in_an_outage_loses_nothing_and_sends_nothing_twice(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    config = staff_config(api, database_url)
    first_run = await start(started, config)
    before = await ask_staff(api, api.user(4199, "Besnik"))
    await card_of(api, before)  # sent before the outage: never again
    ana = api.user(4200, "Ana")
    api.fail("sendMessage", 1000, status=503, chat_id=STAFF_CHAT)
    number = await ask_staff(api, ana)  # the person hears the number during the outage
    since = api.mark()
    await api.send_text(ana, "Edhe diçka tjetër")
    await api.replies(4200, since=since)
    await asyncio.sleep(0.5)
    assert len(cards(api)) == 1
    await first_run.stop()
    started.remove(first_run)

    api.failures.clear()  # Telegram is back; so is the bot, on the same database
    await start(started, config)
    # The restarted bot retries what failed with its backoff: room for a loaded machine.
    card = await card_of(api, number, timeout=LOADED)
    copy = await api.wait_for("sendMessage", timeout=LOADED, where=lambda c: (
        c.result is not None and "Edhe diçka tjetër" in c.text))
    assert copy.params["reply_parameters"]["message_id"] == card.result["message_id"]
    await staff_says(api, BESA, "Ja përgjigja", card)
    await wait_until(lambda: deliveries(api, 4200, number), timeout=LOADED)
    await settled(api, ana, staff_chat(api))  # anything sent twice was sent before
    assert [c.text.split(" · ")[0] for c in cards(api)] == [f"🎫 Bileta #{before}",
                                                           f"🎫 Bileta #{number}"]
    assert len(deliveries(api, 4200, number)) == 1
    assert len([c for c in api.sent_to(STAFF_CHAT) if "Edhe diçka tjetër" in c.text
                and c.result]) == 1


@pytest.mark.parametrize(("status", "description", "why"), [
    (403, "Forbidden: bot was blocked by the user", "personi e ka bllokuar botin"),
    (403, "Forbidden: user is deactivated", "llogaria e personit në Telegram është fshirë"),
    (400, "Bad Request: chat not found",
     "Telegram nuk e gjen bisedën me personin (llogaria mund të jetë fshirë)"),
])
async def test_an_answer_telegram_refuses_for_good_leaves_the_ticket_open_and_says_why(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path, status: int,
        description: str, why: str) -> None:
    """The person blocked the bot (or their account is gone): the staff read why their
    answer did not reach them, and the ticket waits as open, not as answered."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4210, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    api.fail("sendMessage", status=status, chat_id=4210, description=description)
    since = api.mark()
    await staff_says(api, BESA, "Ja përgjigja", card)
    note = await api.wait_for("sendMessage", since=since, where=lambda c: (
        c.chat_id == STAFF_CHAT and c.text.startswith("⚠️")))
    assert note.text == (f"⚠️ Përgjigja nuk arriti te personi (bileta #{number}): {why}. "
                         "Bileta është sërish e hapur: nuk llogaritet si e përgjigjur.")
    assert note.params["reply_parameters"]["message_id"] == card.result["message_id"]
    assert api.message_text(STAFF_CHAT, card.result["message_id"]).startswith(
        f"🎫 Bileta #{number} · e hapur\n")
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), "/open", chat=staff_chat(api))
    listing = await api.wait_for("sendMessage", since=since,
                                 where=lambda c: c.chat_id == STAFF_CHAT)
    assert listing.text.splitlines()[1].startswith(f"#{number} · 0m · e hapur · Besa · ")
    assert deliveries(api, 4210, number) == []


async def test_a_repeated_update_is_handled_once(api: BotApiServer, started: list[RunningBot],
                                                 tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4300, "Ana")
    since = api.mark()
    update = await api.send_text(ana, "/ask A mund të regjistrohem\nme emër të huaj?")
    await api.replies(4300, since=since)
    await api.deliver_again(update)
    await api.send_text(ana, "/help")  # something after it, to know the repeat was seen
    await wait_until(lambda: any("/faq" in c.text for c in api.sent_to(4300, since)))
    helped = next(c for c in api.sent_to(4300, since) if "/faq" in c.text)
    assert "/ask PYETJA" in helped.text  # with a staff chat to ask
    menus = [json.dumps(c.params.get("commands")) for c in api.calls_of("setMyCommands")]
    assert menus and all('"ask"' in m for m in menus)
    await wait_until(lambda: cards(api))
    await asyncio.sleep(0.5)
    [card] = cards(api)
    assert "A mund të regjistrohem\nme emër të huaj?" in card.text  # as typed, on two lines
    assert len([c for c in api.sent_to(4300, since) if "Numri i biletës" in c.text]) == 1


@pytest.mark.parametrize("failure", [{"status": 502}, {"retry_after": 1}],
                         ids=["502", "429"])
async def test_a_staff_answer_reaches_the_person_once_when_the_membership_check_fails_once(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path,
        failure: dict[str, int]) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4210, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    api.fail("getChatMember", **failure)  # Telegram cannot say now whether Besa is staff
    await staff_says(api, BESA, "Po, dokumentet i dorëzoni në gjykatë.", card)
    await wait_until(lambda: deliveries(api, ana["id"], number), timeout=LOADED)
    await settled(api, ana, staff_chat(api))  # anything sent twice was sent before
    [delivery] = deliveries(api, ana["id"], number)
    assert delivery.text.endswith("Po, dokumentet i dorëzoni në gjykatë.")
    assert [c.method for c in api.failed] == ["getChatMember"]
    assert not [c for c in api.sent_to(STAFF_CHAT) if "diçka shkoi keq" in c.text]


async def test_staff_answers_waiting_for_the_membership_check_when_the_bot_stops_come_after(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    admin = 9050
    config = dataclasses.replace(staff_config(api, database_url), admins=(admin,))
    first_run = await start(started, config)
    assert first_run.brain is not None
    ana = api.user(4220, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    api.fail("getChatMember", 1000, status=502)  # Telegram cannot say who Besa is...
    await staff_says(api, BESA, "Përgjigja e parë", card)
    await wait_until(lambda: api.failed)
    # ...and an admin (no check needed) answers after her, in the same chat.
    second = await api.send_text(api.user(admin, "Admin"), "Përgjigja e dytë",
                                 chat=staff_chat(api), reply_to=card.result)
    inbox = Inbox(first_run.brain.db)
    await wait_until(lambda: second["update_id"] in [w.update_id for w in inbox.pending()])
    await asyncio.wait_for(first_run.stop(), LOADED)  # it does not wait for Telegram
    started.remove(first_run)
    assert not deliveries(api, ana["id"], number)

    api.failures.clear()
    await start(started, config)
    await wait_until(lambda: len(deliveries(api, ana["id"], number)) == 2, timeout=LOADED)
    await settled(api, ana, staff_chat(api))  # anything sent twice was sent before
    assert [c.text.rsplit("\n", 1)[-1] for c in deliveries(api, ana["id"], number)] == [
        "Përgjigja e parë", "Përgjigja e dytë"]


# --- limits -----------------------------------------------------------------------

async def test_too_many_tickets_get_a_polite_refusal(api: BotApiServer,
                                                     started: list[RunningBot],
                                                     tmp_path: Path) -> None:
    """Each step waits for what the person sees (the confirmation, the close notice), with
    room for a loaded machine: never for a fixed time."""
    await start(started, staff_config(api, tmp_path / "bot.db", max_tickets_per_hour=2))
    ana = api.user(4400, "Ana")
    numbers = []
    for question in ("Pyetja e parë për stafin", "Pyetja e dytë për stafin"):
        since = api.mark()
        await api.send_text(ana, f"/ask {question}")
        [sent] = await api.replies(4400, since=since, timeout=LOADED)
        assert sent.text.startswith("Pyetja juaj iu dërgua stafit"), sent.text
        [(label, data)] = sent.buttons[0]
        assert label == "Mbyll biletën"
        number = int(data.rsplit(":", 1)[1])
        numbers.append(number)
        since = api.mark()
        await api.press(ana, sent, data)  # closed: the next /ask is a new ticket
        await api.wait_for("sendMessage", since=since, timeout=LOADED, where=lambda c: (
            c.chat_id == 4400 and c.text.startswith(f"Bileta #{number} u mbyll.")))
    since = api.mark()
    await api.send_text(ana, "/ask Pyetja e tretë për stafin")
    [refused] = await api.replies(4400, since=since, timeout=LOADED)
    assert refused.text.startswith("Keni dërguar shumë pyetje stafit në orën e fundit.")
    assert not refused.buttons
    for number in numbers:
        await card_of(api, number, timeout=LOADED)
    assert len(cards(api)) == 2


async def test_ban_and_unban(api: BotApiServer, started: list[RunningBot],
                             tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4500, "Ana")
    number = await ask_staff(api, ana)
    await card_of(api, number)
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), f"/ban #{number}", chat=staff_chat(api))
    said = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    assert said.text == "Ana (id 4500) u bllokua: nuk mund të hapë më bileta."
    [refused] = await replies_to(api, ana, "/ask Përse më bllokuat?")
    assert refused.text.startswith("Nuk mund t'i dërgoj pyetje stafit nga kjo llogari.")
    since = api.mark()
    await api.send_text(api.user(DRITA, "Drita"), "/unban 4500", chat=staff_chat(api))
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    [welcome] = await replies_to(api, ana, "/ask Faleminderit që më zhbllokuat")
    assert welcome.text.startswith("Pyetja juaj iu dërgua stafit")


async def test_ban_refuses_what_is_no_persons_id(api: BotApiServer, started: list[RunningBot],
                                                 tmp_path: Path) -> None:
    """0, a group's (negative) id, a name or a number beyond Telegram's ids: refused, saying
    what is wrong; nobody is banned."""
    config = staff_config(api, tmp_path / "bot.db")
    await start(started, config)
    besa = api.user(BESA, "Besa")
    for command in ("/ban 0", f"/ban {STAFF_CHAT}", "/ban ana", "/ban 99999999999999999999",
                    "/unban 0"):
        since = api.mark()
        await api.send_text(besa, command, chat=staff_chat(api))
        said = await api.wait_for("sendMessage", since=since,
                                  where=lambda c: c.chat_id == STAFF_CHAT)
        name, given = command[1:].split()
        assert said.text == (
            f"«{given}» nuk është ID e një personi në Telegram: ajo është një numër i plotë mbi "
            f"0, p.sh. 123456789 (ID e një grupi është negative). Shkruani /{name} ID ose "
            f"/{name} #N (personi i biletës N).")
    with Database(config.database_url) as db, db.session() as session:
        assert session.scalars(select(Ban)).all() == []


async def test_staff_commands_open_close_reopen(api: BotApiServer, started: list[RunningBot],
                                                tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    first = await ask_staff(api, api.user(4600, "Ana"))
    second = await ask_staff(api, api.user(4601, "Arben"))
    card = await card_of(api, second)
    await api.press(api.user(DRITA, "Drita"), card, f"tk:claim:{second}")
    await api.wait_for("editMessageText")
    besa = api.user(BESA, "Besa")

    async def command(text: str) -> str:
        since = api.mark()
        await api.send_text(besa, text, chat=staff_chat(api))
        return (await api.wait_for("sendMessage", since=since,
                                   where=lambda c: c.chat_id == STAFF_CHAT)).text

    listing = (await command("/open")).splitlines()
    assert listing[0] == "Bileta të hapura: 2 (më e vjetra e para)"
    assert listing[1].startswith(f"#{first} · 0m · e hapur · pa marrë · ")
    assert listing[2].startswith(f"#{second} · 0m · e hapur · Drita · ")
    assert await command(f"/close {first}") == f"Bileta #{first} u mbyll nga Besa."
    closed = await api.wait_for("sendMessage", where=lambda c: c.chat_id == 4600
                                and "mbylli" in c.text)
    assert closed.text.startswith(f"Stafi e mbylli biletën #{first}.")
    assert (await command("/open")).splitlines()[0] == "Bileta të hapura: 1 (më e vjetra e para)"
    assert await command(f"/reopen {first}") == f"Bileta #{first} u rihap."
    assert await command("/close") == ("Përdorimi: /close N, /reopen N, /open, /ban ID ose "
                                       "/ban #N, /unban ID ose /unban #N")


async def test_reopen_tells_the_truth_about_another_open_ticket_and_a_ban(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """A person's messages go to their newest open ticket: reopening an older one says so,
    to them and to the staff. A banned person's ticket is not reopened."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, arben, besa = api.user(4610, "Ana"), api.user(4611, "Arben"), api.user(BESA, "Besa")

    async def command(text: str) -> str:
        since = api.mark()
        await api.send_text(besa, text, chat=staff_chat(api))
        return (await api.wait_for("sendMessage", since=since,
                                   where=lambda c: c.chat_id == STAFF_CHAT)).text

    older = await ask_staff(api, ana)
    await card_of(api, older)
    since = api.mark()
    await command(f"/close {older}")
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4610)
    [opened] = await replies_to(api, ana, "/ask Pyetje tjetër për stafin")
    newer = int(opened.text.split("#")[1].split(".")[0])
    await card_of(api, newer)
    since = api.mark()
    assert await command(f"/reopen {older}") == (
        f"Bileta #{older} u rihap. Personi ka edhe biletën #{newer} të hapur: çfarë shkruan "
        "shkon te ajo.")
    told = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4610)
    assert told.text == (f"Stafi e rihapi biletën #{older}. Çfarë shkruani shkon te bileta "
                         f"#{newer}, e cila është ende e hapur.")
    [added] = await replies_to(api, ana, "Edhe një gjë")
    assert added.text == f"U shtua te bileta #{newer}."

    banned = await ask_staff(api, arben)
    await card_of(api, banned)
    await command(f"/ban #{banned}")
    since = api.mark()
    assert await command(f"/reopen {banned}") == (
        f"Bileta #{banned} nuk u rihap: personi i saj është i bllokuar. Zhbllokojeni më parë "
        f"me /unban #{banned}.")
    await settled(api, arben)
    assert [c.text for c in api.sent_to(4611, since)
            if c.text.startswith("Stafi e rihapi")] == []


async def test_reminders_announce_waiting_tickets_once_per_period(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db",
                                      remind_after=timedelta(seconds=1)))
    number = await ask_staff(api, api.user(4700, "Ana"))
    card = await card_of(api, number)

    def reminders() -> list[Call]:
        return [c for c in api.sent_to(STAFF_CHAT) if c.text.startswith("⏰")]

    await wait_until(lambda: reminders(), timeout=5)
    first = reminders()[0]
    assert first.text.startswith(f"⏰ Bileta #{number} pret prej ")
    assert first.params["reply_parameters"]["message_id"] == card.result["message_id"]
    await wait_until(lambda: len(reminders()) >= 3, timeout=LOADED)
    # One a period (1 s), not one a check (every 0.5 s): on average, as a loaded machine may
    # send one late and the next on time.
    sent = reminders()
    assert sent[-1].at - sent[0].at >= 0.75 * (len(sent) - 1)
    await staff_says(api, BESA, "U përgjigj", card)
    await wait_until(lambda: deliveries(api, 4700, number), timeout=LOADED)
    # Counted once the person has the answer (however long a loaded machine took to get
    # it there): at most the reminder of a check already under way may follow.
    count = len(reminders())
    await asyncio.sleep(2.0)
    assert len(reminders()) <= count + 1  # answered: no more reminders


async def test_add_to_faq_stores_the_staff_answer_as_a_suggestion(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    config = staff_config(api, tmp_path / "bot.db")
    await start(started, config)
    john = api.user(4800, "John", language_code="en")
    [reply] = await replies_to(
        api, john, "/ask Can a foreign citizen be a founder of an association?")
    number = int(reply.text.split("#")[1].split(".")[0])
    card = await card_of(api, number)
    since = api.mark()
    await staff_says(api, BESA, "Yes: foreign citizens can found an association in Albania.", card)
    edit = await api.wait_for("editMessageText", since=since)
    assert "Shto te FAQ" in edit.labels
    since = api.mark()
    await api.press(api.user(BESA, "Besa"), card, f"tk:faq:{number}")
    toast = await api.wait_for("answerCallbackQuery", since=since)
    assert toast.params["text"].startswith(f"Pyetja dhe përgjigja e biletës #{number} u ruajtën")
    with Database(config.database_url) as db, db.session() as session:
        [suggestion] = session.scalars(select(FaqSuggestion)).all()
        ticket = session.get(Ticket, number)
        assert suggestion.question == "Can a foreign citizen be a founder of an association?"
        assert suggestion.language == "en" and suggestion.status == "pending"
        assert suggestion.answer.startswith("Yes: foreign citizens")
        assert suggestion.entry_id == (ticket.guesses[0]["id"] if ticket.guesses else None)


async def test_a_photo_from_the_person_and_a_document_from_an_admin(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    admin = 9500  # in config.admins, not a member of the staff chat
    config = dataclasses.replace(staff_config(api, tmp_path / "bot.db"), admins=(admin,))
    await start(started, config)
    ana = api.user(4900, "Ana")
    number = await ask_staff(api, ana)
    card = await card_of(api, number)
    since = api.mark()
    photo = await api.send_photo(ana, caption="Ja vendimi i gjykatës")
    [ack] = await api.replies(4900, since=since)
    assert ack.text == f"U shtua te bileta #{number}."
    copy = await api.wait_for("copyMessage", since=since, where=lambda c: c.result is not None)
    assert copy.chat_id == STAFF_CHAT
    assert copy.params["message_id"] == photo["message"]["message_id"]
    assert "photo" in api.stored(STAFF_CHAT, copy.result["message_id"])

    since = api.mark()
    document = {"file_id": "BQACdoc", "file_unique_id": "AgADd", "file_name": "statuti.pdf"}
    await api.deliver({"message": api.message(
        api.user(admin, "Admin"), chat=staff_chat(api), reply_to=card.result,
        document=document, caption="Modeli i statutit")})
    delivered = await api.wait_for("copyMessage", since=since,
                                   where=lambda c: c.result is not None and c.chat_id == 4900)
    assert f"(bileta #{number})" in delivered.params["caption"]
    assert delivered.buttons == [[("Mbyll biletën", f"c:sq:{number}")]]
    stored = api.stored(4900, delivered.result["message_id"])
    assert stored["document"]["file_name"] == "statuti.pdf"
    assert "Modeli i statutit" in stored["caption"]


async def test_ask_needs_a_question_and_a_private_chat(api: BotApiServer,
                                                       started: list[RunningBot],
                                                       tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana = api.user(4950, "Ana")
    [usage] = await replies_to(api, ana, "/ask")
    assert usage.text.startswith("Shkruani pyetjen pas komandës")
    since = api.mark()
    await api.send_text(ana, "/ask Pyetje në grup", chat=api.group_chat())
    [private] = await api.replies(api.group_chat()["id"], since=since)
    assert private.text == "Për t'i shkruar stafit, më shkruani në një bisedë private."
    await asyncio.sleep(0.3)
    assert cards(api) == []
