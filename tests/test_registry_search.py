"""Registry search: the decisions people see, on SQLite and PostgreSQL, and the bench targets."""

from __future__ import annotations

import csv
import io
import json
import random
import string
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from bot.cli import main
from bot.config import RegistryConfig, load_config
from bot.registry import index as registry_index
from bot.registry.evaluation import evaluate, read_cases
from bot.registry.importer import import_registry, remove_organisation
from bot.registry.index import OrgRecord
from bot.registry.search import RegistryIndex
from bot.storage import Database, Organisation, SavedRegistryIndex
from bot.text import read

PARTNERS = "Partners Albania for Change and Development"
HELSINKI = "Albanian Helsinki Committee"
BEES = "Shoqata e Bletarëve të Korçës"


@pytest.fixture
def settings(project_root: Path) -> RegistryConfig:
    return load_config(project_root / "config.yaml", environ={}).registry


# Names of real organisations (name, acronym, city only: no invented contacts under them).
NAMES_CSV = Path(__file__).resolve().parent / "data" / "registry_names.csv"
SAMPLE_CSV = Path(__file__).resolve().parents[1] / "bot" / "data" / "sample_registry.csv"


@pytest.fixture
def sample_index(database: Database, settings: RegistryConfig) -> RegistryIndex:
    import_registry(database, NAMES_CSV)
    return RegistryIndex.load(database, settings)


def nipt_of(index: RegistryIndex, name: str) -> str:
    result = index.search(read(name))
    assert result.decision == "found" and result.results[0].name == name
    return result.results[0].nipt


@pytest.mark.parametrize("query, name", [
    ("shoqata e bletareve te korces", BEES),                           # no diacritics
    ("Partners Albania for Change and Developmnet", PARTNERS),          # a typo
    ("Albanian Helsinki Comittee", HELSINKI),                           # a letter missing
    ("development and change partners albania", PARTNERS),              # words reordered
    ("PPNEA Tiranë", "Protection and Preservation of Natural Environment in Albania"),
    ("adrf tirana", "Albanian Disability Rights Foundation"),           # acronym + city
    ("Co-PLAN", "Co-PLAN, Institute for Habitat Development"),          # acronym alone
    ("a është e regjistruar shoqata e bletarëve korçë?", BEES),         # inside a sentence
    ("a osht regjistru shoqata e bletareve korçë?", BEES),              # ... in Gheg
    ("A asht e regjistrueme Albanian Helsinki Committee?", HELSINKI),
    ("contact of albanian helsinki committee pls", HELSINKI),
    ("helsinki committee", HELSINKI),                                   # the distinctive part
    ("fondacioni drita e shpreses elbasanit", 'Fondacioni "Drita e Shpresës" Elbasan'),
])
def test_organisations_are_found_however_people_type_them(sample_index: RegistryIndex,
                                                          query: str, name: str) -> None:
    result = sample_index.search(read(query))
    assert result.decision == "found", result
    assert [hit.name for hit in result.results] == [name]
    assert 0 < result.results[0].score <= 100


def test_the_distinctive_word_alone_comes_first(sample_index: RegistryIndex) -> None:
    result = sample_index.search(read("mjaft"))
    assert result.decision in ("found", "candidates")
    assert result.results[0].name == "Lëvizja Mjaft!"


def test_the_nipt_is_found_in_any_case(sample_index: RegistryIndex) -> None:
    nipt = nipt_of(sample_index, PARTNERS)
    for query in (nipt.lower(), f"NIPT: {nipt}", f"kush eshte {nipt.lower()}?",
                  f"{nipt[:-1]} {nipt[-1]}", f"{nipt[0]}-{nipt[1:-1]}-{nipt[-1]}".lower()):
        result = sample_index.search(read(query))
        assert result.decision == "found"
        assert (result.results[0].nipt, result.results[0].name) == (nipt, PARTNERS)
    assert sample_index.search(read("K00000001Z")).decision == "not_found"


@pytest.mark.parametrize("query", [
    "Shoqata e Peshkatarëve të Divjakës",                # does not exist
    "a eshte e regjistruar Fondacioni Zogu i Bardhe?",
    "Save the Children Albania",
    "shoqata tirane",                                    # generic words and a city alone
    "a eshte e regjistruar organizata",
    "contact pls",
    "Vlorë",
    "pa",                                                # not the acronym PA in lower case
])
def test_nothing_is_claimed_for_what_is_not_registered(sample_index: RegistryIndex,
                                                       query: str) -> None:
    result = sample_index.search(read(query))
    assert result.decision != "found", result
    assert all(hit.name != PARTNERS for hit in result.results)


