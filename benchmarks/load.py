"""Load and faults: the real ``ngo-faq-bot run`` under Telegram's troubles (issue 10).

The bot runs as its own process (a config file in a temporary folder, a SQLite
file or a database of its own on the PostgreSQL server) against the Bot API
test server of the tests (tests/botapi/server.py), which plays simulated people
and staff and injects Telegram's faults. Every message is audited at the end.

1. audit: 3,000 updates at 20/s (FAQ questions, and about 30 questions handed to
   the staff by /ask or the "send it to the staff" button, each answered by a
   staff member replying in the staff chat), 10% of sendMessage failing with 500,
   429 bursts, a 10 s window in which every call hangs, Telegram's flood limits
   and a SIGKILL + restart in the middle; after the queue drains: questions
   without exactly one reply, tickets missing in the staff chat or opened twice (and
   posts sent again, which at-least-once sending allows after the kill), staff
   answers lost or doubled.
2. latency: 25 updates/s for 60 s, 5% of them opening tickets that staff answer,
   1% of sendMessage hanging 15 s: update->reply p50/p95 of everyone else's
   answers, and whether the hung answers arrive after a retry; then the same
   while one person floods 10 messages/s.
3. throughput: no faults, a burst of updates: updates handled per second (as the
   bot's inbox records them: the answers are then queued), and replies per second
   (which Telegram's 30 messages a second, kept by the bot, bound).
4. CPU of the bot process per update, for every run above.

A FAQ question is one of the bundled FAQ's phrasings with one edit of the kind people
make (``perturb``) that changes its terms: asked word for word, the bot would answer
it as that phrasing without ranking or embedding it, and the figures would leave out
what a real question costs.

    .venv/bin/python benchmarks/load.py [--quick] [--scenario audit latency throughput]
        [--database sqlite postgres] [--workers 3]

``--workers N`` adds runs of ``ngo-faq-bot run --workers N`` on PostgreSQL (and
kills one of its processes in the audit); a run whose bot refuses to start with
them is reported as skipped, with what it said.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, bindparam, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.common import percentile, perturb  # noqa: E402

sys.path.insert(0, str(PROJECT_ROOT / "tests"))

from botapi.server import BotApiServer, Call, visible_text  # noqa: E402
from pgserver import Unreachable, scratch_database  # noqa: E402

from bot import phrases  # noqa: E402
from bot.faq import load_faq  # noqa: E402
from bot.text import read  # noqa: E402

CLI = str(Path(sys.executable).with_name("ngo-faq-bot"))
STAFF_CHAT = -1005550002222
STAFF = (9001, 9002)
FIRST_PERSON = 10_000_000
POSTING = frozenset({"sendMessage", "copyMessage", "sendPhoto", "sendDocument"})
# Posting and editing methods hit by the 429 bursts (getUpdates keeps working).
THROTTLED = ("sendMessage", "copyMessage", "editMessageText", "editMessageReplyMarkup")
# The vectors of the FAQ's texts, shared by every bot of the runs (the project's own cache).
VECTORS = PROJECT_ROOT / "data" / "embeddings"
# The targets.
P50_TARGET_MS = 15.0
P95_TARGET_MS = 60.0

# Questions no FAQ of the agency answers: they go to the staff.
_OFF_TOPIC = {
    "sq": ["sa kushton nje bilete avioni per ne {place} muajin qe vjen?",
           "a mund te me rekomandoni nje restorant te mire ne {place}?",
           "si do te jete moti neser ne {place}?",
           "ku mund te blej nje biciklete te perdorur ne {place}?"],
    "en": ["how much is a flight to {place} next month?",
           "can you recommend a good hotel near the beach in {place}?",
           "what time does the football match in {place} start tonight?",
           "where can I buy a second-hand bicycle in {place}?"],
}
_PLACES = ["londer", "paris", "durres", "vlore", "shkoder", "korce", "berat", "milano"]


class WorkersUnsupported(Exception):
    """``ngo-faq-bot run`` refused ``--workers``."""


class BotFailed(Exception):
    """The bot process exited before it was ready."""


# --- databases ----------------------------------------------------------------

@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database for one run: a SQLite file, or a database of its own on the
    PostgreSQL server, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bot.db'}"
        return
    try:
        with scratch_database("ngo_faq_bot_load_") as url:
            yield url.render_as_string(hide_password=False)
    except Unreachable as exc:
        raise BotFailed(f"PostgreSQL unreachable: {exc}") from None


# --- the bot process ----------------------------------------------------------

def write_config(folder: Path, api: BotApiServer, retry_interval: str) -> Path:
    """The project's config.yaml, talking to the test server, with a staff chat."""
    config = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["telegram"]["api_base_url"] = api.base_url
    config["registry"]["sample_csv"] = str(PROJECT_ROOT / config["registry"]["sample_csv"])
    config["faq"]["path"] = str(PROJECT_ROOT / config["faq"]["path"])
    config["staff"]["chat_id"] = STAFF_CHAT
    config["staff"]["retry_interval"] = retry_interval
    config["matching"]["embedding_cache"] = str(VECTORS)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def warm_vectors() -> None:
    """Embed the FAQ's texts into :data:`VECTORS` unless they are there, as the bot's first
    start does: every bot of the runs then starts as a restarted bot does, with nothing to
    embed, so that its CPU is what the updates cost."""
    from bot.config import load_config
    from bot.matcher import FaqMatcher

    config = load_config(PROJECT_ROOT / "config.yaml", environ={})
    matching = dataclasses.replace(config.matching, embedding_cache=VECTORS)
    FaqMatcher.configured(load_faq(config.faq_path), matching)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its children (live and reaped)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for number, one in enumerate([pid, *_children(pid)]):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        total += int(fields[11]) + int(fields[12])
        if number == 0:
            total += int(fields[13]) + int(fields[14])
    return total / ticks


