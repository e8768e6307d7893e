"""``ngo-faq-bot registry``: import a registry CSV, search it, count it, measure the search."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from bot.cli import lines

if TYPE_CHECKING:  # imported where they are used, so that --help starts at once
    from bot.registry.importer import ImportReport
    from bot.registry.search import RegistryIndex, SearchResult
    from bot.storage import Database


class ProgressBar:
    """A one-line progress bar on a terminal; nothing at all when the stream is not one."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self.stream, self.label, self.width = stream, label, width
        self.enabled = stream.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or (done < total and now - self._last < 0.1):
            return
        self._last = now
        share = done / total if total else 1.0
        filled = int(share * self.width)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{share:4.0%} {done:,}/{total:,}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()


def _open(args: argparse.Namespace, create: bool = False) -> Database:
    """The configured database; only an import creates one (see ``Database``)."""
    from bot.config import load_config
    from bot.storage import Database

    return Database(load_config(args.config).database_url, create=create)


def _load_index(args: argparse.Namespace) -> RegistryIndex:
    """The search index of the configured database (loaded as saved, brought up to date)."""
    from bot.config import load_config
    from bot.registry.search import RegistryIndex
    from bot.storage import Database

    config = load_config(args.config)
    db = Database(config.database_url, create=False)
    try:
        return RegistryIndex.load(db, config.registry)
    finally:
        db.close()


ERRORS_SHOWN = 20
"""Bad rows an import lists one by one (a file with a shifted column has one a row)."""


def _print_import(report: ImportReport) -> None:
    for column in report.ignored:
        print(f"{report.path}: line 1: column {column} is not a registry column; "
              "its values are not imported", file=sys.stderr)
    for error in report.errors[:ERRORS_SHOWN]:
        print(f"{report.path}: {error}", file=sys.stderr)
    if len(report.errors) > ERRORS_SHOWN:
        print(f"{report.path}: ... and {len(report.errors) - ERRORS_SHOWN} more bad row(s) "
              f"like these; mend these first and import again", file=sys.stderr)
    if report.refused:
        print(f"{report.path}: refused (--strict): {report.skipped} bad row(s) "
              f"of {report.rows}; nothing was written")
        return
    if report.needs_confirmation:
        print(f"{report.path}: refused: --replace would remove {report.would_remove} "
              "organisation(s), more than half the registry; nothing was written. "
              "Run again with --yes if that is what you want.", file=sys.stderr)
        return
    print(f"{report.path}: {report.rows} row(s): {report.inserted} new, {report.updated} updated, "
          f"{report.unchanged} unchanged, {report.skipped} skipped"
          + (f", {report.restored} restored" if report.restored else "")
          + (f", {report.removed} removed (not in the file)" if report.removed else ""))
    if report.kept_unsure:
        print(f"{report.path}: {report.kept_unsure} organisation(s) not in the file were not "
              "removed: a skipped row without a readable NIPT may be one of them. Mend the "
              "skipped rows and import again with --replace, or add --yes to remove them "
              "anyway.", file=sys.stderr)
    if report.sample_removed:
        print(f"The {report.sample_removed} invented organisations of the demo sample were "
              "deleted: the registry now holds only imported data.")


def _save_index(db: Database, args: argparse.Namespace) -> str | None:
    """Bring the saved search index up to date, so the bot's next start is quick (the
    running bot applies the same changes itself); what went wrong, if it could not.

    The changes to the registry are committed by then: whatever fails here, the admin
    must learn that they are in and that only the index is not, not read a traceback
    that suggests the import failed."""
    from bot.config import load_config
    from bot.registry.search import RegistryIndex

    try:
        RegistryIndex.load(db, load_config(args.config).registry).save(db)
    except Exception as exc:  # whatever it is: see the docstring
        return (f"the registry is updated, but its search index could not be built and "
                f"saved ({type(exc).__name__}: {exc}); the bot builds it when it starts, "
                "and stops there too if the problem remains")
    return None


def import_command(args: argparse.Namespace) -> int:
    from bot.registry.importer import RegistryImportError, import_registry

    db = _open(args, create=True)
    bar = ProgressBar(lines.unescaped(sys.stderr), "Importing")
    problem = None
    try:
        report = import_registry(db, args.file, strict=args.strict, replace=args.replace,
                                 confirmed=args.yes, progress=bar)
        bar.finish()
        if not report.refused and not report.needs_confirmation:
            problem = _save_index(db, args)
    except RegistryImportError as exc:
        bar.finish()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    _print_import(report)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problem or report.errors or report.needs_confirmation else 0


def remove_command(args: argparse.Namespace) -> int:
    from bot.registry.importer import RegistryImportError, remove_organisation

    db = _open(args)
    failed = 0
    try:
        for nipt in args.nipt:  # each on its own: one mistyped does not keep the others
            try:
                name = remove_organisation(db, nipt)
            except RegistryImportError as exc:
                print(f"error: {exc}", file=sys.stderr)
                failed += 1
                continue
            print(f"{nipt.strip().upper()} ({name}) removed: it is no longer found "
                  "(a later import that has it restores it)")
        problem = _save_index(db, args) if failed < len(args.nipt) else None
    finally:
        db.close()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if failed or problem else 0