def test_generic_queries_find_nothing(sample_index: RegistryIndex) -> None:
    for query in ("shoqata tirane", "contact pls", "a eshte e regjistruar organizata", "Vlorë"):
        result = sample_index.search(read(query))
        assert (result.decision, result.results) == ("not_found", ())


@pytest.mark.parametrize(("query", "names"), [
    ("Greenhollow", ["Greenhollow Environmental Alliance"]),
    ("moonstone?", ["Moonstone Association of Young Architects"]),
    ("Kodrimadhe", ["Shoqata e Gazetarëve të Rinj Kodrimadhe"]),
    ("is Vaporeta still registered?", ["Forumi Rinor për Integrim Evropian Vaporeta"]),
    ("a esht ende e regjistrueme Fushembel?",             # "esht": Gheg, "ende": still
     ["Qendra për Zhvillimin Rural Fushëmbël"]),
    ("Shoqata e Bletarëve", ["Shoqata e Bletarëve të Zallit të Artë",
                             "Shoqata e Bletarëve të Luginës Kaltëroshe"]),
    # One typo away, or inflected as people write it.
    ("Greenhollw", ["Greenhollow Environmental Alliance"]),
    ("Luleborra", ["Qendra Rinore Lulebora", "Qendra Rinore Lulebora Shkodër"]),
    ("nipti i Luleboras", ["Qendra Rinore Lulebora", "Qendra Rinore Lulebora Shkodër"]),
    ("pensionistet", ["Shoqata Kombëtare e Pensionistëve Flokëbardhë"]),
    ("bletaret e korces", ["Shoqata e Bletarëve të Zallit të Artë"]),
    # "NIPT" in capitals is no acronym of the registry: filler still.
    ("what is the NIPT of Lulebora", ["Qendra Rinore Lulebora",
                                      "Qendra Rinore Lulebora Shkodër"])])
def test_distinctive_words_of_a_name_offer_the_organisations_having_them(
        database: Database, settings: RegistryConfig, query: str, names: list[str]) -> None:
    """One word of a name of three or four scores under ``candidates`` in the bot's demo
    registry, yet names it (one or two organisations have it), typed as it is or with a
    typo or an inflection: offered, not "no registered organisation matches"."""
    import_registry(database, SAMPLE_CSV)
    result = RegistryIndex.load(database, settings).search(read(query))
    assert result.decision == "candidates"
    assert sorted(hit.name for hit in result.results) == sorted(names)


def test_close_calls_offer_candidates_best_first(database: Database, sample_index: RegistryIndex,
                                                 settings: RegistryConfig) -> None:
    index = RegistryIndex([
        *registry_index.records(database),
        OrgRecord("K10000001A", 'Shoqata "Ura" Devoll', "SHU", "Bilisht"),
        OrgRecord("K10000002B", 'Qendra "Ura" Devoll', None, "Bilisht"),
    ], settings)
    result = index.search(read("ura devoll"))
    assert result.decision == "candidates"
    assert {hit.nipt for hit in result.results[:2]} == {"K10000001A", "K10000002B"}
    assert [hit.score for hit in result.results] == sorted(
        (hit.score for hit in result.results), reverse=True)
    assert len(result.results) <= settings.max_candidates
    assert index.search(read('qendra "ura" devoll')).results[0].nipt == "K10000002B"


def test_a_word_of_one_character_counts_only_for_names_that_have_it(
        database: Database, sample_index: RegistryIndex, settings: RegistryConfig) -> None:
    """What folding leaves of a smiley or of markup, a stray letter or digit, does not
    turn a sure match into a choice; a digit that is part of a name still tells it from
    its namesake."""
    index = RegistryIndex([
        *registry_index.records(database),
        OrgRecord("K10000001A", "Shoqata e Veteranëve Dega 1", None, "Tiranë"),
        OrgRecord("K10000002B", "Shoqata e Veteranëve Dega 2", None, "Tiranë"),
        OrgRecord("K10000003C", "Klubi B", None, "Fier"),
    ], settings)
    for query, name in [("Albanian Helsinki Committee :D", HELSINKI),
                        ("<3 helsinki committee", HELSINKI),
                        ("<b>Albanian Helsinki Committee</b>", HELSINKI),
                        ("partners albania for change and development x", PARTNERS),
                        ("2 partners albania for change and development", PARTNERS),
                        ("albanian helsinki committee b", HELSINKI),     # a name has "b"
                        ("shoqata e veteraneve dega 2", "Shoqata e Veteranëve Dega 2"),
                        ("klubi b", "Klubi B")]:
        result = index.search(read(query))
        assert (result.decision, [hit.name for hit in result.results]) == ("found", [name]), query


