"""The violation log page, its exports, repeat offenders, and GET /api/v1/violations."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qsl

import pytest
from openpyxl import load_workbook

from attendance import exports
from november_data import build
from report_factories import FORMULA_NAME, pdf_text
from web_helpers import csrf_token, use_english

RANGE = "from=2026-11-01&to=2026-11-20"


def _rows(html: str) -> list[str]:
    body = html[html.index('class="violations"'):html.index("</table>")]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]


def test_log_lists_every_finding_in_the_range(login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    html = client.get(f"/violations?{RANGE}").get_data(as_text=True)
    assert "7 vi phạm từ ngày 01/11/2026 đến ngày 20/11/2026." in html
    rows = _rows(html)
    # 2, 3, 4/11 late (E-P1); 5/11 no badge (E-STC); 6/11 absent (E-SNV);
    # 9/11 absent but excused (E-SNV); 10/11 late (E-FX).
    assert [re.search(r"\d\d/11/2026", r).group(0) for r in rows] == [
        "02/11/2026", "03/11/2026", "04/11/2026", "05/11/2026", "06/11/2026", "09/11/2026",
        "10/11/2026"]
    assert "Đi muộn" in rows[0] and "07:45" in rows[0] and "15 phút" in rows[0]
    assert "Không đeo thẻ" in rows[3] and "Bảo vệ ghi nhận" in rows[3]
    # Each name opens the employee's page (where a record made in error is withdrawn).
    employee_page = re.search(r'href="(/employees/\d+)"', rows[3]).group(1)
    assert "Phạm Minh Dũng" in client.get(employee_page).get_data(as_text=True)
    assert "Có lý do đã duyệt" in rows[5] and "Nghỉ phép" in rows[5]
    assert FORMULA_NAME.replace("'", "&#39;") in rows[6]


def test_the_count_says_one_violation_in_english(login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    use_english(client)
    html = client.get(f"/violations?{RANGE}&status=excused").get_data(as_text=True)
    assert "1 violation from 01/11/2026 to 20/11/2026." in html
    html = client.get(f"/violations?{RANGE}").get_data(as_text=True)
    assert "7 violations from 01/11/2026 to 20/11/2026." in html


def test_the_log_stops_at_today_which_has_no_absence_before_it_ends(
        login_as, session_factory, clock):
    """At 10:00 on Monday 23/11 E-FX has not come in yet: not absent (yet), and the days to
    come have no findings at all; once the day is over, the absence is there."""
    build(session_factory)
    client = login_as("inspector")
    week = "from=2026-11-23&to=2026-11-27"
    rows = _rows(client.get(f"/violations?{week}").get_data(as_text=True))
    assert len(rows) == 1 and "Lê Văn Cường" in rows[0] and "Đi muộn" in rows[0]
    assert "23/11/2026" in rows[0]
    exported = client.get(f"/violations/export/csv?{week}").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(exported)))) == 2  # the header and the late row
    items = client.get(f"/api/v1/violations?{week}").get_json()["items"]
    assert [(i["employee"], i["date"], i["type"]) for i in items] == [
        ("E-P1", "2026-11-23", "late")]
    clock.now = clock.now.replace(hour=18)  # 01:00 on Tuesday in Hà Nội
    rows = _rows(client.get(f"/violations?{week}").get_data(as_text=True))
    assert [(("E-FX" in r), ("Vắng không lý do" in r)) for r in rows if "E-FX" in r] == [
        (True, True)]


def test_a_page_past_the_end_goes_to_the_last_one(login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    response = client.get(f"/violations?{RANGE}&type=late&type=absent&per_page=2&page=99")
    assert response.status_code == 302
    last = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "page=3" in response.headers["Location"] and len(_rows(last)) == 2  # 6 rows
    assert "type=late" in response.headers["Location"]
    assert "type=absent" in response.headers["Location"]


def test_filters(login_as, session_factory):
    build(session_factory)
    client = login_as("admin")

    def count(query: str) -> int:
        html = client.get(f"/violations?{RANGE}&{query}").get_data(as_text=True)
        return int(re.search(r"(\d+) vi phạm từ ngày", html).group(1))

    assert count("type=late") == 4
    assert count("type=đi muộn") == 4  # the Vietnamese label works too
    assert count("type=late,absent") == 6
    assert count("status=open") == 6 and count("status=excused") == 1
    assert count("unit=SNV") == 5  # with its sub-unit SNV-P1
    assert count("unit=SNV-P1") == 3
    assert count("employee=E-SNV") == 2
    assert count("employee=E-SNV&status=open") == 1
    assert client.get(f"/violations?{RANGE}&type=sleeping").status_code == 400
    assert client.get("/violations?from=2026-11-20&to=2026-11-01").status_code == 400
    assert client.get("/violations?from=2025-01-01&to=2026-11-20").status_code == 400


def test_default_range_is_this_month_through_yesterday(login_as, session_factory):
    build(session_factory)
    html = login_as("admin").get("/violations").get_data(as_text=True)
    assert 'name="from" value="2026-11-01"' in html and 'name="to" value="2026-11-22"' in html


def test_unit_head_sees_their_units_only(login_as, session_factory):
    build(session_factory)
    client = login_as("head_snv")
    html = client.get(f"/violations?{RANGE}").get_data(as_text=True)
    assert "5 vi phạm" in html and "Phạm Minh Dũng" not in html and 'value="STC"' not in html
    # An employee of another unit is simply not in their log.
    assert "0 vi phạm" in client.get(f"/violations?{RANGE}&employee=E-STC").get_data(as_text=True)


def test_pagination_keeps_the_filters(login_as, session_factory):
    build(session_factory)
    client = login_as("admin")
    html = client.get(f"/violations?{RANGE}&type=late&per_page=3").get_data(as_text=True)
    assert len(_rows(html)) == 3 and "Trang 1/2" in html
    link = re.search(r'href="(/violations\?[^"]*page=2[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "type=late" in link and "per_page=3" in link
    second = client.get(link).get_data(as_text=True)
    assert len(_rows(second)) == 1 and "10/11/2026" in second
    assert client.get(f"/violations?{RANGE}&page=0").status_code == 400


@pytest.mark.parametrize("args, message", [
    ("from=2026-11-30&to=2026-11-01", "Từ ngày 30/11/2026 sau đến ngày 01/11/2026"),
    ("from=2025-01-01&to=2026-11-01", "Từ ngày 01/01/2025 đến ngày 01/11/2026 là 670 ngày, "
                                      "quá 366 ngày"),
    ("from=2026-11-01&to=hôm-nay", "Đến ngày không hợp lệ: hôm-nay; cần một ngày"),
    ("from=2026-11-01&to=2026-11-30&status=moi", "Không có trạng thái moi"),
])
def test_a_bad_filter_keeps_the_log_page_and_the_values_typed(login_as, session_factory,
                                                              args, message):
    build(session_factory)
    client = login_as("admin")
    page = client.get(f"/violations?{args}&unit=SNV&type=late&employee=E001")
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    # One message naming what is wrong, above the form as the user filled it; no rows.
    assert html.count('class="flash flash-error"') == 1 and message in html
    assert "Yêu cầu không hợp lệ" not in html and "khoảng ngày tối đa" not in html
    typed = dict(parse_qsl(args))
    for name in ("from", "to"):
        assert f'name="{name}" value="{typed[name]}"' in html
    assert 'name="employee" value="E001"' in html and '<option value="late" selected>' in html
    assert 'value="SNV"' in html and "<table" not in html
    # The API keeps its JSON error, in English.
    api = client.get(f"/api/v1/violations?{args}")
    assert api.status_code == 400 and set(api.get_json()) == {"error"}


def test_a_page_number_too_large_is_refused_like_page_0(login_as, session_factory):
    # It used to reach the database as the row offset: OverflowError (SQLite), a 500.
    build(session_factory)
    client = login_as("admin")
    huge = "page=99999999999999999999"
    page = client.get(f"/violations?{RANGE}&{huge}")
    assert page.status_code == 400
    assert "Số trang hoặc số dòng mỗi trang không hợp lệ" in page.get_data(as_text=True)
    api = client.get(f"/api/v1/violations?{RANGE}&{huge}")
    assert api.status_code == 400
    assert api.get_json()["error"] == "page must be 1 to 1000000000, per_page 1 to 200"
    # The last page allowed is answered (empty: far past the log).
    last = client.get(f"/api/v1/violations?{RANGE}&page=1000000000&per_page=200")
    assert last.status_code == 200 and last.get_json()["items"] == []
    assert client.get(f"/violations?{RANGE}&page=1000000001").status_code == 400


def test_export_xlsx_and_csv_follow_the_filters_and_neutralize(login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    html = client.get(f"/violations?{RANGE}&type=late").get_data(as_text=True)
    link = re.search(r'href="(/violations/export/xlsx\?[^"]+)"', html).group(1)
    link = link.replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="nhat-ky-vi-pham-2026-11-01-2026-11-20-tat-ca.xlsx"'
    sheet = load_workbook(io.BytesIO(response.data))["Nhật ký vi phạm"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 4 and {r[6] for r in rows} == {"đi muộn"}
    assert FORMULA_NAME in [r[2] for r in rows]  # a text cell, without the CSV's "'"
    assert "-Chuyên viên" in [r[3] for r in rows]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    text = client.get(link.replace("/xlsx", "/csv")).data.decode("utf-8-sig")
    names = [r[2] for r in csv.reader(io.StringIO(text))][1:]
    assert len(names) == 4 and "'" + FORMULA_NAME in names


def test_exports_give_the_employee_s_reason_and_the_approver_s_comment_apart(
        login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    text = client.get(f"/violations/export/csv?{RANGE}&status=excused").data.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    row = dict(zip(header, row))
    assert (row["Lý do"], row["Ý kiến người duyệt"]) == ("Nghỉ phép về quê", "Đồng ý")
    sheet = load_workbook(io.BytesIO(client.get(
        f"/violations/export/xlsx?{RANGE}&status=excused").data))["Nhật ký vi phạm"]
    header, row = sheet.iter_rows(values_only=True)
    row = dict(zip(header, row))
    assert (row["Lý do"], row["Ý kiến người duyệt"]) == ("Nghỉ phép về quê", "Đồng ý")


def test_a_pdf_past_its_row_limit_is_refused_with_the_filters_kept(
        login_as, session_factory, monkeypatch):
    build(session_factory)
    client = login_as("inspector")
    monkeypatch.setattr(exports, "PDF_MAX_ROWS", 3)  # 4 late arrivals in the range
    response = client.get(f"/violations/export/pdf?{RANGE}&type=late")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/violations?{RANGE}&type=late"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hơn 3 dòng: quá nhiều cho một tệp PDF. Hãy thu hẹp bộ lọc hoặc tải XLSX, CSV." in html
    monkeypatch.setattr(exports, "PDF_MAX_ROWS", 4)
    response = client.get(f"/violations/export/pdf?{RANGE}&type=late")
    assert response.status_code == 200 and response.data[:4] == b"%PDF"


def test_repeat_offenders_tab(login_as, session_factory):
    build(session_factory)
    client = login_as("head_snv")
    html = client.get("/violations/offenders?month=2026-11").get_data(as_text=True)
    assert "Lê Văn Cường" in html and "Trần Thị Bình" in html
    assert "Phạm Minh Dũng" not in html
    sheet = load_workbook(io.BytesIO(
        client.get("/violations/offenders/export/xlsx?month=2026-11").data))["Vi phạm nhiều lần"]
    assert {r[2] for r in sheet.iter_rows(min_row=2, values_only=True)} == \
        {"Lê Văn Cường", "Trần Thị Bình"}


def test_the_thresholds_in_english_count_days_in_the_singular_and_plural(login_as):
    """The default thresholds: late on 3 days, absent on 1 day (Vietnamese: "3 ngày",
    "1 ngày"; English must not say "1 days")."""
    client = login_as("inspector")
    html = client.get("/violations/offenders?month=2026-11").get_data(as_text=True)
    assert "đi muộn từ 3 ngày trở lên; vắng không lý do từ 1 ngày trở lên" in html
    client.post("/auth/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    for page in ("/violations/offenders?month=2026-11", "/reports/monthly?month=2026-11"):
        html = client.get(page).get_data(as_text=True)
        assert "late on 3 days or more; absent without reason on 1 day or more" in html, page
        assert "1 days" not in html, page


def test_api_items_and_paging(login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    page = client.get(f"/api/v1/violations?{RANGE}&type=late&per_page=3&page=2").get_json()
    assert page["total"] == 4 and page["pages"] == 2 and page["page"] == 2
    assert page["filters"] == {"unit": None, "type": ["late"], "employee": None, "status": None}
    (item,) = page["items"]
    assert item["employee"] == "E-FX" and item["full_name"] == FORMULA_NAME
    assert item["type"] == "late" and item["type_label"] == "đi muộn"
    assert item["at"] == "2026-11-10T07:40:00+07:00" and item["minutes"] == 10
    excused = client.get(f"/api/v1/violations?{RANGE}&status=excused").get_json()["items"]
    assert excused[0]["excuse"]["kind"] == "leave" and excused[0]["status"] == "excused"
    bad = client.get("/api/v1/violations?per_page=1000")
    assert bad.status_code == 400 and "per_page" in bad.get_json()["error"]
    assert client.get("/api/v1/violations?from=yesterday").status_code == 400


def test_api_scope(login_as, session_factory, client):
    build(session_factory)
    head = login_as("head_snv").get(f"/api/v1/violations?{RANGE}").get_json()
    assert {i["unit"] for i in head["items"]} == {"SNV", "SNV-P1"}
    client.post("/auth/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)})
    staff = login_as("staff_snv")
    own = staff.get(f"/api/v1/violations?{RANGE}").get_json()
    assert own["total"] == 2 and {i["employee"] for i in own["items"]} == {"E-SNV"}
    assert staff.get(f"/api/v1/violations?{RANGE}&employee=E-P1").get_json()["total"] == 0
    assert staff.get("/api/v1/violations?unit=SNV").status_code == 404
    assert staff.get("/violations").status_code == 403


def test_an_absence_excused_by_two_half_days_names_both(login_as, session_factory):
    """E-SNV's absence of 6/11, excused for the morning (lý do khác) and for the afternoon
    (nghỉ phép): the row says 'Có lý do đã duyệt' with both excuses, not the morning's alone."""
    from datetime import date

    from sqlalchemy import select

    from attendance.models import Employee
    from report_factories import excuse

    build(session_factory)
    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "E-SNV"))
        excuse(session, employee, date(2026, 11, 6), part="morning", kind="other",
               reason="Khám bệnh")
        excuse(session, employee, date(2026, 11, 6), part="afternoon")
        session.commit()
    client = login_as("inspector")
    [row] = [r for r in _rows(client.get(f"/violations?{RANGE}").get_data(as_text=True))
             if "06/11/2026" in r]
    assert "Vắng có lý do" in row and "Có lý do đã duyệt" in row
    assert "Lý do khác, buổi sáng · Lê Văn Trưởng; Nghỉ phép, buổi chiều · Lê Văn Trưởng" in row
    [item] = [i for i in client.get(f"/api/v1/violations?{RANGE}").get_json()["items"]
              if i["date"] == "2026-11-06"]
    assert [(e["part"], e["kind"]) for e in item["excuses"]] == [
        ("morning", "other"), ("afternoon", "leave")]
    assert item["excuse"] == item["excuses"][0]


def test_the_log_pdf_is_issued_by_who_exports_it_not_by_the_unit_filtered(
        login_as, session_factory, province, tmp_path):
    """QA: an inspector's log filtered to the Sở Nội vụ was headed "SỞ NỘI VỤ", as if the
    Sở had issued the inspectors' log; a unit head's is his unit's, whatever the filter."""
    build(session_factory)

    def header(client, path):
        target = tmp_path / "log.pdf"
        target.write_bytes(client.get(path).data)
        return pdf_text(target)

    paths = (f"/violations/export/pdf?{RANGE}&unit=SNV",
             "/violations/offenders/export/pdf?month=2026-11&unit=SNV")
    inspector = login_as("inspector")
    assert ["SỞ NỘI VỤ" in header(inspector, path) for path in paths] == [False, False]
    inspector.post("/auth/logout", data={"csrf_token": csrf_token(inspector, "/")})
    head = login_as("head_snv")
    assert ["SỞ NỘI VỤ" in header(head, path.replace("SNV", "SNV-P1"))
            for path in paths] == [True, True]
