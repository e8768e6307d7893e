"""Matching questions against a small FAQ the test writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.config import MatchingConfig, Thresholds
from bot.decision import COSINE_TEMPERATURE, spread
from bot.faq import load_faq
from bot.matcher import FaqMatcher, asked_part
from bot.text import read, smalltalk

FAQ = """\
version: 1
entries:
  - id: ngo-registration
    questions:
      sq:
        - Si mund të regjistroj një organizatë jofitimprurëse?
        - Ku regjistrohet një shoqatë e re?
      en:
        - How do I register a non-profit organisation?
    answer:
      sq: Organizatat regjistrohen në Gjykatën e Rrethit Gjyqësor Tiranë.
      en: Organisations are registered by the Tirana Judicial District Court.
    keywords:
      sq: [regjistrim, gjykatë]
      en: [registration, court]
  - id: nipt
    questions:
      sq:
        - Si pajiset një OJF me NIPT?
        - A duhet të regjistrohet organizata në tatime?
    answer:
      sq: Pas vendimit të gjykatës, organizata pajiset me NIPT nga tatimet.
      en: After the court decision the tax office gives the organisation its NIPT.
    keywords:
      sq: [NIPT, tatime]
  - id: volunteers
    questions:
      sq:
        - A duhet të nënshkruaj marrëveshje me vullnetarët?
      en:
        - Do I need a written agreement with volunteers?
    answer:
      sq: Po, marrëveshja me shkrim është e detyrueshme.
      en: Yes, a written agreement is required.
  - id: bank-account
    questions:
      sq:
        - Si hapet llogari bankare për shoqatën?
      en:
        - How can an association open a bank account?
    answer:
      sq: Banka kërkon vendimin e gjykatës, statutin dhe NIPT-in.
      en: The bank asks for the court decision, the statute and the NIPT.
  - id: ascs-contact
    questions:
      sq:
        - Ku ndodhet zyra e agjencisë?
        - Cili është numri i telefonit të AMShC?
      en:
        - Where is the agency's office?
        - Where are you?
    answer:
      sq: Rruga Frosina Plaku, Tiranë.
      en: Frosina Plaku street, Tirana.
