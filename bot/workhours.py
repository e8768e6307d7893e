"""Working time: when the staff are at work, and how much working time lies between two moments.

Pure arithmetic on aware datetimes (no database, no clock): the staff desk
uses it to tell a person who writes outside opening hours when an answer
can come, to count reminders in working time, and the report uses it for
the staff's response times. Opening hours are local to the agency's time
zone (Europe/Tirane), so a summer-time change moves them with the clocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Beyond this, next_open gives up: a week with no hours, or a year of holidays.
MAX_DAYS_AHEAD = 400
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Interval = tuple[time, time]


@dataclass(frozen=True)
class WorkingHours:
    """Opening hours per weekday (0 = Monday) in ``zone``, and the holidays.

    ``always`` (no opening hours configured) is open at every moment.
    """

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    week: tuple[tuple[Interval, ...], ...] = ()
    holidays: frozenset[date] = frozenset()

    @property
    def always(self) -> bool:
        return not self.week

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening spans of a local ``day`` as aware datetimes (none on a holiday)."""
        if day in self.holidays:
            return []
        return [(datetime.combine(day, start, self.zone), _end(day, end, self.zone))
                for start, end in self.week[day.weekday()]]

    def is_open(self, moment: datetime) -> bool:
        if self.always:
            return True
        local = moment.astimezone(self.zone)
        return any(start <= local < end for start, end in self._spans(local.date()))

    def next_open(self, moment: datetime) -> datetime | None:
        """``moment`` itself when open, else the next opening (local time); None if none
        within a year."""
        if self.always:
            return moment
        local = moment.astimezone(self.zone)
        for offset in range(MAX_DAYS_AHEAD):
            for start, end in self._spans(local.date() + timedelta(days=offset)):
                if local < end:
                    return max(start, local)
        return None

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from ``start`` to ``end`` (zero when ``end`` is not later)."""
        if end <= start:
            return timedelta()
        if self.always:
            return end - start
        local_start, local_end = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta()
        day = local_start.date()
        while day <= local_end.date():
            for open_at, close_at in self._spans(day):
                overlap = min(close_at, local_end) - max(open_at, local_start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total


def _end(day: date, end: time, zone: ZoneInfo) -> datetime:
    """The end of a span: ``24:00`` (stored as midnight) is the start of the next day."""
    if end == time(0):
        return datetime.combine(day + timedelta(days=1), time(0), zone)
    return datetime.combine(day, end, zone)


def parse_span(text: str) -> Interval:
    """``"08:00-16:30"`` -> (08:00, 16:30); ``24:00`` may end a span."""
    match = _SPAN.match(text)
    if not match:
        raise ValueError(f"not opening hours: {text!r} (use e.g. 08:00-16:30)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"not a time of day in {text!r}")
    start, end = time(h1, m1), time(0) if h2 == 24 else time(h2, m2)
    if end != time(0) and end <= start:
        raise ValueError(f"opening hours end before they start: {text!r}")
    return start, end


def _days(key: str) -> list[int]:
    """``"mon"`` -> [0]; ``"mon-fri"`` -> [0..4]."""
    first, _, last = key.strip().lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"not a day or a range of days: {key!r} (use e.g. mon-fri, sat)")
    a, b = DAYS.index(first), DAYS.index(last or first)
    if b < a:
        raise ValueError(f"a range of days goes from Monday to Sunday: {key!r}")
    return list(range(a, b + 1))


def parse_hours(zone: str, days: Mapping[str, object] | None,
                holidays: Iterable[object] = ()) -> WorkingHours:
    """Working hours from config: a time zone name, ``{"mon-fri": "08:00-16:30",
    "sat": ["09:00-12:00"]}`` (unlisted days are closed) and ISO dates of holidays.

    No ``days`` at all: always open. Raises ValueError naming what is wrong."""
    try:
        tz = ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {zone!r} (use e.g. Europe/Tirane)") from None
    free: set[date] = set()
    for value in holidays:
        try:
            free.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    if not days:
        return WorkingHours(zone=tz, holidays=frozenset(free))
    week: list[list[Interval]] = [[] for _ in DAYS]
    for key, spans in days.items():
        listed = spans if isinstance(spans, list) else [spans]
        for weekday in _days(str(key)):
            week[weekday].extend(parse_span(str(s)) for s in listed if str(s).lower() != "closed")
    for weekday, spans in enumerate(week):
        spans.sort()
        for first, then in zip(spans, spans[1:], strict=False):
            if first[1] == time(0) or then[0] < first[1]:
                # Counted twice, the overlap would lengthen the staff's working time.
                raise ValueError(f"{DAYS[weekday]}: the opening hours {_span(*first)} and "
                                 f"{_span(*then)} overlap (a day listed twice? give each "
                                 "day its hours once)")
    return WorkingHours(zone=tz, week=tuple(tuple(w) for w in week),
                        holidays=frozenset(free))


def _span(start: time, end: time) -> str:
    return f"{start:%H:%M}-{'24:00' if end == time(0) else f'{end:%H:%M}'}"
