"""Importing a registry CSV: upsert by NIPT, bad rows reported and skipped, --strict,
--replace, remove; the demo sample and its replacement."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.cli.registry import ProgressBar
from bot.registry.importer import (COLUMNS, RegistryImportError, ensure_sample_registry,
                                   import_registry, read_registry_csv, registry_stats)
from bot.storage import Database, Organisation

HEADER = ",".join(COLUMNS)
GOOD = [
    'K11111111A,Shoqata e Bletarëve të Korçës,SHBK,Shoqatë,Korçë,"Rruga ""Fan Noli"", Nr. 3",'
    '+355 69 111 2222,info@shbk.al,Bujqësia,2006-05-09,"Vendim nr. 1, datë 09.05.2006",aktive',
    'L22222222B,Qendra Rinore "Ura",,Qendër,Shkodër,Rruga Kolaj,,ura@gmail.com,Rinia,'
    '2011-09-14,"Vendim nr. 2, datë 14.09.2011",pezulluar',
    'J33333333C,Fondacioni "Drita",FD,Fondacion,Tiranë,Rruga e Elbasanit,04 222 333,,'
    'Bamirësia,1998-01-30,"Vendim nr. 3, datë 30.01.1998",aktive',
]


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line takes the database from the config file written by the test."""
    monkeypatch.delenv("DATABASE_URL", raising=False)


def write_csv(path: Path, lines: list[str], *, header: str = HEADER, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join([header, *lines]) + "\n",
                    encoding="utf-8")
    return path


def organisations(db: Database) -> dict[str, Organisation]:
    with db.session() as session:
        return {org.nipt: org for org in session.scalars(select(Organisation))}


def test_import_inserts_every_good_row(database: Database, tmp_path: Path) -> None:
    report = import_registry(database, write_csv(tmp_path / "r.csv", GOOD))
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (3, 3, 0, 0)
    assert report.errors == []
    orgs = organisations(database)
    assert set(orgs) == {"K11111111A", "L22222222B", "J33333333C"}
    bees = orgs["K11111111A"]
    assert bees.name == "Shoqata e Bletarëve të Korçës"
    assert bees.address == 'Rruga "Fan Noli", Nr. 3'
    assert bees.registered_on == date(2006, 5, 9)
    assert orgs["L22222222B"].acronym is None and orgs["L22222222B"].status == "pezulluar"


def test_importing_the_same_file_twice_changes_nothing(database: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", GOOD)
    import_registry(database, path)
    before = {nipt: (o.name, o.city, o.updated_at) for nipt, o in organisations(database).items()}
    report = import_registry(database, path)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 3)
    after = {nipt: (o.name, o.city, o.updated_at) for nipt, o in organisations(database).items()}
    assert after == before


def test_an_updated_file_updates_rows_and_keeps_the_others(database: Database,
                                                            tmp_path: Path) -> None:
    import_registry(database, write_csv(tmp_path / "r.csv", GOOD))
    changed = [GOOD[0].replace(",Korçë,", ",Pogradec,").replace(",aktive", ",çregjistruar"),
               'm44444444d,Klubi i Alpinistëve,,Shoqatë,Peshkopi,,,,Sporti,,,aktive']
    report = import_registry(database, write_csv(tmp_path / "update.csv", changed))
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    orgs = organisations(database)
    assert len(orgs) == 4  # rows missing from the new file are kept
    assert (orgs["K11111111A"].city, orgs["K11111111A"].status) == ("Pogradec", "çregjistruar")
    assert orgs["M44444444D"].registered_on is None  # NIPT upper-cased; empty date is unknown


