"""Calibrated decisions: answer, suggest or escalate, from what the ranking knows.

A score threshold alone ("answer at 60") throws away most of what the ranking
knows: whether the lexical and the semantic ranking agree on the first entry,
how far it leads, how much of the question the FAQ's words cover at all... So
the decision is made on two probabilities, each a small logistic regression
over the features of :func:`features`:

* ``right`` - P(the first entry is the one that answers the question);
* ``reach`` - P(the entry that answers it is among the first ``OFFERED``).

The bot answers when ``right`` reaches the answer threshold, offers the first
entries as choices when ``reach`` reaches the suggest threshold, and hands the
question to the staff otherwise. An out-of-scope question has no right entry,
so both probabilities also say how likely the question is in scope at all.

There are two models: one for the matcher with an embedding model
(``semantic``) and one for the lexical matcher alone (``lexical``, fewer
features). Their coefficients and thresholds live in ``bot/data/calibration.json``,
written by ``benchmarks/faq_tune.py --write``: features standardised, L2
regularisation and thresholds chosen by stratified 5-fold cross-validation over
both bench development sets, with thresholds set on out-of-fold probabilities
to keep wrong answers at or under 2% and to hand at least 80% of out-of-scope
questions to the staff (the file records the figures on held-out folds).
``matching.answer`` and ``matching.suggest`` in config.yaml override the
thresholds (in %).

With a model, the regressions also read the question's own vector (the embedding
of its asking part, :func:`bot.matcher.asked_part`) with a weight for each of its
numbers (``Model.query_right``, ``query_reach``): which kinds of question the FAQ
answers at all. A question about a company's tax, a job at the agency or the state
of one's own application is about as close to its first entry as one the entry answers, and
the ranking's features told the two apart poorly (area under the curve of
in-scope against out-of-scope questions 0.79 held out; 0.89 with the vector).
The weights are fitted with the others, on the same labelled questions, with a
stronger L2 of their own (``QUERY_L2`` in ``benchmarks/faq_tune.py``), so a
deployment that refits on its own labelled questions teaches them its own
scope. Their cost is one dot product. The held-out figures are in
``calibration.json`` and in the README.

What the bot has learned is evidence too (:class:`Memory`): the questions people
taught it for entries (learned phrasings) and the questions the staff handled
without an entry (out-of-scope questions). A bot with enough of both decides with
a third model (``learned``): the semantic features and, among the ``NEIGHBOURS``
learned questions closest to the question (cosines of the embedding model), how
many were out of scope (weighed by how many of each kind the memory holds) and
the share taught for the ranking's first entry.
``benchmarks/faq_tune.py`` fits it on rows whose memory holds other cases only;
a fresh bot decides with the semantic model, as before it learned anything.
Measured held out, nearest neighbours among people's questions are right about
the entry one time in five (their style weighs as much as their topic), but
whether they were in scope tells in-scope from out-of-scope questions better
than any feature of the ranking.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from bot.matcher import Ranking

OFFERED = 3
"""Entries offered as choices (at most; ``matching.max_suggestions``)."""

LEXICAL_FEATURES = (
    "score", "lead", "lead3", "lexical", "lexical_best", "lexical_lead", "lexical_agrees",
    "coverage", "best_coverage", "phrasing_coverage", "unknown", "words", "staff",
    "kind_match", "kind_missed", "char_cosine", "char_agrees", "char_gap")
"""... ``kind_match`` and ``kind_missed``: whether the first entry's phrasings ask for the
kind of thing the question asks (where, when, who...; see ``Ranking.signals``). Held out
(both sets, 5-fold, mean of three fold seeds), they raised the lexical model's answered
right from 26% to 31% at the same wrong answers and questions handed on.
The last three: how close in spelling the question is to the first entry's texts
(character n-grams, see ``FaqMatcher._char_signals``): Gheg spellings, typos and
inflections the whole-term index misses. Held out the same way, they raised answered
right / reached from 28.9 / 54.4% to 29.7 / 56.9% (lexical model) and from 37.5 / 53.5%
to 39.2 / 55.0% (with the model and its cascade). Tried and left out: the z-score and
entropy of the character cosines (more reached on average, but out of the limits on
wrong answers or questions handed on in two of the three seeds), a separate character
cosine to the answer (nothing more, twice the cost), the closest single phrasing instead
of the entry's texts, and the phrasings and keywords without the answer (worse than
without the features)."""
SEMANTIC_FEATURES = LEXICAL_FEATURES + (
    "semantic", "semantic_agrees", "cosine", "answer_cosine", "best_cosine", "cosine_lead",
    "top3_agree", "semantic_rank", "lexical_rank",
    "phrasing_z", "phrasing_gap", "phrasing_entropy", "answer_z", "answer_gap", "answer_entropy",
    "semantic_z", "semantic_gap", "semantic_entropy",
    "sentence_cosine", "sentence_pair", "sentence_cosine3",
    "doc_cosine", "doc_best", "doc_lead", "doc_agrees", "doc_z", "doc_gap", "doc_entropy")
"""With a model, beside the ranking's first entries: how far the first stands out among
the question's similarities to every entry (:func:`spread`) and its cosines to the
answer sentences of the first entries (see ``Ranking.signals``).
Held out (both sets, 5-fold, mean of three fold seeds, the semantic model alone), they
raised answered right / reached from 35 / 57% to 38 / 61% at the same wrong answers and
out-of-scope questions handed on (the area under the curve of in-scope against
out-of-scope questions from 0.78 to 0.80): an out-of-scope question near the FAQ's
topics is about as close to its first entry as an in-scope one, but less close to one
of its answer's sentences, and the first entry stands out less from the rest. Tried
and left out, as beside these they moved nothing held out: the share of the question's
weight the first entry's texts lack and the rarest such word, the share of the asking
part unknown to the FAQ, whether a sentence asks at all, first-person possessives,
proper names, numbers and quoted names the first entry lacks; a gradient-boosted model
instead of the logistic regressions was worse. The question's cosines to each entry's
document (its phrasings then its answer, the passage e5 was trained to retrieve; last
seven features) raised held-out answered right / reached with the cascade from 36.8 /
54.5% to 39.9 / 56.0% at the same wrong answers (three fold seeds: +3 to +5 points of
the two together); they tell whether the first entry is right, not out-of-scope
questions (area under the curve unchanged); in the score blend they lowered top-1."""
MEMORY_FEATURES = ("memory_out_of_scope", "memory_top")
"""Features of a semantic ranking read from the memory (:class:`Memory`)."""
SPREAD_RANK = 10
"""The entry (by rank) whose similarity the first one's lead is measured to (:func:`spread`)."""
COSINE_TEMPERATURE = 0.01
"""Temperature of the softmax over cosines (:func:`spread`): e5 cosines of related and
unrelated texts differ by a few hundredths."""
SCORE_TEMPERATURE = 0.1
"""... and over semantic scores (0-1)."""
NEIGHBOURS = 5
"""Learned questions (nearest first) the memory features are read from."""
MEMORY_MIN = 25
"""A memory counts once it has at least this many questions of each kind: with
fewer out-of-scope questions (18 of 400, held out) they are too rarely among the
nearest to tell anything, and the bot handed on 70% of out-of-scope questions
instead of 82%."""


