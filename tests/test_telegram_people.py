"""People talking to the real bot over HTTP: the real python-telegram-bot Application,
long polling the Bot API test server on 127.0.0.1. Every assertion is on what the
person sees: the texts and buttons the server received.

The flows take ``(api, bot)`` so that tests/test_telegram_webhook.py runs the same
ones with the bot on a webhook.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import itertools
import json
import logging
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation import Assistant
from bot.faq import load_faq
from bot.text import strip_diacritics
from botapi import BotApiServer, Call, check_html
from botapi.harness import PROJECT_ROOT, RunningBot, make_config
from handlers.app import RedactToken, serve
from bot.limits import split

FAQ = load_faq(PROJECT_ROOT / "faq")
AGENCY_PHONE = "04 22 355 69"


def sample_organisations() -> list[dict[str, str]]:
    """The organisations of the sample registry the bot imports on its first start."""
    sample = load_config(PROJECT_ROOT / "config.yaml").registry.sample_csv
    assert sample is not None
    with open(sample, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
async def bot(api: BotApiServer, tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = await RunningBot(make_config(api, tmp_path / "bot.db")).start()
    yield running
    await running.stop()


async def ask(api: BotApiServer, user: dict, text: str, count: int = 1, **kwargs) -> list[Call]:
    """Send ``text`` as ``user`` and return the bot's next ``count`` messages to that chat."""
    since = api.mark()
    update = await api.send_text(user, text, **kwargs)
    return await api.replies(update["message"]["chat"]["id"], since=since, count=count)


async def press(api: BotApiServer, user: dict, message: Call, data: str) -> int:
    """Press the button with ``data`` under ``message``; returns the call-log mark before it."""
    since = api.mark()
    await api.press(user, message, data)
    await api.wait_for("answerCallbackQuery", since=since)
    return since


def button_data(call: Call, label: str) -> str:
    for row in call.buttons:
        for text, data in row:
            if text == label:
                return data
    raise AssertionError(f"no button {label!r} in {call.labels}")


# --- commands ---------------------------------------------------------------

async def test_start_greets_in_albanian_with_topic_buttons(
        api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1001, "Ana", language_code=None)
    [reply] = await ask(api, ana, "/start")
    assert reply.text.startswith("Përshëndetje, Ana!")
    assert "Regjistrimi" in reply.labels and "Grantet dhe thirrjet" in reply.labels


async def test_start_in_english_for_an_english_telegram(api: BotApiServer, bot: RunningBot) -> None:
    john = api.user(1002, "John", language_code="en-GB")
    [reply] = await ask(api, john, "/start")
    assert reply.text.startswith("Hello, John!")
    assert "Registration" in reply.labels


async def test_command_list_is_registered_in_both_languages(
        api: BotApiServer, bot: RunningBot) -> None:
    assert {c["command"] for c in api.commands["sq"]} == {
        "start", "help", "faq", "search", "lang", "contact"}  # /ask: no staff chat here
    assert api.commands["en"] != api.commands["sq"]
    assert any("organisation" in c["description"] for c in api.commands["en"])


async def test_contact_gives_the_agency_address_phone_and_email(api: BotApiServer,
                                                                bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1003), "/contact")
    assert "Frosina Plaku" in reply.text and AGENCY_PHONE in reply.text
    assert "info@amshc.gov.al" in reply.text


async def test_help_and_unknown_command(api: BotApiServer, bot: RunningBot) -> None:
    [help_reply] = await ask(api, api.user(1004), "/help")
    assert "/search" in help_reply.text
    [unknown] = await ask(api, api.user(1004), "/nosuchcommand")
    assert unknown.text.startswith("Nuk e njoh këtë komandë.") and "/faq" in unknown.text