class Bot:
    """``ngo-faq-bot run`` as a process; its log goes to a file in the run's folder."""

    def __init__(self, api: BotApiServer, config: Path, database_url: str,
                 workers: int | None = None) -> None:
        self.api = api
        self.config = config
        self.folder = config.parent
        self.database_url = database_url
        self.workers = workers
        self.process: asyncio.subprocess.Process | None = None
        self.cpu = 0.0           # CPU seconds used while serving, by finished processes
        self._cpu_mark = 0.0

    @property
    def log(self) -> Path:
        return self.folder / "bot.log"

    async def start(self, within: float = 120.0) -> float:
        """Start the bot and wait (at most ``within`` seconds) until it polls for updates;
        returns the seconds it took."""
        env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL")}
        env.update(TELEGRAM_BOT_TOKEN=self.api.token, DATABASE_URL=self.database_url)
        args = [CLI, "--config", str(self.config), "run"]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        polls = self.api.polls
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *args, env=env, cwd=self.folder, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=log)
        while self.api.polls == polls:
            if self.process.returncode is not None:
                await self.process.wait()
                tail = self.log.read_text(errors="replace")[-2000:]
                if self.workers is not None and self.process.returncode == 2:
                    said = tail.strip().splitlines()[-1:] or ["(nothing)"]
                    raise WorkersUnsupported(f"ngo-faq-bot run --workers {self.workers} "
                                             f"refused to start: {said[0]}")
                raise BotFailed(f"the bot exited with {self.process.returncode}:\n{tail}")
            if time.monotonic() - started > within:
                await self.kill()
                raise BotFailed(f"the bot did not poll within {within:.0f} s")
            await asyncio.sleep(0.05)
        self._cpu_mark = cpu_seconds(self.process.pid)
        return time.monotonic() - started

    def _used(self) -> float:
        assert self.process is not None
        return max(0.0, cpu_seconds(self.process.pid) - self._cpu_mark)

    async def kill(self) -> str:
        """SIGKILL one process: a worker when the bot has several, else the bot itself.
        Returns what was killed."""
        assert self.process is not None
        children = _children(self.process.pid)
        if self.workers and self.workers > 1 and children:
            os.kill(children[0], signal.SIGKILL)
            return "one worker"
        self.cpu += self._used()
        self.process.kill()
        await self.process.wait()
        return "the bot"

    async def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not stopped within 30 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.cpu += self._used()
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def cpu_now(self) -> float:
        """CPU seconds used while serving so far."""
        running = self.process is not None and self.process.returncode is None
        return self.cpu + (self._used() if running else 0.0)


# --- people and staff ---------------------------------------------------------

@dataclass
class Person:
    id: int
    lang: str
    kind: str                        # faq, ask (/ask), offer (the staff button), flood
    expected: int = 0                # updates sent that each deserve one reply
    update_ids: list[int] = field(default_factory=list)
    asked_staff: bool = False        # sent /ask or pressed "send it to the staff"
    phase: str = ""


def _prefix(key: str) -> tuple[str, ...]:
    """The visible start of a phrase, up to its ticket number, in every language."""
    return tuple(visible_text(phrases.raw(lang, key).split("{number}")[0])
                 for lang in phrases.LANGUAGES)


STAFF_ANSWER = _prefix("ticket_answer")
CARD = _prefix("staff_card")
ERROR_NOTICES = frozenset(visible_text(phrases.raw(lang, "error")) for lang in phrases.LANGUAGES)
ASK_STAFF_LABELS = frozenset(phrases.raw(lang, "ask_staff_button") for lang in phrases.LANGUAGES)