@dataclass(frozen=True)
class Memory:
    """What the bot learned, as vectors of the embedding model: one row per learned
    question (query vectors, L2-normalised) and the entry it was taught for, or None
    for a question handed to the staff (out of scope)."""

    vectors: np.ndarray
    entries: tuple[str | None, ...]

    @cached_property
    def handed_on(self) -> int:
        """How many of the learned questions were handed to the staff."""
        return sum(e is None for e in self.entries)

    @property
    def usable(self) -> bool:
        """Enough of both kinds for the features to mean what they were fitted on."""
        return min(self.handed_on, len(self.entries) - self.handed_on) >= MEMORY_MIN

    def features(self, query: np.ndarray, top: str) -> dict[str, float]:
        """The memory features of a question (its vector) whose first entry is ``top``:
        how likely it is out of scope by its nearest learned questions, as if the
        memory held as many of each kind (the share of each kind's questions among
        the nearest, normalised: the mix of a memory is the mix of what people
        picked and the staff answered, not of what is asked), and the share of the
        nearest taught for ``top``."""
        if not self.usable:
            return {}
        cosines = self.vectors @ query
        nearest = np.argpartition(-cosines, NEIGHBOURS - 1)[:NEIGHBOURS]
        found = [self.entries[i] for i in nearest.tolist()]
        out_rate = sum(e is None for e in found) / self.handed_on
        in_rate = sum(e is not None for e in found) / (len(self.entries) - self.handed_on)
        return {"memory_out_of_scope": out_rate / (out_rate + in_rate),
                "memory_top": sum(e == top for e in found) / NEIGHBOURS}