async def test_browse_the_faq_by_topic(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1005)
    [topics] = await ask(api, ana, "/faq")
    since = await press(api, ana, topics, button_data(topics, "Regjistrimi"))
    edit = await api.wait_for("editMessageText", since=since)
    entry = FAQ.get("ngo-registration")
    assert edit.labels[0].rstrip("…") in entry.question_in("sq")
    questions = Call("sendMessage", edit.params, edit.result)
    since = await press(api, ana, questions, f"q:sq:{entry.id}")
    answer = await api.wait_for("sendMessage", since=since)
    assert entry.answer_in("sq")[:80] in answer.text
    assert api.message_text(ana["id"], topics.result["message_id"]).startswith("Regjistrimi")


async def test_a_double_press_on_a_topic_is_harmless(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1006)
    [topics] = await ask(api, ana, "/faq")
    data = button_data(topics, "Grantet dhe thirrjet")
    await press(api, ana, topics, data)
    since = await press(api, ana, topics, data)
    await api.wait_for("editMessageText", since=since)  # refused: "message is not modified"
    [reply] = await ask(api, ana, "/help")
    assert [c.text for c in api.calls_of("sendMessage", since)] == [reply.text]
    assert api.message_text(ana["id"], topics.result["message_id"]).startswith("Grantet")


# --- questions ----------------------------------------------------------------

async def test_albanian_question_without_diacritics_gets_the_albanian_answer(
        api: BotApiServer, bot: RunningBot) -> None:
    entry = FAQ.get("ngo-registration")
    question = strip_diacritics(entry.question_in("sq")).lower()
    assert question != entry.question_in("sq")
    [reply] = await ask(api, api.user(1010, language_code="en"), question)
    assert entry.answer_in("sq")[:100] in reply.text
    assert "A ju ndihmoi kjo përgjigje?" in reply.text
    assert reply.labels == ["👍", "👎"]


async def test_english_question_gets_the_english_answer(api: BotApiServer, bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1011), "hi, what are the working hours of the agency?")
    assert FAQ.get("ascs-hours").answer_in("en")[:100] in reply.text
    assert "Was this helpful?" in reply.text


async def test_suggestion_button_answers_the_chosen_question(api: BotApiServer,
                                                            bot: RunningBot) -> None:
    john = api.user(1012, "John", language_code="en")
    [reply] = await ask(api, john, "grant application?")
    assert reply.text == "Did you mean one of these?"
    assert reply.labels[-1] == "None of these"  # no staff chat to ask here
    label, data = reply.buttons[0][0]
    entry = FAQ.get(data.split(":")[2])
    assert label.rstrip("…") in entry.question_in("en")
    since = await press(api, john, reply, data)
    answer = await api.wait_for("sendMessage", since=since)
    assert entry.answer_in("en")[:100] in answer.text


async def test_none_of_these_without_a_staff_chat_gives_the_contact(
        api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1013)
    [reply] = await ask(api, ana, "grant dokumente afati?")
    since = await press(api, ana, reply, button_data(reply, "Asnjë nga këto"))
    answer = await api.wait_for("sendMessage", since=since)
    assert answer.text.startswith("Ju lutemi kontaktoni drejtpërdrejt agjencinë")
    assert AGENCY_PHONE in answer.text
    [helped] = await ask(api, ana, "/help")
    assert "/search" in helped.text and "/ask" not in helped.text  # nobody to ask
    [asked] = await ask(api, ana, "/ask A mund të flas me dikë?")
    assert asked.text.startswith("Ju lutemi kontaktoni drejtpërdrejt agjencinë")
    # Not the FAQ's "the bot offers to send your question to the staff".
    [person] = await ask(api, ana, "A mundem me fol me nji njeri?")
    assert person.text.startswith("Ju lutemi kontaktoni drejtpërdrejt agjencinë")
    assert AGENCY_PHONE in person.text
    menus = [json.dumps(c.params.get("commands")) for c in api.calls_of("setMyCommands")]
    assert menus and all('"start"' in m and '"ask"' not in m for m in menus)


