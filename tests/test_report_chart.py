"""The /stats and `report --chart` chart: from 0 for an empty period, in the admin's
language, with the report's own words in its legend."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot import question_log, report
from bot.phrases import raw
from bot.storage import Database

PERIOD = report.Period.of_days(date(2026, 3, 2), date(2026, 3, 4))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'bot.db'}")


def test_an_empty_period_has_an_axis_from_zero_and_says_it_is_empty(db: Database) -> None:
    figure = report.chart(report.build(db, PERIOD), "sq")
    [axes] = figure.axes
    assert axes.get_ylim() == (0, 1)
    assert [t.get_text() for t in axes.texts] == ["Asnjë pyetje në këtë periudhë"]
    assert axes.get_title() == "Pyetje në ditë, 2026-03-02 – 2026-03-04"
    assert axes.get_ylabel() == "pyetje"


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_the_legend_uses_the_reports_words_in_the_admins_language(db: Database,
                                                                   lang: str) -> None:
    question_log.record(db, user_id=5, chat_id=5, text="Si regjistrohet një shoqatë?",
                        language="sq", decision="answered", entry_id="x", score=80.0)
    figures = report.build(db, report.Period.of_days(None, None, default_days=7))
    [axes] = report.chart(figures, lang).axes
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    described = report.describe(figures, lang)
    assert legend == [raw(lang, f"outcome_{o}") for o in question_log.OUTCOMES]
    assert all(f"{label}: " in described for label in legend)
    assert axes.get_ylim()[0] == 0 and axes.get_ylim()[1] >= 1
    assert report.chart_png(figures, lang).startswith(b"\x89PNG")