class Crowd:
    """The simulated people and staff: questions from the bundled FAQ's phrasings and
    off-topic ones, the "send it to the staff" button pressed, tickets answered by
    staff members replying to their post in the staff chat."""

    def __init__(self, api: BotApiServer, seed: int = 7, staff_delay: float = 1.0,
                 retyped: bool = True) -> None:
        self.api = api
        self.rng = random.Random(seed)
        faq = load_faq(PROJECT_ROOT / "faq")
        self.phrasings = [(lang, text) for entry in faq.entries
                          for lang, text in entry.phrasings() if lang in _OFF_TOPIC]
        self._words = sorted({w for _, text in self.phrasings for w in text.split()})
        self.retyped = retyped
        self.people: dict[int, Person] = {}
        self.answered: dict[int, int] = {}       # ticket number -> person id
        self.updates = 0
        self.staff_delay = staff_delay
        self._next = FIRST_PERSON
        self._tasks: set[asyncio.Task[None]] = set()
        self._acting = 0
        self._seen = 0
        self._staff_loop: asyncio.Task[None] | None = None
        api.members[STAFF_CHAT] = {STAFF[0]: "member", STAFF[1]: "administrator"}

    # running

    def start_staff(self) -> None:
        self._staff_loop = asyncio.create_task(self._watch_staff_chat())

    async def close(self) -> None:
        for task in [*self._tasks, *([self._staff_loop] if self._staff_loop else [])]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def busy(self) -> bool:
        """A person or a staff member is about to do something (a person still waiting
        for a reply is not: the reply may never come)."""
        return self._acting > 0

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # people

    def person(self, kind: str, phase: str = "") -> Person:
        lang = self.rng.choice(sorted(_OFF_TOPIC))
        person = Person(self._next, lang, kind, phase=phase)
        self._next += 1
        self.people[person.id] = person
        return person

    async def say(self, person: Person, text_: str) -> dict[str, Any]:
        user = self.api.user(person.id, "Ana", person.lang)
        update = await self.api.send_text(user, text_)
        person.expected += 1
        person.update_ids.append(update["update_id"])
        self.updates += 1
        return update

    def faq_question(self) -> tuple[str, str]:
        """A phrasing retyped with an edit that changes its terms (see the module
        docstring), or word for word unless ``retyped``, and its language."""
        lang, phrasing = self.rng.choice(self.phrasings)
        if not self.retyped:
            return lang, phrasing
        for _ in range(10):
            question = perturb(phrasing, self.rng, self._words)
            if read(question).terms != read(phrasing).terms:
                break
        return lang, question

    def off_topic(self, lang: str) -> str:
        return self.rng.choice(_OFF_TOPIC[lang]).format(place=self.rng.choice(_PLACES))

    async def ask(self, kind: str, phase: str = "") -> Person:
        """One person's question: ``faq``, ``ask`` (/ask an off-topic question) or
        ``offer`` (an off-topic question, then the "send it to the staff" button)."""
        person = self.person(kind, phase)
        if kind == "faq":
            person.lang, question = self.faq_question()
            await self.say(person, question)
        elif kind == "ask":
            await self.say(person, "/ask " + self.off_topic(person.lang))
            person.asked_staff = True
        else:
            since = self.api.mark()
            await self.say(person, self.off_topic(person.lang))
            self._spawn(self._press_staff_button(person, since))
        return person

    async def _press_staff_button(self, person: Person, since: int) -> None:
        """Wait for the offer (a person gives up after a minute) and press its button."""
        try:
            offer = await self.api.wait_for(
                "sendMessage", since=since, timeout=60,
                where=lambda c: c.chat_id == person.id and c.result is not None)
        except AssertionError:
            return
        data = next((d for label, d in (b for row in offer.buttons for b in row)
                     if label in ASK_STAFF_LABELS), None)
        if data is None:
            return  # answered from the FAQ or the registry after all: a plain question
        self._acting += 1
        try:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
            await self.api.press(self.api.user(person.id, "Ana", person.lang), offer, data)
            person.expected += 1
            person.asked_staff = True
            self.updates += 1
        finally:
            self._acting -= 1

    # staff

    async def _watch_staff_chat(self) -> None:
        """Answer every ticket posted in the staff chat once, replying to its post."""
        while True:
            calls = self.api.calls
            for call in calls[self._seen:]:
                card = _card(call)
                if card is not None and card[0] not in self.answered:
                    self.answered[card[0]] = card[1]
                    self._acting += 1
                    self._spawn(self._answer(card[0], call))
            self._seen = len(calls)
            await asyncio.sleep(0.1)

    async def _answer(self, number: int, card: Call) -> None:
        try:
            await asyncio.sleep(self.staff_delay * self.rng.uniform(0.5, 1.5))
            staff = self.api.user(self.rng.choice(STAFF), "Besa")
            chat = self.api.group_chat(STAFF_CHAT, "Stafi AMShC")
            await self.api.send_text(staff, f"Përgjigje e stafit për biletën {number}.",
                                     chat=chat, reply_to=card.result)
            self.updates += 1
        finally:
            self._acting -= 1


def _card(call: Call) -> tuple[int, int] | None:
    """(ticket number, person id) of a ticket's post in the staff chat."""
    if call.method != "sendMessage" or call.result is None or call.chat_id != STAFF_CHAT:
        return None
    shown = call.text
    if not shown.startswith(CARD):
        return None
    number = re.search(r"#(\d+)", shown)
    who = re.search(r"\(id (\d+)\)", shown)
    if number is None or who is None:
        return None
    return int(number.group(1)), int(who.group(1))


def queued(engine: Engine) -> int:
    """Updates not yet handled and calls not yet made, as the bot's database says."""
    total = 0
    with engine.connect() as connection:
        for query in ("SELECT count(*) FROM inbox WHERE handled_at IS NULL",
                      "SELECT count(*) FROM outbox WHERE status = 'pending'"):
            try:
                total += int(connection.execute(text(query)).scalar() or 0)
            except DBAPIError:  # a schema without that table: nothing queued there
                connection.rollback()
    return total


