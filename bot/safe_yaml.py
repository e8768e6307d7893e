"""Reading a YAML file an admin wrote (a FAQ file, the configuration) without letting it
make the bot expand it into a huge one or recurse too deep (:func:`compose`), and
reading ``?`` in a flow list as text, as people write it (:class:`Loader`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import Node
from yaml.tokens import ScalarToken

MAX_DEPTH = 20          # mappings and lists inside each other (a FAQ entry needs 5)
MAX_NODES = 200_000     # keys, values and list items in one file


class Refused(yaml.MarkedYAMLError):
    """A file the bot will not read further (an alias, too deep, too many nodes)."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(None, None, problem, mark)


def _check_events(events: Iterator[yaml.Event], files: str) -> None:
    """Refuse, from the parser's events and before any node is made, what would make
    the bot expand a small file into a huge one or recurse too deep (``files`` names
    the kind of file in the message).

    * Aliases (``*name``): each one repeats a whole subtree, and a few nested ones
      make a file of a kilobyte expand to billions of values.
    * Nesting deeper than :data:`MAX_DEPTH` (the composer is recursive), and more
      than :data:`MAX_NODES` values.
    """
    depth = nodes = 0
    for event in events:
        if isinstance(event, AliasEvent):
            raise Refused(f"aliases (*name) are not allowed in {files}: "
                          "write the text out in full", event.start_mark)
        if isinstance(event, CollectionEndEvent):
            depth -= 1
            continue
        if isinstance(event, NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise Refused(f"the file has more than {MAX_NODES:,} values", event.start_mark)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise Refused(f"lists and mappings are nested more than {MAX_DEPTH} deep",
                              event.start_mark)


class Loader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, reading a ``?`` in a flow list as text.

    People write ``sq: [Si regjistrohet një shoqatë?]``; YAML 1.2 reads the
    question as text, and PyYAML (YAML 1.1, like LibYAML) reads the ``?`` as
    the start of a complex key and fails.
    """

    def scan_plain(self) -> ScalarToken:
        """PyYAML's ``scan_plain`` where only ``,[]{}`` (not ``?``) end a text in a flow."""
        chunks: list[str] = []
        start_mark = end_mark = self.get_mark()
        indent = self.indent + 1
        spaces: list[str] = []
        breaks = "\0 \t\r\n\x85\u2028\u2029"
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                if (ch in breaks
                        or (ch == ":" and self.peek(length + 1) in breaks
                            + (",[]{}" if self.flow_level else ""))
                        or (self.flow_level and ch in ",[]{}")):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces)
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark) or []
            if (not spaces or self.peek() == "#"
                    or (not self.flow_level and self.column < indent)):
                break
        return ScalarToken("".join(chunks), True, start_mark, end_mark)


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)  # LibYAML, when PyYAML was built with it


_CURLY_START = re.compile(r"(^|:\s+|-\s+|[\[,{]\s*)[“”„‘’]")
"""A value that begins with a curly quote (not an apostrophe inside a word: "t’ju")."""
_BLOCK_START = re.compile(r"((:|^\s*-)\s+(!\S*\s+)?|^\s*)[|>][-+0-9]*\s*(#.*)?$")
"""A line whose value is a text block on the lines below it ("answer: |", "- >-")."""
_STRUCTURE = re.compile(r"-( |$)|[^\s:#'\"]+:( |$)")
"""A key ("en: ...") or a list item ("- ...") at the start of a line."""


def _check_indentation(text: str) -> None:
    """Refuse a line indented with a non-breaking space (U+00A0, what a word processor
    or a web page copies): YAML reads it as text, so the line silently leaves the
    mapping it was meant for ("answer:" is then empty, its text a key of its own). A
    line of a text block ("answer: |") may hold one after the block's own indentation,
    in plain spaces: that is text."""
    if "\u00a0" not in text:
        return
    opened: int | None = None  # the indentation of the line that opened a text block
    inside: int | None = None  # the block's own indentation, from its first line
    for number, line in enumerate(text.splitlines()):
        spaces = len(line) - len(line.lstrip(" "))
        if opened is not None and line.strip(" \t"):
            if inside is None and spaces > opened:
                inside = spaces
            if inside is not None and spaces >= inside:
                continue
            opened = inside = None
        rest = line.lstrip(" \u00a0")
        lead = line[:len(line) - len(rest)]
        # A key or a list item so indented leaves its mapping; other text (a quoted text
        # going on, a block YAML reads as such) is YAML's to read.
        if "\u00a0" in lead and _STRUCTURE.match(rest):
            raise Refused("the line is indented with a non-breaking space (U+00A0), as a "
                          "word processor or a web page writes it: indent with plain spaces",
                          yaml.Mark("", 0, number, lead.index("\u00a0"), "", 0))
        if _BLOCK_START.search(line):
            opened, inside = spaces, None


