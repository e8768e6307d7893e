"""Fuzzy search of the registry of organisations, held in memory.

People type names without diacritics, with typos, in another word order, only
the distinctive part, the acronym (with or without the city), inside a
sentence, or give the NIPT. The search works in two steps so that it never
compares the query with every name:

1. **Candidates.** An inverted index maps each name word to the organisations
   using it. Query words are looked up by their stems, by one-typo "deletion
   variants" (only words no name uses are taken for typos) and by their
   Albanian/English equivalents (:mod:`bot.registry.words`); the posting lists of the
   rarest matched words are walked, within a budget, and add IDF weight to
   the organisations they contain. Generic words (shoqata, qendra) have long
   lists and low weight, and city names (the words of the registry's city
   column) never bring candidates on their own.
2. **Ranking.** The best few candidates are scored on how much of the name's
   weight the query covers (recall) and how much of the query's identifying
   weight the organisation explains (precision: name, city or acronym), and
   rapidfuzz compares the texts to order close calls.

A query gets ``found`` only when the best organisation scores high and
clearly ahead of the next one; a close call gives ``candidates``; anything
else ``not_found``. Thresholds come from the ``registry:`` section of the
configuration.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from sqlalchemy import select

from bot.config import RegistryConfig
from bot.registry.words import (EQUIVALENTS, GENERIC_SHARE, GENERIC_WORDS, deletions, keys,
                                 name_tokens, query_tokens)
from bot.storage import Database, Organisation
from bot.text import fold

Decision = Literal["found", "candidates", "not_found"]

_NIPT_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]\d{8}[A-Za-z])(?![0-9A-Za-z])")

# A longer message is read only this far (a name is never this long).
_MAX_QUERY_WORDS = 40
# Similarity of a query word to a name word, by how they matched.
_SIM_EXACT, _SIM_STEM, _SIM_TYPO, _SIM_TRANSLATED = 1.0, 0.92, 0.8, 0.75
# Posting entries walked per query, at most (the rarest words first).
_POSTINGS_BUDGET = 6000
# Words used by more than this share of the registry never generate candidates.
_COMMON_SHARE = 0.08
# Candidates scored in full, and how many of the best are compared with rapidfuzz.
_SHORTLIST = 60
_FUZZ_SHORTLIST = 12
# score = 100 * recall^a * precision^b: a name word left out may be a detail the
# person did not type, a query word the organisation does not explain (another
# city, another distinctive word) points to a different organisation.
_RECALL_EXP, _PRECISION_EXP = 0.6, 1.0
# Share of the final score given to rapidfuzz's token_set_ratio of the texts.
_FUZZ_SHARE = 0.15


@dataclass(frozen=True)
class OrgHit:
    nipt: str
    name: str
    city: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    decision: Decision
    results: tuple[OrgHit, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "decision": self.decision,
            "results": [{"nipt": h.nipt, "name": h.name, "city": h.city, "score": h.score}
                        for h in self.results],
        }


@dataclass(frozen=True)
class OrgRecord:
    """What the index needs to know of an organisation."""

    nipt: str
    name: str
    acronym: str | None
    city: str | None


class _Tables:
    """The index proper; replaced as a whole when the index is rebuilt."""

    def __init__(self, records: Iterable[OrgRecord]) -> None:
        self.nipts: list[str] = []
        self.names: list[str] = []
        self.cities: list[str] = []
        self.folded: list[str] = []
        self.name_words: list[tuple[int, ...]] = []
        self.city_words: list[tuple[int, ...]] = []
        self.acronyms: dict[str, list[int]] = {}
        # Names given in two languages ("Qendra Rinore ... / Youth Center ..."): each half
        # is a full name on its own.
        self.aliases: dict[int, tuple[tuple[int, ...], ...]] = {}
        self.vocab: dict[str, int] = {}
        postings: list[list[int]] = []
        for doc, record in enumerate(records):
            self.nipts.append(record.nipt.upper())
            self.names.append(record.name)
            self.cities.append(record.city or "")
            self.folded.append(fold(record.name))
            ids = tuple(self._word_id(word, postings) for word in name_tokens(record.name))
            for word_id in ids:
                postings[word_id].append(doc)
            self.name_words.append(ids)
            if " / " in record.name:
                self.aliases[doc] = tuple(
                    tuple(self.vocab[word] for word in name_tokens(part))
                    for part in record.name.split(" / ") if name_tokens(part))
            self.city_words.append(tuple(self._word_id(word, postings)
                                         for word in name_tokens(record.city or "")))
            acronym = fold(record.acronym or "").replace(" ", "")
            if acronym:
                self.acronyms.setdefault(acronym, []).append(doc)
        self.words = list(self.vocab)
        place_keys = {key for ids in self.city_words for word_id in ids
                      for key in keys(self.words[word_id])}
        self.places = {word_id for word, word_id in self.vocab.items()
                       if not keys(word).isdisjoint(place_keys)}
        self.by_nipt = {nipt: doc for doc, nipt in enumerate(self.nipts)}
        self.size = len(self.nipts)
        self.postings = [array("I", docs) for docs in postings]
        self.idf = [math.log((self.size + 1) / (len(docs) + 0.5)) + 0.1 for docs in postings]
        # Words for the kind of organisation weigh little even in a small registry.
        generic_idf = math.log(1 / GENERIC_SHARE) + 0.1
        for word, word_id in self.vocab.items():
            if not keys(word).isdisjoint(GENERIC_WORDS):
                self.idf[word_id] = min(self.idf[word_id], generic_idf)
        # A query word no name uses weighs like a word of a few names; an acronym
        # like a word of one name.
        self.unknown_weight = 0.5 * math.log(self.size + 2)
        self.acronym_weight = math.log(self.size + 2)
        # Typo and inflection look-up: stem -> words, one-deletion variant of a stem -> words.
        self.by_key: dict[str, list[int]] = {}
        self.by_deletion: dict[str, list[int]] = {}
        for word, word_id in self.vocab.items():
            for key in keys(word):
                self.by_key.setdefault(key, []).append(word_id)
                for variant in deletions(key):
                    self.by_deletion.setdefault(variant, []).append(word_id)

    def _word_id(self, word: str, postings: list[list[int]]) -> int:
        word_id = self.vocab.get(word)
        if word_id is None:
            word_id = self.vocab[word] = len(postings)
            postings.append([])
        return word_id

    def matches(self, word: str) -> dict[int, float]:
        """Index words that ``word`` may stand for, with a similarity in 0..1."""
        found: dict[int, float] = {}
        exact = self.vocab.get(word)
        if exact is not None:
            found[exact] = _SIM_EXACT
        word_keys = keys(word)
        for key in word_keys:
            for word_id in self.by_key.get(key, ()):
                found.setdefault(word_id, _SIM_STEM)
        if len(word) >= 4 and not found:  # only a word no name uses may be a typo
            near: set[int] = set()
            for key in word_keys:
                for variant in (key, *deletions(key)):
                    near.update(self.by_deletion.get(variant, ()))
                    if variant != key:
                        near.update(self.by_key.get(variant, ()))
            for word_id in near.difference(found):
                if self._one_typo_apart(word_keys, keys(self.words[word_id])):
                    found[word_id] = _SIM_TYPO
        for key in word_keys:
            for other in EQUIVALENTS.get(key, ()):
                for word_id in self.by_key.get(other, ()):
                    found.setdefault(word_id, _SIM_TRANSLATED)
        return found

    @staticmethod
    def _one_typo_apart(left: set[str], right: set[str]) -> bool:
        """Some stem of one word is one edit (or one swap of neighbours) from a stem of the other."""
        return any(OSA.distance(a, b, score_cutoff=1) <= 1
                   for a in left if len(a) >= 4 for b in right if len(b) >= 4)


@dataclass
class _Candidate:
    doc: int
    score: float
    recall: float
    precision: float
    by_acronym: bool


class RegistryIndex:
    """In-memory fuzzy index of the registry; see the module docstring."""

    def __init__(self, records: Iterable[OrgRecord], config: RegistryConfig | None = None) -> None:
        self.config = config or RegistryConfig()
        self._tables = _Tables(records)

    @staticmethod
    def records(db: Database) -> list[OrgRecord]:
        with db.session() as session:
            rows = session.execute(select(Organisation.nipt, Organisation.name,
                                          Organisation.acronym, Organisation.city)
                                   .order_by(Organisation.nipt))
            return [OrgRecord(*row) for row in rows]

    @classmethod
    def load(cls, db: Database, config: RegistryConfig | None = None) -> RegistryIndex:
        """Build the index from the organisations in the database."""
        return cls(cls.records(db), config)

    def rebuild(self, db: Database) -> None:
        """Re-read the database (after an import); searches meanwhile use the old index."""
        self._tables = _Tables(self.records(db))

    def __len__(self) -> int:
        return self._tables.size

    # -- search ---------------------------------------------------------------

    def search(self, query: str) -> SearchResult:
        """Decide what ``query`` names: one organisation, a few close ones, or none."""
        tables = self._tables
        nipt_match = _NIPT_IN_TEXT.search(query)
        if nipt_match:
            doc = tables.by_nipt.get(nipt_match.group(1).upper())
            if doc is None:
                return SearchResult(query, "not_found", ())
            return SearchResult(query, "found", (self._hit(tables, doc, 100.0),))

        capitalised = self._capitalised(query)
        words = query_tokens(query, keep=capitalised)[:_MAX_QUERY_WORDS]
        word_matches = [tables.matches(word) for word in words]
        acronym_docs = self._acronym_docs(tables, words, capitalised)
        candidates = self._generate(tables, word_matches, acronym_docs)
        if not candidates:
            return SearchResult(query, "not_found", ())
        word_weights = self._word_weights(tables, word_matches)
        scored = [self._score(tables, doc, word_matches, word_weights, acronym_docs)
                  for doc in candidates]
        scored.sort(key=lambda c: -c.score)
        scored = self._fuzz_rerank(tables, words, scored[:_FUZZ_SHORTLIST])
        return self._decide(tables, query, scored)

    @staticmethod
    def _capitalised(query: str) -> frozenset[str]:
        """Folded words typed with two capitals or more: acronyms such as ``PA``, ``KPDh``."""
        return frozenset(fold(word) for word in re.findall(r"[^\W\d_]+", query)
                         if sum(ch.isupper() for ch in word) >= 2)

    def _acronym_docs(self, tables: _Tables, words: list[str],
                      capitalised: frozenset[str]) -> dict[int, frozenset[int]]:
        """Organisations whose acronym the query uses -> positions of the words that spell it.

        A word counts as an acronym when typed in capitals, or (three letters or
        more) when no name uses it as a word; two adjacent words count when joined
        they spell one (``Co-PLAN``).
        """
        found: dict[int, frozenset[int]] = {}
        spelled: list[tuple[str, frozenset[int]]] = [
            (word, frozenset((i,))) for i, word in enumerate(words)
            if word in capitalised or (len(word) >= 3 and word not in tables.vocab)]
        spelled += [(words[i] + words[i + 1], frozenset((i, i + 1)))
                    for i in range(len(words) - 1)]
        for acronym, positions in spelled:
            for doc in tables.acronyms.get(acronym, ()):
                found[doc] = found.get(doc, frozenset()) | positions
        return found

    def _generate(self, tables: _Tables, word_matches: list[dict[int, float]],
                  acronym_docs: dict[int, frozenset[int]]) -> list[int]:
        """The shortlist: organisations reached through the rarest query words."""
        generic = max(50, int(_COMMON_SHARE * tables.size))
        weights: dict[int, float] = {}
        pool = sorted(
            ((len(tables.postings[word_id]), word_id, sim)
             for matches in word_matches for word_id, sim in matches.items()),
            key=lambda item: item[0])
        walked = 0
        rest: dict[int, float] = {}
        for length, word_id, sim in pool:
            gain = tables.idf[word_id] * sim
            if (word_id in tables.places or sim <= _SIM_TRANSLATED or length > generic
                    or (walked and walked + length > _POSTINGS_BUDGET)):
                # Too common, a city or a translation: it only adds weight to
                # candidates found otherwise.
                rest[word_id] = max(rest.get(word_id, 0.0), gain)
                continue
            walked += length
            for doc in tables.postings[word_id]:
                weights[doc] = weights.get(doc, 0.0) + gain
        for doc in acronym_docs:
            weights[doc] = weights.get(doc, 0.0) + tables.acronym_weight
        if len(weights) <= _SHORTLIST:
            return list(weights)
        if rest:
            for doc in weights:
                for word_id in (*tables.name_words[doc], *tables.city_words[doc]):
                    gain = rest.get(word_id)
                    if gain is not None:
                        weights[doc] += gain
        return sorted(weights, key=weights.__getitem__, reverse=True)[:_SHORTLIST]

    @staticmethod
    def _word_weights(tables: _Tables, word_matches: list[dict[int, float]]) -> list[float]:
        """How much each query word identifies: the IDF of what it matches as typed (of a
        translation only when nothing else); the weight of an unknown word when nothing."""
        weights = []
        for matches in word_matches:
            direct = [tables.idf[w] * sim for w, sim in matches.items() if sim > _SIM_TRANSLATED]
            translated = [tables.idf[w] * sim for w, sim in matches.items()]
            weights.append(max(direct or translated or [tables.unknown_weight]))
        return weights

    def _score(self, tables: _Tables, doc: int, word_matches: list[dict[int, float]],
               word_weights: list[float], acronym_docs: dict[int, frozenset[int]]) -> _Candidate:
        idf = tables.idf
        name_ids = tables.name_words[doc]
        city_ids = tables.city_words[doc]
        covered: dict[int, float] = {}
        query_weight = query_hit = 0.0
        acronym_at = acronym_docs.get(doc, frozenset())
        for position, matches in enumerate(word_matches):
            if position in acronym_at:
                # The acronym stands for the whole name.
                weight = max([tables.acronym_weight, *(idf[w] * s for w, s in matches.items())])
                query_weight += weight
                query_hit += weight
                continue
            if not matches:
                # A word no name uses: filler the lists missed, or the distinctive
                # word of an organisation that is not registered.
                query_weight += word_weights[position]
                continue
            weight = word_weights[position]
            query_weight += weight
            best = 0.0
            for word_id in name_ids:
                sim = matches.get(word_id)
                if sim is not None:
                    best = max(best, sim)
                    if sim > covered.get(word_id, 0.0):
                        covered[word_id] = sim
            if best < 1.0:
                for word_id in city_ids:
                    best = max(best, matches.get(word_id, 0.0))
            query_hit += weight * best
        if acronym_at:
            recall = 1.0
        else:
            recall = max(self._recall(idf, ids, covered)
                         for ids in tables.aliases.get(doc, (name_ids,)))
        precision = query_hit / query_weight if query_weight else 0.0
        score = 100.0 * recall ** _RECALL_EXP * precision ** _PRECISION_EXP
        return _Candidate(doc, score, recall, precision, bool(acronym_at))

    @staticmethod
    def _recall(idf: list[float], name_ids: tuple[int, ...], covered: dict[int, float]) -> float:
        """Share of the name's weight (IDF squared: generic words count little) the query covers."""
        total = sum(idf[w] ** 2 for w in name_ids)
        return sum(idf[w] ** 2 * covered.get(w, 0.0) for w in name_ids) / total if total else 0.0

    def _fuzz_rerank(self, tables: _Tables, words: list[str],
                     scored: list[_Candidate]) -> list[_Candidate]:
        """Order close calls by how alike the texts are, as rapidfuzz sees them.

        token_set_ratio is 100 whenever the query is a subset of the name, so it
        counts less for names the query covers only in part.
        """
        text = " ".join(words)
        for candidate in scored:
            name = tables.folded[candidate.doc]
            similarity = 100.0 if candidate.by_acronym else fuzz.token_set_ratio(text, name)
            similarity *= min(1.0, candidate.recall * 1.25)
            candidate.score = round((1 - _FUZZ_SHARE) * candidate.score
                                    + _FUZZ_SHARE * similarity, 1)
        scored.sort(key=lambda c: -c.score)
        return scored

    def _decide(self, tables: _Tables, query: str, scored: list[_Candidate]) -> SearchResult:
        config = self.config
        best = scored[0]
        runner_up = scored[1].score if len(scored) > 1 else 0.0
        if best.score >= config.found and best.score - runner_up >= config.margin:
            return SearchResult(query, "found", (self._hit(tables, best.doc, best.score),))
        close = [c for c in scored if c.score >= config.candidates][: config.max_candidates]
        if not close:
            return SearchResult(query, "not_found", ())
        return SearchResult(query, "candidates",
                            tuple(self._hit(tables, c.doc, c.score) for c in close))

    @staticmethod
    def _hit(tables: _Tables, doc: int, score: float) -> OrgHit:
        return OrgHit(tables.nipts[doc], tables.names[doc], tables.cities[doc], round(score, 1))