async def test_thumbs_down_apologises_and_offers_the_contact(api: BotApiServer,
                                                            bot: RunningBot) -> None:
    ana = api.user(1014)
    [answer] = await ask(api, ana, "Si ndryshoj statutin?")
    since = await press(api, ana, answer, button_data(answer, "👎"))
    toast = api.calls_of("answerCallbackQuery", since)[0]
    assert toast.params["text"] == "Faleminderit për vlerësimin!"
    closed = await api.wait_for("editMessageReplyMarkup", since=since)
    assert closed.buttons == []
    sorry = await api.wait_for("sendMessage", since=since)
    assert sorry.text.startswith("Më vjen keq që nuk ju ndihmoi.") and AGENCY_PHONE in sorry.text
    assert "Nuk gjeta" not in sorry.text  # it had found one: the person turned it down


async def test_a_vote_keeps_the_button_of_the_other_question_asked(
        api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1016)
    [answer] = await ask(api, ana, "ku e keni zyren dhe cfare orari keni?")
    other = [label for row in answer.buttons for label, _ in row][-1]
    assert other not in ("👍", "👎")
    since = await press(api, ana, answer, button_data(answer, "👍"))
    kept = await api.wait_for("editMessageReplyMarkup", since=since)
    assert [[label for label, _ in row] for row in kept.buttons] == [[other]]
    since = await press(api, ana, answer, button_data(answer, other))
    office = await api.wait_for("sendMessage", since=since)
    assert office.text.startswith(other) and "Frosina Plaku" in office.text


async def test_thumbs_up_thanks_without_a_new_message(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1015)
    [answer] = await ask(api, ana, "Si ndryshoj statutin?")
    since = await press(api, ana, answer, button_data(answer, "👍"))
    await api.wait_for("editMessageReplyMarkup", since=since)
    [ok] = await ask(api, ana, "faleminderit")
    assert ok.text.startswith("Ju lutem!")
    assert [c.text for c in api.calls_of("sendMessage", since)] == [ok.text]


async def test_question_nobody_can_answer_is_offered_to_the_staff(api: BotApiServer,
                                                                 bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1016),
                        "sa kushton nje bilete avioni per ne Londer muajin qe vjen?")
    assert reply.text.startswith("Nuk gjeta një përgjigje të sigurt")
    assert AGENCY_PHONE in reply.text


async def test_greeting_alone_gets_a_short_friendly_reply(
        api: BotApiServer, bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1017), "Përshëndetje!")
    assert reply.text.startswith("Përshëndetje! Si mund t'ju ndihmoj?")


# --- the registry -----------------------------------------------------------------

async def test_search_finds_an_organisation_and_shows_its_card(api: BotApiServer,
                                                              bot: RunningBot) -> None:
    org = sample_organisations()[1]
    [card] = await ask(api, api.user(1020), f"/search {org['name']}")
    demo, _, name = card.text.splitlines()[:3]
    assert demo.startswith("⚠️ Të dhëna demo: kjo organizatë është e shpikur")
    assert name.startswith(org["name"])
    assert f"NIPT: {org['nipt']}" in card.text
    assert f"Qyteti: {org['city']}" in card.text and f"Statusi: {org['status']}" in card.text
    year, month, day = org["registered_on"].split("-")
    assert f"{day}.{month}.{year}" in card.text


async def test_organisation_name_as_free_text_shows_the_card(api: BotApiServer,
                                                            bot: RunningBot) -> None:
    org = next(o for o in sample_organisations() if o["acronym"] == "GEA")  # an English name
    [card] = await ask(api, api.user(1021, language_code="en"), strip_diacritics(org["name"]))
    assert f"NIPT: {org['nipt']}" in card.text and "Legal form:" in card.text


def shared_name_words() -> tuple[str, str]:
    """Two words several organisation names share: an ambiguous look-up."""
    pairs = Counter(pair for o in sample_organisations()
                    for pair in set(itertools.pairwise(o["name"].lower().split()))
                    if min(map(len, pair)) > 3)
    (first, second), count = pairs.most_common(1)[0]
    assert count >= 2
    return first, second


