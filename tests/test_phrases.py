"""The bot's phrase catalogue: every phrase in both languages, with the same blanks."""

from __future__ import annotations

import string

from bot import phrases


def blanks(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_phrases_and_blanks() -> None:
    assert phrases.SQ.keys() == phrases.EN.keys()
    for key in phrases.SQ:
        assert blanks(phrases.SQ[key]) == blanks(phrases.EN[key]), key


def test_values_are_escaped_and_the_language_falls_back_to_albanian() -> None:
    text = phrases.say("de-DE", "org_candidates", query="<b>A & B</b>")
    assert "«&lt;b&gt;A &amp; B&lt;/b&gt;»" in text
    assert phrases.language("en-GB") == "en" and phrases.language(None) == "sq"
