"""The one text normaliser: folding, terms, language and small talk."""

from __future__ import annotations

import pytest

from bot.text import (asks_for_staff, detect_language, fold, question_kinds, read, same_question,
                      smalltalk, standard_forms, strip_diacritics, words)


def terms(text: str) -> frozenset[str]:
    """The terms the FAQ matcher and learning read of ``text`` asked as a message."""
    return read(text).terms


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
    assert terms("asht") == terms("është") == frozenset()


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
    ("a keni email", "sq"),            # a first "a": Albanian's particle or the article
    ("a jepni grante?", "sq"),
    ("a grant for youth groups?", "en"),
])
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_the_language_small_talk_is_marked_in() -> None:
    assert [read(t).marked_lang for t in ("faleminderit", "flm shum", "mirupafshim",
                                          "rrofsh", "mirmengjes", "ndihme",
                                          "thanks", "bye", "ok", "👍")] == [
        "sq", "sq", "sq", "sq", "sq", "sq", "en", "en", None, None]


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
    ("mirdita", "greeting"),                  # Gheg
    ("flm shum", "thanks"),
    ("mirupafshim", "thanks"),                # goodbyes are answered as thanks
    ("bye", "thanks"),
    ("ndihmë!", "greeting"),                  # asks nothing yet
    ("hello, I have a question", "greeting"),
    ("Pershendetje, kam nje pyetje", "greeting"),
    ("thanks for the help", "thanks"),
    ("shnet", "greeting"),
    # A yes or no alone, or checking that the bot is there.
    ("yes", "here"), ("jo", "here"), ("alo", "here"), ("is anyone there?", "here"),
    ("pershendetje, a jeni aty?", "here"), ("are you there", "here"),
    # Thanks for the help given ("ndihmuat": helped), not a question about helping.
    ("faleminderit, me ndihmuat shume", "thanks"), ("thanks a lot, that helped", "thanks"),
    ("rrofsh, me ndihmove", "thanks"),
])
def test_smalltalk_is_recognised(text: str, kind: str) -> None:
    assert smalltalk(read(text)) == kind


@pytest.mark.parametrize("text", [
    "Përshëndetje, si regjistrohet një OJF?",
    "thanks, but how do I open a bank account?",
    "faleminderit, por nuk me ndihmoi. mund te me lidhni me dike nga stafi?",
    "",
    "hi, what now",
    "ndihme financiare per shoqaten",
    "are you there on saturday?",
    "a jeni aty te shtunen?",
    "yes, how do we register?",
    "thanks a lot, how do I register?",
    "faleminderit, a mund te me ndihmoni?",
    "thanks, a lot of questions remain",
    "pershendetje a shume kohe duhet",       # "a": the question, before "shume" (much)
    "hello can you help me",                 # a question without "?"
    "pershendetje, a mund te vij sot",
    "I did not get it",
    "Thanks, but that is not it",            # a complaint
    "Faleminderit, por nuk eshte kjo",
    "not good",
    "thanks for nothing",
])
def test_questions_are_not_smalltalk(text: str) -> None:
    assert smalltalk(read(text)) is None


@pytest.mark.parametrize("text, wanted", [
    ("hi, can i talk to a real person please?", True),
    ("Mund të më lidhni me dikë nga stafi?", True),
    ("I want to speak with someone from your staff", True),
    ("How do I hire staff for our project?", False),
    ("si ta kontaktojme agjencine me email?", False),
])
def test_asks_for_staff(text: str, wanted: bool) -> None:
    assert asks_for_staff(text) is wanted


# --- Gheg forms: each rule of standard_forms, and the table -----------------

@pytest.mark.parametrize(("gheg", "standard"), [
    ("kerkue", "kerkuar"),        # participle -ue -> -uar
    ("regjistru", "regjistruar"),  # "me regjistru": participle -u -> -uar
    ("regjistrueme", "regjistruar"),  # "e regjistrueme": its adjective -ueme -> -uar
    ("punuem", "punuar"),
    ("thane", "thene"),           # nasal â (folded to a) before n -> ë
    ("emni", "emri"),             # rhotacism: n where Tosk has r
    ("jom", "jam"),               # o before a final nasal -> a
    ("kena", "kemi"),             # 1st person plural -na -> -mi (also in the table)
    ("bajm", "bajme"),            # 1st person plural -m -> -me
    ("shit", "shitur"),           # "me shit": the participle without -ur
    ("ardh", "ardhur"),
    ("qysh", "si"),               # the table: common words no rule derives
    ("tash", "tani"),
    ("bahet", "behet"),           # bëj in Gheg: baj, ban, bahet
    ("jush", "juve"),
])
def test_gheg_rules_give_the_standard_form(gheg: str, standard: str) -> None:
    assert standard in standard_forms(gheg)


