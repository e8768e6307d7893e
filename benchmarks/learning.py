"""What learning from people's picks buys, on the bench FAQ and its two question sets.

Prints the four eval figures of each set without learning, with how often the ranking
puts the right entry first and among the first three (the most the decision can
answer right and reach; with the model, after learning too); after learning the other
set (its questions with an entry as learned phrasings, those without as out-of-scope
questions) (what ``ngo-faq-bot learn --cases A`` then ``eval --cases B`` gives); the same
questions asked again after learning them; and with 5-fold cross-validation on the union
of both sets (learn four fifths, measure the fifth). These figures are in sample for the
decision: bot/data/calibration.json was fitted on both sets (``faq_tune.py``, whose
held-out figures with memory are what to expect on questions nobody taught the bot);
the folds hold out only what was learned. Also the time ``learn`` takes, the time to
rebuild the index with the learned phrasings, and the median and p99 decision time
with and without them, each question embedded afresh (the recent questions' vectors
are dropped before each timing).

    .venv/bin/python benchmarks/learning.py [--folds 5] [--bench ../shared/bench] [--model]

Lexical matching by default; ``--model`` uses the matcher config.yaml asks for
(with its embedding model), which takes a minute or two.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import BENCH, percentile  # noqa: E402
from bot import learning  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.decision import OFFERED  # noqa: E402
from bot.evaluate import Case, Report, evaluate, load_cases  # noqa: E402
from bot.faq import Faq, load_faq  # noqa: E402
from bot.matcher import FaqMatcher  # noqa: E402
from bot.storage import Database  # noqa: E402

NAMES = ("answered right", "reached", "wrong answers", "out-of-scope handed on")


Learned = tuple[list[tuple[str, str, str]], list[str]]


def learned_from(cases: list[Case], folder: Path, name: str) -> tuple[Learned, float]:
    """Replay ``cases`` into a fresh database as ``learn --cases`` does; the learned
    phrasings and out-of-scope questions, and the seconds it took."""
    config = load_config(PROJECT_ROOT / "config.yaml", environ={})
    with Database(f"sqlite:///{folder / name}.db") as db:
        start = time.perf_counter()
        learning.learn_cases(db, cases, config.learning.similarity)
        seconds = time.perf_counter() - start
        return (learning.active(db, config.learning.min_votes),
                learning.out_of_scope(db)), seconds


def row(label: str, report: Report) -> str:
    return f"{label:<44}" + "".join(f"{report.percent(n):8.1f}" for n in NAMES)


def ranked(matcher: FaqMatcher, cases: list[Case]) -> str:
    """How often the right entry is ranked first and among the first three, over the
    in-scope ``cases``: the most the decision can answer right and reach. With the
    model, what was learned does not reorder the ranking (see
    :meth:`FaqMatcher.set_learned`), so this bounds the figures after learning too;
    lexical matching adds learned phrasings to the index, and can reach beyond it."""
    asked = [c for c in cases if c.expect is not None]
    first = three = 0
    for case in asked:
        ids = [m.entry.id for m in matcher.rank(case.question).matches[:OFFERED]]
        first += ids[:1] == [case.expect]
        three += case.expect in ids
    return (f"right entry ranked first {100 * first / len(asked):.1f}%, "
            f"among the first {OFFERED} {100 * three / len(asked):.1f}%")


def latencies(matcher: FaqMatcher, questions: list[str]) -> tuple[float, float]:
    """Median and p99 ms of a decision, each question embedded afresh (evaluating the
    same questions just before kept their vectors)."""
    if matcher.vectors is not None:
        matcher.vectors.forget_queries()
    times = []
    for q in questions:
        start = time.perf_counter()
        matcher.decide(q)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), percentile(times, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--bench", type=Path, default=BENCH, help="the bench data folder")
    parser.add_argument("--model", action="store_true",
                        help="match with the embedding model config.yaml names")
    args = parser.parse_args()
    config = load_config(PROJECT_ROOT / "config.yaml", environ={})
    faq = load_faq(args.bench / "faq.yaml")
    sets = {name: load_cases(args.bench / f"{name}.jsonl") for name in ("faq_dev", "faq_traffic")}
    def make(faq: Faq) -> FaqMatcher:
        return FaqMatcher.configured(faq, config.matching) if args.model else FaqMatcher(
            faq, config.matching)

    plain = make(faq)
    if args.model and plain.vectors is None:
        raise SystemExit(f"the model {config.matching.embedding!r} cannot be loaded")
    used = f"with the model {plain.vectors.embedder.name}" if plain.vectors else "lexical"
    print(f"matcher: {used}; the decision's calibration was fitted on both sets (in sample)\n")

    print(f"{'':<44}" + "".join(f"{n.split()[0][:7]:>8}" for n in NAMES))
    for name, cases in sets.items():
        print(row(f"{name}, nothing learned", evaluate(plain, cases)))
        print(f"    {ranked(plain, cases)}")
    with tempfile.TemporaryDirectory() as folder:
        for taught, measured in (("faq_dev", "faq_traffic"), ("faq_traffic", "faq_dev")):
            learned, seconds = learned_from(sets[taught], Path(folder), taught)
            matcher = make(faq)
            start = time.perf_counter()
            matcher.set_learned(*learned)
            rebuild = (time.perf_counter() - start) * 1000
            print(row(f"{measured}, after learn --cases {taught}",
                      evaluate(matcher, sets[measured])))
            print(f"    learn: {len(learned[0])} phrasings, {len(learned[1])} out of scope "
                  f"in {seconds:.2f} s; set_learned with them took {rebuild:.0f} ms "
                  "(embedding them, the first time)")
            questions = [c.question for c in sets[measured]]
            before, after = latencies(plain, questions), latencies(matcher, questions)
            print(f"    decision ms median / p99: {before[0]:.2f} / {before[1]:.2f} nothing "
                  f"learned, {after[0]:.2f} / {after[1]:.2f} with them")

        learned, _ = learned_from(sets["faq_dev"], Path(folder), "again")
        matcher = make(faq)
        matcher.set_learned(*learned)
        print(row("faq_dev asked again after learning it", evaluate(matcher, sets["faq_dev"])))

        union = sets["faq_dev"] + sets["faq_traffic"]
        random.Random(7).shuffle(union)
        outcomes_plain, outcomes_learned = Report(), Report()
        for fold in range(args.folds):
            held = union[fold::args.folds]
            rest = [c for i, c in enumerate(union) if i % args.folds != fold]
            learned, _ = learned_from(rest, Path(folder), f"fold{fold}")
            matcher = make(faq)
            matcher.set_learned(*learned)
            outcomes_learned.outcomes += evaluate(matcher, held).outcomes
            outcomes_plain.outcomes += evaluate(plain, held).outcomes
        print(row("both sets, nothing learned", outcomes_plain))
        print(row(f"both sets, {args.folds}-fold: learn 4/5, measure 1/5", outcomes_learned)
              + "  (what was learned held out; the calibration in sample)")


if __name__ == "__main__":
    main()
