"""Working days and timetables: national holidays, swapped days, local closures, sessions.

National holidays and the Ministry's swapped working Saturdays (ngày làm bù) come from the
``holidays`` library; the deployment adds its own closures (``extra_holidays``) and worked
days (``extra_workdays``) in the config file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import holidays

from attendance.config import Config, Schedule
from attendance.messages import Message, Translated

# The years a report or a query may name: at the ends of the calendar (year 1, year 9999) a
# day overflows when it is turned into instants in the deployment's timezone.
YEARS = range(1900, 9999)


@dataclass(frozen=True)
class Timetable:
    """The sessions of one schedule on one date, as aware local datetimes."""

    day: date
    sessions: tuple[tuple[datetime, datetime], ...]

    @property
    def start(self) -> datetime:
        return self.sessions[0][0]

    @property
    def end(self) -> datetime:
        return self.sessions[-1][1]


class WorkCalendar:
    def __init__(self, config: Config):
        self.config = config
        self._extra_holidays = frozenset(config.extra_holidays)
        self._extra_workdays = frozenset(config.extra_workdays)

    @lru_cache(maxsize=64)
    def _national(self, year: int, language: str = "vi") -> holidays.HolidayBase:
        return holidays.country_holidays(self.config.holidays_country, years=year,
                                         language=language)

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday on ``day`` (national or local), in Vietnamese, as text the
        web can translate (``attendance.messages``): a national holiday's brings its English
        name from the library."""
        if day in self._extra_holidays:
            return Message("Ngày nghỉ của địa phương")
        name = self._national(day.year).get(day)
        if name is None:
            return None
        return Translated(name, en=self._national(day.year, "en_US").get(day, name))

    def is_swapped_workday(self, day: date) -> bool:
        """A compensatory working day (ngày làm bù), national or the deployment's own."""
        return day in self._extra_workdays or day in self._national(day.year).weekend_workdays

    def is_working_day(self, day: date, schedule: Schedule) -> bool:
        if day in self._extra_holidays:
            return False
        if self.is_swapped_workday(day):
            return True
        return day.weekday() in schedule.weekday_numbers() and day not in self._national(day.year)

    def timetable(self, day: date, schedule: Schedule) -> Timetable:
        tz = self.config.tz
        period = schedule.period_on(day)
        return Timetable(
            day=day,
            sessions=tuple(
                (datetime.combine(day, s.start, tz), datetime.combine(day, s.end, tz))
                for s in period.sessions
            ),
        )

    def year(self, year: int, schedule: Schedule) -> list[tuple[date, bool, str | None]]:
        """Every date of ``year`` with whether it is worked and why not (or why it is)."""
        day, out = date(year, 1, 1), []
        while day.year == year:
            working = self.is_working_day(day, schedule)
            note = self.holiday_name(day)
            if working and self.is_swapped_workday(day) and day.weekday() >= 5:
                note = "Ngày làm bù"
            out.append((day, working, note))
            day = date.fromordinal(day.toordinal() + 1)
        return out