async def test_a_name_typed_as_free_text_offers_the_organisations_first(
        api: BotApiServer, bot: RunningBot) -> None:
    first, second = shared_name_words()
    [reply] = await ask(api, api.user(1025), f"{first.title()} {second.title()}")
    organisations = [data for row in reply.buttons for _, data in row if data.startswith("o:")]
    assert len(organisations) >= 2
    assert reply.buttons[0][0][1] == organisations[0]


async def test_search_with_several_candidates_offers_buttons(api: BotApiServer,
                                                            bot: RunningBot) -> None:
    ana = api.user(1022)
    first, second = shared_name_words()
    [reply] = await ask(api, ana, f"/search {first} {second}")
    assert reply.text.startswith("Gjeta disa organizata")
    assert len(reply.buttons) >= 3  # two organisations at least, and "none of these"
    label, data = reply.buttons[0][0]
    since = await press(api, ana, reply, data)
    card = await api.wait_for("sendMessage", since=since)
    assert f"NIPT: {data.split(':')[2]}" in card.text
    assert card.text.split("\n\n", 1)[1].startswith(label.split(" (")[0].rstrip("…"))


async def test_every_card_of_the_sample_says_it_is_demo_data(api: BotApiServer,
                                                             bot: RunningBot) -> None:
    org = next(o for o in sample_organisations() if o["acronym"] == "GEA")
    [card] = await ask(api, api.user(1026, language_code="en"), f"/search {org['name']}")
    assert card.text.startswith("⚠️ Demo data: this organisation is invented")


async def test_a_candidate_list_offers_none_of_these_which_gives_the_staff_contact(
        api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1027)
    first, second = shared_name_words()
    [reply] = await ask(api, ana, f"/search {first} {second}")
    assert reply.text.startswith("Gjeta disa organizata")
    label, data = reply.buttons[-1][0]
    assert label == "Asnjë nga këto"
    since = await press(api, ana, reply, data)
    offer = await api.wait_for("sendMessage", since=since)
    assert AGENCY_PHONE in offer.text


async def test_namesakes_are_offered_with_city_and_nipt_never_found_as_one(
        api: BotApiServer, bot: RunningBot) -> None:
    """Two organisations bear (nearly) the same name: even the exact name of one gives
    both, and their buttons say which is which."""
    namesakes = [o for o in sample_organisations() if "Lulebora" in o["name"]]
    assert len(namesakes) == 2
    [reply] = await ask(api, api.user(1028), f"/search {namesakes[0]['name']}")
    assert reply.text.startswith("Gjeta disa organizata")
    labels = [label for row in reply.buttons for label, _ in row]
    for org in namesakes:
        assert any(label.endswith(f"({org['city']}, {org['nipt']})") for label in labels), labels


async def test_the_city_in_the_query_picks_one_of_two_namesakes(
        api: BotApiServer, bot: RunningBot) -> None:
    org = next(o for o in sample_organisations() if o["name"].endswith("Lulebora Shkodër"))
    [reply] = await ask(api, api.user(1029), "/search qendra rinore lulebora shkoder")
    assert f"NIPT: {org['nipt']}" in reply.text
    assert not reply.text.startswith("Gjeta disa")


async def test_the_one_candidate_explaining_every_word_is_shown_as_closest_match(
        api: BotApiServer, bot: RunningBot) -> None:
    org = next(o for o in sample_organisations() if o["acronym"] == "SHBZA")
    [reply] = await ask(api, api.user(1031), "/search bletaret zallit")
    assert reply.text.startswith("Përputhja më e afërt për «bletaret zallit»:")
    assert f"NIPT: {org['nipt']}" in reply.text
    assert not any(data.startswith("o:") for row in reply.buttons for _, data in row)


