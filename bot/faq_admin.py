"""Keeping the FAQ current: reloads, uploads and accepted suggestions, always validated first.

:class:`FaqAdmin` owns the swap: a new FAQ (edited on disk, uploaded, or
grown by an accepted suggestion) is validated as a whole before the
:class:`~bot.conversation.Assistant` answers from it; one with problems is
refused with the list of problems and the last good FAQ stays in use.

A file that is replaced is first copied to the history folder
(``faq.history`` in the config, ``data/faq-history`` by default: outside
``faq/``, which holds only what admins edit) as ``NAME.YYYYmmdd-HHMMSS.yaml``.
Suggestions are written with ruamel.yaml's round trip, so the file's
comments, order and layout survive.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bot.config import FaqAdminConfig
from bot.faq import Entry, Faq, Problem, check_faq, faq_files, read_text
from bot.phrases import Html, say
from bot.text import fold
from bot.untrusted import visible

if TYPE_CHECKING:
    from bot.conversation import Assistant

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.ya?ml$")
NEW_ENTRIES_FILE = "from-staff.yaml"
MAX_PENDING = 20  # uploads waiting for confirmation
_NEW_ENTRIES_HEADER = (
    "# Entries written from staff answers accepted with /suggestions.\n"
    "# Admins: move them into the file of their topic when you like.\n\n"
    "version: 1\nentries: []\n")


@dataclass(frozen=True)
class Change:
    """What a new FAQ adds, removes and changes, by entry id."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _content(entry: Entry) -> tuple[object, ...]:
    return (entry.category, entry.questions, entry.answers, entry.keywords, entry.links)


def diff(old: Faq, new: Faq) -> Change:
    """The entries ``new`` adds, removes and changes compared with ``old``."""
    old_ids = {e.id for e in old.entries}
    new_ids = {e.id for e in new.entries}
    changed = [e.id for e in new.entries
               if e.id in old_ids
               and _content(e) != _content(old.get(e.id))]  # type: ignore[arg-type]
    return Change(added=tuple(e.id for e in new.entries if e.id not in old_ids),
                  removed=tuple(e.id for e in old.entries if e.id not in new_ids),
                  changed=tuple(changed))


@dataclass(frozen=True)
class Outcome:
    """The result of a reload, an upload check or a write: the new FAQ, or the problems."""

    faq: Faq | None
    problems: tuple[Problem, ...] = ()
    change: Change = Change()

    @property
    def ok(self) -> bool:
        return self.faq is not None

    def text(self, lang: str) -> Html:
        """What a reload did, as admins read it: the change, or the problems (the last
        good FAQ stays)."""
        if self.faq is None:
            return problems_text(lang, self.problems)
        if not self.change:
            return say(lang, "adm_unchanged", entries=len(self.faq))
        return say(lang, "adm_reloaded", entries=len(self.faq),
                   change=change_text(lang, self.change))


MAX_PROBLEMS_SHOWN = 30
"""Problems of a FAQ listed to admins (a file of many mistakes has many)."""


def change_text(lang: str, change: Change) -> Html:
    """The entries a change adds, removes and changes, as admins read it."""
    def ids(found: tuple[str, ...]) -> str:
        return ", ".join(found) if found else say(lang, "adm_stats_none")

    return say(lang, "adm_change", added=ids(change.added), removed=ids(change.removed),
               changed=ids(change.changed))


def problems_text(lang: str, problems: tuple[Problem, ...] | list[Problem]) -> Html:
    """A FAQ's problems as admins read them (the first :data:`MAX_PROBLEMS_SHOWN`)."""
    lines = [f"• {p}" for p in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"… +{len(problems) - MAX_PROBLEMS_SHOWN}")
    return say(lang, "adm_problems", count=len(problems), problems="\n".join(lines))


@dataclass(frozen=True)
class Upload:
    """An uploaded file that passed validation, waiting for the admin's confirmation."""

    token: str
    name: str
    content: bytes
    change: Change
    replaces: bool


