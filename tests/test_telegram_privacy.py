"""Privacy and safety as people and staff meet them in Telegram: names that try to fake an
id, /ban and /unban naming whom they hit, NUL characters in names and texts on SQLite and
PostgreSQL, staff members forgotten under a pseudonym, and deleted text gone from the
database's files. The real Application long polls the Bot API test server."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.storage import Ban, Database, FaqSuggestion, OutboxItem, Ticket, TicketMessage
from botapi import BotApiServer, Call
from botapi.harness import RunningBot
from staffchat import (BESA, DRITA, STAFF_CHAT, ask_staff, card_of, edited_follow_up, settled,
                       staff_chat, staff_config, staff_says, start, wait_until)

pytestmark = pytest.mark.usefixtures("staff_members")

# The right-to-left override makes "Eve" + ")999 di(" read "Eve (id 999)" on screen.
FAKE_ID_NAME = "Eve\u202e)999 di(\u2066"


async def staff_command(api: BotApiServer, text: str, user_id: int = BESA) -> str:
    return (await staff_answer(api, text, user_id)).text


async def staff_answer(api: BotApiServer, text: str, user_id: int = BESA) -> Call:
    """The bot's answer in the staff chat to ``text`` from a staff member, once sent."""
    since = api.mark()
    await api.send_text(api.user(user_id, "Besa" if user_id == BESA else "Drita"), text,
                        chat=staff_chat(api))
    return await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT)


async def test_a_name_with_bidi_controls_cannot_fake_the_id_staff_ban(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    await start(started, staff_config(api, tmp_path / "bot.db"))
    number = await ask_staff(api, api.user(4700, FAKE_ID_NAME))
    card = await card_of(api, number)
    assert "Nga: Eve)999 di( (id 4700)\n" in card.text
    assert not any(char in card.text for char in "\u202e\u2066")

    # A staff member whose own name carries an override is shown without it too.
    since = api.mark()
    await api.press(api.user(BESA, "\u202easeB"), card, f"tk:claim:{number}")
    edited = await api.wait_for("editMessageText", since=since)
    assert "E mori: aseB" in edited.text and "\u202e" not in edited.text

    assert await staff_command(api, f"/ban #{number}") == \
        "Eve)999 di( (id 4700) u bllokua: nuk mund të hapë më bileta."
    assert await staff_command(api, "/unban 4700") == "Eve)999 di( (id 4700) u zhbllokua."
    assert await staff_command(api, "/unban 4700") == \
        "Eve)999 di( (id 4700) nuk është i bllokuar."
    assert await staff_command(api, "/ban #9999") == "Nuk ka biletë #9999."


async def test_nul_characters_in_names_and_texts_do_not_break_tickets_on_sqlite_and_postgres(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, staff_config(api, database_url))
    ana = api.user(4800, "An\x00a")
    since = api.mark()
    await api.send_text(ana, "/lang sq")
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4800)
    number = await ask_staff(api, ana, "sa kushton nje bilete\x00 avioni per ne Londer?")
    card = await card_of(api, number)
    assert "Nga: Ana (id 4800)" in card.text
    assert "sa kushton nje bilete avioni per ne Londer?" in card.text

    since = api.mark()
    staff_answer = await api.send_text(api.user(BESA, "Be\x00sa"), "Nuk\x00 e dimë.",
                                       chat=staff_chat(api), reply_to=card.result)
    answer = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4800)
    assert answer.text.endswith("Nuk e dimë.")
    edited = await api.wait_for("editMessageText", since=since)
    assert "E mori: Besa" in edited.text

    # A follow-up edited with a NUL, a private note and a saved reply holding one.
    shown = await edited_follow_up(api, ana, "Per Londer\x00 nga Tirana",
                                   "Per Londer\x00 nga Rinasi")
    assert shown.endswith("Per Londer nga Rinasi")
    for command, replied, done in (("/note Ta\x00rifa e BE", card.result, "Shënim privat"),
                                   ("/save bileta", staff_answer["message"], "u ruajt")):
        since = api.mark()
        await api.send_text(api.user(BESA, "Besa"), command, chat=staff_chat(api),
                            reply_to=replied)
        said = await api.wait_for("sendMessage", since=since,
                                  where=lambda c: c.chat_id == STAFF_CHAT)
        assert done in said.text, said.text


async def forget_me(api: BotApiServer, person: dict) -> None:
    """/forget in the private chat, and "Yes" to the confirmation."""
    since = api.mark()
    await api.send_text(person, "/forget")
    [question] = await api.replies(person["id"], since=since)
    since = api.mark()
    await api.press(person, question, question.buttons[0][0][1])
    done = await api.wait_for("sendMessage", since=since,
                              where=lambda c: c.chat_id == person["id"])
    assert done.text == "U fshi gjithçka që boti ruante për ju."