def test_a_status_as_spreadsheets_write_it_is_kept_as_the_registry_writes_it(
        database: Database, tmp_path: Path) -> None:
    rows = [GOOD[0].replace(",aktive", ",AKTIV"), GOOD[1].replace(",pezulluar", ",Suspended"),
            GOOD[2].replace(",aktive", ",Cregjistruar")]
    import_registry(database, write_csv(tmp_path / "r.csv", rows))
    assert {nipt: org.status for nipt, org in organisations(database).items()} == {
        "K11111111A": "aktive", "L22222222B": "pezulluar", "J33333333C": "çregjistruar"}


def test_a_file_with_fewer_columns_leaves_the_others_alone(database: Database,
                                                           tmp_path: Path) -> None:
    import_registry(database, write_csv(tmp_path / "r.csv", GOOD))
    report = import_registry(database, write_csv(tmp_path / "cities.csv",
                                                 ["K11111111A,Shoqata e Bletarëve të Korçës,Maliq"],
                                                 header="nipt,name,city"))
    assert (report.inserted, report.updated) == (0, 1)
    bees = organisations(database)["K11111111A"]
    assert (bees.city, bees.phone, bees.registered_on) == ("Maliq", "+355 69 111 2222",
                                                           date(2006, 5, 9))


def test_bad_rows_are_reported_with_line_and_reason_and_skipped(database: Database,
                                                               tmp_path: Path) -> None:
    lines = [
        GOOD[0],                                                        # line 2
        'L55555555E,,,Shoqatë,Fier,,,,,2010-01-01,,aktive',              # 3: no name
        ',Shoqata pa NIPT,,Shoqatë,Fier,,,,,2010-01-01,,aktive',         # 4: no NIPT
        'X1234567,Shoqata me NIPT të gabuar,,Shoqatë,Fier,,,,,,,aktive',  # 5: malformed NIPT
        'L66666666F,Shoqata "Data",,Shoqatë,Fier,,,,,31.02.2010,,aktive',  # 6: bad date
        'L77777777G,Shoqata e Shkurtër,Shoqatë,Fier',                   # 7: too few fields
        'L88888888H,"Shoqata me adresë',                                # 8: multi-line quoted
        'në dy rreshta",,Shoqatë,Vlorë,,,,,2012-02-02,,aktive',          # 9 (same record)
        GOOD[0].replace("Shoqata e Bletarëve", "Dublikata"),            # 10: duplicate NIPT
        GOOD[1],                                                        # 11
    ]
    report = import_registry(database, write_csv(tmp_path / "bad.csv", lines))
    reasons = {error.line: error.reason for error in report.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 10]
    assert "missing name" in reasons[3]
    assert "missing NIPT" in reasons[4]
    assert "malformed NIPT" in reasons[5] and "X1234567" in reasons[5]
    assert "bad date" in reasons[6] and "31.02.2010" in reasons[6]
    assert "wrong number of fields" in reasons[7] and "found 4" in reasons[7]
    assert "duplicate NIPT" in reasons[10] and "line 2" in reasons[10]
    assert report.inserted == 3
    orgs = organisations(database)
    assert set(orgs) == {"K11111111A", "L22222222B", "L88888888H"}
    assert orgs["K11111111A"].name == "Shoqata e Bletarëve të Korçës"  # the first one wins
    assert orgs["L88888888H"].name == "Shoqata me adresë\nnë dy rreshta"


def test_strict_refuses_the_whole_file(database: Database, tmp_path: Path) -> None:
    import_registry(database, write_csv(tmp_path / "r.csv", GOOD[:1]))
    lines = [GOOD[0].replace(",Korçë,", ",Berat,"), GOOD[1], 'L1,Shoqata,,,,,,,,,,aktive']
    report = import_registry(database, write_csv(tmp_path / "bad.csv", lines), strict=True)
    assert report.refused
    assert [(e.line, "malformed NIPT" in e.reason) for e in report.errors] == [(4, True)]
    assert report.inserted == report.updated == 0
    orgs = organisations(database)
    assert set(orgs) == {"K11111111A"} and orgs["K11111111A"].city == "Korçë"


