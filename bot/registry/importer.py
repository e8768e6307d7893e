"""The registry of organisations: CSV import (upsert by NIPT, or replace), removal,
the bundled demo sample, statistics.

A registry CSV has the columns of :data:`COLUMNS` (UTF-8 with a header row; a
comma or semicolon separator and a byte-order mark are accepted, as
spreadsheets write them). Rows that cannot be read are reported with their
line number and skipped; ``strict=True`` refuses the whole file instead.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.faq import did_you_mean
from bot.files import NotUtf8, read_bytes, text_of
from bot.registry import NIPT_FORM
from bot.registry.index import INDEXED_COLUMNS
from bot.storage import Database, Organisation, RegistryChange
from bot.text import fold
from bot.untrusted import first_hidden, named

COLUMNS: tuple[str, ...] = (
    "nipt", "name", "acronym", "legal_form", "city", "address", "phone", "email",
    "activity", "registered_on", "court_decision", "status",
)
REQUIRED_COLUMNS = ("nipt", "name")
NIPT_PATTERN = re.compile(NIPT_FORM)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
BATCH_SIZE = 1000
# The bench's registry takes 250 bytes an organisation (5 MB for 20,000): 256 MB is about a
# million, twice the national scale the README measures (500,000).
MAX_FILE_BYTES = 256 * 2**20
# The PostgreSQL advisory lock registry writers take: "registry" in ASCII.
_WRITERS_LOCK = 0x7265676973747279

Progress = Callable[[int, int], None]


class RegistryImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, no usable header)."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    nipt: str | None = None
    """The row's NIPT when it could be read (``--replace`` keeps that organisation)."""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: counts of rows and the rows it skipped, with reasons."""

    path: Path
    rows: int = 0                 # data rows in the file (blank lines not counted)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0             # organisations removed before, back in this file
    removed: int = 0              # organisations --replace marked removed
    sample_removed: int = 0       # rows of the demo registry this first real import deleted
    would_remove: int = 0         # removals refused: more than half the registry, no --yes
    kept_unsure: int = 0
    """Organisations --replace did not remove: a skipped row without a readable NIPT may
    be theirs."""
    errors: list[RowError] = field(default_factory=list)
    strict: bool = False
    ignored: list[str] = field(default_factory=list)
    """Columns of the header that are no registry column (with a guess at the one meant)."""

    @property
    def refused(self) -> bool:
        """True when ``--strict`` rejected the file and nothing was written."""
        return self.strict and bool(self.errors)

    @property
    def needs_confirmation(self) -> bool:
        """True when ``--replace`` would remove more than half the registry (nothing written)."""
        return self.would_remove > 0

    @property
    def skipped(self) -> int:
        return len(self.errors)


@dataclass(frozen=True)
class RegistryStats:
    total: int
    by_status: dict[str, int]
    by_legal_form: dict[str, int]
    by_city: dict[str, int]
    sample: bool = False          # every organisation is from the bundled demo registry
    removed: int = 0


def normalise_nipt(value: str) -> str:
    return value.strip().upper()


def parse_date(value: str) -> date | None:
    """``2001-03-14`` (also ``14.03.2001`` and ``14/03/2001``); empty means unknown."""
    value = value.strip()
    if not value:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"bad date {value!r} (expected YYYY-MM-DD)")


def _sniff_delimiter(header_line: str) -> str:
    """The separator of a CSV by its header: a comma, or the semicolon or tab a
    spreadsheet saves with, whichever the header has most of."""
    return max((",", ";", "\t"), key=header_line.count)