async def forget_deletes(api: BotApiServer, person: dict, message: Call) -> None:
    """``person`` forgets (:func:`forget_me`), and ``message`` leaves the staff chat."""
    since = api.mark()
    await forget_me(api, person)
    await api.wait_for("deleteMessage", since=since, where=lambda c: c.result is not None
                       and c.params["message_id"] == message.result["message_id"])
    with pytest.raises(KeyError):
        api.stored(STAFF_CHAT, message.result["message_id"])


def cells(database_url: str) -> list[str]:
    """Every value in every table of the database, as text."""
    with Database(database_url) as db, db.engine.connect() as connection:
        return [str(value) for name in inspect(connection).get_table_names()
                for row in connection.execute(text(f'SELECT * FROM "{name}"'))
                for value in row]


async def test_a_forgotten_staff_member_leaves_their_tickets_under_a_pseudonym(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, staff_config(api, database_url))
    besa = api.user(BESA, "Besa Hoxha")
    number = await ask_staff(api, api.user(4900, "Ana"))
    card = await card_of(api, number)
    since = api.mark()
    await api.send_text(besa, "Nuk e dimë, na vjen keq.", chat=staff_chat(api),
                        reply_to=card.result)
    await api.wait_for("editMessageText", since=since)
    since = api.mark()
    await api.press(besa, card, f"tk:faq:{number}")
    await api.wait_for("answerCallbackQuery", since=since)
    banned = await staff_command(api, "/ban 4999")
    assert banned.endswith("u bllokua: nuk mund të hapë më bileta.")
    assert any(value == str(BESA) for value in cells(database_url))
    before = await staff_answer(api, "/open", user_id=DRITA)  # names Besa, who has it
    assert "Besa Hoxha" in before.text
    besas = await api.send_text(besa, "E marr unë", chat=staff_chat(api))
    since = api.mark()
    await api.send_text(api.user(DRITA, "Drita"), f"/assign {number}", chat=staff_chat(api),
                        reply_to=besas["message"])
    assigned = await api.wait_for("sendMessage", since=since, where=lambda c: (
        c.result is not None and c.chat_id == STAFF_CHAT))
    assert assigned.text == f"Bileta #{number} iu dha Besa Hoxha (nga Drita)."

    since = api.mark()
    await forget_me(api, besa)
    for gone in (before, assigned):
        await api.wait_for("deleteMessage", since=since, where=lambda c: (
            c.result is not None and c.params["message_id"] == gone.result["message_id"]))
    edited = await api.wait_for("editMessageText", since=since)
    assert "E mori: Ish-punonjës " in edited.text
    shown = api.message_text(STAFF_CHAT, card.result["message_id"])
    assert "Ish-punonjës " in shown and "Besa" not in shown
    listing = await staff_command(api, "/open", user_id=DRITA)
    [line] = [line for line in listing.splitlines() if line.startswith(f"#{number} ")]
    assert "· e përgjigjur · Ish-punonjës " in line and "Besa" not in line

    def about_besa() -> list[str]:
        return [value for value in cells(database_url) if value == str(BESA) or "Besa" in value]

    # The confirmation sent to Besa leaves the outbox once Telegram has it.
    await wait_until(lambda: not about_besa())
    [pseudonym] = {value for value in cells(database_url) if value.startswith("Ish-punonjës ")}
    assert pseudonym in line
    # The ticket, the answer, the suggestion and the ban stay, under one pseudonym.
    with Database(database_url) as db, db.session() as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.claimed_by_name == pseudonym
        [answer] = session.scalars(select(TicketMessage).where(
            TicketMessage.direction == "staff")).all()
        [suggestion] = session.scalars(select(FaqSuggestion)).all()
        ban = session.get(Ban, 4999)
        assert ban is not None
        assert answer.author_id == suggestion.suggested_by == ban.banned_by == \
            ticket.claimed_by < 0
        assert answer.text == "Nuk e dimë, na vjen keq."


