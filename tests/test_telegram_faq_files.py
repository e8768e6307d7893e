"""Hostile and awkward FAQ files sent by an admin, over HTTP with the real Application and
the Bot API test server: a clear refusal, nothing written, and nobody else kept waiting.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from botapi import BotApiServer, Call
from botapi.harness import PROJECT_ROOT, RunningBot
from test_telegram_admins import (  # noqa: F401
    ADMIN,
    GRANTS_QUESTION,
    admin,
    answer_of,
    bot,
    faq_dir,
    said,
)


def laughs(levels: int = 9) -> bytes:
    """A FAQ file of about a kilobyte whose aliases expand to ``9 ** levels`` strings."""
    lines = ["version: 1", "entries:", "  - id: laughs", "    questions:", "      en: [lol]",
             "    answer:", "      en: lol", "l0: &l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines.append(f"entries2: *l{levels}")
    return ("\n".join(lines) + "\n").encode()


def phrasing_bomb(entries: int = 1500, phrasings: int = 5000) -> bytes:
    """A valid-looking FAQ of about 120 KB whose entries all repeat one list of
    ``phrasings`` questions through an alias: 7.5 million phrasings to check and index."""
    lines = ["version: 1", "entries:", "  - id: e0", "    questions:",
             "      en: &many [" + ", ".join(f"q{n}" for n in range(phrasings)) + "]",
             "    answer: {en: x}"]
    lines += [f"  - {{id: e{n}, questions: {{en: *many}}, answer: {{en: x}}}}"
              for n in range(1, entries)]
    return ("\n".join(lines) + "\n").encode()


async def test_an_alias_bomb_is_refused_and_others_are_answered_meanwhile(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    files_before = sorted(p.name for p in faq_dir.iterdir())
    person = api.user(7101, "Ana", language_code="en")
    api.held_downloads = asyncio.Event()  # the admin's file is still on its way...
    since = api.mark()
    await api.send_document(admin(api), "bomb.yaml", phrasing_bomb())
    await api.wait_for("getFile", since=since)
    await api.send_text(person, GRANTS_QUESTION)
    [answer] = await api.replies(person["id"], since=since, timeout=10)  # ...and Ana is answered
    assert answer_of(PROJECT_ROOT / "faq", "grants-calls")[:60] in answer.text
    assert api.sent_to(ADMIN, since) == []
    api.held_downloads.set()
    refusal = await said(api, ADMIN, since, "problem", timeout=10)
    assert "bomb.yaml:7" in refusal.text
    assert "aliases (*name) are not allowed" in refusal.text
    assert sorted(p.name for p in faq_dir.iterdir()) == files_before


async def test_thousands_of_nested_brackets_are_refused(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    since = api.mark()
    await api.send_document(admin(api), "deep.yaml",
                            b"version: 1\nentries: " + b"[" * 3000 + b"]" * 3000 + b"\n")
    refusal = await said(api, ADMIN, since, "problem")
    assert "deep.yaml:2" in refusal.text and "nested more than 20 deep" in refusal.text
    assert not (faq_dir / "deep.yaml").exists()


async def test_an_upload_of_undeclared_size_is_not_downloaded_in_full(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    content = b"# " + b"x" * (32 * 1024 * 1024) + b"\n"
    since = api.mark()
    await api.send_document(admin(api), "huge.yaml", content, declare_size=False)
    await said(api, ADMIN, since, "larger than 256 KB")
    [file_id] = [f for f in api.files if api.files[f] is content]
    await asyncio.sleep(0.2)  # the server notices the hang-up
    assert api.downloaded[file_id] < len(content) // 2
    assert not (faq_dir / "huge.yaml").exists()


async def test_questions_in_a_flow_list_may_end_with_a_question_mark(
        api: BotApiServer, bot: RunningBot, faq_dir: Path) -> None:
    content = ("version: 1\nentries:\n  - id: office-parking\n    questions:\n"
               "      sq: [Ku parkohet makina?, A ka parking?]\n"
               "      en: [Is there parking?]\n"
               "    answer:\n      sq: Në oborr.\n      en: In the courtyard.\n").encode()
    since = api.mark()
    await api.send_document(admin(api), "visiting.yaml", content)
    summary: Call = await said(api, ADMIN, since, "visiting.yaml", "is valid")
    assert "Added: office-parking" in summary.text


async def test_a_tab_gets_a_use_spaces_hint(api: BotApiServer, bot: RunningBot) -> None:
    since = api.mark()
    await api.send_document(admin(api), "visiting.yaml",
                            b"version: 1\nentries:\n\t- id: office-parking\n")
    refusal = await said(api, ADMIN, since, "problem")
    assert "visiting.yaml:3" in refusal.text and "indent with spaces, not tabs" in refusal.text
