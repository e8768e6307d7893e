"""Fuzzy search of the registry of organisations, held in memory.

People type names without diacritics, with typos, in another word order, only
the distinctive part, the acronym (with or without the city), in the other
language, with words joined or split ("eco albania"), inside a sentence, or
give the NIPT. The search works in two steps so that it never compares the
query with every name (the index itself is :mod:`bot.registry.index`):

1. **Candidates.** An inverted index maps each name word to the organisations
   using it. Query words are looked up by their stems, as two words a name
   joins (or one it splits), by one-typo "deletion variants" (only words no
   name uses are taken for typos) and by their Albanian/English equivalents
   (:mod:`bot.registry.words`). Words people wrap around a look-up ("kontakt",
   "status") count only for names that have them. The posting lists of the
   rarest matched words are walked, within a budget, and the organisations
   having the rarest words together are added however common each word is
   (at national scale every word of a name may be in thousands of names).
   Generic words (shoqata, qendra) weigh little, and city names never bring
   candidates on their own.
2. **Ranking.** The best few candidates are scored on how much of the name's
   weight the query covers (recall; the organisation's own city in its name
   weighs little) and how much of the query's identifying weight the
   organisation explains (precision: name, city or acronym), and rapidfuzz
   compares the texts to order close calls.

A query gets ``found`` only when the best organisation scores high, clearly
ahead of the next one, and no namesake (the same name, or nearly, the city
aside) fits the query as well; a close call gives ``candidates`` (the
``closest`` one first when only it explains every word of the query);
anything else ``not_found``. Thresholds come from the ``registry:`` section of
the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.config import RegistryConfig
from bot.registry import index as registry_index
from bot.registry import typed_nipts
from bot.registry.index import OrgRecord, Tables
from bot.registry.words import (
    EQUIVALENTS,
    GENERIC_WORDS,
    MIN_FUZZY,
    is_filler,
    keys,
    query_words,
)
from bot.storage import Database
from bot.text import Message, fold

Decision = Literal["found", "candidates", "not_found"]


# Stems this short are never taken for a typo of another.
_MIN_TYPO_STEM = 4
# Parts of a word written joined or split ("EcoAlbania") are at least this long.
_MIN_PART = 2
# A longer message is read only this far (a name is never this long).
_MAX_QUERY_WORDS = 40
# Similarity of a query word to a name word, by how they matched.
_SIM_EXACT, _SIM_STEM, _SIM_TYPO, _SIM_TRANSLATED = 1.0, 0.92, 0.8, 0.75
# Posting entries walked per query, at most (the rarest words first).
_POSTINGS_BUDGET = 6000
# The organisations having the rarest query words together are all scored when they
# are at most this many (see RegistryIndex._seeds).
_SEED_CAP = 8000
# Words used by more than this share of the registry never generate candidates.
_COMMON_SHARE = 0.08
# Candidates scored in full, and how many of the best are compared with rapidfuzz.
_SHORTLIST = 60
_FUZZ_SHORTLIST = 12
# score = 100 * recall^a * precision^b: a name word left out may be a detail the
# person did not type, a query word the organisation does not explain (another
# city, another distinctive word) points to a different organisation.
_RECALL_EXP, _PRECISION_EXP = 0.6, 1.0
# How much a name word naming the organisation's own city weighs in recall.
_OWN_PLACE_WEIGHT = 0.25
# Two names this alike (rapidfuzz ratio of their sorted word stems, the city and the
# kind of organisation aside, translated words taken as one) are namesakes: a query
# that fits both (precision, the kind aside, within this much) finds neither.
_NAMESAKE_SIMILARITY, _NAMESAKE_PRECISION = 90.0, 0.05
# Candidates within this many points of the best, explaining every query word, are all
# offered (beyond max_candidates).
_TIE = 3.0
# Share of the final score given to rapidfuzz's token_set_ratio of the texts.
_FUZZ_SHARE = 0.15
# Stems of the words that say what kind of organisation it is (see _namesakes).
_KIND_STEMS = frozenset(key for word in GENERIC_WORDS for key in keys(word))


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
    closest: bool = False     # candidates, the first alone explains every word of the query

    def as_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "decision": self.decision,
            "closest": self.closest,
            "results": [{"nipt": h.nipt, "name": h.name, "city": h.city, "score": h.score}
                        for h in self.results],
        }


def _matches(tables: Tables, word: str, *, exact_only: bool = False) -> dict[int, float]:
    """Index words that ``word`` may stand for, with a similarity in 0..1: itself, its
    stems, the two words it joins ("ecoalbania" for "Eco Albania"), a word one typo
    away, a translation (not for ``exact_only``: itself and its stems only)."""
    found: dict[int, float] = {}
    exact = tables.vocab.get(word)
    if exact is not None:
        found[exact] = _SIM_EXACT
    word_keys = keys(word)
    for key in word_keys:
        for word_id in tables.by_key.get(key, ()):
            found.setdefault(word_id, _SIM_STEM)
    if exact_only:
        return found
    if not found:
        for cut in range(_MIN_PART, len(word) - _MIN_PART + 1):
            left, right = tables.vocab.get(word[:cut]), tables.vocab.get(word[cut:])
            if left is not None and right is not None:
                found[left] = found[right] = _SIM_EXACT
    if len(word) >= 4 and not found:  # only a word no name uses may be a typo
        for key in word_keys:
            if len(key) < _MIN_TYPO_STEM:
                continue
            # One edit (or one swap of neighbours) from a stem of a name word; one of the
            # two at least MIN_FUZZY letters long. A scan of the stems in C: no table of
            # deletion variants to hold in memory.
            for stem, _, _ in process.extract(key, tables.stems, scorer=OSA.distance,
                                              score_cutoff=1, limit=None):
                if len(stem) >= _MIN_TYPO_STEM and max(len(stem), len(key)) >= MIN_FUZZY:
                    for word_id in tables.by_key[stem]:
                        found.setdefault(word_id, _SIM_TYPO)
    for key in word_keys:
        for other in EQUIVALENTS.get(key, ()):
            for word_id in tables.by_key.get(other, ()):
                found.setdefault(word_id, _SIM_TRANSLATED)
    return found


def _add_joined(tables: Tables, words: list[str], word_matches: list[dict[int, float]]) -> None:
    """Two query words that a name writes as one ("eco albania" for "EcoAlbania") both
    stand for that word."""
    for i in range(len(words) - 1):
        joined = words[i] + words[i + 1]
        if min(len(words[i]), len(words[i + 1])) < _MIN_PART:
            continue
        for key in keys(joined):
            for word_id in tables.by_key.get(key, ()):
                for matches in word_matches[i:i + 2]:
                    matches[word_id] = max(matches.get(word_id, 0.0),
                                           _SIM_EXACT if key == joined else _SIM_STEM)


@dataclass
class _Candidate:
    doc: int
    score: float
    recall: float
    precision: float
    by_acronym: bool
    covers: bool          # every query word is in the name, city or acronym
    # Precision without the query's words of kind (shoqata), a translated or mistyped
    # word counting as the word: how well the query names this organisation, not its kind.
    precision_of_kind_aside: float


class RegistryIndex:
    """Fuzzy index of the registry; see the module docstring and :mod:`bot.registry.index`."""

    def __init__(self, records: Iterable[OrgRecord], config: RegistryConfig | None = None) -> None:
        self.config = config or RegistryConfig()
        self._tables = Tables.build(sorted(records, key=lambda record: record.nipt.upper()))

    @classmethod
    def load(cls, db: Database, config: RegistryConfig | None = None) -> RegistryIndex:
        """The saved index, brought up to date (built and saved when there is none)."""
        index = cls((), config)
        index._tables = registry_index.load(db)
        return index

    def refresh(self, db: Database) -> bool:
        """Take in the organisations imported or removed since (``ngo-faq-bot registry``
        runs in another process): only those, unless some are no longer logged (a bot
        stopped for days), then the saved index. True if anything changed.

        Searches on other threads meanwhile use the index as it was: the new one
        replaces it in one assignment once complete."""
        tables = self._tables
        if registry_index.latest_change(db) == tables.change_id:
            return False
        if registry_index.changes_kept_since(db) > tables.change_id + 1:
            self._tables = registry_index.load(db)
            return True
        updated = registry_index.update(db, tables)
        if updated is None:
            return False
        self._tables = updated
        return True

    def save(self, db: Database) -> None:
        """Save the index, so that the next start loads it instead of building it."""
        registry_index.save(db, self._tables)

    def example(self) -> str | None:
        """The name of one organisation of the registry (the first by NIPT), for the help
        of /search: an example that finds something here."""
        tables = self._tables
        return next((tables.name(doc) for doc in range(len(tables.dead)) if not tables.dead[doc]),
                    None)

    def __len__(self) -> int:
        return self._tables.size

    # -- search ---------------------------------------------------------------

    def search(self, message: Message) -> SearchResult:
        """Decide what ``message`` names: one organisation (or the organisations of the
        NIPTs it quotes: ``found`` with each found), a few close ones, or none."""
        tables = self._tables
        query = message.text
        nipts = typed_nipts(query)
        if nipts:
            docs = (tables.doc_of(nipt) for nipt in nipts)
            hits = tuple(self._hit(tables, doc, 100.0) for doc in docs if doc is not None)
            return SearchResult(query, "found" if hits else "not_found", hits)

        # Typed in capitals, a word may be an acronym ("PA"); filler ("NIPT", "INFO") stays
        # filler unless some organisation's acronym it is.
        capitalised = frozenset(w for w in message.capitalised
                                if w in tables.acronyms or not is_filler(w))
        typed = query_words(message.words, keep=capitalised)[:_MAX_QUERY_WORDS]
        word_matches = [_matches(tables, word, exact_only=optional) for word, optional in typed]
        _add_joined(tables, [word for word, _ in typed], word_matches)
        # Filler no name uses is only filler.
        kept = [i for i, (_, optional) in enumerate(typed) if word_matches[i] or not optional]
        words = [typed[i][0] for i in kept]
        optional = frozenset(n for n, i in enumerate(kept) if typed[i][1])
        word_matches = [word_matches[i] for i in kept]
        acronym_docs = self._acronym_docs(tables, words, capitalised, optional)
        candidates = self._generate(tables, word_matches, acronym_docs)
        if not candidates:
            return SearchResult(query, "not_found", ())
        word_weights = self._word_weights(tables, word_matches)
        kinds = frozenset(i for i, word in enumerate(words) if _is_kind(word))
        scored = [self._score(tables, doc, word_matches, word_weights, acronym_docs, optional,
                              kinds)
                  for doc in candidates]
        scored.sort(key=lambda c: -c.score)
        scored = self._fuzz_rerank(tables, words, scored[:_FUZZ_SHORTLIST])
        rare = any(i not in optional and i not in kinds and tables.places.isdisjoint(matches)
                   and self._in_few_names(tables, matches, self.config.max_candidates)
                   for i, matches in enumerate(word_matches))
        return self._decide(tables, query, scored, rare)

    @staticmethod
    def _in_few_names(tables: Tables, matches: dict[int, float], at_most: int) -> bool:
        """Whether at most ``at_most`` organisations have a name with one of the words
        ``matches`` (the same organisation counted once per word): a name word (not a
        place's, not a kind's) in a few names tells them from the others. Stops counting
        past ``at_most``: a common word's postings are long."""
        live = (doc for word_id in matches for doc in tables.postings[word_id]
                if not tables.dead[doc])
        return next(islice(live, at_most, None), None) is None

    def _acronym_docs(self, tables: Tables, words: list[str], capitalised: frozenset[str],
                      optional: frozenset[int]) -> dict[int, frozenset[int]]:
        """Organisations whose acronym the query uses -> positions of the words that spell it.

        A word counts as an acronym when typed in capitals, or (three letters or
        more) when no name uses it as a word; two adjacent words count when joined
        they spell one (``Co-PLAN``).
        """
        found: dict[int, frozenset[int]] = {}
        spelled: list[tuple[str, frozenset[int]]] = [
            (word, frozenset((i,))) for i, word in enumerate(words)
            if word in capitalised
            or (len(word) >= 3 and word not in tables.vocab and i not in optional)]
        spelled += [(words[i] + words[i + 1], frozenset((i, i + 1)))
                    for i in range(len(words) - 1)]
        for acronym, positions in spelled:
            for doc in tables.acronyms.get(acronym, ()):
                if tables.dead[doc]:
                    continue
                found[doc] = found.get(doc, frozenset()) | positions
        return found

    def _generate(self, tables: Tables, word_matches: list[dict[int, float]],
                  acronym_docs: dict[int, frozenset[int]]) -> list[int]:
        """The shortlist: organisations reached through the rarest query words, and those
        having the rarest words together (:meth:`_seeds`), by the weight of the query
        words they have."""
        generic = max(50, int(_COMMON_SHARE * tables.size))
        reached: set[int] = set()
        gains: dict[int, float] = {}
        # A translation brings candidates only for a word nothing brings as typed (a
        # name asked in the other language); otherwise it only adds weight.
        pool = sorted(
            ((len(tables.postings[word_id]), word_id, sim,
              sim > _SIM_TRANSLATED or max(matches.values()) <= _SIM_TRANSLATED)
             for matches in word_matches for word_id, sim in matches.items()),
            key=lambda item: item[0])
        walked = 0
        for length, word_id, sim, generates in pool:
            gains[word_id] = max(gains.get(word_id, 0.0), tables.idf[word_id] * sim)
            if (word_id in tables.places or not generates or length > generic
                    or (walked and walked + length > _POSTINGS_BUDGET)):
                continue  # too common, a city or a translation: only weight
            walked += length
            reached.update(tables.postings[word_id])
        reached |= self._seeds(tables, word_matches)
        reached.update(acronym_docs)
        live = [doc for doc in reached if not tables.dead[doc]]
        if len(live) <= _SHORTLIST:
            return live
        # By the weight of the query words they have; of equals, the names with the
        # fewest words the query does not have first.
        # A query word weighs what it weighs in the score, times how well the name's
        # word matches it (a rarer inflection must not outweigh the word as typed).
        position_weights = self._word_weights(tables, word_matches)
        by_word: dict[int, list[tuple[int, float]]] = {}
        for position, matches in enumerate(word_matches):
            for word_id, sim in matches.items():
                by_word.setdefault(word_id, []).append((position,
                                                        position_weights[position] * sim))
        weights: dict[int, tuple[float, int]] = {}
        for doc in live:
            name = tables.name_words(doc)
            best: dict[int, float] = {}  # each query word counts once, by its best match
            for word_id in {*name, *tables.city_words(doc)}:
                for position, gain in by_word.get(word_id, ()):
                    if gain > best.get(position, 0.0):
                        best[position] = gain
            had = sum(best.values())
            if doc in acronym_docs:
                had += tables.acronym_weight
            weights[doc] = (round(had, 6), -sum(word_id not in gains for word_id in name))
        return sorted(weights, key=weights.__getitem__, reverse=True)[:_SHORTLIST]

    @staticmethod
    def _seeds(tables: Tables, word_matches: list[dict[int, float]]) -> set[int]:
        """Organisations having the rarest query words together, however common each is:
        at national scale every word of a name may be in thousands of names. The rarest
        word's organisations, narrowed by the next rarest words to at most
        ``_SEED_CAP``; the same without the rarest word (a word the name lacks)."""
        words = sorted(
            (sum(len(tables.postings[w]) for w in ids), ids)
            for ids in ([w for w, sim in matches.items() if sim > _SIM_TRANSLATED]
                        or list(matches) for matches in word_matches) if ids)
        seeds: set[int] = set()
        for start in (0, 1):
            found: set[int] | None = None
            for _, ids in words[start:]:
                docs = {doc for w in ids for doc in tables.postings[w]}
                found = docs if found is None else found & docs
                if len(found) <= _SEED_CAP:
                    break
            if found is not None and len(found) <= _SEED_CAP:
                seeds |= found
        return seeds

    @staticmethod
    def _word_weights(tables: Tables, word_matches: list[dict[int, float]]) -> list[float]:
        """How much each query word identifies: the IDF of what it matches as typed (of a
        translation only when nothing else); the weight of an unknown word when nothing."""
        weights = []
        for matches in word_matches:
            direct = [tables.idf[w] * sim for w, sim in matches.items() if sim > _SIM_TRANSLATED]
            translated = [tables.idf[w] * sim for w, sim in matches.items()]
            weights.append(max(direct or translated or [tables.unknown_weight]))
        return weights

    def _score(self, tables: Tables, doc: int, word_matches: list[dict[int, float]],
               word_weights: list[float], acronym_docs: dict[int, frozenset[int]],
               optional: frozenset[int], kinds: frozenset[int]) -> _Candidate:
        idf = tables.idf
        name_ids = tables.name_words(doc)
        city_ids = tables.city_words(doc)
        covered: dict[int, float] = {}
        query_weight = query_hit = 0.0
        distinct_weight = distinct_hit = 0.0  # the kind aside, any match counting in full
        acronym_at = acronym_docs.get(doc, frozenset())
        covers = True
        for position, matches in enumerate(word_matches):
            if position in acronym_at:
                # The acronym stands for the whole name.
                weight = max([tables.acronym_weight, *(idf[w] * s for w, s in matches.items())])
                query_weight += weight
                query_hit += weight
                distinct_weight += weight
                distinct_hit += weight
                continue
            if not matches:
                # A word no name uses: filler the lists missed, or the distinctive
                # word of an organisation that is not registered.
                query_weight += word_weights[position]
                distinct_weight += word_weights[position]
                covers = False
                continue
            weight = word_weights[position]
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
            if best == 0.0 and position in optional:
                # Filler around the look-up, for this organisation; but a name that has
                # the word ("... Dega 2") fits the query better than its namesake without.
                if position not in kinds:
                    distinct_weight += weight
                continue
            covers = covers and best > 0.0
            query_weight += weight
            query_hit += weight * best
            if position not in kinds:
                distinct_weight += weight
                distinct_hit += weight if best > 0.0 else 0.0
        if acronym_at:
            recall = 1.0
        else:
            place = self._own_place(tables, doc)
            recall = max(self._recall(idf, ids, covered, place) for ids in tables.halves(doc))
        precision = query_hit / query_weight if query_weight else 0.0
        kind_aside = distinct_hit / distinct_weight if distinct_weight else precision
        score = 100.0 * recall ** _RECALL_EXP * precision ** _PRECISION_EXP
        return _Candidate(doc, score, recall, precision, bool(acronym_at), covers, kind_aside)

    @staticmethod
    def _own_place(tables: Tables, doc: int) -> frozenset[int]:
        """Words of the name that name the organisation's own city ("... Shkodër" in
        Shkodër): people often leave them out, and say the city elsewhere if at all."""
        city_keys = {key for word_id in tables.city_words(doc)
                     for key in keys(tables.words[word_id])}
        return frozenset(word_id for word_id in tables.name_words(doc)
                         if not city_keys.isdisjoint(keys(tables.words[word_id])))

    @staticmethod
    def _recall(idf: list[float], name_ids: tuple[int, ...], covered: dict[int, float],
                place: frozenset[int] = frozenset()) -> float:
        """Share of the name's weight (IDF squared: generic words count little, the own
        city a quarter) the query covers."""
        weights = [idf[w] ** 2 * (_OWN_PLACE_WEIGHT if w in place else 1.0) for w in name_ids]
        total = sum(weights)
        return sum(weight * covered.get(w, 0.0)
                   for w, weight in zip(name_ids, weights, strict=True)) / total if total else 0.0

    def _fuzz_rerank(self, tables: Tables, words: list[str],
                     scored: list[_Candidate]) -> list[_Candidate]:
        """Order close calls by how alike the texts are, as rapidfuzz sees them.

        token_set_ratio is 100 whenever the query is a subset of the name, so it
        counts less for names the query covers only in part.
        """
        text = " ".join(words)
        for candidate in scored:
            name = fold(tables.name(candidate.doc))
            similarity = 100.0 if candidate.by_acronym else fuzz.token_set_ratio(text, name)
            similarity *= min(1.0, candidate.recall * 1.25)
            candidate.score = round((1 - _FUZZ_SHARE) * candidate.score
                                    + _FUZZ_SHARE * similarity, 1)
        scored.sort(key=lambda c: -c.score)
        return scored

    def _decide(self, tables: Tables, query: str, scored: list[_Candidate],
                rare: bool) -> SearchResult:
        """``found`` for a clear winner that has no namesake the query fits as well;
        else the close ones as ``candidates`` (``closest`` when only one of them
        explains every word of the query: it comes first); else, when a word of the query
        is in a few names only (``rare``), the organisations whose names have every word
        of it, or a word one typo or an inflection away ("Greenhollow", "Greenhollw" for
        "Greenhollow Environmental Alliance": one word of three scores under
        ``candidates``, yet names it); else ``not_found``."""
        config = self.config
        best = scored[0]
        runner_up = scored[1].score if len(scored) > 1 else 0.0
        namesakes = [other for other in scored[1:] if self._namesakes(tables, best, other)]
        if best.score >= config.found and best.score - runner_up >= config.margin and not namesakes:
            return SearchResult(query, "found", (self._hit(tables, best.doc, best.score),))
        # A namesake of the best is offered beside it, however low it scores.
        close = [c for c in scored
                 if c.score >= config.candidates or (best.score >= config.candidates
                                                     and c in namesakes)]
        # Organisations that fit the query as well as the last one offered are offered
        # too (up to twice as many): the right one of many namesakes is among them.
        limit = config.max_candidates
        while (limit < len(close) and limit < 2 * config.max_candidates
               and close[limit].covers and close[limit].score >= close[0].score - _TIE):
            limit += 1
        close = close[:limit]
        if not close and rare:
            close = [c for c in scored if c.covers and c.precision >= _SIM_TYPO][:limit]
        if not close:
            return SearchResult(query, "not_found", ())
        covering = [c for c in close if c.covers]
        closest = len(covering) == 1
        if closest:
            close.remove(covering[0])
            close.insert(0, covering[0])
        return SearchResult(query, "candidates",
                            tuple(self._hit(tables, c.doc, c.score) for c in close), closest)

    @staticmethod
    def _namesakes(tables: Tables, best: _Candidate, other: _Candidate) -> bool:
        """``other`` fits the query as well as ``best`` and bears the same name, or
        nearly: the city in the name, the kind of organisation ("Shoqata", "Qendra",
        "Network": people mix them up) and the language aside. The query cannot tell
        them apart, so it is answered with both, never with one of them."""
        if other.precision_of_kind_aside < best.precision_of_kind_aside - _NAMESAKE_PRECISION:
            return False
        names = []
        for candidate in (best, other):
            city = set(tables.city_words(candidate.doc))
            stems = (_canonical(tables.words[w]) for w in tables.name_words(candidate.doc)
                     if w not in city and not _is_kind(tables.words[w]))
            names.append(" ".join(sorted(stems)))
        return fuzz.ratio(*names) >= _NAMESAKE_SIMILARITY

    @staticmethod
    def _hit(tables: Tables, doc: int, score: float) -> OrgHit:
        return OrgHit(tables.nipt(doc), tables.name(doc), tables.city(doc), round(score, 1))


def _is_kind(word: str) -> bool:
    """``word`` says what kind of organisation it is (shoqata, qendrës, network)."""
    return not _KIND_STEMS.isdisjoint(keys(word))


def _canonical(word: str) -> str:
    """One stem for ``word`` and its translations, so that "gruas" and "women" compare
    equal."""
    return min(min(keys(other), key=lambda key: (len(key), key))
               for other in {word, *EQUIVALENTS.get(word, ())})
