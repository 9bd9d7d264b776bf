"""The daily report compiled from stored evidence: calendar, time zones, modes, ordering."""

from __future__ import annotations

import io
import tomllib
from datetime import date, datetime, time, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from attendance.config import parse_config
from attendance.exports import daily_xlsx
from attendance.models import Employee, Excuse, ExcuseDecision, NoBadgeRecord, Scan, Unit
from attendance.models.chain import append
from attendance.reports import compile_daily, daily_report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


@pytest.fixture
def two_mode_config():
    data = tomllib.loads((Path(__file__).parent.parent / "config" / "default.toml").read_text())
    data["schedules"]["phuong"] = {
        "checkin_mode": "session",
        "periods": [{"from": "01-01", "to": "12-31", "sessions": ["07:00-11:00", "13:30-17:00"]}],
    }
    return parse_config(data)


def local(day: date, hms: str) -> datetime:
    h, m, *s = (int(x) for x in hms.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s[0] if s else 0, tzinfo=TZ)


class World:
    def __init__(self, session):
        self.session = session
        self.events = 0

    def unit(self, code, name, parent=None, schedule=None):
        unit = Unit(code=code, name=name, parent=parent, schedule=schedule)
        self.session.add(unit)
        self.session.flush()
        return unit

    def employee(self, code, unit, name=None, **kw):
        employee = Employee(code=code, full_name=name or f"Nguyễn Văn {code}", unit=unit, **kw)
        self.session.add(employee)
        self.session.flush()
        return employee

    def scan(self, employee, instant):
        self.events += 1
        append(self.session, Scan(source="import:test", event_id=f"e{self.events}",
                                  employee_id=employee.id, status="accepted", scanned_at=instant,
                                  station_time=instant, received_at=NOW, flags=""),
               "scan:test")

    def no_badge(self, employee, instant):
        append(self.session, NoBadgeRecord(employee_id=employee.id, recorded_at=instant,
                                           source="guard"), "nobadge:test")

    def excuse(self, employee, start, end, part="full"):
        excuse = Excuse(employee=employee, start_date=start, end_date=end, part=part,
                        kind="leave", requested_at=NOW, status="approved")
        self.session.add(excuse)
        self.session.flush()
        append(self.session, ExcuseDecision(excuse_id=excuse.id, decision="approved",
                                            decided_by="head", reason="ok", decided_at=NOW),
               "excuse:test")


def by_unit(report):
    return {u["unit"]: u for u in report["units"]}


def test_a_day_of_two_units(db_session, config):
    w = World(db_session)
    root = w.unit("TINH", "UBND tỉnh")
    snv = w.unit("SNV", "Sở Nội vụ", root)
    stc = w.unit("STC", "Sở Tài chính", root)
    day = date(2026, 11, 23)  # Monday, winter timetable 07:30-12:00, 13:00-16:30
    e1, e2, e3, e4 = (w.employee(c, snv) for c in ("E001", "E002", "E003", "E004"))
    e5 = w.employee("E005", stc)
    w.scan(e1, local(day, "07:42:10"))
    w.scan(e1, local(day, "16:40"))
    w.no_badge(e2, local(day, "07:20"))
    w.scan(e2, local(day, "16:31"))
    w.excuse(e4, day, day)
    w.scan(e5, local(day, "07:10"))
    w.scan(e5, local(day, "16:10"))
    # a scan of the previous evening in local time is not part of this day
    w.scan(e3, local(date(2026, 11, 22), "23:59:59"))
    db_session.commit()

    report = daily_report(db_session, config, day)
    assert report["date"] == "2026-11-23"
    snv_day = by_unit(report)["SNV"]
    assert snv_day["name"] == "Sở Nội vụ"
    assert (snv_day["expected"], snv_day["present"]) == (3, 2)
    assert snv_day["late"] == [
        {"employee": "E001", "check_in": "2026-11-23T07:42:10+07:00", "minutes": 12}]
    assert snv_day["no_badge"] == [{"employee": "E002", "source": "guard"}]
    assert snv_day["absent"] == ["E003"]
    assert snv_day["excused"] == ["E004"]
    assert snv_day["badge_compliance"] == 0.5 and snv_day["punctuality"] == 0.5
    stc_day = by_unit(report)["STC"]
    assert stc_day["early_leave"] == [
        {"employee": "E005", "check_out": "2026-11-23T16:10:00+07:00", "minutes": 20}]
    assert stc_day["badge_compliance"] == 1.0
    # units below the badge target come first
    assert [u["unit"] for u in report["units"]] == ["SNV", "STC"]
    # the report of one unit covers it and its sub-units only
    assert [u["unit"] for u in daily_report(db_session, config, day, "STC")["units"]] == ["STC"]


def test_holidays_and_swapped_saturday(db_session, config):
    w = World(db_session)
    unit = w.unit("SNV", "Sở Nội vụ")
    w.employee("E001", unit)
    db_session.commit()
    for day, expected in [(date(2026, 8, 22), 1),   # swapped working Saturday
                          (date(2026, 8, 31), 0),   # the day off it pays for
                          (date(2026, 9, 2), 0),    # Quốc khánh
                          (date(2026, 2, 17), 0),   # Tết
                          (date(2026, 11, 28), 0)]: # an ordinary Saturday
        unit_day = by_unit(daily_report(db_session, config, day))["SNV"]
        assert unit_day["expected"] == expected, day
        assert unit_day["absent"] == (["E001"] if expected else []), day