def test_spreadsheet_csv_with_bom_and_semicolons(database: Database, tmp_path: Path) -> None:
    lines = ['K11111111A;Shoqata "Zëri";SHZ;Shoqatë;Korçë;"Rruga 1; Nr. 2";;;Rinia;'
             '14.03.2001;Vendim nr. 1;aktive']
    path = write_csv(tmp_path / "excel.csv", lines, header=";".join(COLUMNS), bom=True)
    report = import_registry(database, path)
    assert report.errors == [] and report.inserted == 1
    org = organisations(database)["K11111111A"]
    assert (org.name, org.address, org.registered_on) == ('Shoqata "Zëri"', "Rruga 1; Nr. 2",
                                                          date(2001, 3, 14))


def test_unreadable_files_are_refused_with_a_clear_error(database: Database,
                                                         tmp_path: Path) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes((HEADER + "\n" + GOOD[0] + "\n").encode("latin-1"))
    with pytest.raises(RegistryImportError, match="line 2: not UTF-8"):
        import_registry(database, latin)
    with pytest.raises(RegistryImportError, match="no column nipt"):
        import_registry(database, write_csv(tmp_path / "h.csv", GOOD, header="id,name"))
    with pytest.raises(RegistryImportError, match="no such file"):
        import_registry(database, tmp_path / "missing.csv")
    with pytest.raises(RegistryImportError, match="cannot read the file"):
        import_registry(database, tmp_path)


def test_rows_with_characters_that_are_no_visible_text_are_reported_and_skipped(
        database_url: str, tmp_path: Path) -> None:
    """A NUL, a terminal escape (7- or 8-bit), a right-to-left override, a zero-width space
    in a field: the row is reported with its line and column, without the character
    reaching the admin's terminal, and not imported (--strict: nothing is). A tab and a
    line break (a spreadsheet cell of two lines) are text."""
    config = write_config(tmp_path, database_url)
    path = write_csv(tmp_path / "hostile.csv", [
        'L44444444D,Shoqata e Fierit,,Shoqatë,Fi\x00er,,,,,,,aktive',
        'L55555555E,"Shoqata \x1b[2J\x1b[31mHacked",,Shoqatë,Fier,,,,,,,aktive',
        'L66666666F,"Shoqata Drita\u202e)A99999999K ,enarit(",,,Tiranë,,,,,,,aktive',
        'L77777777G,Shoqata e Beratit,,,Ber\u200bat,,,,,,,aktive',
        'L88888888H,Shoqata e Vlorës,,,Vlorë,"Rruga 1\x9b2J",,,,,,aktive',
        GOOD[0].replace("Nr. 3", "Nr.\t3"),
        'M99999999M,"Shoqata e Sarandës\nDega Ksamil",,,Sarandë,,,,,,,aktive'])
    code, out, err = run(config, "import", "--strict", str(path))
    assert code == 1 and "refused (--strict): 5 bad row(s) of 7" in out
    code, out, err = run(config, "import", str(path))
    assert code == 1 and "2 new" in out and "5 skipped" in out
    assert err.splitlines() == [
        f"{path}: line 2: column city: character U+0000 (a control character) is not visible "
        "text; remove it",
        f"{path}: line 3: column name: character U+001B (a control character) is not visible "
        "text; remove it",
        f"{path}: line 4: column name: character U+202E (RIGHT-TO-LEFT OVERRIDE) is not visible "
        "text; remove it",
        f"{path}: line 5: column city: character U+200B (ZERO WIDTH SPACE) is not visible "
        "text; remove it",
        f"{path}: line 6: column address: character U+009B (a control character) is not "
        "visible text; remove it"]
    with Database(database_url) as db:
        stored = {nipt: (org.name, org.address) for nipt, org in organisations(db).items()}
    assert stored == {"K11111111A": ("Shoqata e Bletarëve të Korçës", 'Rruga "Fan Noli", Nr.\t3'),
                      "M99999999M": ("Shoqata e Sarandës\nDega Ksamil", None)}