"""


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> FaqMatcher:
    path: Path = tmp_path_factory.mktemp("faq") / "faq.yaml"
    path.write_text(FAQ, encoding="utf-8")
    return FaqMatcher(load_faq(path), MatchingConfig())


def test_a_phrasing_of_function_words_only_asked_again_is_answered(
        matcher: FaqMatcher) -> None:
    # "Where are you?" has no terms to weigh: its very words make it the same question.
    decision = matcher.decide("where are you??")
    assert decision.decision == "answer" and decision.top is not None
    assert decision.top.entry.id == "ascs-contact"
    assert matcher.decide("where are they?").decision == "escalate"


def test_typo_without_diacritics_is_answered(matcher: FaqMatcher) -> None:
    decision = matcher.decide("pershendetje, a duhet te nenshkruajme marreveshje me vullnetaret?")
    assert decision.decision == "answer"
    assert decision.top is not None and decision.top.entry.id == "volunteers"
    assert decision.lang == "sq"


def test_misspelled_words_still_match(matcher: FaqMatcher) -> None:
    decision = matcher.decide("do we need writen agreemnt for our volunters?")
    assert decision.top is not None and decision.top.entry.id == "volunteers"
    assert decision.decision == "answer"


def test_english_question_meets_albanian_phrasing_and_is_answered_in_english(
        matcher: FaqMatcher) -> None:
    decision = matcher.decide("How does our NGO get a NIPT?")
    assert decision.decision == "answer"
    assert decision.top is not None and decision.top.entry.id == "nipt"
    assert decision.lang == "en"
    assert decision.top.entry.answer_in(decision.lang).startswith("After the court decision")


def test_unrelated_question_is_escalated(matcher: FaqMatcher) -> None:
    decision = matcher.decide("What documents do I need to renew my passport?")
    assert decision.decision == "escalate"
    assert decision.suggestions == ()


def test_close_call_offers_choices_best_first(matcher: FaqMatcher) -> None:
    decision = matcher.decide("organizata")
    assert decision.decision == "suggest"
    ids = [m.entry.id for m in decision.suggestions]
    assert 2 <= len(ids) <= 3 and {"ngo-registration", "nipt"} <= set(ids)
    scores = [m.score for m in decision.suggestions]
    assert scores == sorted(scores, reverse=True)


def test_scores_are_0_to_100_and_greetings_do_not_change_them(matcher: FaqMatcher) -> None:
    plain = matcher.decide("Ku ndodhet zyra e agjencisë?")
    wrapped = matcher.decide("Mirëdita! Doja të pyesja, ku ndodhet zyra e agjencisë? Faleminderit")
    assert plain.top is not None and wrapped.top is not None
    assert 0 <= plain.top.score <= 100
    assert plain.top.score == wrapped.top.score
    assert wrapped.decision == "answer" and wrapped.top.entry.id == "ascs-contact"


@pytest.mark.parametrize("text", ["Përshëndetje", "ok thanks", "👍", "faleminderit"])
def test_greetings_and_thanks_are_smalltalk_not_questions(matcher: FaqMatcher,
                                                          text: str) -> None:
    assert smalltalk(read(text)) is not None
    assert matcher.decide(text).decision == "escalate"


def test_long_and_empty_messages(matcher: FaqMatcher) -> None:
    long_text = "Si hapet llogari bankare për shoqatën? " + "bla " * 1000
    assert matcher.decide(long_text).top is not None
    empty = matcher.decide("   ")
    assert empty.decision == "escalate" and empty.top is None


def test_thresholds_come_from_config(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(FAQ, encoding="utf-8")
    lexical = Thresholds(answer=100, suggest=100)
    strict = FaqMatcher(load_faq(path), MatchingConfig(without_model=lexical))
    question = "llogari bankare per shoqaten, cfare duhet?"
    assert FaqMatcher(load_faq(path), MatchingConfig()).decide(question).decision == "answer"
    assert strict.decide(question).decision == "escalate"


def test_language_of_a_few_keywords_comes_from_the_faq_vocabulary(matcher: FaqMatcher) -> None:
    assert matcher.decide("volunteers written agreement").lang == "en"
    assert matcher.decide("marreveshje vullnetaret").lang == "sq"


@pytest.mark.parametrize("text", ["Can I talk to a real person please?",
                                  "mund te me lidhni me dike nga stafi?"])
def test_asking_for_a_person_goes_to_staff(matcher: FaqMatcher, text: str) -> None:
    assert matcher.decide(text).decision == "escalate"


def test_spread_tells_an_entry_that_stands_out_from_a_crowd() -> None:
    standout = spread("cosine", np.array([0.9] + [0.8] * 20), COSINE_TEMPERATURE)
    crowd = spread("cosine", np.full(21, 0.85), COSINE_TEMPERATURE)
    assert standout["cosine_gap"] == pytest.approx(0.1)
    assert crowd["cosine_gap"] == 0.0
    assert standout["cosine_z"] > 4 and crowd["cosine_z"] == pytest.approx(0.0, abs=1e-6)
    assert standout["cosine_entropy"] < 0.2 and crowd["cosine_entropy"] == pytest.approx(1.0)


def test_a_short_question_after_a_story_is_embedded_with_the_sentence_before_it() -> None:
    story = ("We sold tickets for our summer concert and raised 300,000 lekë. "
             "Our accountant says that money must be taxed like a company's profit. "
             "Is he right?")
    assert asked_part(story) == ("Our accountant says that money must be taxed like a "
                                 "company's profit. Is he right?")
    # A question that says enough by itself is embedded alone (its first words).
    long_question = ("We are a youth club in Korçë. How do we register an association "
                     "at the court and what papers does the court ask for when we go?")
    assert asked_part(long_question) == ("How do we register an association at the court "
                                         "and what papers")
    assert asked_part("Is he right?") == "Is he right?"  # no story to point back at
    assert asked_part("Hi! Good morning. Is he right?") == "Is he right?"  # no story either
    # The sentence before is cut from its start, to CONTEXT_WORDS words in all.
    wordy = " ".join(f"word{i}" for i in range(30)) + ". Why?"
    assert asked_part(wordy) == " ".join(f"word{i}" for i in range(11, 30)) + ". Why?"
