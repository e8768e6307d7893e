"""The FAQ: its model, and loading and validating the YAML files admins edit.

A FAQ is one YAML file in format v1 or a folder of them (every ``*.yaml``,
ids unique across files). Validation walks the YAML node tree
(:func:`bot.safe_yaml.compose`) rather than the loaded data so that every problem can
name its file, line and entry, and it reports every problem in one pass.
Loading is all-or-nothing: :func:`load_faq` either returns a complete
:class:`Faq` or raises :class:`FaqError` with the whole list of problems, so a
broken file never replaces a good FAQ.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot import files, safe_yaml
from bot.untrusted import first_hidden, named

FORMAT_VERSION = 1
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_LENGTH = 58  # an id travels in button data ("q:en:<id>"), which Telegram limits to 64 bytes
_LANG = re.compile(r"^[a-z]{2,3}$")
_TOP_KEYS = ("version", "entries")
_ENTRY_KEYS = ("id", "category", "questions", "answer", "keywords", "links")
_LINK_KEYS = ("title", "url")
_URL_SCHEMES = ("https://", "http://", "mailto:", "tel:")
_TEXT_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
                        "tag:yaml.org,2002:float"})

# Limits on what a FAQ file may make the bot do. A FAQ file is a few dozen KB of plain
# lists; these are far above any real one and far below what hurts the bot.
MAX_FILE_BYTES = 1024 * 1024
MAX_ENTRIES = 5_000     # entries in one file


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a FAQ file; ``line`` is 1-based (0: the whole file)."""

    file: str
    line: int
    column: int | None
    entry_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        entry = f" entry '{self.entry_id}':" if self.entry_id else ""
        return f"{where}:{entry} {self.message}"


