"""Registry search at national scale: this index against a full rapidfuzz scan and
PostgreSQL pg_trgm, on quality, speed, start-up time and memory.

    nice .venv/bin/python benchmarks/registry_search.py [--rows 20000 100000 500000]
        [--csv-dir /tmp/registries] [--postgres postgresql://postgres@127.0.0.1:5432/test]

For each size it writes a synthetic registry with ../shared/bench/make_registry.py
into a temporary folder (never into the project; ``--csv-dir`` reuses files made
before), imports it into a temporary SQLite database (timed), and then:

- **index**: builds and saves :class:`bot.registry.search.RegistryIndex` (what
  ``registry import`` does after writing), then loads it again as a restart does
  (timed; the memory it holds is measured with tracemalloc), and times the
  whole bot's start (:meth:`bot.conversation.Assistant.open`);
- **full scan**: ``rapidfuzz.process.extract(query, names, scorer=WRatio)`` over
  every name, the first taken as the answer (over each organisation's name, acronym
  and city, what our index reads, it found fewer: 35.2% right first on 20,000 rows);
- **pg_trgm**: each organisation's name, acronym and city (folded like ours) in a
  table of a database of its own on the PostgreSQL server, a GIN ``gin_trgm_ops``
  index, and
  ``WHERE query <% text ORDER BY word_similarity(query, text) DESC`` (the
  database is dropped after; skipped, saying why, when the server does not answer).

Every method is measured on its first OFFERED organisations (ours offers up to
twice as many when more fit a query equally well). Times are taken with a warm-up
look-up first and every look-up repeated REPEATS times; the index's memory is
measured apart, with tracemalloc, which slows what it traces; the whole bot's start
is timed until its semantic matcher is ready too (it builds it in a thread).

The look-ups of ../shared/bench/registry_dev.jsonl give: right first (the
expected organisation ranked first), reached (first or among the candidates
offered) and wrong found, strictly: any ``found`` naming an organisation other
than the labelled one, or for a look-up that has none. The look-ups were labelled
against the first 20,000 rows; the wrong ``found`` that name an organisation only
a larger registry has, word for word (as written or translated by the
glossary), are also shown apart (+N): the old lenient measure took them as right.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process, utils

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import BENCH, percentile  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.conversation import Assistant  # noqa: E402
from bot.registry import index as registry_index  # noqa: E402
from bot.registry.evaluation import Case, read_cases  # noqa: E402
from bot.registry.importer import import_registry  # noqa: E402
from bot.registry.search import RegistryIndex  # noqa: E402
from bot.registry.words import EQUIVALENTS, name_tokens  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.text import fold, read  # noqa: E402


@dataclass
class Quality:
    right_first: int = 0
    reached: int = 0
    wrong_found: int = 0
    found_beyond: int = 0     # of wrong_found: an organisation beyond the labels' registry,
                              # named exactly (the old lenient measure did not count them)
    median_ms: float = 0.0
    p99_ms: float = 0.0


OFFERED = 5
"""Organisations of each method's answer that count as offered (reached)."""
REPEATS = 3
"""Times each look-up is timed (the p99 of 150 look-ups once would be the second
slowest)."""


@dataclass
class Run:
    """What one registry size measured: times in seconds, memory in bytes or MB."""

    rows: int
    import_s: float
    first_s: float
    restart_s: float
    ready_s: float
    index_bytes: int
    saved_mb: float
    index: Quality
    scan: Quality
    scan_bytes: int
    pg: tuple[Quality, float, float] | str | None = None
    """pg_trgm's quality, index build seconds and index MB (:func:`pg_trgm`), or why it
    was skipped."""


def measure(search: Callable[[str], tuple[str | None, list[str]]], cases: list[Case],
            labelled: set[str], names: dict[str, str]) -> Quality:
    """``search(query)`` gives (decision, [nipt, ...]); decision None: no decision."""
    quality, times = Quality(), []
    search(cases[0].query)  # warm up
    for case in cases:
        for _ in range(REPEATS):
            start = time.perf_counter()
            decision, found = search(case.query)
            times.append((time.perf_counter() - start) * 1000)
        nipts = found[:OFFERED]
        if case.expect:
            quality.right_first += bool(nipts) and nipts[0] == case.expect
            quality.reached += case.expect in nipts
        if decision == "found" and nipts[0] != case.expect:
            quality.wrong_found += 1   # strict: any found other than the label is wrong
            if nipts[0] not in labelled and names_it(case.query, names.get(nipts[0], "")):
                quality.found_beyond += 1
    quality.median_ms, quality.p99_ms = statistics.median(times), percentile(times, 0.99)
    return quality


