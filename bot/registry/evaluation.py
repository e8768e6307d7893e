"""Measure registry search on labelled look-ups (JSON lines: {"q": ..., "expect": nipt|null}).

Wrong ``found`` is counted strictly: a ``found`` naming any organisation other than
``expect`` is wrong, whatever that organisation is called, and so is a ``found`` for a
look-up that expects none. A look-up is *reached* when its organisation comes first or
is among the candidates offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.cases import read_cases as cases_file
from bot.registry import NIPT_FORM
from bot.registry.search import RegistryIndex, SearchResult
from bot.text import read


@dataclass(frozen=True)
class Case:
    query: str
    expect: str | None


@dataclass
class EvalReport:
    cases: int = 0
    in_scope: int = 0          # cases that name a registered organisation
    right_first: int = 0       # ... whose organisation came first (found or candidates)
    reached: int = 0           # ... whose organisation came first or was offered
    found: int = 0
    wrong_found: int = 0       # found with another organisation, or found for a null case
    misses: list[tuple[Case, SearchResult]] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.right_first / self.in_scope if self.in_scope else 0.0

    @property
    def reached_rate(self) -> float:
        return self.reached / self.in_scope if self.in_scope else 0.0

    @property
    def wrong_found_rate(self) -> float:
        return self.wrong_found / self.cases if self.cases else 0.0


def read_cases(path: str | Path) -> list[Case]:
    """Read a JSON-lines file of registry look-ups (see :mod:`bot.cases`)."""
    return [Case(query, expect) for query, expect in cases_file(
        path, "a NIPT (a letter, 8 digits, a letter)", re.compile(NIPT_FORM))]


def evaluate(index: RegistryIndex, cases: list[Case]) -> EvalReport:
    report = EvalReport()
    for case in cases:
        result = index.search(read(case.query))
        first = result.results[0].nipt if result.results else None
        report.cases += 1
        wrong = False
        if case.expect is not None:
            report.in_scope += 1
            if first == case.expect.upper():
                report.right_first += 1
            else:
                wrong = True
            report.reached += any(hit.nipt == case.expect.upper() for hit in result.results)
        if result.decision == "found":
            report.found += 1
            if case.expect is None or first != case.expect.upper():
                report.wrong_found += 1
                wrong = True
        if wrong:
            report.misses.append((case, result))
    return report