def _print_result(result: SearchResult) -> None:
    closest = " (the first is the closest match: it alone has every word)"
    print(f"{result.query!r}: {result.decision.replace('_', ' ')}"
          + (closest if result.closest else ""))
    for rank, hit in enumerate(result.results, 1):
        print(f"  {rank}. {hit.name} ({hit.city}) NIPT {hit.nipt}  score {hit.score:g}")


def search_command(args: argparse.Namespace) -> int:
    try:
        queries = lines.items(" ".join(args.query) if args.query else None, "name",
                              'ngo-faq-bot registry search "Partners Albania"')
    except lines.NothingToRead as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from bot.text import read

    index = _load_index(args)
    for query in queries:
        result = index.search(read(query))
        if args.json:
            print(json.dumps(result.as_dict(), ensure_ascii=False), flush=True)
        else:
            _print_result(result)
    return 0


def stats_command(args: argparse.Namespace) -> int:
    from bot.registry.importer import registry_stats

    db = _open(args)
    try:
        stats = registry_stats(db)
    finally:
        db.close()
    print(f"Organisations: {stats.total}")
    if stats.sample:
        print("This is the bundled DEMO sample: invented organisations, not the registry. "
              "Import the real one with `ngo-faq-bot registry import FILE.csv` (it replaces "
              "the sample).")
    elif stats.total:
        print("Source: imported registry (no demo data)")
    if stats.removed:
        print(f"Removed (kept, no longer found): {stats.removed}")
    for title, counts in (("By status", stats.by_status), ("By legal form", stats.by_legal_form),
                          ("By city", stats.by_city)):
        print(f"\n{title}:")
        for key, count in counts.items():
            print(f"  {key:<24} {count:>8}")
    return 0


def eval_command(args: argparse.Namespace) -> int:
    from bot.registry.evaluation import evaluate, read_cases

    index = _load_index(args)
    try:
        cases = read_cases(args.cases)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report = evaluate(index, cases)
    if args.verbose:
        for case, result in report.misses:
            got = [f"{h.name} ({h.city}) {h.score:g}" for h in result.results[:3]]
            print(f"miss: {case.query!r} expect {case.expect}: {result.decision} {got}")
    print(f"cases: {report.cases} ({report.in_scope} naming a registered organisation)")
    print(f"right organisation first: {report.right_first}/{report.in_scope} "
          f"= {report.top1_accuracy:.1%}")
    print(f"right organisation first or offered: {report.reached}/{report.in_scope} "
          f"= {report.reached_rate:.1%}")
    print(f"found with a wrong organisation: {report.wrong_found}/{report.cases} "
          f"= {report.wrong_found_rate:.1%} (strict: any found but the expected one; "
          f"found: {report.found})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``registry`` with its subcommands import, remove, search, stats and eval."""
    parser = subparsers.add_parser("registry", help="the registry of organisations",
                                   description="Import, search and count the registry of "
                                               "organisations.")
    commands = parser.add_subparsers(dest="registry_command", required=True, metavar="SUBCOMMAND")

    imp = commands.add_parser(
        "import", help="import a registry CSV (upsert by NIPT)",
        description="Insert new organisations and update changed ones from a CSV with the "
                    "columns nipt,name,acronym,legal_form,city,address,phone,email,activity,"
                    "registered_on,court_decision,status (comma or semicolon, UTF-8, BOM ok). "
                    "Bad rows are reported and skipped. Exit status 1 when a row was skipped.")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--strict", action="store_true",
                     help="refuse the whole file if any row is bad (nothing is written)")
    imp.add_argument("--replace", action="store_true",
                     help="make the registry equal to the file: organisations missing from it "
                          "are marked removed (kept, no longer found; a re-import restores them)")
    imp.add_argument("--yes", action="store_true",
                     help="confirm a --replace that removes more than half the registry")
    imp.set_defaults(handler=import_command)

    rem = commands.add_parser(
        "remove", help="mark organisations removed (no longer found)",
        description="Mark organisations removed by NIPT: they are kept but no longer found; "
                    "an import that has them restores them.")
    rem.add_argument("nipt", nargs="+", metavar="NIPT")
    rem.set_defaults(handler=remove_command)

    search = commands.add_parser(
        "search", help="look organisations up by name, acronym or NIPT",
        description="Search the registry. Without QUERY, reads one query a line from a pipe "
                    "or file on standard input.")
    search.add_argument("query", nargs="*", metavar="QUERY")
    search.add_argument("--json", action="store_true",
                        help='one JSON object a line: {"query", "decision", "closest", "results"}')
    search.set_defaults(handler=search_command)

    stats = commands.add_parser("stats", help="count organisations by status, legal form, city",
                                description="Count organisations by status, legal form and city.")
    stats.set_defaults(handler=stats_command)

    ev = commands.add_parser(
        "eval", help="measure the search on labelled look-ups",
        description='Top-1 accuracy and wrong-found rate on JSON lines {"q": ..., "expect": '
                    'nipt or null}.')
    ev.add_argument("--cases", required=True, metavar="FILE.jsonl")
    ev.add_argument("--verbose", action="store_true", help="list the misses")
    ev.set_defaults(handler=eval_command)
