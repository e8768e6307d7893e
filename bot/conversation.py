"""The conversation: what the bot answers to a command, a message or a button.

This is the core shared by Telegram (``handlers/``) and the terminal chat
(``ngo-faq-bot chat``); it knows nothing about either. It returns
:class:`Reply` objects - text in a small HTML subset (``<b>``, ``<i>``) with
everything from people or data files escaped, plus rows of :class:`Button` -
that each front end renders its own way.

A free-text message is either a question for the FAQ or a look-up in the
registry; :meth:`Assistant.reply` asks both and keeps the more confident
answer (see :meth:`Assistant._route`).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from bot import learning, phrases, privacy, question_log
from bot.choices import (
    AskStaff,
    Button,
    Buttons,
    Choice,
    CloseTicket,
    Comment,
    Helpful,
    NoneOfThese,
    Pick,
    Rate,
    SetLanguage,
    ShowOrganisation,
    Topic,
    Topics,
    Unhelpful,
    topic_key,
)
from bot.config import Config
from bot.embedding import VectorCache, vector_cache
from bot.faq import Entry, Faq, load_faq
from bot.limits import MAX_LABEL, label
from bot.matcher import Decision, FaqMatcher, Match
from bot.phrases import Html, escape, say
from bot.registry import NIPT_IN_TEXT, typed_nipts
from bot.registry.importer import ensure_sample_registry
from bot.registry.search import OrgHit, RegistryIndex, SearchResult
from bot.registry.words import GENERIC_WORDS
from bot.storage import Database, Organisation, Person
from bot.text import Message, fold, name_runs, read, smalltalk
from bot.tickets import TICKET_MEDIA, Opened, Tickets, guesses_of, rating_buttons
from bot.untrusted import clean

log = logging.getLogger(__name__)

# How much of a person's text is quoted back in a reply.
MAX_QUOTE = 80
# Shorter texts are answered in the person's language, not the detected one.
MIN_WORDS_FOR_LANGUAGE = 3
# Organisations offered beside FAQ suggestions when both are close calls.
MAX_MIXED_CANDIDATES = 3
# A registry look-up is a name, not an essay: longer texts are only FAQ questions.
MAX_LOOKUP_WORDS = 20
# A message with a NIPT and at most this many words asks about that organisation.
NIPT_MESSAGE_WORDS = 4
SHORT_LOOKUP_WORDS = 5
"""Words of a message asking whether something is registered that may all be a name typed
in lower case ("is greenhollow registered?"); a longer one without a Capitalised word
after its first is a question about registration ("a mund te aplikoje nje shoqate e
regjistruar para 2 muajsh?"), which no organisation's name answers."""
MATCHER_WAIT = 10.0
"""Seconds after a start during which a question may wait for the matcher the
configuration asks for (:meth:`Assistant.matcher_wait`). A restart with the FAQ's
vectors kept builds it in about a second (the model loaded, the vectors read, what the bot
learned embedded again): the questions that came while the bot was down, handled at once,
would otherwise all get the lexical stand-in, which hands on to the staff much of what the
model answers. This bounds the wait when the bot learned a lot."""
LONG_FILL = 100
"""Texts the model embeds (about two seconds here) past which questions stop waiting for
its matcher: a first start, or a restart after a FAQ with many changes (a few changed
entries are waited for)."""
SETTLE_POLL = 0.05
"""Seconds between two looks at whether a question still waits (:meth:`Assistant.settle`)."""

# Phrasings that ask whether an organisation is registered (on folded text).
_REGISTERED = re.compile(r"\b(?:[ei] regjistruar|registered)\b")
_LOOKUP_INTENT = re.compile(r"\b(?:[ei] regjistruar|registered|nipt|nipti|niptin)\b")
_STATUS_QUESTION = re.compile(r"\ba (?:eshte|esht|asht|osht|jane|jan) [ei] regjistruar\b|"
                              r"^(?:is|are)\b.*\bregistered$")
"""Asks whether what follows or what it names is registered ("a eshte e regjistruar ...",
"is ... registered?"), in folded words (the Gheg adjective read as "regjistruar")."""


def _shown_url(url: str) -> str:
    """A link as people read it: ``mailto:x@y`` is shown as ``x@y``, ``tel:`` likewise."""
    scheme, _, rest = url.partition(":")
    return rest if scheme.lower() in ("mailto", "tel") else url


def _link(title: str, url: str) -> str:
    """``title: url``; only the url when the title is the url itself ("www.amshc.gov.al")."""
    shown = _shown_url(url)

    def bare(address: str) -> str:
        return address.split("://", 1)[-1].removeprefix("www.").rstrip("/").casefold()

    return shown if bare(title) == bare(shown) else f"{title}: {shown}"


@dataclass(frozen=True)
class Asker:
    """Who is talking: their id, the language their app reports, a name to greet."""

    id: int
    language_code: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean(self.name))


@dataclass(frozen=True)
class Reply:
    text: Html
    buttons: Buttons = ()
    naming: frozenset[int] = frozenset()
    """The people (user ids) it names in a chat not theirs without being about one of
    their tickets (the staff's listings, a ban by id): a forget of any deletes it there."""


@dataclass(frozen=True)
class Pressed:
    """The result of pressing a button.

    ``valid`` is False for a forged or outdated button: nothing changes and
    ``notice`` says so. ``edit`` replaces the pressed message, ``close``
    removes the pressed button's row (a vote is given once; the answer to another
    question asked stays under it), ``replies`` are new messages.
    """

    valid: bool = True
    notice: str | None = None
    edit: Reply | None = None
    close: bool = False
    replies: tuple[Reply, ...] = ()


COMMANDS = ("start", "help", "faq", "search", "lang", "contact", "ask")


