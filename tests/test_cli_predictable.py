"""The command line as people meet it: nothing waits silently, bad input gets one clear
line, the terminal chat does what the Telegram bot does, and the quick commands do not
load the database, chart or Telegram libraries."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bot.storage import Database
from botapi.harness import PROJECT_ROOT

CLI = str(Path(sys.executable).with_name("ngo-faq-bot"))


def run(*args: str, tmp_path: Path, stdin: str | None = None, tty: bool = False,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``ngo-faq-bot ARGS`` on a database in ``tmp_path``; ``tty``: a terminal on stdin."""
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "LANG")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    if tty:
        terminal, other_end = pty.openpty()
        try:
            return subprocess.run([CLI, *args], stdin=other_end, capture_output=True,
                                  text=True, timeout=timeout, env=env, cwd=tmp_path, check=False)
        finally:
            os.close(terminal)
            os.close(other_end)
    return subprocess.run([CLI, *args], input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=tmp_path, check=False)


# --- nothing waits silently for standard input -----------------------------------------

@pytest.mark.parametrize("args, message", [
    (("ask", ""), "error: the question is empty; write it in quotes, e.g. ngo-faq-bot ask"),
    (("ask", "   "), "error: the question is empty"),
    (("registry", "search", ""), "error: the name is empty; write it in quotes"),
])
def test_an_empty_argument_is_refused_at_once(tmp_path: Path, args: tuple[str, ...],
                                              message: str) -> None:
    result = run(*args, tmp_path=tmp_path, tty=True, timeout=15)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert result.stdout == ""


@pytest.mark.parametrize("args, what", [(("ask",), "question"),
                                        (("registry", "search"), "name")])
def test_no_argument_at_a_terminal_says_what_is_expected(tmp_path: Path, args: tuple[str, ...],
                                                         what: str) -> None:
    result = run(*args, tmp_path=tmp_path, tty=True, timeout=15)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: no {what}: give one, e.g. ")
    assert f"or pipe a file with one {what} a line" in result.stderr


def test_questions_from_a_pipe_are_still_read_one_a_line(tmp_path: Path) -> None:
    result = run("ask", "--json", tmp_path=tmp_path,
                 stdin="Si regjistrohet një shoqatë?\n\n   \nHow do I contact ASCS?\n")
    assert result.returncode == 0, result.stderr
    questions = [json.loads(line)["question"] for line in result.stdout.splitlines()]
    assert questions == ["Si regjistrohet një shoqatë?", "How do I contact ASCS?"]


# --- eval and report refuse what cannot give true figures ------------------------------

def test_eval_with_ids_the_faq_does_not_have_is_an_error(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"q": "Si regjistrohet një shoqatë?", "expect": "no-such-entry"}\n'
                     '{"q": "weather in Tirana?", "expect": null}\n', encoding="utf-8")
    result = run("eval", "--cases", str(cases), tmp_path=tmp_path)
    assert result.returncode == 1
    assert (f"error: {cases} expects 1 id(s) that the FAQ does not have: no-such-entry; "
            "is it the FAQ these cases were written for (--faq)?") in result.stderr
    assert "answered right" not in result.stdout


def test_eval_with_an_empty_cases_file_is_an_error(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n", encoding="utf-8")
    result = run("eval", "--cases", str(cases), tmp_path=tmp_path)
    assert result.returncode == 1
    assert f"error: {cases}: no cases" in result.stderr
    assert "answered right" not in result.stdout


# --- a file larger than any real one is refused at its limit, not read to its end -------

@pytest.mark.parametrize("args, limit, code", [
    (("eval", "--cases", "FILE"), "64 MB", 1),
    (("learn", "--cases", "FILE"), "64 MB", 1),
    (("registry", "eval", "--cases", "FILE"), "64 MB", 1),
    (("registry", "import", "FILE"), "256 MB", 1),
    (("--config", "FILE", "ask", "hello"), "256 KB", 2),
])
def test_a_file_larger_than_its_limit_is_one_clear_line(tmp_path: Path, args: tuple[str, ...],
                                                        limit: str, code: int) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'bot.db'}\nfaq:\n  path: "
                      f"{PROJECT_ROOT / 'faq'}\nmatching:\n  embedding: none\n", encoding="utf-8")
    Database(f"sqlite:///{tmp_path / 'bot.db'}").close()  # the bot has started once
    big = tmp_path / "big"
    with big.open("wb") as file:  # one byte over, sparse: it takes no room on the disk
        file.truncate(int(limit.split()[0]) * (2**20 if limit.endswith("MB") else 2**10) + 1)
    # A file says its size and is refused unread; /dev/zero, which never ends, at the limit
    # (spared the registry's 256 MB).
    for name in (big, "/dev/zero") if limit != "256 MB" else (big,):
        argv = [str(name) if arg == "FILE" else arg for arg in args]
        result = run(*(argv if argv[0] == "--config" else ["--config", str(config), *argv]),
                     tmp_path=tmp_path)
        assert result.returncode == code
        assert result.stderr == f"error: {name}: the file is larger than {limit}\n"


