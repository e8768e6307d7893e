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
NIPT_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z])({NIPT_FORM})(?![0-9A-Za-z])", re.IGNORECASE)
"""A NIPT typed in a message, in either case, not part of a longer word."""
