"""What people asked in a period and what became of it (``/stats``, ``ngo-faq-bot report``).

The figures come from the question log (:mod:`bot.question_log`) and the
staff tickets: questions asked and their outcomes, 👍/👎, the staff's
response time (ticket created -> first staff answer: median and 90th
percentile, in the staff's working time when opening hours are configured),
tickets still open, the people's satisfaction with the staff (👍 share of
the rated tickets, and the worst-rated ones), and the questions the FAQ did
not answer, grouped by similarity so that admins see which entry to write next.
"""

from __future__ import annotations

import io
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from sqlalchemy import MetaData, Table, func, inspect, select

from bot.phrases import Html, escape, raw, say
from bot.question_log import OUTCOMES
from bot.storage import Database, QuestionLog
from bot.text import fold
from bot.workhours import WorkingHours

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Two unanswered questions belong together when their folded texts are this similar (0-100).
SIMILAR = 70.0
TOP_UNANSWERED = 10
# Outcomes where the FAQ had no answer the person took.
UNANSWERED = ("staff", "suggested")
OPEN_TICKET_STATUSES = ("open",)  # tickets are open, answered or closed
WORST_RATED = 5


MAX_DAYS = 3660
"""The longest period reported: ten years (a longer one is a mistyped year, and a chart
of thousands of bars)."""


class PeriodError(ValueError):
    """A period that cannot be reported (see :meth:`Period.checked`)."""


@dataclass(frozen=True)
class Period:
    """From ``since`` (inclusive) to ``until`` (exclusive), in UTC."""

    since: datetime
    until: datetime

    @classmethod
    def of_days(cls, first: date | None, last: date | None, *, default_days: int = 30,
                today: date | None = None) -> Period:
        """The days ``first`` to ``last`` inclusive (default: the last ``default_days`` days)."""
        today = today or datetime.now(UTC).date()
        last = last or today
        first = first or last - timedelta(days=default_days - 1)
        return cls(datetime.combine(first, time(), UTC),
                   datetime.combine(last + timedelta(days=1), time(), UTC))

    @classmethod
    def checked(cls, first: date | None, last: date | None, *, default_days: int = 30,
                today: date | None = None) -> Period:
        """:meth:`of_days` for a period someone typed: :class:`PeriodError` says why one
        cannot be reported (the first day after the last, a start after today, a date out
        of range, more than ``MAX_DAYS``)."""
        today = today or datetime.now(UTC).date()
        if first is not None and first > (last or today):
            raise PeriodError("the first day is after the last" if last is not None
                              else "the first day is after today")
        try:
            period = cls.of_days(first, last, default_days=default_days, today=today)
        except OverflowError:
            raise PeriodError("the dates are out of range") from None
        if period.since.date() > today:
            raise PeriodError("the period starts after today")
        if (period.until - period.since).days > MAX_DAYS:
            raise PeriodError(f"the period is longer than {MAX_DAYS} days; check the years")
        return period

    @property
    def days(self) -> list[date]:
        count = max((self.until - self.since).days, 0)
        return [self.since.date() + timedelta(days=n) for n in range(count)]


@dataclass(frozen=True)
class Cluster:
    """Similar unanswered questions: one example, how many, and the languages."""

    example: str
    count: int
    questions: tuple[str, ...]
    people: frozenset[int] = frozenset()
    """Who asked them (the example may be any one's words)."""


@dataclass(frozen=True)
class Rated:
    """A ticket the person rated 👎: its number, when, the question and their comment."""

    ticket_id: int
    rated_at: datetime
    question: str
    comment: str | None
    user_id: int | None = None


