"""Daily reports: each unit's figures and lists, as data (no templates here).

``compile_daily`` gives the full picture (every employee's result, excused findings
included) for pages and exports; ``daily_json`` shapes it as the machine-readable report of
RULES.md, and ``daily_report`` does both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from attendance.config import Config
from attendance.evaluation import EmployeeRow, OrgTree, UnitRow, evaluate_range
from attendance.rules import (
    ABSENT, ABSENT_FROM_POST, EARLY_LEAVE, LATE, MISSED_SESSION, MISSING_CHECKOUT, NO_BADGE,
    DayResult, UnitFigures, unit_figures,
)


@dataclass
class EmployeeDay:
    employee: EmployeeRow
    result: DayResult
    session_mode: bool


@dataclass
class UnitDay:
    unit: UnitRow
    employees: list[EmployeeDay] = field(default_factory=list)

    @property
    def figures(self) -> UnitFigures:
        return unit_figures(e.result for e in self.employees)


@dataclass
class DailyReport:
    day: date
    units: list[UnitDay]
    tz_name: str

    @property
    def totals(self) -> UnitFigures:
        return unit_figures(e.result for u in self.units for e in u.employees)


def _order_key(unit_day: UnitDay):
    compliance = unit_day.figures.badge_compliance
    below_target = compliance is not None and compliance < 1
    return (not below_target, compliance if below_target else 0, unit_day.unit.code)


def order_units(units: Iterable[UnitDay]) -> list[UnitDay]:
    """Units below the badge target (100%) first, worst first; then the rest by code."""
    return sorted(units, key=_order_key)


def compile_daily(session: Session, config: Config, day: date, unit_code: str | None = None, *,
                  unit_ids: Iterable[int] | None = None) -> DailyReport:
    """The daily report of ``unit_code`` and its sub-units (or of every unit).

    ``unit_ids`` limits the report to the units a user may see. Raises ``LookupError`` for
    an unknown unit code.
    """
    tree = OrgTree(session)
    selected = tree.select(unit_code, unit_ids)
    by_unit: dict[int, UnitDay] = {}
    for employee, _, result in evaluate_range(session, config, day, day, tree=tree,
                                              unit_ids=selected):
        unit_day = by_unit.get(employee.unit_id)
        if unit_day is None:
            unit_day = by_unit[employee.unit_id] = UnitDay(tree.units[employee.unit_id])
        session_mode = config.schedule(employee.schedule).checkin_mode == "session"
        unit_day.employees.append(EmployeeDay(employee, result, session_mode))
    for unit_day in by_unit.values():
        unit_day.employees.sort(key=lambda e: e.employee.code)
    return DailyReport(day, order_units(by_unit.values()), config.timezone)


def local_iso(instant: datetime, config_tz) -> str:
    return instant.astimezone(config_tz).isoformat(timespec="seconds")


def unit_json(unit_day: UnitDay, tz) -> dict:
    lists: dict[str, list] = {name: [] for name in (
        LATE, EARLY_LEAVE, MISSING_CHECKOUT, NO_BADGE, ABSENT_FROM_POST, ABSENT, MISSED_SESSION)}
    excused: list[str] = []
    for entry in unit_day.employees:
        code, result = entry.employee.code, entry.result
        if not result.working:
            continue
        if result.excused is not None:
            excused.append(code)
            continue
        with_session = (lambda item, f: {**item, "session": f.session}) if entry.session_mode \
            else (lambda item, f: item)
        no_badge_sources: list[str] = []
        for f in result.open_findings():
            if f.kind == LATE:
                lists[LATE].append(with_session(
                    {"employee": code, "check_in": local_iso(f.at, tz), "minutes": f.minutes}, f))
            elif f.kind == EARLY_LEAVE:
                lists[EARLY_LEAVE].append(with_session(
                    {"employee": code, "check_out": local_iso(f.at, tz), "minutes": f.minutes}, f))
            elif f.kind in (MISSING_CHECKOUT, MISSED_SESSION):
                lists[f.kind].append(with_session({"employee": code}, f) if entry.session_mode
                                     else code)
            elif f.kind == NO_BADGE:
                if f.source not in no_badge_sources:
                    no_badge_sources.append(f.source)
                    lists[NO_BADGE].append({"employee": code, "source": f.source})
            elif f.kind == ABSENT_FROM_POST:
                lists[ABSENT_FROM_POST].append({"employee": code, "at": local_iso(f.at, tz)})
            elif f.kind == ABSENT:
                lists[ABSENT].append(code)
    figures = unit_day.figures
    return {
        "unit": unit_day.unit.code,
        "name": unit_day.unit.name,
        "expected": figures.expected,
        "present": figures.present,
        **lists,
        "excused": excused,
        "badge_compliance": figures.badge_compliance,
        "punctuality": figures.punctuality,
    }


def daily_json(report: DailyReport) -> dict:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(report.tz_name)
    totals = report.totals
    return {
        "date": report.day.isoformat(),
        "units": [unit_json(u, tz) for u in report.units],
        "totals": {"expected": totals.expected, "present": totals.present,
                   "badge_compliance": totals.badge_compliance,
                   "punctuality": totals.punctuality},
    }


def daily_report(session: Session, config: Config, day: date, unit_code: str | None = None, *,
                 unit_ids: Iterable[int] | None = None) -> dict:
    """The machine-readable daily report of RULES.md."""
    return daily_json(compile_daily(session, config, day, unit_code, unit_ids=unit_ids))