def _read_text(path: Path) -> str:
    try:
        content = read_bytes(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise RegistryImportError(f"{path}: no such file") from None
    except OSError as exc:
        raise RegistryImportError(f"{path}: cannot read the file: {exc.strerror}") from None
    except ValueError as exc:
        raise RegistryImportError(f"{path}: {exc}") from None
    try:
        return text_of(content, "save the spreadsheet as 'CSV UTF-8'")
    except NotUtf8 as exc:
        raise RegistryImportError(f"{path}: {exc}") from None


_STATUSES = {spelled: status for status, spellings in {
    "aktive": ("aktive", "aktiv", "active", "e regjistruar", "registered"),
    "pezulluar": ("pezulluar", "pezulluare", "e pezulluar", "suspended"),
    "çregjistruar": ("cregjistruar", "cregjistruare", "e cregjistruar", "deregistered",
                     "struck off"),
}.items() for spelled in spellings}
"""A status as spreadsheets write it (folded: "Aktive", "AKTIV", "active") -> as the
registry keeps it, so that one status is counted and translated as one; another value
is kept as it is."""


def _parse_row(values: list[str], header: list[str]) -> dict[str, Any]:
    if len(values) != len(header):
        raise ValueError(f"wrong number of fields: expected {len(header)}, found {len(values)}")
    raw = {key: value.strip() for key, value in zip(header, values, strict=True) if key in COLUMNS}
    for key, value in raw.items():
        # They would reach the admin's terminal and people's screens as they are: an
        # escape sequence, a right-to-left override reversing a button's label. A tab and
        # a line break (a spreadsheet cell of two lines; the file is read with universal
        # newlines, so no carriage return is left) are text.
        hidden = first_hidden(value, allowed="\t\n")
        if hidden is not None:
            raise ValueError(f"column {key}: character {named(hidden)} is not "
                             "visible text; remove it")
    nipt = normalise_nipt(raw.get("nipt", ""))
    if not nipt:
        raise ValueError("missing NIPT")
    if not NIPT_PATTERN.fullmatch(nipt):
        raise ValueError(f"malformed NIPT {raw['nipt']!r} (expected a letter, 8 digits, a letter)")
    if not raw.get("name"):
        raise ValueError("missing name")
    row: dict[str, Any] = {key: (value or None) for key, value in raw.items()}
    row["nipt"] = nipt
    if row.get("status"):
        row["status"] = _STATUSES.get(fold(row["status"]), row["status"])
    if "registered_on" in row:
        row["registered_on"] = parse_date(raw["registered_on"])
    return row


def _records(reader: Any, path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, line after it, fields) of each record of a CSV reader; a record the
    csv module cannot read at all (a runaway quote) stops the import with its line."""
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RegistryImportError(f"{path}: line {line}: {exc} "
                                      "(is a quote (\") not closed?)") from None
        start, line = line, reader.line_num + 1
        yield start, line, values


def _column_name(written: str) -> str:
    """A header's column as the importer names it: a spreadsheet's "Legal Form",
    "legal-form" or "E-mail" is ``legal_form`` or ``email``."""
    name = re.sub(r"[\s\-]+", "_", written.strip().lower())
    return "email" if name == "e_mail" else name


def read_registry_csv(path: Path) -> tuple[list[str], list[dict[str, Any]], list[RowError], int,
                                          list[str]]:
    """The known columns of a registry CSV, its good rows, the bad ones (with reasons),
    the row count and the header's unknown columns (with a guess at the one meant)."""
    text = _read_text(path)
    first_line = text.split("\n", 1)[0]
    if re.fullmatch(r"\s*sep=.?\s*", first_line, re.IGNORECASE):
        raise RegistryImportError(f"{path}: line 1: {first_line.strip()!r} is a spreadsheet's "
                                  "note of its separator, not the header: delete that line")
    # strict: a quote still open at the end of the file is an error, not the rest of the
    # file read into the last field of one row.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line),
                        strict=True)
    first = next(_records(reader, path), None)
    if first is None:
        raise RegistryImportError(f"{path}: the file is empty")
    header = [_column_name(name) for name in first[2]]
    twice = next((name for i, name in enumerate(header) if name in COLUMNS
                  and name in header[:i]), None)
    if twice is not None:  # its last value would be imported without a word
        raise RegistryImportError(f"{path}: line 1: the header has the column {twice!r} "
                                  "twice; keep one")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise RegistryImportError(f"{path}: line 1: the header has no column {', '.join(missing)} "
                                  f"(expected: {','.join(COLUMNS)})")
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}
    count = 0
    for start, line, values in _records(reader, path):
        if not values or all(not v.strip() for v in values):
            continue
        count += 1
        try:
            row = _parse_row(values, header)
        except ValueError as exc:
            spread = line - start > 1 and len(values) != len(header)
            mentioned = dict(zip(header, values, strict=False)).get("nipt", "")
            nipt = normalise_nipt(mentioned)
            errors.append(RowError(start, str(exc) + (
                f" (lines {start}-{line - 1} were read as one row: is a quote (\") "
                "not closed?)" if spread else ""),
                nipt if NIPT_PATTERN.fullmatch(nipt) and not spread else None))
            continue
        if row["nipt"] in first_seen:
            errors.append(RowError(start, f"duplicate NIPT {row['nipt']} "
                                          f"(already on line {first_seen[row['nipt']]})",
                                   row["nipt"]))
            continue
        first_seen[row["nipt"]] = start
        rows.append(row)
    # repr: a column's name is the file's text, and what it hides (an escape that
    # starts a terminal's commands, a bidirectional control) is shown escaped.
    ignored = [f"{name!r}{did_you_mean(name, COLUMNS)}" for name in header
               if name and name not in COLUMNS]
    return [key for key in COLUMNS if key in header], rows, errors, count, ignored