@dataclass(frozen=True)
class Report:
    period: Period
    asked: int
    outcomes: dict[str, int]
    helpful: int
    not_helpful: int
    response_median: timedelta | None
    response_p90: timedelta | None
    answered_tickets: int
    open_tickets: int
    unanswered: tuple[Cluster, ...]
    per_day: dict[date, dict[str, int]] = field(default_factory=dict)
    rated: int = 0          # tickets rated in the period
    satisfied: int = 0      # of which 👍
    worst: tuple[Rated, ...] = ()

    @property
    def naming(self) -> frozenset[int]:
        """The people whose words the report quotes: the askers of the unanswered
        questions shown, the persons of the worst-rated tickets (their forget deletes
        the report from the admin's chat)."""
        return frozenset().union(*(c.people for c in self.unanswered),
                                 (r.user_id for r in self.worst if r.user_id is not None))

    @property
    def satisfaction(self) -> float | None:
        """The share of 👍 among the rated tickets (None when none was rated)."""
        return self.satisfied / self.rated if self.rated else None

    @property
    def answered(self) -> int:
        return self.outcomes.get("answered", 0)

    @property
    def picked(self) -> int:
        return self.outcomes.get("picked", 0)

    @property
    def staff(self) -> int:
        return self.outcomes.get("staff", 0)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def db_time(db: Database, value: datetime) -> datetime:
    """A UTC time as the database compares it (SQLite keeps naive UTC)."""
    value = _utc(value).astimezone(UTC)
    return value.replace(tzinfo=None) if db.is_sqlite else value


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0-1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def cluster(texts: list[str], threshold: float = SIMILAR,
            askers: list[int] | None = None) -> list[Cluster]:
    """Group texts by similarity (greedy, against each group's first text), biggest first;
    ``askers``: who asked each text."""
    groups: list[tuple[str, list[str], set[int]]] = []
    for number, text in enumerate(texts):
        key = fold(text)
        asker = {askers[number]} if askers is not None else set()
        for head, members, people in groups:
            if fuzz.token_set_ratio(key, head) >= threshold:
                members.append(text)
                people.update(asker)
                break
        else:
            groups.append((key, [text], asker))
    clusters = [Cluster(Counter(m).most_common(1)[0][0], len(m), tuple(m), frozenset(p))
                for _, m, p in groups]
    return sorted(clusters, key=lambda c: -c.count)


def _table(db: Database, name: str) -> Table | None:
    if not inspect(db.engine).has_table(name):
        return None
    return Table(name, MetaData(), autoload_with=db.engine)


def _response_times(db: Database, period: Period,
                    hours: WorkingHours) -> tuple[list[float], int]:
    """Working seconds from each ticket created in the period to its first staff answer;
    open tickets."""
    tickets = _table(db, "tickets")
    if tickets is None:
        return [], 0
    messages = _table(db, "ticket_messages")
    since, until = db_time(db, period.since), db_time(db, period.until)
    with db.engine.connect() as connection:
        rows = connection.execute(select(tickets.c.id, tickets.c.created_at,
                                         tickets.c.answered_at, tickets.c.status).where(
            tickets.c.created_at >= since, tickets.c.created_at < until)).all()
        first: dict[int, datetime] = {}
        if messages is not None:
            first = dict(connection.execute(
                select(messages.c.ticket_id, func.min(messages.c.created_at))
                .where(messages.c.direction == "staff").group_by(messages.c.ticket_id)).all())
        still_open = connection.execute(select(func.count()).select_from(tickets).where(
            tickets.c.status.in_(OPEN_TICKET_STATUSES), tickets.c.created_at < until)).scalar()
    seconds = []
    for ticket_id, created, answered, _status in rows:
        answer = first.get(ticket_id) or answered
        if answer is not None:
            seconds.append(hours.between(_utc(created), _utc(answer)).total_seconds())
    return seconds, int(still_open or 0)


def _ratings(db: Database, period: Period) -> tuple[int, int, tuple[Rated, ...]]:
    """Tickets rated in the period, how many 👍, and the latest 👎 (commented ones first)."""
    tickets = _table(db, "tickets")
    if tickets is None or "rating" not in tickets.c:
        return 0, 0, ()
    since, until = db_time(db, period.since), db_time(db, period.until)
    with db.engine.connect() as connection:
        rows = connection.execute(select(
            tickets.c.id, tickets.c.rating, tickets.c.rated_at, tickets.c.question,
            tickets.c.rating_comment, tickets.c.user_id).where(
            tickets.c.rating.is_not(None), tickets.c.rated_at >= since,
            tickets.c.rated_at < until)).all()
    bad = sorted((r for r in rows if r.rating < 0),
                 key=lambda r: (r.rating_comment is None, -_utc(r.rated_at).timestamp()))
    worst = tuple(Rated(r.id, _utc(r.rated_at), r.question, r.rating_comment, r.user_id)
                  for r in bad[:WORST_RATED])
    return len(rows), sum(1 for r in rows if r.rating > 0), worst


