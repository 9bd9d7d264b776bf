"""Report pages: daily exports, issued versions, evidence photos; the monthly report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from attendance import exports
from attendance.models import Employee, IssuedReport, Unit
from factories import make_employee
from november_data import build
from report_factories import FORMULA_NAME, excuse, pdf_text

DAY = "2026-11-10"


def _workbook(response):
    assert response.status_code == 200
    assert response.mimetype == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def test_daily_page_offers_the_three_exports(login_as, session_factory):
    build(session_factory)
    html = login_as("head_snv").get(f"/reports/daily?date={DAY}&unit=SNV").get_data(as_text=True)
    for fmt in ("xlsx", "pdf", "csv"):
        assert f'href="/reports/daily/export/{fmt}?date={DAY}&amp;unit=SNV"' in html


@pytest.mark.parametrize("fmt, media", [("csv", "text/csv"), ("pdf", "application/pdf")])
def test_daily_export_downloads(login_as, session_factory, fmt, media):
    build(session_factory)
    response = login_as("inspector").get(f"/reports/daily/export/{fmt}?date={DAY}&unit=STC")
    assert response.status_code == 200 and response.mimetype == media
    assert response.headers["Content-Type"] == {"csv": "text/csv; charset=utf-8"}.get(fmt, media)
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="bao-cao-ngay-{DAY}-STC.{fmt}"'
    if fmt == "pdf":
        assert response.data.startswith(b"%PDF")


def test_daily_csv_and_xlsx_neutralize_formula_names(login_as, session_factory):
    build(session_factory)
    client = login_as("admin")
    text = client.get(f"/reports/daily/export/csv?date={DAY}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    names = [row[2] for row in rows[1:]]
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    book = _workbook(client.get(f"/reports/daily/export/xlsx?date={DAY}"))
    # In XLSX the name is a cell typed as text, exactly as typed: never a formula.
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert {c.data_type for c in cells if c.value == FORMULA_NAME} == {"s"}
    assert all(c.data_type != "f" for c in cells)


def test_export_is_scoped_like_the_page(login_as, session_factory):
    build(session_factory)
    client = login_as("head_snv")
    book = _workbook(client.get(f"/reports/daily/export/xlsx?date={DAY}"))
    cells = {c.value for sheet in book for row in sheet.iter_rows() for c in row}
    assert "Lê Văn Cường" in cells and "Phạm Minh Dũng" not in cells
    assert client.get(f"/reports/daily/export/xlsx?date={DAY}&unit=STC").status_code == 404


def _issue(session_factory, unit_code: str, version: int, changes: dict | None = None, *,
           kind: str = "daily", period: str = DAY) -> int:
    with session_factory() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        report = IssuedReport(
            kind=kind, unit_id=unit.id, period=period, version=version,
            content=json.dumps({"date": DAY, "units": [], "version": version}),
            content_hash="0" * 64, changes=json.dumps(changes) if changes else None,
            issued_at=datetime(2026, 11, 10, 10 + version, 0, tzinfo=timezone.utc),
            issued_late=version > 1)
        session.add(report)
        session.commit()
        return report.id


def test_issued_versions_with_their_changes(login_as, session_factory):
    build(session_factory)
    first = _issue(session_factory, "SNV", 1)
    second = _issue(session_factory, "SNV", 2, {
        "units": {"SNV-P1": {"lists": {"late": {"removed": ["E-P1"]}}}},
        "units_added": [], "units_removed": []})
    other = _issue(session_factory, "STC", 1)
    client = login_as("head_snv")
    html = client.get(f"/reports/daily?date={DAY}&unit=SNV").get_data(as_text=True)
    section = html[html.index("Các phiên bản đã ban hành"):]
    assert f'href="/reports/issued/{first}">1</a>' in section
    assert f'href="/reports/issued/{second}">2</a>' in section
    assert "ban hành muộn" in section and "Bản đầu tiên" in section
    assert "SNV-P1 · Đi muộn: bớt Lê Văn Cường (E-P1)" in section
    # Issued at 18:00 and 19:00 UTC+7.
    assert "10/11/2026 18:00" in section and "10/11/2026 19:00" in section
    # The unit head's default view shows their own unit's versions.
    assert f"/reports/issued/{second}" in client.get(f"/reports/daily?date={DAY}") \
        .get_data(as_text=True)
    download = client.get(f"/reports/issued/{second}")
    assert download.status_code == 200 and json.loads(download.data)["version"] == 2
    assert download.headers["Content-Disposition"] == \
        'attachment; filename="daily-2026-11-10-SNV-v2.json"'
    assert client.get(f"/reports/issued/{other}").status_code == 404


def test_monthly_page_lists_the_month_s_versions_with_people_and_figures_changed(
        login_as, session_factory):
    build(session_factory)
    _issue(session_factory, "SNV", 1, kind="monthly", period="2026-11")
    second = _issue(session_factory, "SNV", 2, {
        "units": {"SNV-P1": {"lists": {"employees": {
            "changed": ["E-P1"],
            "details": {"E-P1": {"absences": [3, 2], "excused_days": [0, 1]}}}},
                             "figures": {"rank": [2, 1], "absences": [3, 2],
                                         "punctuality": [0.9, 0.95]}}},
        "units_added": [], "units_removed": []}, kind="monthly", period="2026-11")
    _issue(session_factory, "SNV", 1, kind="daily")  # not the monthly page's
    client = login_as("head_snv")
    html = client.get("/reports/monthly?month=2026-11&unit=SNV").get_data(as_text=True)
    section = html[html.index("Các phiên bản đã ban hành"):html.index("Xếp hạng thi đua")]
    assert section.count("Báo cáo tháng · SNV") == 2 and "Báo cáo ngày" not in section
    assert f'href="/reports/issued/{second}">2</a>' in section
    assert ("SNV-P1 · Số liệu cá nhân: thay đổi Lê Văn Cường (E-P1) (Vắng không lý do 3 → 2, "
            "Nghỉ có lý do (ngày) 0 → 1)") in section
    assert "SNV-P1 · Hạng: 2 → 1" in section
    assert "SNV-P1 · Vắng không lý do: 3 → 2" in section
    assert "SNV-P1 · Tỷ lệ đúng giờ: 90,0% → 95,0%" in section
    october = client.get("/reports/monthly?month=2026-10&unit=SNV")
    assert "Các phiên bản đã ban hành" not in october.get_data(as_text=True)


def test_no_issued_section_without_versions(login_as, session_factory):
    build(session_factory)
    html = login_as("admin").get(f"/reports/daily?date={DAY}").get_data(as_text=True)
    assert "Các phiên bản đã ban hành" not in html


def test_evidence_photo_of_a_late_scan(login_as, session_factory, app):
    ids = build(session_factory)
    html = login_as("head_snv").get("/reports/daily?date=2026-11-23&unit=SNV-P1") \
        .get_data(as_text=True)
    late = html[html.index("Đi muộn ("):]
    if "entrance.scan_photo" not in app.view_functions:
        pytest.skip("the photo route (GET /scans/<id>/photo) is not installed")
    assert f'<img src="/scans/{ids["late_scan"]}/photo" loading="lazy"' in late
    # Only scans with a stored photo get a link.
    assert late.count("/photo") == 2  # the link and the image of the one scan


def test_monthly_ranking_and_offenders(login_as, session_factory):
    build(session_factory)
    html = login_as("inspector").get("/reports/monthly?month=2026-11").get_data(as_text=True)
    assert "Xếp hạng thi đua các đơn vị" in html
    start = html.index('class="ranking"')
    ranking = html[start:html.index("</table>", start)]
    # SNV and SNV-P1 wore badges throughout; SNV (no one late) leads; STC had a no-badge day.
    assert ranking.index("Sở Nội vụ") < ranking.index("Phòng Công chức") \
        < ranking.index("Sở Tài chính")
    assert "Tổng cộng" in ranking
    offenders = html[html.index("Vi phạm nhiều lần"):]
    assert "Lê Văn Cường" in offenders and "Trần Thị Bình" in offenders  # late ×3; absent
    assert "Phạm Minh Dũng" not in offenders
    assert "tính đến hết hôm qua" in html  # the month is in progress


def test_monthly_per_employee_table_for_a_unit(login_as, session_factory):
    build(session_factory)
    html = login_as("head_snv").get("/reports/monthly?month=2026-11&unit=SNV") \
        .get_data(as_text=True)
    table = html[html.index("Theo cán bộ"):]
    assert "Lê Văn Cường" in table and "3 / 45" in table  # 3 late days × 15 minutes
    assert "Phạm Minh Dũng" not in html


def test_monthly_exports(login_as, session_factory):
    build(session_factory)
    client = login_as("admin")
    book = _workbook(client.get("/reports/monthly/export/xlsx?month=2026-11"))
    assert book.sheetnames == ["Xếp hạng thi đua", "Theo cán bộ", "Vi phạm nhiều lần"]
    ranking = [row[2] for row in book["Xếp hạng thi đua"].iter_rows(min_row=2, values_only=True)]
    assert ranking[:3] == ["Sở Nội vụ", "Phòng Công chức", "Sở Tài chính"]
    text = client.get("/reports/monthly/export/csv?month=2026-11").data.decode("utf-8-sig")
    assert "'" + FORMULA_NAME in text
    assert client.get("/reports/monthly/export/pdf?month=2026-11&unit=SNV").data[:4] == b"%PDF"


def test_a_unit_head_s_daily_pdf_of_all_his_units_is_issued_and_signed_by_his_unit(
        login_as, session_factory, province, tmp_path):
    build(session_factory)
    with session_factory() as session:
        session.get(Unit, province["SNV"]).head_id = province["e_snv"]
        session.commit()

    def text(client, args):
        path = tmp_path / "ngay.pdf"
        path.write_bytes(client.get(f"/reports/daily/export/pdf?date={DAY}{args}").data)
        return pdf_text(path)

    head = login_as("head_snv")
    for args in ("", "&unit=SNV"):  # "Tất cả" is his own tree
        shown = text(head, args)
        assert "SỞ NỘI VỤ" in shown and "Trần Thị Bình" in shown
        assert "Sở Nội vụ (để báo cáo)" not in shown and "Lưu: VT." in shown
    shown = text(head, "&unit=SNV-P1")  # a phòng reports to the Sở
    assert "PHÒNG CÔNG CHỨC" in shown and "Sở Nội vụ (để báo cáo)" in shown


def test_a_daily_or_monthly_pdf_past_the_row_limit_is_refused(
        login_as, session_factory, monkeypatch):
    build(session_factory)
    client = login_as("admin")
    monkeypatch.setattr(exports, "PDF_MAX_ROWS", 1)
    for path, page in ((f"/reports/daily/export/pdf?date={DAY}&unit=SNV",
                        f"/reports/daily?date={DAY}&unit=SNV"),
                       ("/reports/monthly/export/pdf?month=2026-11",
                        "/reports/monthly?month=2026-11")):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == page
        assert "Hơn 1 dòng: quá nhiều cho một tệp PDF" in client.get(page).get_data(as_text=True)
    monkeypatch.setattr(exports, "PDF_MAX_ROWS", 2_000)
    assert client.get(f"/reports/daily/export/pdf?date={DAY}").data[:4] == b"%PDF"


def test_a_month_to_come_has_no_figures_not_a_reversed_range(login_as, tmp_path):
    client = login_as("admin")
    html = client.get("/reports/monthly?month=2027-05").get_data(as_text=True)
    assert "Chưa có số liệu: chưa hết ngày nào của tháng này." in html
    assert "Số liệu từ ngày" not in html
    path = tmp_path / "thang.pdf"
    path.write_bytes(client.get("/reports/monthly/export/pdf?month=2027-05").data)
    text = pdf_text(path)
    assert "Chưa có số liệu: chưa hết ngày nào của tháng này." in text
    assert "Số liệu từ ngày" not in text


def test_monthly_rejects_a_bad_month(login_as):
    client = login_as("admin")
    assert client.get("/reports/monthly?month=11-2026").status_code == 400
    assert client.get("/reports/monthly?month=2026-13").status_code == 400


@pytest.mark.parametrize("path", [
    "/reports/daily?date=0001-01-01", "/reports/daily?date=9999-12-31",
    "/reports/daily/export/pdf?date=0001-01-01", "/reports/monthly?month=0001-01",
    "/reports/monthly?month=9999-12", "/reports/monthly/export/xlsx?month=9999-12",
    "/violations/offenders?month=0001-01",
])
def test_dates_at_the_ends_of_the_calendar_are_a_bad_request(login_as, path):
    """A date the deployment's timezone cannot hold (year 1 or 9999) answers 400, not 500."""
    assert login_as("inspector").get(path).status_code == 400