async def test_after_forget_the_text_is_in_neither_the_database_file_nor_its_log(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    await start(started, staff_config(api, database))
    secret, name = "Qwzx-7741 borxhi im tek banka", "Xhevdet Qyqalla"
    person = api.user(4950, name)
    since = api.mark()
    await api.send_text(person, "/lang sq")
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4950)
    number = await ask_staff(api, person, f"{secret}: a mund te me ndihmoni?")
    card = await card_of(api, number)

    def files() -> bytes:
        return b"".join(path.read_bytes() for path in tmp_path.glob("bot.db*"))

    assert secret.encode() in files() and name.encode() in files()
    # SQLite moves the log into the file from time to time (every 1000 pages): let that
    # happen now, so the text is in both before the forget.
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    since = api.mark()
    await api.send_text(person, f"{secret}: po ashtu per kartelen")  # to the open ticket
    await api.replies(4950, since=since)
    copy = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT)
    assert secret in api.message_text(STAFF_CHAT, copy.result["message_id"])
    assert secret.encode() in database.read_bytes()
    since = api.mark()
    await forget_me(api, person)
    assert secret.encode() not in files() and name.encode() not in files()
    # The ticket's post in the staff chat keeps only its number.
    edited = await api.wait_for("editMessageText", since=since)
    assert edited.text == f"🎫 Bileta #{number}: personi kërkoi që të dhënat e tij të fshihen."
    assert edited.labels == []
    shown = api.message_text(STAFF_CHAT, card.result["message_id"])
    assert secret not in shown and name not in shown
    # The copy of their follow-up is deleted.
    await api.wait_for("deleteMessage", since=since, where=lambda c: c.result is not None)
    with pytest.raises(KeyError):
        api.stored(STAFF_CHAT, copy.result["message_id"])