def names_it(query: str, name: str) -> bool:
    """Every word of ``name`` is in ``query``, as written or translated (the glossary)."""
    said = set(name_tokens(query))
    return all(word in said or not said.isdisjoint(EQUIVALENTS.get(word, ()))
               for word in name_tokens(name))


def make_csv(rows: int, folder: Path) -> Path:
    path = folder / f"registry_{rows}.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(BENCH / "make_registry.py"), "--rows", str(rows),
                        "--out", str(path)], check=True)
    return path


def pg_trgm(url: str, rows: list[dict[str, str]], cases: list[Case], labelled: set[str],
            names: dict[str, str]) -> tuple[Quality, float, float]:
    """Quality, index build seconds and index MB of pg_trgm over the folded names."""
    import psycopg

    database = f"registry_bench_{int(time.time())}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    try:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/" + database, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
            conn.execute("CREATE TABLE orgs (nipt text, name text)")
            with conn.cursor() as cursor, cursor.copy("COPY orgs (nipt, name) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row["nipt"], fold(searched(row))))
            start = time.perf_counter()
            conn.execute("CREATE INDEX orgs_name ON orgs USING gin (name gin_trgm_ops)")
            build_s = time.perf_counter() - start
            size = conn.execute("SELECT pg_relation_size('orgs_name')").fetchone()
            assert size is not None
            size_mb = size[0] / 2 ** 20

            def search(query: str) -> tuple[str | None, list[str]]:
                text = fold(query)
                found = conn.execute(
                    "SELECT nipt FROM orgs WHERE %s <%% name "
                    "ORDER BY word_similarity(%s, name) DESC LIMIT %s",
                    (text, text, OFFERED)).fetchall()
                return None, [nipt for (nipt,) in found]

            return measure(search, cases, labelled, names), build_s, size_mb
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database}")


def searched(row: dict[str, str]) -> str:
    """What pg_trgm searches of an organisation: what our index reads."""
    return " ".join(row[column] for column in ("name", "acronym", "city") if row.get(column))


def compared(url: str, rows: list[dict[str, str]], cases: list[Case], labelled: set[str],
             names: dict[str, str]) -> tuple[Quality, float, float] | str:
    """:func:`pg_trgm`, or why it could not be measured."""
    import psycopg

    try:
        return pg_trgm(url, rows, cases, labelled, names)
    except psycopg.OperationalError as exc:
        return f"pg_trgm skipped: {str(exc).strip().splitlines()[0]}"


