"""The upgrade to an outbox of intents loses nothing: calls the previous version queued
(Bot API methods and parameters) are converted and sent, their buttons still work."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bot.storage import Database, OutboxItem
from botapi import BotApiServer
from botapi.harness import RunningBot, make_config

PERSON = 4401


def queue_as_the_previous_version(database_url: str) -> None:
    old = Database(database_url, migrate=False)
    old.migrate("0007")
    now = datetime.now(UTC)
    calls = [
        ("sendMessage", {"text": "<b>Përgjigja</b> e radhës", "parse_mode": "HTML",
                         "buttons": [[["Temat", "m:sq"]]]}),
        ("sendMessage", {"text": "Dhe një e dytë", "parse_mode": "HTML"}),
    ]
    with Session(old.engine) as session, session.begin():
        for method, params in calls:
            session.add(OutboxItem(chat_id=PERSON, method=method, payload=params,
                                   purpose="reply", status="pending", attempts=0,
                                   next_attempt_at=now, created_at=now))
    old.close()


async def test_calls_queued_before_the_upgrade_are_sent_after_it(
        api: BotApiServer, database_url: str) -> None:
    queue_as_the_previous_version(database_url)
    running = await RunningBot(make_config(api, database_url)).start()
    try:
        first, second = await api.replies(PERSON, since=0, count=2)
        assert (first.text, first.buttons) == ("Përgjigja e radhës", [[("Temat", "m:sq")]])
        assert first.params["parse_mode"] == "HTML"
        assert second.text == "Dhe një e dytë"
        since = api.mark()
        await api.press(api.user(PERSON), first, "m:sq")  # an old button still works
        edited = await api.wait_for("editMessageText", since=since)
        assert edited.text.startswith("Zgjidhni një temë")
    finally:
        await running.stop()
