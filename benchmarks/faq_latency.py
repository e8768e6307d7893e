"""Per-question latency of the FAQ decision, beside a plain rapidfuzz extractOne.

Runs on the bench FAQ (../shared/bench/faq.yaml) and on a FAQ 50 times larger
generated from it: copies of every entry with new ids and perturbed phrasings
(a word dropped, two words swapped, a letter changed, a word from another
entry added), so the larger index has a realistic, not duplicated, vocabulary.
The questions are the bench dev questions, each decided once on a fresh index
(typo look-ups are cached per index, so this includes their first cost).

    .venv/bin/python benchmarks/faq_latency.py [--copies 50]
"""

from __future__ import annotations

import argparse
import os
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rapidfuzz import fuzz, process, utils

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bot.config import load_config  # noqa: E402
from bot.faq import Entry, Faq, load_faq  # noqa: E402
from bot.matcher import FaqMatcher  # noqa: E402

BENCH = Path(os.environ.get("BENCH_DIR") or PROJECT_ROOT.parent / "shared" / "bench")


def perturb(text: str, rng: random.Random, pool: list[str]) -> str:
    """The phrasing with one random edit of the kind people make."""
    words = text.split()
    kind = rng.randrange(4)
    if kind == 0 and len(words) > 3:
        del words[rng.randrange(len(words))]
    elif kind == 1 and len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 2:
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) > 3:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + rng.choice("aeiourstn") + word[j + 1:]
    else:
        words.insert(rng.randrange(len(words) + 1), rng.choice(pool))
    return " ".join(words)


def enlarge(faq: Faq, copies: int, seed: int = 1) -> Faq:
    """``copies`` perturbed copies of every entry (the originals included)."""
    rng = random.Random(seed)
    pool = [w for e in faq.entries for _, text in e.phrasings() for w in text.split()]
    entries: list[Entry] = list(faq.entries)
    for copy in range(1, copies):
        for entry in faq.entries:
            questions = {lang: tuple(perturb(t, rng, pool) for t in texts)
                         for lang, texts in entry.questions.items()}
            entries.append(replace(entry, id=f"{entry.id}-{copy}", questions=questions))
    return Faq(tuple(entries))


def latencies(decide: Callable[[str], object], questions: list[str]) -> list[float]:
    """Milliseconds per call, one call per question.

    As timeit does, the garbage collector is off while timing: a full
    collection of the large index's objects would land on whichever call
    happens to trigger it.
    """
    times = []
    gc.collect()
    gc.disable()
    try:
        for question in questions:
            start = time.perf_counter()
            decide(question)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        gc.enable()
    return times


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def extract_one(faq: Faq) -> Callable[[str], object]:
    """The naive baseline: best raw phrasing by WRatio."""
    phrasings = [text for e in faq.entries for _, text in e.phrasings()]
    return lambda q: process.extractOne(q, phrasings, scorer=fuzz.WRatio,
                                        processor=utils.default_process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    args = parser.parse_args()
    if not BENCH.is_dir():
        print(f"bench data not found at {BENCH}", file=sys.stderr)
        return 1
    questions = [json.loads(line)["q"] for line in
                 (BENCH / "faq_dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    matching = load_config().matching
    base = load_faq(BENCH / "faq.yaml")
    faqs = [("bench", base), (f"bench x{args.copies}", enlarge(base, args.copies))]

    print(f"{len(questions)} questions, each decided once; times in ms "
          "(build: building the index once per FAQ load)\n")
    header = (f"{'FAQ':<12}{'entries':>8}{'phrasings':>10}  {'method':<26}"
              f"{'build':>9}{'median':>9}{'p99':>9}{'extractOne median / median':>28}")
    print(header)
    print("-" * len(header))
    for name, faq in faqs:
        start = time.perf_counter()
        matcher = FaqMatcher(faq, matching)
        build = (time.perf_counter() - start) * 1000
        ours = latencies(matcher.decide, questions)
        naive = latencies(extract_one(faq), questions)
        base_median = statistics.median(naive)
        for method, times, built in (("FaqMatcher.decide", ours, f"{build:9.0f}"),
                                     ("extractOne WRatio (raw)", naive, f"{'-':>9}")):
            median = statistics.median(times)
            print(f"{name:<12}{len(faq):>8}{faq.phrasing_count:>10}  {method:<26}{built}"
                  f"{median:9.3f}{p99(times):9.3f}{base_median / median:27.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
