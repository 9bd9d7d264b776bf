"""Load employees' days from the database and run the rules on them.

``evaluate_range`` is the one place where stored evidence (scans, no-badge records,
spot-check findings, excuses) becomes ``rules.evaluate_day`` input; daily and monthly
reports and the violation log all stand on it. Queries select plain columns, not ORM
objects, so that a province of 100,000 employees compiles in seconds.
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session, aliased

from attendance.calendar import WorkCalendar
from attendance.config import Config
from attendance.models import (
    Employee, Excuse, ExcuseDecision, NoBadgeRecord, Scan, SpotCheckFinding, Unit,
)
from attendance.rules import (
    AWAY, GUARD, PRESENT, SPOT_CHECK, WITHOUT_BADGE, DayResult, ExcuseRef, Mark, Policy,
    evaluate_day,
)

SPOT_KINDS = {"present_with_badge": PRESENT, "present_without_badge": WITHOUT_BADGE,
              "absent_from_post": AWAY}


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    code: str
    name: str
    parent_id: int | None
    schedule: str | None


@dataclass(frozen=True, slots=True)
class EmployeeRow:
    id: int
    code: str
    full_name: str
    unit_id: int
    position: str | None
    category: str
    schedule: str  # resolved: own, else the nearest unit's, else "default"
    start_date: date | None
    end_date: date | None

    def active_on(self, day: date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or day <= self.end_date)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report builds its many objects.

    Each full collection walks every object in the process again; compiling 100,000
    employees triggers several and spent a sixth of its time in them. Reports make no
    reference cycles worth collecting early. The collector resumes at the end; a report
    that starts while another has paused it leaves the switch to that one.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _rows(session: Session, query) -> Iterator[Row]:
    """Rows of a column query, through the session's connection without the ORM's per-row
    work and fetched many at a time (the session's pending changes are flushed first, as
    ``session.execute`` would)."""
    if session.autoflush:
        session.flush()
    for rows in session.connection().execute(query).partitions(10_000):
        yield from rows


class OrgTree:
    """All units, with subtree lookups and schedule inheritance."""

    def __init__(self, session: Session):
        rows = _rows(session, select(Unit.id, Unit.code, Unit.name, Unit.parent_id, Unit.schedule))
        self.units = {r.id: UnitRow(*r) for r in rows}
        self.by_code = {u.code: u for u in self.units.values()}
        self.children: dict[int | None, list[int]] = defaultdict(list)
        for unit in self.units.values():
            self.children[unit.parent_id].append(unit.id)

    def subtree(self, unit_id: int) -> list[int]:
        out, stack = [], [unit_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(self.children.get(current, ()))
        return out

    def schedule_of(self, unit_id: int | None) -> str:
        seen = set()
        while unit_id is not None and unit_id not in seen:
            seen.add(unit_id)
            unit = self.units[unit_id]
            if unit.schedule:
                return unit.schedule
            unit_id = unit.parent_id
        return "default"

    def path(self, unit_id: int) -> list[UnitRow]:
        """The unit and its ancestors, root first."""
        out = []
        while unit_id is not None and len(out) <= len(self.units):
            unit = self.units[unit_id]
            out.append(unit)
            unit_id = unit.parent_id
        return out[::-1]

    def select(self, unit_code: str | None = None, allowed: Iterable[int] | None = None) -> set[int]:
        """Unit ids to report on: a unit with its sub-units (or all), within ``allowed``."""
        if unit_code is not None:
            if unit_code not in self.by_code:
                raise LookupError(unit_code)
            ids = set(self.subtree(self.by_code[unit_code].id))
        else:
            ids = set(self.units)
        if allowed is not None:
            ids &= set(allowed)
        return ids


def load_employees(session: Session, tree: OrgTree, unit_ids: set[int], first: date,
                   last: date, employee_codes: Iterable[str] | None = None) -> list[EmployeeRow]:
    query = select(
        Employee.id, Employee.code, Employee.full_name, Employee.unit_id, Employee.position,
        Employee.category, Employee.schedule, Employee.start_date, Employee.end_date,
    ).where(
        (Employee.start_date.is_(None)) | (Employee.start_date <= last),
        (Employee.end_date.is_(None)) | (Employee.end_date >= first),
    )
    if len(unit_ids) < len(tree.units):
        query = query.where(Employee.unit_id.in_(unit_ids))
    if employee_codes is not None:
        query = query.where(Employee.code.in_(list(employee_codes)))
    out = []
    unit_schedules: dict[int, str] = {}
    for (id_, code, full_name, unit_id, position, category, schedule, start_date,
         end_date) in _rows(session, query):
        if not schedule:
            schedule = unit_schedules.get(unit_id)
            if schedule is None:
                schedule = unit_schedules[unit_id] = tree.schedule_of(unit_id)
        out.append(EmployeeRow(id_, code, full_name, unit_id, position, category, schedule,
                               start_date, end_date))
    return out


def local_bounds(config: Config, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants from ``first``'s midnight to the midnight after ``last``."""
    tz = config.tz
    return (datetime.combine(first, time(), tz),
            datetime.combine(last + timedelta(days=1), time(), tz))


def _restrict(query, employee_column, employees: list[EmployeeRow], everyone: bool):
    if everyone:
        return query
    return query.where(employee_column.in_([e.id for e in employees]))


@dataclass
class Evidence:
    scans: dict[tuple[int, date], list[datetime]]
    marks: dict[tuple[int, date], list[Mark]]
    excuses: dict[int, list[tuple[date, date, ExcuseRef]]]


