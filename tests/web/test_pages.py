"""Pages: escaping of names, admin users and stations, the audit log, the daily report page."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from attendance.models import AuditEntry, Station, Unit, User
from factories import make_employee, make_unit
from web_helpers import csrf_token, use_english

EVIL = '<script>alert("x")</script><b onmouseover=1>'
DAY = "2026-11-23"


def test_html_in_names_is_escaped(login_as, session_factory, province):
    with session_factory() as session:
        unit = make_unit(session, "EVIL", EVIL, parent=session.get(Unit, province["SNV"]))
        employee = make_employee(session, unit, "E-EVIL", EVIL, position=EVIL)
        session.commit()
        employee_id = employee.id
    client = login_as("admin")
    pages = ["/units", "/employees", f"/employees/{employee_id}", "/employees?unit=EVIL",
             f"/reports/daily?date={DAY}", f"/reports/daily?date={DAY}&unit=EVIL"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b onmouseover" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_search_box_echo_is_escaped(login_as):
    html = login_as("admin").get('/employees?q="><script>x</script>').get_data(as_text=True)
    assert "<script>x</script>" not in html


def test_employee_search_needs_no_tones(login_as, session_factory, province):
    """Typed without tones, as at the guard's desk: "duc" finds "Đức", "hoa binh" "Hoà Bình"."""
    with session_factory() as session:
        unit = session.get(Unit, province["STC"])
        make_employee(session, unit, "S1", "Nguyễn Văn Đức")
        make_employee(session, unit, "S2", "Trần Thị Hoà Bình")
        session.commit()
    client = login_as("admin")
    for query, found, not_found in [("van duc", "S1", "S2"), ("HOA BINH", "S2", "S1"),
                                    ("Đức", "S1", "S2"), ("s2", "S2", "S1")]:
        html = client.get("/employees", query_string={"q": query}).get_data(as_text=True)
        assert f">{found}<" in html and f">{not_found}<" not in html, query


def test_employees_are_sorted_by_given_name(login_as, session_factory, province):
    with session_factory() as session:
        unit = session.get(Unit, province["STC"])
        for code, name in [("S1", "Nguyễn Văn Ân"), ("S2", "Trần An"), ("S3", "Lê Thị Ánh"),
                           ("S4", "Phạm Bảo")]:
            make_employee(session, unit, code, name)
        session.commit()
    html = login_as("admin").get("/employees?unit=STC").get_data(as_text=True)
    order = [n for n in re.findall(r">([^<>]+)</a></td>", html)]
    # a < ă < â are letters of their own; tones only break ties: An, Ánh, Ân, Bảo.
    assert order.index("Trần An") < order.index("Lê Thị Ánh") < order.index("Nguyễn Văn Ân") \
        < order.index("Phạm Bảo")


def test_admin_creates_users(login_as, session_factory):
    client = login_as("admin")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "head_stc", "role": "unit_head", "unit": "STC",
        "employee": "", "password": "mat-khau-789", "confirm": "mat-khau-789"})
    assert response.status_code == 302
    # A unit head without a unit and a staff account without an employee are refused.
    for data, message in [({"role": "unit_head", "unit": ""}, "Thủ trưởng đơn vị cần chọn đơn vị"),
                          ({"role": "staff", "employee": ""}, "Tài khoản cán bộ cần mã cán bộ"),
                          ({"role": "staff", "employee": "NOPE"}, "Không có cán bộ có mã này"),
                          ({"role": "emperor"}, "Vai trò không hợp lệ"),
                          ({"username": "head_stc"}, "Tên đăng nhập đã được dùng")]:
        form = {"csrf_token": token, "username": "someone", "role": "inspector", "unit": "",
                "employee": "", "password": "mat-khau-789", "confirm": "mat-khau-789", **data}
        response = client.post("/admin/users/new", data=form)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    with session_factory() as session:
        user = session.scalar(select(User).where(User.username == "head_stc"))
        assert user.role == "unit_head" and user.unit.code == "STC"
        assert session.scalar(select(User).where(User.username == "someone")) is None
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "user.created")) \
            .target == "user:head_stc"
    assert "head_stc" in client.get("/admin/users").get_data(as_text=True)
    # What the domain refuses is said in English on an English page.
    use_english(client)
    response = client.post("/admin/users/new", data={
        "csrf_token": token, "username": "someone-1", "role": "inspector", "unit": "",
        "employee": "", "password": "someone-1", "confirm": "someone-1"})
    assert response.status_code == 400
    assert ("Could not create the account: the password may not be the username"
            in response.get_data(as_text=True))