async def test_imports_and_removals_from_the_command_line_reach_the_running_bot(
        api: BotApiServer, tmp_path: Path) -> None:
    config = make_config(api, tmp_path / "bot.db")
    config = dataclasses.replace(config, registry=dataclasses.replace(
        config.registry, refresh_interval=timedelta(milliseconds=200)))
    running = await RunningBot(config).start()
    try:
        name = "Qendra Galaktike e Pinguinëve Vullkanikë"
        [before] = await ask(api, api.user(1040), f"/search {name}")
        assert before.text.startswith("Asnjë organizatë e regjistruar")
        csv_file = tmp_path / "new.csv"
        csv_file.write_text(
            "nipt,name,acronym,legal_form,city,address,phone,email,activity,registered_on,"
            f"court_decision,status\nL99887766A,{name},QGPV,Qendër,Korçë,,,,Shkenca,"
            "2024-05-02,,aktive\n", encoding="utf-8")
        result = subprocess.run(
            [str(Path(sys.executable).with_name("ngo-faq-bot")), "registry", "import",
             str(csv_file)], env={**os.environ, "DATABASE_URL": config.database_url},
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        for _ in range(50):
            [after] = await ask(api, api.user(1040), f"/search {name}")
            if "NIPT: L99887766A" in after.text:
                break
            await asyncio.sleep(0.1)
        assert after.text.splitlines()[0].startswith(name)
        # The first real import deleted the demo sample: the bot no longer shows it.
        demo = next(o for o in sample_organisations() if o["acronym"] == "GEA")
        [gone] = await ask(api, api.user(1040), f"/search {demo['name']}")
        assert gone.text.startswith("Asnjë organizatë e regjistruar"), gone.text
        # An organisation removed from the command line is no longer found.
        result = subprocess.run(
            [str(Path(sys.executable).with_name("ngo-faq-bot")), "registry", "remove",
             "L99887766A"], env={**os.environ, "DATABASE_URL": config.database_url},
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        for _ in range(50):
            [removed] = await ask(api, api.user(1040), f"/search {name}")
            if "NIPT: L99887766A" not in removed.text:
                break
            await asyncio.sleep(0.1)
        assert removed.text.startswith("Asnjë organizatë e regjistruar")
    finally:
        await running.stop()


async def test_search_for_an_unknown_organisation_says_so(
        api: BotApiServer, bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1023), "/search Qendra Galaktike e Pinguinëve Vullkanikë")
    assert reply.text.startswith("Asnjë organizatë e regjistruar nuk përputhet me "
                                 "«Qendra Galaktike e Pinguinëve Vullkanikë»")
    assert AGENCY_PHONE in reply.text


async def test_asking_in_gheg_whether_an_organisation_is_registered_is_a_look_up(
        api: BotApiServer, bot: RunningBot) -> None:
    [found] = await ask(api, api.user(1025), "a osht e regjistrueme shoqata e bletareve "
                                             "te zallit te arte?")
    assert "Shoqata e Bletarëve të Zallit të Artë" in found.text and "NIPT: " in found.text
    [none] = await ask(api, api.user(1026), "a asht e regjistrueme shoqata kaltra e maleve")
    assert none.text.startswith("Asnjë organizatë e regjistruar nuk përputhet me ")


async def test_asking_whether_a_named_organisation_is_registered_gets_the_registrys_answer(
        api: BotApiServer, bot: RunningBot) -> None:
    """Not the FAQ's "how to check whether one is registered: type its name here"."""
    [reply] = await ask(api, api.user(1030), "a eshte e regjistruar Fondacioni Besa?")
    assert reply.text.startswith("Asnjë organizatë e regjistruar nuk përputhet")
    [reply] = await ask(api, api.user(1031), "nipt K12345678A")
    assert reply.text.startswith("Asnjë organizatë me NIPT K12345678A nuk është në regjistër")
    [reply] = await ask(api, api.user(1038), "our NIPT is K12345678A, are we registered?")
    assert reply.text.startswith("No organisation with NIPT K12345678A is in the registry")
    [how] = await ask(api, api.user(1032, language_code="en"),
                      "How do I check whether an NGO is registered at ASCS?")
    assert not how.text.startswith("No registered organisation")
    assert "NIPT" in how.text  # the FAQ's answer: type its name or NIPT here
    for number, text in ((1035, "Is my Association registered with the Tax office?"),
                         (1036, "I registered my association in Tirana, what next?"),
                         (1037, "Our NIPT is L12345678A, how do we change our address?"),
                         (1042, "We have NIPT K12345678A, how do we open a bank account?"),
                         (1043, "How long until I get my nipt?"),
                         (1044, "i forgot our NIPT")):
        [faq] = await ask(api, api.user(number, language_code="en"), text)
        assert not faq.text.startswith(("No registered organisation", "No organisation")), \
            text
    for number, text in ((1039, "a mund te aplikoje nje shoqate e regjistruar para 2 muajsh?"),
                         (1040, "a âsht e nevojshme me pas nipt?")):
        [faq] = await ask(api, api.user(number), text)
        assert not faq.text.startswith("Asnjë organizatë"), text
    [faq] = await ask(api, api.user(1041, language_code="en"),
                      "the organisation is registered but we lost the stamp, what to do?")
    assert not faq.text.startswith("No registered organisation")


async def test_one_organisation_close_to_a_name_is_offered_as_one(
        api: BotApiServer, bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1034, language_code="en"),
                        "Greenhollow Environmental Alliance members")
    assert reply.text.startswith("I found an organisation like")
    assert reply.labels[0].startswith("Greenhollow Environmental Alliance") and len(reply.labels) == 2
    # "still" is filler: the organisation itself.
    [card] = await ask(api, api.user(1045, language_code="en"),
                       "Is the Greenhollow Environmental Alliance still active?")
    assert "NIPT: X00000018D" in card.text