def test_an_unclosed_quote_is_reported_and_nothing_stored_is_lost(database: Database,
                                                                  tmp_path: Path) -> None:
    import_registry(database, write_csv(tmp_path / "r.csv", GOOD[:1]))
    swallowed = write_csv(tmp_path / "q.csv", [
        'L44444444D,"Shoqata pa thonjëz,,,Fier,,,,,,,aktive',   # the quote is never closed
        'L55555555E,Shoqata e Fierit,,,Fier,,,,,,,aktive'])
    with pytest.raises(RegistryImportError, match='line 2: .*is a quote \\(\"\\) not closed'):
        import_registry(database, swallowed)
    # Open in the last field of the last row: the rest of the file is not read into it.
    last = write_csv(tmp_path / "last.csv", [
        'L55555555E,Shoqata e Fierit,,,Fier,,,,,,,"aktive', GOOD[2]])
    with pytest.raises(RegistryImportError, match='line 2: .*is a quote \\(\"\\) not closed'):
        import_registry(database, last)
    runaway = write_csv(tmp_path / "big.csv", [GOOD[1], 'L44444444D,"' + "x" * 200_000])
    with pytest.raises(RegistryImportError, match='line 3: .*is a quote \\(\"\\) not closed'):
        import_registry(database, runaway)
    assert set(organisations(database)) == {"K11111111A"}


def test_stats_count_by_status_legal_form_and_city(database: Database, tmp_path: Path) -> None:
    import_registry(database, write_csv(tmp_path / "r.csv", GOOD))
    stats = registry_stats(database)
    assert stats.total == 3
    assert stats.by_status == {"aktive": 2, "pezulluar": 1}
    assert stats.by_legal_form == {"Fondacion": 1, "Qendër": 1, "Shoqatë": 1}
    assert stats.by_city == {"Korçë": 1, "Shkodër": 1, "Tiranë": 1}


def test_stats_count_organisations_without_a_value_with_those_written_as_a_dash(
        database: Database, tmp_path: Path) -> None:
    """"-" stands for no value in the stats: organisations with no status and those whose
    status is written "-" are counted together, not one group in place of the other."""
    lines = [GOOD[0], GOOD[1].replace(",pezulluar", ",-"), GOOD[2].replace(",aktive", ",")]
    import_registry(database, write_csv(tmp_path / "r.csv", lines))
    stats = registry_stats(database)
    assert stats.total == 3
    assert stats.by_status == {"-": 2, "aktive": 1}


def test_the_sample_registry_is_imported_once_when_the_table_is_empty(
        database: Database, project_root: Path) -> None:
    sample = project_root / "bot" / "data" / "sample_registry.csv"
    report = ensure_sample_registry(database, sample)
    assert report is not None and report.errors == [] and report.inserted >= 20
    assert all(org.sample for org in organisations(database).values())
    assert ensure_sample_registry(database, sample) is None