async def drain(api: BotApiServer, crowd: Crowd, database_url: str, quiet: float,
                limit: float) -> tuple[float, int]:
    """Wait until the bot has made no call for ``quiet`` seconds and its database holds
    nothing queued (at most ``limit`` seconds); returns the seconds from the start of the
    wait (right after the last update) to the arrival of the bot's last call, and what is
    still queued then."""
    started = time.monotonic()
    count, last = len(api.calls), started
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        while time.monotonic() - started < limit:
            await asyncio.sleep(0.2)
            if len(api.calls) != count or crowd.busy:
                count, last = len(api.calls), time.monotonic()
            elif time.monotonic() - last >= quiet:
                if not await asyncio.to_thread(queued, engine):
                    break
                await asyncio.sleep(1.0)
        left = await asyncio.to_thread(queued, engine)
    finally:
        engine.dispose()
    last_call = max((c.at for c in api.calls[-100:]), default=started)
    return max(0.0, last_call - started), left


# --- the audit ----------------------------------------------------------------

@dataclass
class Audit:
    """What every person and the staff chat received, against what they should have."""

    updates: int = 0
    questions: int = 0               # updates that deserve exactly one reply
    no_reply: int = 0
    extra_replies: int = 0
    error_notices: int = 0
    tickets_asked: int = 0
    tickets_missing: int = 0
    tickets_doubled: int = 0         # two tickets opened for one question to the staff
    cards_again: int = 0             # one ticket's post sent again (at least once: a kill)
    tickets_unasked: int = 0         # posts for people who did not ask for the staff
    staff_answers: int = 0
    answers_lost: int = 0
    answers_doubled: int = 0

    @property
    def without_one_reply(self) -> int:
        return self.no_reply + self.extra_replies


def delivered(api: BotApiServer) -> dict[Any, list[Call]]:
    """The messages the bot posted, by chat, in order."""
    chats: dict[Any, list[Call]] = {}
    for call in api.calls:
        if call.method in POSTING and call.result is not None:
            chats.setdefault(call.chat_id, []).append(call)
    return chats


def audit(api: BotApiServer, crowd: Crowd) -> Audit:
    chats = delivered(api)
    result = Audit(updates=crowd.updates)
    cards: dict[int, list[int]] = {}
    for call in chats.get(STAFF_CHAT, []):
        card = _card(call)
        if card is not None:
            cards.setdefault(card[1], []).append(card[0])
    for person in crowd.people.values():
        messages = chats.get(person.id, [])
        answers = [m for m in messages if m.text.startswith(STAFF_ANSWER)]
        errors = [m for m in messages if m.text in ERROR_NOTICES]
        replies = len(messages) - len(answers) - len(errors)
        result.questions += person.expected
        result.no_reply += max(0, person.expected - replies)
        result.extra_replies += max(0, replies - person.expected)
        result.error_notices += len(errors)
        if person.asked_staff:
            result.tickets_asked += 1
            # One question to the staff: one ticket, posted once. A ticket posted again
            # is the outbox's at-least-once (a kill between Telegram's acceptance of the
            # post and its record); two tickets would be handling's double.
            posted = cards.get(person.id, [])
            result.tickets_missing += not posted
            result.tickets_doubled += len(set(posted)) > 1
            result.cards_again += len(posted) - len(set(posted))
    asked = {p.id for p in crowd.people.values() if p.asked_staff}
    result.tickets_unasked = sum(len(n) for who, n in cards.items() if who not in asked)
    for number, person_id in crowd.answered.items():
        result.staff_answers += 1
        got = [m for m in chats.get(person_id, []) if m.text.startswith(STAFF_ANSWER)
               and f"#{number})" in m.text]
        result.answers_lost += not got
        result.answers_doubled += len(got) > 1
    return result


# When the audit's faults come, as fractions of the time the updates take.
BURSTS_AT = (0.15, 0.75, 0.9, 0.45)
HANG_AT = 0.3
KILL_AT = 0.55


@dataclass(frozen=True)
class AuditPlan:
    updates: int = 3000
    rate: float = 20.0
    tickets: int = 30
    fail_share: float = 0.10         # of sendMessage, answered 500
    bursts: int = 3                  # 429 bursts on posting and editing
    burst_seconds: float = 2.0
    retry_after: int = 3
    hang_seconds: float = 10.0       # every call arriving in the window hangs until it ends
    kill: bool = True                # SIGKILL (one worker, or the bot) and restart midway
    limits: bool = True              # Telegram's flood limits
    quiet: float = 10.0              # the queue has drained after this long without a call
    max_drain: float = 300.0
    retry_interval: str = "5s"       # staff.retry_interval of the bot
    retyped: bool = True             # FAQ questions retyped (embedded), or word for word

    @property
    def seconds(self) -> float:
        return self.updates / self.rate