def run(rows: int, folder: Path, cases: list[Case], labelled: set[str],
        postgres: str | None) -> Run:
    csv_path = make_csv(rows, folder)
    (folder / f"bench_{rows}.db").unlink(missing_ok=True)
    db = Database(f"sqlite:///{folder / f'bench_{rows}.db'}")
    start = time.perf_counter()
    report = import_registry(db, csv_path)
    import_s = time.perf_counter() - start
    assert report.inserted == rows and not report.errors, report
    config = load_config(PROJECT_ROOT / "config.yaml", environ={}).registry

    start = time.perf_counter()
    RegistryIndex.load(db, config)   # after an import: build and save
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    RegistryIndex.load(db, config)   # a restart: the saved index
    restart_s = time.perf_counter() - start
    tracemalloc.start()
    index = RegistryIndex.load(db, config)
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # The whole bot on a restart: database, FAQ, matchers and the registry index.
    bot_config = load_config(PROJECT_ROOT / "config.yaml", environ={"DATABASE_URL": db.url})
    start = time.perf_counter()
    assistant = Assistant.open(bot_config)
    assistant.semantic_ready.wait()
    ready_s = time.perf_counter() - start
    assistant.close()
    with db.session() as session:
        saved = session.get(registry_index.SavedRegistryIndex, 1)
        saved_mb = len(saved.data) / 2 ** 20 if saved else 0.0
    db.close()

    with csv_path.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    names = {row["nipt"]: row["name"] for row in table}

    def ours(query: str) -> tuple[str, list[str]]:
        result = index.search(read(query))
        return result.decision, [hit.nipt for hit in result.results]

    measured_index = measure(ours, cases, labelled, names)
    scan_texts = [utils.default_process(row["name"]) for row in table]
    nipts = [row["nipt"] for row in table]

    def scan(query: str) -> tuple[None, list[str]]:
        best = process.extract(utils.default_process(query), scan_texts, scorer=fuzz.WRatio,
                               processor=None, limit=OFFERED)
        return None, [nipts[found[2]] for found in best]

    measured_scan = measure(scan, cases, labelled, names)
    tracemalloc.start()
    copy = [utils.default_process(row["name"]) for row in table]
    scan_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del copy
    return Run(rows, import_s, first_s, restart_s, ready_s, index_bytes, saved_mb,
               measured_index, measured_scan, scan_bytes,
               compared(postgres, table, cases, labelled, names) if postgres else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 100000, 500000])
    parser.add_argument("--cases", type=Path, default=BENCH / "registry_dev.jsonl")
    parser.add_argument("--csv-dir", type=Path, help="keep the generated registries here")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a server for the pg_trgm comparison ('' to skip it)")
    args = parser.parse_args()
    cases = read_cases(args.cases)
    with (BENCH / "registry.csv").open(encoding="utf-8") as handle:
        labelled = {row["nipt"] for row in csv.DictReader(handle)}
    in_scope = sum(1 for case in cases if case.expect)
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        folder = args.csv_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results = []
        for rows in args.rows:
            results.append(run(rows, folder, cases, labelled, args.postgres or None))
            (folder / f"bench_{rows}.db").unlink(missing_ok=True)
    print(f"\n{len(cases)} look-ups, {in_scope} naming an organisation of the labels' registry\n")
    print(f"{'rows':>8} | {'method':<16} | {'right first':>11} | {'reached':>8} | "
          f"{'wrong found':>11} | {'median ms':>9} | {'p99 ms':>7} | {'x ours':>7} | "
          f"{'memory':>14}")
    print("-" * 114)
    for r in results:
        rows = r.rows
        lines = [("index (ours)", r.index, f"{r.index_bytes / rows:.0f} B/org")]
        lines.append(("full scan WRatio", r.scan, f"{r.scan_bytes / rows:.0f} B/org"))
        if isinstance(r.pg, tuple):
            lines.append(("pg_trgm GIN", r.pg[0], f"{r.pg[2]:.0f} MB on disk"))
        for method, q, memory in lines:
            wrong = (f"{q.wrong_found / len(cases):>6.1%}" + (f" +{q.found_beyond}" if
                     q.found_beyond else "   ")) if method.startswith("index") else "(no decision)"
            print(f"{rows:>8,} | {method:<16} | {q.right_first / in_scope:>11.1%} | "
                  f"{q.reached / in_scope:>8.1%} | {wrong:>11} | {q.median_ms:>9.2f} | "
                  f"{q.p99_ms:>7.1f} | {q.median_ms / r.index.median_ms:>6.1f}x | {memory:>14}")
        if isinstance(r.pg, str):
            print(f"{rows:>8,} | {r.pg}")
    print("\n(wrong found is strict: any 'found' other than the label. +N: of those, how many "
          "name word for word an organisation only the larger registry has; lenient rate = "
          "(wrong - N) / look-ups)")
    for r in results:
        print(f"{r.rows:>8,} rows: import into SQLite {r.import_s:.1f} s; then "
              f"(build + save the index, {r.saved_mb:.1f} MB) {r.first_s:.1f} s; "
              f"restart (load the saved index) {r.restart_s:.2f} s, "
              f"{r.index_bytes / 2 ** 20:.1f} MB; whole bot ready {r.ready_s:.2f} s"
              + (f"; pg_trgm GIN index build {r.pg[1]:.1f} s" if isinstance(r.pg, tuple)
                 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
