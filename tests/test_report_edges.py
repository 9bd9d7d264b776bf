"""Calendar and stored-evidence edge cases through the reports, values worked out by hand
from RULES.md (rules audit): holidays on weekends, the deployment's own days, revoked
badges, midnight, staff who start or leave in the middle of a month."""

from __future__ import annotations

from datetime import date

from attendance.models import Scan
from attendance.models.chain import append
from attendance.reports import compile_monthly, daily_report, repeat_offenders
from report_factories import working_days
from test_daily_report import NOW, World, by_unit, local


def test_a_holiday_on_a_sunday_gives_the_monday_off(db_session, config):
    """Giỗ Tổ Hùng Vương fell on Sunday 26/4/2026 and Quốc tế Lao động on Saturday 1/5/2027:
    the next Mondays (27/4/2026, 3/5/2027) are days off (Labour Code art. 112), nobody is
    expected; the Tuesday after is an ordinary working day."""
    w = World(db_session)
    w.employee("E001", w.unit("SNV", "Sở Nội vụ"))
    db_session.commit()
    for day, expected in ((date(2026, 4, 26), 0), (date(2026, 4, 27), 0),
                          (date(2026, 4, 28), 1), (date(2027, 5, 3), 0), (date(2027, 5, 4), 1)):
        unit = by_unit(daily_report(db_session, config, day))["SNV"]
        assert (unit["expected"], unit["absent"]) == (expected, ["E001"] * expected), day


def test_the_deployment_s_own_days(db_session, config):
    """extra_workdays open Saturday 17/10/2026 (winter timetable: 07:34 is on time) and
    Quốc khánh 2/9/2026 (summer timetable: 07:06 is 6 minutes late); extra_holidays close
    the national swapped Saturday 22/8/2026 ("it is not a day the deployment's own calendar
    closes" must hold as well)."""
    w = World(db_session)
    e1 = w.employee("E001", w.unit("SNV", "Sở Nội vụ"))
    for day, arrival in ((date(2026, 10, 17), "07:34"), (date(2026, 9, 2), "07:06")):
        w.scan(e1, local(day, arrival))
        w.scan(e1, local(day, "17:00"))
    db_session.commit()
    local_config = config.model_copy(update={
        "extra_workdays": [date(2026, 10, 17), date(2026, 9, 2)],
        "extra_holidays": [date(2026, 8, 22)]})
    saturday = by_unit(daily_report(db_session, local_config, date(2026, 10, 17)))["SNV"]
    assert (saturday["expected"], saturday["present"], saturday["late"]) == (1, 1, [])
    holiday = by_unit(daily_report(db_session, local_config, date(2026, 9, 2)))["SNV"]
    assert holiday["expected"] == 1
    assert holiday["late"] == [
        {"employee": "E001", "check_in": "2026-09-02T07:06:00+07:00", "minutes": 6}]
    closed = by_unit(daily_report(db_session, local_config, date(2026, 8, 22)))["SNV"]
    assert (closed["expected"], closed["absent"]) == (0, [])


def test_a_revoked_badge_scanned_is_no_presence(db_session, config):
    """A scan of a revoked badge is kept as a rejected attempt under the employee, but
    "never counts as presence": the day is absent."""
    w = World(db_session)
    e1 = w.employee("E001", w.unit("SNV", "Sở Nội vụ"))
    day = date(2026, 11, 23)
    for n, hms in enumerate(("07:20", "16:35")):
        instant = local(day, hms)
        append(db_session, Scan(source="station:CONG1", event_id=f"r{n}", employee_id=e1.id,
                                status="rejected", reason="revoked", scanned_at=instant,
                                station_time=instant, received_at=NOW, flags=""), "scan:CONG1")
    db_session.commit()
    unit = by_unit(daily_report(db_session, config, day))["SNV"]
    assert (unit["expected"], unit["present"], unit["absent"]) == (1, 0, ["E001"])
    assert unit["badge_compliance"] is None and unit["punctuality"] is None


