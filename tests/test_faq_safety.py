"""FAQ files that are hostile or written the way people write: `ngo-faq-bot faq check`
and the bot's start refuse them with a clear message (never a traceback or a hang) or
read them as meant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_telegram_faq_files import laughs

CLI = str(Path(sys.executable).with_name("ngo-faq-bot"))

ENTRY = """\
  - id: {id}
    questions:
      en: [{question}]
    answer:
      en: {answer}
"""


def check(path: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "faq", "check", str(path)], capture_output=True, text=True,
                          timeout=timeout, check=False)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_aliases_are_refused_at_once(tmp_path: Path) -> None:
    result = check(write(tmp_path, "laughs.yaml", laughs()), timeout=10)
    assert result.returncode == 1
    assert f"{tmp_path}/laughs.yaml:9:" in result.stdout
    assert "aliases (*name) are not allowed in FAQ files" in result.stdout
    assert "Traceback" not in result.stderr


def test_deep_nesting_is_refused_without_a_crash(tmp_path: Path) -> None:
    result = check(write(tmp_path, "deep.yaml", "version: 1\nentries: " + "[" * 3000
                         + "]" * 3000 + "\n"))
    assert result.returncode == 1
    assert "deep.yaml:2:" in result.stdout and "nested more than 20 deep" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_bot_does_not_start_on_a_deep_file_and_says_why(tmp_path: Path) -> None:
    write(tmp_path, "deep.yaml", "version: 1\nentries: " + "{a: " * 3000 + "}" * 3000 + "\n")
    result = subprocess.run([CLI, "chat"], input="", capture_output=True, text=True,
                            timeout=30, check=False,
                            env={**os.environ, "FAQ_PATH": str(tmp_path),
                                 "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    assert result.returncode == 2
    assert "nested more than 20 deep" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_too_big_is_refused_before_it_is_read(tmp_path: Path) -> None:
    result = check(write(tmp_path, "big.yaml", "# " + "x" * (1024 * 1024) + "\n"))
    assert result.returncode == 1
    assert "big.yaml: the file is larger than 1 MB" in result.stdout


def test_a_device_that_never_ends_is_refused_at_the_limit() -> None:
    result = check(Path("/dev/zero"))
    assert result.returncode == 1
    assert "/dev/zero: the file is larger than 1 MB" in result.stdout


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    entries = "".join(ENTRY.format(id=f"e{n}", question=f"q {n}", answer="a")
                      for n in range(5001))
    result = check(write(tmp_path, "many.yaml", "version: 1\nentries:\n" + entries))
    assert result.returncode == 1
    assert "the file has 5,001 entries; at most 5,000 are read from one file" in result.stdout


def test_question_marks_in_flow_lists_are_read_as_people_mean_them(tmp_path: Path) -> None:
    path = write(tmp_path, "sq.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="regjistrimi", question="Si regjistrohet një shoqatë?, A duhet noter?",
        answer="Në Gjykatën e Rrethit Gjyqësor Tiranë."))
    result = check(path)
    assert result.returncode == 0, result.stdout
    assert "OK: 1 entries in 1 file(s), languages en, 2 phrasings." in result.stdout
    ask = subprocess.run([CLI, "ask", "--faq", str(path), "A duhet noter?"],
                         capture_output=True, text=True, timeout=20, check=False)
    assert "ANSWER" in ask.stdout and "regjistrimi" in ask.stdout


def test_a_tab_gets_a_use_spaces_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "tab.yaml", "version: 1\nentries:\n  - id: a\n    questions:\n"
                                       "\ten: [x]\n")
    result = check(path)
    assert result.returncode == 1
    assert "tab.yaml:5:" in result.stdout and "indent with spaces, not tabs" in result.stdout


def test_an_emoji_escaped_in_halves_is_refused_with_its_line(tmp_path: Path) -> None:
    # JSON writes 😀 as "\\ud83d\\ude00"; YAML reads that as two lone halves, which no
    # text can hold: the matcher and the terminal failed on them.
    path = write(tmp_path, "emoji.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="a", question="x", answer='"Welcome \\ud83d\\ude00"'))
    result = check(path)
    assert result.returncode == 1
    assert "emoji.yaml:7:" in result.stdout and "half a character" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_control_character_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bell.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="a", question="x\x07y", answer="ok"))
    result = check(path)
    assert result.returncode == 1
    assert "bell.yaml:5:13: the file holds a control character (#x0007)" in result.stdout


@pytest.mark.parametrize("answer, named", [
    ('"Apply here \\e[2J\\e[31mnow"', "U+001B (a control character)"),
    ('"Call us\\u202e 999"', "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("Call us\u202e 999", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),  # the character itself
    ('"Half\\rway"', "U+000D (a control character)"),
])
def test_an_invisible_character_in_a_text_is_refused_with_its_line(
        tmp_path: Path, answer: str, named: str) -> None:
    """YAML refuses an escape written as itself, not written as "\\e": it would reach
    people's Telegram and the admin's terminal."""
    path = write(tmp_path, "hidden.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="a", question="x", answer=answer))
    result = check(path)
    assert result.returncode == 1
    assert f"hidden.yaml:7: entry 'a': answer 'en' holds the character {named}" in result.stdout
    assert "delete it" in result.stdout and "\x1b" not in result.stdout


@pytest.mark.parametrize("answer, why", [
    ("!!python/str hello there", "not a value tagged !!python/str: remove the tag"),
    ("!!python/object/apply:os.system [echo hi]",
     "not a value tagged !!python/object/apply:os.system: remove the tag"),
    ("2001-01-01", "not a date (2001-01-01): put the text in quotes"),
])
def test_a_tagged_value_is_named_by_its_tag(tmp_path: Path, answer: str, why: str) -> None:
    path = write(tmp_path, "tagged.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="a", question="x", answer=answer))
    result = check(path)
    assert result.returncode == 1
    assert "tagged.yaml:7:" in result.stdout and why in result.stdout


@pytest.mark.parametrize("answer", ["Note: bring the statute"])
def test_a_colon_in_a_text_gets_a_quotes_hint(tmp_path: Path, answer: str) -> None:
    path = write(tmp_path, "colon.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="a", question="x", answer=answer))
    result = check(path)
    assert "colon.yaml:7:" in result.stdout and "needs quotes" in result.stdout


def test_problems_are_listed_by_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\nentries:\n" + ENTRY.format(
        id="shared", question="x", answer="y"))
    write(tmp_path, "b.yaml", "version: 1\nentries:\n"
          + ENTRY.format(id="shared", question="x", answer="y")
          + ENTRY.format(id="Bad Id", question="x", answer="y"))
    result = check(tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(tmp_path))]
    assert [line.split(":")[1] for line in lines] == ["3", "8"]
    assert "duplicate id" in lines[0] and "bad id" in lines[1]
