"""A Bot API test server: the part of Telegram's HTTP API the bot uses, on 127.0.0.1.

It answers with the Bot API's real JSON (``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ...}``), checks what real
Telegram checks where a mistake of ours would show (HTML that does not parse,
empty or too long texts, callback data over 64 bytes, editing a message that
does not exist, a webhook address that is not https on a port Telegram allows),
records every call, and lets a test play the people: inject messages, stickers,
group messages and button presses, delivered by long polling (``getUpdates``) or
posted to the bot's webhook with the secret token, through the reverse proxy in
front of the bot (:attr:`BotApiServer.proxied`).

For load and fault runs it injects Telegram's troubles: a share of a method's
calls failing (seeded random), time windows in which calls hang or are
answered 429 with ``retry_after``, and, on request, Telegram's own flood limits.
It records when each call arrived and when each update left for the bot, so
the time from an update to its reply can be measured.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

# Parameters that are plain strings even when they look like JSON (e.g. text "123").
_STRING_PARAMS = frozenset({
    "text", "caption", "url", "secret_token", "parse_mode", "callback_query_id",
    "language_code", "inline_message_id", "ip_address", "description", "short_description",
    "name", "emoji", "from_chat_id_str",
})
# The tags Telegram's HTML parse mode accepts.
_TELEGRAM_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# What copyMessage copies of a message, and the content that can carry a caption.
_COPIED = frozenset({"text", "photo", "document", "sticker", "voice", "video", "audio",
                     "animation", "video_note", "caption"})
_CAPTIONED = frozenset({"photo", "document", "voice", "video", "audio", "animation"})
_COMMAND_AT_START = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


@dataclass
class Failure:
    """The next ``count`` calls of a method fail: with ``status``, a 429 asking to wait
    ``retry_after`` seconds, or after hanging ``delay`` seconds (beyond the client's
    timeout) without being carried out. With ``chat_id``, only calls to that chat fail;
    ``description`` replaces the error's usual description.

    ``carried_out``: the call is carried out (the person sees the message at once), and
    only its answer comes ``delay`` seconds late; a client that stopped waiting sooner
    cannot tell it from a call that hung without being carried out. With ``trickle`` too,
    the answer starts at once and dribbles out over ``delay`` seconds (a slow link): no
    read waits long, so a client waits for all of it, however long it takes."""

    count: int
    status: int = 500
    retry_after: int | None = None
    delay: float | None = None
    chat_id: int | None = None
    description: str | None = None
    carried_out: bool = False
    trickle: bool = False


@dataclass
class Share:
    """A share (0-1) of a method's calls fails, drawn from the server's seeded random:
    with ``status``, or after hanging ``delay`` seconds without being carried out."""

    share: float
    status: int = 500
    delay: float | None = None


@dataclass(frozen=True)
class Window:
    """Calls arriving between ``start`` and ``end`` (``time.monotonic()``) hang until
    ``end`` and are not carried out, or, with ``retry_after``, are answered 429 at once.
    ``methods`` (lower case) limits it to those methods; None: every method."""

    start: float
    end: float
    retry_after: int | None = None
    methods: frozenset[str] | None = None

    def covers(self, method: str, now: float) -> bool:
        return self.start <= now < self.end and (
            self.methods is None or method.lower() in self.methods)


# What posts a message in a chat: what Telegram's flood limits count.
_POSTING = frozenset({"sendmessage", "sendphoto", "senddocument", "copymessage"})


class TelegramLimits:
    """Telegram's flood limits for a bot, answered with 429 and ``retry_after`` as it does:
    about 30 messages a second in all, 20 a minute in one group, and about one a second
    in one private chat. Each is a token bucket, so a short burst passes (30 messages at
    once in all, 20 in a group, ``burst`` in a private chat) and then the rate holds."""

    PER_SECOND = 30
    PER_GROUP_MINUTE = 20

    def __init__(self, burst: int = 3) -> None:
        self.burst = burst
        self._all = _Bucket(self.PER_SECOND, self.PER_SECOND)
        self._chats: dict[int, _Bucket] = {}
        self.refused = 0

    def check(self, method: str, chat_id: Any, now: float) -> None:
        """Count one call; ApiError 429 when it goes over a limit (then it is not counted)."""
        if method.lower() not in _POSTING:
            return
        try:
            chat = int(chat_id)
        except (TypeError, ValueError):
            return
        if chat not in self._chats:
            self._chats[chat] = _Bucket(self.PER_GROUP_MINUTE, self.PER_GROUP_MINUTE / 60) \
                if chat < 0 else _Bucket(self.burst, 1.0)
        buckets = (self._all, self._chats[chat])
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            self.refused += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for bucket in buckets:
            bucket.take()


class _Bucket:
    """``capacity`` tokens, refilled at ``rate`` a second; a message takes one."""

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.when: float | None = None

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now), after refilling up to ``now``."""
        if self.when is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.when) * self.rate)
        self.when = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made; ``at`` is when it arrived (``time.monotonic()``)."""

    method: str
    params: dict[str, Any]
    result: Any = None
    at: float = field(default=0.0, compare=False)

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        """What the person sees: the text without HTML markup."""
        return visible_text(str(self.params.get("text", "")))

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Rows of (label, callback data) of the inline keyboard."""
        markup = self.params.get("reply_markup") or {}
        return [[(b["text"], b.get("callback_data", "")) for b in row]
                for row in markup.get("inline_keyboard", [])]

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]