async def test_a_name_is_answered_in_the_persons_language_not_the_names(
        api: BotApiServer, bot: RunningBot) -> None:
    [english] = await ask(api, api.user(1028, language_code="en"), "Shoqata Ylberi i Ri")
    assert english.text.startswith("No registered organisation matches")
    [albanian] = await ask(api, api.user(1029), "Tom & Jerry Friendship Association")
    assert albanian.text.startswith("Asnjë organizatë e regjistruar nuk përputhet")
    # A question typed in Title Case is no name: answered in its own language.
    [question] = await ask(api, api.user(1038), "How To Register An Association")
    assert "How do I register" in question.text and "Si të regjistroj" not in question.text


async def test_search_without_a_name_explains_how(api: BotApiServer, bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1024, language_code="en"), "/search")
    # The example is a name of this registry (the demo's here), so trying it finds it.
    assert "e.g. /search Qendra Rinore Lulebora" in reply.text
    [tried] = await ask(api, api.user(1024, language_code="en"), "/search Qendra Rinore Lulebora")
    assert "Qendra Rinore Lulebora" in tried.text and "No registered" not in tried.text


# --- bad input ----------------------------------------------------------------

async def test_sticker_and_photo_get_please_write(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1030)
    since = api.mark()
    await api.send_sticker(ana)
    [reply] = await api.replies(ana["id"], since=since)
    assert reply.text == "Mund të lexoj vetëm tekst. Ju lutemi shkruani pyetjen tuaj."
    since = api.mark()
    await api.send_photo(api.user(1031, language_code="en"))
    [reply] = await api.replies(1031, since=since)
    assert reply.text == "I can only read text. Please write your question."


async def test_a_dice_or_a_poll_gets_please_write(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1033)
    poll = {"id": "5001", "question": "Kur mblidhemi?", "total_voter_count": 0,
            "options": [{"text": day, "voter_count": 0, "persistent_id": str(n)}
                        for n, day in enumerate(("E hënë", "E martë"))],
            "is_closed": False, "is_anonymous": True, "type": "regular",
            "allows_multiple_answers": False, "allows_revoting": False,
            "members_only": False}
    for content in ({"dice": {"emoji": "🎲", "value": 4}}, {"poll": poll}):
        since = api.mark()
        await api.deliver({"message": api.message(ana, **content)})
        [reply] = await api.replies(ana["id"], since=since)
        assert reply.text == "Mund të lexoj vetëm tekst. Ju lutemi shkruani pyetjen tuaj."