@dataclass
class Run:
    """One run's figures (an audit, a latency or a throughput run)."""

    database: str
    workers: int
    audit: Audit | None = None
    skipped: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    cpu: float = 0.0                 # bot CPU seconds while serving
    handled: int = 0                 # updates the CPU is divided by

    @property
    def label(self) -> str:
        return f"{self.database}" + (f" x{self.workers}" if self.workers > 1 else "")

    @property
    def cpu_ms_per_update(self) -> float | None:
        return 1000 * self.cpu / self.handled if self.handled else None


async def _paced(count: int, rate: float, step: Callable[[int], Awaitable[None]],
                 events: Sequence[tuple[float, Callable[[], Awaitable[None]]]] = ()) -> None:
    """Call ``step(i)`` ``count`` times at ``rate`` per second, and each event at its time
    (seconds from the start) without holding up the steps."""
    started = time.monotonic()
    pending = sorted(events, key=lambda e: e[0])
    background: list[asyncio.Task[None]] = []
    for i in range(count):
        now = time.monotonic() - started
        while pending and pending[0][0] <= now:
            background.append(asyncio.ensure_future(pending.pop(0)[1]()))
        await step(i)
        delay = started + (i + 1) / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    for _, event in pending:
        background.append(asyncio.ensure_future(event()))
    await asyncio.gather(*background)


async def _started(run: Run, api: BotApiServer, database_url: str, folder: Path,
                   retry_interval: str, workers: int | None) -> Bot | None:
    """The bot on ``database_url``, started against ``api`` (its config written in
    ``folder``); None where it cannot run with ``workers`` (``run.skipped`` says why)."""
    bot = Bot(api, write_config(folder, api, retry_interval), database_url, workers)
    try:
        await bot.start()
    except WorkersUnsupported as exc:
        run.skipped = str(exc)
        return None
    return bot