def test_the_sample_invents_organisations_it_cannot_pass_for_real(project_root: Path) -> None:
    """No real NIPT, phone or e-mail: NIPTs start with X, phones are +355 00 ..., e-mail
    addresses are at example.org (a domain reserved for examples)."""
    with open(project_root / "bot" / "data" / "sample_registry.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        assert row["nipt"].startswith("X"), row
        assert row["phone"].startswith("+355 00 "), row
        assert row["email"].endswith("@example.org"), row


def write_config(tmp_path: Path, url: str, sample: Path | None = None) -> Path:
    path = tmp_path / "config.yaml"
    text = f"database:\n  url: '{url}'\n"
    if sample is not None:
        text += f"registry:\n  sample_csv: '{sample}'\n"
    path.write_text(text, encoding="utf-8")
    return path


def run(config: Path, *args: str) -> tuple[int, str, str]:
    """``ngo-faq-bot --config CONFIG registry ARGS``: its exit status, output and errors."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), "registry", *args])
    return code, out.getvalue(), err.getvalue()


def test_stats_say_the_sample_is_demo_data_until_a_real_import_replaces_it(
        database_url: str, tmp_path: Path, project_root: Path) -> None:
    sample = project_root / "bot" / "data" / "sample_registry.csv"
    ensure_sample_registry(Database(database_url), sample)
    config = write_config(tmp_path, database_url)
    code, out, _ = run(config, "stats")
    assert code == 0 and "DEMO sample" in out
    code, out, _ = run(config, "import", str(write_csv(tmp_path / "real.csv", GOOD)))
    assert code == 0, out
    assert "invented organisations of the demo sample were deleted" in out
    code, out, _ = run(config, "stats")
    assert "Organisations: 3" in out and "DEMO" not in out and "imported registry" in out
    code, out, _ = run(config, "search", "Qendra Rinore Lulebora")
    assert "X00000001D" not in out and "Lulebora (" not in out


def test_an_import_that_brings_no_organisation_keeps_the_demo_sample(
        database_url: str, tmp_path: Path, project_root: Path) -> None:
    ensure_sample_registry(Database(database_url), project_root / "bot" / "data"
                           / "sample_registry.csv")
    config = write_config(tmp_path, database_url)
    for name, rows in (("empty.csv", []), ("bad.csv", [GOOD[0].replace("K11111111A", "K1")])):
        code, out, _ = run(config, "import", str(write_csv(tmp_path / name, rows)))
        assert "demo sample were deleted" not in out, out
        code, out, _ = run(config, "stats")
        assert "Organisations: 25" in out and "DEMO sample" in out


def test_replace_marks_missing_organisations_removed_and_a_reimport_restores_them(
        database_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url)
    more = [f"K{n:08d}Z,Shoqata Numër {n},,Shoqatë,Tiranë,,,,,,,aktive" for n in range(5)]
    everything = write_csv(tmp_path / "all.csv", GOOD + more)
    assert run(config, "import", str(everything))[0] == 0
    code, out, _ = run(config, "import", "--replace",
                       str(write_csv(tmp_path / "most.csv", GOOD[1:] + more)))
    assert code == 0 and "1 removed (not in the file)" in out
    code, out, _ = run(config, "search", "Shoqata e Bletarëve të Korçës")
    assert "K11111111A" not in out
    code, out, _ = run(config, "stats")
    assert "Organisations: 7" in out and "Removed (kept, no longer found): 1" in out
    code, out, _ = run(config, "import", str(everything))
    assert code == 0 and "1 restored" in out
    code, out, _ = run(config, "search", "Shoqata e Bletarëve të Korçës")
    assert "K11111111A" in out
    # A row skipped for a bad value is still in the file: its organisation stays.
    bad_date = GOOD[1].replace("2011-09-14", "14-09-2011")
    code, out, _ = run(config, "import", "--replace",
                       str(write_csv(tmp_path / "typo.csv", [GOOD[0], bad_date, *GOOD[2:], *more])))
    assert "1 skipped" in out and "removed" not in out, out
    code, out, _ = run(config, "search", "Qendra Rinore Ura")
    assert "L22222222B" in out
    # A row whose NIPT cannot be read may be any organisation missing from the file:
    # nothing is removed, and the admin is told why.
    cut = GOOD[1].replace("L22222222B", "L22222222")
    code, out, err = run(config, "import", "--replace",
                         str(write_csv(tmp_path / "cut.csv", [GOOD[0], cut, *GOOD[2:]])))
    assert code == 1 and "1 skipped" in out and "removed" not in out, out
    assert "6 organisation(s) not in the file were not removed" in err and "--yes" in err
    assert "Organisations: 8" in run(config, "stats")[1]
    code, out, err = run(config, "import", "--replace", "--yes", str(tmp_path / "cut.csv"))
    assert "6 removed (not in the file)" in out, out


def test_a_replace_removing_more_than_half_asks_for_yes(database_url: str,
                                                         tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url)
    assert run(config, "import", str(write_csv(tmp_path / "all.csv", GOOD)))[0] == 0
    one = str(write_csv(tmp_path / "one.csv", GOOD[:1]))
    code, out, err = run(config, "import", "--replace", one)
    assert code == 1 and "would remove 2 organisation(s), more than half" in err
    assert "--yes" in err
    assert "Organisations: 3" in run(config, "stats")[1]
    code, out, _ = run(config, "import", "--replace", "--yes", one)
    assert code == 0 and "2 removed" in out
    assert "Organisations: 1" in run(config, "stats")[1]


def test_a_header_with_a_column_twice_is_refused(database_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url)
    path = tmp_path / "twice.csv"
    path.write_text("nipt,name,city,name,,\nK11111111A,Shoqata A,Korçë,Shoqata B,,\n",
                    encoding="utf-8")
    code, _, err = run(config, "import", str(path))
    assert (code, err) == (1, f"error: {path}: line 1: the header has the column 'name' twice; "
                              "keep one\n")


def test_remove_takes_one_organisation_out_of_the_search(database_url: str,
                                                         tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url)
    assert run(config, "import", str(write_csv(tmp_path / "all.csv", GOOD)))[0] == 0
    code, out, _ = run(config, "remove", "j33333333c")
    assert code == 0 and "J33333333C (Fondacioni \"Drita\") removed" in out
    assert "J33333333C" not in run(config, "search", "Fondacioni Drita")[1]
    code, _, err = run(config, "remove", "J33333333C")
    assert code == 1 and "already removed" in err
    code, _, err = run(config, "remove", "K99999999K")
    assert code == 1 and "no organisation with NIPT K99999999K" in err
    code, _, err = run(config, "remove", "12")
    assert (code, err) == (1, "error: malformed NIPT '12' (expected a letter, 8 digits, "
                              "a letter)\n")
    # One NIPT mistyped among several: the others are removed all the same, and found no more.
    code, out, err = run(config, "remove", "nope", "K11111111A")
    assert code == 1 and "malformed NIPT 'NOPE'" in err and "K11111111A" in out
    assert "K11111111A" not in run(config, "search", "Shoqata e Bletarëve")[1]




def test_an_index_that_cannot_be_built_after_an_import_is_a_clear_error(
        database_url: str, tmp_path: Path) -> None:
    """Another program left a row the search index cannot take (a NIPT of two characters):
    the import is in, and the admin reads that only the index could not be built, and why."""
    config = write_config(tmp_path, database_url)
    with Database(database_url) as db, db.session() as session:
        session.add(Organisation(nipt="K1", name="Shoqata e Shkruar me Dorë"))
    code, out, err = run(config, "import", str(write_csv(tmp_path / "r.csv", GOOD)))
    assert code == 1 and "3 new" in out
    assert err == ("error: the registry is updated, but its search index could not be built "
                   "and saved (ValueError: malformed NIPT 'K1'); the bot builds it when it "
                   "starts, and stops there too if the problem remains\n")
    assert set(organisations(Database(database_url))) == {"K1", "K11111111A", "L22222222B",
                                                         "J33333333C"}


def test_cli_import_prints_the_report(database_url: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = str(write_config(tmp_path, database_url))
    path = write_csv(tmp_path / "r.csv", [*GOOD, 'L1,Shoqata,,,,,,,,,,aktive'])
    assert main(["--config", config, "registry", "import", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "4 row(s): 3 new, 0 updated, 0 unchanged, 1 skipped" in out
    assert "line 5: malformed NIPT" in err
    assert "[" not in err  # no progress bar when stderr is not a terminal

    assert main(["--config", config, "registry", "import", "--strict", str(path)]) == 1
    assert "refused (--strict)" in capsys.readouterr().out
    # A column shifted on every row: the first bad rows, then how many more.
    shifted = write_csv(tmp_path / "shifted.csv",
                        [f"L{n},Shoqata,,,,,,,,,,aktive" for n in range(45)])
    assert main(["--config", config, "registry", "import", str(shifted)]) == 1
    out, err = capsys.readouterr()
    assert err.count("malformed NIPT") == 20 and "line 21: malformed NIPT 'L19'" in err
    assert f"{shifted}: ... and 25 more bad row(s) like these" in err
    assert "45 row(s): 0 new, 0 updated, 0 unchanged, 45 skipped" in out
    assert main(["--config", config, "registry", "import", str(write_csv(tmp_path / "ok.csv",
                                                                           GOOD))]) == 0
    assert "0 new, 0 updated, 3 unchanged, 0 skipped" in capsys.readouterr().out
    # A mistyped column is named, with the one meant; its values are not imported.
    typo = write_csv(tmp_path / "typo.csv", GOOD, header=HEADER.replace("address", "adress"))
    assert main(["--config", config, "registry", "import", str(typo)]) == 0
    err = capsys.readouterr().err
    assert "line 1: column 'adress' (did you mean 'address'?) is not a registry column" in err
    # A column name's terminal escape or bidirectional control is shown, not obeyed.
    hostile = write_csv(tmp_path / "hostile.csv", GOOD,
                        header=HEADER.replace("address", "\x1b[2J\u202eevil"))
    assert main(["--config", config, "registry", "import", str(hostile)]) == 0
    err = capsys.readouterr().err
    assert "column '\\x1b[2j\\u202eevil' (" in err  # lower-cased, as every column name
    assert "\x1b" not in err and "\u202e" not in err

    assert main(["--config", config, "registry", "stats"]) == 0
    out = capsys.readouterr().out
    assert "Organisations: 3" in out and "pezulluar" in out and "Shkodër" in out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_draws_only_on_a_terminal(database: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", GOOD)
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(stream, "Importing")
        import_registry(database, path, progress=bar)
        bar.finish()
    assert terminal.getvalue().endswith("\rImporting [" + "#" * 30 + "] 100% 3/3\n")
    assert pipe.getvalue() == ""


def test_a_spreadsheets_column_names_are_the_registrys(tmp_path: Path) -> None:
    """Excel's "Legal Form", "E-mail", "Registered On" were unknown columns: their values
    were dropped for every organisation while the import said it went well."""
    header = ("NIPT,Name,Acronym,Legal Form,City,Address,Phone,E-mail,Activity,Registered On,"
              "Court-Decision,Status")
    columns, rows, errors, count, unknown = read_registry_csv(
        write_csv(tmp_path / "excel.csv", GOOD, header=header))
    assert unknown == [] and errors == [] and count == len(GOOD)
    first = rows[0]
    assert first["legal_form"] == "Shoqatë" and first["email"] == "info@shbk.al"
    assert first["registered_on"] == date(2006, 5, 9)
    assert first["court_decision"] == "Vendim nr. 1, datë 09.05.2006"


def test_a_tab_separated_file_and_excels_separator_line(tmp_path: Path) -> None:
    """Both were refused with "the header has no column nipt, name", which it has."""
    tabbed = write_csv(tmp_path / "tabs.csv",
                       ["K11111111A\tShoqata e Bletarëve\t\t\tKorçë"],
                       header="\t".join(COLUMNS[:5]))
    _, rows, errors, _, unknown = read_registry_csv(tabbed)
    assert errors == [] and unknown == [] and rows[0]["city"] == "Korçë"
    noted = write_csv(tmp_path / "sep.csv", ["nipt;name", "K11111111A;Shoqata"], header="sep=;")
    with pytest.raises(RegistryImportError, match="line 1: 'sep=;' is a spreadsheet's note of "
                                                  "its separator, not the header: delete"):
        read_registry_csv(noted)