def _asks_if_registered(message: Message) -> bool:
    """Asks whether something is registered (the Gheg adjective counts: "a osht e
    regjistrueme ...", not the infinitive "qysh me e regjistru": how to register it) or what
    its NIPT is."""
    return bool(_LOOKUP_INTENT.search(message.said))


def _asks_status(message: Message) -> bool:
    """Asks whether something is registered: "a eshte e regjistruar ...", "is ...
    registered?" (not a question about a registered association: :data:`_STATUS_QUESTION`)."""
    return bool(_STATUS_QUESTION.search(message.said))


def _asks_of_one(message: Message) -> bool:
    """Is about one organisation the registry should know: a NIPT in a short message
    ("nipt K12345678A") or asked about ("our NIPT is K12345678A, are we registered?"),
    or whether an organisation it names (a kind of organisation beside a Capitalised
    name: "a është e regjistruar Fondacioni Besa?", "is the Besa Foundation
    registered?"; two Capitalised words in a row: "is Partners Albania registered?") is
    registered. Not a question that mentions a NIPT or a place ("we have NIPT
    K12345678A, how do we open a bank account?", "I registered my association in Tirana,
    what next?", "Is my Association registered with the Tax office?")."""
    if NIPT_IN_TEXT.search(message.text):
        return (len(message.words) <= NIPT_MESSAGE_WORDS
                or bool(_REGISTERED.search(message.said)))
    if not _asks_if_registered(message):
        return False
    typed = message.text.split()
    titled = [w[:1].isupper() and w[1:2].islower() for w in typed]
    if _asks_status(message) and _names_two_words(typed):
        return True
    return any(titled[i] and fold(w) in GENERIC_WORDS
               and ((i > 0 and titled[i - 1]) or (i + 1 < len(typed) and titled[i + 1]))
               for i, w in enumerate(typed))


_BEFORE_A_PLACE = frozenset(("ne", "në", "te", "tek", "nga", "me", "per", "për", "in", "at",
                             "with", "by", "from", "to", "on"))
"""Words before the name of an institution or a place, not of the organisation asked about
("e regjistruar ne Gjykaten e Rrethit Gjyqesor", "registered with the Tax Office")."""


def _names_two_words(typed: list[str]) -> bool:
    """Whether the words ``typed`` hold a name of two Capitalised words or more
    (:func:`bot.text.name_runs`) that no preposition introduces ("the" aside): "is
    Partners Albania registered?", "Is the Albanian Red Cross registered?", not "a eshte
    e regjistruar shoqata ne Gjykaten e Rrethit Gjyqesor?"."""
    for start, _, capitals in name_runs(typed):
        before = start - 1
        if before >= 0 and typed[before].lower() == "the":
            before -= 1
        if capitals >= 2 and (before < 0 or typed[before].lower() not in _BEFORE_A_PLACE):
            return True
    return False


def _reads_as_name(message: Message) -> bool:
    """A Capitalised Name of two to eight words, asking nothing ("Shoqata Ylberi i Ri")."""
    names = [w for w in message.text.split() if w[:1].isalpha()]
    return (2 <= len(names) <= 8 and "?" not in message.text
            and sum(w[0].isupper() for w in names) * 2 > len(names))


def _in_group(asker: Asker, chat_id: int | None) -> bool:
    """Whether ``chat_id`` (None: the person's private chat) is a group."""
    return chat_id is not None and chat_id != asker.id