def test_no_one_is_expected_before_records_from(db_session, config):
    """Staff who joined years ago are not absent on the days before the deployment's
    go-live (records_from); from that day on, the rules apply."""
    w = World(db_session)
    unit = w.unit("SNV", "Sở Nội vụ")
    w.employee("E001", unit, start_date=date(2015, 3, 1))
    db_session.commit()
    live = config.model_copy(update={"records_from": date(2026, 11, 23)})
    before = by_unit(daily_report(db_session, live, date(2026, 11, 20)))["SNV"]
    assert (before["expected"], before["absent"]) == (0, [])
    from_then = by_unit(daily_report(db_session, live, date(2026, 11, 23)))["SNV"]
    assert (from_then["expected"], from_then["absent"]) == (1, ["E001"])


def test_summer_timetable_and_inactive_employees(db_session, config):
    w = World(db_session)
    unit = w.unit("SNV", "Sở Nội vụ")
    e1 = w.employee("E001", unit)
    w.employee("E002", unit, start_date=date(2026, 6, 2))
    w.employee("E003", unit, end_date=date(2026, 5, 31))
    day = date(2026, 6, 1)  # summer: 07:00-11:30, 13:30-17:00
    w.scan(e1, local(day, "07:05:01"))
    w.scan(e1, local(day, "17:00"))
    db_session.commit()
    unit_day = by_unit(daily_report(db_session, config, day))["SNV"]
    assert unit_day["expected"] == 1
    assert unit_day["late"] == [
        {"employee": "E001", "check_in": "2026-06-01T07:05:01+07:00", "minutes": 5}]


def test_session_mode_unit_inherits_schedule(db_session, two_mode_config):
    w = World(db_session)
    huyen = w.unit("HUYEN", "UBND huyện", schedule="phuong")
    phuong = w.unit("P1", "UBND phường 1", huyen)
    e1 = w.employee("E001", phuong)
    e2 = w.employee("E002", phuong)
    day = date(2026, 11, 23)
    for hms in ("06:55", "11:00", "13:45", "17:05"):
        w.scan(e1, local(day, hms))
    w.scan(e2, local(day, "06:58"))
    w.scan(e2, local(day, "10:30"))
    w.excuse(e2, day, day, part="afternoon")
    db_session.commit()
    unit_day = by_unit(daily_report(db_session, two_mode_config, day))["P1"]
    assert unit_day["late"] == [
        {"employee": "E001", "check_in": "2026-11-23T13:45:00+07:00", "minutes": 15,
         "session": 1}]
    assert unit_day["early_leave"] == [
        {"employee": "E002", "check_out": "2026-11-23T10:30:00+07:00", "minutes": 30,
         "session": 0}]
    assert unit_day["missed_session"] == []  # E002's afternoon is excused
    assert unit_day["missing_checkout"] == []
    assert unit_day["excused"] == []  # a half-day excuse keeps them expected
    assert unit_day["expected"] == 2


def test_unknown_unit(db_session, config):
    with pytest.raises(LookupError):
        daily_report(db_session, config, date(2026, 11, 23), "NOPE")


def test_cli_daily_json(cli, session_factory):
    with session_factory() as session:
        w = World(session)
        unit = w.unit("SNV", "Sở Nội vụ")
        w.scan(w.employee("E001", unit), local(date(2026, 11, 23), "07:50"))
        session.commit()
    result = cli("report", "daily", "--date", "2026-11-23", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"missing_checkout": [\n        "E001"\n      ]' in result.output
    # dd/mm/yyyy, as the pages show dates and imports read them, is the same day.
    assert cli("report", "daily", "--date", "23/11/2026", "--format", "json").output \
        == result.output
    bad = cli("report", "daily", "--date", "31/11/2026")
    assert bad.exit_code == 1 and bad.output.strip() == (
        "Lỗi: --date: ngày không hợp lệ '31/11/2026' (cần dạng dd/mm/yyyy hoặc YYYY-MM-DD, "
        "năm từ 1900 đến 9998)")


@pytest.mark.parametrize("args", [
    ("report", "daily", "--date", "0001-01-01"), ("report", "monthly", "--month", "9999-12"),
    ("violations", "--from", "9999-12-30", "--to", "9999-12-31"),
    ("offenders", "--month", "0001-01"),
])
def test_cli_dates_at_the_ends_of_the_calendar_are_one_line(cli, args):
    result = cli(*args)
    assert result.exit_code == 1
    assert result.output.startswith("Lỗi: ") and "không hợp lệ" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_session_mode_xlsx_gives_each_missing_check_out_its_own_arrival(db_session,
                                                                        two_mode_config):
    """The "Không quét thẻ khi về" sheet's "Giờ đến" is the session's arrival: the morning's
    check-in is not shown as the afternoon's (QA). Where the result cannot tell the
    afternoon's arrival, the cell stays empty."""
    w = World(db_session)
    phuong = w.unit("P1", "UBND phường 1", schedule="phuong")
    both, late, afternoon = (w.employee(code, phuong) for code in ("E001", "E002", "E003"))
    day = date(2026, 11, 23)
    for employee, times in ((both, ("07:01:49", "13:08:08")), (late, ("06:59", "13:50")),
                            (afternoon, ("13:20",))):
        for hms in times:
            w.scan(employee, local(day, hms))
    db_session.commit()
    book = load_workbook(io.BytesIO(daily_xlsx(compile_daily(db_session, two_mode_config,
                                                             day))))
    sheet = book["Không quét thẻ khi về"]
    header = [c.value for c in sheet[1]]
    rows = {(r[header.index("Mã cán bộ")], r[header.index("Buổi")]): r[header.index("Giờ đến")]
            for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows == {
        ("E001", "sáng"): time(7, 1, 49), ("E001", "chiều"): None,
        ("E002", "sáng"): time(6, 59), ("E002", "chiều"): time(13, 50),  # late: its arrival
        ("E003", "chiều"): time(13, 20),  # the morning missed: the day's check-in is its own
    }