async def test_after_forget_their_words_answered_in_a_group_are_gone_too(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """The bot's answers in a group greet the person by name and quote what they searched:
    once sent, no answer keeps its words, so no forget has to find them there."""
    database = tmp_path / "bot.db"
    await start(started, staff_config(api, database))
    secret, name = "Qwzx-7742 Shoqata e Fshehte", "Xhevdet Qyqalla"
    person, group = api.user(4951, name), api.group_chat()
    for text in ("/start@ascs_test_bot", f"/search@ascs_test_bot {secret}"):
        since = api.mark()
        await api.send_text(person, text, chat=group)
        [reply] = await api.replies(group["id"], since=since)
        assert name in reply.text or secret in reply.text
    await forget_me(api, person)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = b"".join(path.read_bytes() for path in tmp_path.glob("bot.db*"))
    assert secret.encode() not in files and name.encode() not in files


async def test_a_ticket_post_telegram_makes_after_the_forget_is_deleted(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """The post of the person's ticket is in flight (Telegram slow to answer) when they
    forget: made after its row was deleted, it would stay in the staff chat with their name
    and question, which nothing recorded. It is deleted once made."""
    await start(started, staff_config(api, tmp_path / "bot.db", send_timeout=10.0))
    api.fail("sendMessage", delay=3.0, chat_id=STAFF_CHAT, carried_out=True)
    name = "Xhevdet Qyqalla"
    person = api.user(4952, name)
    number = await ask_staff(api, person)
    since = api.mark()
    await forget_me(api, person)
    post = await card_of(api, number)  # made, then answered late
    assert name in post.text
    deleted = await api.wait_for("deleteMessage", since=since, timeout=20.0,
                                 where=lambda c: c.result is not None)
    assert deleted.params["message_id"] == post.result["message_id"]
    with pytest.raises(KeyError):
        api.stored(STAFF_CHAT, post.result["message_id"])


async def test_a_listing_telegram_makes_after_the_forget_is_deleted(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """/open quotes the person's question and is in flight when they forget: made after its
    row was deleted, it is deleted once made."""
    await start(started, staff_config(api, tmp_path / "bot.db", send_timeout=10.0))
    person = api.user(4957, "Ana")
    number = await ask_staff(api, person, "A mund të na ndihmoni me qiranë e zyrës?")
    await card_of(api, number)
    api.fail("sendMessage", delay=3.0, chat_id=STAFF_CHAT, carried_out=True)
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), "/open", chat=staff_chat(api))
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    await forget_me(api, person)
    listing = await api.wait_for("sendMessage", since=since, timeout=20.0, where=lambda c: (
        c.result is not None and c.chat_id == STAFF_CHAT and "qiranë" in c.text))
    deleted = await api.wait_for("deleteMessage", since=since, timeout=20.0,
                                 where=lambda c: c.result is not None)
    assert deleted.params["message_id"] == listing.result["message_id"]


async def test_a_copy_telegram_no_longer_deletes_is_emptied(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """Telegram deletes a message for 48 hours only: the copy of an older follow-up of the
    person is the bot's own text, and is edited to say it was deleted instead."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    secret = "Qwzx-7743 numri im i llogarise"
    person = api.user(4953, "Ana")
    await ask_staff(api, person)
    since = api.mark()
    await api.send_text(person, f"{secret}, a mjafton?")  # to the open ticket
    await api.replies(4953, since=since)
    copy = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT and secret in c.text)
    api.fail("deleteMessage", status=400,
             description="Bad Request: message can't be deleted for everyone")
    since = api.mark()
    await forget_me(api, person)
    await api.wait_for("editMessageText", since=since, where=lambda c: c.result is not None
                       and c.params["message_id"] == copy.result["message_id"])
    assert api.message_text(STAFF_CHAT, copy.result["message_id"]) == \
        "🗑 Mesazhi u fshi me kërkesë të personit."


async def test_the_staff_chats_answer_naming_a_forgotten_person_is_deleted(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """"/ban #N" is answered with the person's name: their forget deletes that answer from
    the staff chat, as it does the copies of their messages (the ban itself stays)."""
    database = tmp_path / "bot.db"
    await start(started, staff_config(api, database))
    name = "Xhevdet Qyqalla"
    person = api.user(4954, name)
    number = await ask_staff(api, person)
    await card_of(api, number)
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), f"/ban #{number}", chat=staff_chat(api))
    said = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT)
    assert name in said.text
    await forget_deletes(api, person, said)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert name.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*"))


async def test_the_staff_chats_listings_and_bans_naming_a_forgotten_person_are_deleted(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """/open quotes each open ticket's question, and "/ban USER_ID" names the person: a
    forget deletes such answers from the staff chat (the ban itself stays), those naming
    other people only stay."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    ana, ben = api.user(4955, "Xhevdet Qyqalla"), api.user(4956, "Ben")
    number = await ask_staff(api, ana, "A mund të na ndihmoni me qiranë e zyrës këtë dimër?")
    await card_of(api, number)
    listing = await staff_answer(api, "/open")
    assert listing.text.startswith("Bileta të hapura: 1") and "qiranë e zyrës" in listing.text
    banned = await staff_answer(api, f"/ban {ben['id']}", user_id=DRITA)
    assert str(ben["id"]) in banned.text
    await forget_deletes(api, ana, listing)
    await settled(api, staff_chat(api))  # whatever Ana's forget queued there is done
    assert api.message_text(STAFF_CHAT, banned.result["message_id"]) == banned.text
    await forget_deletes(api, ben, banned)


async def test_a_database_error_is_logged_without_the_persons_text(
        api: BotApiServer, database_url: str, started: list[RunningBot],
        caplog: pytest.LogCaptureFixture) -> None:
    running = await start(started, staff_config(api, database_url))
    assert running.brain is not None
    with running.brain.db.engine.begin() as connection:
        if running.brain.db.is_sqlite:
            connection.execute(text("DROP TABLE question_log"))
        else:  # PostgreSQL quotes the failing row in its error
            connection.execute(text("ALTER TABLE question_log ADD CONSTRAINT refuse "
                                    "CHECK (false) NOT VALID"))
    secret = "Zyrxhan Qafleshi ka borxh te madh"
    person = api.user(4960, "Ana")
    since = api.mark()
    with caplog.at_level(logging.ERROR):
        await api.send_text(person, f"Si ta regjistroj shoqaten? {secret}")
        [reply] = await api.replies(4960, since=since)
    assert reply.text.startswith("Më vjen keq, diçka shkoi keq.")
    assert secret not in caplog.text
    assert "database error while handling an update" in caplog.text
    assert "question_log" in caplog.text


async def test_the_token_is_neither_stored_with_an_outbox_error_nor_shown_to_the_staff(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    config = staff_config(api, tmp_path / "bot.db")
    await start(started, config)
    number = await ask_staff(api, api.user(4970, "Ana"))
    card = await card_of(api, number)
    api.fail("sendMessage", 1, status=400, chat_id=4970,
             description=f"Bad Request: can't parse entities in /bot{api.token}/sendMessage")
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), "Përgjigja", chat=staff_chat(api),
                        reply_to=card.result)
    note = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT
                              and c.text.startswith("⚠️"))
    assert "(Can't parse entities in /bot<token>/sendmessage)." in note.text
    with Database(config.database_url) as db, db.session() as session:
        [error] = session.scalars(select(OutboxItem.last_error)
                                  .where(OutboxItem.status == "failed")).all()
    assert error == "Can't parse entities in /bot<token>/sendmessage"
    assert api.token.split(":")[1].lower() not in "".join(cells(config.database_url)).lower()


