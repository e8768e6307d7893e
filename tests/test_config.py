"""The configuration file and its environment overrides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


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
    assert config.matching.suggest < config.matching.answer


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "database:\n  url: sqlite:///x.db\nfaq:\n  path: faq\n")
    config = load_config(path, environ={
        "TELEGRAM_BOT_TOKEN": "123:SECRET",
        "DATABASE_URL": "postgresql+psycopg://u@h/db",
        "FAQ_PATH": "/srv/faq",
    })
    assert config.telegram.token == "123:SECRET"
    assert config.database_url == "postgresql+psycopg://u@h/db"
    assert config.faq_path == Path("/srv/faq")


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
    ("telegram: [1, 2]\n", "'telegram' must be a mapping"),
    ("telegram:\n  mode: carrier-pigeon\n", "telegram.mode"),
    ("staff:\n  remind_after: soon\n", "not a duration"),
    ("matching:\n  answer: high\n", "bad value"),
    ("key: [unclosed\n", "invalid YAML"),
    ("agency:\n  name: ASCS\n", "'name' must be a mapping"),
    ("matching:\n  max_suggestions: -1\n", "matching.max_suggestions must be more than 0"),
    ("matching:\n  answer: 540\n", "matching.answer must be a score from 0 to 100"),
    ("faq:\n  reload_interval: 0s\n", "faq.reload_interval must be more than 0"),
    ("staff:\n  send_timeout: 0\n", "staff.send_timeout must be more than 0"),
    ("staff:\n  language: de\n", "staff.language must be 'sq' or 'en'"),
    ("staff:\n  hours:\n    timezone: Tirana\n", "staff.hours: unknown time zone"),
    ("staff:\n  hours:\n    open:\n      weekdays: 08:00-16:00\n", "staff.hours: not a day"),
    ("staff:\n  hours:\n    open:\n      mon: 8am-4pm\n", "staff.hours: not opening hours"),
    ("staff:\n  hours:\n    holidays: 2026-12-08\n", "holidays must be a list"),
    ("staff:\n  hours:\n    holidays: [8 December]\n", "staff.hours: not a date"),
    ("staff:\n  routes:\n    grants: the grants team\n", "bad value"),
])
def test_bad_values_give_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_staff_desk_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, (
        "staff:\n  language: en\n  routes:\n    grants: -100123\n"
        "  hours:\n    open:\n      mon-fri: 08:00-16:30\n    holidays: [2026-12-08]\n")),
        environ={})
    assert config.staff.language == "en" and config.staff.routes == {"grants": -100123}
    assert str(config.staff.hours.zone) == "Europe/Tirane"
    assert len(config.staff.hours.holidays) == 1 and not config.staff.hours.always


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