async def test_html_in_the_text_is_escaped_in_the_reply(api: BotApiServer, bot: RunningBot) -> None:
    [reply] = await ask(api, api.user(1032), "/search <b>Fake</b> & <script>alert(1)</script>")
    check_html(reply.params["text"])  # Telegram would refuse unescaped HTML
    assert "«<b>Fake</b> & <script>alert(1)</script>»" in reply.text
    [reply] = await ask(api, api.user(1032), "<i>si</i> ndryshoj <statutin>?</b>")
    check_html(reply.params["text"])  # answered, and the server took its HTML
    assert FAQ.get("ngo-statute-changes").answer_in("sq")[:60] in reply.text


async def test_a_4000_character_message_gets_a_sane_answer(
        api: BotApiServer, bot: RunningBot) -> None:
    text = ("Pershendetje, kemi nje pyetje te gjate per regjistrimin e shoqates <ok> & ... "
            * 60)[:4000]
    since = api.mark()
    [reply] = await ask(api, api.user(1033), text)
    # The registration questions it is about, as choices; one message, within the limit.
    assert len(reply.params["text"]) <= 4096 and reply.text == "Mos keni parasysh një nga këto?"
    assert "Si të regjistroj një organizatë jofitimprurëse në Shqipëri?" in reply.labels
    assert reply.labels[-1] == "Asnjë nga këto"
    await ask(api, api.user(1033), "/help")  # the chat's next message: nothing in between
    assert [c.text[:20] for c in api.sent_to(1033, since)][:1] == [reply.text[:20]]
    assert len(api.sent_to(1033, since)) == 2


async def test_forged_or_unknown_buttons_change_nothing(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1034)
    [answer] = await ask(api, ana, "Si ndryshoj statutin?")
    for data in ("q:sq:no-such-entry", "zzz", "o:sq:X00000000X", "t:sq:999", "t:sq:²", "q:xx:ngo-nipt",
                 "y:sq:../../etc", "l:de", "", "pv:de:yes", "q:sq:" + "a" * 60, "x" * 65,
                 "adm:up:123", "lrn:rm:zz"):
        since = await press(api, ana, answer, data)
        toast = api.calls_of("answerCallbackQuery", since)
        assert toast[0].params["text"] == "Ky buton nuk është më i vlefshëm."
        assert [c.method for c in api.calls[since:] if c.method != "getUpdates"] == [
            "answerCallbackQuery"]
    assert api.message_text(ana["id"], answer.result["message_id"]) == answer.result["text"]


def test_long_replies_are_split_at_line_breaks_into_valid_html() -> None:
    text = "\n".join(f"<b>Rreshti {n}</b> &amp; " + "fjalë " * 30 for n in range(200))
    pieces = split(text)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    for piece in pieces:
        check_html(piece)
    assert "\n".join(pieces).split() == text.split()
    assert all(len(p) <= 4096 for p in split("&amp;" * 2000))
    for piece in split("&amp;" * 2000):
        check_html(piece)


# --- groups -------------------------------------------------------------------

async def test_in_a_group_only_mentions_replies_and_commands_get_answers(
        api: BotApiServer, bot: RunningBot) -> None:
    ana, group = api.user(1040), api.group_chat()
    since = api.mark()
    await api.send_text(ana, "Si ndryshoj statutin?", chat=group)
    await api.send_sticker(ana, chat=group)
    [reply] = await ask(api, ana, "@ascs_test_bot Si ndryshoj statutin?", chat=group)
    assert [c.chat_id for c in api.calls_of("sendMessage", since)] == [group["id"]]
    assert FAQ.get("ngo-statute-changes").answer_in("sq")[:60] in reply.text
    assert reply.params["reply_parameters"]["message_id"] > 0
    [follow_up] = await ask(api, ana, "grant dokumente afati?", chat=group,
                            reply_to=reply.result)
    assert follow_up.text == "Mos keni parasysh një nga këto?"
    [command] = await ask(api, ana, "/contact@ascs_test_bot", chat=group)
    assert AGENCY_PHONE in command.text
    since = api.mark()
    await api.send_text(ana, "/contact@some_other_bot", chat=group)
    await ask(api, ana, "@ascs_test_bot përshëndetje", chat=group)
    assert len(api.calls_of("sendMessage", since)) == 1


