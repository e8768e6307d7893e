"""The one text normaliser: folding, terms, language and small talk."""

from __future__ import annotations

import pytest

from bot.text import (asks_for_staff, detect_language, fold, smalltalk, strip_diacritics,
                      terms, words)


def test_fold_drops_case_diacritics_punctuation_links_mentions_and_emoji() -> None:
    text = "Përshëndetje @admin! Çfarë është OJF-ja? 👍 https://amshc.gov.al/faq"
    assert fold(text) == "pershendetje cfare eshte ojf ja"


def test_words_and_strip_diacritics() -> None:
    assert strip_diacritics("ë ç Ë Ç") == "e c E C"
    assert words("  Shoqëri   civile!! ") == ["shoqeri", "civile"]
    assert words("👍🙏") == []


def test_greetings_and_filler_carry_no_terms() -> None:
    plain = terms("si regjistrohet nje ojf")
    wrapped = terms("Përshëndetje, doja të pyesja: si regjistrohet një OJF? Faleminderit!")
    assert plain == wrapped != []
    assert terms("Hi, please, I wanted to ask how to register an NGO, thanks") == \
        terms("register NGO")


def test_albanian_inflections_share_one_term() -> None:
    forms = ["regjistrim", "regjistrimi", "regjistrimin", "regjistrohet", "regjistrimit"]
    assert len({t for form in forms for t in terms(form)}) == 1


def test_english_inflections_share_one_term() -> None:
    assert len(set(terms("register registered registering registers registration"))) == 1
    assert terms("volunteers") == terms("volunteer")


def test_spellings_without_diacritics_and_gheg_forms_match() -> None:
    assert terms("Çfarë është qendra?") == terms("cfare eshte qendra")
    assert terms("qendër") == terms("qendra") == terms("qendrës")
    assert terms("asht") == terms("është") == []


def test_domain_words_meet_across_languages() -> None:
    assert terms("OJF") == terms("NGO") == terms("non-profit") == terms("jofitimprurëse")
    assert terms("shoqatë") == terms("association")
    assert terms("TVSH") == terms("VAT")
    assert terms("AMShC") == terms("ASCS")


@pytest.mark.parametrize("text, lang", [
    ("Si mund të regjistroj një organizatë?", "sq"),
    ("si regjistrohet nje shoqate", "sq"),
    ("How do I register an NGO?", "en"),
    ("vat threshold for nonprofits", "en"),
    ("ku e keni zyren?", "sq"),
])
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text, kind", [
    ("Përshëndetje!", "greeting"),
    ("pershendetje", "greeting"),
    ("Hi", "greeting"),
    ("good morning", "greeting"),
    ("mirëdita", "greeting"),
    ("ok thanks", "thanks"),
    ("Faleminderit shumë!", "thanks"),
    ("👍", "thanks"),
    ("thank you 🙏", "thanks"),
])
def test_smalltalk_is_recognised(text: str, kind: str) -> None:
    assert smalltalk(text) == kind


@pytest.mark.parametrize("text", [
    "Përshëndetje, si regjistrohet një OJF?",
    "thanks, but how do I open a bank account?",
    "faleminderit, por nuk me ndihmoi. mund te me lidhni me dike nga stafi?",
    "",
])
def test_questions_are_not_smalltalk(text: str) -> None:
    assert smalltalk(text) is None


@pytest.mark.parametrize("text, wanted", [
    ("hi, can i talk to a real person please?", True),
    ("Mund të më lidhni me dikë nga stafi?", True),
    ("I want to speak with someone from your staff", True),
    ("How do I hire staff for our project?", False),
    ("si ta kontaktojme agjencine me email?", False),
])
def test_asks_for_staff(text: str, wanted: bool) -> None:
    assert asks_for_staff(text) is wanted
