"""The registry search index: compact tables, saved in the database, brought up to date
with the changes since.

A national registry has hundreds of thousands of organisations; the index
keeps per organisation only packed bytes and integer arrays (its NIPT, name,
city, word ids, and its place in the posting lists of its words), about a
hundred bytes, instead of Python objects. Reading every name and cutting it
into words takes seconds at that size, so the index is saved in the
``registry_index`` table, with the id of the last ``registry_changes`` row it
includes; a restart loads it and applies only the changes made since (an
import logs each NIPT whose name, acronym or city it changed). A changed
organisation gets a new row (document) and its old one is marked dead, so the
arrays only ever grow, until more than a quarter of the documents are old
versions: then the index is built again.

Searches run on other threads while a refresh applies changes: the changes are
applied to a copy of the tables (:meth:`Tables.with_changes`), which replaces them
in one assignment once complete, so a search reads either the tables before the
changes or the tables after them, never tables halfway through.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import compress
from typing import overload

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.registry.words import GENERIC_SHARE, GENERIC_WORDS, keys, name_tokens
from bot.storage import Database, Organisation, RegistryChange, SavedRegistryIndex
from bot.text import fold

# Version 2: cities numbered in 32 bits (a registry may name more than 65,535 places).
_MAGIC = b"ngo-faq-bot registry index 2\n"
# Marks the end of one language's half in a name given in two ("... / ...").
_HALF = 0xFFFFFFFF
_SAVED_ID = 1
# How long the change log keeps changes the saved index already has (a running bot
# applies them within its refresh interval).
CHANGES_KEPT = timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class OrgRecord:
    """What the index needs to know of an organisation."""

    nipt: str
    name: str
    acronym: str | None
    city: str | None


INDEXED_COLUMNS = tuple(field.name for field in dataclasses.fields(OrgRecord)
                        if field.name != "nipt")
"""The columns of an organisation the index reads, besides its NIPT: a change to any
other (phone, status...) is no change to the index."""


class _Nipts(Sequence[bytes]):
    """The first ``size`` NIPTs of a packed table, as a sequence ``bisect`` can search."""

    def __init__(self, packed: bytearray, size: int) -> None:
        self.packed, self.size = packed, size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, doc: int) -> bytes: ...
    @overload
    def __getitem__(self, doc: slice) -> Sequence[bytes]: ...
    def __getitem__(self, doc: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(doc, slice):
            raise TypeError("no slices")
        return bytes(self.packed[doc * 10:doc * 10 + 10])


class Tables:
    """The index proper. Documents are numbered in the order they were added; the
    first ``sorted_size`` are sorted by NIPT (a full build), later ones are in
    ``added`` (changes applied since)."""

    def __init__(self) -> None:
        self.nipts = bytearray()                  # 10 ASCII bytes a document
        self.name_bytes = bytearray()             # the names, UTF-8, one after another
        self.name_ends = array("I")
        self.city_of = array("I")                 # index into self.city_names
        self.word_ends = array("I")
        self.word_ids = array("I")                # name word ids, _HALF between halves
        self.dead = bytearray()                   # 1: changed or removed since it was added
        self.city_names: list[str] = []
        self.city_ids: dict[str, int] = {}
        self.city_word_ids: list[tuple[int, ...]] = []
        self.vocab: dict[str, int] = {}
        self.words: list[str] = []
        self.postings: list[array[int]] = []
        self.acronyms: dict[str, array[int]] = {}
        self.sorted_size = 0
        self.added: dict[str, int] = {}
        self.change_id = 0
        self.size = 0                             # live documents

    # -- building ----------------------------------------------------------

    @classmethod
    def build(cls, records: Iterable[OrgRecord], change_id: int = 0) -> Tables:
        """Tables of ``records``, which must come sorted by NIPT."""
        tables = cls()
        for record in records:
            tables._add(record)
        tables.sorted_size = len(tables.dead)
        tables.change_id = change_id
        tables.finish()
        return tables

    def _add(self, record: OrgRecord) -> int:
        doc = len(self.dead)
        nipt = record.nipt.upper().encode("ascii")
        if len(nipt) != 10:
            raise ValueError(f"malformed NIPT {record.nipt!r}")
        halves = [part for part in record.name.split(" / ") if name_tokens(part)] \
            if " / " in record.name else []
        if len(halves) > 1:
            ids: list[int] = []
            for part in halves:
                ids += [self._word_id(word) for word in name_tokens(part)] + [_HALF]
            ids.pop()
        else:
            ids = [self._word_id(word) for word in name_tokens(record.name)]
        city = record.city or ""
        city_id = self.city_ids.get(city)
        if city_id is None:
            city_id = self.city_ids[city] = len(self.city_names)
            self.city_names.append(city)
            self.city_word_ids.append(tuple(self._word_id(w) for w in name_tokens(city)))
        self.nipts += nipt
        self.name_bytes += record.name.encode("utf-8")
        self.name_ends.append(len(self.name_bytes))
        self.city_of.append(city_id)
        self.word_ids.extend(ids)
        self.word_ends.append(len(self.word_ids))
        self.dead.append(0)
        acronym = fold(record.acronym or "").replace(" ", "")
        if acronym:
            self.acronyms.setdefault(acronym, array("I")).append(doc)
        for word_id in dict.fromkeys(ids):
            if word_id != _HALF:
                self.postings[word_id].append(doc)
        self.size += 1
        return doc

    def _word_id(self, word: str) -> int:
        word_id = self.vocab.get(word)
        if word_id is None:
            word_id = len(self.words)
            self.words.append(word)
            self.postings.append(array("I"))
            self.vocab[word] = word_id
        return word_id

    def finish(self) -> None:
        """Weights and look-up tables derived from the words (a few thousand of them)."""
        place_keys = {key for ids in self.city_word_ids for word_id in ids
                      for key in keys(self.words[word_id])}
        self.places = {word_id for word, word_id in self.vocab.items()
                       if not keys(word).isdisjoint(place_keys)}
        size = max(self.size, 1)
        # Of the live documents: the old versions of changed organisations are still in
        # the posting lists.
        frequency = [len(docs) for docs in self.postings]
        for doc in compress(range(len(self.dead)), self.dead):
            for word_id in self.name_words(doc):
                frequency[word_id] -= 1
        self.idf = [math.log((size + 1) / (docs + 0.5)) + 0.1 for docs in frequency]
        # Words for the kind of organisation weigh little even in a small registry.
        generic_idf = math.log(1 / GENERIC_SHARE) + 0.1
        for word, word_id in self.vocab.items():
            if not keys(word).isdisjoint(GENERIC_WORDS):
                self.idf[word_id] = min(self.idf[word_id], generic_idf)
        # A query word no name uses weighs like a word of a few names; an acronym
        # like a word of one name.
        self.unknown_weight = 0.5 * math.log(size + 2)
        self.acronym_weight = math.log(size + 2)
        # Inflection and typo look-up: stem -> words, and the stems to scan for typos.
        self.by_key: dict[str, list[int]] = {}
        for word, word_id in self.vocab.items():
            for key in keys(word):
                self.by_key.setdefault(key, []).append(word_id)
        self.stems = list(self.by_key)

    @property
    def worn(self) -> bool:
        """More than a quarter of the documents are old versions (then build again)."""
        return len(self.dead) - self.size > self.size // 4

    # -- reading -------------------------------------------------------------

    def nipt(self, doc: int) -> str:
        return self.nipts[doc * 10:doc * 10 + 10].decode("ascii")

    def name(self, doc: int) -> str:
        start = self.name_ends[doc - 1] if doc else 0
        return self.name_bytes[start:self.name_ends[doc]].decode("utf-8")

    def city(self, doc: int) -> str:
        return self.city_names[self.city_of[doc]]

    def city_words(self, doc: int) -> tuple[int, ...]:
        return self.city_word_ids[self.city_of[doc]]

    def halves(self, doc: int) -> list[tuple[int, ...]]:
        """The name's word ids; of each language's half for a name given in two."""
        start = self.word_ends[doc - 1] if doc else 0
        ids = self.word_ids[start:self.word_ends[doc]]
        if _HALF not in ids:
            return [tuple(ids)]
        parts: list[tuple[int, ...]] = []
        part: list[int] = []
        for word_id in ids:
            if word_id == _HALF:
                parts.append(tuple(part))
                part = []
            else:
                part.append(word_id)
        return [*parts, tuple(part)]

    def name_words(self, doc: int) -> tuple[int, ...]:
        start = self.word_ends[doc - 1] if doc else 0
        return tuple(dict.fromkeys(w for w in self.word_ids[start:self.word_ends[doc]]
                                   if w != _HALF))

    def doc_of(self, nipt: str) -> int | None:
        """The live document of ``nipt``, if the registry has it."""
        doc = self.added.get(nipt)
        if doc is None:
            key = nipt.encode("ascii", "replace")
            found = bisect_left(_Nipts(self.nipts, self.sorted_size), key)
            if found < self.sorted_size and self.nipt(found) == nipt:
                doc = found
        return doc if doc is not None and not self.dead[doc] else None

    # -- changes ---------------------------------------------------------------

    def with_changes(self, records: dict[str, OrgRecord | None], change_id: int) -> Tables:
        """New tables: these with the current state of the organisations that changed
        (None: removed). These tables are left as they are, for the searches reading
        them meanwhile."""
        tables = self._copy()
        for nipt, record in records.items():
            old = tables.doc_of(nipt)
            if record is not None:
                tables.added[nipt] = tables._add(record)
            if old is not None:
                tables.dead[old] = 1
                tables.size -= 1
            elif record is None:
                tables.added.pop(nipt, None)
        tables.change_id = change_id
        tables.finish()
        return tables

    def _copy(self) -> Tables:
        """Tables equal to these that share nothing :meth:`with_changes` changes (a few
        hundredths of a second for 200,000 organisations, in the refresh's thread)."""
        tables = Tables()
        tables.nipts, tables.name_bytes = self.nipts[:], self.name_bytes[:]
        tables.name_ends, tables.city_of = self.name_ends[:], self.city_of[:]
        tables.word_ends, tables.word_ids = self.word_ends[:], self.word_ids[:]
        tables.dead = self.dead[:]
        tables.city_names, tables.city_ids = self.city_names[:], dict(self.city_ids)
        tables.city_word_ids = self.city_word_ids[:]
        tables.vocab, tables.words = dict(self.vocab), self.words[:]
        tables.postings = [docs[:] for docs in self.postings]
        tables.acronyms = {acronym: docs[:] for acronym, docs in self.acronyms.items()}
        tables.sorted_size, tables.added = self.sorted_size, dict(self.added)
        tables.change_id, tables.size = self.change_id, self.size
        return tables

    # -- saving ------------------------------------------------------------------

    def dump(self) -> bytes:
        """The tables as bytes: a JSON header, then the arrays' raw bytes."""
        lengths = array("I", (len(docs) for docs in self.postings))
        acronym_docs = array("I")
        acronym_sizes = array("I")
        for docs in self.acronyms.values():
            acronym_docs.extend(docs)
            acronym_sizes.append(len(docs))
        blobs: dict[str, bytes] = {
            "nipts": bytes(self.nipts), "name_bytes": bytes(self.name_bytes),
            "name_ends": self.name_ends.tobytes(), "city_of": self.city_of.tobytes(),
            "word_ends": self.word_ends.tobytes(), "word_ids": self.word_ids.tobytes(),
            "dead": bytes(self.dead), "posting_lengths": lengths.tobytes(),
            "postings": b"".join(docs.tobytes() for docs in self.postings),
            "acronym_sizes": acronym_sizes.tobytes(), "acronym_docs": acronym_docs.tobytes(),
        }
        header = json.dumps({
            "byteorder": sys.byteorder, "itemsize": array("I").itemsize,
            "sizes": {key: len(value) for key, value in blobs.items()},
            "cities": self.city_names, "words": self.words, "acronyms": list(self.acronyms),
            "sorted_size": self.sorted_size, "added": self.added,
            "change_id": self.change_id, "size": self.size,
        }, ensure_ascii=False).encode("utf-8")
        return b"".join([_MAGIC, struct.pack("<I", len(header)), header, *blobs.values()])

    @classmethod
    def load(cls, data: bytes) -> Tables | None:
        """Tables saved by :meth:`dump`; None if they were saved by another version, on
        another kind of machine, or damaged (then the index is built again)."""
        if not data.startswith(_MAGIC):
            return None
        try:
            return cls._read(data)
        except (ValueError, KeyError, TypeError, IndexError, struct.error):
            return None  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors

    @classmethod
    def _read(cls, data: bytes) -> Tables | None:
        start = len(_MAGIC)
        (length,) = struct.unpack_from("<I", data, start)
        start += 4
        header = json.loads(data[start:start + length])
        if header["byteorder"] != sys.byteorder or header["itemsize"] != array("I").itemsize:
            return None
        start += length
        view = memoryview(data)
        blobs: dict[str, memoryview] = {}
        for key, size in header["sizes"].items():
            blobs[key] = view[start:start + size]
            start += size

        def ints(key: str) -> array[int]:
            values = array("I")
            values.frombytes(blobs[key])
            return values

        tables = cls()
        tables.nipts = bytearray(blobs["nipts"])
        tables.name_bytes = bytearray(blobs["name_bytes"])
        tables.name_ends, tables.city_of = ints("name_ends"), ints("city_of")
        tables.word_ends, tables.word_ids = ints("word_ends"), ints("word_ids")
        tables.dead = bytearray(blobs["dead"])
        tables.city_names = header["cities"]
        tables.city_ids = {city: i for i, city in enumerate(tables.city_names)}
        tables.words = header["words"]
        tables.vocab = {word: i for i, word in enumerate(tables.words)}
        tables.city_word_ids = [tuple(tables.vocab[w] for w in name_tokens(city))
                                for city in tables.city_names]
        postings = ints("postings")
        offset = 0
        for size in ints("posting_lengths"):
            tables.postings.append(postings[offset:offset + size])
            offset += size
        acronym_docs = ints("acronym_docs")
        offset = 0
        for acronym, size in zip(header["acronyms"], ints("acronym_sizes"), strict=True):
            tables.acronyms[acronym] = acronym_docs[offset:offset + size]
            offset += size
        tables.sorted_size, tables.added = header["sorted_size"], header["added"]
        tables.change_id, tables.size = header["change_id"], header["size"]
        tables.finish()
        return tables


# -- the database side -----------------------------------------------------------

def records(db: Database, nipts: Iterable[str] | None = None) -> Iterator[OrgRecord]:
    """The organisations that are not removed, sorted by NIPT (only ``nipts``, if given)."""
    query = (select(Organisation.nipt,
                    *(getattr(Organisation, column) for column in INDEXED_COLUMNS))
             .where(Organisation.removed_at.is_(None)).order_by(Organisation.nipt))
    with db.session() as session:
        if nipts is None:
            for row in session.execute(query.execution_options(yield_per=5000)):
                yield OrgRecord(*row)
            return
        wanted = list(nipts)
        for start in range(0, len(wanted), 1000):
            for row in session.execute(query.where(
                    Organisation.nipt.in_(wanted[start:start + 1000]))):
                yield OrgRecord(*row)


def latest_change(db: Database) -> int:
    """The id of the last change logged by an import or removal (0: none yet)."""
    with db.session() as session:
        return session.scalar(select(func.max(RegistryChange.id))) or 0


def build(db: Database) -> Tables:
    change_id = latest_change(db)
    return Tables.build(records(db), change_id)


def _changed_since(db: Database, change_id: int) -> tuple[dict[str, OrgRecord | None], int]:
    with db.session() as session:
        rows = session.execute(select(RegistryChange.id, RegistryChange.nipt)
                               .where(RegistryChange.id > change_id)).all()
    latest = max((row[0] for row in rows), default=change_id)
    nipts = dict.fromkeys(row[1] for row in rows)
    current: dict[str, OrgRecord | None] = dict.fromkeys(nipts)
    for record in records(db, nipts):
        current[record.nipt] = record
    return current, latest


def changes_kept_since(db: Database) -> int:
    """The id of the oldest change still logged (older ones are in the saved index)."""
    with db.session() as session:
        return session.scalar(select(func.min(RegistryChange.id))) or 0


def load(db: Database) -> Tables:
    """The saved index brought up to date with the changes since, or (none saved, saved
    by another version, or mostly old versions of changed organisations) one built
    from the organisations and saved."""
    with db.session() as session:
        data = session.scalar(select(SavedRegistryIndex.data)
                              .where(SavedRegistryIndex.id == _SAVED_ID))
    tables = Tables.load(data) if data is not None else None
    if tables is not None:
        tables = _with_changes_since(db, tables) or tables
    if tables is None or tables.worn:
        tables = build(db)
        save(db, tables)
    return tables


def _with_changes_since(db: Database, tables: Tables) -> Tables | None:
    changed, latest = _changed_since(db, tables.change_id)
    return tables.with_changes(changed, latest) if changed else None


def update(db: Database, tables: Tables) -> Tables | None:
    """``tables`` with the changes logged since they were up to date (None: there were
    none), or, when that would make them worn, the index :func:`load` gives; ``tables``
    themselves are left as they are."""
    updated = _with_changes_since(db, tables)
    return load(db) if updated is not None and updated.worn else updated


def save(db: Database, tables: Tables) -> None:
    """Save ``tables`` and forget the changes they include (a later restart starts from
    them).

    Workers starting together may each build the first index: the one that saves it
    first wins, and the others keep theirs in memory (the changes after it are
    applied at the next refresh)."""
    data = tables.dump()
    with contextlib.suppress(IntegrityError), db.session() as session:
        saved = session.get(SavedRegistryIndex, _SAVED_ID)
        if saved is None:
            session.add(SavedRegistryIndex(id=_SAVED_ID, change_id=tables.change_id, data=data))
        else:
            saved.change_id, saved.data, saved.saved_at = tables.change_id, data, func.now()
        # Changes a running bot may not have applied yet are kept a day, and the last
        # change always: SQLite numbers a new row after the highest one left.
        cutoff = datetime.now(UTC) - CHANGES_KEPT
        if db.is_sqlite:  # SQLite keeps naive UTC
            cutoff = cutoff.replace(tzinfo=None)
        session.execute(delete(RegistryChange).where(RegistryChange.id < tables.change_id,
                                                     RegistryChange.changed_at < cutoff))
