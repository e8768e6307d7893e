"""Measure answer quality on a set of cases, as the bench README scores it.

A case is ``{"q": "...", "expect": "<entry id>"}`` or ``"expect": null`` for a
question no entry answers (the right move is to hand it to staff).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bot.cases import read_cases
from bot.matcher import Decision, FaqMatcher


@dataclass(frozen=True)
class Case:
    question: str
    expect: str | None


@dataclass(frozen=True)
class Outcome:
    case: Case
    decision: Decision

    @property
    def answered_id(self) -> str | None:
        d = self.decision
        return d.top.entry.id if d.decision == "answer" and d.top else None

    @property
    def offered_ids(self) -> list[str]:
        return [m.entry.id for m in self.decision.suggestions]

    @property
    def answered_right(self) -> bool:
        return self.case.expect is not None and self.answered_id == self.case.expect

    @property
    def reached(self) -> bool:
        return self.answered_right or (
            self.case.expect is not None and self.decision.decision == "suggest"
            and self.case.expect in self.offered_ids)

    @property
    def wrong_answer(self) -> bool:
        return self.answered_id is not None and self.answered_id != self.case.expect

    @property
    def handed_on(self) -> bool:
        return self.case.expect is None and self.decision.decision == "escalate"

    @property
    def failed(self) -> bool:
        if self.case.expect is None:
            return not self.handed_on
        return not self.answered_right


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def in_scope(self) -> int:
        return sum(1 for o in self.outcomes if o.case.expect is not None)

    @property
    def out_of_scope(self) -> int:
        return len(self.outcomes) - self.in_scope

    def figures(self) -> list[tuple[str, int, int]]:
        """(name, count, out of) for the four figures of the bench README."""
        return [
            ("answered right", sum(o.answered_right for o in self.outcomes), self.in_scope),
            ("reached", sum(o.reached for o in self.outcomes), self.in_scope),
            ("wrong answers", sum(o.wrong_answer for o in self.outcomes), len(self.outcomes)),
            ("out-of-scope handed on", sum(o.handed_on for o in self.outcomes),
             self.out_of_scope),
        ]

    def percent(self, name: str) -> float:
        count, total = next((c, t) for n, c, t in self.figures() if n == name)
        return 100.0 * count / total if total else 0.0


def load_cases(path: str | os.PathLike[str]) -> list[Case]:
    """Read a JSON-lines file of FAQ cases (see :mod:`bot.cases`)."""
    return [Case(question, expect) for question, expect in read_cases(path, "a FAQ id")]


def evaluate(matcher: FaqMatcher, cases: list[Case]) -> Report:
    return Report([Outcome(case, matcher.decide(case.question)) for case in cases])


def format_figures(report: Report) -> list[str]:
    """The four figures, one a line: name, percentage, counts."""
    return [f"{name + ':':<24}{(100.0 * count / total if total else 0.0):6.1f}%  "
            f"({count}/{total})"
            for name, count, total in report.figures()]