# --- language -------------------------------------------------------------------

async def test_lang_is_remembered_after_a_restart(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1050, "Ana", language_code="sq")
    [choice] = await ask(api, ana, "/lang")
    since = await press(api, ana, choice, button_data(choice, "English"))
    edit = await api.wait_for("editMessageText", since=since)
    assert edit.text == "Language changed: English."
    await bot.stop()
    await bot.start()
    [greeting] = await ask(api, ana, "/start")
    assert greeting.text.startswith("Hello, Ana!")
    [back] = await ask(api, ana, "/lang sq")
    assert back.text == "Gjuha u ndryshua: shqip."


# --- resilience -------------------------------------------------------------------

async def test_telegram_errors_do_not_stop_the_bot(api: BotApiServer, bot: RunningBot) -> None:
    ana = api.user(1060)
    api.fail_methods = {"sendMessage"}
    since = api.mark()
    await api.send_text(ana, "/contact")
    await api.wait_for("sendMessage", since=since, refused_too=True)  # refused with a 500
    api.fail_methods = {"getUpdates"}
    # polling fails, and goes on
    await api.wait_for("getUpdates", since=api.mark(), refused_too=True)
    api.fail_methods = set()
    [reply] = await ask(api, ana, "/contact", )
    assert AGENCY_PHONE in reply.text


async def test_failed_command_registration_is_not_fatal(api: BotApiServer, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    api.fail_methods = {"setMyCommands"}
    running = await RunningBot(make_config(api, tmp_path / "bot.db")).start()
    try:
        [reply] = await ask(api, api.user(1061), "/help")
        assert "/search" in reply.text
        assert "could not register the command list" in caplog.text
    finally:
        await running.stop()


async def test_the_bot_waits_for_telegram_to_come_back_at_start(api: BotApiServer,
                                                                tmp_path: Path) -> None:
    api.fail_methods = {"getMe"}
    running = RunningBot(make_config(api, tmp_path / "bot.db"))
    starting = asyncio.create_task(running.start())
    await api.wait_for("getMe", refused_too=True)
    await asyncio.sleep(0.2)
    assert not starting.done()
    api.fail_methods = set()
    await asyncio.wait_for(starting, 10)
    try:
        [reply] = await ask(api, api.user(1062), "/help")
        assert "/search" in reply.text
    finally:
        await running.stop()


async def test_a_wrong_token_stops_the_bot_with_a_clear_message(
        api: BotApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(api, tmp_path / "bot.db")
    wrong = "999999:WRONG-secret-token"
    config = dataclasses.replace(config, telegram=dataclasses.replace(config.telegram, token=wrong))
    brain = Assistant.open(config)
    try:
        assert await serve(config, brain) == 1
    finally:
        brain.close()
    assert "Telegram refused the bot token" in caplog.text
    assert "WRONG-secret" not in caplog.text


def test_the_token_never_reaches_the_log() -> None:
    token = "123456789:SECRET-token"
    record = logging.LogRecord("telegram", logging.ERROR, __file__, 1,
                               "request to https://api.telegram.org/bot%s/getMe failed", (token,),
                               None)
    try:
        raise RuntimeError(f"The token `{token}` was rejected by the server.")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    RedactToken(token).filter(record)
    shown = logging.Formatter().format(record)
    assert token not in shown and "<token>" in shown and "rejected" in shown