def spread(name: str, values: np.ndarray, temperature: float) -> dict[str, float]:
    """How far the highest of a question's similarities to every entry (``values``)
    stands out: its z-score among them, its lead over the ``SPREAD_RANK``-th, and
    the entropy of their softmax at ``temperature`` (as a share of its maximum,
    so that FAQs of any size read alike); features ``name_z``, ``name_gap``,
    ``name_entropy``."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    top = float(values.max())
    weights = np.exp((values - top) / temperature)
    weights /= weights.sum()
    entropy = float(-(weights * np.log(weights + 1e-12)).sum())
    return {f"{name}_z": (top - float(values.mean())) / (float(values.std()) + 1e-9),
            f"{name}_gap": gap(values),
            f"{name}_entropy": entropy / math.log(n) if n > 1 else 0.0}


def gap(values: np.ndarray) -> float:
    """The lead of the highest of a question's similarities to every entry over the
    ``SPREAD_RANK``-th."""
    n = len(values)
    k = min(SPREAD_RANK, n)
    return float(values.max() - np.partition(values, n - k)[n - k])


def features(ranking: Ranking, semantic: bool) -> dict[str, float]:
    """The features of a ranking (see :class:`bot.matcher.Ranking`), by name:
    scores on a 0-1 scale, cosines raw, ranks and counts as logarithms, those the
    matcher read beside the ranking (``Ranking.signals``) and with a model the
    memory features (:meth:`Memory.features`)."""
    ranked = ranking.matches
    top = ranked[0]
    scores = [m.score for m in ranked] + [0.0, 0.0]
    by_lexical = sorted(ranked, key=lambda m: m.lexical, reverse=True)
    lexical = [m.lexical for m in by_lexical] + [0.0]
    found = {
        "score": top.score / 100,
        "lead": (scores[0] - scores[1]) / 100,
        "lead3": (scores[0] - scores[2]) / 100,
        "lexical": top.lexical / 100,
        "lexical_best": lexical[0] / 100,
        "lexical_lead": (lexical[0] - lexical[1]) / 100,
        "lexical_agrees": float(by_lexical[0].entry == top.entry and top.lexical > 0),
        "coverage": top.coverage,
        "best_coverage": max(m.coverage for m in ranked),
        "phrasing_coverage": top.phrasing_coverage,
        "unknown": ranking.unknown,
        "words": math.log1p(ranking.words),
        "staff": float(ranking.wants_staff),
    } | ranking.signals
    if semantic:
        by_semantic = sorted(ranked, key=lambda m: m.cosine, reverse=True)
        cosines = [m.cosine for m in by_semantic] + [0.0]
        first_three = {m.entry.id for m in by_lexical[:OFFERED]}
        found |= {
            "semantic": top.semantic / 100,
            "semantic_agrees": float(by_semantic[0].entry == top.entry),
            "cosine": top.cosine,
            "answer_cosine": top.answer_cosine,
            "best_cosine": cosines[0],
            "cosine_lead": cosines[0] - cosines[1],
            "top3_agree": len(first_three & {m.entry.id for m in by_semantic[:OFFERED]})
            / OFFERED,
            "semantic_rank": math.log1p(by_semantic.index(top)),
            "lexical_rank": math.log1p(by_lexical.index(top) if top.lexical > 0
                                       else len(ranked)),
        } | ranking.memory
    return found


@dataclass(frozen=True)
class Model:
    """One calibrated model: the standardisation of its features, the coefficients
    (bias last) of its two regressions, and its thresholds (0-1)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    right: tuple[float, ...]
    reach: tuple[float, ...]
    answer: float
    suggest: float
    query_mean: tuple[float, ...] = ()
    query_right: tuple[float, ...] = ()
    query_reach: tuple[float, ...] = ()
    """With a model: each regression's weights on the question's own vector (the
    embedding of its asking part, centred on ``query_mean``; its scale folded into
    the weights), so that the decision knows which kinds of question the FAQ answers,
    not only how close the first entry is (see the module docstring). Without them
    (:meth:`without_query`) a question is scored as the average one."""

    def probabilities(self, found: dict[str, float],
                      query: np.ndarray | None = None) -> tuple[float, float]:
        """P(first entry right), P(right entry among the offered); ``query``: the
        question's vector (a model with query weights reads it)."""
        x = (np.array([found[n] for n in self.names]) - self.mean) / self.scale
        right, reach = _logit(x, self.right), _logit(x, self.reach)
        if self.query_right and query is not None:
            weights, offsets = self._query_terms
            right_term, reach_term = query @ weights - offsets
            right += float(right_term)
            reach += float(reach_term)
        return _logistic(right), _logistic(reach)

    @cached_property
    def _query_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """The query weights of both regressions as one (dimensions x 2) matrix, and
        what centring on ``query_mean`` takes off each (the mean times its weights),
        so that a decision costs one product."""
        weights = np.array([self.query_right, self.query_reach], dtype=np.float32).T
        return weights, np.array(self.query_mean, dtype=np.float32) @ weights

    def without_query(self) -> Model:
        """This model without its query weights (for another model's vectors)."""
        return replace(self, query_mean=(), query_right=(), query_reach=())

    @property
    def semantic(self) -> bool:
        """True for the model of the matcher with an embedding model."""
        return "cosine" in self.names

    def as_json(self) -> dict[str, object]:
        return {"names": list(self.names), "mean": list(self.mean), "scale": list(self.scale),
                "right": list(self.right), "reach": list(self.reach),
                "answer": self.answer, "suggest": self.suggest,
                **({"query_mean": list(self.query_mean), "query_right": list(self.query_right),
                    "query_reach": list(self.query_reach)} if self.query_right else {})}


