"""Admins keeping the FAQ current, over HTTP with the real Application and the Bot API
test server: uploads with a confirmation, reloads of files edited on disk, suggestions
accepted into the YAML, /stats with its chart, /faq_export, and /forget.

Every test works on a copy of the project's FAQ in a temporary folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.faq import load_faq
from bot.storage import Database, FaqSuggestion, OutboxItem, Person, QuestionLog, Ticket
from botapi import BotApiServer, Call
from botapi.harness import PROJECT_ROOT, RunningBot, make_config
from handlers.admins import exported
from bot.limits import MAX_DOCUMENT
from staffchat import wait_until

ADMIN = 9001
GRANTS_QUESTION = "When does ASCS open calls for proposals?"
PARKING = "Is there parking for cars at your office building?"
PARKING_ANSWER = "There is free parking in the courtyard behind the building."

NEW_FILE = f"""# Practical matters about visiting the agency.
version: 1
entries:
  - id: office-parking
    category: agency
    questions:
      en:
        - {PARKING}
        - Where can I park my car when I visit?
    answer:
      en: {PARKING_ANSWER}
""".encode()

BROKEN_FILE = b"""version: 1
entries:
  - id: office-parking
    questions:
      en: ["Is there parking?"]
    answr:
      en: Yes.
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    shutil.copytree(PROJECT_ROOT / "faq", folder)
    return folder


@pytest.fixture
async def bot(api: BotApiServer, tmp_path: Path, faq_dir: Path) -> AsyncIterator[RunningBot]:
    config = make_config(api, tmp_path / "bot.db")
    config = dataclasses.replace(
        config, faq_path=faq_dir, admins=(ADMIN,),
        faq_admin=dataclasses.replace(config.faq_admin, reload_interval=timedelta(seconds=0.2),
                                      history_dir=tmp_path / "history"),
        staff=dataclasses.replace(config.staff, retry_interval=timedelta(seconds=0.2)))
    running = await RunningBot(config).start()
    yield running
    await running.stop()


def admin(api: BotApiServer) -> dict:
    return api.user(ADMIN, "Admin", language_code="en")


async def said(api: BotApiServer, chat_id: int, since: int, *words: str,
               timeout: float = 10.0) -> Call:
    """The bot's first message to ``chat_id`` after ``since`` containing every one of ``words``."""
    return await api.wait_for("sendMessage", since=since, timeout=timeout,
                              where=lambda c: c.chat_id == chat_id and c.result is not None
                              and all(w in c.text for w in words))


async def ask(api: BotApiServer, user: dict, text: str) -> Call:
    since = api.mark()
    await api.send_text(user, text)
    [reply] = await api.replies(user["id"], since=since)
    return reply


def answer_of(faq_dir: Path, entry_id: str) -> str:
    entry = load_faq(faq_dir).get(entry_id)
    assert entry is not None
    return entry.answer_in("en")


