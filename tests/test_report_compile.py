"""Compiling many days at once gives what each day gives alone: the demo province (both
check-in modes, guards' and spot checks' records, excuses) over four weeks, plus scans on
the edges of local days."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from attendance.config import load_config
from attendance.demo import load_demo
from attendance.evaluation import OrgTree, days, evaluate_range, gc_paused, load_employees
from attendance.models import Employee, Scan
from attendance.models.chain import append
from attendance.names import name_sort_key
from attendance.reports import (
    EmployeeMonth, MonthlyReport, UnitMonth, compile_daily, compile_monthly, daily_json,
    monthly_json, rank_units,
)

EXAMPLE = Path(__file__).parent.parent / "config" / "example-province.toml"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Wednesday, 10:00 in Việt Nam
TODAY = date(2026, 11, 25)
FIRST = date(2026, 10, 26)  # the demo's four weeks start on Monday 27 October


@pytest.fixture
def province(db_session):
    config = load_config(EXAMPLE)
    load_demo(db_session, config, today=TODAY, now=NOW, badges=False)
    # Someone in day mode who came in on Friday 20 November, and two scans of theirs a
    # minute apart (not repeats): the last minute of Friday, local time, which is Friday's
    # check-out, and midnight, Saturday's, which counts for nothing (but would be Friday's
    # check-out if it were taken for Friday's).
    late_evening = datetime(2026, 11, 20, 23, 59, tzinfo=config.tz)
    midnight = datetime(2026, 11, 21, tzinfo=config.tz)
    tree = OrgTree(db_session)
    day_mode = {e.id for e in load_employees(db_session, tree, set(tree.units), TODAY, TODAY)
                if config.schedule(e.schedule).checkin_mode == "day"}
    arrived = db_session.scalars(select(Scan.employee_id).where(
        Scan.scanned_at >= midnight - timedelta(hours=17),
        Scan.scanned_at < midnight - timedelta(hours=15)).order_by(Scan.id))
    employee = db_session.get(Employee, next(e for e in arrived if e in day_mode))
    for index, instant in enumerate((midnight, late_evening)):
        append(db_session, Scan(source="import:test", event_id=f"edge{index}",
                                employee_id=employee.id, status="accepted",
                                scanned_at=instant, station_time=instant, received_at=NOW,
                                flags=""), "scan:test")
    # Left unflushed: the reports must see what the session holds, as its queries would.
    return db_session, config, employee.code, late_evening


def test_a_range_gives_each_day_what_the_day_alone_gives(province):
    session, config, edge_employee, late_evening = province
    whole = {(e.code, day): result
             for e, day, result in evaluate_range(session, config, FIRST, TODAY, as_of=NOW)}
    alone = {(e.code, day): result
             for day in days(FIRST, TODAY)
             for e, _, result in evaluate_range(session, config, day, day, as_of=NOW)}
    # A range also holds the days outside someone's employment, as days off.
    assert {key: r for key, r in whole.items() if r.working} == \
        {key: r for key, r in alone.items() if r.working}
    assert whole[(edge_employee, late_evening.date())].check_out == late_evening
    kinds = {f.kind for result in whole.values() for f in result.findings}
    assert kinds == {"late", "early_leave", "missing_checkout", "no_badge", "absent_from_post",
                     "absent", "missed_session"}
    assert any(r.in_progress for (_, day), r in whole.items() if day == TODAY)


def test_the_month_is_the_sum_of_its_daily_reports(province):
    session, config, _, _ = province
    units: dict[int, UnitMonth] = {}
    people: dict[int, EmployeeMonth] = {}
    for day in days(date(2026, 11, 1), TODAY):
        for unit_day in compile_daily(session, config, day).units:
            unit = units.setdefault(unit_day.unit.id, UnitMonth(unit_day.unit))
            for entry in unit_day.employees:
                person = people.get(entry.employee.id)
                if person is None:
                    person = people[entry.employee.id] = EmployeeMonth(entry.employee)
                    unit.employees.append(person)
                person.add(entry.result)
                unit.add(entry.result)
    for unit in units.values():
        unit.employees.sort(key=lambda p: (name_sort_key(p.employee.full_name), p.employee.code))
    summed = MonthlyReport(date(2026, 11, 1), TODAY, rank_units(units.values()), config.timezone)

    compiled = compile_monthly(session, config, "2026-11", through=TODAY)
    assert monthly_json(compiled) == monthly_json(summed)
    assert sum(p.late_days for u in compiled.units for p in u.employees) > 0


def test_a_daily_report_compiles_the_same_twice_and_leaves_the_collector_on(province):
    session, config, _, _ = province
    first = daily_json(compile_daily(session, config, TODAY, as_of=NOW))
    assert gc.isenabled()
    assert daily_json(compile_daily(session, config, TODAY, as_of=NOW)) == first
    assert first["as_of"] and first["totals"]["expected"] > 300


def test_the_collector_resumes_after_an_error_and_after_nested_pauses():
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