def _logit(x: np.ndarray, coefficients: tuple[float, ...]) -> float:
    return float(np.dot(x, coefficients[:-1]) + coefficients[-1])


def _logistic(z: float) -> float:
    """The probability, kept under 1 so that a threshold of 100% means never."""
    return 1.0 / (1.0 + math.exp(-max(-20.0, min(20.0, z))))


CALIBRATION = Path(__file__).parent / "data" / "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """The two models, and the cascade of a matcher with an embedding model: it
    answers from the lexical ranking alone, without embedding the question, when the
    lexical model's P(first right) reaches ``cascade_answer``, and hands the question
    on when its P(right entry offered) is under ``cascade_escalate`` (1 and 0: never)."""

    semantic: Model
    lexical: Model
    cascade_answer: float = 1.0
    cascade_escalate: float = 0.0
    learned: Model | None = None
    """The semantic model of a bot with a usable :class:`Memory` (None: ``semantic``)."""
    cascade_escalate_learned: float = 0.0
    """``cascade_escalate`` of a bot with a usable :class:`Memory` (its cascade answers
    from ``cascade_answer`` too). Higher than without (a fresh bot's cascade hands on
    nothing): the memory, read with the question's vector, would not offer the right
    entry for the questions the lexical ranking gives almost no chance either, so
    handing those on costs nothing."""
    embedding: str = ""
    """The embedding model whose vectors the query weights were fitted on
    (``Embedder.name``)."""

    def as_json(self) -> dict[str, object]:
        return {"embedding": self.embedding,
                "semantic": self.semantic.as_json(), "lexical": self.lexical.as_json(),
                "cascade_answer": self.cascade_answer,
                "cascade_escalate": self.cascade_escalate,
                "cascade_escalate_learned": self.cascade_escalate_learned,
                **({"learned": self.learned.as_json()} if self.learned else {})}

    def for_embedder(self, name: str) -> Calibration:
        """This calibration for the vectors of the embedding model ``name``: if it was
        fitted on another model's, without its query weights (another model's vectors
        are another space, of the same length or not)."""
        if name == self.embedding:
            return self
        return replace(self, semantic=self.semantic.without_query(),
                       learned=self.learned.without_query() if self.learned else None)

    @classmethod
    def of_json(cls, raw: dict[str, Any]) -> Calibration:
        def model(m: dict[str, Any]) -> Model:
            return Model(tuple(m["names"]), tuple(m["mean"]), tuple(m["scale"]),
                         tuple(m["right"]), tuple(m["reach"]), float(m["answer"]),
                         float(m["suggest"]), tuple(m.get("query_mean", ())),
                         tuple(m.get("query_right", ())), tuple(m.get("query_reach", ())))
        return cls(model(raw["semantic"]), model(raw["lexical"]),
                   float(raw["cascade_answer"]), float(raw["cascade_escalate"]),
                   model(raw["learned"]) if "learned" in raw else None,
                   float(raw.get("cascade_escalate_learned", 0.0)), str(raw.get("embedding", "")))


@cache
def shipped() -> Calibration:
    """The calibration shipped in bot/data/calibration.json."""
    return Calibration.of_json(json.loads(CALIBRATION.read_text(encoding="utf-8")))
