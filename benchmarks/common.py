"""What every benchmark shares: where the project and the bench data are, and one
definition of a percentile, so that "p99" means the same in every table.

Each benchmark runs as a script: it puts the project on ``sys.path`` first, then
imports this as ``benchmarks.common``.
"""

from __future__ import annotations

import math
import os
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
