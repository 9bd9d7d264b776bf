"""The schedules of the deployment and the effective working calendar of one year.

Shows a schedule's settings (check-in mode, grace minutes, periods and sessions) and every
month of the year, marking working days, weekly rest days, national holidays (with their
Vietnamese names), swapped working days (ngày làm bù) and the deployment's own extra
holidays and workdays, as ``attendance.calendar.WorkCalendar`` decides them. Each kind has
a colour and a letter, explained by a legend.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from dataclasses import dataclass
from datetime import date

from flask import abort, render_template, request

from attendance.calendar import WorkCalendar
from web.admin import bp
from web.db import domain_config, now
from web.security import roles_required

MODES = {"day": "Chấm công theo ngày (đến, về)", "session": "Chấm công theo buổi"}
WEEKDAY_LABELS = {"mon": "Thứ Hai", "tue": "Thứ Ba", "wed": "Thứ Tư", "thu": "Thứ Năm",
                  "fri": "Thứ Sáu", "sat": "Thứ Bảy", "sun": "Chủ nhật"}
MONTH_LABEL = "Tháng {month}"
SWAPPED = "Ngày làm bù"
EXTRA_WORKDAY = "Ngày làm việc bổ sung của địa phương"


@dataclass(frozen=True)
class Look:
    """How a kind of day is shown: a colour (the CSS class ``cal-<name>``), a letter and a
    label, so that the month grid never tells days apart by colour alone."""

    name: str
    letter: str
    label: str


HOLIDAY = Look("holiday", "L", "Ngày lễ, Tết, ngày nghỉ bù")
LOCAL = Look("local", "Đ", "Ngày nghỉ riêng của địa phương")
WORKED = Look("worked", "B", "Ngày làm bù, ngày làm việc bổ sung")
REST = Look("rest", "", "Ngày nghỉ hằng tuần")
LEGEND = (HOLIDAY, LOCAL, WORKED, REST)
LOOKS = {"holiday": HOLIDAY, "extra_holiday": LOCAL, "swapped": WORKED,
         "extra_workday": WORKED, "rest": REST}


@dataclass(frozen=True)
class Day:
    day: date
    kind: str  # working | rest | holiday | swapped | extra_holiday | extra_workday
    note: str | None

    @property
    def look(self) -> Look | None:
        """None for an ordinary working day."""
        return LOOKS.get(self.kind)


def classify(work: WorkCalendar, year: int, schedule) -> list[Day]:
    config = work.config
    extra_holidays, extra_workdays = set(config.extra_holidays), set(config.extra_workdays)
    out = []
    for day, working, note in work.year(year, schedule):
        if day in extra_holidays:
            kind = "extra_holiday"
        elif working and day in extra_workdays:
            kind, note = "extra_workday", (SWAPPED if day.weekday() >= 5 else EXTRA_WORKDAY)
        elif working and note == SWAPPED:
            kind = "swapped"
        elif working:
            kind, note = "working", None
        elif note:
            kind = "holiday"
        else:
            kind = "rest"
        out.append(Day(day, kind, note))
    return out


@bp.route("/calendar")
@roles_required("admin")
def calendar():
    config = domain_config()
    year = request.args.get("year", type=int) or now().astimezone(config.tz).year
    if not 1970 <= year <= 2200:
        abort(400)
    name = request.args.get("schedule") or next(iter(config.schedules))
    schedule = config.schedules.get(name)
    if schedule is None:
        abort(404)
    days = classify(WorkCalendar(config), year, schedule)
    by_date = {d.day: d for d in days}
    months = []
    for month in range(1, 13):
        weeks = [[by_date.get(day) if day.month == month else None for day in week]
                 for week in stdlib_calendar.Calendar().monthdatescalendar(year, month)]
        working = sum(1 for d in days if d.day.month == month and d.kind in
                      ("working", "swapped", "extra_workday"))
        months.append((month, weeks, working))
    special = [d for d in days if d.kind not in ("working", "rest")]
    return render_template(
        "admin/calendar.html", year=year, name=name, schedule=schedule,
        schedules=config.schedules, months=months, special=special,
        working_total=sum(m[2] for m in months), modes=MODES, weekday_labels=WEEKDAY_LABELS,
        legend=LEGEND,
        extra_holidays=config.extra_holidays, extra_workdays=config.extra_workdays,
    )