def _local_day(config: Config, first: date, last: date):
    """The local date of a UTC instant of the range: a search among the range's midnights,
    cheaper than a time-zone conversion for each of a million scans."""
    if first == last:
        return lambda _: first
    dates = list(days(first, last))
    midnights = [datetime.combine(day, time(), config.tz).astimezone(timezone.utc)
                 for day in dates]
    return lambda at: dates[bisect_right(midnights, at) - 1]


def load_evidence(session: Session, config: Config, employees: list[EmployeeRow], first: date,
                  last: date, everyone: bool) -> Evidence:
    """Every accepted scan, no-badge record, spot finding and approved excuse in the range."""
    lower, upper = local_bounds(config, first, last)
    local_day = _local_day(config, first, last)
    # With many employees, fetching the whole day and filtering here beats a huge IN list.
    wanted = {e.id for e in employees}
    everyone = everyone or len(employees) > 5000

    scans: dict[tuple[int, date], list[datetime]] = defaultdict(list)
    query = select(Scan.employee_id, Scan.scanned_at).where(
        Scan.counted(), Scan.scanned_at >= lower, Scan.scanned_at < upper)
    for employee_id, at in _rows(session, _restrict(query, Scan.employee_id, employees, everyone)):
        if employee_id in wanted:
            scans[(employee_id, local_day(at))].append(at)

    marks: dict[tuple[int, date], list[Mark]] = defaultdict(list)
    newer = aliased(NoBadgeRecord)
    query = select(NoBadgeRecord.employee_id, NoBadgeRecord.recorded_at).where(
        NoBadgeRecord.recorded_at >= lower, NoBadgeRecord.recorded_at < upper,
        NoBadgeRecord.void.is_(False),
        ~select(newer.id).where(newer.supersedes_id == NoBadgeRecord.id).exists(),
    )
    for employee_id, at in _rows(session, _restrict(query, NoBadgeRecord.employee_id, employees,
                                                    everyone)):
        if employee_id in wanted:
            marks[(employee_id, local_day(at))].append(Mark(at, WITHOUT_BADGE, GUARD))

    newer_finding = aliased(SpotCheckFinding)
    query = select(SpotCheckFinding.employee_id, SpotCheckFinding.found_at,
                   SpotCheckFinding.result).where(
        SpotCheckFinding.found_at >= lower, SpotCheckFinding.found_at < upper,
        ~select(newer_finding.id).where(newer_finding.supersedes_id == SpotCheckFinding.id).exists(),
    )
    for employee_id, at, result in _rows(
            session, _restrict(query, SpotCheckFinding.employee_id, employees, everyone)):
        if employee_id in wanted and result in SPOT_KINDS:
            marks[(employee_id, local_day(at))].append(Mark(at, SPOT_KINDS[result], SPOT_CHECK))

    excuses: dict[int, list[tuple[date, date, ExcuseRef]]] = defaultdict(list)
    latest = (select(func.max(ExcuseDecision.id)).where(ExcuseDecision.excuse_id == Excuse.id)
              .correlate(Excuse).scalar_subquery())
    query = (
        select(Excuse.id, Excuse.employee_id, Excuse.start_date, Excuse.end_date, Excuse.part,
               Excuse.kind, Excuse.note, ExcuseDecision.decided_by, ExcuseDecision.reason)
        .outerjoin(ExcuseDecision, and_(ExcuseDecision.id == latest))
        .where(Excuse.status == "approved", Excuse.start_date <= last, Excuse.end_date >= first)
    )
    for r in _rows(session, _restrict(query, Excuse.employee_id, employees, everyone)):
        if r.employee_id in wanted:
            excuses[r.employee_id].append(
                (r.start_date, r.end_date,
                 ExcuseRef(r.part, r.kind, r.decided_by, r.reason, r.id, r.note)))
    return Evidence(scans, marks, excuses)


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def evaluate_range(session: Session, config: Config, first: date, last: date, *,
                   tree: OrgTree | None = None, unit_ids: set[int] | None = None,
                   employee_codes: Iterable[str] | None = None, as_of: datetime | None = None,
                   ) -> Iterator[tuple[EmployeeRow, date, DayResult]]:
    """Every (employee, date, result) in the range for the selected units.

    ``as_of`` evaluates days not yet over as they stand at that instant.
    """
    tree = tree or OrgTree(session)
    if unit_ids is None:
        unit_ids = set(tree.units)
    employees = load_employees(session, tree, unit_ids, first, last, employee_codes)
    everyone = len(unit_ids) == len(tree.units) and employee_codes is None
    evidence = load_evidence(session, config, employees, first, last, everyone)
    calendar = WorkCalendar(config)
    dates = list(days(first, last))
    # Per schedule, each date's (date, working, timetable, policy).
    plans = {}
    for name in {e.schedule for e in employees}:
        schedule = config.schedule(name)
        policy = Policy.from_schedule(schedule)
        plans[name] = [(day, calendar.is_working_day(day, schedule) and not (
                            config.records_from and day < config.records_from),
                        calendar.timetable(day, schedule), policy) for day in dates]
    empty: list = []
    scans, marks = evidence.scans, evidence.marks
    for employee in employees:
        own_excuses = evidence.excuses.get(employee.id)
        always = employee.start_date is None and employee.end_date is None
        for day, working, timetable, policy in plans[employee.schedule]:
            key = (employee.id, day)
            result = evaluate_day(
                timetable, policy,
                working=working and (always or employee.active_on(day)),
                scans=scans.get(key, empty),
                marks=marks.get(key, empty),
                excuses=[ref for start, end, ref in own_excuses if start <= day <= end]
                if own_excuses else empty,
                as_of=as_of,
            )
            yield employee, day, result
