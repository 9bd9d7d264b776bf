"""Each role's main paths in a real browser, on the demo province (see conftest.py).

- a unit head (thutruong) reviews today's dashboard and report, and approves an excuse that
  a staff member requested;
- an inspector (thanhtra) records a spot check and exports the violation log (xlsx, opened
  with openpyxl; a name written as a formula stays text);
- a staff member (nhanvien) sees only their own record;
- the spot check and the dashboard fit a phone (390×844).
Screenshots of the main pages go to docs/screenshots/.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from e2e_helpers import FORMULA_CODE, FORMULA_NAME, TODAY, has_route, screenshot

pytestmark = pytest.mark.e2e
TIMEOUT = 15_000


def _staff(factory):
    from attendance.models import Employee, User

    with factory() as session:
        user = session.scalar(select(User).where(User.username == "nhanvien"))
        employee = session.get(Employee, user.employee_id)
        return employee.id, employee.code, employee.full_name


def test_unit_head_reviews_today_and_approves_an_excuse(sign_in, e2e_server):
    _, factory, config = e2e_server
    head = sign_in("thutruong")
    # The home page is today's dashboard of the unit and its sub-units.
    expect(head.locator("h1")).to_contain_text("Hôm nay 23/11/2026")
    expect(head.locator("#arrivals tr").first).to_be_visible()
    assert head.locator("#units tr").count() >= 2
    assert head.locator("svg.chart").count() == 2
    screenshot(head, "dashboard", full_page=True)

    # Arrivals as they happen: a scan recorded now shows up without reloading the page.
    from attendance.models import Employee, Scan
    from attendance.models.chain import append

    _, staff_code, staff_name = _staff(factory)
    with factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == staff_code))
        at = datetime.combine(TODAY, datetime.strptime("09:59:30", "%H:%M:%S").time(),
                              config.tz)
        append(session, Scan(source="import:e2e", event_id="e2e-live", employee_id=employee.id,
                             status="accepted", scanned_at=at, station_time=at,
                             received_at=at, flags=""), "scan:import")
        session.commit()
    expect(head.locator("#arrivals tr").first).to_contain_text("09:59:30", timeout=TIMEOUT)
    expect(head.locator("#arrivals tr").first).to_contain_text(staff_name)
    # Units of a province share names ("Văn phòng Sở"): each unit row also names its code,
    # after the live refresh too.
    expect(head.locator("#units tr", has_text="Văn phòng Sở")).to_contain_text("(SNV-VP)")

    # Today's report of the unit, with its exports.
    head.click("nav.nav >> text=Báo cáo ngày")
    expect(head.locator("h1")).to_contain_text("Báo cáo ngày 23/11/2026")
    expect(head.locator("section.report-unit").first).to_be_visible()
    for fmt in ("XLSX", "PDF", "CSV"):
        expect(head.locator("p.exports a", has_text=fmt)).to_be_visible()
    with head.expect_download() as download:
        head.click("p.exports >> text=PDF")
    assert download.value.suggested_filename.startswith("bao-cao-ngay-2026-11-23")
    screenshot(head, "daily-report")

    head.click("nav.nav >> text=Báo cáo tháng")
    expect(head.locator("table.ranking")).to_be_visible()
    screenshot(head, "monthly-report")

    if not has_route(head, "/excuses"):
        pytest.skip("the excuses pages (web/excuses) are not installed yet: no excuse to approve")
    # The staff member asks for a day of leave …
    staff = sign_in("nhanvien")
    staff.goto("/excuses/new")
    staff.select_option("#kind", "leave")
    staff.fill("#start_date", "2026-11-26")
    staff.fill("#end_date", "2026-11-26")
    staff.select_option("#part", "full")
    staff.fill("#note", "Việc gia đình (e2e)")
    staff.click("button[type=submit].primary")
    expect(staff.locator(".flash-success")).to_be_visible()
    # … and their unit head approves it.
    head.goto("/excuses")
    head.locator("a", has_text=staff_name).first.click()
    expect(head.locator("h1")).to_contain_text(staff_name)
    screenshot(head, "excuse-review")
    head.click("button[value=approved]")
    expect(head.locator(".flash-success")).to_contain_text(f"Đã duyệt đơn của {staff_name}")
    from attendance.models import Excuse

    with factory() as session:
        excuse = session.scalar(select(Excuse).where(Excuse.note == "Việc gia đình (e2e)"))
        assert excuse.status == "approved" and excuse.start_date == date(2026, 11, 26)


def test_inspector_records_a_spot_check_and_exports_the_violation_log(sign_in):
    inspector = sign_in("thanhtra")
    if not has_route(inspector, "/spotcheck"):
        pytest.skip("the spot-check pages (web/spotcheck) are not installed yet")
    inspector.click("nav.nav >> text=Kiểm tra đột xuất")
    inspector.click("ul.tree >> text=Sở Nội vụ")
    people = inspector.locator("li.person")
    expect(people.first).to_be_visible()
    screenshot(inspector, "spot-check")
    # Two ordinary names (the formula-named employee of conftest.py is checked below).
    plain = [i for i in range(people.count())
             if people.nth(i).get_attribute("id") and
             not people.nth(i).locator("strong").inner_text().startswith("=")][:2]
    first = people.nth(plain[0]).locator("strong").inner_text()
    second = people.nth(plain[1]).locator("strong").inner_text()
    people.nth(plain[0]).locator("input[value=present_without_badge]").check()
    people.nth(plain[1]).locator("input[value=absent_from_post]").check()
    inspector.click("button[type=submit].primary")
    expect(inspector.locator(".flash-success")).to_contain_text("Đã ghi nhận kết quả kiểm tra 2")

    # The findings enter the violation log at once.
    inspector.click("nav.nav >> text=Nhật ký vi phạm")
    inspector.fill("input[name=from]", "2026-11-23")
    inspector.fill("input[name=to]", "2026-11-23")
    inspector.fill(".unit-picker input[name=unit]", "SNV")  # a province: a search box
    inspector.select_option("select[name=type]", "no_badge")
    inspector.click("form.filters button[type=submit]")
    log = inspector.locator("table.violations tbody")
    expect(log).to_contain_text(first)
    expect(log).to_contain_text("Kiểm tra đột xuất")
    inspector.select_option("select[name=type]", "absent_from_post")
    inspector.click("form.filters button[type=submit]")
    expect(log).to_contain_text(second)
    screenshot(inspector, "violation-log")

    # Export the whole month's log of the unit as xlsx and open it.
    inspector.goto("/violations?from=2026-11-01&to=2026-11-23&unit=SNV")
    total = int(re.search(r"(\d+) vi phạm", inspector.locator("p.muted").first.inner_text())
                .group(1))
    with inspector.expect_download() as download:
        inspector.click("p.exports >> text=XLSX")
    assert download.value.suggested_filename == \
        "nhat-ky-vi-pham-2026-11-01-2026-11-23-SNV.xlsx"
    with open(download.value.path(), "rb") as handle:
        data = handle.read()
    sheet = load_workbook(io.BytesIO(data))["Nhật ký vi phạm"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == total > 0
    names = {r[2] for r in rows}
    assert first in names and second in names
    # A name that a spreadsheet would run as a formula is text in the file, as it is.
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == FORMULA_CODE)
    assert (cells[2].value, cells[3].value) == (FORMULA_NAME, "-Chuyên viên")
    assert cells[2].data_type == cells[3].data_type == "s"

    inspector.click("nav.tabs >> text=Vi phạm nhiều lần")
    expect(inspector.locator("h1")).to_contain_text("Vi phạm nhiều lần")


def test_staff_sees_only_their_own_record(sign_in, e2e_server):
    _, factory, _ = e2e_server
    own_id, own_code, own_name = _staff(factory)
    staff = sign_in("nhanvien")
    expect(staff.locator("main")).to_contain_text(own_name)
    nav = staff.locator("nav.nav").inner_text()
    for hidden in ("Báo cáo ngày", "Nhật ký vi phạm", "Kiểm tra đột xuất", "Cán bộ"):
        assert hidden not in nav, hidden
    screenshot(staff, "staff-home")
    assert staff.goto(f"/employees/{own_id}").status == 200
    from attendance.models import Employee

    with factory() as session:
        other = session.scalar(select(Employee.id).where(Employee.id != own_id)
                               .order_by(Employee.id))
    assert staff.goto(f"/employees/{other}").status == 404
    assert staff.goto("/reports/daily").status == 403
    assert staff.goto("/today").status == 403
    log = staff.request.get("/api/v1/violations?from=2026-11-01&to=2026-11-22").json()
    assert {item["employee"] for item in log["items"]} <= {own_code}


@pytest.mark.parametrize("path, name", [("/spotcheck/units/SNV", "phone-spot-check"),
                                        ("/", "phone-dashboard")])
def test_pages_fit_a_phone(sign_in, path, name):
    phone = sign_in("thanhtra", viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=1)
    if not has_route(phone, path):
        pytest.skip(f"{path} is not installed yet")
    phone.goto(path)
    # Nothing wider than the screen: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The menu folds behind its button.
    expect(phone.locator("nav.nav")).to_be_hidden()
    phone.click("label.nav-toggle-label")
    expect(phone.locator("nav.nav")).to_be_visible()
    phone.click("label.nav-toggle-label")
    screenshot(phone, name)


def test_filter_forms_fit_a_phone(sign_in):
    """The report, log and list pages' filters, the inspector's unit picker among them, must
    not push the pages wider than the phone."""
    phone = sign_in("thanhtra", viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=1)
    for path in ("/reports/daily", "/reports/monthly", "/violations", "/violations/offenders",
                 "/employees", "/feedback"):
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