async def run_audit(plan: AuditPlan, database_url: str, folder: Path, *,
                    workers: int | None = None, label: str = "") -> Run:
    """Scenario 1 on one database (see the module's docstring)."""
    run = Run(label or database_url.split(":")[0], workers or 1)
    async with BotApiServer() as api:
        crowd = Crowd(api, retyped=plan.retyped)
        bot = await _started(run, api, database_url, folder, plan.retry_interval, workers)
        if bot is None:
            return run
        crowd.start_staff()
        notes: dict[str, Any] = {}
        every = max(1, plan.updates // max(1, plan.tickets))
        second = 1 / plan.rate

        async def step(i: int) -> None:
            if i % every == every // 2 and plan.tickets:
                await crowd.ask("ask" if (i // every) % 2 else "offer")
            else:
                await crowd.ask("faq")

        def at(fraction: float) -> float:
            return plan.seconds * fraction

        base = time.monotonic()
        if plan.fail_share:
            api.fail_share("sendMessage", plan.fail_share, status=500)
        if plan.limits:
            api.limit_like_telegram()
        for fraction in BURSTS_AT[:plan.bursts]:
            api.throttle_between(base + at(fraction), base + at(fraction) + plan.burst_seconds,
                                 plan.retry_after, THROTTLED)
        if plan.hang_seconds:
            api.hang_between(base + at(HANG_AT), base + at(HANG_AT) + plan.hang_seconds)

        async def kill_and_restart() -> None:
            notes["killed"] = await bot.kill()
            if notes["killed"] == "the bot":
                notes["restart_seconds"] = await bot.start()

        events = [(at(KILL_AT) + second / 2, kill_and_restart)] if plan.kill else []
        try:
            await _paced(plan.updates, plan.rate, step, events)
            run.figures["drain_seconds"], run.figures["queued"] = await drain(
                api, crowd, database_url, plan.quiet, plan.max_drain)
            run.cpu = bot.cpu_now()
        finally:
            await crowd.close()
            await bot.stop()
        run.audit = audit(api, crowd)
        run.handled = crowd.updates
        run.figures.update(notes)
        run.figures["faults"] = _faults(api)
    return run


def _faults(api: BotApiServer) -> dict[str, int]:
    """How many calls the server refused, by kind of fault."""
    kinds = {"500": 0, "429 burst": 0, "hung": 0}
    for call in api.failed:
        if _in_burst(api, call):
            kinds["429 burst"] += 1
        elif _in_hang(api, call) or any(s.delay for s in api.shares.get(call.method.lower(), ())):
            kinds["hung"] += 1
        else:
            kinds["500"] += 1
    kinds["429 flood limit"] = api.limits.refused if api.limits is not None else 0
    return kinds


def _in_burst(api: BotApiServer, call: Call) -> bool:
    return any(w.retry_after is not None and w.covers(call.method, call.at) for w in api.windows)


def _in_hang(api: BotApiServer, call: Call) -> bool:
    return any(w.retry_after is None and w.covers(call.method, call.at) for w in api.windows)


# --- latency ------------------------------------------------------------------

@dataclass(frozen=True)
class LatencyPlan:
    rate: float = 25.0
    seconds: float = 60.0
    ticket_share: float = 0.05
    hang_share: float = 0.01         # of sendMessage, hanging ``hang`` seconds
    hang: float = 15.0
    flood_rate: float = 10.0         # one person's messages per second in the second phase
    flood_seconds: float = 60.0
    limits: bool = True
    quiet: float = 20.0
    max_drain: float = 60.0
    retry_interval: str = "5s"


def latencies(api: BotApiServer, crowd: Crowd, phase: str) -> dict[str, Any]:
    """update->reply of the FAQ questions of ``phase``; the hung ones apart."""
    chats = delivered(api)
    hung_chats = {c.chat_id for c in api.failed if c.method == "sendMessage"}
    times: list[float] = []
    hung = arrived = unanswered = 0
    for person in crowd.people.values():
        if person.kind != "faq" or person.phase != phase:
            continue
        replies = chats.get(person.id, [])
        if person.id in hung_chats:
            hung += 1
            arrived += bool(replies)
            continue
        sent = api.delivered_at.get(person.update_ids[0])
        if not replies or sent is None:
            unanswered += 1
            continue
        times.append(1000 * (replies[0].at - sent))
    return {"answers": len(times), "p50": percentile(times, 0.50) if times else None,
            "p95": percentile(times, 0.95) if times else None, "unanswered": unanswered,
            "hung": hung,
            "hung_arrived": arrived}


async def run_latency(plan: LatencyPlan, database_url: str, folder: Path, *,
                      workers: int | None = None, label: str = "") -> Run:
    """Scenario 2 on one database."""
    run = Run(label or database_url.split(":")[0], workers or 1)
    async with BotApiServer() as api:
        crowd = Crowd(api, staff_delay=2.0)
        bot = await _started(run, api, database_url, folder, plan.retry_interval, workers)
        if bot is None:
            return run
        crowd.start_staff()
        api.fail_share("sendMessage", plan.hang_share, delay=plan.hang)
        if plan.limits:
            api.limit_like_telegram()
        every = max(1, round(1 / plan.ticket_share)) if plan.ticket_share else 0

        def step_of(phase: str) -> Callable[[int], Awaitable[None]]:
            async def step(i: int) -> None:
                if every and i % every == every // 2:
                    await crowd.ask("ask", phase)
                else:
                    await crowd.ask("faq", phase)
            return step

        flooder = crowd.person("flood", "flood")

        async def flood() -> None:
            async def one(_: int) -> None:
                question = crowd.faq_question()[1]
                await crowd.say(flooder, question)
            await _paced(int(plan.flood_rate * plan.flood_seconds), plan.flood_rate, one)

        try:
            await _paced(int(plan.rate * plan.seconds), plan.rate, step_of("plain"))
            await asyncio.gather(
                _paced(int(plan.rate * plan.flood_seconds), plan.rate, step_of("flood")),
                flood())
            run.figures["drain_seconds"], run.figures["queued"] = await drain(
                api, crowd, database_url, plan.quiet, plan.max_drain)
            run.cpu = bot.cpu_now()
        finally:
            await crowd.close()
            await bot.stop()
        run.figures["plain"] = latencies(api, crowd, "plain")
        run.figures["flood"] = latencies(api, crowd, "flood")
        flood_replies = len(delivered(api).get(flooder.id, []))
        run.figures["flooder"] = (flooder.expected, flood_replies)
        run.audit = audit(api, crowd)
        run.handled = crowd.updates
    return run


# --- throughput ---------------------------------------------------------------

async def run_throughput(updates: int, database_url: str, folder: Path, *,
                         workers: int | None = None, label: str = "") -> Run:
    """Scenario 3: a burst of FAQ questions, no faults, no limits; handled per second."""
    run = Run(label or database_url.split(":")[0], workers or 1)
    async with BotApiServer() as api:
        crowd = Crowd(api)
        bot = await _started(run, api, database_url, folder, "5s", workers)
        if bot is None:
            return run
        try:
            people = [await crowd.ask("faq") for _ in range(updates)]
            await drain(api, crowd, database_url, 5.0, 300.0)
            run.cpu = bot.cpu_now()
        finally:
            await crowd.close()
            await bot.stop()
        chats = delivered(api)
        replies = [chats[p.id][0].at for p in people if chats.get(p.id)]
        # From the moment the first of them left for the bot to the last reply.
        first = min((api.delivered_at[u] for p in people for u in p.update_ids
                     if u in api.delivered_at), default=float("nan"))
        elapsed = max(replies) - first if replies else float("nan")
        handled = await asyncio.to_thread(
            handling, database_url, [u for p in people for u in p.update_ids])
        run.figures.update(answered=len(replies), seconds=elapsed,
                           per_second=len(replies) / elapsed if replies else 0.0,
                           handled_per_second=handled)
        run.handled = crowd.updates
    return run


def handling(database_url: str, update_ids: list[int]) -> float:
    """Updates handled per second, from the first one's arrival to the last one handled,
    as the bot's inbox records them."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            count, first, last = connection.execute(
                text("SELECT count(handled_at), min(received_at), max(handled_at) FROM inbox "
                     "WHERE update_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": update_ids}).one()
    finally:
        engine.dispose()
    if not count or first is None or last is None:
        return 0.0
    if isinstance(first, str):  # SQLite keeps them as text
        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
    return count / max((last - first).total_seconds(), 1e-3)


# --- printing -----------------------------------------------------------------

def _table(title: str, runs: list[Run], rows: list[tuple[str, str, Callable[[Run], Any]]]
           ) -> None:
    print(f"\n{title}")
    labels = [r.label for r in runs]
    width = max(40, *(len(label) for label, _, _ in rows)) + 2
    cols = [max(12, len(label) + 2) for label in labels]
    print(f"{'':<{width}}{'target':>10}"
          + "".join(f"{lb:>{c}}" for lb, c in zip(labels, cols, strict=True)))
    for label, target, value in rows:
        cells = []
        for run, c in zip(runs, cols, strict=True):
            if run.skipped:
                cells.append(f"{'skipped':>{c}}")
                continue
            try:
                shown = value(run)
            except (KeyError, TypeError, AttributeError):
                shown = "-"
            cells.append(f"{_fmt(shown):>{c}}")
        print(f"{label:<{width}}{target:>10}" + "".join(cells))
    for run in runs:
        if run.skipped:
            print(f"  {run.label}: skipped: {run.skipped}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def a(run: Run) -> Audit:
    assert run.audit is not None
    return run.audit


def print_audit(plan: AuditPlan, runs: list[Run]) -> None:
    _table(f"1. Audit: {plan.updates} updates at {plan.rate:g}/s, ~{plan.tickets} tickets, "
           f"{plan.fail_share:.0%} of sendMessage 500, {plan.bursts} x {plan.burst_seconds:g} s "
           f"429 bursts, {plan.hang_seconds:g} s of hanging calls, "
           + ("Telegram's limits, " if plan.limits else "no flood limits, ")
           + ("SIGKILL + restart midway" if plan.kill else "no kill"), runs, [
               ("updates sent (questions, presses, staff)", "", lambda r: a(r).updates),
               ("questions without exactly one reply", "0", lambda r: a(r).without_one_reply),
               ("  of them: no reply", "", lambda r: a(r).no_reply),
               ("  of them: a reply too many", "", lambda r: a(r).extra_replies),
               ("error notices sent instead", "", lambda r: a(r).error_notices),
               ("tickets asked for", "", lambda r: a(r).tickets_asked),
               ("tickets missing in the staff chat", "0", lambda r: a(r).tickets_missing),
               ("tickets opened twice for one question", "0", lambda r: a(r).tickets_doubled),
               ("  a ticket's post sent again (at least once)", "",
                lambda r: a(r).cards_again),
               ("tickets posted for people who did not ask", "0",
                lambda r: a(r).tickets_unasked),
               ("staff answers given", "", lambda r: a(r).staff_answers),
               ("staff answers lost", "0", lambda r: a(r).answers_lost),
               ("staff answers doubled", "0", lambda r: a(r).answers_doubled),
               ("killed", "", lambda r: r.figures.get("killed")),
               ("restart until polling again (s)", "", lambda r: r.figures.get("restart_seconds")),
               ("drain after the last update (s)", "", lambda r: r.figures["drain_seconds"]),
               ("still queued in the database at the end", "0", lambda r: r.figures["queued"]),
               *[(f"calls refused: {kind}", "", _fault(kind))
                 for kind in ("500", "429 burst", "hung", "429 flood limit")],
           ])


def _fault(kind: str) -> Callable[[Run], Any]:
    return lambda run: run.figures["faults"][kind]


def print_latency(plan: LatencyPlan, runs: list[Run]) -> None:
    """The staff chat takes about 20 posts a minute, fewer than the tickets this load
    opens: what is not posted by the end is still queued, not lost."""
    def f(phase: str, key: str) -> Callable[[Run], Any]:
        return lambda run: run.figures[phase][key]

    def hung(phase: str) -> Callable[[Run], str]:
        return lambda run: f"{run.figures[phase]['hung_arrived']}/{run.figures[phase]['hung']}"

    _table(f"2. Latency: {plan.rate:g} updates/s for {plan.seconds:g} s, "
           f"{plan.ticket_share:.0%} opening tickets, {plan.hang_share:.0%} of sendMessage "
           f"hanging {plan.hang:g} s, "
           + ("Telegram's limits" if plan.limits else "no flood limits")
           + f"; then {plan.flood_seconds:g} s more "
           f"with one person sending {plan.flood_rate:g} messages/s", runs, [
               ("FAQ answers measured", "", f("plain", "answers")),
               ("update->reply p50 (ms)", f"<= {P50_TARGET_MS:g}", f("plain", "p50")),
               ("update->reply p95 (ms)", f"<= {P95_TARGET_MS:g}", f("plain", "p95")),
               ("FAQ questions never answered", "0", f("plain", "unanswered")),
               ("hung answers arrived after a retry", "all", hung("plain")),
               ("with a flood: FAQ answers measured", "", f("flood", "answers")),
               ("with a flood: others' p50 (ms)", "", f("flood", "p50")),
               ("with a flood: others' p95 (ms)", f"<= {P95_TARGET_MS:g}", f("flood", "p95")),
               ("with a flood: never answered", "0", f("flood", "unanswered")),
               ("with a flood: hung answers arrived", "all", hung("flood")),
               ("flooder's messages / replies", "",
                lambda r: "{}/{}".format(*r.figures["flooder"])),
               ("tickets asked / posted in the staff chat", "", lambda r: (
                   f"{a(r).tickets_asked}/{a(r).tickets_asked - a(r).tickets_missing}")),
               ("staff answers given / delivered", "", lambda r: (
                   f"{a(r).staff_answers}/{a(r).staff_answers - a(r).answers_lost}")),
               ("still queued in the database at the end", "", lambda r: r.figures["queued"]),
           ])


def print_throughput(updates: int, runs: list[Run]) -> None:
    _table(f"3. Throughput: {updates} FAQ questions at once, no faults", runs, [
        ("questions answered", str(updates), lambda r: r.figures["answered"]),
        ("seconds from the first update to the last reply", "",
         lambda r: r.figures["seconds"]),
        ("updates handled per second (the inbox)", "",
         lambda r: r.figures["handled_per_second"]),
        ("replies per second (Telegram allows 30)", "", lambda r: r.figures["per_second"]),
        ("bot CPU busy meanwhile (% of one core)", "",
         lambda r: 100 * r.cpu / r.figures["seconds"]),
    ])


def print_cpu(runs: list[tuple[str, Run]]) -> None:
    print("\n4. Bot CPU per update (user + system, from /proc/<pid>/stat, while serving)")
    print(f"{'run':<32}{'updates':>10}{'CPU s':>10}{'ms/update':>12}")
    for name, run in runs:
        if run.skipped:
            print(f"{name:<32}{'skipped':>10}")
            continue
        per = run.cpu_ms_per_update
        print(f"{name:<32}{run.handled:>10}{run.cpu:>10.1f}{_fmt(per):>12}")


# --- main ---------------------------------------------------------------------

async def _on_each(kinds: list[str], workers: int | None, scenario: Callable[..., Awaitable[Run]],
                   ) -> list[Run]:
    runs = []
    targets: list[tuple[str, int | None]] = [(kind, None) for kind in kinds]
    if workers and workers > 1 and "postgres" in kinds:
        targets.append(("postgres", workers))
    for kind, count in targets:
        with tempfile.TemporaryDirectory(prefix="ngo-faq-bot-load-") as tmp:
            folder = Path(tmp)
            try:
                with database(kind, folder) as url:
                    runs.append(await scenario(url, folder, workers=count, label=kind))
            except BotFailed as exc:
                failed = Run(kind, count or 1, skipped=f"could not run: {exc}")
                runs.append(failed)
        print(f"  ({runs[-1].label} done)", file=sys.stderr, flush=True)
    return runs


async def main_async(args: argparse.Namespace) -> int:
    quick = args.quick
    audit_plan = AuditPlan(updates=400, tickets=8, bursts=2, burst_seconds=1.0,
                           hang_seconds=3.0) if quick else AuditPlan()
    latency_plan = LatencyPlan(seconds=15, flood_seconds=15) if quick else LatencyPlan()
    if args.no_telegram_limits:
        audit_plan = dataclasses.replace(audit_plan, limits=False)
        latency_plan = dataclasses.replace(latency_plan, limits=False)
    burst = 300 if quick else 1500
    cpu: list[tuple[str, Run]] = []
    print(f"load benchmark ({'quick' if quick else 'full'}), bot: {CLI} run", flush=True)
    if "audit" in args.scenario:
        runs = await _on_each(args.database, args.workers,
                              lambda url, folder, **kw: run_audit(audit_plan, url, folder, **kw))
        print_audit(audit_plan, runs)
        cpu += [(f"audit {r.label}", r) for r in runs]
    if "latency" in args.scenario:
        runs = await _on_each(args.database, args.workers,
                              lambda url, folder, **kw: run_latency(latency_plan, url, folder,
                                                                    **kw))
        print_latency(latency_plan, runs)
        cpu += [(f"latency {r.label}", r) for r in runs]
    if "throughput" in args.scenario:
        runs = await _on_each(args.database, args.workers,
                              lambda url, folder, **kw: run_throughput(burst, url, folder, **kw))
        print_throughput(burst, runs)
        cpu += [(f"throughput {r.label}", r) for r in runs]
    print_cpu(cpu)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short runs (400 updates, 15 s phases) for a quick look")
    parser.add_argument("--scenario", nargs="+", default=["audit", "latency", "throughput"],
                        choices=["audit", "latency", "throughput"],
                        help="what to run (CPU per update is printed for every run)")
    parser.add_argument("--database", nargs="+", default=["sqlite", "postgres"],
                        choices=["sqlite", "postgres"])
    parser.add_argument("--no-telegram-limits", action="store_true",
                        help="do not enforce Telegram's flood limits in the audit and latency "
                             "runs (to see the bot's own figures apart from them)")
    parser.add_argument("--workers", type=int, default=3, metavar="N",
                        help="also run `ngo-faq-bot run --workers N` on PostgreSQL "
                             "(0: do not; default 3)")
    args = parser.parse_args()
    if args.workers < 0:
        parser.error("--workers must be 0 or more")
    # A request cut off by the SIGKILL is expected here, not worth a traceback.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    warm_vectors()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
