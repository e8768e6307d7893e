"""What every benchmark shares: where the project and the bench data are, and one
definition of a percentile, so that "p99" means the same in every table.

Each benchmark runs as a script: it puts the project on ``sys.path`` first, then
imports this as ``benchmarks.common``.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(os.environ.get("BENCH_DIR") or PROJECT_ROOT.parent / "shared" / "bench")
"""The benchmark data (``../shared/bench``, or ``BENCH_DIR``), read where it is."""


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value that at least ``share`` of the
    values do not exceed (of 50 values, p99 is the largest; of 1,000, the tenth largest).
    A benchmark that prints a p99 should time enough calls for it to mean something."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


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
