"""The monthly report and repeat offenders on a hand-built November (tests/report_factories.py)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook

from attendance.evaluation import UnitRow
from attendance.reports import (
    ABSENT, LATE, UnitMonth, compile_monthly, monthly_json, rank_units, repeat_offenders,
)
from report_factories import EXPECTED, november, pdf_text


MONTH = ("--month", "2026-11", "--until", "2026-11-30")


def _counts(person):
    return (person.working_days, person.expected_days, person.present_days, person.late_days,
            person.late_minutes, person.early_leaves, person.missing_checkouts, person.no_badge,
            person.absences, person.absent_from_post, person.excused_days)


def test_monthly_counts_per_employee(db_session, config):
    november(db_session)
    report = compile_monthly(db_session, config, date(2026, 11, 1))
    people = {p.employee.code: p for u in report.units for p in u.employees}
    assert {code: _counts(p) for code, p in people.items()} == EXPECTED
    assert people["E003"].early_leave_minutes == 30
    assert report.first == date(2026, 11, 1) and report.last == date(2026, 11, 30)


def test_unit_rates_are_sums_of_the_daily_figures(db_session, config):
    """SNV: 39 expected days (20 + 19), 38 present, 3 late, 1 without badge, 1 absence."""
    november(db_session)
    report = compile_monthly(db_session, config, "2026-11")
    units = {u.unit.code: u for u in report.units}
    assert "UBND" not in units  # a unit with no staff of its own is left out
    snv = units["SNV"]
    assert (snv.expected, snv.present, snv.late, snv.no_badge, snv.absences) == (39, 38, 3, 1, 1)
    assert snv.badge_compliance == pytest.approx(37 / 38)
    assert snv.punctuality == pytest.approx(35 / 38)
    stc = units["STC"]
    assert (stc.expected, stc.present, stc.no_badge) == (40, 40, 1)
    assert stc.badge_compliance == pytest.approx(39 / 40)
    totals = report.totals
    assert (totals.expected, totals.present) == (39 + 19 + 40, 38 + 19 + 40)


def test_ranking_for_emulation(db_session, config):
    """PTC 100%/100% first; STC 97.5% with badge; SNV 97.4% with badge last."""
    november(db_session)
    report = compile_monthly(db_session, config, "2026-11")
    assert [(u.unit.code, u.rank) for u in report.units] == [("PTC", 1), ("STC", 2), ("SNV", 3)]


def test_ranking_ties_share_a_rank_and_empty_units_come_last():
    def unit(code, present, late, no_badge, expected=None, absences=0):
        return UnitMonth(UnitRow(0, code, code, None, None), [], expected or present, present,
                         late, no_badge, absences)

    ranked = rank_units([unit("C", 10, 0, 0), unit("A", 10, 0, 0), unit("E", 0, 0, 0, 5),
                         unit("B", 10, 1, 0), unit("D", 10, 0, 0, 12, 2)])
    assert [(u.unit.code, u.rank) for u in ranked] == [
        ("A", 1), ("C", 1), ("D", 3), ("B", 4), ("E", None)]


def test_a_unit_and_its_sub_units(db_session, config):
    november(db_session)
    report = compile_monthly(db_session, config, "2026-11", "SNV")
    assert sorted(u.unit.code for u in report.units) == ["PTC", "SNV"]
    with pytest.raises(LookupError):
        compile_monthly(db_session, config, "2026-11", "NOPE")


def test_a_month_in_progress_counts_only_days_gone(db_session, config):
    """Through 4/11: three working days, E001 late on each of them, nobody absent."""
    november(db_session)
    report = compile_monthly(db_session, config, "2026-11", through=date(2026, 11, 4))
    people = {p.employee.code: p for u in report.units for p in u.employees}
    assert people["E001"].working_days == 3 and people["E001"].late_days == 3
    assert all(p.absences == 0 for p in people.values())
    assert report.last == date(2026, 11, 4)


def test_employees_sorted_by_given_name(db_session, config):
    november(db_session)
    report = compile_monthly(db_session, config, "2026-11", "SNV")
    snv = next(u for u in report.units if u.unit.code == "SNV")
    assert [p.employee.full_name for p in snv.employees] == ["Nguyễn Văn An", "Trần Thị Bích"]


def test_repeat_offenders_over_the_config_thresholds(db_session, config):
    november(db_session)
    found = repeat_offenders(db_session, config, date(2026, 11, 1))
    assert [(o.month.employee.code, o.reasons) for o in found] == [
        ("E001", [LATE]), ("E002", [ABSENT])]
    stricter = config.model_copy(update={"reports": config.reports.model_copy(
        update={"repeat_late_days": 4, "repeat_absences": 2})})
    assert repeat_offenders(db_session, stricter, "2026-11") == []
    scoped = repeat_offenders(db_session, config, "2026-11",
                              unit_ids=[found[0].unit.id])  # SNV only, no sub-units
    assert [o.month.employee.code for o in scoped] == ["E001", "E002"]


def test_monthly_json_shape(db_session, config):
    november(db_session)
    data = monthly_json(compile_monthly(db_session, config, "2026-11"))
    assert data["month"] == "2026-11"
    snv = next(u for u in data["units"] if u["unit"] == "SNV")
    assert snv["name"] == "Sở Nội vụ" and snv["rank"] == 3
    assert snv["badge_compliance"] == round(37 / 38, 4)
    an = next(e for e in snv["employees"] if e["employee"] == "E001")
    assert an["late_days"] == 3 and an["late_minutes"] == 27
    json.dumps(data)


def test_monthly_cli_json_xlsx_and_offenders(db_session, cli, tmp_path):
    november(db_session)
    db_session.commit()
    result = cli("report", "monthly", *MONTH, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [u["unit"] for u in data["units"]] == ["PTC", "STC", "SNV"]
    assert [o["employee"] for o in data["repeat_offenders"]] == ["E001", "E002"]

    path = tmp_path / "thang.xlsx"
    result = cli("report", "monthly", *MONTH, "--format", "xlsx", "-o", str(path))
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames == ["Xếp hạng thi đua", "Theo cán bộ", "Vi phạm nhiều lần"]
    ranking = book["Xếp hạng thi đua"]
    assert [c.value for c in ranking[1]][:3] == ["Xếp hạng", "Mã đơn vị", "Đơn vị"]
    assert [ranking.cell(row=r, column=3).value for r in (2, 3, 4, 5)] == [
        "Phòng Tổ chức", "Sở Tài chính", "Sở Nội vụ", None]
    assert ranking.cell(row=4, column=9).value == pytest.approx(37 / 38)
    assert ranking.cell(row=4, column=9).number_format == "0.0%"
    people = book["Theo cán bộ"]
    header = [c.value for c in people[1]]
    row = next(r for r in people.iter_rows(min_row=2, values_only=True) if r[1] == "E001")
    assert row[header.index("Họ và tên")] == "Nguyễn Văn An"
    assert row[header.index("Đơn vị")] == "Sở Nội vụ"
    assert row[header.index("Số ngày đi muộn")] == 3
    assert row[header.index("Tổng số phút đi muộn")] == 27

    result = cli("offenders", *MONTH, "--unit", "SNV", "--format", "csv")
    assert result.exit_code == 0, result.output
    text = result.stdout_bytes.decode("utf-8-sig")
    assert "Nguyễn Văn An" in text and "đi muộn 3 ngày" in text
    assert "Trần Thị Bích" in text and "vắng không lý do 1 ngày" in text


def test_monthly_pdf(db_session, cli, tmp_path):
    november(db_session)
    db_session.commit()
    path = tmp_path / "thang.pdf"
    result = cli("report", "monthly", *MONTH, "--unit", "SNV", "--format", "pdf",
                 "-o", str(path))
    assert result.exit_code == 0, result.output
    text = pdf_text(path)
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "SỞ NỘI VỤ" in text and "Phòng Tổ chức" in text
    assert "Xếp hạng thi đua" in text and "Nguyễn Văn An" in text and "Trần Thị Bích" in text
    assert "tháng 11/2026" in text and "THỦ TRƯỞNG ĐƠN VỊ" in text
