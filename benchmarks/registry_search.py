"""Registry search: the in-memory index against a full rapidfuzz scan, and the CSV import.

    .venv/bin/python benchmarks/registry_search.py [--rows 20000 100000]

For each size it writes a synthetic registry with ../shared/bench/make_registry.py
into a temporary folder (never into the project), imports it into a temporary
SQLite database (timed), builds :class:`bot.registry.search.RegistryIndex`
(memory measured with tracemalloc) and runs the look-ups of
../shared/bench/registry_dev.jsonl through the index and through
``rapidfuzz.process.extract(query, names, scorer=WRatio)`` over every name.
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
from pathlib import Path

from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.registry.importer import import_registry  # noqa: E402
from bot.registry.evaluation import evaluate, read_cases  # noqa: E402
from bot.registry.search import RegistryIndex  # noqa: E402
from bot.storage import Database  # noqa: E402

BENCH = ROOT.parent / "shared" / "bench"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_queries(search, queries: list[str], repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        for query in queries:
            start = time.perf_counter()
            search(query)
            times.append((time.perf_counter() - start) * 1000)
    return times


def run(rows: int, workdir: Path, cases_path: Path) -> dict[str, float]:
    csv_path = workdir / f"registry_{rows}.csv"
    subprocess.run([sys.executable, str(BENCH / "make_registry.py"), "--rows", str(rows),
                    "--out", str(csv_path)], check=True)
    db = Database(f"sqlite:///{workdir / f'bench_{rows}.db'}")
    start = time.perf_counter()
    report = import_registry(db, csv_path)
    import_s = time.perf_counter() - start
    assert report.inserted == rows and not report.errors, report

    config = load_config(ROOT / "config.yaml", environ={}).registry
    records = RegistryIndex.records(db)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    index = RegistryIndex(records, config)
    build_s = time.perf_counter() - start
    index_mb = (tracemalloc.get_traced_memory()[0] - before) / 2 ** 20
    names = [record.name for record in records]
    nipts = [record.nipt for record in records]
    before = tracemalloc.get_traced_memory()[0]
    scan_names = [utils.default_process(name) for name in names]
    scan_mb = (tracemalloc.get_traced_memory()[0] - before) / 2 ** 20
    tracemalloc.stop()

    cases = read_cases(cases_path)
    queries = [case.query for case in cases]
    index_ms = time_queries(index.search, queries, repeat=5)
    quality = evaluate(index, cases)
    # The look-ups were labelled against registry.csv (the first 20,000 rows): a
    # "wrong" found naming an organisation only a larger registry has is a new match.
    with (BENCH / "registry.csv").open(encoding="utf-8") as handle:
        labelled = {row["nipt"] for row in csv.DictReader(handle)}
    beyond = sum(1 for case, result in quality.misses
                 if result.decision == "found" and result.results[0].nipt not in labelled)

    def scan(query: str):  # type: ignore[no-untyped-def]
        return process.extract(utils.default_process(query), scan_names, scorer=fuzz.WRatio,
                               processor=None, limit=5)

    scan_ms = time_queries(scan, queries, repeat=1)
    in_scope = [case for case in cases if case.expect]
    scan_right = sum(1 for case in in_scope
                     if (best := scan(case.query)) and nipts[best[0][2]] == case.expect)
    db.close()
    return {
        "rows": rows, "import_s": import_s, "build_s": build_s,
        "index_mb": index_mb, "scan_mb": scan_mb,
        "index_median": statistics.median(index_ms), "index_p99": percentile(index_ms, 0.99),
        "scan_median": statistics.median(scan_ms), "scan_p99": percentile(scan_ms, 0.99),
        "index_top1": quality.top1_accuracy, "index_wrong": quality.wrong_found_rate,
        "wrong_beyond": beyond, "wrong": quality.wrong_found,
        "scan_top1": scan_right / len(in_scope),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--cases", type=Path, default=BENCH / "registry_dev.jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as tmp:
        results = [run(rows, Path(tmp), args.cases) for rows in args.rows]
    print()
    print(f"{'rows':>8} | {'method':<22} | {'median ms':>9} | {'p99 ms':>8} | {'memory MB':>9} | "
          f"{'top-1':>6} | {'wrong found':>11}")
    print("-" * 92)
    for r in results:
        print(f"{r['rows']:>8,} | {'index (this module)':<22} | {r['index_median']:>9.2f} | "
              f"{r['index_p99']:>8.2f} | {r['index_mb']:>9.1f} | {r['index_top1']:>6.1%} | "
              f"{r['index_wrong']:>11.1%}")
        print(f"{'':>8} | {'full scan WRatio':<22} | {r['scan_median']:>9.2f} | "
              f"{r['scan_p99']:>8.2f} | {r['scan_mb']:>9.1f} | {r['scan_top1']:>6.1%} | "
              f"{'(no decision)':>11}")
        print(f"{'':>8} | {'speed-up (scan/index)':<22} | {r['scan_median'] / r['index_median']:>8.0f}x | "
              f"{r['scan_p99'] / r['index_p99']:>7.0f}x | "
              f"{r['index_mb'] / max(r['scan_mb'], 1e-9):>8.1f}x |")
    print()
    for r in results:
        if r["wrong_beyond"]:
            print(f"{r['rows']:,} rows: {r['wrong_beyond']} of the {r['wrong']} wrong 'found' name an "
                  "organisation that exists only beyond registry.csv (the labels' registry), "
                  "matching the query")
    for r in results:
        print(f"import of {r['rows']:,} rows into SQLite: {r['import_s']:.1f} s "
              f"({r['rows'] / r['import_s']:,.0f} rows/s); index build {r['build_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