async def test_valid_upload_shows_the_change_and_goes_live_when_confirmed(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    person = api.user(7001, "Ana", language_code="en")
    before = await ask(api, person, PARKING)
    assert PARKING_ANSWER not in before.text

    since = api.mark()
    await api.send_document(admin(api), "visiting.yaml", NEW_FILE)
    summary = await said(api, ADMIN, since, "visiting.yaml", "is valid")
    assert "Added: office-parking" in summary.text and "Removed: none" in summary.text
    assert not (faq_dir / "visiting.yaml").exists()  # nothing written before the confirmation

    confirm = summary.buttons[0][0][1]
    stranger = api.user(7010, "Eve", language_code="en")
    since = api.mark()
    await api.press(stranger, summary, confirm)  # a forged press by someone else
    refused = await api.wait_for("answerCallbackQuery", since=since)
    assert "no longer valid" in refused.params["text"]
    assert not (faq_dir / "visiting.yaml").exists()

    since = api.mark()
    await api.press(admin(api), summary, confirm)
    await said(api, ADMIN, since, "reloaded", "office-parking")
    assert (faq_dir / "visiting.yaml").read_bytes() == NEW_FILE
    assert PARKING_ANSWER in (await ask(api, person, PARKING)).text


async def test_upload_replacing_a_file_keeps_the_old_one_in_the_history(
        api: BotApiServer, bot: RunningBot, faq_dir: Path, tmp_path: Path) -> None:
    old = (faq_dir / "grants.yaml").read_bytes()
    new = old.replace(b"When does ASCS open calls for proposals?",
                      b"When does ASCS open its calls for proposals?")
    since = api.mark()
    await api.send_document(admin(api), "grants.yaml", new)
    summary = await said(api, ADMIN, since, "replaces the existing file")
    assert "Changed: grants-calls" in summary.text and "Added: none" in summary.text
    since = api.mark()
    await api.press(admin(api), summary, summary.buttons[0][0][1])
    await said(api, ADMIN, since, "reloaded")
    assert (faq_dir / "grants.yaml").read_bytes() == new
    [kept] = list((tmp_path / "history").glob("grants.*.yaml"))
    assert kept.read_bytes() == old


async def test_cancelled_upload_writes_nothing(api: BotApiServer, bot: RunningBot,
                                               faq_dir: Path) -> None:
    since = api.mark()
    await api.send_document(admin(api), "visiting.yaml", NEW_FILE)
    summary = await said(api, ADMIN, since, "is valid")
    since = api.mark()
    await api.press(admin(api), summary, summary.buttons[0][1][1])
    await said(api, ADMIN, since, "cancelled")
    assert not (faq_dir / "visiting.yaml").exists()


async def test_broken_upload_lists_the_problems_and_the_old_faq_keeps_answering(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    files_before = sorted(p.name for p in faq_dir.iterdir())
    since = api.mark()
    await api.send_document(admin(api), "visiting.yaml", BROKEN_FILE)
    report = await said(api, ADMIN, since, "problem")
    assert "visiting.yaml:6" in report.text and "answr" in report.text
    assert "missing 'answer'" in report.text
    assert report.buttons == []  # nothing to confirm
    assert sorted(p.name for p in faq_dir.iterdir()) == files_before
    reply = await ask(api, api.user(7002, "Ana", language_code="en"), GRANTS_QUESTION)
    assert answer_of(faq_dir, "grants-calls")[:60] in reply.text


async def test_upload_repeating_ids_names_the_files_as_the_admin_knows_them(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    since = api.mark()
    await api.send_document(admin(api), "copy.yaml", (faq_dir / "agency.yaml").read_bytes())
    report = await said(api, ADMIN, since, "problem")
    assert "duplicate id: already used at agency.yaml:" in report.text
    assert "faq-check-" not in report.text
    assert not (faq_dir / "copy.yaml").exists()


async def test_upload_from_someone_who_is_not_an_admin_is_refused(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    stranger = api.user(7003, "Eve", language_code="en")
    since = api.mark()
    await api.send_document(stranger, "visiting.yaml", NEW_FILE)
    [reply] = await api.replies(7003, since=since)
    assert "only read text" in reply.text
    assert api.calls_of("getFile", since) == []
    assert not (faq_dir / "visiting.yaml").exists()
    # and the admin commands do nothing for them
    reply = await ask(api, stranger, "/reload")
    assert "do not know that command" in reply.text


async def test_uploads_too_big_or_not_yaml_are_refused_without_reading_them(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    files_before = sorted(p.name for p in faq_dir.iterdir())
    since = api.mark()
    await api.send_document(admin(api), "huge.yaml", b"# " + b"x" * 300_000 + b"\n")
    await said(api, ADMIN, since, "larger than 256 KB")
    assert api.calls_of("getFile", since) == []
    since = api.mark()
    await api.send_document(admin(api), "notes.txt", NEW_FILE)
    await said(api, ADMIN, since, "not accepted", "bad file name")
    assert sorted(p.name for p in faq_dir.iterdir()) == files_before


async def test_file_edited_on_disk_is_reloaded_and_the_admins_are_told(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    await ask(api, admin(api), "/lang en")  # told in the language the admin chose
    since = api.mark()
    (faq_dir / "visiting.yaml").write_bytes(NEW_FILE)
    await said(api, ADMIN, since, "reloaded", "Added: office-parking")
    reply = await ask(api, api.user(7004, "Ana", language_code="en"), PARKING)
    assert PARKING_ANSWER in reply.text


async def test_broken_edit_on_disk_is_reported_and_the_last_good_faq_stays(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    grants = faq_dir / "grants.yaml"
    since = api.mark()
    grants.write_text(grants.read_text(encoding="utf-8").replace("  - id: grants-apply",
                                                                 "  - id: Grants Apply!", 1),
                      encoding="utf-8")
    report = await said(api, ADMIN, since, "gabime", "FAQ-në e fundit të mirë")
    assert "grants.yaml:" in report.text and "bad id" in report.text  # Albanian by default
    await ask(api, admin(api), "/lang en")
    reply = await ask(api, admin(api), "/reload")  # asked again: the same problems
    assert "problem" in reply.text and "bad id" in reply.text
    reply = await ask(api, api.user(7005, "Ana", language_code="en"), GRANTS_QUESTION)
    assert answer_of(PROJECT_ROOT / "faq", "grants-calls")[:60] in reply.text


async def test_accepted_suggestion_answers_at_once_and_the_comments_survive(
        api: BotApiServer, bot: RunningBot, faq_dir: Path, tmp_path: Path) -> None:
    phrasing = "Do you sell pizza margherita with pineapple to NGOs?"
    assert bot.brain is not None
    with bot.brain.db.session() as session:
        session.add(FaqSuggestion(question=phrasing, language="en", entry_id="grants-calls",
                                  answer="See the calls page.", status="pending"))
    person = api.user(7006, "Ana", language_code="en")
    grants_answer = answer_of(faq_dir, "grants-calls")[:60]
    assert grants_answer not in (await ask(api, person, phrasing)).text
    listing = await ask(api, admin(api), "/suggestions")
    assert phrasing in listing.text and "grants-calls" in listing.text
    data = next(d for row in listing.buttons for label, d in row if "phrasing" in label)
    since = api.mark()
    await api.press(admin(api), listing, data)
    await said(api, ADMIN, since, "phrasing of grants-calls", "live")

    assert grants_answer in (await ask(api, person, phrasing)).text
    text = (faq_dir / "grants.yaml").read_text(encoding="utf-8")
    assert text.startswith("# ASCS funding: calls for proposals")
    assert "# Admins: every call has its own rules" in text
    assert f"        - {phrasing}\n" in text
    with bot.brain.db.session() as session:
        assert session.scalars(select(FaqSuggestion.status)).all() == ["accepted"]
    assert list((tmp_path / "history").glob("grants.*.yaml"))


async def test_a_suggestion_is_not_written_while_a_faq_file_is_half_edited(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    assert bot.brain is not None
    with bot.brain.db.session() as session:
        session.add(FaqSuggestion(question="Can we apply twice to one call?", language="en",
                                  entry_id="grants-calls", answer="No.", status="pending"))
    (faq_dir / "a-draft.yaml").write_text("version: 1\nentries:\n  - id: [draft\n",
                                          encoding="utf-8")
    since = api.mark()
    await api.send_text(admin(api), "/suggestions")
    # The admins are also told of the broken file, as soon as the bot sees it.
    listing = await said(api, ADMIN, since, "Can we apply twice")
    data = next(d for row in listing.buttons for label, d in row if "phrasing" in label)
    since = api.mark()
    await api.press(admin(api), listing, data)
    refused = await said(api, ADMIN, since, "was not written")
    assert "a-draft.yaml, line 4: YAML syntax error" in refused.text
    assert "Can we apply twice" not in (faq_dir / "grants.yaml").read_text(encoding="utf-8")
    with bot.brain.db.session() as session:
        assert session.scalars(select(FaqSuggestion.status)).all() == ["pending"]


async def test_suggestion_accepted_as_a_new_entry_and_one_rejected(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    assert bot.brain is not None
    with bot.brain.db.session() as session:
        session.add(FaqSuggestion(question=PARKING, language="en", entry_id=None,
                                  answer=PARKING_ANSWER, status="pending"))
        session.add(FaqSuggestion(question="Who won the football match?", language="en",
                                  entry_id=None, answer="No idea.", status="pending"))
    since = api.mark()
    await api.send_text(admin(api), "/suggestions")
    first, second = await api.replies(ADMIN, since=since, count=2)
    since = api.mark()
    await api.press(admin(api), first, next(d for row in first.buttons for label, d in row
                                            if label == "As a new entry"))
    await said(api, ADMIN, since, "new entry")
    since = api.mark()
    await api.press(admin(api), second, next(d for row in second.buttons for label, d in row
                                             if label == "Reject"))
    await said(api, ADMIN, since, "rejected")
    assert PARKING_ANSWER in (await ask(api, api.user(7007, language_code="en"), PARKING)).text
    assert "Who won" not in (faq_dir / "from-staff.yaml").read_text(encoding="utf-8")
    reply = await ask(api, admin(api), "/suggestions")
    assert "No suggestions" in reply.text


async def test_stats_sends_the_figures_and_a_chart(api: BotApiServer, bot: RunningBot) -> None:
    person = api.user(7008, "Ana", language_code="en")
    await ask(api, person, GRANTS_QUESTION)
    since = api.mark()
    await api.send_text(admin(api), "/stats 7")
    figures = await said(api, ADMIN, since, "Statistics")
    assert "Questions: 1" in figures.text and "Answered directly: 1" in figures.text
    photo = await api.wait_for("sendPhoto", since=since)
    assert photo.params["_files"]["photo"]["content"].startswith(b"\x89PNG")
    for period in ("last week", "2026-01-01 9999-12-31", "0001-01-01 9999-12-30",
                   "2026-03-04 2026-03-02"):
        reply = await ask(api, admin(api), f"/stats {period}")
        assert reply.text.startswith("Usage: /stats"), period


async def test_faq_export_sends_every_file(api: BotApiServer, bot: RunningBot,
                                           faq_dir: Path) -> None:
    since = api.mark()
    await api.send_text(admin(api), "/faq_export")
    files = sorted(faq_dir.glob("*.yaml"))
    for file in files:
        call = await api.wait_for("sendDocument", since=since, where=lambda c, f=file:
                                  c.params["_files"]["document"]["filename"] == f.name)
        assert call.params["_files"]["document"]["content"] == file.read_bytes()


async def test_a_file_telegram_fails_to_take_is_sent_again_once(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    """/faq_export and /stats go through the outbox: a 500 on the upload is retried."""
    api.fail("sendDocument", 1, status=500)
    api.fail("sendPhoto", 1, status=500)
    since = api.mark()
    await api.send_text(admin(api), "/faq_export")
    await api.send_text(admin(api), "/stats")
    files = sorted(faq_dir.glob("*.yaml"))

    def taken(method: str) -> list[Call]:
        return [c for c in api.calls_of(method, since) if c.result is not None]

    await wait_until(lambda: len(taken("sendDocument")) == len(files) and taken("sendPhoto"))
    # The admin's chat settled: anything sent twice would have come before this answer.
    await ask(api, admin(api), "/help")
    documents = taken("sendDocument")
    assert sorted(c.params["_files"]["document"]["filename"] for c in documents) == [
        f.name for f in files]
    assert all(c.chat_id == ADMIN for c in documents)
    for call in documents:
        assert call.params["_files"]["document"]["content"] == (
            faq_dir / call.params["_files"]["document"]["filename"]).read_bytes()
    [photo] = taken("sendPhoto")
    assert photo.params["_files"]["photo"]["content"].startswith(b"\x89PNG")
    assert sorted(c.method for c in api.failed) == ["sendDocument", "sendPhoto"]


def test_an_faq_file_larger_than_telegram_takes_is_not_queued(tmp_path: Path) -> None:
    small, huge = tmp_path / "small.yaml", tmp_path / "huge.yaml"
    small.write_bytes(NEW_FILE)
    with huge.open("wb") as file:  # sparse: nothing written
        file.truncate(MAX_DOCUMENT + 1)
    documents, too_big = exported([small, huge])
    assert [(d.name, d.content) for d in documents] == [("small.yaml", NEW_FILE)]
    assert too_big == ["huge.yaml"]


async def test_a_chart_queued_before_a_restart_is_sent_after_it(
        api: BotApiServer, bot: RunningBot) -> None:
    api.fail_methods.add("sendPhoto")
    since = api.mark()
    await api.send_text(admin(api), "/stats")
    await api.wait_for("sendPhoto", since=since, refused_too=True)  # refused
    await bot.stop()
    api.fail_methods.discard("sendPhoto")
    await bot.start()
    photo = await api.wait_for("sendPhoto", since=since, where=lambda c: c.result is not None)
    assert photo.chat_id == ADMIN
    assert photo.params["_files"]["photo"]["content"].startswith(b"\x89PNG")
    await ask(api, admin(api), "/help")  # the chat settled: a second copy would be before
    assert len([c for c in api.calls_of("sendPhoto", since) if c.result is not None]) == 1
    assert bot.brain is not None
    with bot.brain.db.session() as session:  # what was sent is not kept
        [payload] = session.scalars(select(OutboxItem.payload)
                                    .where(OutboxItem.method == "picture")).all()
    assert payload["content"] == ""


async def test_forget_deletes_the_person_after_confirmation(api: BotApiServer,
                                                            bot: RunningBot) -> None:
    person = api.user(7009, "Ana", language_code="en")
    await ask(api, person, "/lang en")
    await ask(api, person, GRANTS_QUESTION)
    assert bot.brain is not None

    def rows() -> tuple[int, int]:
        with bot.brain.db.session() as session:  # type: ignore[union-attr]
            return (session.scalar(select(func.count()).select_from(QuestionLog)
                                   .where(QuestionLog.user_id == 7009)),
                    session.scalar(select(func.count()).select_from(Person)
                                   .where(Person.telegram_user_id == 7009)))

    assert rows() == (1, 1)
    question = await ask(api, person, "/forget")
    assert "cannot be undone" in question.text
    since = api.mark()
    await api.press(person, question, question.buttons[0][1][1])  # "No"
    await said(api, 7009, since, "nothing was deleted")
    assert rows() == (1, 1)
    since = api.mark()
    await api.press(person, question, question.buttons[0][0][1])
    await said(api, 7009, since, "was deleted")
    assert rows() == (0, 0)


async def test_retention_job_takes_old_words_away_at_start(
        api: BotApiServer, tmp_path: Path, faq_dir: Path) -> None:
    config = dataclasses.replace(make_config(api, tmp_path / "bot.db"), faq_path=faq_dir)
    old = datetime.now(timezone.utc) - timedelta(days=400)
    with Database(config.database_url) as db, db.session() as session:
        for when, text in ((old, "old"), (datetime.now(timezone.utc), "new")):
            session.add(QuestionLog(user_id=1, chat_id=1, text=text, language="sq",
                                    decision="staff", outcome="staff", created_at=when))
        session.add(Ticket(user_id=1, chat_id=1, person_name="Ana", language="sq",
                           question="Pyetja e vjetër", guesses=[], status="closed",
                           created_at=old, updated_at=old, closed_at=old))
    running = await RunningBot(config).start()
    try:
        assert running.brain is not None

        def left() -> tuple[list[str], list[str]]:
            with running.brain.db.session() as session:  # type: ignore[union-attr]
                return (list(session.scalars(select(QuestionLog.text))),
                        list(session.scalars(select(Ticket.question))))

        for _ in range(50):
            if left() == (["new"], [""]):
                break
            await asyncio.sleep(0.1)
        assert left() == (["new"], [""])
    finally:
        await running.stop()


async def test_a_forget_deletes_the_stats_that_quote_the_person(api: BotApiServer,
                                                                 bot: RunningBot) -> None:
    """/stats shows the questions the bot could not answer, in the askers' words: the
    asker's forget deletes it from the admin's chat (the figures can be asked again)."""
    person = api.user(7012, "Ana", language_code="en")
    unanswered = "Can my cousin Arben Hoxha sign the lease of our office in Vlora?"
    offered = await ask(api, person, unanswered)
    assert "staff" in offered.text  # handed on: an unanswered question
    since = api.mark()
    await api.send_text(admin(api), "/stats 7")
    figures = await said(api, ADMIN, since, "Statistics")
    assert "Arben Hoxha" in figures.text
    question = await ask(api, person, "/forget")
    since = api.mark()
    await api.press(person, question, question.buttons[0][0][1])
    await api.wait_for("deleteMessage", since=since, where=lambda c: (
        c.result is not None and c.chat_id == ADMIN
        and c.params["message_id"] == figures.result["message_id"]))


async def test_stats_on_their_way_when_the_person_forgets_are_deleted_once_made(
        api: BotApiServer, bot: RunningBot) -> None:
    """The /stats quoting Ana's question is in flight (Telegram slow to answer) when she
    forgets: made after its row was deleted, it is deleted from the admin's chat."""
    person = api.user(7013, "Ana", language_code="en")
    await ask(api, person, "Can my cousin Arben Hoxha sign the lease of our office in Vlora?")
    question = await ask(api, person, "/forget")
    api.fail("sendMessage", delay=3.0, chat_id=ADMIN, carried_out=True)
    since = api.mark()
    await api.send_text(admin(api), "/stats 7")
    figures = await api.wait_for("sendMessage", since=since, where=lambda c: (
        c.result is not None and c.chat_id == ADMIN))  # made; its answer comes late
    assert "Arben Hoxha" in figures.text
    await api.press(person, question, question.buttons[0][0][1])
    await api.wait_for("deleteMessage", since=since, timeout=20, where=lambda c: (
        c.result is not None and c.chat_id == ADMIN
        and c.params["message_id"] == figures.result["message_id"]))
