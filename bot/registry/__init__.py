"""The registry of organisations.

- :mod:`bot.registry.importer`: reading a registry CSV, importing it (upsert,
  ``--replace``), removing organisations, the bundled sample, statistics;
- :mod:`bot.registry.words`: how names and queries are cut into words;
- :mod:`bot.registry.search`: the fuzzy search index;
- :mod:`bot.registry.evaluation`: measuring the search on labelled look-ups.

And what a NIPT looks like, for all of them and the buttons that name one.
"""

import re

NIPT_FORM = r"[A-Z]\d{8}[A-Z]"
"""A NIPT as the registry keeps it: a letter, eight digits, a letter (upper case)."""
NIPT_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])([A-Za-z]-?\d{8}(?:-?[A-Za-z]| [A-Z]))(?![0-9A-Za-z])")
"""A NIPT typed in a message, in either case, not part of a longer word, its letters maybe
set apart by hyphens (``x-00000018-d``) or its last one, in capitals, by a space
(``X00000018 D``; not the Albanian "e" or "i" after a NIPT missing its letter):
:func:`typed_nipt` reads it."""


def typed_nipts(text: str) -> list[str]:
    """The NIPTs typed in ``text``, as the registry keeps them (:data:`NIPT_FORM`), each
    once, in the order typed, at most :data:`MAX_NIPTS` ("X00000001D dhe X00000016D")."""
    found = (re.sub(r"[ -]", "", m.group(1)).upper() for m in NIPT_IN_TEXT.finditer(text))
    return list(dict.fromkeys(found))[:MAX_NIPTS]


MAX_NIPTS = 5
"""NIPTs of one message looked up (each is a card of its own in the reply)."""
