"""Match a question against the FAQ and decide what the bot does with it.

A plain fuzzy ratio between the whole message and each phrasing fails on the
way people write: long messages full of context ("we are a youth group in
Korçë and...") drown the few words that say what they want. So the index
works on *terms* (:func:`bot.text.terms`: folded, stopwords and filler
dropped, cross-language concepts merged, stemmed) and weighs each by how rare
it is in this FAQ (IDF): a word that names one entry counts, a word found in
every entry hardly does.

An entry's score (0-100) blends three signals:

* evidence - how much weight the question shares with the entry at all, from
  all its phrasings and keywords in both languages (full credit) and its
  answer text (partial credit: people ask about details the answer gives but
  no phrasing mentions);
* query coverage - which share of the question's weight that is;
* phrasing coverage - how much of the entry's best single phrasing the
  question contains.

Unknown question words are mapped to the FAQ's own vocabulary with rapidfuzz
(typos: "liqudate", "startegy"); words still unknown keep a weight, so a
question mostly about something else (a car, a visa) covers little of any
entry. The index is built once per FAQ load; a decision touches only the
posting lists of the question's terms and the phrasings of a short list.

The constants below were chosen on a development set of questions, checking
that its random halves give similar figures; the decision thresholds live in
config.yaml (``matching:``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.config import MatchingConfig
from bot.faq import Entry, Faq
from bot.text import asks_for_staff, content_words, detect_language, term, words

ANSWER_CREDIT = 0.7
"""Credit for a question term found only in an entry's answer text."""
UNKNOWN_WEIGHT = 0.8
"""Weight of a question word the FAQ never uses, relative to the rarest FAQ term."""
IDF_POWER = 0.8
"""IDF is damped (raised to this power): with a few dozen entries, a word that
happens to occur in one answer would otherwise outweigh the topic words."""
EVIDENCE_SHARE = 0.5
"""Share of the evidence signal in the score (the rest is coverage)."""
EVIDENCE_SCALE = 1.85
"""Shared weight, in weights of a term unique to one entry, at which evidence
reaches 63% (about two specific terms and a common one)."""
QUERY_SHARE = 0.6
"""Share of query coverage within coverage (the rest is phrasing coverage)."""
TYPO_MIN_LENGTH = 5
TYPO_MIN_SIMILARITY = 85.0
"""rapidfuzz ratio a typo of a word of 7+ letters needs (one or two slips)."""
TYPO_SHORT_SIMILARITY = 90.0
"""... and of a shorter word (one letter missing or added)."""
TYPO_CACHE_SIZE = 20_000
SUGGEST_SHARE = 0.5
"""Entries after the best are offered if they score at least this share of it."""
CANDIDATES = 12
"""Entries (by shared weight) whose phrasings are scored in full."""
LEARNED_SHARE = 1.0
"""An entry scores at least this share of 100 x the similarity of the question to one
of its learned phrasings (see :meth:`FaqMatcher.set_learned`). Chosen by 5-fold
cross-validation on both bench sets (benchmarks/learning.py): higher values answer
a little more but hand fewer out-of-scope questions on and answer more wrongly."""


@dataclass(frozen=True)
class Match:
    """An entry and how well it matches a question (0-100)."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Decision:
    """What the bot does with a question.

    ``decision`` is ``"answer"`` (send ``top``'s answer), ``"suggest"`` (offer
    ``suggestions`` as choices, best first) or ``"escalate"`` (offer staff).
    ``top`` is the best match whatever the decision, or None if nothing
    matched at all.
    """

    question: str
    lang: str
    decision: str
    top: Match | None
    suggestions: tuple[Match, ...]


@dataclass(frozen=True)
class _Phrasing:
    terms: frozenset[str]
    weight: float


@dataclass(frozen=True)
class _LearnedPhrasing:
    """A question people taught the bot for the entry ``index``, as weighted terms."""

    index: int
    weights: dict[str, float]
    total: float


@dataclass(frozen=True)
class _LearnedIndex:
    phrasings: tuple[_LearnedPhrasing, ...] = ()
    postings: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class _EntryWords:
    """The content words of an entry's texts, each with its language."""

    questions: list[tuple[str, list[str]]]
    keywords: list[tuple[str, list[str]]]
    answers: list[tuple[str, list[str]]]

    @classmethod
    def of(cls, entry: Entry) -> _EntryWords:
        return cls(
            questions=[(lang, content_words(t)) for lang, t in entry.phrasings()],
            keywords=[(lang, content_words(k)) for lang, kws in entry.keywords.items()
                      for k in kws],
            answers=[(lang, content_words(t)) for lang, t in entry.answers.items()])

    def all(self) -> list[tuple[str, list[str]]]:
        return self.questions + self.keywords + self.answers