def build(db: Database, period: Period, hours: WorkingHours | None = None) -> Report:
    """The report for ``period`` (response times in the working time of ``hours``)."""
    since, until = db_time(db, period.since), db_time(db, period.until)
    with db.session() as session:
        rows = session.execute(select(
            QuestionLog.text, QuestionLog.outcome, QuestionLog.feedback, QuestionLog.created_at,
            QuestionLog.user_id)
            .where(QuestionLog.created_at >= since, QuestionLog.created_at < until)
            .order_by(QuestionLog.id)).all()
    outcomes = Counter(outcome for _, outcome, _, _, _ in rows)
    per_day: dict[date, dict[str, int]] = {day: dict.fromkeys(OUTCOMES, 0)
                                           for day in period.days}
    for _, outcome, _, created, _ in rows:
        per_day.setdefault(_utc(created).date(), dict.fromkeys(OUTCOMES, 0))[outcome] += 1
    seconds, still_open = _response_times(db, period, hours or WorkingHours())
    rated, satisfied, worst = _ratings(db, period)
    asked = [(text, user) for text, outcome, _, _, user in rows if outcome in UNANSWERED]
    unanswered = cluster([text for text, _ in asked], askers=[user for _, user in asked])
    return Report(
        period=period, asked=len(rows), outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
        helpful=sum(1 for _, _, vote, _, _ in rows if vote == 1),
        not_helpful=sum(1 for _, _, vote, _, _ in rows if vote == -1),
        response_median=timedelta(seconds=statistics.median(seconds)) if seconds else None,
        response_p90=timedelta(seconds=percentile(seconds, 0.9)) if seconds else None,
        answered_tickets=len(seconds), open_tickets=still_open,
        unanswered=tuple(unanswered[:TOP_UNANSWERED]), per_day=per_day,
        rated=rated, satisfied=satisfied, worst=worst)


def duration(value: timedelta | None) -> str:
    """``1 h 05 min``, ``12 min``, ``40 s``, or ``-``."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def chart(report: Report, lang: str) -> Figure:
    """Questions per day, one stacked bar a day split by outcome, in ``lang``, with the
    report's words in the legend."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    days = sorted(report.per_day)
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    bottom = [0] * len(days)
    colours = {"answered": "#2e7d32", "picked": "#81c784", "suggested": "#fbc02d",
               "registry": "#1976d2", "staff": "#d32f2f"}
    for outcome in OUTCOMES:
        counts = [report.per_day[day].get(outcome, 0) for day in days]
        axes.bar(days, counts, bottom=bottom,  # type: ignore[arg-type]  # dates: matplotlib's units
                 label=raw(lang, f"outcome_{outcome}"), color=colours[outcome])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    # Whole questions from 0, and room above the highest bar for the legend: an empty
    # period is an axis from 0 to 1 with a note, not one from -0.045 to 0.045.
    highest = max(bottom, default=0)
    axes.set_ylim(0, highest * 1.3 if highest else 1)
    axes.set_ylabel(raw(lang, "chart_axis"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(raw(lang, "chart_title").format(
        since=report.period.since.date().isoformat(),
        until=(report.period.until - timedelta(days=1)).date().isoformat()))
    if report.asked:
        axes.legend(loc="upper left", fontsize="small")
    else:
        axes.text(0.5, 0.5, raw(lang, "chart_empty"), transform=axes.transAxes,
                  ha="center", va="center", color="#616161")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def chart_png(report: Report, lang: str) -> bytes:
    """:func:`chart` as a PNG."""
    out = io.BytesIO()
    chart(report, lang).savefig(out, format="png")
    return out.getvalue()


def describe(report: Report, lang: str) -> Html:
    """The report as a message (HTML subset of the phrases)."""
    lines = [f"{n}. {escape(_short(c.example))} ×{c.count}"
             for n, c in enumerate(report.unanswered, start=1)]
    last = (report.period.until - timedelta(days=1)).date()
    labels = {f"label_{outcome}": raw(lang, f"outcome_{outcome}") for outcome in OUTCOMES}
    figures = say(lang, "adm_stats", **labels, since=report.period.since.date().isoformat(),
               until=last.isoformat(), asked=report.asked, answered=report.answered,
               picked=report.picked, suggested=report.outcomes.get("suggested", 0),
               registry=report.outcomes.get("registry", 0), staff=report.staff,
               helpful=report.helpful, not_helpful=report.not_helpful,
               median=duration(report.response_median), p90=duration(report.response_p90),
               answered_tickets=report.answered_tickets, open_tickets=report.open_tickets,
               unanswered=Html("\n".join(lines)) if lines else say(lang, "adm_stats_none"))
    return Html(figures + "\n\n" + _satisfaction(report, lang))


def _satisfaction(report: Report, lang: str) -> Html:
    """The people's ratings of the staff: the 👍 share and the worst-rated tickets."""
    worst = [say(lang, "adm_stats_worst_line", number=r.ticket_id,
                 date=r.rated_at.date().isoformat(), question=_short(r.question, 60),
                 comment=f" — «{_short(r.comment, 80)}»" if r.comment else "")
             for r in report.worst]
    rate = f"{report.satisfaction:.0%}" if report.satisfaction is not None else "-"
    return say(lang, "adm_stats_satisfaction", rate=rate, good=report.satisfied,
               rated=report.rated,
               worst=Html("\n".join(worst)) if worst else say(lang, "adm_stats_none"))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
