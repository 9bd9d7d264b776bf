"""What the dashboard shows, as plain data (the page renders it; the live feed sends it).

- ``arrivals``: the latest accepted badge scans of today in the user's units;
- ``unit_rows``: each unit's figures so far today (``attendance.reports.compile_daily``);
- ``stations``: each station online, silent (not seen for more than ``SILENT_AFTER`` during
  its unit's working hours), or off hours;
- ``history``: the last ``HISTORY_DAYS`` days before today, from one ``evaluate_range`` over
  the range and scope, kept for the rest of the request;
- ``day_off``: why today is not a working day for any of the user's units (a holiday's
  name, or a weekly rest day), or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, g, url_for
from sqlalchemy import select

from attendance.calendar import WorkCalendar
from attendance.evaluation import OrgTree, UnitRow, evaluate_range
from attendance.org import org_tree
from attendance.models import Employee, Scan, Station, Unit
from attendance.reports import UnitMonth, compile_daily, in_progress_as_of
from web.db import domain_config, get_db, now
from web.format import datetime_vn
from web.security import visible_units

SILENT_AFTER = timedelta(minutes=10)
HISTORY_DAYS = 30
ARRIVALS = 12


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), domain_config().tz)


def arrivals(day: date, limit: int = ARRIVALS) -> list[dict]:
    """The last ``limit`` accepted scans of ``day``, newest first."""
    visible = visible_units()
    start = _day_start(day)
    query = (
        select(Scan.id, Scan.scanned_at, Scan.evidence_path, Employee.code,
               Employee.full_name, Unit.name.label("unit_name"), Station.code.label("station"))
        .join(Employee, Employee.id == Scan.employee_id)
        .join(Unit, Unit.id == Employee.unit_id)
        .outerjoin(Station, Station.id == Scan.station_id)
        .where(Scan.counted(), Scan.scanned_at >= start,
               Scan.scanned_at < start + timedelta(days=1), Scan.scanned_at <= now())
        .order_by(Scan.scanned_at.desc(), Scan.id.desc())
        .limit(limit)
    )
    if visible is not None:
        query = query.where(Employee.unit_id.in_(sorted(visible)))
    photos = "entrance.scan_photo" in current_app.view_functions
    tz = domain_config().tz
    return [{
        "time": r.scanned_at.astimezone(tz).strftime("%H:%M:%S"),
        "employee": r.code,
        "full_name": r.full_name,
        "unit": r.unit_name,
        "station": r.station or "",
        "photo": url_for("entrance.scan_photo", scan_id=r.id)
        if photos and r.evidence_path else None,
    } for r in get_db().execute(query)]


def unit_rows(day: date) -> tuple[list[dict], dict]:
    """Each unit's figures so far on ``day`` (worst badge compliance first), and the totals."""
    config = domain_config()
    report = compile_daily(get_db(), config, day, unit_ids=visible_units(),
                           as_of=in_progress_as_of(config, day, now()))

    def figures(f) -> dict:
        return {"expected": f.expected, "present": f.present, "late": f.late,
                "no_badge": f.no_badge, "badge_compliance": f.badge_compliance,
                "punctuality": f.punctuality}

    rows = [{"unit": u.unit.code, "name": u.unit.name, **figures(u.figures)}
            for u in report.units]
    return rows, figures(report.totals)


@dataclass(frozen=True)
class DayOff:
    holiday: str | None  # the holiday's name (``_()`` shows it in English); None on a rest day


def day_off(day: date) -> DayOff | None:
    """None when at least one of the user's units works on ``day`` (schedules differ in
    their weekdays; holidays and the deployment's own days apply to all of them)."""
    config = domain_config()
    tree = org_tree(get_db())
    visible = visible_units()
    unit_ids = tree.units if visible is None else visible
    names = {tree.schedule_of(unit_id) for unit_id in unit_ids} or set(config.schedules)
    calendar = WorkCalendar(config)
    if any(calendar.is_working_day(day, config.schedule(name)) for name in names):
        return None
    return DayOff(calendar.holiday_name(day))