def _upsert_statement(dialect: str, columns: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (nipt) DO UPDATE`` of ``columns``, run once per batch; an
    organisation in the file is no longer removed."""
    dialect_insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if dialect_insert is None:
        raise RegistryImportError(f"unsupported database: {dialect}")
    statement = dialect_insert(Organisation.__table__)
    changed = {key: statement.excluded[key] for key in (*columns, "sample")}
    changed["updated_at"] = func.now()
    changed["removed_at"] = None
    return statement.on_conflict_do_update(index_elements=["nipt"], set_=changed)


def _one_writer_at_a_time(db: Database, session: Session) -> None:
    """On PostgreSQL, wait until no other registry writer has a transaction open; taken
    first in a transaction that writes ``registry_changes``, held until it ends.

    The ids of ``registry_changes`` are taken when a row is inserted, but transactions
    commit in their own order: a removal that commits while an import is still
    running would make id 8 visible before the import's id 7, and a refresh that
    read 8 would never look back for 7 (the import's organisations never found until
    a restart). Writers in turn commit their ids in order. SQLite lets only one
    writer in at a time already."""
    if db.dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WRITERS_LOCK})


def _log_changes(session: Session, nipts: Iterable[str]) -> None:
    """Note in ``registry_changes`` which organisations changed for the search index: added,
    removed, restored, or with a new name, acronym or city (see :mod:`bot.registry.index`)."""
    batch: list[dict[str, str]] = []
    for nipt in nipts:
        batch.append({"nipt": nipt})
        if len(batch) >= BATCH_SIZE:
            session.execute(insert(RegistryChange), batch)
            batch = []
    if batch:
        session.execute(insert(RegistryChange), batch)


def import_registry(db: Database, path: str | Path, *, strict: bool = False,
                    replace: bool = False, confirmed: bool = False, sample: bool = False,
                    progress: Progress | None = None) -> ImportReport:
    """Insert new organisations and update changed ones from a registry CSV.

    Rows are matched by NIPT, so importing the same file twice changes nothing.
    Only the columns the file has are written: a file without e.g. ``phone``
    leaves the stored phone numbers alone. ``replace`` makes the registry
    equal to the file: organisations missing from it are marked removed (kept,
    no longer found); unless ``confirmed``, nothing is written when that would
    remove more than half the registry, or anything while a skipped row has no readable
    NIPT (it may be one of them: a NIPT with its last letter cut). The first
    real (not ``sample``) import that brings organisations in deletes the bundled demo
    rows. Everything is written in one transaction: an error leaves the database as it
    was.
    """
    path = Path(path)
    columns, rows, errors, count, ignored = read_registry_csv(path)
    report = ImportReport(path=path, rows=count, errors=errors, strict=strict, ignored=ignored)
    if report.refused:
        return report
    columns = [key for key in columns if key != "nipt"]
    data_columns = [getattr(Organisation, key) for key in columns]
    indexed = [n for n, key in enumerate(columns) if key in INDEXED_COLUMNS]
    upsert = _upsert_statement(db.dialect, columns)
    with db.session() as session:
        _one_writer_at_a_time(db, session)
        if replace:
            # A row skipped for a bad value still says its organisation is in the file.
            in_file = {row["nipt"] for row in rows} | {e.nipt for e in errors if e.nipt}
            active = session.scalars(select(Organisation.nipt).where(
                Organisation.removed_at.is_(None), Organisation.sample.is_(False))).all()
            missing = [nipt for nipt in active if nipt not in in_file]
            if missing and any(e.nipt is None for e in errors) and not confirmed:
                report.kept_unsure, missing = len(missing), []
            if len(missing) * 2 > len(active) and not confirmed:
                report.would_remove = len(missing)
                return report
            for start in range(0, len(missing), BATCH_SIZE):
                session.execute(update(Organisation)
                                .where(Organisation.nipt.in_(missing[start:start + BATCH_SIZE]))
                                .values(removed_at=func.now(), updated_at=func.now()))
            _log_changes(session, missing)
            report.removed = len(missing)
        if not sample and rows:
            demo = session.scalars(select(Organisation.nipt)
                                   .where(Organisation.sample.is_(True))).all()
            if demo:
                session.execute(delete(Organisation).where(Organisation.sample.is_(True)))
                _log_changes(session, demo)
                report.sample_removed = len(demo)
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start:start + BATCH_SIZE]
            existing = {
                nipt: (removed is not None, tuple(values))
                for nipt, removed, *values in session.execute(
                    select(Organisation.nipt, Organisation.removed_at, *data_columns)
                    .where(Organisation.nipt.in_([row["nipt"] for row in batch])))
            }
            pending = []
            reindexed = []
            for row in batch:
                old = existing.get(row["nipt"])
                values = tuple(row[key] for key in columns)
                if old is None:
                    report.inserted += 1
                elif old[0]:
                    report.restored += 1
                elif old[1] != values:
                    report.updated += 1
                else:
                    report.unchanged += 1
                    continue
                pending.append({**row, "sample": sample})
                if old is None or old[0] or any(old[1][n] != values[n] for n in indexed):
                    reindexed.append(row["nipt"])
            if pending:
                session.connection().execute(upsert, pending)
                _log_changes(session, reindexed)
            if progress is not None:
                progress(start + len(batch), len(rows))
    return report


def remove_organisation(db: Database, nipt: str) -> str:
    """Mark one organisation removed (it is no longer found); its name. A re-import
    restores it. Raises :class:`RegistryImportError` for an unknown or malformed NIPT."""
    nipt = normalise_nipt(nipt)
    if not NIPT_PATTERN.fullmatch(nipt):
        raise RegistryImportError(
            f"malformed NIPT {nipt!r} (expected a letter, 8 digits, a letter)")
    with db.session() as session:
        _one_writer_at_a_time(db, session)
        organisation = session.get(Organisation, nipt)
        if organisation is None:
            raise RegistryImportError(f"no organisation with NIPT {nipt} in the registry")
        if organisation.removed_at is not None:
            raise RegistryImportError(f"{nipt} ({organisation.name}) is already removed")
        organisation.removed_at = organisation.updated_at = func.now()
        _log_changes(session, [nipt])
        return organisation.name


def organisation_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Organisation)) or 0


def ensure_sample_registry(db: Database, csv_path: str | Path | None) -> ImportReport | None:
    """Import the bundled demo registry (marked ``sample``) when the organisations table is
    empty; the first real import deletes it. A file that cannot be read is a
    :class:`RegistryImportError` naming the setting (a config.yaml copied to another folder
    points its relative path elsewhere)."""
    if csv_path is None or organisation_count(db) > 0:
        return None
    try:
        return import_registry(db, csv_path, sample=True)
    except RegistryImportError as exc:
        raise RegistryImportError(
            f"{exc} (registry.sample_csv in the config: the demo registry, imported into "
            "an empty registry; write its path, or null to start with an empty one)"
        ) from None


def registry_stats(db: Database) -> RegistryStats:
    """How many organisations there are (not counting removed ones), by status, legal form
    and city; whether they are the demo sample; how many were removed."""
    active = Organisation.removed_at.is_(None)

    def counts(session: Session, column: Any) -> dict[str, int]:
        result = session.execute(select(column, func.count()).where(active).group_by(column))
        tally: Counter[str] = Counter()
        for key, n in result:
            tally[key or "-"] += n  # no value, and a value written "-", are shown as one
        return dict(sorted(tally.items(), key=lambda item: (-item[1], item[0])))

    with db.session() as session:
        total = session.scalar(select(func.count()).where(active)) or 0
        samples = session.scalar(select(func.count()).where(active, Organisation.sample)) or 0
        removed = session.scalar(select(func.count()).where(Organisation.removed_at.isnot(None)))
        return RegistryStats(
            total=total,
            by_status=counts(session, Organisation.status),
            by_legal_form=counts(session, Organisation.legal_form),
            by_city=counts(session, Organisation.city),
            sample=total > 0 and samples == total,
            removed=removed or 0,
        )
