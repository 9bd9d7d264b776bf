"""A province imported through ``attendance import`` and reported through the CLI.

These are the held-out style checks of the core issue: CSV files and a config file in,
``attendance report daily --format json`` out, compared with what RULES.md implies —
both check-in modes, both timetables, a national holiday, the swapped working Saturday,
half-day excuses and grace boundaries to the second.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFIG = """
timezone = "Asia/Ho_Chi_Minh"
holidays_country = "VN"
extra_holidays = ["2026-12-01"]
extra_workdays = ["2026-12-05"]

[schedules.default]
checkin_mode = "day"
late_grace_minutes = 5
early_leave_grace_minutes = 5
[[schedules.default.periods]]
from = "04-16"
to = "10-15"
sessions = ["07:00-11:30", "13:30-17:00"]
[[schedules.default.periods]]
from = "10-16"
to = "04-15"
sessions = ["07:30-12:00", "13:00-16:30"]

[schedules.phuong]
checkin_mode = "session"
late_grace_minutes = 10
early_leave_grace_minutes = 0
[[schedules.phuong.periods]]
from = "01-01"
to = "12-31"
sessions = ["07:00-11:00", "13:30-17:00"]
"""

UNITS = """code,name,parent_code,schedule
TINH,UBND tỉnh,,
SNV,Sở Nội vụ,TINH,
P1,UBND phường Hòa Thuận,TINH,phuong
"""

EMPLOYEES = """code,full_name,unit_code,position,category
E001,Nguyễn Văn An,SNV,Chuyên viên,CC
E002,Trần Thị Bình,SNV,Chuyên viên,CC
E003,Lê Văn Cường,SNV,Kế toán,VC
E004,Phạm Thị Dung,SNV,Văn thư,HĐ
E005,Hoàng Văn Em,SNV,Phó Giám đốc,CB
P001,Võ Thị Giang,P1,Công chức địa chính,CC
P002,Đặng Văn Hải,P1,Công chức tư pháp,CC
P003,Bùi Thị Lan,P1,Công chức văn hóa,CC
"""

# Monday 2026-11-23 (winter timetable 07:30-12:00, 13:00-16:30 for the sở).
MONDAY_SCANS = """employee_code,scanned_at,station,kind
E001,2026-11-23T07:35:00+07:00,CONG1,badge
E001,2026-11-23T16:25:00+07:00,CONG1,badge
E002,2026-11-23T07:35:01+07:00,CONG1,badge
E002,2026-11-23T16:24:59+07:00,CONG1,badge
E003,2026-11-23T00:20:00Z,,badge
E003,2026-11-23T00:20:30Z,,badge
E004,2026-11-23T07:10:00+07:00,CONG1,no_badge
E004,2026-11-23T16:40:00+07:00,CONG1,badge
E005,2026-11-23T13:05:00+07:00,CONG1,badge
E005,2026-11-23T16:30:00+07:00,CONG1,badge
P001,2026-11-23T07:10:00+07:00,P1,badge
P001,2026-11-23T11:00:00+07:00,P1,badge
P001,2026-11-23T13:40:01+07:00,P1,badge
P001,2026-11-23T16:59:59+07:00,P1,badge
P002,2026-11-23T07:05:00+07:00,P1,badge
P002,2026-11-23T12:15:00+07:00,P1,badge
"""

EXCUSES = """employee_code,start_date,end_date,part,kind,note
E005,2026-11-23,2026-11-23,morning,business_trip,Họp tại Bộ
P003,2026-11-23,2026-11-27,full,leave,Nghỉ phép năm
"""


@pytest.fixture
def province(cli, tmp_path, monkeypatch):
    config = tmp_path / "province.toml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("ATTENDANCE_CONFIG", str(config))
    for kind, text in (("units", UNITS), ("employees", EMPLOYEES), ("scans", MONDAY_SCANS),
                       ("excuses", EXCUSES)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = cli("import", kind, str(path))
        assert result.exit_code == 0, result.output
    return tmp_path


def report(cli, day: str, *extra: str) -> dict:
    result = cli("report", "daily", "--date", day, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return {u["unit"]: u for u in json.loads(result.output)["units"]}


def test_day_mode_unit(province, cli):
    snv = report(cli, "2026-11-23")["SNV"]
    assert snv["name"] == "Sở Nội vụ"
    # E003's scans are 07:20:00 and 07:20:30 local: a repeat, so no check-out.
    assert snv["late"] == [
        {"employee": "E002", "check_in": "2026-11-23T07:35:01+07:00", "minutes": 5}]
    assert snv["early_leave"] == [
        {"employee": "E002", "check_out": "2026-11-23T16:24:59+07:00", "minutes": 5}]
    assert snv["missing_checkout"] == ["E003"]
    assert snv["no_badge"] == [{"employee": "E004", "source": "guard"}]
    # E005 was excused for the morning: 13:05:00 is on time for the afternoon.
    assert snv["absent"] == [] and snv["excused"] == []
    assert (snv["expected"], snv["present"]) == (5, 5)
    assert snv["badge_compliance"] == pytest.approx(4 / 5)
    assert snv["punctuality"] == pytest.approx(4 / 5)


def test_session_mode_unit(province, cli):
    p1 = report(cli, "2026-11-23")["P1"]
    # P001: afternoon check-in 13:40:01 is past 13:30 + 10 min grace: 10 minutes late;
    # check-out 16:59:59 with no early-leave grace: 0 minutes early.
    assert p1["late"] == [{"employee": "P001", "check_in": "2026-11-23T13:40:01+07:00",
                           "minutes": 10, "session": 1}]
    assert p1["early_leave"] == [{"employee": "P001", "check_out": "2026-11-23T16:59:59+07:00",
                                  "minutes": 0, "session": 1}]
    # P002: the gap 11:00-13:30 splits at 12:15:00 and a scan on the boundary belongs to
    # the afternoon: the morning has no check-out, the afternoon no check-out either.
    assert p1["missing_checkout"] == [{"employee": "P002", "session": 0},
                                      {"employee": "P002", "session": 1}]
    assert p1["missed_session"] == []
    assert p1["excused"] == ["P003"]
    assert (p1["expected"], p1["present"]) == (2, 2)
    assert p1["badge_compliance"] == 1.0 and p1["punctuality"] == 0.5


def test_units_below_badge_target_come_first(province, cli):
    result = cli("report", "daily", "--date", "2026-11-23", "--format", "json")
    assert [u["unit"] for u in json.loads(result.output)["units"]] == ["SNV", "P1"]


def test_calendar(province, cli, tmp_path):
    scans = tmp_path / "more.csv"
    scans.write_text("employee_code,scanned_at,station,kind\n"
                     "E001,2026-08-22T07:00:00+07:00,CONG1,badge\n"
                     "E001,2026-08-22T17:00:00+07:00,CONG1,badge\n", encoding="utf-8")
    assert cli("import", "scans", str(scans)).exit_code == 0
    # The swapped working Saturday of 2026: summer timetable, E001 on time, others absent.
    saturday = report(cli, "2026-08-22")["SNV"]
    assert saturday["expected"] == 5 and saturday["late"] == []
    assert saturday["absent"] == ["E002", "E003", "E004", "E005"]
    # The Monday it pays for, Quốc khánh, the deployment's own closure: nobody expected.
    for day in ("2026-08-31", "2026-09-02", "2026-12-01"):
        assert all(u["expected"] == 0 and u["absent"] == []
                   for u in report(cli, day).values()), day
    # The deployment's own extra working Saturday.
    assert report(cli, "2026-12-05")["SNV"]["expected"] == 5


def test_reimport_changes_nothing(province, cli):
    before = report(cli, "2026-11-23")
    for kind, text in (("units", UNITS), ("employees", EMPLOYEES), ("scans", MONDAY_SCANS),
                       ("excuses", EXCUSES)):
        path = Path(province) / f"{kind}.csv"
        assert cli("import", kind, str(path)).exit_code == 0
    assert report(cli, "2026-11-23") == before


def test_one_unit(province, cli):
    assert list(report(cli, "2026-11-23", "--unit", "P1")) == ["P1"]
    bad = cli("report", "daily", "--date", "2026-11-23", "--unit", "NOPE")
    assert bad.exit_code == 1 and "NOPE" in bad.output


def test_a_day_in_progress(province, cli):
    def as_of(instant: str) -> dict:
        result = cli("report", "daily", "--date", "2026-11-23", "--format", "json",
                     "--as-of", instant)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    morning = as_of("2026-11-23T09:00:00+07:00")
    assert morning["as_of"] == "2026-11-23T09:00:00+07:00"
    snv = {u["unit"]: u for u in morning["units"]}["SNV"]
    assert snv["absent"] == [] and snv["missing_checkout"] == [] and snv["early_leave"] == []
    # E005 is excused for the morning and has not come yet; everyone else has checked in.
    assert snv["not_arrived"] == ["E005"]
    assert [x["employee"] for x in snv["late"]] == ["E002"]
    bad = cli("report", "daily", "--date", "2026-11-23", "--as-of", "09:00")
    assert bad.exit_code == 1 and "thời điểm không hợp lệ" in bad.output