def test_a_short_word_is_no_participle_adjective() -> None:
    assert "duar" not in standard_forms("duem")  # "we want", not "hands"


def test_gheg_spellings_reach_the_standard_terms() -> None:
    assert terms("âsht") == terms("eshte") == frozenset()
    assert terms("qysh me u regjistru") == terms("si te regjistruar")


# --- a message read once ----------------------------------------------------

def test_a_long_message_weighs_the_question_above_the_story() -> None:
    message = read("We are four retired teachers in Fier starting reading clubs in the "
                   "villages with volunteers, children, parents and some books donated "
                   "by a library. "
                   "How do we register the association?")
    weights = dict(message.content)
    assert weights["register"] == 1.0 and weights["volunteers"] < 1.0
    assert message.question == "How do we register the association?"
    assert message.lang == "en" and message.words[0] == "we"


def test_a_short_message_is_all_question() -> None:
    message = read("tvsh?")
    assert message.question == "tvsh?" and dict(message.content) == {"tvsh": 1.0}


def test_addressing_the_bot_as_you_means_the_agency() -> None:
    assert read("what exactly do you do?").to_agency
    assert read("a punoni te shtunen, ju lutem? zyra juaj").to_agency
    assert not read("how do we register?").to_agency


def test_two_questions_in_one_message_are_told_apart() -> None:
    message = read("How do we register an association? And can we open a bank account "
                   "before the court decision?")
    assert [s.text for s in message.questions] == [
        "How do we register an association?",
        "And can we open a bank account before the court decision?"]


def test_two_questions_joined_by_and_or_a_comma_are_told_apart() -> None:
    def asked(text: str) -> list[str]:
        return [q.text for q in read(text).questions]

    assert asked("ku e keni zyren dhe cfare orari keni?") == ["ku e keni zyren",
                                                             "cfare orari keni?"]
    assert asked("How do we register an NGO and what documents do we need?") == [
        "How do we register an NGO", "what documents do we need?"]
    assert asked("where is your office, what are your hours and when do you open?") == [
        "where is your office", "what are your hours", "when do you open?"]
    assert asked("Çfarë dokumentesh duhen dhe ku dorëzohen ato?") == [
        "Çfarë dokumentesh duhen", "ku dorëzohen ato?"]
    assert asked("cfare dokumentash duhen per grant dhe deri kur eshte afati?") == [
        "cfare dokumentash duhen per grant", "deri kur eshte afati?"]
    assert asked("how much money can we get and do we need co-financing?") == [
        "how much money can we get", "do we need co-financing?"]
    assert asked("qysh me hap llogari ne bank dhe qfare duhet me marr nipt?") == [  # Gheg
        "qysh me hap llogari ne bank", "qfare duhet me marr nipt?"]
    # One question: the first part does not ask, a part is too short, or what
    # follows "and" is no question word.
    assert asked("We registered last year and what now?") == [
        "We registered last year and what now?"]
    assert asked("si regjistrohet nje oj dhe sa kushton?") == [
        "si regjistrohet nje oj dhe sa kushton?"]
    assert asked("What documents and what fees do we need?") == [
        "What documents and what fees do we need?"]
    assert asked("How do we open a bank account and pay the staff?") == [
        "How do we open a bank account and pay the staff?"]
    for one in ("When we receive a grant, what reports must we submit?",  # a clause
                "Kur marrim nje grant, cfare raportesh duhet te dorezojme?",
                "How can we reach you by phone and whatsapp for urgent questions?",
                "Can we apply and do it online?",                # "do it", not "do i"
                "A mund te aplikojme edhe si person fizik?"):    # "edhe si": also as
        assert asked(one) == [one]


def test_what_a_question_asks_for() -> None:
    assert question_kinds(words("Ku ndodhet zyra e agjencisë?")) == {"where"}
    assert question_kinds(words("How much does it cost and when is it due?")) == {
        "how much", "when"}
    assert question_kinds(words("Si regjistrohet një shoqatë?")) == {"how"}
    assert question_kinds(words("We registered last year.")) == set()
    # Only the sentences that ask count, not the story around them.
    message = read("Our office is in Vlora, where we work with youth. "
                   "Who signs the annual report?")
    assert message.kinds == {"who"}


@pytest.mark.parametrize(("one", "other", "same"), [
    # The phrasing's one term sits before the clause that asks: it does not ask who
    # the director is.
    ("who is your director?", "We have a new director, who do we tell?", False),
    ("who is the director?", "Who is the director?", True),
    ("where is your office?", "Where is the office?", True),
])
def test_a_question_about_a_statement_is_not_a_question_about_its_term(
        one: str, other: str, same: bool) -> None:
    assert same_question(read(one), read(other)) is same
