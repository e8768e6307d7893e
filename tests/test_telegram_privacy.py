"""Privacy and safety as people and staff meet them in Telegram: names that try to fake an
id, /ban and /unban naming whom they hit, NUL characters in names and texts on SQLite and
PostgreSQL. The real Application long polls the Bot API test server."""

from __future__ import annotations

from pathlib import Path

from botapi import BotApiServer
from botapi.harness import RunningBot
from test_telegram_staff import (BESA, STAFF_CHAT, api, ask_staff, card_of, staff_chat,  # noqa: F401
                                 staff_config, start, started)

# The right-to-left override makes "Eve" + ")999 di(" read "Eve (id 999)" on screen.
FAKE_ID_NAME = "Eve\u202e)999 di(\u2066"


async def staff_command(api: BotApiServer, text: str, user_id: int = BESA) -> str:
    since = api.mark()
    await api.send_text(api.user(user_id, "Besa"), text, chat=staff_chat(api))
    said = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == STAFF_CHAT)
    return said.text


async def test_a_name_with_bidi_controls_cannot_fake_the_id_staff_ban(
        api: BotApiServer, started: list[RunningBot], tmp_path: Path) -> None:  # noqa: F811
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
        api: BotApiServer, started: list[RunningBot], database_url: str) -> None:  # noqa: F811
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
    await api.send_text(api.user(BESA, "Be\x00sa"), "Nuk\x00 e dimë.", chat=staff_chat(api),
                        reply_to=card.result)
    answer = await api.wait_for("sendMessage", since=since, where=lambda c: c.chat_id == 4800)
    assert answer.text.endswith("Nuk e dimë.")
    edited = await api.wait_for("editMessageText", since=since)
    assert "E mori: Besa" in edited.text
