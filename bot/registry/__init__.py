"""The registry of organisations.

- :mod:`bot.registry.importer`: reading a registry CSV, importing it (upsert,
  ``--replace``), removing organisations, the bundled sample, statistics;
- :mod:`bot.registry.words`: how names and queries are cut into words;
- :mod:`bot.registry.search`: the fuzzy search index;
- :mod:`bot.registry.evaluation`: measuring the search on labelled look-ups.
"""
