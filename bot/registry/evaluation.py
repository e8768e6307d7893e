"""Measure registry search on labelled look-ups (JSON lines: {"q": ..., "expect": nipt|null})."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.registry.search import RegistryIndex, SearchResult


@dataclass(frozen=True)
class Case:
    query: str
    expect: str | None


@dataclass
class EvalReport:
    cases: int = 0
    in_scope: int = 0          # cases that name a registered organisation
    right_first: int = 0       # ... whose organisation came first (found or candidates)
    found: int = 0
    wrong_found: int = 0       # found with another organisation, or found for a null case
    misses: list[tuple[Case, SearchResult]] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.right_first / self.in_scope if self.in_scope else 0.0

    @property
    def wrong_found_rate(self) -> float:
        return self.wrong_found / self.cases if self.cases else 0.0


def read_cases(path: str | Path) -> list[Case]:
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            expect = item.get("expect") or None
            if expect is not None and not isinstance(expect, str):
                raise TypeError(f"expect must be a NIPT or null, not {expect!r}")
            cases.append(Case(str(item["q"]), expect))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: line {number}: not a case ({exc})") from None
    return cases


def evaluate(index: RegistryIndex, cases: list[Case]) -> EvalReport:
    report = EvalReport()
    for case in cases:
        result = index.search(case.query)
        first = result.results[0].nipt if result.results else None
        report.cases += 1
        wrong = False
        if case.expect is not None:
            report.in_scope += 1
            if first == case.expect.upper():
                report.right_first += 1
            else:
                wrong = True
        if result.decision == "found":
            report.found += 1
            if case.expect is None or first != case.expect.upper():
                report.wrong_found += 1
                wrong = True
        if wrong:
            report.misses.append((case, result))
    return report
