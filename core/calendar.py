"""The Chinese working-day calendar: statutory holidays and make-up working days (调休), the one calculation that
every deadline in the portal uses.

Official schedules come from the `holidays` package; staff can override single days and confirm a year the package
does not know yet (`WorkingDayOverride`, `CalendarYear`). A year with neither is refused: the package would
*estimate* it without make-up working days, and a wrong statutory deadline is worse than an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import holidays

from core.errors import ApplicationError


class CalendarUnavailable(ApplicationError):
    """No official or confirmed schedule exists for a year a calculation needs."""

    default_code = "calendar_year_unavailable"


@lru_cache(maxsize=64)
def _official(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]] | None:
    """(statutory days off, make-up working days) of `year` from the holidays package, or None if it only guesses."""
    cn = holidays.country_holidays("CN", years=year)
    workdays = frozenset(d for d in getattr(cn, "weekend_workdays", ()) if d.year == year)
    if not workdays:
        # Every published State Council schedule has at least one make-up working day; without one the package
        # is estimating the year from rules (e.g. 2027 today).
        return None
    days_off = frozenset(d for d in cn if d.year == year and d.weekday() < 5)
    return days_off, workdays


@dataclass
class WorkingCalendar:
    """A snapshot of the calendar (official data + overrides) to answer many questions with one query."""

    overrides: dict[dt.date, bool] = field(default_factory=dict)
    confirmed_years: frozenset[int] = frozenset()

    @classmethod
    def load(cls) -> WorkingCalendar:
        from core.models import CalendarYear, WorkingDayOverride

        return cls(
            overrides=dict(WorkingDayOverride.objects.values_list("date", "is_working_day")),
            confirmed_years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
        )

    def _check_year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        official = _official(year)
        if official is not None:
            return official
        if year in self.confirmed_years:
            return frozenset(), frozenset()
        raise CalendarUnavailable(
            f"{year} 年的法定节假日安排尚未公布或未录入，无法计算工作日；请在“工作日调整”中录入该年安排并确认年份。",
            extra={"year": year},
        )

    def is_working_day(self, day: dt.date) -> bool:
        days_off, workdays = self._check_year(day.year)
        if day in self.overrides:
            return self.overrides[day]
        if day in workdays:
            return True
        if day in days_off:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The date `n` working days after `start` (n = 0: start itself if a working day, else the next one).

        Counting starts the day after `start`, as a statutory period "within N working days" of an act does.
        Negative `n` counts backwards.
        """
        step = 1 if n >= 0 else -1
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
            return day
        remaining = abs(n)
        while remaining:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def add_working_days(start: dt.date, n: int) -> dt.date:
    return WorkingCalendar.load().add_working_days(start, n)


def is_working_day(day: dt.date) -> bool:
    return WorkingCalendar.load().is_working_day(day)


def working_days_between(start: dt.date, end: dt.date) -> int:
    return WorkingCalendar.load().working_days_between(start, end)
