"""Learning from people's picks, on SQLite and PostgreSQL: the vote rules and what a
person is told afterwards (the conversation core, without Telegram)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot import learning, privacy
from bot.choices import Choice, Pick, Unhelpful
from bot.config import Config, ConfigError, load_config
from bot.conversation import Asker, Assistant, Reply
from bot.faq import Faq, load_faq
from bot.matcher import FaqMatcher
from bot.storage import Database, FaqSuggestion, LearnedVote, Ticket
from botapi.harness import PROJECT_ROOT, offering

ENTRY = "ngo-statute-changes"
# Close calls on the bundled FAQ: the bot offers choices, ENTRY among them.
FIRST = "We want to rename our association, what do we do?"
SECOND = "we'd like to rename the association - what to do??"
THIRD = "How do we rename the association?"
ANSWER_START = load_faq(PROJECT_ROOT / "faq").get(ENTRY).answer_in("en")[:60]  # type: ignore


def lexical(database_url: str, **learning: int) -> Config:
    """The project's config on ``database_url``, offering choices (:func:`offering`): the
    tests are about the votes, and need choices they can predict (and no model to load)."""
    config = load_config(PROJECT_ROOT / "config.yaml", environ={})
    return dataclasses.replace(
        config, database_url=database_url, matching=offering(config.matching),
        learning=dataclasses.replace(config.learning, **learning))


@pytest.fixture
def brain(database_url: str) -> Iterator[Assistant]:
    assistant = Assistant.open(lexical(database_url))
    assert assistant.semantic_ready.wait(60)
    try:
        yield assistant
    finally:
        assistant.close()


def person(number: int) -> Asker:
    return Asker(id=number, language_code="en", name=f"P{number}")


def ask(brain: Assistant, asker: Asker, text: str) -> Reply:
    [reply] = brain.reply(asker, text, chat_id=asker.id)
    return reply


def offered(reply: Reply) -> list[Choice]:
    return [b.choice for row in reply.buttons for b in row]


def pick(brain: Assistant, asker: Asker, text: str, entry_id: str = ENTRY) -> None:
    """Ask ``text``, see the choices, pick ``entry_id`` and get its answer."""
    reply = ask(brain, asker, text)
    assert Pick("en", entry_id) in offered(reply), reply
    pressed = brain.press(asker, Pick("en", entry_id))
    answer = load_faq(PROJECT_ROOT / "faq").get(entry_id).answer_in("en")  # type: ignore[union-attr]
    assert answer[:60] in pressed.replies[0].text


def answered_directly(brain: Assistant, asker: Asker, text: str) -> bool:
    reply = ask(brain, asker, text)
    return ANSWER_START in reply.text and Pick("en", ENTRY) not in offered(reply)


def test_two_people_picking_the_same_entry_teach_the_bot(brain: Assistant) -> None:
    assert not answered_directly(brain, person(1), THIRD)
    pick(brain, person(2), FIRST)
    assert not answered_directly(brain, person(3), THIRD)  # one person is not enough
    pick(brain, person(4), SECOND)
    assert answered_directly(brain, person(5), THIRD)
    [item] = learning.listing(brain.db, min_votes=2)
    assert (item.entry_id, item.voters, item.active, item.source) == (ENTRY, 2, True, "pick")
    assert item.texts == (FIRST, SECOND)


def test_the_same_person_picking_twice_is_one_vote(brain: Assistant) -> None:
    pick(brain, person(2), FIRST)
    pick(brain, person(2), SECOND)
    assert not answered_directly(brain, person(5), THIRD)
    [item] = learning.listing(brain.db, min_votes=2)
    assert (item.voters, item.active) == (1, False)


def test_different_questions_are_different_phrasings(brain: Assistant) -> None:
    pick(brain, person(2), FIRST)
    pick(brain, person(3), "can our association get money from the agency?", "grants-eligibility")
    assert [i.voters for i in learning.listing(brain.db, min_votes=2)] == [1, 1]


def test_a_thumbs_down_after_the_pick_takes_the_vote_back(brain: Assistant) -> None:
    pick(brain, person(2), FIRST)
    pick(brain, person(4), SECOND)
    assert answered_directly(brain, person(5), THIRD)
    brain.press(person(4), Unhelpful("en", ENTRY))
    assert not answered_directly(brain, person(6), THIRD)
    [item] = learning.listing(brain.db, min_votes=2)
    assert item.texts == (FIRST,)


def test_a_forged_pick_of_an_entry_never_offered_teaches_nothing(brain: Assistant) -> None:
    for number in (2, 3):
        ask(brain, person(number), FIRST)
        brain.press(person(number), Pick("en", "ascs-website"))
    assert learning.listing(brain.db, min_votes=2) == []


def test_min_votes_is_configurable(database_url: str) -> None:
    brain = Assistant.open(lexical(database_url, min_votes=3))
    assert brain.semantic_ready.wait(60)
    try:
        pick(brain, person(2), FIRST)
        pick(brain, person(3), SECOND)
        assert not answered_directly(brain, person(4), THIRD)
        pick(brain, person(5), "how can we rename our association")
        assert answered_directly(brain, person(6), THIRD)
    finally:
        brain.close()


def test_forgetting_a_person_removes_their_words_and_what_only_they_supported(
        brain: Assistant) -> None:
    pick(brain, person(2), FIRST)
    pick(brain, person(4), SECOND)
    pick(brain, person(4), "can our association get money from the agency?",
         "grants-eligibility")
    privacy.forget(brain.db, 4)
    assert brain.refresh_learned()
    assert not answered_directly(brain, person(5), THIRD)
    [item] = learning.listing(brain.db, min_votes=2)  # the grants one had only person 4
    assert (item.entry_id, item.texts) == (ENTRY, (FIRST,))
    with brain.db.session() as session:
        assert session.scalar(select(func.count()).select_from(LearnedVote)
                              .where(LearnedVote.user_id == 4)) == 0


def test_an_admin_removes_a_learned_phrasing(brain: Assistant) -> None:
    pick(brain, person(2), FIRST)
    pick(brain, person(4), SECOND)
    [item] = learning.listing(brain.db, min_votes=2)
    assert learning.remove(brain.db, item.id)
    assert not learning.remove(brain.db, item.id)
    assert brain.refresh_learned()
    assert not answered_directly(brain, person(5), THIRD)


def test_a_staff_answer_linked_by_an_admin_counts_at_once(brain: Assistant) -> None:
    with brain.db.session() as session:
        ticket = Ticket(user_id=42, chat_id=42, language="en", question=FIRST, guesses=[],
                        status="answered", created_at=learning._now(),
                        updated_at=learning._now())
        session.add(ticket)
        session.flush()
        suggestion = FaqSuggestion(ticket_id=ticket.id, question=FIRST, language="en",
                                   answer="Tell the court.", entry_id=ENTRY, status="pending")
        session.add(suggestion)
        session.flush()
        number = suggestion.id
    assert learning.link_suggestion(brain.db, number, threshold=0.6) == ENTRY
    assert learning.link_suggestion(brain.db, number, threshold=0.6) is None  # settled
    brain.refresh_learned()
    assert answered_directly(brain, person(5), THIRD)
    [item] = learning.listing(brain.db, min_votes=2)
    assert (item.source, item.active) == ("staff", True)
    privacy.forget(brain.db, 42)  # the asker's words go with them
    assert brain.refresh_learned() and learning.listing(brain.db, min_votes=2) == []


def test_a_reloaded_faq_keeps_what_was_learned(brain: Assistant) -> None:
    pick(brain, person(2), FIRST)
    pick(brain, person(4), SECOND)
    assert not brain.refresh_learned()  # nothing changed
    brain.use_faq(load_faq(PROJECT_ROOT / "faq"))
    assert answered_directly(brain, person(5), THIRD)
    assert not brain.refresh_learned()  # the new matcher was built with them
    assert answered_directly(brain, person(6), THIRD)

    # A reload that drops the entry for a moment (its id mistyped, then put right): what
    # was learned for it is there again with it.
    faq = load_faq(PROJECT_ROOT / "faq")
    brain.use_faq(Faq(tuple(e for e in faq.entries if e.id != ENTRY)))
    assert not answered_directly(brain, person(7), THIRD)
    brain.use_faq(faq)
    assert not brain.refresh_learned()
    assert answered_directly(brain, person(8), THIRD)


def test_vote_rules_without_the_conversation(database: Database) -> None:
    def vote(user: int | None, text: str, source: str = learning.PICK) -> bool:
        return learning.vote(database, entry_id="e1", text=text, language="en",
                             user_id=user, source=source, threshold=0.6)

    assert not vote(1, "  ?? ")  # nothing to learn
    assert vote(1, "How do we register a football club?")
    assert not vote(1, "how do we register a football club")  # one vote each
    assert vote(2, "how can we register our football club")
    assert vote(3, "where is the nearest bakery")  # another question, its own phrasing
    assert vote(None, "bakery nearest where", learning.CASES)
    assert not vote(None, "bakery nearest where?", learning.CASES)
    club, bakery = reversed(learning.listing(database, min_votes=2))
    assert (club.voters, club.active, bakery.voters, bakery.active) == (2, True, 1, True)
    assert learning.active(database, min_votes=3) == [
        ("e1", "en", "where is the nearest bakery"), ("e1", "en", "bakery nearest where")]
    assert learning.unvote(database, 2, "e1") and not learning.unvote(database, 2, "e1")
    assert [i.active for i in learning.listing(database, min_votes=2)] == [True, False]


def test_the_matcher_uses_learned_phrasings_at_once() -> None:
    faq = load_faq(PROJECT_ROOT / "faq")
    matcher = FaqMatcher(faq)
    question = "who do I ring when the treasurer disappears with the cash box?"
    assert matcher.decide(question).decision == "escalate"
    matcher.set_learned([("ngo-statute-changes", "en", question), ("no-such-entry", "en", "x")])
    decision = matcher.decide(question)
    assert (decision.decision, decision.top and decision.top.entry.id) == (
        "answer", "ngo-statute-changes")
    matcher.set_learned([])
    assert matcher.decide(question).decision == "escalate"


def test_export_is_faq_yaml_of_what_counts(database: Database) -> None:
    for user, text in ((1, "Mund të hap llogari në bankë për shoqatën?"),
                       (2, "mund te hap llogari ne banke per shoqaten")):
        learning.vote(database, entry_id="ngo-bank-account", text=text, language="sq",
                      user_id=user, source=learning.PICK, threshold=0.6)
    learning.vote(database, entry_id="ngo-nipt", text="just one person", language="en",
                  user_id=3, source=learning.PICK, threshold=0.6)
    text = learning.export_yaml(learning.listing(database, min_votes=2))
    assert "ngo-nipt" not in text
    assert ("  - id: ngo-bank-account\n    questions:\n      sq:\n"
            "        - Mund të hap llogari në bankë për shoqatën?\n") in text
    data = yaml.safe_load(text)
    assert data["entries"][0]["questions"]["sq"] == [
        "Mund të hap llogari në bankë për shoqatën?"]


def test_learning_settings_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("learning:\n  min_votes: 0\n  similarity: 1.5\n  min_vote: 2\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(config, environ={})
    message = str(error.value)
    assert "learning.min_votes: must be at least 1, not 0" in message
    assert "learning.similarity: must be at most 1" in message
    assert "learning.min_vote: unknown setting; did you mean min_votes?" in message
    config.write_text("learning:\n  min_votes: 3\n", encoding="utf-8")
    assert load_config(config, environ={}).learning.min_votes == 3