def test_scans_around_midnight_belong_to_their_local_date(db_session, config):
    """Local dates decide. E001: 07:20 and 23:59:59 on Monday 23/11 (the check-out: nothing
    to find); 00:00:00 on Wednesday 25/11 is before that day's opening point and counts for
    nothing (absent). E002: in at 07:20 on Thursday 26/11, out at 00:00:00 on Friday 27/11,
    which is Friday's: Thursday has no check-out; Friday 07:25-16:35 is fine. Read once
    day by day and once as a month (a range of days)."""
    w = World(db_session)
    unit = w.unit("SNV", "Sở Nội vụ")
    e1, e2 = w.employee("E001", unit), w.employee("E002", unit)
    w.scan(e1, local(date(2026, 11, 23), "07:20"))
    w.scan(e1, local(date(2026, 11, 23), "23:59:59"))
    w.scan(e1, local(date(2026, 11, 25), "00:00:00"))
    w.scan(e2, local(date(2026, 11, 26), "07:20"))
    w.scan(e2, local(date(2026, 11, 27), "00:00:00"))
    w.scan(e2, local(date(2026, 11, 27), "07:25"))
    w.scan(e2, local(date(2026, 11, 27), "16:35"))
    db_session.commit()

    def day(d: int) -> dict:
        return by_unit(daily_report(db_session, config, date(2026, 11, d)))["SNV"]

    monday = day(23)
    assert "E001" not in monday["absent"] and monday["early_leave"] == []
    assert monday["missing_checkout"] == []
    assert "E001" in day(25)["absent"]
    assert day(26)["missing_checkout"] == ["E002"]
    friday = day(27)
    assert friday["missing_checkout"] == [] and friday["late"] == [] and "E002" not in (
        friday["absent"])

    report = compile_monthly(db_session, config, "2026-11", through=date(2026, 11, 27))
    people = {p.employee.code: p for u in report.units for p in u.employees}
    # 19 working days to 27/11: E002 present on two of them, E001 on one.
    assert (people["E002"].present_days, people["E002"].missing_checkouts,
            people["E002"].absences) == (2, 1, 17)
    assert (people["E001"].present_days, people["E001"].absences) == (1, 18)


def test_staff_who_start_or_leave_in_the_middle_of_a_month(db_session, config):
    """November 2026 has 20 working days (24/11 is a holiday). E001 starts on Sunday 15/11
    and never scans: 10 working days (16-30/11 less 24/11), 10 absences, a repeat offender.
    E002 leaves on Friday 13/11, on time every day until then: 10 working days. E003
    is there all month, on time: 20. The unit: 40 expected, 30 present, 10 absences."""
    w = World(db_session)
    unit = w.unit("SNV", "Sở Nội vụ")
    w.employee("E001", unit, start_date=date(2026, 11, 15))
    e2 = w.employee("E002", unit, end_date=date(2026, 11, 13))
    e3 = w.employee("E003", unit)
    for day in working_days(date(2026, 11, 1), date(2026, 11, 30)):
        if day == date(2026, 11, 24):
            continue
        for person in (e2, e3):
            w.scan(person, local(day, "07:25"))
            w.scan(person, local(day, "16:35"))
    db_session.commit()
    report = compile_monthly(db_session, config, "2026-11")
    [snv] = report.units
    people = {p.employee.code: p for p in snv.employees}
    assert {code: (p.working_days, p.expected_days, p.present_days, p.absences)
            for code, p in people.items()} == {
        "E001": (10, 10, 0, 10), "E002": (10, 10, 10, 0), "E003": (20, 20, 20, 0)}
    assert (snv.expected, snv.present, snv.absences) == (40, 30, 10)
    assert snv.absence_rate == 10 / 40 and snv.badge_compliance == 1.0
    offenders = repeat_offenders(db_session, config, "2026-11")
    assert [(o.month.employee.code, o.reasons) for o in offenders] == [("E001", ["absent"])]
    # The daily report of her first Monday expects her; the Friday before does not.
    assert by_unit(daily_report(db_session, config, date(2026, 11, 13)))["SNV"]["absent"] == []
    assert by_unit(daily_report(db_session, config, date(2026, 11, 16)))["SNV"]["absent"] == [
        "E001"]