@dataclass
class StationState:
    code: str
    name: str | None
    unit: str
    last_seen_at: datetime | None
    status: str  # online | silent | off_hours

    def as_json(self) -> dict:
        tz = domain_config().tz
        return {"code": self.code, "name": self.name, "unit": self.unit,
                "last_seen_at": self.last_seen_at.astimezone(tz).isoformat(timespec="seconds")
                if self.last_seen_at else None,
                "last_seen_text": datetime_vn(self.last_seen_at), "status": self.status}


def _working_hours(tree: OrgTree, calendar: WorkCalendar, unit_id: int, day: date,
                   cache: dict) -> tuple[datetime, datetime] | None:
    """From the check-in opening to the end of the last session, if ``day`` is worked."""
    name = tree.schedule_of(unit_id)
    if name not in cache:
        schedule = domain_config().schedule(name)
        hours = None
        if calendar.is_working_day(day, schedule):
            timetable = calendar.timetable(day, schedule)
            hours = (timetable.start - timedelta(minutes=schedule.checkin_opens_minutes),
                     timetable.end)
        cache[name] = hours
    return cache[name]


def stations(day: date) -> list[StationState]:
    """Active stations of the user's units: silent ones first, then by code."""
    visible = visible_units()
    query = select(Station).where(Station.active.is_(True))
    if visible is not None:
        query = query.where(Station.unit_id.in_(sorted(visible)))
    db = get_db()
    tree = org_tree(db)
    calendar = WorkCalendar(domain_config())
    moment = now()
    cache: dict = {}
    out = []
    for station in db.scalars(query):
        seen = station.last_seen_at
        if seen is not None and moment - seen <= SILENT_AFTER:
            status = "online"
        else:
            hours = _working_hours(tree, calendar, station.unit_id, day, cache)
            working = hours is not None and hours[0] <= moment <= hours[1]
            status = "silent" if working else "off_hours"
        out.append(StationState(station.code, station.name, tree.units[station.unit_id].name,
                                seen, status))
    order = {"silent": 0, "online": 1, "off_hours": 2}
    return sorted(out, key=lambda s: (order[s.status], s.code))


@dataclass
class History:
    days: list[tuple[date, UnitMonth]]  # working days with someone expected, oldest first
    units: list[UnitMonth]              # units with someone present, worst compliance first


def history(day: date, length: int = HISTORY_DAYS) -> History:
    """The ``length`` days before ``day``: one evaluation of the range, once per request."""
    key = (day, length)
    cached = g.get("dashboard_history")
    if cached is not None and cached[0] == key:
        return cached[1]
    db = get_db()
    tree = org_tree(db)
    first, last = day - timedelta(days=length), day - timedelta(days=1)
    selected = tree.select(None, visible_units())
    per_day: dict[date, UnitMonth] = {}
    per_unit: dict[int, UnitMonth] = {}
    everyone = UnitRow(0, "", "", None, None)
    for employee, when, result in evaluate_range(db, domain_config(), first, last, tree=tree,
                                                 unit_ids=selected):
        if not result.working:
            continue
        day_total = per_day.get(when)
        if day_total is None:
            day_total = per_day[when] = UnitMonth(everyone)
        day_total.add(result)
        unit_total = per_unit.get(employee.unit_id)
        if unit_total is None:
            unit_total = per_unit[employee.unit_id] = UnitMonth(tree.units[employee.unit_id])
        unit_total.add(result)
    result = History(
        days=sorted(((d, t) for d, t in per_day.items() if t.expected), key=lambda i: i[0]),
        units=sorted((u for u in per_unit.values() if u.present),
                     key=lambda u: (u.badge_compliance, u.unit.code)),
    )
    g.dashboard_history = (key, result)
    return result