class UploadError(ValueError):
    """An upload refused before validation (bad name, too big, not text)."""


class SuggestionError(ValueError):
    """A suggestion that cannot be written (unknown entry, bad language, invalid result)."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


@dataclass
class FaqAdmin:
    """The FAQ files on disk and the FAQ in use, kept in step.

    ``install`` is called with every new valid FAQ (the Assistant's
    ``use_faq``); ``faq`` is the one in use.
    """

    path: Path
    history_dir: Path
    faq: Faq
    install: Callable[[Faq], None]
    max_upload_bytes: int = FaqAdminConfig.max_upload_bytes
    _seen: tuple[tuple[str, int, int], ...] = field(default=(), init=False)
    _pending: dict[str, Upload] = field(default_factory=dict, init=False)
    # Uploads wait in threads and are cancelled on the event loop: held for a look-up only.
    _pending_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                          repr=False)
    # Checks run in worker threads (off the bot's event loop): one change at a time.
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._seen = self.fingerprint()

    @classmethod
    def for_assistant(cls, brain: Assistant) -> FaqAdmin:
        """The FaqAdmin of the Assistant's FAQ: what it validates, the Assistant answers from."""
        settings = brain.config.faq_admin
        return cls(path=brain.config.faq_path, history_dir=settings.history_dir, faq=brain.faq,
                   install=brain.use_faq, max_upload_bytes=settings.max_upload_bytes)

    # --- reload ----------------------------------------------------------

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """(name, mtime, size) of every FAQ file: any edit, addition or removal changes it."""
        rows = []
        for file in faq_files(self.path) if self.path.exists() else []:
            try:
                stat = file.stat()
            except OSError:
                continue
            rows.append((file.name, stat.st_mtime_ns, stat.st_size))
        return tuple(rows)

    def changed_on_disk(self) -> bool:
        return self.fingerprint() != self._seen

    def reload(self) -> Outcome:
        """Validate the files on disk; use them if they are valid, else keep the last good FAQ."""
        with self._lock:
            self._seen = self.fingerprint()
            faq, problems = check_faq(self.path)
            if faq is None:
                return Outcome(None, tuple(problems))
            return self._use(faq)

    def reload_if_changed(self) -> Outcome | None:
        """:meth:`reload` when the files changed since the last look (None otherwise)."""
        with self._lock:
            return self.reload() if self.changed_on_disk() else None

    def _use(self, faq: Faq) -> Outcome:
        """Answer from ``faq`` (valid); if the bot cannot (building its index failed), keep
        the last good FAQ here too and say so, like a file with problems."""
        change = diff(self.faq, faq)
        try:
            self.install(faq)
        except Exception:  # whatever it was, the bot keeps answering from the last good FAQ
            log.exception("the FAQ could not be put in use; the bot keeps the last good one")
            return Outcome(None, (Problem(self.path.name, 0, None, None, (
                "the bot could not put this FAQ in use (see its log); it keeps answering "
                "from the last good FAQ")),))
        self.faq = faq
        return Outcome(faq, (), change)

    # --- files -------------------------------------------------------------

    def files(self) -> list[Path]:
        """The FAQ files in use (for /faq_export)."""
        return faq_files(self.path)

    def _target(self, name: str) -> Path:
        return self.path / name if self.path.is_dir() else self.path

    def _keep_history(self, target: Path) -> None:
        if target.exists():
            self.history_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, self.history_dir / f"{target.stem}.{_stamp()}{target.suffix}")

    def _trial(self, name: str, content: bytes) -> tuple[Faq | None, list[Problem]]:
        """Validate the FAQ as it would be with ``content`` as the file ``name``."""
        with tempfile.TemporaryDirectory(prefix="faq-check-") as folder:
            trial = Path(folder)
            for file in faq_files(self.path) if self.path.is_dir() else []:
                shutil.copy2(file, trial / file.name)
            (trial / name).write_bytes(content)
            faq, problems = check_faq(trial)
            # Name the uploaded file as the admin knows it, not by its temporary folder.
            problems = [Problem(Path(p.file).name if p.file.startswith(folder) else p.file,
                                p.line, p.column, p.entry_id,
                                p.message.replace(os.path.join(folder, ""), ""))
                        for p in problems]
            return faq, problems

    def _write(self, name: str, content: bytes) -> Outcome:
        """Write a validated file (keeping the one it replaces in the history) and use it."""
        target = self._target(name)
        self._keep_history(target)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(content)
        temporary.replace(target)
        return self.reload()

    # --- upload ----------------------------------------------------------

    def check_upload(self, file_name: str, content: bytes) -> tuple[Upload | None, Outcome]:
        """Validate an uploaded file; a valid one waits for :meth:`confirm` under its token."""
        name = Path(file_name or "").name
        if not _FILE_NAME.match(name):
            raise UploadError(f"bad file name {file_name!r}: use letters, digits, '-' and "
                              "'_' and end it with .yaml")
        if len(content) > self.max_upload_bytes:
            raise UploadError(f"the file is larger than {self.max_upload_bytes // 1024} KB")
        stem = name.rsplit(".", 1)[0]
        if self.path.is_dir():  # it replaces the file of that name, .yml or .yaml
            name = {f.stem: f.name for f in faq_files(self.path)}.get(stem, stem + ".yaml")
        else:
            name = self.path.name
        with self._lock:
            faq, problems = self._trial(name, content)
        if faq is None:
            return None, Outcome(None, tuple(problems))
        upload = Upload(token=secrets.token_hex(6), name=name, content=content,
                        change=diff(self.faq, faq), replaces=self._target(name).exists())
        with self._pending_lock:
            self._pending[upload.token] = upload
            while len(self._pending) > MAX_PENDING:  # the oldest unconfirmed uploads expire
                del self._pending[next(iter(self._pending))]
        return upload, Outcome(faq, (), upload.change)

    def pending(self, token: str) -> Upload | None:
        with self._pending_lock:
            return self._pending.get(token)

    def confirm(self, token: str) -> Outcome | None:
        """Write the upload ``token`` into the FAQ folder and use it (None: no such upload)."""
        with self._pending_lock:
            upload = self._pending.pop(token, None)
        if upload is None:
            return None
        with self._lock:
            faq, problems = self._trial(upload.name, upload.content)  # the folder may have changed
            if faq is None:
                return Outcome(None, tuple(problems))
            return self._write(upload.name, upload.content)

    def cancel(self, token: str) -> bool:
        with self._pending_lock:
            return self._pending.pop(token, None) is not None

    # --- suggestions -----------------------------------------------------

    def add_phrasing(self, entry_id: str, lang: str, question: str,
                     answer: str | None = None) -> Outcome:
        """Add ``question`` as a phrasing of the entry ``entry_id`` in its file.

        An entry with no answer in ``lang`` gets ``answer`` as its answer in it.
        """
        if self.faq.get(entry_id) is None:
            raise SuggestionError(f"no FAQ entry '{entry_id}'")
        file = self._file_of(entry_id)
        data = _load_round_trip(file)
        node = _entry_node(data, entry_id)
        answers = node.get("answer")
        if lang not in answers:
            if not answer:
                raise SuggestionError(f"entry '{entry_id}' has no answer in '{lang}'")
            answers[lang] = yaml_text(answer.strip())
        questions = node["questions"]
        phrasings = questions.get(lang)
        if not isinstance(phrasings, list):
            phrasings = CommentedSeq([phrasings] if phrasings else [])
            questions[lang] = phrasings
        if any(fold(str(p)) == fold(question) for p in phrasings):
            return Outcome(self.faq, (), Change())
        phrasings.append(yaml_text(visible(question)))
        return self._write_checked(file.name, _dump_round_trip(data))

    def add_entry(self, lang: str, question: str, answer: str, *,
                  category: str | None = None, near: str | None = None) -> tuple[str, Outcome]:
        """Add a new entry (its id made from the question) to ``near``'s file, else to
        from-staff.yaml; returns the new id."""
        entry_id = self._new_id(question)
        file = self._file_of(near) if near and self.faq.get(near) else (
            self._target(NEW_ENTRIES_FILE))
        data = _load_round_trip(file) if file.exists() else YAML().load(_NEW_ENTRIES_HEADER)
        entry = CommentedMap()
        entry["id"] = entry_id
        if category:
            entry["category"] = category
        entry["questions"] = CommentedMap({lang: CommentedSeq([yaml_text(visible(question))])})
        entry["answer"] = CommentedMap({lang: yaml_text(answer.strip())})
        if data.get("entries") is None:
            data["entries"] = CommentedSeq()
        data["entries"].append(entry)
        return entry_id, self._write_checked(file.name, _dump_round_trip(data))

    def _write_checked(self, name: str, content: bytes) -> Outcome:
        with self._lock:
            faq, problems = self._trial(name, content)
            if faq is None:
                raise SuggestionError("the FAQ would not be valid: "
                                      + "; ".join(str(p) for p in problems))
            return self._write(name, content)

    def _file_of(self, entry_id: str) -> Path:
        for file in self.files():
            data = _load_round_trip(file)
            if any(isinstance(e, dict) and e.get("id") == entry_id
                   for e in data.get("entries") or []):
                return file
        raise SuggestionError(f"no FAQ file holds the entry '{entry_id}'")

    def _new_id(self, question: str) -> str:
        words = re.findall(r"[a-z0-9]+", fold(question))[:6] or ["question"]
        base = "-".join(words)[:50].strip("-")
        candidate, number = base, 2
        while self.faq.get(candidate) is not None:
            candidate, number = f"{base}-{number}", number + 1
        return candidate


