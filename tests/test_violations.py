"""The violation log: every finding, open and excused, with its filters, pages and exports.

November (tests/report_factories.py) holds eleven findings: E001 late three times; E002
absent, an excused absence (leave on 6/11) and a guard's no-badge record; E003 early leave,
no check-out, away from post and an excused late arrival (business trip on 16/11); E004
without badge at a spot check.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook

from attendance import exports
from attendance.evaluation import OrgTree
from attendance.reports import (
    ABSENT, EARLY_LEAVE, LATE, NO_BADGE, kind_from_text, violations, violations_json,
)
from report_factories import FIRST, HEAD, LAST, november, pdf_text


def _codes(rows):
    return [(r.employee.code, r.day.day, r.kind) for r in rows]


def test_every_finding_open_and_excused(db_session, config):
    november(db_session)
    rows, total = violations(db_session, config, FIRST, LAST)
    assert total == 11 == len(rows)
    assert _codes(rows) == [
        ("E001", 2, LATE), ("E001", 3, LATE), ("E001", 4, LATE),
        ("E002", 5, ABSENT), ("E002", 6, ABSENT), ("E002", 9, NO_BADGE),
        ("E003", 10, EARLY_LEAVE), ("E003", 11, "missing_checkout"),
        ("E003", 12, "absent_from_post"), ("E003", 16, LATE), ("E004", 17, NO_BADGE),
    ]
    first = rows[0]
    assert (first.employee.full_name, first.unit.name, first.minutes, first.source,
            first.status) == ("Nguyễn Văn An", "Sở Nội vụ", 12, "scan", "open")


def test_rows_come_in_date_order(db_session, config):
    november(db_session)
    rows, _ = violations(db_session, config, FIRST, LAST)
    assert [r.day for r in rows] == sorted(r.day for r in rows)


def test_excused_findings_carry_who_approved_and_why(db_session, config):
    november(db_session)
    rows, total = violations(db_session, config, FIRST, LAST, status="excused")
    assert total == 2
    assert [(r.employee.code, r.kind, r.excuse.approved_by, r.excuse.reason, r.excuse.kind)
            for r in rows] == [
        ("E002", ABSENT, HEAD, "Nghỉ phép năm", "leave"),
        ("E003", LATE, HEAD, "Họp tại Bộ Nội vụ", "business_trip")]
    _, open_total = violations(db_session, config, FIRST, LAST, status="open")
    assert open_total == 9


def test_filter_by_unit_with_sub_units_and_by_scope(db_session, config):
    november(db_session)
    _, total = violations(db_session, config, FIRST, LAST, unit_code="SNV")
    assert total == 10  # SNV's own three plus three, and PTC's four
    rows, total = violations(db_session, config, FIRST, LAST, unit_code="STC")
    assert total == 1 and rows[0].source == "spot_check"
    tree = OrgTree(db_session)
    ptc_only = {tree.by_code["PTC"].id}
    rows, total = violations(db_session, config, FIRST, LAST, unit_ids=ptc_only)
    assert total == 4 and {r.employee.code for r in rows} == {"E003"}
    _, total = violations(db_session, config, FIRST, LAST, unit_ids=ptc_only, unit_code="STC")
    assert total == 0  # outside the user's scope
    with pytest.raises(LookupError):
        violations(db_session, config, FIRST, LAST, unit_code="NOPE")


def test_filter_by_type_employee_and_dates(db_session, config):
    november(db_session)
    rows, total = violations(db_session, config, FIRST, LAST, kinds=[LATE])
    assert total == 4 and {r.kind for r in rows} == {LATE}
    _, total = violations(db_session, config, FIRST, LAST, kinds=[LATE], status="open")
    assert total == 3
    _, total = violations(db_session, config, FIRST, LAST, kinds=[NO_BADGE, ABSENT])
    assert total == 4
    rows, total = violations(db_session, config, FIRST, LAST, employee="E003")
    assert total == 4 and {r.employee.code for r in rows} == {"E003"}
    rows, total = violations(db_session, config, date(2026, 11, 2), date(2026, 11, 3))
    assert _codes(rows) == [("E001", 2, LATE), ("E001", 3, LATE)]
    with pytest.raises(ValueError):
        violations(db_session, config, FIRST, LAST, kinds=["sleeping"])
    with pytest.raises(ValueError):
        violations(db_session, config, FIRST, LAST, status="pending")


def test_pages(db_session, config):
    november(db_session)
    everything, _ = violations(db_session, config, FIRST, LAST)
    page, total = violations(db_session, config, FIRST, LAST, offset=4, limit=3)
    assert total == 11 and page == everything[4:7]
    page, total = violations(db_session, config, FIRST, LAST, offset=10, limit=5)
    assert total == 11 and page == everything[10:]


def test_type_from_code_or_vietnamese_label():
    assert kind_from_text("late") == LATE
    assert kind_from_text("Đi muộn") == LATE
    assert kind_from_text("không đeo thẻ") == NO_BADGE
    with pytest.raises(ValueError):
        kind_from_text("ngủ gật")


def test_json_shape(db_session, config):
    november(db_session)
    rows, total = violations(db_session, config, FIRST, LAST, status="excused")
    data = violations_json(rows, total, config, first=FIRST, last=LAST)
    assert data["total"] == 2
    late = data["violations"][1]
    assert late["type"] == "late" and late["type_label"] == "đi muộn"
    assert late["at"] == "2026-11-16T07:50:00+07:00" and late["minutes"] == 20
    assert late["status"] == "excused" and late["excuse"]["approved_by"] == HEAD
    json.dumps(data)


def test_cli_filters_and_exports(db_session, cli, tmp_path):
    november(db_session)
    db_session.commit()
    span = ("--from", "2026-11-01", "--to", "2026-11-30")
    result = cli("violations", *span, "--unit", "SNV", "--type", "đi muộn", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 4
    result = cli("violations", *span, "--employee", "E003", "--status", "excused",
                 "--format", "json")
    assert [v["type"] for v in json.loads(result.output)["violations"]] == ["late"]

    result = cli("violations", *span, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert len(rows) == 11
    excused = [r for r in rows if r["Trạng thái"] == "có lý do đã duyệt"]
    assert [(r["Họ và tên"], r["Loại vi phạm"], r["Người duyệt"]) for r in excused] == [
        ("Trần Thị Bích", "vắng có lý do", HEAD), ("Lê Hoàng Cường", "đi muộn", HEAD)]

    path = tmp_path / "nhat-ky.xlsx"
    result = cli("violations", *span, "--format", "xlsx", "-o", str(path))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(path)["Nhật ký vi phạm"]
    header = [c.value for c in sheet[1]]
    assert header[:8] == ["Ngày", "Mã cán bộ", "Họ và tên", "Chức vụ", "Mã đơn vị", "Đơn vị",
                          "Loại vi phạm", "Buổi"]
    labels = {row[header.index("Loại vi phạm")] for row in sheet.iter_rows(min_row=2,
                                                                           values_only=True)}
    assert labels == {"đi muộn", "về sớm", "không quét thẻ khi về", "không đeo thẻ",
                      "vắng mặt tại vị trí làm việc", "vắng không lý do", "vắng có lý do"}
    assert sheet.freeze_panes == "A2"

    path = tmp_path / "nhat-ky.pdf"
    result = cli("violations", *span, "--unit", "PTC", "--format", "pdf", "-o", str(path))
    assert result.exit_code == 0, result.output
    text = pdf_text(path)
    assert "Độc lập - Tự do - Hạnh phúc" in text and "Lê Hoàng Cường" in text

    result = cli("violations", *span, "--type", "sleeping")
    assert result.exit_code == 1


def test_cli_pdf_of_a_long_log_is_refused_unless_limited(db_session, cli, monkeypatch, tmp_path):
    """As on the web, a PDF holds at most exports.PDF_MAX_ROWS rows; --limit takes a part."""
    november(db_session)
    db_session.commit()
    monkeypatch.setattr(exports, "PDF_MAX_ROWS", 10)  # the month has 11
    span = ("--from", "2026-11-01", "--to", "2026-11-30")
    path = tmp_path / "nhat-ky.pdf"
    refused = cli("violations", *span, "--format", "pdf", "-o", str(path))
    assert refused.exit_code != 0 and not path.exists()
    assert refused.stderr.strip() == (
        "Lỗi: nhật ký có 11 dòng, quá nhiều cho một tệp PDF (tối đa 10): hãy thu hẹp bộ lọc, "
        "chọn --limit và --offset, hoặc dùng --format xlsx hay csv")
    assert cli("violations", *span, "--type", "late", "--format", "pdf",
               "-o", str(path)).exit_code == 0
    assert path.read_bytes().startswith(b"%PDF")
    part = cli("violations", *span, "--format", "pdf", "--limit", "11", "-o", str(path))
    assert part.exit_code == 0, part.output


def test_cli_names_what_it_cannot_read(db_session, cli):
    """An unknown employee is a typo, not a clean record; a bad type lists the good ones; a
    month is also taken as mm/yyyy, as dates are as dd/mm/yyyy (QA)."""
    november(db_session)
    db_session.commit()
    nobody = cli("violations", "--from", "2026-11-01", "--to", "2026-11-30",
                 "--employee", "E999")
    assert (nobody.exit_code, nobody.stderr) == (1, "Lỗi: không có cán bộ mã 'E999'\n")
    clean = cli("violations", "--from", "2026-11-07", "--to", "2026-11-08", "--employee", "E001")
    assert clean.exit_code == 0 and json.loads(clean.output)["total"] == 0
    typo = cli("violations", "--type", "muộn")
    assert typo.exit_code == 1
    assert typo.stderr.startswith("Lỗi: loại vi phạm không hợp lệ: muộn (chọn một trong: "
                                  "late (đi muộn), early_leave (về sớm),")
    by_slash = cli("offenders", "--month", "11/2026", "--format", "json")
    assert by_slash.exit_code == 0, by_slash.output
    assert by_slash.output == cli("offenders", "--month", "2026-11", "--format", "json").output
