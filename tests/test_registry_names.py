"""Registry search on real names, through the command line: filler words that are
part of names, names asked in the other language, joined and split words, the city
that tells namesakes apart, namesakes never answered as one, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

# Invented organisations; the names reuse words people also wrap around a look-up
# (kontakt, status, active, info) and words of the bilingual glossary.
REGISTRY = """nipt,name,acronym,legal_form,city
K10000001A,Qendra Kontakt,,Qendër,Tiranë
K10000002B,Shoqata Status,,Shoqatë,Tiranë
K10000003C,Active Citizens Tirana,,Shoqatë,Tiranë
K10000004D,Qendra Rinore Tirana,,Qendër,Tiranë
K10000005E,Shoqata e Qytetarëve Aktivë Durrës,,Shoqatë,Durrës
K10000006F,Qendra për të Drejtat e Grave Fushëkuq,,Qendër,Korçë
K10000007G,Youth Association for Mountain Trails,YAMT,Shoqatë,Kukës
K10000008H,EcoAlbania,,Shoqatë,Tiranë
K10000009I,Green Valley Network,,Shoqatë,Fier
K10000010J,Shoqata Ylberi,,Shoqatë,Berat
K10000011K,Shoqata Ylberi,,Shoqatë,Korçë
K10000012L,Bashkimi i Vullnetarëve Guri,,Shoqatë,Berat
K10000013M,Bashkimi i Vullnetarëve Guri Berat,,Shoqatë,Berat
K10000014N,Qendra Info Rinia,,Qendër,Vlorë
K10000015O,Shoqata e Bletarëve Malësorë,,Shoqatë,Shkodër
K10000016P,Fondacioni Drita e Malit,,Fondacion,Elbasan
"""


@pytest.fixture
def config(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(f"database:\n  url: '{database_url}'\n", encoding="utf-8")
    csv_file = tmp_path / "registry.csv"
    csv_file.write_text(REGISTRY, encoding="utf-8")
    assert main(["--config", str(path), "registry", "import", str(csv_file)]) == 0
    capsys.readouterr()
    return path


def search(config: Path, capsys: pytest.CaptureFixture[str],
           *queries: str) -> list[dict[str, object]]:
    lines = []
    for query in queries:
        assert main(["--config", str(config), "registry", "search", "--json", query]) == 0
        lines.append(json.loads(capsys.readouterr().out))
    return lines


def first(line: dict[str, object]) -> str:
    results = line["results"]
    assert isinstance(results, list) and results, line
    return str(results[0]["nipt"])


@pytest.mark.parametrize("query, nipt", [
    ("Qendra Kontakt", "K10000001A"),                       # exact names made of filler
    ("Shoqata Status", "K10000002B"),
    ("Active Citizens Tirana", "K10000003C"),
    ("a eshte e regjistruar Qendra Kontakt?", "K10000001A"),  # ... inside a question
    ("numri i telefonit te Shoqata Status", "K10000002B"),
    ("active citizens", "K10000003C"),                       # by their distinctive words
    ("qendra info rinia vlore", "K10000014N"),
])
def test_filler_words_that_are_part_of_a_name_find_it(
        config: Path, capsys: pytest.CaptureFixture[str], query: str, nipt: str) -> None:
    [line] = search(config, capsys, query)
    assert line["decision"] == "found" and first(line) == nipt, line


@pytest.mark.parametrize("query, nipt", [
    ("Center for Women's Rights Fushekuq", "K10000006F"),        # English for Albanian
    ("Shoqata e te Rinjve per Shtigjet Malore", "K10000007G"),   # Albanian for English
    ("Beekeepers Association Malesore", "K10000015O"),
])
def test_names_asked_in_the_other_language(config: Path, capsys: pytest.CaptureFixture[str],
                                           query: str, nipt: str) -> None:
    [line] = search(config, capsys, query)
    assert line["decision"] in ("found", "candidates") and first(line) == nipt, line


@pytest.mark.parametrize("query, nipt", [
    ("eco albania", "K10000008H"),
    ("Eco-Albania Tirane", "K10000008H"),
    ("greenvalley network", "K10000009I"),
])
def test_joined_and_split_words(config: Path, capsys: pytest.CaptureFixture[str],
                                query: str, nipt: str) -> None:
    [line] = search(config, capsys, query)
    assert line["decision"] == "found" and first(line) == nipt, line


def test_the_city_picks_one_of_two_namesakes_and_without_it_both_are_offered(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    berat, korca, both = search(config, capsys, "shoqata ylberi berat", "Shoqata Ylberi Korçë",
                                "Shoqata Ylberi")
    assert berat["decision"] == "found" and first(berat) == "K10000010J"
    assert korca["decision"] == "found" and first(korca) == "K10000011K"
    assert both["decision"] == "candidates"
    assert {r["nipt"] for r in both["results"]} >= {"K10000010J", "K10000011K"}  # type: ignore


def test_two_organisations_with_one_name_are_never_found_as_one(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for line in search(config, capsys, "Bashkimi i Vullnetarëve Guri",
                       "bashkimi i vullnetareve guri berat"):
        assert line["decision"] == "candidates", line
        assert {r["nipt"] for r in line["results"]} >= {"K10000012L", "K10000013M"}  # type: ignore


def test_one_candidate_having_every_word_is_the_closest_match(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [line] = search(config, capsys, "ylberi korce")
    assert line["decision"] == "candidates" and line["closest"] is True
    assert first(line) == "K10000011K"
    assert main(["--config", str(config), "registry", "search", "ylberi korce"]) == 0
    assert "the first is the closest match" in capsys.readouterr().out