def test_the_index_takes_in_an_import(database: Database, sample_index: RegistryIndex,
                                              tmp_path: Path) -> None:
    query = "Shoqata e Peshkatarëve të Divjakës"
    assert sample_index.search(read(query)).decision == "not_found"
    path = tmp_path / "new.csv"
    path.write_text("nipt,name,city\nL12345678P,Shoqata e Peshkatarëve të Divjakës,Divjakë\n",
                    encoding="utf-8")
    import_registry(database, path)
    before = len(sample_index)
    assert sample_index.refresh(database)
    assert len(sample_index) == before + 1
    result = sample_index.search(read("shoqata e peshkatareve divjake"))
    assert result.decision == "found" and result.results[0].nipt == "L12345678P"


def invented_names(rng: random.Random, count: int, start: int = 0) -> list[str]:
    """Rows ``nipt,name,city`` of ``count`` organisations with invented names, two words
    of eight letters each (thousands of words in all, as in a real registry)."""
    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(8))

    return [f"M{n:08d}M,Shoqata {word()} {word()},Tiranë" for n in range(start, start + count)]


def test_searches_while_a_refresh_takes_in_imports_always_get_their_answer(
        database: Database, sample_index: RegistryIndex, tmp_path: Path) -> None:
    """The bot searches on other threads while a refresh takes in what an import changed:
    every search gets its answer, from the index before the changes or after them."""
    rng = random.Random(7)
    registry = tmp_path / "invented.csv"
    registry.write_text("\n".join(["nipt,name,city", *invented_names(rng, 2000)]),
                        encoding="utf-8")
    import_registry(database, registry)
    assert sample_index.refresh(database)
    queries = {"Albanian Helsinki Comittee": HELSINKI,   # a typo: the stems are scanned
               "partners albania for change and developmnet": PARTNERS}
    stop = threading.Event()
    seen: list[tuple[str, str, str | None]] = []

    def search() -> None:
        while not stop.is_set():
            for query in queries:
                try:
                    result = sample_index.search(read(query))
                    seen.append((query, result.decision,
                                 result.results[0].name if result.results else None))
                except Exception as exc:  # the person would get no answer
                    seen.append((query, repr(exc), None))

    searchers = [threading.Thread(target=search) for _ in range(2)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns often: searches land inside refreshes
    for thread in searchers:
        thread.start()
    try:
        for round_ in range(10):
            changed = tmp_path / f"changed{round_}.csv"
            changed.write_text("\n".join(["nipt,name,city",
                                          *invented_names(rng, 40, start=round_ * 40)]),
                               encoding="utf-8")
            import_registry(database, changed)
            assert sample_index.refresh(database)
    finally:
        stop.set()
        for thread in searchers:
            thread.join()
        sys.setswitchinterval(switch)
    assert seen
    assert {outcome for outcome in seen if outcome[1:] != ("found", queries[outcome[0]])} \
        == set()


# Look-ups whose answers must not change when nothing the search reads changed.
LOOKUPS = ("Albanian Helsinki Comittee", "shoqata e bletareve te korces", "PPNEA Tiranë",
           "qendra rinore", "fondacioni elbasan", "mjaft", "institute for development",
           "shoqata tirane")


def answers(index: RegistryIndex) -> list[dict[str, object]]:
    return [index.search(read(query)).as_dict() for query in LOOKUPS]


def names(**changes: str) -> list[dict[str, str]]:
    """The organisations of NAMES_CSV, with the columns ``changes`` names set to its values."""
    with open(NAMES_CSV, encoding="utf-8") as handle:
        return [{**row, **changes} for row in csv.DictReader(handle)]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_reimport_that_changes_no_name_leaves_the_running_index_as_it_was(
        database: Database, tmp_path: Path, settings: RegistryConfig) -> None:
    """The registry re-imported with every status (and phone) changed, names, acronyms and
    cities as they were: the running bot has nothing to take in, its answers stay the same
    and its index does not grow."""
    import_registry(database, write_rows(tmp_path / "first.csv", names(status="aktive")))
    running = RegistryIndex.load(database, settings)
    before, documents = answers(running), len(running._tables.dead)
    for round_, status in enumerate(("pezulluar", "aktive", "çregjistruar")):
        changed = names(status=status, phone=f"+355 00 000 00{round_}")
        report = import_registry(database, write_rows(tmp_path / f"{status}.csv", changed))
        assert report.updated == report.rows == len(running)
        assert not running.refresh(database)
        assert answers(running) == before
        assert len(running._tables.dead) == documents
    assert answers(RegistryIndex.load(database, settings)) == before


def test_after_imports_the_running_index_answers_as_a_new_one(
        database: Database, tmp_path: Path, settings: RegistryConfig) -> None:
    """Organisations moved to another city: the running bot answers as a bot started
    afresh would. Their old versions weigh nothing, and when they would be more than a
    quarter of the index it is built again, instead of growing with every import."""
    import_registry(database, NAMES_CSV)
    running = RegistryIndex.load(database, settings)
    moved = names(city="Durrës")
    for round_, rows in enumerate((moved[:5], moved[5:15])):
        report = import_registry(database, write_rows(tmp_path / f"moved{round_}.csv", rows))
        assert report.updated == len(rows)
        assert running.refresh(database)
        fresh = RegistryIndex(registry_index.records(database), settings)
        assert answers(running) == answers(fresh)
        assert len(running._tables.dead) <= 1.25 * len(running)


def test_a_removal_during_an_import_leaves_the_running_index_with_both(
        database: Database, tmp_path: Path, settings: RegistryConfig) -> None:
    """An admin removes an organisation while another's import is still writing, and the
    running bot refreshes as soon as the removal is in: once the import is in too, the
    bot finds the imported organisation (the removal waited for the import, so the bot
    never steps over the import's changes)."""
    if database.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time")
    base = tmp_path / "base.csv"
    base.write_text("nipt,name,city\nK11111111A,Shoqata Bletaret,Korçë\n"
                    "K22222222B,Klubi Alpinist,Tiranë\n", encoding="utf-8")
    import_registry(database, base)
    running = RegistryIndex.load(database, settings)
    new = tmp_path / "new.csv"
    new.write_text("nipt,name,city\nL33333333C,Fondacioni Drita Pogradec,Pogradec\n",
                   encoding="utf-8")
    importing, go = threading.Event(), threading.Event()

    def pause(done: int, total: int) -> None:  # the import has written, not committed
        importing.set()
        go.wait()

    importer = threading.Thread(target=lambda: import_registry(database, new, progress=pause))
    importer.start()
    importing.wait()
    remover = threading.Thread(target=lambda: (remove_organisation(database, "K22222222B"),
                                               running.refresh(database)))
    remover.start()

    def someone_waits() -> bool:
        with database.session() as session:
            return bool(session.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))

    while remover.is_alive() and not someone_waits():
        time.sleep(0.01)
    go.set()
    for thread in (importer, remover):
        thread.join(timeout=30)
        assert not thread.is_alive()
    running.refresh(database)
    found = running.search(read("Fondacioni Drita Pogradec"))
    assert found.decision == "found" and found.results[0].nipt == "L33333333C"
    assert all(hit.nipt != "K22222222B" for hit in running.search(read("Klubi Alpinist")).results)