async def test_a_forgotten_persons_forum_topic_keeps_only_the_ticket_number(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    api.forums.add(STAFF_CHAT)
    await start(started, staff_config(api, tmp_path / "bot.db"))
    person = api.user(4980, "Dardan")
    number = await ask_staff(api, person)
    topic = await api.wait_for("createForumTopic", where=lambda c: c.result is not None)
    key = (STAFF_CHAT, topic.result["message_thread_id"])
    assert api.topics[key] == f"#{number} Dardan (id 4980)"
    card = await card_of(api, number)
    since = api.mark()
    await forget_me(api, person)
    await api.wait_for("editForumTopic", since=since, where=lambda c: c.result is not None)
    assert api.topics[key] == f"#{number}"
    await api.wait_for("editMessageText", since=since, where=lambda c: c.result is not None)
    assert "Dardan" not in api.message_text(STAFF_CHAT, card.result["message_id"])


async def test_a_forget_press_telegram_will_not_acknowledge_still_deletes_everything(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    # A press handled after a restart is too old for Telegram to acknowledge: the
    # deletion must not hang on the acknowledgement.
    await start(started, staff_config(api, database_url))
    person = api.user(5100, "Liri")
    number = await ask_staff(api, person, "kush e paguan qirane e zyres sone ne Fier?")
    await card_of(api, number)
    assert any("qirane e zyres" in value for value in cells(database_url))
    # The staff's listing quotes the question; the bot's answers to staff commands are not
    # kept once sent, so nothing of it stays in the database after the forget either.
    assert "qirane e zyres" in await staff_command(api, "/open")
    api.fail("answerCallbackQuery", status=400, description=(
        "Bad Request: query is too old and response timeout expired or query id is invalid"))
    await forget_me(api, person)
    await wait_until(lambda: not any("qirane e zyres" in value
                                     for value in cells(database_url)))


async def test_a_forgotten_persons_rating_comment_leaves_the_staff_chat(
        api: BotApiServer, database_url: str, started: list[RunningBot]) -> None:
    await start(started, staff_config(api, database_url))
    person = api.user(5200, "Dritan")
    number = await ask_staff(api, person)
    card = await card_of(api, number)
    await staff_says(api, BESA, "Ja përgjigja.", card)
    since = api.mark()
    await api.send_text(api.user(BESA, "Besa"), f"/close {number}", chat=staff_chat(api))
    closed = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 5200
                                and c.text.startswith("Stafi e mbylli"))
    since = api.mark()
    await api.press(person, closed, f"r:sq:{number}:0")
    thanks = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 5200
                                and c.text.startswith("Faleminderit për vlerësimin"))
    await api.press(person, thanks, thanks.buttons[0][0][1])
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 5200
                       and c.text.startswith("Shkruani komentin"))
    since = api.mark()
    await api.send_text(person, "Drejtori juaj Artan Kola me tha gjera te pasakta")
    comment = await api.wait_for("sendMessage", since=since, where=lambda c: (
        c.chat_id == STAFF_CHAT and c.result is not None and "Artan Kola" in c.text))
    await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 5200
                       and c.text == "Faleminderit për komentin!")
    await forget_deletes(api, person, comment)


async def test_the_bots_messages_quoting_a_person_cannot_become_saved_replies(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:
    """/save as a reply to the bot's copy of a person's message (their name, id and
    words) or to their ticket's post is refused: a saved reply is sent to other people
    and no forget reaches it. The staff's own message is saved."""
    await start(started, staff_config(api, tmp_path / "bot.db"))
    secret = "Qwzx-7743 si ta plotesoj formularin e grantit"
    person = api.user(4957, "Ana")
    number = await ask_staff(api, person)
    card = await card_of(api, number)
    since = api.mark()
    await api.send_text(person, secret)  # to the open ticket: copied to the staff chat
    copy = await api.wait_for("sendMessage", since=since, where=lambda c: c.result is not None
                              and c.chat_id == STAFF_CHAT and secret in c.text)
    besa = api.user(BESA, "Besa")
    own = await api.send_text(besa, "Formulari plotësohet në portalin e agjencisë.",
                              chat=staff_chat(api))
    for command, replied, answer in (
            ("/save formulari", copy.result, "Ruhen vetëm mesazhet e stafit"),
            ("/save bileta", card.result, "Ruhen vetëm mesazhet e stafit"),
            ("/save portali", own["message"], "Përgjigja «portali» u ruajt.")):
        since = api.mark()
        await api.send_text(besa, command, chat=staff_chat(api), reply_to=replied)
        said = await api.wait_for("sendMessage", since=since,
                                  where=lambda c: c.chat_id == STAFF_CHAT)
        assert said.text.startswith(answer), said.text
    assert (await staff_command(api, "/saved")).splitlines() == [
        "Përgjigjet e ruajtura", "• portali: Formulari plotësohet në portalin e agjencisë."]