class FaqMatcher:
    """The search index of one loaded FAQ (build a new one on each reload)."""

    def __init__(self, faq: Faq, config: MatchingConfig | None = None) -> None:
        self.faq = faq
        self.config = config or MatchingConfig()
        texts = [_EntryWords.of(entry) for entry in faq.entries]
        question_terms = [{term(w) for _, ws in t.questions + t.keywords for w in ws}
                          for t in texts]
        answer_terms = [{term(w) for _, ws in t.answers for w in ws} for t in texts]
        self._idf = _idf(question_terms, answer_terms)
        self._rare_idf = max(self._idf.values(), default=1.0)
        """The weight of a term found in one entry only: the unit of weights."""
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, (q_terms, a_terms) in enumerate(zip(question_terms, answer_terms)):
            for t in q_terms:
                self._postings[t].append((index, 1.0))
            for t in a_terms - q_terms:
                self._postings[t].append((index, ANSWER_CREDIT))
        self._phrasings = [[self._phrasing(ws) for _, ws in t.questions] for t in texts]
        self._languages = _language_words(texts)
        self._vocab = _typo_vocabulary(texts)
        self._vocab_by_letter: dict[str, list[str]] = defaultdict(list)
        for word in sorted(self._vocab):
            self._vocab_by_letter[word[0]].append(word)
        self._typo_cache: dict[str, tuple[str, float] | None] = {}
        self._learned = _LearnedIndex()

    def set_learned(self, phrasings: Iterable[tuple[str, str, str]]) -> None:
        """Use ``phrasings`` - (entry id, language, text) - as phrasings of their entries
        from now on, in place of the learned ones given before (see :mod:`bot.learning`);
        phrasings of entries this FAQ does not have are ignored.

        People's questions are long and full of their own context, so they do not join
        the entries' vocabulary (that would make every story word point at an entry):
        a question scores an entry at least ``LEARNED_SHARE`` x 100 x its similarity to
        the closest learned phrasing of it (the weighted Dice overlap of their terms).
        """
        index = {entry.id: i for i, entry in enumerate(self.faq.entries)}
        learned: list[_LearnedPhrasing] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for entry_id, _lang, text in phrasings:
            weights = self._query_terms(text) if entry_id in index else {}
            if weights:
                for t in weights:
                    postings[t].append(len(learned))
                learned.append(_LearnedPhrasing(index[entry_id], weights, sum(weights.values())))
        # One assignment: a decision running meanwhile sees the old set or the new one.
        self._learned = _LearnedIndex(tuple(learned),
                                      {t: tuple(ns) for t, ns in postings.items()})

    def _learned_similarity(self, weights: dict[str, float], total: float) -> dict[int, float]:
        """Entry index -> similarity (0-1) of the question to its closest learned phrasing."""
        learned = self._learned
        best: dict[int, float] = {}
        for number in {n for t in weights for n in learned.postings.get(t, ())}:
            phrasing = learned.phrasings[number]
            shared = sum(min(w, phrasing.weights[t]) for t, w in weights.items()
                         if t in phrasing.weights)
            similarity = 2 * shared / (total + phrasing.total)
            best[phrasing.index] = max(similarity, best.get(phrasing.index, 0.0))
        return best

    def _phrasing(self, phrasing_words: list[str]) -> _Phrasing:
        terms = frozenset(term(w) for w in phrasing_words)
        return _Phrasing(terms, sum(self._idf[t] for t in terms))

    # -- matching ---------------------------------------------------------

    def _query_terms(self, text: str) -> dict[str, float]:
        """Each question term with its weight; unknown words are typo-mapped
        onto the FAQ vocabulary when a close word exists."""
        weights: dict[str, float] = {}
        for word in content_words(text):
            t = term(word)
            weight = self._idf.get(t)
            if weight is None:
                mapped = self._typo(word)
                if mapped is not None:
                    t, similarity = mapped
                    weight = self._idf[t] * similarity
                else:
                    weight = self._rare_idf * UNKNOWN_WEIGHT
            weights[t] = max(weight, weights.get(t, 0.0))
        return weights

    def _typo(self, word: str) -> tuple[str, float] | None:
        """The FAQ term closest in spelling to an unknown word, and how close (0-1).

        Only words with the same first letter are candidates: people rarely
        get the first letter wrong, and it keeps the look-up cheap.
        """
        if word in self._typo_cache:
            return self._typo_cache[word]
        found = None
        if len(word) >= TYPO_MIN_LENGTH:
            cutoff = TYPO_MIN_SIMILARITY if len(word) >= 7 else TYPO_SHORT_SIMILARITY
            best = process.extractOne(word, self._vocab_by_letter.get(word[0], ()),
                                      scorer=fuzz.ratio, score_cutoff=cutoff)
            if best is not None:
                found = (self._vocab[best[0]], best[1] / 100.0)
        if len(self._typo_cache) >= TYPO_CACHE_SIZE:
            self._typo_cache.clear()
        self._typo_cache[word] = found
        return found

    def _evidence(self, weights: dict[str, float]) -> dict[int, tuple[float, float]]:
        """For every entry sharing a term with the question: (matched weight,
        weight of its single best-matched term)."""
        found: dict[int, list[float]] = {}
        for t, weight in weights.items():
            for index, credit in self._postings.get(t, ()):
                gained = weight * credit
                slot = found.get(index)
                if slot is None:
                    found[index] = [gained, gained]
                else:
                    slot[0] += gained
                    slot[1] = max(slot[1], gained)
        return {index: (total, best) for index, (total, best) in found.items()}

    def _phrasing_coverage(self, index: int, weights: dict[str, float]) -> float:
        """How much of the entry's best-covered phrasing the question contains."""
        best = 0.0
        for p in self._phrasings[index]:
            if p.weight:
                shared = sum(self._idf[t] for t in p.terms if t in weights)
                best = max(best, shared / p.weight)
        return best

    def _score(self, index: int, matched: float, strongest: float, total: float,
               weights: dict[str, float]) -> float:
        """The 0-100 score of one entry (see the module docstring).

        Evidence counts the strongest shared term only half: a question about
        another topic often shares one word (a bank, a tax) with some entry,
        and one word alone should not make a confident match.
        """
        coverage = matched / total
        evidence = 1.0 - math.exp(-(matched - strongest / 2) / (EVIDENCE_SCALE * self._rare_idf))
        phrasing = self._phrasing_coverage(index, weights)
        return 100 * (EVIDENCE_SHARE * evidence
                      + (1 - EVIDENCE_SHARE) * (QUERY_SHARE * coverage
                                                + (1 - QUERY_SHARE) * phrasing))

    def matches(self, text: str) -> list[Match]:
        """The best-matching entries, best first, scored 0-100."""
        weights = self._query_terms(text)
        if not weights:
            return []
        total = sum(weights.values())
        evidence = self._evidence(weights)
        learned = self._learned_similarity(weights, total)
        shortlist = sorted(evidence, key=lambda i: evidence[i][0], reverse=True)[:CANDIDATES]
        shortlist += [i for i in learned if i not in shortlist]
        scored = [Match(self.faq.entries[i], round(max(
            self._score(i, *evidence[i], total, weights) if i in evidence else 0.0,
            100 * LEARNED_SHARE * learned.get(i, 0.0)), 1)) for i in shortlist]
        return sorted(scored, key=lambda m: m.score, reverse=True)

    def decide(self, text: str) -> Decision:
        """Answer, suggest or escalate ``text``; see :class:`Decision`.

        A message asking for a person ("can I talk to someone?") goes to
        staff unless an entry answers it confidently (a FAQ may have an entry
        on how to reach the staff).
        """
        lang = detect_language(text, self._languages)
        ranked = self.matches(text) if words(text) else []
        cfg = self.config
        top = ranked[0] if ranked else None
        confident = top is not None and top.score >= cfg.answer
        if top is None or top.score < cfg.suggest or (asks_for_staff(text) and not confident):
            return Decision(text, lang, "escalate", top, ())
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= cfg.answer and top.score - runner_up >= cfg.margin:
            return Decision(text, lang, "answer", top, (top,))
        offered = tuple(m for m in ranked[:cfg.max_suggestions]
                        if m.score >= top.score * SUGGEST_SHARE)
        return Decision(text, lang, "suggest", top, offered)


def _typo_vocabulary(texts: list[_EntryWords]) -> dict[str, str]:
    """Word -> term of every FAQ word long enough to catch typos of."""
    return {w: term(w) for t in texts for _, ws in t.all() for w in ws
            if len(w) >= TYPO_MIN_LENGTH and not w.isdigit()}


def _language_words(texts: list[_EntryWords]) -> dict[str, set[str]]:
    """Language -> the words the FAQ uses only in that language, to tell the
    language of a question made of a few keywords."""
    found: dict[str, set[str]] = defaultdict(set)
    for t in texts:
        for lang, ws in t.all():
            found[lang].update(ws)
    shared = set.intersection(*found.values()) if len(found) > 1 else set()
    return {lang: lang_words - shared for lang, lang_words in found.items()}


def _idf(question_terms: list[set[str]], answer_terms: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over the FAQ's entries."""
    df: dict[str, int] = defaultdict(int)
    for q_terms, a_terms in zip(question_terms, answer_terms):
        for t in q_terms | a_terms:
            df[t] += 1
    n = len(question_terms)
    return {t: math.log((n + 1) / (count + 0.5)) ** IDF_POWER for t, count in df.items()}