@dataclass
class Assistant:
    """The bot's brain: configuration, database, FAQ matcher and registry index."""

    config: Config
    db: Database
    faq: Faq
    matcher: FaqMatcher
    registry: RegistryIndex
    _commands: dict[str, Callable[[Asker, str], list[Reply]]] = field(init=False, repr=False)
    tickets: Tickets = field(init=False, repr=False)
    semantic_ready: threading.Event = field(init=False, repr=False)
    """Set once the matcher the configuration asks for is in use, or could not be built
    (see :meth:`open`)."""
    _waited_until: float = field(default=0.0, init=False, repr=False)
    """When (:func:`time.monotonic`) questions stop waiting for it (:meth:`matcher_wait`)."""
    _vectors: VectorCache | None = field(default=None, init=False, repr=False)
    """The model's vectors, once loaded by the start's build (:meth:`open`)."""
    _learned: tuple[list[tuple[str, str, str]], list[str]] = field(
        default=([], []), init=False, repr=False)
    _learned_version: tuple[int, ...] | None = field(default=None, init=False, repr=False)
    _learned_on: FaqMatcher | None = field(default=None, init=False, repr=False)
    _matcher_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                          repr=False)
    """Held while the matcher is replaced (a reload, new learned phrasings)."""

    def __post_init__(self) -> None:
        self.semantic_ready = threading.Event()
        self.semantic_ready.set()  # the matcher given is the one to use (:meth:`open`: not yet)
        self._commands = {
            "start": self.start, "help": self.help, "faq": self.topics,
            "search": self.search, "lang": self.choose_language, "contact": self.contact,
            "ask": self.ask,
        }
        self.tickets = Tickets(self.db, self.config)
        self.tickets.category_of = lambda entry_id: (
            entry.category if (entry := self.faq.get(entry_id)) else None)
        self.refresh_learned()

    @classmethod
    def open(cls, config: Config) -> Assistant:
        """Open the database (importing the sample registry on the first start) and the FAQ.

        The semantic matcher is built in the background (the first start embeds the
        whole FAQ, which takes a while) and takes over when it is ready; until then the
        lexical one stands in, for the questions that no longer wait for it
        (:meth:`matcher_wait`).
        """
        db = Database(config.database_url)
        try:
            ensure_sample_registry(db, config.registry.sample_csv)
            faq = load_faq(config.faq_path)
            assistant = cls(config=config, db=db, faq=faq,
                            matcher=FaqMatcher(faq, config.matching),
                            registry=RegistryIndex.load(db, config.registry))
        except BaseException:
            db.close()
            raise
        assistant.semantic_ready.clear()
        assistant._waited_until = time.monotonic() + MATCHER_WAIT
        threading.Thread(target=assistant._use_configured_matcher, args=(faq,),
                         name="faq-embeddings", daemon=True).start()
        return assistant

    def matcher_wait(self) -> float:
        """Seconds a question should still wait before it is decided: until the matcher
        the configuration asks for is in use, for at most :data:`MATCHER_WAIT` after the
        start, and not while the model embeds more than :data:`LONG_FILL` texts its vectors
        lack (a first start embeds the whole FAQ, for minutes: questions are answered
        lexically meanwhile, at once). A front end waits this long (:meth:`settle`, or off
        its event loop) before it hands over a question or a pick."""
        if self.semantic_ready.is_set() or (
                self._vectors is not None and self._vectors.filling > LONG_FILL):
            return 0.0
        return max(0.0, self._waited_until - time.monotonic())

    def settle(self) -> None:
        """Wait :meth:`matcher_wait` (in a thread that may block: the terminal chat), looking
        again every :data:`SETTLE_POLL` seconds: the model may start embedding meanwhile."""
        while (left := self.matcher_wait()) > 0:
            self.semantic_ready.wait(min(left, SETTLE_POLL))

    def _use_configured_matcher(self, faq: Faq) -> None:
        matching = self.config.matching
        try:
            self._vectors = vector_cache(matching.embedding, matching.embedding_cache,
                                         matching.model_threads)
            self._install(faq, only_if_current=True)
        except Exception as exc:  # noqa: BLE001 - the stand-in goes on answering
            log.error("the FAQ's matcher with the model could not be built (%s: %s); the bot "
                      "answers with lexical matching until the FAQ is reloaded",
                      type(exc).__name__, exc)
        finally:
            self.semantic_ready.set()  # questions wait no longer

    def close(self) -> None:
        self.db.close()

    def refresh_registry(self) -> bool:
        """Take in organisations imported or removed since (``ngo-faq-bot registry``
        runs in another process); True if there were any."""
        return self.registry.refresh(self.db)

    def use_faq(self, faq: Faq) -> None:
        """Answer from ``faq`` from now on (a reloaded or uploaded FAQ, already validated)."""
        self._install(faq)
        self.semantic_ready.set()

    def _install(self, faq: Faq, *, only_if_current: bool = False) -> None:
        """Build a matcher of ``faq`` with the learned phrasings of the one in use, and
        use it (``only_if_current``: unless another FAQ was installed meanwhile)."""
        learned, out_of_scope = self.matcher.learned, self.matcher.out_of_scope
        matcher = FaqMatcher.configured(faq, self.config.matching, learned, out_of_scope)
        with self._matcher_lock:
            if only_if_current and self.faq is not faq:  # replaced by a reload meanwhile
                return
            previous = self.matcher
            if (previous.learned, previous.out_of_scope) != (learned, out_of_scope):
                # learned while it was being built
                matcher.set_learned(previous.learned, previous.out_of_scope)
            self.matcher, self.faq = matcher, faq
            if self._learned_on is previous:
                self._learned_on = matcher

    def forget(self, user_id: int) -> None:
        """Delete what is kept about a person who asked (:func:`bot.privacy.forget`, their
        bans aside) with the staff chat's changes it calls for, in one transaction (the
        caller's if one is open); their questions leave the matcher's recent questions
        too. Call :meth:`refresh_learned` after it commits: what only they taught goes."""
        with self.db.session():
            self.tickets.after_forget(
                privacy.forget(self.db, user_id, keep=privacy.KEPT_WHEN_ASKED))
        if self.matcher.vectors is not None:
            self.matcher.vectors.forget_queries()

    def expire_questions(self) -> None:
        """Let the questions nobody asked for a while leave the matcher's memory
        (:data:`bot.embedding.QUERY_KEPT`): a forget from the command line cannot
        reach this process."""
        if self.matcher.vectors is not None:
            self.matcher.vectors.expire()

    def refresh_learned(self) -> bool:
        """Match with the learned phrasings as the database has them now (after a pick, a
        👎, a removal, a forgotten person or a change from the command line); True if
        the phrasings that count changed (only then is the matcher rebuilt). Phrasings
        nobody supports any more are deleted first.

        A matcher installed since the last time (a FAQ reload or the semantic matcher,
        built in another thread from the learned phrasings of that moment) gets them
        again. The matcher in use is never changed in place: a copy learns, then
        replaces it, so a question decided meanwhile (in another thread) sees one or
        the other whole."""
        learning.prune(self.db)
        version = learning.version(self.db)
        with self._matcher_lock:
            current = self.matcher
            if version == self._learned_version and current is self._learned_on:
                return False
            learned = (learning.active(self.db, self.config.learning.min_votes),
                       learning.out_of_scope(self.db))
            if learned == self._learned and current is self._learned_on:
                self._learned_version = version  # a vote that changes nothing yet
                return False
            matcher = copy.copy(current)
            matcher.set_learned(*learned)
            self.matcher = matcher
            self._learned, self._learned_version, self._learned_on = learned, version, matcher
        return True

    def _learn_pick(self, asker: Asker, entry: Entry) -> None:
        """The person picked ``entry`` among the suggestions for their last question: a
        vote for that question as a phrasing of the entry. The entry must be one the bot
        could have offered for it, so a forged button teaches nothing."""
        asked = question_log.picked(self.db, asker.id, entry.id)
        if asked is None:
            return
        text, lang = asked
        offered = self.matcher.matches(text)[:self.config.matching.max_suggestions]
        if entry.id not in {m.entry.id for m in offered}:
            return
        if learning.vote(self.db, entry_id=entry.id, text=text, language=lang,
                         user_id=asker.id, source=learning.PICK,
                         threshold=self.config.learning.similarity):
            self.refresh_learned()

    # --- language -------------------------------------------------------

    def language(self, asker: Asker) -> str:
        """The language chosen with /lang, else the one the person's app reports."""
        with self.db.session() as session:
            person = session.get(Person, asker.id)
            chosen = person.language_code if person else None
        return phrases.language(chosen or asker.language_code)

    def set_language(self, asker: Asker, lang: str) -> None:
        with self.db.session() as session:
            person = session.get(Person, asker.id)
            if person is None:
                person = Person(telegram_user_id=asker.id)
                session.add(person)
            person.language_code = lang
            person.display_name = asker.name or person.display_name

    # --- commands -------------------------------------------------------

    def command(self, asker: Asker, name: str, argument: str = "",
                message_id: int | None = None) -> list[Reply]:
        """Answer ``/name argument``; an unknown command gets the help. ``message_id`` (of
        the command in the private chat) lets an edit of ``/ask TEXT`` reach the staff."""
        handler = self._commands.get(name)
        if handler is None:
            lang = self.language(asker)
            return [Reply(Html(say(lang, "unknown_command") + "\n\n" + self._help(lang)))]
        if name == "ask":
            return self.ask(asker, clean(argument).strip(), message_id)
        return handler(asker, clean(argument).strip())

    def start(self, asker: Asker, _argument: str = "") -> list[Reply]:
        lang = self.language(asker)
        name = f", {asker.name}" if asker.name else ""
        text = say(lang, "start", name=name, agency=self._agency_name(lang))
        return [Reply(text, self._topic_buttons(lang))]

    def help(self, asker: Asker, _argument: str = "") -> list[Reply]:
        return [Reply(self._help(self.language(asker)))]

    def _help(self, lang: str) -> Html:
        """What the bot does and its commands (/ask only with a staff chat to ask)."""
        return say(lang, "help", ask=phrases.raw(lang, "help_ask") if self.tickets.enabled
                   else "")

    def contact(self, asker: Asker, _argument: str = "") -> list[Reply]:
        return [Reply(self._contact(self.language(asker)))]

    def topics(self, asker: Asker, _argument: str = "") -> list[Reply]:
        return [self._topics(self.language(asker))]

    def choose_language(self, asker: Asker, argument: str = "") -> list[Reply]:
        wanted = argument.lower()
        if wanted in phrases.LANGUAGES:
            self.set_language(asker, wanted)
            return [Reply(say(wanted, "lang_set"))]
        buttons = tuple(Button(phrases.LANGUAGE_NAMES[code], SetLanguage(code))
                        for code in phrases.LANGUAGES)
        return [Reply(say(self.language(asker), "lang_choose"), (buttons,))]

    def search(self, asker: Asker, argument: str = "") -> list[Reply]:
        lang = self.language(asker)
        message = read(argument)
        if not message.words:
            return [Reply(say(lang, "search_usage",
                              example=self.registry.example() or "Partners Albania"))]
        result = self.registry.search(message)
        draft = (self.tickets.save_draft(asker.id, argument, lang, [])
                 if self.tickets.enabled and result.decision == "candidates" else None)
        return [self._registry_reply(lang, result, draft)]

    def ask(self, asker: Asker, argument: str = "",
            message_id: int | None = None) -> list[Reply]:
        """``/ask TEXT``: hand the question straight to the staff."""
        if not self.tickets.enabled:
            return [self._escalate(self.language(asker), after=True)]
        message = read(argument)
        if not message.words:
            return [Reply(say(self.language(asker), "ask_usage"))]
        decision = self.matcher.decide(message)
        lang = self._language_of(asker, message)
        opened = self.tickets.open(asker.id, asker.name, argument, lang, _guesses(decision),
                                   message_id=message_id)
        return [self._opened(lang, opened)]

    # --- free text ------------------------------------------------------

    def reply(self, asker: Asker, text: str, chat_id: int | None = None,
              message_id: int | None = None) -> list[Reply]:
        """Answer a message: small talk, an FAQ answer or choices, a registry look-up or staff.

        While the person has a ticket open, a message in the private chat
        (``chat_id`` is the person's id) goes to that ticket instead.
        """
        text = clean(text)
        if message_id is not None and chat_id == asker.id:
            if self.tickets.take_comment(asker.id, text) is not None:
                return [Reply(say(self.language(asker), "rating_comment_thanks"))]
            followed = self._follow_up(asker, message_id, text)
            if followed is not None:
                return followed
        message = read(text)
        kind = smalltalk(message)
        if kind is not None:  # "faleminderit" in an English chat is thanked in Albanian
            return [Reply(say(message.marked_lang or self.language(asker), kind))]
        if not message.words:
            return [Reply(say(self.language(asker), "greeting"))]
        private = message_id if chat_id == asker.id else None
        return [self._route(asker, message, chat_id, private)]

    def media(self, asker: Asker, chat_id: int, message_id: int, caption: str | None = None,
              kind: str = "other", file_id: str | None = None) -> list[Reply]:
        """A photo, document, voice...: to the person's open ticket; a photo, document or
        voice message (caption or not) opens a ticket; anything else gets "write text", and
        an ``"other"`` kind (a poll, a dice, a story) never reaches a ticket."""
        caption = clean(caption) if caption else None
        if chat_id == asker.id and kind != "other":  # a poll or a dice is no follow-up
            followed = self._follow_up(asker, message_id, caption, kind, file_id)
            if followed is not None:
                return followed
            if kind in TICKET_MEDIA and self.tickets.enabled:
                message = read(caption or "")
                decision = self.matcher.decide(message)
                lang = self._language_of(asker, message)
                opened = self.tickets.open(
                    asker.id, asker.name, caption or phrases.raw(lang, f"media_{kind}"), lang,
                    _guesses(decision), message_id=message_id, relay=kind, file_id=file_id)
                return [self._opened(lang, opened)]
        return [Reply(say(self.language(asker), "write_text"))]

    def _follow_up(self, asker: Asker, message_id: int, text: str | None,
                   kind: str = "text", file_id: str | None = None) -> list[Reply] | None:
        """The reply to a message added to the person's open ticket (none for one written
        right after another); None when they have no open ticket."""
        followed = self.tickets.follow_up(asker.id, asker.id, message_id, text, kind, file_id)
        if followed is None:
            return None
        if not followed.tell:
            return []
        return [Reply(say(followed.language, "ticket_follow_up", number=followed.number))]

    def _route(self, asker: Asker, message: Message, chat_id: int | None = None,
               message_id: int | None = None) -> Reply:
        """The FAQ's decision and the registry's, and the better of the two.

        A registry match found with certainty wins unless the FAQ answers with
        a higher score; a sure FAQ answer comes next, unless the text looks
        like a name and organisations come close (then both are offered);
        close calls on both sides are offered together as buttons; a request for a
        person without a staff chat gets the agency's contacts; a
        Capitalised Name or an "is ... registered" that matches nothing gets
        "no registered organisation matches" (before any FAQ answer when it names the
        organisation, or quotes a NIPT); anything else goes to the staff.
        Every decision is written to the question log (:mod:`bot.question_log`).
        """
        text = message.text
        decision, also = self._two_questions(message, self.matcher.decide(message))
        lang = self._language_of(asker, message)
        lookup = self._lookup(message)
        # In a group, no question is kept for the staff: their answer goes to a private
        # chat, which the person may never have opened (/ask is refused there too).
        draft = None if _in_group(asker, chat_id) else self._draft(asker, text, lang, decision,
                                                                   message_id, also)
        faq_score = decision.top.score if decision.top else 0.0
        # A name's words are in the organisation's language, not the person's. Only a
        # look-up (a short message) may get a registry reply in it.
        named = lang if lookup is None else self.language(asker) if _reads_as_name(
            message) else self._language_of(asker, message, names=True)
        if lookup and lookup.decision == "found" and (
                decision.decision != "answer" or lookup.results[0].score >= faq_score):
            return self._logged(asker, chat_id, text, named, decision, "registry",
                                self._registry_reply(named, lookup, draft))
        if lookup and lookup.decision == "not_found" and _asks_of_one(message):
            # Not the FAQ's "how to check whether one is registered": the answer about it.
            return self._logged(asker, chat_id, text, named, decision, "registry",
                                self._registry_reply(named, lookup, draft))
        similar = lookup.results[:MAX_MIXED_CANDIDATES] if (
            lookup and lookup.decision == "candidates") else ()
        name_like = self._looks_like_lookup(message)
        if message.wants_staff and not self.tickets.enabled:
            # Asked for a person, with no staff chat to pass the question to: the FAQ's
            # "the bot offers to send it to the staff" would not be true.
            return self._logged(asker, chat_id, text, lang, decision, "staff",
                                self._escalate(lang, after=True))
        if decision.decision == "answer" and decision.top is not None:
            if similar and name_like:
                return self._logged(asker, chat_id, text, lang, decision, "suggested",
                                    self._suggest(lang, (decision.top,), similar,
                                                  organisations_first=True, draft=draft))
            return self._logged(asker, chat_id, text, lang, decision, "answered",
                                self._answer(lang, decision.top.entry, also=also))
        if decision.decision == "suggest" and decision.suggestions:
            return self._logged(asker, chat_id, text, lang, decision, "suggested",
                                self._suggest(lang, decision.suggestions, similar,
                                              organisations_first=name_like, draft=draft))
        if lookup and lookup.decision == "candidates":
            return self._logged(asker, chat_id, text, named, decision, "registry",
                                self._registry_reply(named, lookup, draft))
        if lookup and name_like:
            return self._logged(asker, chat_id, text, named, decision, "registry",
                                self._registry_reply(named, lookup, draft))
        return self._logged(asker, chat_id, text, lang, decision, "staff",
                            self._escalate(lang, draft=draft))

    def _logged(self, asker: Asker, chat_id: int | None, text: str, lang: str,
                decision: Decision, outcome: str, reply: Reply) -> Reply:
        """Write the decision to the question log and pass ``reply`` on."""
        answered = decision.top if outcome == "answered" else None
        question_log.record(
            self.db, user_id=asker.id, chat_id=chat_id, text=text, language=lang,
            decision=outcome, entry_id=answered.entry.id if answered else None,
            score=decision.top.score if decision.top else None)
        return reply

    def _draft(self, asker: Asker, text: str, lang: str, decision: Decision,
               message_id: int | None = None, also: Entry | None = None) -> int | None:
        """Keep the question for an "ask the staff" button (when there is a staff chat);
        ``also``, the entry offered for another question it asked, is among its guesses
        (a 👎 under that entry's answer finds the question by it)."""
        if not self.tickets.enabled:
            return None
        guesses = _guesses(decision) + (
            guesses_of([(also.id, also.question_in(lang), 0.0)]) if also else [])
        return self.tickets.save_draft(asker.id, text, lang, guesses, message_id)

    def _lookup(self, message: Message) -> SearchResult | None:
        """The registry search for a text that could be a look-up, else None."""
        if len(message.words) > MAX_LOOKUP_WORDS:
            return None
        return self.registry.search(message)

    @staticmethod
    def _looks_like_lookup(message: Message) -> bool:
        """Quotes a NIPT, is a Capitalised Name, asks whether something is registered
        (:func:`_asks_status`), or says "registered" and may name one
        (:data:`SHORT_LOOKUP_WORDS`; a Capitalised word after the first: not "I",
        "NIPT" or "NGO"). The word "nipt" alone is no look-up ("i forgot our NIPT")."""
        return (bool(NIPT_IN_TEXT.search(message.text)) or _reads_as_name(message)
                or _asks_status(message) or bool(_REGISTERED.search(message.said)) and (
                    len(message.words) <= SHORT_LOOKUP_WORDS
                    or any(w[:1].isupper() and w[1:2].islower()
                           for w in message.text.split()[1:])))

    def _two_questions(self, message: Message,
                       decision: Decision) -> tuple[Decision, Entry | None]:
        """For a message that asks two things ("what are your hours? and where
        is your office?"): the decision on the clearer question, and the entry
        answering the other one if the bot would answer it alone. The
        message's own answer stands unless a question alone is answered with a higher
        score: read as one, the two may blur each other ("Cfare dokumentesh duhen per
        regjistrim dhe ku dorezohen ato?" got the documents of a grant call)."""
        if len(message.questions) < 2:
            return decision, None
        parts = [self.matcher.decide(sentence.read()) for sentence in message.questions]
        answered = [d for d in parts if d.decision == "answer" and d.top is not None]
        if answered:
            clearest = max(answered, key=lambda d: d.top.score if d.top else 0.0)
            if (decision.decision != "answer" or decision.top is None or clearest.top is None
                    or clearest.top.score > decision.top.score):
                decision = dataclasses.replace(clearest, question=decision.question)
        if decision.decision != "answer" or decision.top is None:
            return decision, None
        # A part the bot only has choices for gets no button: its first choice may be wrong.
        others = [d.top for d in parts if d.decision == "answer"
                  and d.top is not None and d.top.entry != decision.top.entry]
        return decision, max(others, key=lambda m: m.score).entry if others else None

    def _language_of(self, asker: Asker, message: Message, *, names: bool = False) -> str:
        """Answer in the language of the question, unless it is too short to tell (a
        name, two words, a NIPT, markup) or says nothing of either: then in the person's
        language. ``names``: leave its Capitalised words out (a registry look-up: the
        organisation's name may be in another language than the question)."""
        if sum(len(w) > 1 and w.isalpha() for w in message.words) < MIN_WORDS_FOR_LANGUAGE:
            return self.language(asker)
        vocabularies = self.matcher.vocabularies
        # A tie is "": the person's language is read (from the database) only then.
        detected = (message.language_beside_names(vocabularies, "") if names
                    else message.language(vocabularies, ""))
        return detected if detected in phrases.LANGUAGES else self.language(asker)

    # --- buttons --------------------------------------------------------

    def press(self, asker: Asker, choice: Choice | None, chat_id: int | None = None) -> Pressed:
        """Act on a button (under a message in ``chat_id``, the person's private chat if
        None); anything not made by this bot (None, or a choice that is no longer valid)
        is refused politely. The choice carries the language its buttons were shown in,
        so what follows stays in it."""
        match choice:
            case Pick(lang, entry_id) if (entry := self._entry(entry_id)):
                self._learn_pick(asker, entry)
                return Pressed(replies=(self._answer(lang, entry),))
            case Helpful(lang, entry_id) if self._entry(entry_id):
                question_log.feedback(self.db, asker.id, entry_id, helpful=True)
                return Pressed(notice=phrases.raw(lang, "feedback_thanks"), close=True)
            case Unhelpful(lang, entry_id) if (entry := self._entry(entry_id)):
                question_log.feedback(self.db, asker.id, entry_id, helpful=False)
                if learning.unvote(self.db, asker.id, entry_id):
                    self.refresh_learned()
                # In a group, as for a question there, no question is kept for the staff.
                draft = None if _in_group(asker, chat_id) else self._disliked(asker, lang, entry)
                return Pressed(notice=phrases.raw(lang, "feedback_thanks"), close=True,
                               replies=(self._escalate(lang, sorry=True, draft=draft),))
            case NoneOfThese(lang, draft) if draft is not None and self.tickets.enabled:
                question_log.handed_to_staff(self.db, asker.id)
                return self._hand_over(asker, lang, draft)
            case NoneOfThese(lang, _):
                question_log.handed_to_staff(self.db, asker.id)
                return Pressed(replies=(self._escalate(lang, after=True),))
            case AskStaff(lang, draft):
                question_log.handed_to_staff(self.db, asker.id)
                return self._hand_over(asker, lang, draft, close=True)
            case CloseTicket(lang, number):
                if not self.tickets.close_by_person(asker.id, number):
                    return self._expired(asker)
                closed = say(lang, "ticket_closed", number=number)
                if self.tickets.ask_rating(asker.id, number):
                    return Pressed(close=True, replies=(Reply(
                        Html(closed + "\n\n" + say(lang, "rating_ask")),
                        rating_buttons(lang, number)),))
                return Pressed(close=True, replies=(Reply(closed),))
            case Rate(lang, number, good):
                if not self.tickets.rate(asker.id, number, good=good):
                    return Pressed(valid=False, notice=phrases.raw(lang, "button_expired"))
                comment = Button(phrases.raw(lang, "rating_comment_button"),
                                 Comment(lang, number))
                return Pressed(notice=phrases.raw(lang, "feedback_thanks"), close=True,
                               replies=(Reply(say(lang, "rating_thanks"), ((comment,),)),))
            case Comment(lang, number) if self.tickets.want_comment(asker.id, number):
                return Pressed(close=True, replies=(Reply(say(lang, "rating_comment_prompt")),))
            case Topic(lang, index, key) if index < len(topics := self.faq.categories()) and (
                    key is None or key == topic_key(topics[index])):
                return Pressed(edit=self._topic(lang, topics[index]))
            case Topics(lang):
                return Pressed(edit=self._topics(lang))
            case ShowOrganisation(lang, nipt) if (organisation := self._organisation(nipt)):
                return Pressed(replies=(self._card(lang, organisation),))
            case SetLanguage(lang):
                self.set_language(asker, lang)
                return Pressed(edit=Reply(say(lang, "lang_set")))
        return self._expired(asker)

    def _expired(self, asker: Asker) -> Pressed:
        return Pressed(valid=False, notice=phrases.raw(self.language(asker), "button_expired"))

    def _disliked(self, asker: Asker, lang: str, entry: Entry) -> int | None:
        """The question behind a 👎: the last one asked that the entry answered or was
        offered for, else the FAQ entry's own."""
        if not self.tickets.enabled:
            return None
        recent = self.tickets.recent_draft(asker.id, entry.id)
        if recent is not None:
            return recent
        guess = [(entry.id, entry.question_in(lang), 0.0)]
        return self.tickets.save_draft(asker.id, entry.question_in(lang), lang, guesses_of(guess))

    def _hand_over(self, asker: Asker, lang: str, draft: int, *, close: bool = False) -> Pressed:
        """Open a ticket from a kept question; a second press finds it gone."""
        opened = self.tickets.open_from_draft(asker.id, asker.name, draft)
        if opened.refusal == "expired":
            return Pressed(valid=False, notice=phrases.raw(lang, "button_expired"))
        return Pressed(close=close, replies=(self._opened(lang, opened),))

    def _opened(self, lang: str, opened: Opened) -> Reply:
        """The ticket number, or why the question could not be sent."""
        if opened.ticket_id is not None:
            close = Button(phrases.raw(lang, "ticket_close_button"),
                           CloseTicket(lang, opened.ticket_id))
            text = say(lang, "ticket_opened", number=opened.ticket_id)
            if opened.staff_from is not None:
                text = Html(text + "\n\n" + say(lang, "ticket_after_hours",
                                                  when=_when(lang, opened.staff_from)))
            return Reply(text, ((close,),))
        if opened.refusal == "too_many":
            return Reply(say(lang, "ticket_too_many", contact=self._contact(lang)))
        if opened.refusal == "banned":
            return Reply(say(lang, "ticket_refused", contact=self._contact(lang)))
        return self._escalate(lang)

    def _entry(self, entry_id: str) -> Entry | None:
        return self.faq.get(entry_id)

    def _organisation(self, nipt: str) -> Organisation | None:
        """The organisation with ``nipt``, unless it was removed from the registry."""
        with self.db.session() as session:
            organisation = session.get(Organisation, nipt)
        return organisation if organisation and organisation.removed_at is None else None

    # --- building replies ----------------------------------------------

    def _agency_name(self, lang: str) -> str:
        names = self.config.agency.name
        return names.get(lang) or next(iter(names.values()), "")

    def _contact(self, lang: str) -> Html:
        agency = self.config.agency
        return say(lang, "contact", agency=self._agency_name(lang), address=agency.address,
                   phone=agency.phone, email=agency.email, website=agency.website)

    def _topic_label(self, lang: str, topic: str) -> str:
        return phrases.CATALOGUE[lang].get(f"topic_{topic}") or topic.replace("-", " ").capitalize()

    def _topic_buttons(self, lang: str) -> Buttons:
        buttons = [Button(label(self._topic_label(lang, topic)),
                          Topic(lang, index, topic_key(topic)))
                   for index, topic in enumerate(self.faq.categories())]
        return tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))

    def _topics(self, lang: str) -> Reply:
        buttons = self._topic_buttons(lang)
        return Reply(say(lang, "topics" if buttons else "topics_empty"), buttons)

    def _topic(self, lang: str, topic: str) -> Reply:
        rows = tuple((Button(label(entry.question_in(lang)), Pick(lang, entry.id)),)
                     for entry in self.faq.entries if entry.category == topic)
        back = (Button(phrases.raw(lang, "back_to_topics"), Topics(lang)),)
        return Reply(say(lang, "topic_questions", topic=self._topic_label(lang, topic)),
                     rows + (back,))

    def _answer(self, lang: str, entry: Entry, *, also: Entry | None = None) -> Reply:
        """The answer with 👍/👎, and a button for ``also``, the entry answering
        another question the message asked."""
        parts = [f"<b>{escape(entry.question_in(lang))}</b>", escape(entry.answer_in(lang))]
        links = [f"• {escape(_link(title, url))}" for title, url in entry.links]
        if links:
            parts.append("\n".join(links))
        parts.append(say(lang, "helpful"))
        buttons: Buttons = (
            (Button("👍", Helpful(lang, entry.id)), Button("👎", Unhelpful(lang, entry.id))),)
        if also is not None:
            parts.append(say(lang, "also_asked"))
            buttons += ((Button(label(also.question_in(lang)), Pick(lang, also.id)),),)
        return Reply(Html("\n\n".join(parts)), buttons)

    def _suggest(self, lang: str, matches: tuple[Match, ...],
                 organisations: tuple[OrgHit, ...] = (), *,
                 organisations_first: bool = False, draft: int | None = None) -> Reply:
        """The suggested questions, and organisations whose name is close, as buttons
        ("none of these" hands the kept question ``draft`` to the staff)."""
        questions = tuple((Button(label(m.entry.question_in(lang)), Pick(lang, m.entry.id)),)
                          for m in matches)
        names = tuple((button,) for button in _org_buttons(lang, organisations))
        rows = names + questions if organisations_first else questions + names
        return Reply(say(lang, "suggest"), rows + (self._none_of_these(lang, draft),))

    def _none_of_these(self, lang: str, draft: int | None) -> tuple[Button]:
        """The last row of choices: "none of these" (the kept question ``draft`` to the
        staff; without a staff chat, the agency's contacts)."""
        key = "none_of_these" if self.tickets.enabled else "none_of_these_direct"
        return (Button(phrases.raw(lang, key), NoneOfThese(lang, draft)),)

    def _escalate(self, lang: str, *, sorry: bool = False, after: bool = False,
                  draft: int | None = None) -> Reply:
        """The offer to send the kept question ``draft`` to the staff; with none kept (a
        group), the way to them: a private chat; without a staff chat, the agency's
        contacts. ``after`` choices the person turned down, or /ask without a staff chat,
        and ``sorry`` (👎 under an answer): without "I could not find a reliable answer"."""
        offer = self.tickets.enabled and draft is not None
        key = ("escalate_staff" if offer else
               "escalate_private" if self.tickets.enabled else "escalate")
        key += "_after" if after or sorry else ""
        text = say(lang, key, contact=self._contact(lang))
        buttons = ((Button(phrases.raw(lang, "ask_staff_button"), AskStaff(lang, draft)),),) \
            if offer and draft is not None else ()
        return Reply(Html(say(lang, "feedback_sorry") + "\n" + text) if sorry else text, buttons)

    def _registry_reply(self, lang: str, result: SearchResult,
                        draft: int | None = None) -> Reply:
        """A card for one organisation (headed "closest match" when the search was not
        sure, but only one candidate explains every word); else the candidates as
        buttons, with "none of these" (the kept question ``draft`` to the staff)."""
        quote = label(result.query, MAX_QUOTE)
        if result.decision == "found":
            # One card, or one for each NIPT quoted ("X00000001D dhe X00000016D").
            shown = {hit.nipt for hit in result.results}
            texts = [self._card(lang, org).text for org in map(
                self._organisation, (hit.nipt for hit in result.results)) if org]
            if missing := [nipt for nipt in typed_nipts(result.query) if nipt not in shown]:
                texts.append(say(lang, "org_nipt_not_found", nipt=", ".join(missing),
                                 contact=self._contact(lang)))
            if texts:
                return Reply(Html("\n\n".join(texts)))
        if result.results and result.closest:
            organisation = self._organisation(result.results[0].nipt)
            if organisation is not None:
                card = self._card(lang, organisation)
                return Reply(Html(say(lang, "org_closest", query=quote) + "\n\n" + card.text))
        if result.decision == "candidates" and result.results:
            rows = tuple((button,) for button in _org_buttons(lang, result.results))
            return Reply(say(lang, "org_candidates" if len(rows) > 1 else "org_candidate",
                             query=quote), rows + (self._none_of_these(lang, draft),))
        if nipts := typed_nipts(result.query):
            return Reply(say(lang, "org_nipt_not_found", nipt=", ".join(nipts),
                             contact=self._contact(lang)))
        return Reply(say(lang, "org_not_found", query=quote, contact=self._contact(lang)))

    def _card(self, lang: str, org: Organisation) -> Reply:
        unknown = phrases.raw(lang, "unknown")
        name = f"{org.name} ({org.acronym})" if org.acronym else org.name
        registered = _date(org.registered_on) if org.registered_on else unknown
        if org.court_decision:
            registered = f"{registered} ({org.court_decision})"
        demo = Html(say(lang, "org_demo") + "\n\n") if org.sample else Html("")
        return Reply(Html(demo + say(
            lang, "org_card", name=name, nipt=org.nipt,
            legal_form=_registry_value(lang, org.legal_form) if org.legal_form else unknown,
            city=org.city or unknown, address=org.address or unknown, phone=org.phone or unknown,
            email=org.email or unknown,
            status=_registry_value(lang, org.status) if org.status else unknown,
            registered_on=registered)))