@pytest.mark.parametrize("argument", ["2026-13-01", "yesterday", "2026-02-30"])
def test_report_with_an_impossible_date_says_which_and_how(tmp_path: Path,
                                                           argument: str) -> None:
    result = run("report", "--since", argument, tmp_path=tmp_path)
    assert result.returncode == 2
    assert (f"argument --since: not a date: '{argument}' (use YYYY-MM-DD, e.g. 2026-03-01)"
            in result.stderr)
    assert "isoformat" not in result.stderr and "Traceback" not in result.stderr


# --- the terminal chat ---------------------------------------------------------------------

def test_forget_in_the_terminal_asks_and_deletes_as_in_telegram(tmp_path: Path) -> None:
    assert run("chat", tmp_path=tmp_path, stdin="/lang\n2\n").returncode == 0
    kept = run("chat", tmp_path=tmp_path, stdin="/forget\n2\n")
    assert kept.stdout.startswith("Hello!")  # English was chosen and kept
    assert "I will delete everything the bot keeps about you" in kept.stdout
    assert "  [1] Yes, delete it\n  [2] No" in kept.stdout
    assert "All right, nothing was deleted." in kept.stdout
    forgot = run("chat", tmp_path=tmp_path, stdin="/forget\n1\n")
    assert "Everything the bot kept about you was deleted." in forgot.stdout
    after = run("chat", tmp_path=tmp_path, stdin="")
    assert after.stdout.startswith("Përshëndetje!")  # the chosen language went with the rest


def test_ask_in_the_terminal_says_plainly_that_staff_are_in_telegram(tmp_path: Path) -> None:
    result = run("chat", "--lang", "en", tmp_path=tmp_path,
                 stdin="/ask How do I change our statute?\n")
    assert result.returncode == 0, result.stderr
    assert ("/ask hands your question to the agency's staff only in Telegram, where the "
            "staff answer; there is no staff here in the terminal.") in result.stdout
    assert "reliable answer" not in result.stdout


# --- quick commands stay quick ---------------------------------------------------------------

def imported(*args: str, database: Path | None = None) -> tuple[set[str], str]:
    """The modules a command imports (with ``database``, a SQLite file as its database),
    and what it prints."""
    env = dict(os.environ)
    if database is not None:
        env["DATABASE_URL"] = f"sqlite:///{database}"
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot.cli", *args],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, env=env,
                            stdin=subprocess.DEVNULL, timeout=60, check=False)
    return set(re.findall(r"\|\s+([\w.]+)$", result.stderr, re.MULTILINE)), result.stdout


def test_help_loads_no_database_chart_telegram_or_schema_library() -> None:
    loaded, _ = imported("--help")
    assert not {"sqlalchemy", "alembic", "matplotlib", "telegram", "pydantic", "yaml"} & loaded


# Nothing in the bundled FAQ says this: without learning, ask hands it to the staff.
TELLER = "the teller keeps sending us home without a card for the club"


def test_ask_reads_what_was_learned_without_the_database_or_schema_libraries(
        tmp_path: Path) -> None:
    from bot import learning
    from bot.storage import Database

    with Database(f"sqlite:///{tmp_path / 'bot.db'}") as db:  # as the running bot leaves it
        learning.vote(db, entry_id="ngo-bank-account", text=TELLER, language="en", user_id=None,
                      source=learning.CASES, threshold=0.6)
    imported("ask", TELLER, database=tmp_path / "bot.db")  # checks the config file, once
    loaded, out = imported("ask", TELLER, database=tmp_path / "bot.db")
    assert "ANSWER" in out and "ngo-bank-account" in out
    assert {"bot.matcher", "bot.learning"} <= loaded
    assert not {"sqlalchemy", "pydantic", "alembic", "ruamel.yaml", "matplotlib",
                "telegram"} & loaded


def test_a_file_that_is_not_a_database_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "bot.db").write_text("not a database, " * 100)
    result = run("ask", "Si regjistrohet një shoqatë?", tmp_path=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"error: cannot open the database sqlite:///{tmp_path / 'bot.db'}: "
                             "file is not a database\n")


def test_ask_loads_no_database_chart_or_telegram_library(tmp_path: Path) -> None:
    # Before the bot has made its database there is nothing learned to read, and no
    # database file is made.
    imported("ask", "Si regjistrohet një shoqatë?", database=tmp_path / "none.db")
    loaded, out = imported("ask", "Si regjistrohet një shoqatë?", database=tmp_path / "none.db")
    assert "ngo-registration" in out and "bot.matcher" in loaded
    assert not {"sqlalchemy", "pydantic", "alembic", "matplotlib", "telegram"} & loaded
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("args", [("ask",), ("registry", "search")])
def test_a_pipe_that_is_not_utf8_is_read_not_a_traceback(tmp_path: Path,
                                                         args: tuple[str, ...]) -> None:
    # A questions file saved in Windows-1252 (ë is the byte 0xEB), read where Python reads
    # standard input strictly (a UTF-8 locale other than C).
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "PYTHONIOENCODING": "utf-8:strict"}
    Database(env["DATABASE_URL"]).close()  # the bot has started once (registry search reads)
    result = subprocess.run([CLI, *args], input=b"si hap nj\xeb llogari bankare\n",
                            capture_output=True, timeout=60, env=env, cwd=tmp_path, check=False)
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.returncode in (0, 1) and "nj\ufffd llogari".encode() in result.stdout