class FaqError(Exception):
    """The FAQ could not be loaded; ``problems`` lists everything wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the FAQ"
        super().__init__("\n".join([head, *map(str, self.problems)]))


@dataclass(frozen=True)
class Entry:
    """One question the FAQ answers, in one or more languages."""

    id: str
    category: str | None
    questions: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()
    source_file: str = ""
    source_line: int = 0

    def answer_in(self, lang: str) -> str:
        """The answer in ``lang``, or in another language if it has none."""
        return self.answers.get(lang) or next(iter(self.answers.values()))

    def question_in(self, lang: str) -> str:
        """The first phrasing in ``lang`` (for buttons), else one in another language."""
        phrasings = self.questions.get(lang) or next(
            p for p in self.questions.values() if p)
        return phrasings[0]

    def phrasings(self) -> Iterator[tuple[str, str]]:
        """Every ``(lang, phrasing)`` of the entry."""
        for lang, texts in self.questions.items():
            for text in texts:
                yield lang, text


@dataclass(frozen=True)
class Faq:
    """A loaded, valid FAQ."""

    entries: tuple[Entry, ...]
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {e.id: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)  # type: ignore[attr-defined]

    def categories(self) -> list[str]:
        """Category names in the order they first appear."""
        return list(dict.fromkeys(e.category for e in self.entries if e.category))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({lang for e in self.entries for lang in e.questions}))

    @property
    def phrasing_count(self) -> int:
        return sum(len(texts) for e in self.entries for texts in e.questions.values())


# --------------------------------------------------------------------------
# Reading the node tree
# --------------------------------------------------------------------------

class _Checker:
    """Collects the problems of one file while reading its entries."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: list[str] = []
        """The file's lines (a text cut by a comment is found in them)."""
        self.problems: list[Problem] = []
        self.entry_id: str | None = None
        self.ids: list[tuple[str, str, int]] = []
        """(id, file, line) of every entry that has an id, valid or not."""

    def report(self, node: Node | None, message: str, *, line: int | None = None,
               column: int | None = None) -> None:
        if line is None:
            line = node.start_mark.line + 1 if node is not None else 0
        self.problems.append(Problem(self.file, line, column, self.entry_id, message))

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, Node] | None:
        """The items of a mapping node by key, reporting unknown and repeated keys."""
        if not isinstance(node, MappingNode):
            self.report(node, f"{what} must be a mapping, not {_kind(node)}")
            return None
        items: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.report(key_node, f"{what} has a key that is not text")
            elif allowed and key not in allowed:
                self.report(key_node, f"unknown key '{key}'{did_you_mean(key, allowed)}")
            elif key in items:
                self.report(key_node, f"key '{key}' appears twice in {what}")
            else:
                items[key] = value_node
        return items

    def text(self, node: Node, what: str, *, shown: bool = True) -> str | None:
        """A non-empty text scalar, or None after reporting why not. A ``shown`` text
        (people read it: not an id or a category) must not be cut by a comment."""
        if not isinstance(node, ScalarNode) or node.tag not in _TEXT_TAGS:
            # "- Our phone changed: how do we ...?" is read as "key: value".
            hint = (" (a text containing ': ' needs quotes, e.g. - \"Note: bring the "
                    "statute\")") if isinstance(node, MappingNode) and what.startswith(
                        "an item") else ""
            self.report(node, f"{what} must be text, not {_kind(node)}{hint}")
            return None
        value = str(node.value).strip()
        if not value:
            self.report(node, f"{what} is empty")
            return None
        if shown and not node.style and self._comment_after(node):  # plain: not quoted
            self.report(node, f"{what} stops before a '#': in YAML, ' #' starts a comment, so "
                              "the rest of the line is not part of the text. Put the whole "
                              "text in quotes (\"...\"), or a comment on a line of its own")
            return None
        try:  # "\ud83d\ude00" (an emoji escaped as JSON does) is read as two lone halves
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.report(node, f"{what} holds an escape such as \\ud83d that is half a "
                              "character: write the character itself (e.g. 😀)")
            return None
        hidden = first_hidden(value, "\n\t")
        if hidden is not None:  # written as an escape ("\e", "\u202e"), or U+202E itself
            self.report(node, f"{what} holds the character {named(hidden)}, which is not "
                              "visible text (an escape acts on a terminal, a bidirectional "
                              "control reorders what people read): delete it")
            return None
        return value

    def _comment_after(self, node: Node) -> bool:
        """Whether a comment follows the plain text ``node`` on its last line."""
        line, column = node.end_mark.line, node.end_mark.column
        return line < len(self.lines) and self.lines[line][column:].lstrip().startswith("#")

    def texts(self, node: Node, what: str) -> tuple[str, ...]:
        """A list of texts (a single text is accepted as a list of one)."""
        if isinstance(node, ScalarNode) and node.tag in _TEXT_TAGS:
            value = self.text(node, what)
            return (value,) if value else ()
        if not isinstance(node, SequenceNode):
            self.report(node, f"{what} must be a list of texts, not {_kind(node)}")
            return ()
        values = [self.text(item, f"an item of {what}") for item in node.value]
        if node.flow_style:
            self._split_at_a_comma(node, values, what)
        return tuple(v for v in values if v)

    def _split_at_a_comma(self, node: SequenceNode, values: list[str | None],
                          what: str) -> None:
        """In a list in brackets a comma ends an item: ``[Përshëndetje, si mund ta
        regjistroj shoqatën?]`` is two texts, "Përshëndetje" and a question. Report the
        items that read as one question cut there: a greeting or "Please", or a clause
        ("If we have no statute"), before an item in lower case that asks, or any item
        before one that begins with a word joining clauses ("[We registered, but the bank
        refused]"). ``[Orari, kur jeni hapur?]``, ``[Tirana, where is the office?]`` and
        ``[Where is your office, when are you open?]`` are two texts each."""
        from bot.text import CLAUSE_STARTS, is_place, read, words

        for item, value, after in zip(node.value, values, values[1:], strict=False):
            if not (value and after and value[-1] not in ".?!" and after[0].islower()):
                continue
            message = read(value)
            # Asking nothing and saying nothing: a greeting, "Please", "Ju lutem".
            empty = not message.kinds and not (message.terms or any(
                is_place(w) for w in message.words))
            if (((empty or message.words[0] in CLAUSE_STARTS)
                 and after.rstrip().endswith("?"))
                    or (words(after) or [""])[0] in _CLAUSE_JOINERS):
                self.report(item, f"{what}: a comma ends an item of a list in [...], so "
                                  f"'{value}' and '{after}' are two texts: put the whole "
                                  "text in quotes (\"...\"), or write the list one item a "
                                  "line (- ...)")
                return

    def by_language(self, node: Node, what: str) -> dict[str, Node]:
        """A mapping of language codes, checking each code."""
        items = self.mapping(node, what, ()) or {}
        if not items and isinstance(node, MappingNode):
            self.report(node, f"{what} is empty")
        good: dict[str, Node] = {}
        for lang, value in items.items():
            if _LANG.match(lang):
                good[lang] = value
            else:
                self.report(value, f"'{lang}' in {what} is not a language code (like sq or en)")
        return good


_CLAUSE_JOINERS = frozenset((
    "and", "but", "or", "so", "because", "which", "that", "dhe", "por", "ose", "apo", "se",
    "sepse", "qe", "pra", "kurse"))
"""Words that begin the second clause of one sentence (folded)."""


def _kind(node: Node | None) -> str:
    if node is not None and (not node.tag.startswith("tag:yaml.org,2002:")
                             or "python/" in node.tag):
        return f"a value tagged {node.tag.replace('tag:yaml.org,2002:', '!!')}: remove the tag"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node is None or node.tag == "tag:yaml.org,2002:null":
        return "empty"
    if node.tag == "tag:yaml.org,2002:bool":
        return f"yes/no ({node.value})"
    if node.tag == "tag:yaml.org,2002:timestamp":
        return f"a date ({node.value}): put the text in quotes"
    return f"'{node.value}'"