class _HtmlChecker(HTMLParser):
    """Parses text the way Telegram's HTML mode does, collecting the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TELEGRAM_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"unmatched end tag \"{tag}\""
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def check_html(text: str) -> str:
    """The visible text of ``text`` in HTML parse mode; ApiError if Telegram would refuse it."""
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
        raise ApiError(400, "Bad Request: can't parse entities: unsupported entity: \"&\"")
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.error:
        raise ApiError(400, f"Bad Request: can't parse entities: {checker.error}")
    if checker.stack:
        raise ApiError(400, "Bad Request: can't parse entities: "
                            f"unclosed tag \"{checker.stack[-1]}\"")
    return "".join(checker.parts)


def visible_text(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class BotApiServer:
    """The test server. ``await start()``, point the bot at :attr:`base_url`, ``await close()``."""

    def __init__(self, token: str = "123456789:TEST-token-for-the-test-server",
                 username: str = "ascs_test_bot") -> None:
        self.token = token
        self.me = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "ASCS",
                   "username": username, "can_join_groups": True,
                   "can_read_all_group_messages": False, "supports_inline_queries": False,
                   "can_connect_to_business": False, "has_main_web_app": False}
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        # The reverse proxy in front of a bot on a webhook, as in production: Telegram posts
        # to https://HOST/PATH, the proxy (holding the certificate) to the bot's own
        # http://127.0.0.1:PORT/PATH. Public host name -> PORT; no other host resolves.
        self.proxied: dict[str, int] = {}
        self.fail_methods: set[str] = set()
        self.failures: dict[str, list[Failure]] = {}
        self.failed: list[Call] = []          # calls refused by an injected failure
        self.shares: dict[str, list[Share]] = {}
        self.windows: list[Window] = []
        self.limits: TelegramLimits | None = None  # Telegram's flood limits, when switched on
        self.random = random.Random(0)
        # update_id -> when it first left for the bot (getUpdates or the webhook).
        self.delivered_at: dict[int, float] = {}
        self.polls = 0                         # getUpdates calls received
        # chat id -> {user id: status} for getChatMember; chats not listed: everyone a member.
        self.members: dict[int, dict[int, str]] = {}
        self.forums: set[int] = set()         # supergroups that are forums (topics)
        self.migrated: dict[int, int] = {}    # groups upgraded to a supergroup: old -> new
        self.topics: dict[tuple[int, int], str] = {}  # (chat, topic) -> the topic's name
        self._again: list[dict[str, Any]] = []
        self._thread_ids = itertools.count(1000)
        self.commands: dict[str | None, list[dict[str, str]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile and downloads
        self.undeclared: set[str] = set()  # files whose size getFile does not tell
        self.downloaded: dict[str, int] = {}  # file_id -> bytes the bot read of it
        self.held_downloads: asyncio.Event | None = None  # set: downloads wait for it
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- running --------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- what the bot did -----------------------------------------------

    def mark(self) -> int:
        """A position in the call log; pass it as ``since`` to look only at later calls."""
        return len(self.calls)

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method]

    async def wait_for(self, method: str, *, since: int = 0,
                       where: Callable[[Call], bool] | None = None,
                       timeout: float = 10.0, refused_too: bool = False) -> Call:
        """The first call of ``method`` after ``since`` (matching ``where``) that Telegram
        carried out, waiting for it: a call it refused (a message with bad HTML, say)
        reached nobody. ``refused_too``: any call, carried out or not."""
        async def found() -> Call:
            async with self._changed:
                while True:
                    for call in self.calls[since:]:
                        if call.method == method and (where is None or where(call)) and (
                                refused_too or call.result is not None):
                            return call
                    await self._changed.wait()
        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            seen = [(c.method, c.params.get("text", "")[:60]) for c in self.calls[since:]]
            raise AssertionError(f"no {method} within {timeout} s; calls since: {seen}") from None

    async def replies(self, chat_id: int, *, since: int, count: int = 1,
                      timeout: float = 10.0) -> list[Call]:
        """The next ``count`` messages to ``chat_id`` after ``since`` that Telegram took (a
        sendMessage it refused, bad HTML say, never reached the person: it is not one)."""
        found: list[Call] = []
        position = since
        for _ in range(count):
            call = await self.wait_for("sendMessage", since=position, timeout=timeout,
                                       where=lambda c: c.chat_id == chat_id
                                       and c.result is not None)
            found.append(call)
            position = self.calls.index(call) + 1
        return found

    # --- playing the people ---------------------------------------------

    @staticmethod
    def user(user_id: int, first_name: str = "Ana",
             language_code: str | None = "sq") -> dict[str, Any]:
        person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            person["language_code"] = language_code
        return person

    @staticmethod
    def private_chat(user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    @staticmethod
    def group_chat(chat_id: int = -1001234567890, title: str = "OJF Forum") -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": title}

    @staticmethod
    def forum_chat(chat_id: int = -1009876543210, title: str = "Staff") -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}

    def fail(self, method: str, count: int = 1, *, status: int = 500,
             retry_after: int | None = None, delay: float | None = None,
             chat_id: int | None = None, description: str | None = None,
             carried_out: bool = False, trickle: bool = False) -> None:
        """Make the next ``count`` calls of ``method`` fail (see :class:`Failure`)."""
        self.failures.setdefault(method.lower(), []).append(
            Failure(count, status, retry_after, delay, chat_id, description, carried_out,
                    trickle))

    def fail_share(self, method: str, share: float, *, status: int = 500,
                   delay: float | None = None) -> None:
        """Make ``share`` of the calls of ``method`` fail (see :class:`Share`)."""
        self.shares.setdefault(method.lower(), []).append(Share(share, status, delay))

    def hang_between(self, start: float, end: float, methods: tuple[str, ...] | None = None
                     ) -> None:
        """Calls arriving between ``start`` and ``end`` hang until ``end`` (a stuck
        connection) and are not carried out."""
        self.windows.append(Window(start, end, None, _lower(methods)))

    def throttle_between(self, start: float, end: float, retry_after: int,
                         methods: tuple[str, ...] | None = None) -> None:
        """Calls arriving between ``start`` and ``end`` are answered 429 ``retry_after``."""
        self.windows.append(Window(start, end, retry_after, _lower(methods)))

    def limit_like_telegram(self, burst: int = 3) -> TelegramLimits:
        """Switch on Telegram's flood limits (see :class:`TelegramLimits`)."""
        self.limits = TelegramLimits(burst)
        return self.limits

    def sent_to(self, chat_id: int, since: int = 0) -> list[Call]:
        """The messages the bot created in ``chat_id`` (sent, copied), in order."""
        return [c for c in self.calls[since:] if c.chat_id == chat_id and c.result is not None
                and c.method in ("sendMessage", "sendPhoto", "sendDocument", "copyMessage")]

    def message(self, user: dict[str, Any], text: str | None = None, *,
                chat: dict[str, Any] | None = None, reply_to: dict[str, Any] | None = None,
                **content: Any) -> dict[str, Any]:
        """A message as Telegram sends it, with command and mention entities."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": chat or self.private_chat(user), "from": user,
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    async def send_text(self, user: dict[str, Any], text: str, **kwargs: Any) -> dict[str, Any]:
        return await self.deliver({"message": self.message(user, text, **kwargs)})

    async def send_sticker(self, user: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        sticker = {"file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgADsticker", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False,
                   "emoji": "😀"}
        return await self.deliver({"message": self.message(user, sticker=sticker, **kwargs)})

    async def send_photo(self, user: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        photo = [{"file_id": "AgACAgIAAxkBAAphoto", "file_unique_id": "AQADphoto",
                  "width": 90, "height": 90, "file_size": 1000}]
        return await self.deliver({"message": self.message(user, photo=photo, **kwargs)})

    async def send_document(self, user: dict[str, Any], file_name: str, content: bytes,
                            declare_size: bool = True, **kwargs: Any) -> dict[str, Any]:
        """A file the person sends; the bot can fetch it with getFile and download it.

        With ``declare_size=False`` neither the update nor getFile tells its size
        (Telegram may leave ``file_size`` out).
        """
        file_id = f"BQACAgIAAxkBAAupload{next(self._file_ids)}"
        self.files[file_id] = content
        if not declare_size:
            self.undeclared.add(file_id)
        document = {"file_id": file_id, "file_unique_id": file_id[-12:], "file_name": file_name,
                    "mime_type": "application/x-yaml"}
        if declare_size:
            document["file_size"] = len(content)
        return await self.deliver({"message": self.message(user, document=document, **kwargs)})

    async def send_voice(self, user: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        voice = {"file_id": "AwACAgIAAxkBAAvoice", "file_unique_id": "AgADvoice",
                 "duration": 4, "mime_type": "audio/ogg", "file_size": 9000}
        return await self.deliver({"message": self.message(user, voice=voice, **kwargs)})

    async def edit(self, message: dict[str, Any], *, text: str | None = None,
                   caption: str | None = None) -> dict[str, Any]:
        """The person edits ``message`` (a message or the update that brought it): Telegram
        sends it again, changed, as an ``edited_message``."""
        message = message.get("message", message)
        stored = self._messages[(message["chat"]["id"], message["message_id"])]
        if text is not None:
            stored["text"] = text
            stored.pop("entities", None)
            if _entities(text):
                stored["entities"] = _entities(text)
        if caption is not None:
            stored["caption"] = caption
        stored["edit_date"] = int(time.time())
        return await self.deliver({"edited_message": dict(stored)})

    async def migrate(self, old: dict[str, Any], new_id: int, by: dict[str, Any]
                      ) -> dict[str, Any]:
        """The group ``old`` is upgraded to the supergroup ``new_id``: Telegram sends a
        service message in each, and refuses calls to the old id from then on."""
        self.migrated[old["id"]] = new_id
        if old["id"] in self.members:
            self.members.setdefault(new_id, dict(self.members[old["id"]]))
        new = {"id": new_id, "type": "supergroup", "title": old.get("title", "Group")}
        await self.deliver({"message": self.message(by, chat=old, migrate_to_chat_id=new_id)})
        return await self.deliver({"message": self.message(
            by, chat=new, migrate_from_chat_id=old["id"])})

    async def press(self, user: dict[str, Any], message: dict[str, Any] | Call,
                    data: str) -> dict[str, Any]:
        """Press the button ``data`` under ``message`` (a bot message or its sendMessage call)."""
        if isinstance(message, Call):
            message = message.result
        query = {"id": str(next(self._query_ids)), "from": user,
                 "chat_instance": "4242", "data": data, "message": message}
        return await self.deliver({"callback_query": query})

    async def deliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue ``update`` for getUpdates, or post it to the webhook when one is set."""
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook is not None:
            self.delivered_at.setdefault(update["update_id"], time.monotonic())
            status = await self.post_webhook(update, self.webhook.get("secret_token"))
            if status != 200:
                raise AssertionError(f"the bot's webhook answered {status}")
            return update
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def deliver_again(self, update: dict[str, Any]) -> None:
        """Deliver ``update`` once more, with its update_id (as Telegram may after a restart)."""
        if self.webhook is not None:
            await self.post_webhook(update, self.webhook.get("secret_token"))
            return
        async with self._changed:
            self._again.append(update)
            self._changed.notify_all()

    async def post_webhook(self, update: dict[str, Any], secret_token: str | None) -> int:
        """POST ``update`` to the webhook URL the bot set; returns the HTTP status."""
        assert self.webhook is not None, "the bot has not set a webhook"
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        public = urlsplit(self.webhook["url"])
        local = f"http://127.0.0.1:{self.proxied[public.hostname or '']}{public.path}"
        async with aiohttp.ClientSession() as session:
            async with session.post(local, data=json.dumps(update),
                                    headers=headers) as response:
                return response.status

    def stored(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message as the server holds it now (sent by the bot or injected by a test)."""
        return self._messages[(chat_id, message_id)]

    def message_text(self, chat_id: int, message_id: int) -> str:
        """The visible text of a bot message now (after edits)."""
        return self._messages[(chat_id, message_id)]["text"]

    # --- the HTTP API ---------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        method = request.match_info["method"]
        params = await _read_params(request)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if method in self.fail_methods:
                raise ApiError(500, "Internal Server Error")
            for key in ("chat_id", "from_chat_id"):
                moved = self.migrated.get(_int_or_none(params.get(key)) or 0)
                if moved is not None:
                    raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup "
                                        "chat", migrate_to_chat_id=moved)
            late = await self._injected_failure(method, params)
            await self._injected_fault(method, params, arrived)
            if self.limits is not None:
                self.limits.check(method, params.get("chat_id"), time.monotonic())
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            await self._record(Call(method, params, None, arrived))
            body: dict[str, Any] = {"ok": False, "error_code": exc.code,
                                    "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            if exc.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": exc.migrate_to_chat_id}
            return web.json_response(body, status=exc.code)
        if method.lower() != "getupdates" or result:
            await self._record(Call(method, params, result, arrived))
        body = {"ok": True, "result": result}
        if late is not None and late.trickle:  # carried out (recorded above), slowly answered
            return await _trickled(request, body, late.delay or 0.0)
        if late is not None:  # carried out (recorded above), answered late
            await asyncio.sleep(late.delay or 0.0)
        return web.json_response(body)

    async def _injected_fault(self, method: str, params: dict[str, Any], arrived: float) -> None:
        """The windows (hang, 429) and the random shares of failures."""
        for window in self.windows:
            if not window.covers(method, arrived):
                continue
            self.failed.append(Call(method, params, None, arrived))
            if window.retry_after is not None:
                raise ApiError(429, f"Too Many Requests: retry after {window.retry_after}",
                               window.retry_after)
            await asyncio.sleep(max(0.0, window.end - time.monotonic()))
            raise ApiError(504, "Gateway Timeout")
        for share in self.shares.get(method.lower(), ()):
            if self.random.random() >= share.share:
                continue
            self.failed.append(Call(method, params, None, arrived))
            if share.delay is not None:
                await asyncio.sleep(share.delay)
                raise ApiError(504, "Gateway Timeout")
            raise ApiError(share.status, "Internal Server Error" if share.status >= 500
                           else "Bad Request: injected failure")

    async def _injected_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        """Fail the call as the first :class:`Failure` that applies says; one that lets it
        be carried out is returned, to make its answer late."""
        failure = next((f for f in self.failures.get(method.lower(), ()) if f.count > 0 and (
            f.chat_id is None or str(f.chat_id) == str(params.get("chat_id")))), None)
        if failure is None:
            return None
        failure.count -= 1
        if failure.carried_out:
            return failure
        self.failed.append(Call(method, params, None))
        if failure.delay is not None:
            await asyncio.sleep(failure.delay)
            raise ApiError(504, "Gateway Timeout")
        if failure.retry_after is not None:
            raise ApiError(429, f"Too Many Requests: retry after {failure.retry_after}",
                           failure.retry_after)
        raise ApiError(failure.status, failure.description or (
            "Internal Server Error" if failure.status >= 500 else "Bad Request: injected failure"))

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """The file in 64 KB chunks, counting what the bot reads before it hangs up."""
        file_id = request.match_info["path"].rpartition("/")[2]
        if request.match_info["token"] != self.token or file_id not in self.files:
            return web.Response(status=404, text="Not Found")
        content = self.files[file_id]
        if self.held_downloads is not None:
            await self.held_downloads.wait()
        response = web.StreamResponse()
        await response.prepare(request)
        self.downloaded[file_id] = 0
        try:
            for start in range(0, len(content), 65536):
                await response.write(content[start:start + 65536])
                self.downloaded[file_id] = start + len(content[start:start + 65536])
            await response.write_eof()
        except (ConnectionError, RuntimeError):  # the bot stopped reading
            pass
        return response

    async def _api_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        found = {"file_id": file_id, "file_unique_id": file_id[-12:],
                 "file_path": f"documents/{file_id}"}
        if file_id not in self.undeclared:
            found["file_size"] = len(self.files[file_id])
        return found

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.me

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        self.polls += 1
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._again:
                    again, self._again = self._again, []
                    return self._delivering(again)
                if self._updates or self._closing:
                    return self._delivering(self._updates[:limit])
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    return []

    def _delivering(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Note when each update first leaves for the bot."""
        now = time.monotonic()
        for update in updates:
            self.delivered_at.setdefault(update["update_id"], now)
        return updates

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        if not params.get("url"):
            self.webhook = None
        else:
            url = urlsplit(params["url"])  # what Telegram checks before it accepts a webhook
            if url.scheme != "https":
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided "
                                    "for webhook")
            if (url.port or 443) not in (80, 88, 443, 8443):
                raise ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on "
                                    "ports 80, 88, 443 or 8443")
            if url.hostname not in self.proxied:
                raise ApiError(400, "Bad Request: bad webhook: Failed to resolve host: Name or "
                                    "service not known")
            self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code")] = commands
        return True

    async def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(params.get("language_code"), None)
        return True

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = self._check_text(params)
        return self._new_message(params, text=text)

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "AgACAgIAAxkBAAsent", "file_unique_id": "AQADsent",
                  "width": 90, "height": 90}]
        return self._new_message(params, photo=photo, **self._caption(params))

    async def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": "BQACAgIAAxkBAAdoc", "file_unique_id": "AgADdoc",
                    "file_name": "document"}
        return self._new_message(params, document=document, **self._caption(params))

    async def _api_copymessage(self, params: dict[str, Any]) -> dict[str, Any]:
        source = self._messages.get((int(params["from_chat_id"]), int(params["message_id"])))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        content = {k: v for k, v in source.items() if k in _COPIED}
        if "caption" in params and not (_CAPTIONED & content.keys()):
            raise ApiError(400, "Bad Request: the message can't have a caption")
        content.update(self._caption(params))
        copy = self._new_message(params, **content)
        return {"message_id": copy["message_id"]}

    async def _api_createforumtopic(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id not in self.forums:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_NAME_INVALID")
        thread = next(self._thread_ids)
        self.topics[(chat_id, thread)] = name
        return {"message_thread_id": thread, "name": name, "icon_color": 7322096}

    async def _api_editforumtopic(self, params: dict[str, Any]) -> bool:
        key = (int(params["chat_id"]), int(params["message_thread_id"]))
        if key not in self.topics:
            raise ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        name = params.get("name")
        if name is not None:
            if not 1 <= len(str(name)) <= 128:
                raise ApiError(400, "Bad Request: TOPIC_NAME_INVALID")
            self.topics[key] = str(name)
        return True

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = self._check_text(params)
        markup = params.get("reply_markup")
        if text == message["text"] and markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same")
        message["text"] = text
        message["edit_date"] = int(time.time())
        _set_markup(message, markup)
        return message

    async def _api_editmessagecaption(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        if not (_CAPTIONED & message.keys()):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = str(params.get("caption") or "")
        shown = check_html(caption) if str(params.get("parse_mode", "")).upper() == "HTML" \
            else caption
        if len(shown) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        if shown == message.get("caption", "") and \
                params.get("reply_markup") == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same")
        message["caption"] = shown
        message["edit_date"] = int(time.time())
        return message

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if markup == message.get("reply_markup") or (not markup and "reply_markup" not in message):
            raise ApiError(400, "Bad Request: message is not modified")
        _set_markup(message, markup)
        return message

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.user(int(params["user_id"]))
        chat_id = int(params["chat_id"])
        status = self.members[chat_id].get(user["id"], "left") if chat_id in self.members \
            else "member"
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys((
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories"), False))
        elif status == "restricted":
            member.update(dict.fromkeys((
                "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
                "can_send_videos", "can_send_video_notes", "can_send_voice_notes",
                "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
                "can_change_info", "can_invite_users", "can_pin_messages",
                "can_manage_topics"), False), is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat_type = "private" if chat_id > 0 else "supergroup"
        forum = {"is_forum": True} if chat_id in self.forums else {}
        return {"id": chat_id, "type": chat_type, **forum, "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    # --- helpers ----------------------------------------------------------

    def _check_text(self, params: dict[str, Any]) -> str:
        raw = str(params.get("text") or "")
        if not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text = check_html(raw) if str(params.get("parse_mode", "")).upper() == "HTML" else raw
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_markup(params.get("reply_markup"))
        return text

    @staticmethod
    def _check_markup(markup: Any) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    @staticmethod
    def _caption(params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        return {"caption": visible_text(str(caption))} if caption else {}

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Person"}
        if chat_id in self.forums:
            return self.forum_chat(chat_id)
        return {"id": chat_id, "type": "supergroup", "title": "Group"}

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        message: dict[str, Any] = {"message_id": next(self._message_ids),
                                   "date": int(time.time()), "chat": chat, "from": self.me,
                                   **content}
        thread = params.get("message_thread_id")
        if thread:
            if chat["id"] not in self.forums:
                raise ApiError(400, "Bad Request: message thread not found")
            message.update(message_thread_id=int(thread), is_topic_message=True)
        reply = (params.get("reply_parameters") or {}).get("message_id")
        if reply:
            replied = self._messages.get((chat["id"], int(reply)))
            if replied is None and not params["reply_parameters"].get(
                    "allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
            if replied is not None:
                message["reply_to_message"] = {k: v for k, v in replied.items()
                                               if k != "reply_to_message"}
        _set_markup(message, params.get("reply_markup"))
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    async def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        if self._messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _find(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self._messages[key]


async def _trickled(request: web.Request, body: dict[str, Any], seconds: float
                   ) -> web.StreamResponse:
    """``body`` as JSON in ten pieces over ``seconds``."""
    payload = json.dumps(body).encode()
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(payload)
    await response.prepare(request)
    step = math.ceil(len(payload) / 10)
    for start in range(0, len(payload), step):
        await asyncio.sleep(seconds / 10)
        await response.write(payload[start:start + step])
    await response.write_eof()
    return response


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _lower(methods: tuple[str, ...] | None) -> frozenset[str] | None:
    return frozenset(m.lower() for m in methods) if methods is not None else None


def _set_markup(message: dict[str, Any], markup: Any) -> None:
    if markup and markup.get("inline_keyboard"):
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _entities(text: str) -> list[dict[str, Any]]:
    """The command and mention entities Telegram adds to a text."""
    entities = []
    command = _COMMAND_AT_START.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": command.end()})
    for mention in _MENTION.finditer(text):
        if command and mention.start() < command.end():
            continue
        entities.append({"type": "mention", "offset": _utf16_len(text[:mention.start()]),
                         "length": _utf16_len(mention.group())})
    return entities


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _read_params(request: web.Request) -> dict[str, Any]:
    """The parameters of a Bot API request (query string, form, multipart or JSON)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body or {})
        return params
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            else:  # an uploaded file: its name and content are kept under "_files"
                params[key] = "<file>"
                params.setdefault("_files", {})[key] = {"filename": value.filename,
                                                        "content": value.file.read()}
    for key, value in list(params.items()):
        if isinstance(value, str) and key not in _STRING_PARAMS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params