def compose(text: str, files: str) -> Node | None:
    """The node tree of one YAML document, within the limits of :func:`_check_events`
    (``files``, the kind of file, for its messages).

    LibYAML reads a correct file six times faster than PyYAML; a file it cannot
    read is read again by :class:`Loader`, which accepts ``?`` in flow lists
    and whose error messages are the clearer ones.
    """
    _check_indentation(text)
    if _FAST_LOADER is not None:
        try:
            _check_events(yaml.parse(text, Loader=_FAST_LOADER), files)
            return yaml.compose(text, Loader=_FAST_LOADER)
        except Refused:
            raise
        except yaml.YAMLError:
            pass
    _check_events(yaml.parse(text, Loader=Loader), files)
    return yaml.compose(text, Loader=Loader)


def construct(node: Node) -> Any:
    """The Python values of a node tree :func:`compose` made (YAML's safe types only)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def syntax_hint(text: str, exc: yaml.MarkedYAMLError) -> str:
    """A hint for the YAML mistakes people make most, in words an admin knows (PyYAML
    says "expected <block end>, but found '<block mapping start>'")."""
    mark = exc.problem_mark or exc.context_mark
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    problem, context = exc.problem or "", exc.context or ""
    opened = exc.context_mark.line + 1 if exc.context_mark else 0
    if "\t" in problem or "\t" in line[:len(line) - len(line.lstrip())]:
        return " (indent with spaces, not tabs)"
    if _CURLY_START.search(line):
        return (" (curly quotes “ ” are not quotes to YAML, only straight ones: "
                "answer: \"Note: bring the statute\")")
    lines = text.splitlines()
    near = lines[max(0, mark.line - 1):mark.line + 1] if mark else []
    if any("\u00a0" in n[:len(n) - len(n.lstrip(" \u00a0"))] for n in near):
        return (" (a line here is indented with a non-breaking space, U+00A0, as a word "
                "processor or a web page writes it: indent with plain spaces)")
    if "quoted scalar" in context:
        return f" (a quote opened on line {opened} is never closed)"
    if ("flow sequence" in context or "flow mapping" in context) and (
            mark is None or opened != mark.line + 1):
        lines = text.splitlines()
        if 0 < opened <= len(lines) and " #" in lines[opened - 1]:
            return (f" (on line {opened}, ' #' starts a comment in YAML, so the rest of "
                    "the line, its ']' or '}' too, is not read: put the text in quotes "
                    "(\"...\"))")
        return (f" (a '[' or '{{' opened on line {opened} is not closed on its line; "
                "a text beginning with one needs quotes)")
    if ": " in line.partition("#")[0].split(":", 1)[-1] and not line.lstrip().startswith("#"):
        return (" (a text containing ': ' needs quotes, e.g. "
                "answer: \"Note: bring the statute\")")
    if "expected <block end>" in problem or "mapping values are not allowed" in problem:
        return (" (this line is indented differently from the lines it belongs with: "
                "line up its spaces with theirs)")
    if "could not find expected ':'" in problem:
        return (" (a line before it is neither 'name: value' nor '- item': a ':' missing, "
                "or a text without quotes that runs onto the next line)")
    return ""


def explained(text: str, exc: yaml.YAMLError, syntax: str) -> tuple[int, int | None, str]:
    """(line, column, what is wrong) of a file :func:`compose` refused, for a message that
    names them (line 0: not known). ``syntax`` begins the message of a syntax error
    (``"YAML syntax error"``, ``"invalid YAML"``)."""
    if isinstance(exc, yaml.reader.ReaderError):  # a control character (a bell, an escape...)
        before = text[:exc.position]
        return (before.count("\n") + 1, len(before.rsplit("\n", 1)[-1]) + 1,
                f"the file holds a control character (#x{exc.character:04x}) that YAML "
                "does not allow; delete it")
    if not isinstance(exc, yaml.MarkedYAMLError):
        return 0, None, f"{syntax}: {exc}"
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, None)
    if isinstance(exc, Refused):
        return line, column, exc.problem or "refused"
    reason = " ".join(filter(None, [exc.context, exc.problem]))
    return line, column, f"{syntax}: {reason}{syntax_hint(text, exc)}"
