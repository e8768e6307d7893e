"""Match a question against the FAQ and decide what the bot does with it.

A plain fuzzy ratio between the whole message and each phrasing fails on the
way people write: long messages full of context ("we are a youth group in
Korçë and...") drown the few words that say what they want. So the index
works on *terms* (:attr:`bot.text.Message.terms`: folded, stopwords and filler
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

Beside this lexical score, a sentence-embedding model (:mod:`bot.embedding`)
gives each entry a semantic similarity: the question's cosine with the
entry's closest phrasing, blended with its cosine with the entry's answer.
It catches what shares no word with the FAQ ("the bank won't accept our new
director" -> changing the board).

Beside both, a character n-gram index (:class:`_CharIndex`) gives each entry
the cosine of the question's spelling to its texts (Gheg spellings, typos and
inflections share most n-grams of a word). With a model, the final score
blends the three (:func:`blend`); without one, it is the lexical score alone,
with its own calibration. The decision also reads whether the first entry is
the closest in spelling, and how close.

Decisions use what the ranking knows (:mod:`bot.decision`): a calibrated
model turns the ranking's features (scores, leads, whether the lexical and
the semantic ranking agree, coverage, cosines...) into P(the first entry is
right) and P(the right entry is among the first three); the first is
answered, the first three offered as choices, or the question handed to the
staff. A question with the very terms of one of an entry's phrasings (the
FAQ's or a learned one) is answered with it.

The constants below were chosen by 5-fold cross-validation over the two
bench development sets; the decision model is fitted by
``benchmarks/faq_tune.py --write``.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from bot import decision as decisions
from bot.config import MatchingConfig
from bot.embedding import VectorCache, Vectors, vector_cache
from bot.faq import Entry, Faq
from bot.text import (
    Asking,
    Message,
    Sameness,
    alike,
    asking,
    content_words,
    is_stopword,
    question_kinds,
    read,
    sameness,
    split_sentences,
    standard_forms,
    term,
)

log = logging.getLogger(__name__)

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
CANDIDATES = 12
"""Entries (by shared weight, and by semantic similarity) scored in full."""
AGENCY_WEIGHT = 0.6
"""Weight, in weights of the term itself, of the agency when a message speaks
to it as "you" ("what exactly do you do?", "a punoni të shtunën?")."""
SEMANTIC_SHARE = 0.3
"""Share of the semantic similarity in the blended score."""
SPELLING_SHARE = 0.45
"""Share of the spelling similarity (the character n-gram cosine of the question to the
entry's texts, :class:`_CharIndex`) in the score blended with a model: it ranks first
the entries whose words the question writes in a Gheg spelling, inflects or misspells,
which the whole-term index misses or weighs little. Chosen on the ranking of both bench
sets (a plateau from 0.35 to 0.5): the right entry first for 86.2% of faq_dev's and
73.5% of faq_traffic's in-scope questions instead of 84.1 and 71.1, among the first
three for 95.9 and 86.9 instead of 94.4 and 86.3 (a listwise logistic ranker on the
lexical, semantic and spelling scores, fitted and measured 5-fold, ranked alike: 85.6
and 75.1 first). Held out, the calibrated decisions fitted on this ranking answered
about as many right + reached as before (three fold seeds, with the cascade of then:
122.9 points against 122.0), in sample more (faq_traffic 44.0 / 69.8 instead of 41.2 /
69.1). The
lexical matcher keeps its score: there the spelling ranked the right entry first more
often too (71.8% of faq_traffic's instead of 68.7), but its calibrated decisions, held
out, answered about a point fewer right."""
SPELLING_FULL = 2.0
"""The character cosine that scores 100 in the blend, in cosines of the FAQ's own
phrasings to their entry's texts (their median, :func:`_own_spelling`): how close in
spelling a question can come falls as the FAQ grows (the median is 0.27 on the bench's
47 entries, 0.56 on 5), and a fixed cosine made a one-word question a confident answer
in a small FAQ."""
SPELLING_SAMPLE = 500
"""Phrasings whose median :func:`_own_spelling` takes at most, on a FAQ load (0.1 s on
this machine; the cost grows with their words, not with the FAQ's entries)."""
SEMANTIC_ANSWER_SHARE = 0.4
"""Share of the similarity to the answer text within the semantic similarity
(the rest is the similarity to the closest phrasing)."""
QUERY_WORDS = 12
"""Words of a question's asking part that are embedded: the model's time grows
with the length of the text, and the lexical index reads the whole message.
Held out (``benchmarks/faq_tune.py``), 8, 12, 16 and 24 words gave the same
figures within two points; 12 meets the targets on wrong answers and questions
handed on in both sets. The model reads at most
:data:`bot.embedding.QUERY_TOKENS` tokens of them."""
CONTEXT_BELOW = 8
"""An asking part of fewer words than this, after a sentence of the story, is embedded
with the end of that sentence (see :data:`CONTEXT_WORDS`)."""
CONTEXT_WORDS = 20
"""Words in all of a short asking part embedded with the end of the sentence before it: a
short question at the end of a long message points back at the story ("The accountant
says these must be taxed. Is he right?", "What is usually in that package?"), and alone
it embeds as any other such question. A message that asks nothing is read as asking with
its last sentence, so a short last sentence gets its context too. Held out (both sets,
5-fold, mean of three fold seeds, the model deciding all; answered right + reached),
from 117.7 without it: 123.4 (before a greeting was skipped: 16 words in all 120.2, 24
120.5; from under 6 words 121.5, under 10 120.9). Where the two are longer than the
model reads (:data:`bot.embedding.QUERY_TOKENS`: about two thirds of the bench's
questions given context, a quarter of them with all of the question) it reads the
story's words and the question's end is cut: the story carries the topic, a short
question rarely does (keeping the whole question and as much of the story's end as fits:
120.7; the story sentence's start and the whole question: 121.5). The right entry is
then among the first three for 86.3% of faq_traffic's in-scope questions instead of 85.6
(first for 71.1% instead of 70.4)."""


SENTENCE_WORDS = 3
"""Words an answer's sentence needs to be embedded on its own (shorter ones are
headings and list items: "Tirana.", "Documents:")."""
CHAR_GRAMS = range(3, 6)
"""Lengths of the character n-grams of a word (with its boundaries) that the
character index compares (:class:`_CharIndex`)."""
SEMANTIC_FLOOR = 0.80
SEMANTIC_CEIL = 0.91
"""Cosines of this model between unrelated and identical questions: a cosine
is mapped linearly from this range onto 0-100 (e5 cosines of any two texts
are rarely under 0.7)."""


@dataclass(frozen=True)
class Match:
    """An entry and how well it matches a question (0-100): the blended score (with a
    model, of the lexical, semantic and spelling scores; see :func:`blend`), and the
    lexical and semantic scores; with what the
    calibrated decision (:mod:`bot.decision`) reads besides: the raw cosines
    to the closest phrasing and to the answer, the share of the question's
    weight the entry shares and how much of its best phrasing the question covers."""

    entry: Entry
    score: float
    lexical: float = 0.0
    semantic: float = 0.0
    cosine: float = 0.0
    answer_cosine: float = 0.0
    coverage: float = 0.0
    phrasing_coverage: float = 0.0


@dataclass(frozen=True)
class Ranking:
    """The entries matching a question, best first, and what the decision needs
    to know of the question itself: the share of its weight in words the FAQ does
    not use, its word count and whether it asks for a person."""

    matches: tuple[Match, ...]
    unknown: float
    words: int
    wants_staff: bool
    signals: dict[str, float] = field(default_factory=dict)
    """What the decision reads beside the ranked entries (see ``bot.decision``'s
    features): whether the first entry's phrasings ask for what the question asks
    (:meth:`FaqMatcher.kinds`) and how close it is in spelling
    (:meth:`FaqMatcher._char_signals`); with a model, the spread of the question's
    similarities to every entry and its cosines to the answer sentences of the first
    entries."""
    memory: dict[str, float] = field(default_factory=dict)
    """The memory features of the question (:meth:`bot.decision.Memory.features`), if
    the matcher has a usable memory."""
    query: Vectors | None = None
    """The question's vector, if the ranking is semantic (the decision reads it too)."""


@dataclass(frozen=True)
class Decision:
    """What the bot does with a question.

    ``decision`` is ``"answer"`` (send ``top``'s answer), ``"suggest"`` (offer
    ``suggestions`` as choices, best first) or ``"escalate"`` (offer staff).
    ``top`` is the best match whatever the decision, or None if nothing
    matched at all. ``why`` says on what it was decided (for ``ngo-faq-bot ask``).
    """

    question: str
    lang: str
    decision: str
    top: Match | None
    suggestions: tuple[Match, ...]
    why: str = ""


@dataclass(frozen=True)
class _Phrasing:
    terms: frozenset[str]
    weight: float




@dataclass(frozen=True, slots=True)
class _Read:
    """What the index keeps of a phrasing read as a question is (:func:`bot.text.read`):
    its language, content words, terms (:attr:`bot.text.Message.terms`),
    :func:`sameness` and :func:`asking`."""

    lang: str
    words: tuple[str, ...]
    terms: frozenset[str]
    same: Sameness
    asking: Asking

    @classmethod
    def of(cls, lang: str, message: Message) -> _Read:
        return cls(lang, tuple(w for w, _ in message.content), message.terms,
                   sameness(message), asking(message))


@dataclass(frozen=True)
class _EntryWords:
    """An entry's phrasings, read, and the content words of its keywords and answers;
    each with its language."""

    questions: list[_Read]
    keywords: list[tuple[str, list[str]]]
    answers: list[tuple[str, list[str]]]

    @classmethod
    def of(cls, entry: Entry, phrasings: list[_Read]) -> _EntryWords:
        """The words of ``entry``, whose ``phrasings`` are given read."""
        return cls(
            questions=phrasings,
            keywords=[(lang, content_words(k)) for lang, kws in entry.keywords.items()
                      for k in kws],
            answers=[(lang, content_words(t)) for lang, t in entry.answers.items()])

    def all(self) -> list[tuple[str, Sequence[str]]]:
        """The content words of each of its texts, with its language."""
        return [*((q.lang, q.words) for q in self.questions), *self.keywords, *self.answers]


@lru_cache(maxsize=4096)
def char_grams(word: str) -> tuple[str, ...]:
    """The character n-grams (``CHAR_GRAMS``) of a folded word, its start and end
    marked ("<reg", "ion>"): Gheg spellings, typos and inflections of a word share
    most of them. The cache keeps the words of recent questions (about 1 KB each)."""
    marked = f"<{word}>"
    return tuple(marked[i:i + n] for n in CHAR_GRAMS for i in range(len(marked) - n + 1))


class _CharIndex:
    """Character n-gram TF-IDF vectors of one text per entry (its words; the vectors
    L2-normalised), as posting lists: a question's cosine to every entry touches
    only the postings of its n-grams."""

    def __init__(self, texts: list[list[str]]) -> None:
        self._column: dict[str, int] = {}
        """N-gram -> its column (its place in the posting lists)."""
        of_word: dict[str, np.ndarray] = {}
        """Word -> the columns of its n-grams (each word's n-grams are made once)."""
        rows, columns, counts = [], [], []
        for i, text in enumerate(texts):
            for word in text:
                if word not in of_word:
                    of_word[word] = np.array(
                        [self._column.setdefault(g, len(self._column))
                         for g in char_grams(word)], dtype=np.intp)
            if text:
                found, k = np.unique(np.concatenate([of_word[w] for w in text]),
                                     return_counts=True)
                rows.append(np.full(len(found), i, dtype=np.intp))
                columns.append(found)
                counts.append(k)
        n = len(texts)
        row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.intp)
        column = np.concatenate(columns) if columns else np.zeros(0, dtype=np.intp)
        count = np.concatenate(counts) if counts else np.zeros(0, dtype=np.intp)
        df = np.bincount(column, minlength=len(self._column))
        idf = np.log((n + 1) / (df + 0.5))
        self._idf = idf.tolist()
        self._unknown_idf = math.log((n + 1) / 0.5)
        """The weight of an n-gram no entry has."""
        values = (1 + np.log(count)) * idf[column]
        norms = np.sqrt(np.bincount(row, weights=values * values, minlength=n))
        values /= np.where(norms > 0, norms, 1.0)[row]
        order = np.argsort(column, kind="stable")
        self._rows, self._values = row[order], values[order]
        self._lengths = df
        self._starts = np.r_[0, np.cumsum(df)[:-1]].astype(np.intp)
        self._n = n

    def _weighed(self, content: Iterable[tuple[str, float]]
                 ) -> tuple[list[int], list[float], float]:
        """The columns of a question's n-grams the index has, their TF-IDF weights, and the
        norm of its whole vector (n-grams no entry has count in it)."""
        counts: dict[str, float] = defaultdict(float)
        for word, share in content:
            for g in char_grams(word):
                counts[g] += share
        columns, weights, norm = [], [], 0.0
        for g, k in counts.items():
            tf = 1 + math.log(k) if k >= 1 else k
            column = self._column.get(g)
            if column is None:
                norm += (tf * self._unknown_idf) ** 2
            else:
                weight = tf * self._idf[column]
                norm += weight * weight
                columns.append(column)
                weights.append(weight)
        return columns, weights, math.sqrt(norm)

    def cosines(self, content: Iterable[tuple[str, float]]) -> np.ndarray:
        """The cosine of a question's content words (each with its weight,
        :attr:`bot.text.Message.content`) to each entry (0 where no n-gram is shared)."""
        columns, weights, norm = self._weighed(content)
        if not columns:
            return np.zeros(self._n)
        cols = np.array(columns, dtype=np.intp)
        lengths = self._lengths[cols]
        # The concatenated postings of the columns, without a loop over them.
        offsets = np.repeat(self._starts[cols] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        picked = offsets + np.arange(offsets.size)
        return np.bincount(self._rows[picked],
                           weights=self._values[picked] * np.repeat(weights, lengths),
                           minlength=self._n) / norm

    def cosines_to(self, texts: Sequence[tuple[int, Sequence[str]]]) -> np.ndarray:
        """The cosine of each text (an entry, and words each weighing 1) to that entry
        alone, all at once: one lookup of every (n-gram, entry) pair in the postings,
        sorted by n-gram then entry, instead of a cosine to every entry per text."""
        owner: list[int] = []
        column: list[int] = []
        weight: list[float] = []
        norms = np.ones(len(texts))
        for k, (entry, words) in enumerate(texts):
            columns, weights, norm = self._weighed((w, 1.0) for w in words)
            owner.extend([k] * len(columns))
            column.extend(c * self._n + entry for c in columns)
            weight.extend(weights)
            norms[k] = norm or 1.0
        keys = np.repeat(np.arange(self._lengths.size), self._lengths) * self._n + self._rows
        wanted = np.array(column, dtype=np.int64)
        at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
        shared = np.where(keys[at] == wanted, self._values[at], 0.0)  # no keys: none wanted
        return np.bincount(np.array(owner, dtype=np.intp), weights=shared * np.array(weight),
                           minlength=len(texts)) / norms


class Lexical(NamedTuple):
    """What the words of a question find in the FAQ (:meth:`FaqMatcher.lexical`)."""

    scores: dict[int, tuple[float, float, float]]
    """Entry index -> (lexical score 0-100, query coverage, phrasing coverage) of the
    entries sharing most weight with the question."""
    unknown: float
    """The share of the question's weight in words the FAQ does not use."""
    spelling: np.ndarray
    """Each entry's character n-gram cosine to the question (:class:`_CharIndex`)."""


class Similarities(NamedTuple):
    """A question's cosines to each entry's closest phrasing, closest answer and
    closest document (its phrasings then its answer, in one language; -1 where an
    entry has none), and its vector (:meth:`FaqMatcher.similarities`)."""

    phrasing: Vectors
    answer: Vectors
    document: Vectors
    query: Vectors


class _Columns:
    """Groups of vectors, each row owned by an entry (the rows in entry order), stored
    as the columns of one matrix: a question's cosines to all of them are one product,
    and the closest of each entry's rows is taken per group.

    By columns, because OpenBLAS multiplies a vector by a matrix stored that way about
    twice as fast: on a FAQ 50 times the bench's (28,500 phrasings, answers and documents,
    42 MB, more than the cache holds) a decision whose question's vector is cached took
    3.9 ms instead of 5.3 (``benchmarks/faq_latency.py``)."""

    def __init__(self, entries: int, groups: Sequence[tuple[np.ndarray, Vectors]]) -> None:
        self._entries = entries
        self.matrix = np.ascontiguousarray(
            np.concatenate([vectors for _, vectors in groups]).T, dtype=np.float32)
        ends = np.cumsum([len(owners) for owners, _ in groups]).tolist()
        self._groups = []
        for (owners, _), start, end in zip(groups, [0, *ends[:-1]], ends, strict=True):
            starts = (np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners)
                      else owners)
            self._groups.append((start, end, starts, owners[starts]))

    def closest(self, query: Vectors) -> list[Vectors]:
        """Per group, the query's cosine with each entry's closest row (-1 where the
        entry has none)."""
        cosines = query @ self.matrix
        found = []
        for start, end, starts, entries in self._groups:
            best = np.full(self._entries, -1.0, dtype=np.float32)
            if len(starts):
                best[entries] = np.maximum.reduceat(cosines[start:end], starts)
            found.append(best)
        return found


class FaqMatcher:
    """The search index of one loaded FAQ (build a new one on each reload).

    ``vectors`` (a :class:`bot.embedding.VectorCache`) turns semantic matching
    on; None matches lexically.
    """

    def __init__(self, faq: Faq, config: MatchingConfig | None = None,
                 vectors: VectorCache | None = None,
                 learned: Iterable[tuple[str, str, str]] = (),
                 calibration: decisions.Calibration | None = None,
                 out_of_scope: Iterable[str] = ()) -> None:
        self.faq = faq
        self.config = config or MatchingConfig()
        self.calibration = calibration or decisions.shipped()
        self.vectors = vectors
        self._kinds: list[frozenset[str]] = []
        """What each entry's phrasings ask for (:func:`bot.text.question_kinds`)."""
        self._entry_words: list[_EntryWords] = []
        for entry in faq.entries:
            # Each phrasing is read once, as a question is; the index keeps what it needs.
            messages = [(lang, read(t)) for lang, t in entry.phrasings()]
            self._kinds.append(question_kinds(w for _, m in messages for w in m.words))
            self._entry_words.append(_EntryWords.of(entry, [_Read.of(*lm) for lm in messages]))
        self._index_of = {entry.id: i for i, entry in enumerate(faq.entries)}
        self.learned: tuple[tuple[str, str, str], ...] = ()
        self.out_of_scope: tuple[str, ...] = ()
        self._memory: decisions.Memory | None = None
        self._columns: _Columns | None = None
        if vectors is not None:
            answers = [(i, lang, t) for i, e in enumerate(faq.entries)
                       for lang, t in e.answers.items()]
            fitted = self.calibration.for_embedder(vectors.embedder.name)
            if fitted is not self.calibration and self.calibration.semantic.query_right:
                log.warning("the calibration was fitted with the embedding model %r, not %r: "
                            "deciding without the question's vector; fit it for this model "
                            "with benchmarks/faq_tune.py --write", self.calibration.embedding,
                            vectors.embedder.name)
            self.calibration = fitted
            owned = [(i, t) for i, e in enumerate(faq.entries) for _, t in e.phrasings()]
            answer_owners = np.array([i for i, _, _ in answers], dtype=np.intp)  # entry order
            self._columns = _Columns(len(faq.entries), (
                (np.array([i for i, _ in owned], dtype=np.intp),
                 vectors.vectors([t for _, t in owned], query=True)),
                (answer_owners, vectors.vectors([t for _, _, t in answers], query=False)),
                # Each entry's document in each language, its phrasings then its answer
                # (the "title and text" passage multilingual-e5 was trained to retrieve
                # for a query).
                (answer_owners, vectors.vectors(
                    ["\n".join(faq.entries[i].questions.get(lang, ())) + "\n" + t
                     for i, lang, t in answers], query=False))))
            sentences = [[s for t in e.answers.values() for s in split_sentences(t)
                          if len(s.split()) >= SENTENCE_WORDS] for e in faq.entries]
            unique = list(dict.fromkeys(s for found in sentences for s in found))
            row = {s: r for r, s in enumerate(unique)}
            self._sentence_vectors = vectors.vectors(unique, query=False)
            """The vector of each distinct answer sentence (copies share one row)."""
            self._sentence_rows = [np.array([row[s] for s in found], dtype=np.intp)
                                   for found in sentences]
        self._faq_same: dict[Sameness, set[tuple[int, Asking]]] = defaultdict(set)
        """The :func:`~bot.text.sameness` of each FAQ phrasing -> the entries having a phrasing so,
        with what it asks for (learned phrasings join a copy: ``_same``)."""
        for i, entry_words in enumerate(self._entry_words):
            for phrasing in entry_words.questions:
                if phrasing.same:
                    self._faq_same[phrasing.same].add((i, phrasing.asking))
        if vectors is not None:
            # Learned phrasings stay out of the lexical index with a model: built once.
            self._build_lexical(self._entry_words)
            self._spelling_full = SPELLING_FULL * _own_spelling(self._chars, self._entry_words)
            """The character cosine that scores 100 in the blend (only a model blends it)."""
        self.set_learned(learned, out_of_scope)

    @classmethod
    def configured(cls, faq: Faq, config: MatchingConfig,
                   learned: Iterable[tuple[str, str, str]] = (),
                   out_of_scope: Iterable[str] = ()) -> FaqMatcher:
        """The matcher ``config`` asks for: with its embedding model and vector
        cache when the model loads, else lexical (see :mod:`bot.embedding`)."""
        return cls(faq, config, vector_cache(config.embedding, config.embedding_cache,
                                             config.model_threads),
                   learned, out_of_scope=out_of_scope)

    @property
    def vocabularies(self) -> dict[str, set[str]]:
        """The FAQ's words in each language, which settle the language of a question
        whose marker words do not (:meth:`bot.text.Message.language`)."""
        return self._languages

    @property
    def semantic(self) -> bool:
        """True when a model scores questions beside the lexical index."""
        return self.vectors is not None

    def set_learned(self, phrasings: Iterable[tuple[str, str, str]],
                    out_of_scope: Iterable[str] = ()) -> None:
        """Replace what was learned: each ``(entry_id, language, text)`` of
        ``phrasings`` counts at once as a phrasing of that entry (ids the FAQ no
        longer has are ignored); ``out_of_scope`` are questions the staff handled
        without an entry.

        With a model, both are nearest-neighbour evidence only: a question with
        the very terms of a learned phrasing is answered with its entry (see
        :meth:`decide`), and the decision reads the learned questions closest to
        the question (:class:`bot.decision.Memory`; their vectors are computed
        here, once, and kept in memory only). Without a model, out-of-scope
        questions are not used. Measured on the bench (``benchmarks/learning.py``,
        learn 4/5 of the questions, measure the fifth), letting learned
        phrasings join the lexical vocabulary raised wrong answers, and their
        cosine to the question among the entry's phrasing cosines lost three
        points of answered right: people's questions are noisier phrasings
        than the FAQ's. Without a model, a learned phrasing also joins the
        entry's phrasings in the lexical index; there, only the part that would be
        embedded (:func:`asked_part`) becomes the phrasing."""
        self.learned = tuple((e, lang, t) for e, lang, t in phrasings if t.strip())
        """The learned phrasings as given (what a reload passes to the next matcher), those
        of entries this FAQ lacks too: a reload may bring the entry back."""
        self.out_of_scope = tuple(t for t in out_of_scope if t.strip())
        learned = [(e, lang, read(t)) for e, lang, t in self.learned if e in self._index_of]
        self._memory = None
        if self.vectors is not None:
            taught = ([(e, m) for e, _, m in learned]
                      + [(None, read(t)) for t in self.out_of_scope])
            memory = decisions.Memory(
                self.vectors.remembered([asked_part(m) for _, m in taught]),
                tuple(e for e, _ in taught))
            self._memory = memory if memory.usable else None
        if self.vectors is None:
            texts = [_EntryWords(list(w.questions), w.keywords, w.answers)
                     for w in self._entry_words]
            for entry_id, lang, m in learned:
                texts[self._index_of[entry_id]].questions.append(
                    _Read.of(lang, read(asked_part(m))))
            self._build_lexical(texts)
        self._same = defaultdict(set, {k: set(v) for k, v in self._faq_same.items()})
        """The :func:`sameness` of each phrasing (the FAQ's and the learned ones) -> the
        entries having a phrasing so, with what it asks for."""
        for entry_id, _, m in learned:
            if key := sameness(m):
                self._same[key].add((self._index_of[entry_id], asking(m)))

    def _build_lexical(self, texts: list[_EntryWords]) -> None:
        question_terms = [{term(w) for _, ws in t.keywords for w in ws}.union(
                              *(q.terms for q in t.questions)) for t in texts]
        answer_terms = [{term(w) for _, ws in t.answers for w in ws} for t in texts]
        self._idf = _idf(question_terms, answer_terms)
        self._rare_idf = max(self._idf.values(), default=1.0)
        """The weight of a term found in one entry only: the unit of weights."""
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, (q_terms, a_terms) in enumerate(zip(question_terms, answer_terms, strict=True)):
            for t in q_terms:
                postings[t].append((index, 1.0))
            for t in a_terms - q_terms:
                postings[t].append((index, ANSWER_CREDIT))
        self._postings = {t: (np.array([i for i, _ in found], dtype=np.intp),
                              np.array([c for _, c in found]))
                          for t, found in postings.items()}
        """Term -> the entries having it (ascending) and the credit of each."""
        self._phrasings = [[_Phrasing(q.terms, sum(self._idf[t] for t in q.terms))
                            for q in t.questions] for t in texts]
        self._languages = _language_words(texts)
        self._vocab = _typo_vocabulary(texts)
        self._vocab_by_start: dict[tuple[str, int], list[str]] = defaultdict(list)
        """(first letter, length) -> the FAQ's words so, in alphabetical order."""
        for word in sorted(self._vocab):
            self._vocab_by_start[(word[0], len(word))].append(word)
        self._typo_cache: dict[str, tuple[str, float] | None] = {}
        self._chars = _CharIndex([[w for _, ws in t.all() for w in ws] for t in texts])
        """The character index of each entry's texts (phrasings, keywords, answer)."""

    # -- matching ---------------------------------------------------------

    def _query_terms(self, message: Message) -> dict[str, float]:
        """Each question term with its weight. An unknown word is read as
        Gheg first (:func:`bot.text.standard_forms`), then typo-mapped onto
        the FAQ vocabulary when a close word exists."""
        weights: dict[str, float] = {}
        for word, share in message.content:
            t = term(word)
            weight = self._idf.get(t)
            if weight is None:
                t, weight = self._unknown(word)
            weights[t] = max(weight * share, weights.get(t, 0.0))
        agency = self._idf.get(term("agency"))
        if message.to_agency and agency is not None and weights:
            weights[term("agency")] = max(agency * AGENCY_WEIGHT,
                                          weights.get(term("agency"), 0.0))
        return weights

    def _unknown(self, word: str) -> tuple[str, float]:
        """The term and weight of a word the FAQ does not use as it is written."""
        for form in standard_forms(word):
            weight = self._idf.get(term(form))
            if weight is not None:
                return term(form), weight
        mapped = self._typo(word)
        if mapped is not None:
            t, similarity = mapped
            return t, self._idf[t] * similarity
        return term(word), self._rare_idf * UNKNOWN_WEIGHT

    def _typo(self, word: str) -> tuple[str, float] | None:
        """The FAQ term closest in spelling to an unknown word, and how close (0-1).

        Only words with the same first letter are candidates: people rarely
        get the first letter wrong, and it keeps the look-up cheap. So are only
        words of a length that can reach the cutoff (``fuzz.ratio`` of words of
        n and m letters is at most 200 min(n, m) / (n + m)): in a FAQ 50 times
        the bench's, a long message's first look-ups took 10 ms without that.
        """
        if word in self._typo_cache:
            return self._typo_cache[word]
        found = None
        n = len(word)
        if n >= TYPO_MIN_LENGTH:
            cutoff = TYPO_MIN_SIMILARITY if n >= 7 else TYPO_SHORT_SIMILARITY
            candidates = sorted(w for m in range(TYPO_MIN_LENGTH, 2 * n + 1)
                                if 200 * min(n, m) / (n + m) >= cutoff - 1e-9
                                for w in self._vocab_by_start.get((word[0], m), ()))
            best = process.extractOne(word, candidates, scorer=fuzz.ratio,
                                      score_cutoff=cutoff)
            if best is not None:
                found = (self._vocab[best[0]], best[1] / 100.0)
        if len(self._typo_cache) >= TYPO_CACHE_SIZE:
            self._typo_cache.clear()
        self._typo_cache[word] = found
        return found

    def _evidence(self, weights: dict[str, float]) -> list[tuple[int, float, float]]:
        """The ``CANDIDATES`` entries sharing most weight with the question, most
        first: (entry index, matched weight, weight of its single best-matched term).

        With numpy over the posting lists: a FAQ 50 times the bench's has terms
        in thousands of entries, and a long message has dozens of terms. Equal
        weights keep the order in which the question's terms reached the entries.
        """
        n = len(self._phrasings)
        total, best = np.zeros(n), np.zeros(n)
        first = np.full(n, np.iinfo(np.intp).max, dtype=np.intp)
        for rank, (t, weight) in enumerate(weights.items()):
            posting = self._postings.get(t)
            if posting is None:
                continue
            entries, credits = posting
            gained = weight * credits
            total[entries] += gained
            best[entries] = np.maximum(best[entries], gained)
            first[entries] = np.minimum(first[entries], rank * n + entries)
        touched = np.flatnonzero(first != np.iinfo(np.intp).max)
        order = touched[np.lexsort((first[touched], -total[touched]))][:CANDIDATES]
        return [(i, float(total[i]), float(best[i])) for i in order.tolist()]

    def _phrasing_coverage(self, index: int, weights: dict[str, float]) -> float:
        """How much of the entry's best-covered phrasing the question contains."""
        best = 0.0
        for p in self._phrasings[index]:
            if p.weight:
                shared = sum(self._idf[t] for t in p.terms if t in weights)
                best = max(best, shared / p.weight)
        return best

    def _score(self, index: int, matched: float, strongest: float, total: float,
               weights: dict[str, float]) -> tuple[float, float, float]:
        """The 0-100 lexical score of one entry (see the module docstring), its
        query coverage and its phrasing coverage (0-1).

        Evidence counts the strongest shared term only half: a question about
        another topic often shares one word (a bank, a tax) with some entry,
        and one word alone should not make a confident match.
        """
        coverage = matched / total
        evidence = 1.0 - math.exp(-(matched - strongest / 2) / (EVIDENCE_SCALE * self._rare_idf))
        phrasing = self._phrasing_coverage(index, weights)
        score = 100 * (EVIDENCE_SHARE * evidence
                       + (1 - EVIDENCE_SHARE) * (QUERY_SHARE * coverage
                                                 + (1 - QUERY_SHARE) * phrasing))
        return score, coverage, phrasing

    def lexical(self, message: Message) -> Lexical:
        """What the words of the question find (computed once per decision)."""
        spelling = self._chars.cosines(message.content)
        weights = self._query_terms(message)
        if not weights:
            return Lexical({}, 0.0, spelling)
        total = sum(weights.values())
        unknown = sum(w for t, w in weights.items() if t not in self._idf) / total
        return Lexical({i: self._score(i, matched, strongest, total, weights)
                        for i, matched, strongest in self._evidence(weights)}, unknown, spelling)

    def similarities(self, message: Message) -> Similarities | None:
        """The question's cosines to each entry's closest phrasing, answer and document,
        and its vector. None without a model."""
        if self.vectors is None or self._columns is None or not message.words:
            return None
        query = self.vectors.query(asked_part(message))
        phrasing, answer, document = self._columns.closest(query)
        return Similarities(phrasing, answer, document, query)

    def rank(self, message: Message | str, semantic: bool | None = None) -> Ranking:
        """The best-matching entries, best first, scored 0-100; ``semantic=False``
        ranks lexically even when a model is loaded."""
        message = read(message) if isinstance(message, str) else message
        return self._ranked(message, self.lexical(message), semantic)

    def _ranked(self, message: Message, scored: Lexical,
                semantic: bool | None = None) -> Ranking:
        """:meth:`rank` with what :meth:`lexical` found given (a decision that cascades
        ranks lexically first, and scores each entry once)."""
        lexical, unknown, spelling = scored
        sims = self.similarities(message) if semantic is not False else None
        if sims is None:
            ranked = [Match(self.faq.entries[i], round(score, 1), round(score, 1),
                            coverage=coverage, phrasing_coverage=phrasing)
                      for i, (score, coverage, phrasing) in lexical.items()]
            ranked.sort(key=lambda m: m.score, reverse=True)
        else:
            semantic_score = semantic_scores(sims.phrasing, sims.answer)
            spelled = np.minimum(100.0, 100.0 * spelling / self._spelling_full)
            closest = np.argpartition(-semantic_score,
                                      min(CANDIDATES, len(semantic_score) - 1))[:CANDIDATES]
            ranked = []
            for i in set(lexical) | set(closest.tolist()):
                score, coverage, phrasing = lexical.get(i, (0.0, 0.0, 0.0))
                ranked.append(Match(
                    self.faq.entries[i],
                    round(blend(score, float(semantic_score[i]), float(spelled[i])), 1),
                    round(score, 1), round(float(semantic_score[i]), 1),
                    float(sims.phrasing[i]), float(sims.answer[i]), coverage, phrasing))
            ranked.sort(key=lambda m: (m.score, m.semantic), reverse=True)
        signals: dict[str, float] = {}
        memory: dict[str, float] = {}
        if ranked:
            signals = self.kinds(message, ranked[0].entry) | self._char_signals(
                spelling, ranked[0].entry)
            if sims is not None:
                signals |= (
                    decisions.spread("phrasing", sims.phrasing, decisions.COSINE_TEMPERATURE)
                    | decisions.spread("answer", sims.answer, decisions.COSINE_TEMPERATURE)
                    | decisions.spread("semantic", semantic_score / 100,
                                       decisions.SCORE_TEMPERATURE)
                    | self._sentences(sims.query, ranked[:decisions.OFFERED])
                    | self._documents(sims.document, ranked[0]))
                if self._memory is not None:
                    memory = self._memory.features(sims.query, ranked[0].entry.id)
        return Ranking(tuple(ranked), unknown, len(message.words), message.wants_staff,
                       signals, memory, sims.query if sims is not None else None)

    def _sentences(self, query: Vectors, first: list[Match]) -> dict[str, float]:
        """The question's cosines to the answer sentences of the ``first`` entries: the
        first entry's closest, the mean of its two closest, the closest of all."""
        closest = []
        for m in first:
            rows = self._sentence_rows[self._index_of[m.entry.id]]
            found = (np.sort(self._sentence_vectors[rows] @ query)[::-1] if len(rows)
                     else np.array([m.answer_cosine]))
            closest.append(found)
        return {"sentence_cosine": float(closest[0][0]),
                "sentence_pair": float(closest[0][:2].mean()),
                "sentence_cosine3": float(max(c[0] for c in closest))}

    def _char_signals(self, cosines: np.ndarray, entry: Entry) -> dict[str, float]:
        """How close in spelling the question is to the first entry (``entry``), from
        the question's character cosines to every entry: its cosine, whether no entry
        is closer, and how far the closest stands out (:func:`bot.decision.gap`)."""
        top = float(cosines[self._index_of[entry.id]])
        return {"char_cosine": top, "char_agrees": float(top > 0 and top >= cosines.max()),
                "char_gap": decisions.gap(cosines)}

    def _documents(self, document: Vectors, top: Match) -> dict[str, float]:
        """From the question's cosine to each entry's document (``document``): its cosine
        to the first entry's, to the closest document, the first entry's lead over the
        next (or its gap to the closest), whether it is the closest, and how far the
        closest stands out (:func:`bot.decision.spread`)."""
        first, closest = self._index_of[top.entry.id], int(document.argmax())
        # With one entry, no lead (not a lead over nothing).
        runner_up = (float(np.partition(document, -2)[-2]) if len(document) > 1
                     else float(document[first]))
        other = runner_up if closest == first else float(document[closest])
        return ({"doc_cosine": float(document[first]), "doc_best": float(document[closest]),
                 "doc_lead": float(document[first]) - other,
                 "doc_agrees": float(closest == first)}
                | decisions.spread("doc", document, decisions.COSINE_TEMPERATURE))

    def kinds(self, message: Message, entry: Entry) -> dict[str, float]:
        """Whether ``entry``'s phrasings ask for what the question asks (where, when,
        who...: :func:`bot.text.question_kinds`; 0.5 if it has no question word), and
        whether they ask for none of it."""
        asked, kinds = message.kinds, self._kinds[self._index_of[entry.id]]
        return {"kind_match": float(bool(asked & kinds)) if asked else 0.5,
                "kind_missed": float(bool(asked) and not asked & kinds)}

    def matches(self, message: Message | str) -> list[Match]:
        """The best-matching entries, best first, scored 0-100."""
        return list(self.rank(message).matches)

    def decide(self, message: Message | str) -> Decision:
        """Answer, suggest or escalate a question; see :class:`Decision` and
        :mod:`bot.decision`.

        A question with exactly the terms of a phrasing (the FAQ's or a learned
        one: the same question as :func:`bot.learning.similarity` sees it, asked
        again), or with its very words where it has no terms ("who are you?": the
        ranking has no word to weigh, and the model's cosine alone never answers), is
        answered with its entry, or offered with the other entries having such a
        phrasing (:func:`sameness`), if it asks for what the phrasing asks for
        (:func:`bot.text.alike`).

        With a model, a question the lexical ranking alone decides with
        confidence (see :class:`bot.decision.Calibration`, the cascade is chosen
        by cross-validation) is decided without embedding it: most of the cost
        of a decision is the embedding. A fresh bot's cascade only answers (held
        out, handing on too cost reached for a median decision hardly cheaper:
        ``CASCADE_SHARE`` in ``benchmarks/faq_tune.py``); once the bot has learned
        enough to use its memory, its cascade also hands on the questions the
        lexical ranking gives almost no chance (``cascade_escalate_learned``),
        which the memory, read with the question's vector, would not offer the
        right entry either (union of both sets held out, reached: 76.3% by a bot
        without memory, 15% of the questions decided without the model; 75.1% with
        memory, 19%; the figures are kept in ``bot/data/calibration.json``).
        """
        message = read(message) if isinstance(message, str) else message
        lang = message.language(self.vocabularies)
        if not message.words:
            return Decision(message.text, lang, "escalate", None, ())
        limit = self.config.max_suggestions
        scored = self.lexical(message)
        lexical = self._ranked(message, scored, semantic=False)
        candidates = self._same.get(sameness(message), ())
        asks = asking(message) if candidates else None
        same = {i for i, other in candidates if alike(asks, other, len(message.terms))}
        if same:
            found = {m.entry.id: m for m in lexical.matches}
            offered = tuple(found.get(self.faq.entries[i].id, Match(self.faq.entries[i], 100.0))
                            for i in sorted(same))[:limit]
            return Decision(message.text, lang, "answer" if len(offered) == 1 else "suggest",
                            offered[0], offered, "the very terms of a phrasing")
        if self.semantic and lexical.matches:
            right, reach = self.calibration.lexical.probabilities(
                decisions.features(lexical, semantic=False))
            why = f"lexical only, {_probabilities(right, reach)}"
            if right >= self.calibration.cascade_answer:
                top = lexical.matches[0]
                return Decision(message.text, lang, "answer", top, (top,), why)
            escalate = (self.calibration.cascade_escalate if self._memory is None
                        else self.calibration.cascade_escalate_learned)
            if reach < escalate:
                return Decision(message.text, lang, "escalate", lexical.matches[0], (), why)
        ranking = self._ranked(message, scored) if self.semantic else lexical
        return decide_ranking(message.text, lang, ranking, self.model, self.overrides, limit)

    @property
    def model(self) -> decisions.Model:
        """The calibrated decision model of this matcher's ranking (with a usable memory,
        the model that reads it)."""
        if not self.semantic:
            return self.calibration.lexical
        if self._memory is not None and self.calibration.learned is not None:
            return self.calibration.learned
        return self.calibration.semantic

    @property
    def overrides(self) -> tuple[float | None, float | None]:
        """P(first right) to answer and P(right entry offered) to suggest, 0-1, as
        config.yaml sets them (None: the calibrated ones)."""
        cfg = self.config.thresholds(self.semantic)
        return (cfg.answer / 100 if cfg.answer is not None else None,
                cfg.suggest / 100 if cfg.suggest is not None else None)


def asked_part(question: Message | str) -> str:
    """The part of a question that is embedded: its asking part (at most
    ``QUERY_WORDS``), or a short one (``CONTEXT_BELOW``) after the end of the sentence
    before it, if that sentence has a word that is not a greeting or filler
    (``CONTEXT_WORDS`` in all; see there for what the model's token cap then cuts)."""
    message = read(question) if isinstance(question, str) else question
    asked = message.question.split()
    sentences = message.sentences
    first = next((i for i, s in enumerate(sentences) if s.asks), 0)
    if len(asked) < CONTEXT_BELOW and first > 0 and not all(
            is_stopword(w) for w in sentences[first - 1].words):
        before = sentences[first - 1].text.split()
        return " ".join(before[max(0, len(before) - (CONTEXT_WORDS - len(asked))):] + asked)
    return " ".join(asked[:QUERY_WORDS])


def semantic_scores(phrasing: Vectors, answer: Vectors) -> Vectors:
    """Cosines (per entry, to the closest phrasing and to the answer) -> 0-100."""
    cosine = (1 - SEMANTIC_ANSWER_SHARE) * phrasing + SEMANTIC_ANSWER_SHARE * answer
    scaled = (cosine - SEMANTIC_FLOOR) / (SEMANTIC_CEIL - SEMANTIC_FLOOR)
    return np.asarray(np.clip(scaled, 0.0, 1.0) * 100, dtype=np.float32)


def blend(lexical: float, semantic: float, spelled: float) -> float:
    """The final 0-100 score of an entry with a model, from its lexical, semantic and
    spelling scores (0-100): :data:`SEMANTIC_SHARE` and :data:`SPELLING_SHARE`, the
    lexical score the rest."""
    return ((1 - SEMANTIC_SHARE - SPELLING_SHARE) * lexical + SEMANTIC_SHARE * semantic
            + SPELLING_SHARE * spelled)


def decide_ranking(text: str, lang: str, ranking: Ranking, model: decisions.Model,
                   overrides: tuple[float | None, float | None],
                   max_suggestions: int) -> Decision:
    """The decision on a ranking: answer when P(first right) reaches the answer
    threshold; offer the first ``max_suggestions`` when P(right entry among them)
    reaches the suggest threshold; else hand on to staff. A message asking for a
    person ("can I talk to someone?") is not offered choices. The thresholds are
    the model's (:meth:`bot.decision.Model.thresholds`) unless ``overrides``."""
    if not ranking.matches:
        return Decision(text, lang, "escalate", None, ())
    top = ranking.matches[0]
    right, reach = model.probabilities(decisions.features(ranking, model.semantic),
                                       ranking.query)
    answer, suggest = (o if o is not None else c for o, c in
                       zip(overrides, (model.answer, model.suggest), strict=True))
    why = _probabilities(right, reach)
    if right >= answer:
        return Decision(text, lang, "answer", top, (top,), why)
    if reach >= suggest and not ranking.wants_staff:
        return Decision(text, lang, "suggest", top, ranking.matches[:max_suggestions], why)
    return Decision(text, lang, "escalate", top, (), why)


def _probabilities(right: float, reach: float) -> str:
    return f"P(first right) {right:.0%}, P(right one offered) {reach:.0%}"


def _own_spelling(chars: _CharIndex, texts: list[_EntryWords]) -> float:
    """The median character cosine of the FAQ's phrasings (at most ``SPELLING_SAMPLE``,
    drawn the same way at each load) to their own entry's texts: how close in spelling a
    question can come in this FAQ (1 for a FAQ without phrasings). A phrasing's n-grams
    are all in its own entry's texts, so the median is never 0."""
    own = [(i, q.words) for i, t in enumerate(texts) for q in t.questions if q.words]
    if not own:
        return 1.0
    if len(own) > SPELLING_SAMPLE:
        drawn = np.random.default_rng(0).choice(len(own), SPELLING_SAMPLE, replace=False)
        own = [own[k] for k in sorted(drawn.tolist())]
    return float(np.median(chars.cosines_to(own)))


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
    for q_terms, a_terms in zip(question_terms, answer_terms, strict=True):
        for t in q_terms | a_terms:
            df[t] += 1
    n = len(question_terms)
    return {t: math.log((n + 1) / (count + 0.5)) ** IDF_POWER for t, count in df.items()}