def test_a_registry_of_more_than_65535_places_is_saved_and_loaded(
        tmp_path: Path, settings: RegistryConfig) -> None:
    """Every organisation in a place of its own, 65,537 places: the index is built and
    saved, a restart loads it, and a look-up finds the last one in its place."""
    index = RegistryIndex((OrgRecord(f"K{n:08d}A", f"Shoqata {n}", None, f"Fshati {n}")
                           for n in range(65_537)), settings)
    db = Database(f"sqlite:///{tmp_path / 'places.db'}")
    try:
        index.save(db)
        restarted = RegistryIndex.load(db, settings)
    finally:
        db.close()
    result = restarted.search(read("K00065536A"))
    assert result.decision == "found"
    assert [(hit.name, hit.city) for hit in result.results] == [("Shoqata 65536", "Fshati 65536")]


def test_cli_search_json_from_arguments_and_stdin(database_url: str, tmp_path: Path,
                                                  project_root: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: '{database_url}'\n", encoding="utf-8")
    assert main(["--config", str(config), "registry", "import", str(NAMES_CSV)]) == 0
    capsys.readouterr()

    assert main(["--config", str(config), "registry", "search", "--json", "helsinki",
                 "committee"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["query"] == "helsinki committee" and line["decision"] == "found"
    assert [(r["name"], r["city"]) for r in line["results"]] == [(HELSINKI, "Tiranë")]
    assert set(line["results"][0]) == {"nipt", "name", "city", "score"}

    monkeypatch.setattr("sys.stdin", io.StringIO("levizja mjaft\n\nshoqata tirane\n"))
    assert main(["--config", str(config), "registry", "search", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["query"], x["decision"]) for x in lines] == [("levizja mjaft", "found"),
                                                            ("shoqata tirane", "not_found")]

    assert main(["--config", str(config), "registry", "search", "partners", "albania"]) == 0
    out = capsys.readouterr().out
    assert "'partners albania'" in out and PARTNERS in out and "NIPT" in out


def test_bench_targets(bench_dir: Path, tmp_path: Path, settings: RegistryConfig) -> None:
    """On the shared bench registry: the right organisation first for >= 92% of look-ups
    that have one, and a wrong `found` (strict: any but the expected one) for <= 1% of
    all look-ups."""
    db = Database(f"sqlite:///{tmp_path / 'bench.db'}")
    try:
        report = import_registry(db, bench_dir / "registry.csv")
        assert report.inserted == 20000 and not report.errors
        index = RegistryIndex.load(db, settings)
    finally:
        db.close()
    result = evaluate(index, read_cases(bench_dir / "registry_dev.jsonl"))
    assert result.in_scope > 100
    assert result.top1_accuracy >= 0.92, result.misses
    assert result.reached >= result.right_first
    assert result.wrong_found_rate <= 0.01, result.misses


def test_cli_eval_prints_the_figures(bench_dir: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: 'sqlite:///{tmp_path / 'bot.db'}'\n", encoding="utf-8")
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"q": "Partners Albania for Change and Development", "expect": null}\n'
                     '{"q": "Albanian Helsinki Committee", "expect": "X00000000X"}\n'
                     '{"q": "shoqata tirane", "expect": null}\n', encoding="utf-8")
    assert main(["--config", str(config), "registry", "import", str(NAMES_CSV)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "registry", "eval", "--cases", str(cases)]) == 0
    out = capsys.readouterr().out
    assert "right organisation first: 0/1 = 0.0%" in out
    assert "right organisation first or offered: 0/1 = 0.0%" in out
    assert "found with a wrong organisation: 2/3 = 66.7% (strict" in out


def test_a_long_message_with_html_gets_an_answer(sample_index: RegistryIndex) -> None:
    message = "<b>Përshëndetje!</b> " * 150 + "a është e regjistruar Albanian Helsinki Committee?"
    result = sample_index.search(read(message[-4000:]))
    assert result.decision == "found" and [hit.name for hit in result.results] == [HELSINKI]
    assert sample_index.search(read("<script>alert(1)</script>")).decision == "not_found"


def test_a_case_file_with_a_bad_expect_is_refused_with_its_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"q": "Partners Albania", "expect": "K43464097E"}\n'
                     '{"q": "Helsinki", "expect": 12345678}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=':2: "expect" must be a NIPT .* or null, not 12345678'):
        read_cases(cases)
    cases.write_text('{"q": "Helsinki", "expect": "not-a-nipt"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=(r':1: "expect" must be a NIPT \(a letter, 8 digits, '
                                          r"a letter\) or null, not 'not-a-nipt'")):
        read_cases(cases)


def test_an_import_saves_the_index_and_a_running_index_takes_only_the_changes(
        database_url: str, tmp_path: Path, settings: RegistryConfig,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A restart loads the index the import saved; the running bot applies the rows an
    import changed to the index it has, without reading every organisation again.
    (Checked by the organisations' rows deleted behind the index's back, no change
    logged: only a bot that reads them all again would notice.)"""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: '{database_url}'\n", encoding="utf-8")
    assert main(["--config", str(config), "registry", "import", str(NAMES_CSV)]) == 0
    db = Database(database_url)
    try:
        running = RegistryIndex.load(db, settings)
        loaded = running._tables.sorted_size
        before = len(running)
        helsinki = nipt_of(running, HELSINKI)
        changed = tmp_path / "changed.csv"
        changed.write_text("nipt,name,city\n"
                           f"{helsinki},Albanian Helsinki Committee Vlore,Vlorë\n"
                           "L12345678P,Shoqata e Peshkatarëve të Divjakës,Divjakë\n",
                           encoding="utf-8")
        assert main(["--config", str(config), "registry", "import", str(changed)]) == 0
        assert "1 new, 1 updated" in capsys.readouterr().out
        assert running.refresh(db)
        # Only the two changed organisations were read and added: not a new build.
        assert running._tables.sorted_size == loaded
        assert set(running._tables.added) == {helsinki, "L12345678P"}
        assert len(running) == before + 1
        assert not running.refresh(db)
        moved = running.search(read("albanian helsinki committee vlore"))
        assert moved.decision == "found" and moved.results[0].city == "Vlorë"
        assert running.search(read("peshkatareve divjake")).results[0].nipt == "L12345678P"
        with db.session() as session:
            session.execute(delete(Organisation))
        restarted = RegistryIndex.load(db, settings)
        assert len(restarted) == len(running)
        assert restarted.search(read("peshkatareve divjake")).results[0].nipt == "L12345678P"
        moved = restarted.search(read("albanian helsinki committee vlore"))
        assert moved.decision == "found" and moved.results[0].city == "Vlorë"
    finally:
        db.close()


def test_a_damaged_saved_index_is_built_again(database: Database, settings: RegistryConfig) -> None:
    import_registry(database, NAMES_CSV)
    index = RegistryIndex.load(database, settings)
    size = len(index)
    with database.session() as session:
        saved = session.get(SavedRegistryIndex, 1)
        assert saved is not None
        saved.data = saved.data[: len(saved.data) // 2]
    again = RegistryIndex.load(database, settings)
    assert len(again) == size and again.search(read(HELSINKI)).decision == "found"


NAMESAKES_CSV = """nipt,name,acronym,city
K20000001A,Shoqata Ekologjike Gjirokastër,,Gjirokastër
K20000002B,Organizata Ekologjike Gjirokastër,OE,Gjirokastër
K20000003C,Forumi Rinor për Mbrojtjen e Mjedisit Detar Vlorë,,Vlorë
K20000004D,Shoqata Rinore për Mbrojtjen e Mjedisit Detar Vlorë,,Vlorë
K20000011K,Network ""Zëri i Gruas"" Kukes,,Kukës
K20000012L,Nisma ""Zëri i Gruas"" Kukës,,Kukës
K20000005E,Shoqata Ylberi Berat,,Berat
K20000006F,Qendra për Mbrojtjen e Mjedisit Detar,,Durrës
K20000007G,Klubi i Alpinistëve Bilisht,,Bilisht
K20000008H,Shoqata e Bletarëve të Korçës,,Korçë
K20000009I,Lidhja e Historianëve,,Tiranë
K20000010J,Instituti për Studime Politike,,Tiranë
"""


def test_namesakes_in_another_kind_or_language_are_offered_not_found(
        tmp_path: Path, settings: RegistryConfig) -> None:
    """Two organisations whose names differ only in the kind of organisation (Shoqata,
    Organizata; Network, Nisma), its language or an inflection are answered with both, never one of them as found,
    even when the look-up types one name word for word; their city and NIPT tell them
    apart. A name nobody else bears is still found."""
    registry = tmp_path / "namesakes.csv"
    registry.write_text(NAMESAKES_CSV, encoding="utf-8")
    db = Database(f"sqlite:///{tmp_path / 'namesakes.db'}")
    try:
        import_registry(db, registry)
        index = RegistryIndex.load(db, settings)
    finally:
        db.close()
    for query, both in [
            ("Organizata Ekologjike Gjirokaster", {"K20000001A", "K20000002B"}),
            ("a eshte e regjistruar Shoqata Ekologjike Gjirokastër?", {"K20000001A", "K20000002B"}),
            ("forumi rinor per mbrojtjen e mjedisit detar vlore", {"K20000003C", "K20000004D"}),
            ("Rrjeti Zeri i Gruas Kukes", {"K20000011K", "K20000012L"})]:
        result = index.search(read(query))
        assert result.decision == "candidates", (query, result)
        offered = {(hit.nipt, hit.city) for hit in result.results}
        assert {nipt for nipt, _ in offered} >= both, (query, result)
        assert all(city for _, city in offered)
    unique = index.search(read("Shoqata Ylberi Berat"))
    assert unique.decision == "found" and unique.results[0].nipt == "K20000005E"