def did_you_mean(key: str, allowed: tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for a mistyped ``key``, else the ``allowed`` ones."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"


def _read_entry(check: _Checker, node: Node, file: str) -> Entry | None:
    """One entry, or None if it has problems (they are reported)."""
    check.entry_id = None
    if isinstance(node, MappingNode):
        id_node = next((v for k, v in node.value
                        if isinstance(k, ScalarNode) and k.value == "id"), None)
        if isinstance(id_node, ScalarNode) and id_node.value:
            check.entry_id = str(id_node.value)
            check.ids.append((check.entry_id, file, node.start_mark.line + 1))
    before = len(check.problems)
    items = check.mapping(node, "an entry", _ENTRY_KEYS)
    if items is None:
        return None

    entry_id = _read_id(check, node, items.get("id"))
    category = (check.text(items["category"], "category", shown=False)
                if "category" in items else None)
    questions = _read_questions(check, node, items.get("questions"))
    answers = _read_answers(check, node, items.get("answer"), questions)
    keywords = {lang: check.texts(value, f"keywords '{lang}'")
                for lang, value in check.by_language(items["keywords"], "keywords").items()
                } if "keywords" in items else {}
    links = _read_links(check, items["links"]) if "links" in items else ()
    if len(check.problems) > before or entry_id is None:
        return None
    return Entry(id=entry_id, category=category, questions=questions, answers=answers,
                 keywords=keywords, links=links, source_file=file,
                 source_line=node.start_mark.line + 1)


def _read_id(check: _Checker, entry: Node, node: Node | None) -> str | None:
    if node is None:
        check.report(entry, "missing 'id'")
        return None
    value = check.text(node, "id", shown=False)
    if value is not None and not _ID.match(value):
        check.report(node, f"bad id '{value}': use only a-z, 0-9 and '-' "
                           "(e.g. ngo-registration)")
        return None
    if value is not None and len(value) > MAX_ID_LENGTH:
        check.report(node, f"id '{value}' is too long: use at most {MAX_ID_LENGTH} characters")
        return None
    return value


def _read_questions(check: _Checker, entry: Node,
                    node: Node | None) -> dict[str, tuple[str, ...]]:
    if node is None:
        check.report(entry, "missing 'questions'")
        return {}
    questions = {lang: check.texts(value, f"questions '{lang}'")
                 for lang, value in check.by_language(node, "questions").items()}
    questions = {lang: texts for lang, texts in questions.items() if texts}
    if not questions and isinstance(node, MappingNode) and node.value:
        check.report(node, "'questions' has no phrasing")
    return questions


def _read_answers(check: _Checker, entry: Node, node: Node | None,
                  questions: dict[str, tuple[str, ...]]) -> dict[str, str]:
    if node is None:
        check.report(entry, "missing 'answer'")
        return {}
    answers: dict[str, str] = {}
    for lang, value in check.by_language(node, "answer").items():
        text = check.text(value, f"answer '{lang}'")
        if text:
            answers[lang] = text
    for lang in questions:
        if lang not in answers and not _has_key(node, lang):
            check.report(node, f"no answer in '{lang}', but there are questions in '{lang}'")
    return answers


def _has_key(node: Node, key: str) -> bool:
    return isinstance(node, MappingNode) and any(
        isinstance(k, ScalarNode) and k.value == key for k, _ in node.value)


def _read_links(check: _Checker, node: Node) -> tuple[tuple[str, str], ...]:
    if not isinstance(node, SequenceNode):
        check.report(node, f"links must be a list, not {_kind(node)}")
        return ()
    links = []
    for item in node.value:
        fields = check.mapping(item, "a link", _LINK_KEYS)
        if fields is None:
            continue
        missing = [k for k in _LINK_KEYS if k not in fields]
        if missing:
            check.report(item, f"a link is missing '{missing[0]}'")
            continue
        title = check.text(fields["title"], "link title")
        url = check.text(fields["url"], "link url", shown=False)
        if url and not url.startswith(_URL_SCHEMES):
            check.report(fields["url"], f"link url '{url}' must start with "
                                        + " or ".join(_URL_SCHEMES))
        elif title and url:
            links.append((title, url))
    return tuple(links)


def read_text(path: Path) -> str:
    """A FAQ file's text; OSError when it cannot be read, ValueError when it is too big."""
    return files.read_text(path, MAX_FILE_BYTES)


def _read_file(check: _Checker, path: Path) -> list[Entry]:
    """The valid entries of one file; its problems go to ``check``."""
    text = ""
    try:
        text = read_text(path)
        check.lines = text.splitlines()
        root = safe_yaml.compose(text, "FAQ files")
    except OSError as exc:
        check.report(None, f"cannot read the file: {exc.strerror or exc}")
        return []
    except files.NotUtf8 as exc:
        check.report(None, exc.problem, line=exc.line)
        return []
    except ValueError as exc:
        check.report(None, str(exc))
        return []
    except yaml.YAMLError as exc:
        line, column, problem = safe_yaml.explained(text, exc, "YAML syntax error")
        check.report(None, problem, line=line, column=column)
        return []
    if root is None:
        check.report(None, "the file is empty (expected 'version: 1' and 'entries:')")
        return []

    top = check.mapping(root, "the top level", _TOP_KEYS)
    if top is None:
        return []
    _check_version(check, root, top.get("version"))
    entries_node = top.get("entries")
    if entries_node is None:
        check.report(root, "missing 'entries'")
        return []
    if not isinstance(entries_node, SequenceNode):
        check.report(entries_node, f"'entries' must be a list, not {_kind(entries_node)}")
        return []
    if not entries_node.value:
        check.report(entries_node, "'entries' is empty")
    if len(entries_node.value) > MAX_ENTRIES:
        check.report(entries_node, f"the file has {len(entries_node.value):,} entries; "
                                   f"at most {MAX_ENTRIES:,} are read from one file")
        return []
    entries = [_read_entry(check, node, check.file) for node in entries_node.value]
    return [e for e in entries if e is not None]


def _check_version(check: _Checker, root: Node, node: Node | None) -> None:
    if node is None:
        check.report(root, f"missing 'version' (use version: {FORMAT_VERSION})")
    elif not (isinstance(node, ScalarNode) and node.value == str(FORMAT_VERSION)):
        check.report(node, f"unsupported version {_kind(node)} (this bot reads "
                           f"version: {FORMAT_VERSION})")


FAQ_SUFFIXES = (".yaml", ".yml")
"""How the names of a FAQ folder's files end (in any case)."""


def faq_files(path: str | os.PathLike[str]) -> list[Path]:
    """The YAML files of a FAQ: ``path`` itself, or every ``*.yaml`` and ``*.yml`` in the
    folder (``.YAML`` too)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir()
                      if p.suffix.lower() in FAQ_SUFFIXES and p.is_file())
    return [path]


def _display(path: Path) -> str:
    """The path as people know it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _duplicates(ids: list[tuple[str, str, int]]) -> list[Problem]:
    """A problem for each id used before, naming both places."""
    first: dict[str, tuple[str, int]] = {}
    problems = []
    for entry_id, file, line in ids:
        seen = first.setdefault(entry_id, (file, line))
        if seen != (file, line):
            problems.append(Problem(file, line, None, entry_id,
                                    f"duplicate id: already used at {seen[0]}:{seen[1]}"))
    return problems


def _shared_questions(entries: list[Entry]) -> list[Problem]:
    """A problem for each question two entries have (the same words, whatever the case,
    accents and punctuation): the bot could never answer it, only offer both."""
    from bot.text import fold

    first: dict[tuple[str, str], Entry] = {}
    problems = []
    for entry in entries:
        for lang, questions in entry.questions.items():
            for question in questions:
                other = first.setdefault((lang, fold(question)), entry)
                if other.id != entry.id:
                    problems.append(Problem(
                        entry.source_file, entry.source_line, None, entry.id,
                        f"the question '{question}' is also one of entry '{other.id}' "
                        f"({other.source_file}:{other.source_line}): the bot cannot tell "
                        "which answers it; keep it in one entry"))
    return problems


def check_faq(path: str | os.PathLike[str]) -> tuple[Faq | None, list[Problem]]:
    """Validate a FAQ file or folder: the FAQ if it is valid, and every problem found."""
    path = Path(path)
    if not path.exists():
        return None, [Problem(_display(path), 0, None, None, "no such file or folder")]
    files = faq_files(path)
    if not files:
        return None, [Problem(_display(path), 0, None, None, "the folder has no *.yaml files")]
    entries: list[Entry] = []
    problems: list[Problem] = []
    ids: list[tuple[str, str, int]] = []
    for file in files:
        check = _Checker(_display(file))
        entries += _read_file(check, file)
        problems += check.problems
        ids += check.ids
    problems += _duplicates(ids)
    if not problems:
        problems = _shared_questions(entries)
    if problems:
        order = {_display(file): number for number, file in enumerate(files)}
        problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line))
        return None, problems
    return Faq(tuple(entries), tuple(_display(f) for f in files)), []


def load_faq(path: str | os.PathLike[str]) -> Faq:
    """Load a FAQ file or folder; raise :class:`FaqError` listing every problem."""
    faq, problems = check_faq(path)
    if faq is None:
        raise FaqError(problems)
    return faq