def yaml_writer() -> YAML:
    """ruamel's writer, laid out as the FAQ files are."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def yaml_text(text: str) -> str:
    """``text`` as a FAQ file holds it: quoted where the bot's reader (PyYAML, YAML 1.1)
    would read something else: "no" (false), "10", "2024-05-01", "Note: ..." (ruamel
    writes YAML 1.2, where "no" is text)."""
    try:
        same = pyyaml.safe_load(text) == text
    except pyyaml.YAMLError:
        same = False
    return text if same else DoubleQuotedScalarString(text)


def _load_round_trip(file: Path) -> CommentedMap:
    """A FAQ file as ruamel reads it to write it back with its comments; a file that cannot
    be read (a half-edited one among them) is a :class:`SuggestionError` naming it."""
    try:
        data = yaml_writer().load(read_text(file))
    except OSError as exc:
        raise SuggestionError(f"{file.name}: cannot read the file: {exc.strerror or exc}"
                              ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        reason = " ".join(filter(None, [exc.context, exc.problem])) or str(exc)
        raise SuggestionError(f"{file.name}{where}: YAML syntax error: {reason}") from None
    except (ValueError, YAMLError) as exc:  # UnicodeDecodeError is a ValueError
        raise SuggestionError(f"{file.name}: {exc}") from None
    if not isinstance(data, CommentedMap):
        raise SuggestionError(f"{file.name} is not a FAQ file")
    return data


def _dump_round_trip(data: CommentedMap) -> bytes:
    out = io.StringIO()
    yaml_writer().dump(data, out)
    return out.getvalue().encode("utf-8")


def _entry_node(data: CommentedMap, entry_id: str) -> CommentedMap:
    for entry in data.get("entries") or []:
        if isinstance(entry, CommentedMap) and entry.get("id") == entry_id:
            return entry
    raise SuggestionError(f"no FAQ entry '{entry_id}'")