def _registry_value(lang: str, value: str) -> str:
    """A status or legal form as the registry writes it (in Albanian), in ``lang``."""
    return phrases.raw_or(lang, f"registry_value_{fold(value)}", value)


def _guesses(decision: Decision) -> list[dict[str, object]]:
    """The bot's best guesses for a ticket: the suggestions, else the best match."""
    matches = decision.suggestions or ((decision.top,) if decision.top else ())
    return guesses_of([(m.entry.id, m.entry.question_in(decision.lang), m.score)
                       for m in matches])


def _when(lang: str, moment: datetime) -> Html:
    """``Monday, 30.11.2026 at 08:00`` (in the staff's time zone, which ``moment`` is in)."""
    return say(lang, "when", day=phrases.raw(lang, f"weekday_{moment.weekday()}"),
               date=moment.strftime("%d.%m.%Y"), time=moment.strftime("%H:%M"))


def _date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _org_button(lang: str, hit: OrgHit, nipt: bool = False) -> Button:
    """``Name (City)``; ``Name (City, NIPT)`` when ``nipt`` (namesakes in one list)."""
    place = ", ".join(part for part in (hit.city, hit.nipt if nipt else "") if part)
    suffix = f" ({place})" if place else ""
    name = label(hit.name, MAX_LABEL - len(suffix))
    return Button(name + suffix, ShowOrganisation(lang, hit.nipt))


def _org_buttons(lang: str, hits: tuple[OrgHit, ...]) -> list[Button]:
    """One button per organisation; the city and NIPT show which is which when names
    collide (the same words, the organisation's city aside, appear twice)."""
    def bare(hit: OrgHit) -> str:
        city = set(fold(hit.city).split())
        return " ".join(word for word in fold(hit.name).split() if word not in city)

    names = Counter(bare(hit) for hit in hits)
    return [_org_button(lang, hit, nipt=names[bare(hit)] > 1) for hit in hits]
