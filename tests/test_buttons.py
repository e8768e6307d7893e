"""The button-data codec: every kind of choice packs into Telegram's 64 bytes and back,
and anything the bot did not make unpacks to nothing."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from bot import choices as c
from handlers.buttons import ButtonDataTooLong, pack, stored, unpack
from bot.limits import MAX_BUTTON_DATA

LONGEST_ID = "e" * 58  # bot.faq.MAX_ID_LENGTH


def largest(kind: type[c.Choice]) -> c.Choice:
    """An instance of ``kind`` with the longest values the bot makes."""
    hints = typing.get_type_hints(kind)
    values: dict[str, object] = {}
    for field in dataclasses.fields(kind):
        hint = hints[field.name]
        if field.name == "lang":
            values[field.name] = "sq"
        elif typing.get_origin(hint) is typing.Literal:
            values[field.name] = max(typing.get_args(hint), key=len)
        elif hint is bool:
            values[field.name] = False
        elif field.name == "nipt":
            values[field.name] = "K12345678L"
        elif field.name == "entry_key":
            values[field.name] = "0123abcd"
        elif field.name == "key":
            values[field.name] = c.topic_key("Regjistrimi")
        elif field.name == "token":
            values[field.name] = "f" * 16
        elif field.name == "entry":
            values[field.name] = LONGEST_ID
        elif field.name == "number" and kind is c.SettleSuggestion:
            values[field.name] = 2**63 - 1
        elif field.name == "number":
            values[field.name] = 0xFFFFFFFF
        else:  # ids of rows: tickets, drafts, saved replies
            values[field.name] = 999_999_999
    return kind(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", c.KINDS, ids=lambda kind: kind.__name__)
def test_every_kind_round_trips_within_64_bytes(kind: type[c.Choice]) -> None:
    choice = largest(kind)
    data = pack(choice)
    assert len(data.encode()) <= MAX_BUTTON_DATA
    assert unpack(data) == choice
    assert stored(c.choice_to_json(choice)) == data  # as the outbox keeps it
    assert c.choice_from_json(c.choice_to_json(choice)) == choice


def test_the_formats_are_those_already_in_peoples_chats() -> None:
    assert pack(c.Pick("en", "ngo-register")) == "q:en:ngo-register"
    assert pack(c.NoneOfThese("sq")) == "x:sq" and pack(c.NoneOfThese("sq", 4)) == "x:sq:4"
    assert pack(c.Rate("sq", 12, good=True)) == "r:sq:12:1"
    assert pack(c.TicketAction("claim", 7)) == "tk:claim:7"
    assert pack(c.AnswerWithSaved(7, 3)) == "tk:sv:7:3"
    assert pack(c.SettleSuggestion("learned", 26)) == "adm:sl:1a"
    assert pack(c.RemoveLearned(255)) == "lrn:rm:ff"
    assert pack(c.RemoveOutOfScope(255)) == "lrn:rx:ff"
    assert pack(c.Forget("en", confirm=False)) == "pv:en:no"
    assert unpack("c:sq:42") == c.CloseTicket("sq", 42)
    assert unpack("t:sq:3") == c.Topic("sq", 3)  # before topics had a key


def test_a_choice_too_long_for_telegram_is_refused_when_packed() -> None:
    with pytest.raises(ButtonDataTooLong):
        pack(c.Pick("en", "e" * 60))
    assert stored(c.choice_to_json(c.Pick("en", "e" * 60))) is None


@pytest.mark.parametrize("data", [
    None, "", "zzz", "q", "q:xx:ngo-nipt", "q:sq:", "q:sq:Upper", "y:sq:../../etc",
    "t:sq:²", "t:sq:-1", "r:sq:1:2", "tk:claim:1234567890", "tk:open:1", "adm:up:xyz",
    "x:sq:4:5", "q:sq:" + "a" * 60, "x" * 65, "é" * 33, "tk:fa:1:0123abcg", "pv:sq:maybe",
    "adm:sr:ffffffffffffffff", "adm:sp:8000000000000000"])
def test_anything_the_bot_did_not_make_unpacks_to_nothing(data: str | None) -> None:
    assert unpack(data) is None


def test_stored_buttons_of_older_rows_are_sent_as_they_were() -> None:
    assert stored("tk:close:5") == "tk:close:5"
    assert stored({"kind": "NoSuchKind"}) is None
    assert stored({"kind": "Pick", "lang": "en"}) is None
