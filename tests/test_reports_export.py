"""Daily exports as a user opens them: CSV in Excel, XLSX sheets, the Decree 30 PDF."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from attendance.exports import daily_csv, daily_xlsx, neutralize
from attendance.pdf import format_place_date
from attendance.names import name_sort_key
from attendance.reports import compile_daily
from report_factories import FORMULA_NAME, excuse, november, pdf_text

MONDAY = date(2026, 11, 2)  # E001 late 07:42:10 (12 minutes)


@pytest.mark.parametrize("text", [
    FORMULA_NAME, "+84 912", "-Chuyên viên", "@SUM(A1)", "\tx", "\rx"])
def test_neutralize_prefixes_formula_triggers(text):
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize("value", ["Nguyễn Văn An", "", "a=b", 12, None, 0.5])
def test_neutralize_leaves_the_rest(value):
    assert neutralize(value) == value


def test_place_and_date_line_as_the_decree_writes_it():
    assert format_place_date("Hà Nội", date(2026, 2, 5)) == "Hà Nội, ngày 05 tháng 02 năm 2026"
    assert format_place_date("Hà Nội", date(2026, 11, 23)) == "Hà Nội, ngày 23 tháng 11 năm 2026"
    assert format_place_date("Huế", date(2026, 3, 9)) == "Huế, ngày 09 tháng 3 năm 2026"
    assert format_place_date("", date(2026, 11, 23)) == "Ngày 23 tháng 11 năm 2026"


def test_names_sort_by_given_name_in_vietnamese_order():
    names = ["Trần Văn Đức", "Nguyễn Thị Dung", "Lê Văn An", "Phạm Ánh", "Hoàng Văn Anh",
             "Đỗ Thị Ân"]
    assert sorted(names, key=name_sort_key) == [
        "Lê Văn An", "Hoàng Văn Anh", "Phạm Ánh", "Đỗ Thị Ân", "Nguyễn Thị Dung",
        "Trần Văn Đức"]


def _rows(sheet) -> list[dict]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)]


def test_daily_csv_opens_in_excel_with_diacritics_and_no_formulas(db_session, config):
    november(db_session)
    data = daily_csv(compile_daily(db_session, config, MONDAY))
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[:6] == ["Ngày", "Mã cán bộ", "Họ và tên", "Chức vụ", "Mã đơn vị",
                                 "Đơn vị"]
    by_code = {r["Mã cán bộ"]: r for r in rows}
    an = by_code["E001"]
    assert (an["Họ và tên"], an["Đơn vị"], an["Ngày"]) == ("Nguyễn Văn An", "Sở Nội vụ",
                                                          "02/11/2026")
    assert (an["Giờ đến"], an["Giờ về"], an["Đi muộn (phút)"]) == ("07:42:10", "16:35:00", "12")
    assert an["Tình trạng"] == "có mặt"
    formula = by_code["E005"]
    assert formula["Họ và tên"] == "'" + FORMULA_NAME
    assert formula["Chức vụ"] == "'-Chuyên viên"


def test_daily_xlsx_sheets_headers_and_values(db_session, config):
    november(db_session)
    book = load_workbook(io.BytesIO(daily_xlsx(compile_daily(db_session, config, MONDAY))))
    assert book.sheetnames == [
        "Tổng hợp", "Chi tiết", "Đi muộn", "Về sớm", "Không quét thẻ khi về", "Không đeo thẻ",
        "Vắng mặt tại vị trí làm việc", "Vắng không lý do", "Vắng buổi", "Nghỉ có lý do"]
    summary = book["Tổng hợp"]
    assert summary.freeze_panes == "A2"
    units = {r["Mã đơn vị"]: r for r in _rows(summary)}
    snv = units["SNV"]
    assert snv["Đơn vị"] == "Sở Nội vụ"
    assert (snv["Số người phải có mặt"], snv["Có mặt"], snv["Đi muộn"]) == (2, 2, 1)
    assert snv["Tỷ lệ đúng giờ"] == pytest.approx(0.5)
    assert snv["Tỷ lệ đeo thẻ"] == pytest.approx(1.0)
    rate_column = [c.value for c in summary[1]].index("Tỷ lệ đúng giờ") + 1
    assert summary.cell(row=2, column=rate_column).number_format == "0.0%"
    assert units[None]["Đơn vị"] == "Tổng cộng"

    late = book["Đi muộn"]
    assert late.freeze_panes == "A2"
    [row] = _rows(late)
    assert row["Mã cán bộ"] == "E001" and row["Họ và tên"] == "Nguyễn Văn An"
    assert row["Đơn vị"] == "Sở Nội vụ" and row["Số phút muộn"] == 12
    assert row["Giờ đến"] == time(7, 42, 10)
    assert late.cell(row=2, column=1).number_format == "dd/mm/yyyy"
    giờ_đến = [c.value for c in late[1]].index("Giờ đến") + 1
    assert late.cell(row=2, column=giờ_đến).number_format == "hh:mm:ss"
    assert late.column_dimensions["C"].width >= len("Nguyễn Văn An")

    detail = {r["Mã cán bộ"]: r for r in _rows(book["Chi tiết"])}
    # By given name within a unit (GLOSSARY): "…calc'!A0" before Phạm Thị "Dung".
    assert [code for code, r in detail.items() if r["Mã đơn vị"] == "STC"] == ["E005", "E004"]
    # Exactly as typed (no "'" as in CSV), in cells typed as text: never a formula.
    assert detail["E005"]["Họ và tên"] == FORMULA_NAME
    assert detail["E005"]["Chức vụ"] == "-Chuyên viên"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row)


def test_daily_xlsx_lists_on_other_days(db_session, config):
    november(db_session)

    def sheet(day, name):
        return _rows(load_workbook(io.BytesIO(daily_xlsx(
            compile_daily(db_session, config, day))))[name])

    [absent] = sheet(date(2026, 11, 5), "Vắng không lý do")
    assert (absent["Mã cán bộ"], absent["Họ và tên"]) == ("E002", "Trần Thị Bích")
    [excused] = sheet(date(2026, 11, 6), "Nghỉ có lý do")
    assert (excused["Họ và tên"], excused["Loại lý do"], excused["Người duyệt"]) == (
        "Trần Thị Bích", "nghỉ phép", "Lê Văn Trưởng")
    [guard] = sheet(date(2026, 11, 9), "Không đeo thẻ")
    assert (guard["Họ và tên"], guard["Nguồn ghi nhận"], guard["Thời điểm"]) == (
        "Trần Thị Bích", "bảo vệ ghi nhận", time(7, 20))
    [early] = sheet(date(2026, 11, 10), "Về sớm")
    assert (early["Họ và tên"], early["Đơn vị"], early["Số phút về sớm"]) == (
        "Lê Hoàng Cường", "Phòng Tổ chức", 30)
    [missing] = sheet(date(2026, 11, 11), "Không quét thẻ khi về")
    assert missing["Mã cán bộ"] == "E003"
    [away] = sheet(date(2026, 11, 12), "Vắng mặt tại vị trí làm việc")
    assert (away["Họ và tên"], away["Nguồn ghi nhận"]) == ("Lê Hoàng Cường", "kiểm tra đột xuất")


def test_daily_xlsx_names_both_half_day_excuses_of_a_day(db_session, config):
    """A day made whole by a morning and an afternoon excuse: the excused list and the
    employee's status name both, each with its part, not the morning's for the day."""
    people = november(db_session)
    friday = date(2026, 11, 13)
    excuse(db_session, people["E004"], friday, part="morning", kind="other", reason="<i>ok</i>")
    excuse(db_session, people["E004"], friday, part="afternoon", reason="Việc gia đình",
           comment="Đồng ý")
    book = load_workbook(io.BytesIO(daily_xlsx(compile_daily(db_session, config, friday))))
    [excused] = _rows(book["Nghỉ có lý do"])
    assert (excused["Mã cán bộ"], excused["Loại lý do"], excused["Người duyệt"],
            excused["Lý do"], excused["Ý kiến người duyệt"]) == (
        "E004", "lý do khác, buổi sáng; nghỉ phép, buổi chiều", "Lê Văn Trưởng",
        "<i>ok</i>; Việc gia đình", "<i>ok</i>; Đồng ý")
    detail = {r["Mã cán bộ"]: r for r in _rows(book["Chi tiết"])}
    assert detail["E004"]["Tình trạng"] == (
        "nghỉ có lý do (lý do khác, buổi sáng; nghỉ phép, buổi chiều)")


@pytest.fixture
def config_file(tmp_path) -> Path:
    text = (Path(__file__).parent.parent / "config" / "default.toml").read_text(encoding="utf-8")
    path = tmp_path / "hanoi.toml"
    path.write_text('place = "Hà Nội"\n' + text, encoding="utf-8")
    return path


def test_daily_pdf_in_the_decree_30_frame(db_session, cli, tmp_path, config_file):
    november(db_session)
    db_session.commit()
    path = tmp_path / "ngay.pdf"
    result = cli("--config", str(config_file), "report", "daily", "--date", "2026-11-02",
                 "--unit", "SNV", "--format", "pdf", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "UBND TỈNH" in text and "SỞ NỘI VỤ" in text  # agency above the unit
    assert "Hà Nội, ngày" in text
    assert "BÁO CÁO" in text and "02/11/2026" in text
    assert "Sở Nội vụ" in text and "Phòng Tổ chức" in text
    assert "Nguyễn Văn An" in text and "đi muộn" in text and "07:42:10" in text
    assert "THỦ TRƯỞNG ĐƠN VỊ" in text


def test_daily_pdf_of_a_day_off_says_why_it_holds_zeros(db_session, config, tmp_path):
    """A holiday's or a Sunday's report lists nobody expected; it says so, and why (QA)."""
    from attendance.exports import daily_pdf

    november(db_session)
    for day, reason in ((date(2026, 9, 2), "Quốc khánh"),
                        (date(2026, 11, 8), "ngày nghỉ hằng tuần")):
        path = tmp_path / f"{day}.pdf"
        path.write_bytes(daily_pdf(compile_daily(db_session, config, day), config))
        text = " ".join(pdf_text(path).split())
        assert (f"Ngày {day:%d/%m/%Y} không phải ngày làm việc ({reason}): không có ai phải "
                "có mặt.") in text
    path.write_bytes(daily_pdf(compile_daily(db_session, config, MONDAY), config))
    assert "không phải ngày làm việc" not in pdf_text(path)


def test_daily_pdf_page_is_a4_with_the_decree_margins(db_session, config):
    from pypdf import PdfReader

    from attendance import pdf
    from attendance.exports import daily_pdf

    november(db_session)
    data = daily_pdf(compile_daily(db_session, config, MONDAY), config)
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    mm = 72 / 25.4
    assert 30 * mm <= pdf.MARGIN_LEFT <= 35 * mm and 15 * mm <= pdf.MARGIN_RIGHT <= 20 * mm
    assert 20 * mm <= pdf.MARGIN_TOP <= 25 * mm and 20 * mm <= pdf.MARGIN_BOTTOM <= 25 * mm
    fonts = {str(font) for font in _fonts(page)}
    assert any("LiberationSerif" in f for f in fonts), fonts


def _fonts(page) -> list:
    resources = page["/Resources"]["/Font"]
    return [resources[name]["/BaseFont"] for name in resources]


def test_daily_cli_csv_and_xlsx(db_session, cli, tmp_path):
    november(db_session)
    db_session.commit()
    result = cli("report", "daily", "--date", "2026-11-02", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "Nguyễn Văn An" in result.stdout_bytes.decode("utf-8-sig")
    path = tmp_path / "ngay.xlsx"
    result = cli("report", "daily", "--date", "2026-11-02", "--unit", "STC", "--format", "xlsx",
                 "-o", str(path))
    assert result.exit_code == 0, result.output
    names = {r["Họ và tên"] for r in _rows(load_workbook(path)["Chi tiết"])}
    assert names == {"Phạm Thị Dung", FORMULA_NAME}
    result = cli("report", "daily", "--date", "2026-11-02", "--format", "json")
    assert {u["unit"] for u in json.loads(result.output)["units"]} == {"PTC", "SNV", "STC"}
    result = cli("report", "daily", "--date", "2026-11-02", "--unit", "NOPE", "--format", "csv")
    assert result.exit_code == 1