def test_station_key_is_shown_once_and_stored_hashed(login_as, session_factory):
    client = login_as("admin")
    token = csrf_token(client, "/admin/stations/new")
    response = client.post("/admin/stations/new", data={
        "csrf_token": token, "code": "CONG-STC", "name": "Cổng chính", "unit": "STC"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    key = re.search(r'id="station-key">([^<]+)<', response.get_data(as_text=True)).group(1)
    with session_factory() as session:
        station = session.scalar(select(Station).where(Station.code == "CONG-STC"))
        assert station.key_hash == hashlib.sha256(key.encode()).hexdigest()
    listing = client.get("/admin/stations").get_data(as_text=True)
    assert "CONG-STC" in listing and key not in listing and "Chưa kết nối" in listing
    # The key works at once, and the list then shows when the station was last seen.
    assert client.post("/api/v1/scans", json={"scans": []},
                       headers={"Authorization": f"Bearer {key}"}).status_code == 400
    # Duplicate codes are refused.
    response = client.post("/admin/stations/new", data={
        "csrf_token": token, "code": "CONG-STC", "unit": "STC"})
    assert response.status_code == 400
    assert "mã điểm quét CONG-STC đã được dùng" in response.get_data(as_text=True)
    use_english(client)
    response = client.post("/admin/stations/new", data={
        "csrf_token": token, "code": "CONG-STC", "unit": "STC"})
    assert "the station code CONG-STC is taken" in response.get_data(as_text=True)


def test_audit_log_page(login_as):
    client = login_as("admin")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Nhật ký hệ thống" in html and "auth.login" in html


HUGE = "99999999999999999999"


def test_huge_numbers_in_addresses_are_not_a_server_error(login_as, province):
    client = login_as("admin")
    # The other paged lists take any page to the nearest one (as page=0 or page=-1).
    for path in ("/admin/audit", "/employees", "/excuses", "/feedback"):
        response = client.get(f"{path}?page={HUGE}")
        assert response.status_code == 200, path
    # An id no row can have is not found (it was an OverflowError on SQLite: a 500).
    for path in (f"/employees/{HUGE}", f"/excuses/{HUGE}", f"/spotcheck/{HUGE}",
                 f"/reports/issued/{HUGE}", "/employees/2147483648"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Không tìm thấy trang" in response.get_data(as_text=True)
    assert client.get(f"/employees/{province['e_p1']}").status_code == 200


def test_daily_report_page_lists_with_vietnamese_headers(login_as):
    client = login_as("head_snv")
    html = client.get(f"/reports/daily?date={DAY}&unit=SNV").get_data(as_text=True)
    assert "Báo cáo ngày 23/11/2026" in html
    # At 10:00 the day is not over: who has no check-in has not arrived yet.
    assert "Chưa đến" in html and "Trần Thị Bình" in html and "Vắng không lý do" not in html
    assert "Tỷ lệ đeo thẻ" in html
    html = client.get("/reports/daily?date=2026-11-20&unit=SNV").get_data(as_text=True)
    assert "Vắng không lý do" in html and "Trần Thị Bình" in html


def test_daily_report_page_rejects_a_bad_date(login_as):
    assert login_as("inspector").get("/reports/daily?date=hôm-nay").status_code == 400


@pytest.mark.parametrize("url, hint", [
    ("/reports/daily?date=abc", "Ngày không hợp lệ: cần dạng năm-tháng-ngày"),
    ("/reports/daily?date=0001-01-01", "năm từ 1900 đến 9998"),
    ("/reports/monthly?month=2026-13", "Tháng không hợp lệ: cần dạng năm-tháng"),
    ("/violations?from=1900-01-01&to=2100-01-01",
     "Từ ngày 01/01/1900 đến ngày 01/01/2100 là 73050 ngày, quá 366 ngày"),
    ("/violations?page=0", "Số trang hoặc số dòng mỗi trang không hợp lệ"),
])
def test_a_bad_address_says_what_was_wrong(login_as, url, hint):
    response = login_as("inspector").get(url)
    assert response.status_code == 400
    assert hint in response.get_data(as_text=True)


def test_employee_page_shows_the_unit_path(login_as, province):
    html = login_as("inspector").get(f"/employees/{province['e_p1']}").get_data(as_text=True)
    assert "UBND tỉnh › Sở Nội vụ › Phòng Công chức" in html


def test_pages_in_english(login_as, client):
    login_as("admin")
    client.post("/auth/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    html = client.get("/admin/stations").get_data(as_text=True)
    assert "Scan stations" in html and "Sign out" in html
    html = client.get(f"/reports/daily?date={DAY}").get_data(as_text=True)
    assert "Badge compliance" in html and "Not arrived yet" in html


def test_one_unit_is_a_unit_in_english(login_as, client):
    """A column or field of one unit reads "Unit"; the list of all units (the menu, its page,
    the kind of data to import) reads "Units". Vietnamese says "Đơn vị" for both."""
    login_as("admin")
    client.post("/auth/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    html = client.get("/employees").get_data(as_text=True)
    assert re.findall(r"<th>(Units?)</th>", html) == ["Unit"]
    assert 'data-label="Unit"' in html and 'data-label="Units"' not in html
    assert re.search(r'<a href="/units"[^>]*>Units</a>', html)
    assert "<h1>Units</h1>" in client.get("/units").get_data(as_text=True)
    assert '<option value="units">Units</option>' in client.get(
        "/admin/import").get_data(as_text=True)
    assert re.findall(r"<th>(Units?)</th>", client.get("/admin/users").get_data(
        as_text=True)) == ["Unit"]
    client.post("/auth/language", data={"lang": "vi", "csrf_token": csrf_token(client, "/")})
    html = client.get("/employees").get_data(as_text=True)
    assert "<th>Đơn vị</th>" in html and re.search(r'<a href="/units"[^>]*>Đơn vị</a>', html)


def test_counts_of_one_are_singular_in_english(login_as, client, province, session_factory):
    """Each unit of the fixture has one person: "1 person", not "1 people"; two are
    "2 people". Vietnamese has no plural ("1 người", "2 người")."""
    with session_factory() as session:
        make_employee(session, session.get(Unit, province["STC"]), "E-STC2", "Đỗ Thị Hoa")
        session.commit()
    login_as("admin")
    html = client.get("/units").get_data(as_text=True)
    assert "· 1 người" in html and "· 2 người" in html
    client.post("/auth/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    html = client.get("/units").get_data(as_text=True)
    assert "· 1 person" in html and "· 2 people" in html and "1 people" not in html
    assert "4 people" in client.get("/employees").get_data(as_text=True)
    html = client.get("/employees?unit=SNV-P1").get_data(as_text=True)
    assert re.search(r'<p class="muted">1 person</p>', html)


def test_units_page_names_schedules_as_the_calendar_does(login_as, session_factory, config):
    with session_factory() as session:
        session.scalar(select(Unit).where(Unit.code == "STC")).schedule = "default"
        session.commit()
    page = login_as("admin").get("/units").get_data(as_text=True)
    named = config.schedules["default"].name
    assert (named or "Lịch: default") in page and '<span class="tag">default<' not in page