def test_daily_page_names_the_weekday_and_says_when_nobody_is_expected(login_as, session_factory):
    build(session_factory)
    client = login_as("head_snv")
    tuesday = client.get(f"/reports/daily?date={DAY}").get_data(as_text=True)
    assert re.search(r"<h1>Báo cáo ngày 10/11/2026 \(Thứ Ba\)", tuesday)
    assert "Không ai phải có mặt trong ngày này" not in tuesday
    # "« Ngày trước" from a Monday lands on a Sunday: say why every figure is zero.
    sunday = client.get("/reports/daily?date=2026-11-22").get_data(as_text=True)
    assert re.search(r"<h1>Báo cáo ngày 22/11/2026 \(Chủ Nhật\)", sunday)
    assert "Không ai phải có mặt trong ngày này." in sunday


def test_daily_page_names_half_day_excuses(login_as, session_factory):
    """QA: a morning excuse made a late arrival vanish from the page with no word of why
    (``excused`` lists whole days only); the page names the half-day excuses apart."""
    build(session_factory)
    with session_factory() as session:
        binh = session.scalar(select(Employee).where(Employee.code == "E-SNV"))
        excuse(session, binh, date(2026, 11, 10), part="morning", reason="Khám bệnh <b>")
        session.commit()
    client = login_as("head_snv")
    page = client.get(f"/reports/daily?date={DAY}&unit=SNV").get_data(as_text=True)
    section = page.split("Nghỉ nửa ngày có lý do (1)")[1].split("</ul>")[0]
    assert "Trần Thị Bình" in section
    assert "buổi sáng, nghỉ phép · Khám bệnh &lt;b&gt;" in section
    other_day = client.get("/reports/daily?date=2026-11-11&unit=SNV").get_data(as_text=True)
    assert "Nghỉ nửa ngày có lý do" not in other_day


def test_daily_page_lists_people_by_given_name(login_as, session_factory):
    """GLOSSARY: lists sort by given name (tên, then họ đệm), as the exports do; the code
    order would put Yến before An here."""
    with session_factory() as session:
        stc = session.scalar(select(Unit).where(Unit.code == "STC"))
        make_employee(session, stc, "A-2", "Trần Thị Yến")
        make_employee(session, stc, "Z-1", "Nguyễn Văn An")
        session.commit()
    page = login_as("admin").get("/reports/daily?date=2026-11-20&unit=STC").get_data(
        as_text=True)
    absent = page.split("Vắng không lý do (")[1].split("</ul>")[0]
    assert absent.index("Nguyễn Văn An") < absent.index("Trần Thị Yến")
