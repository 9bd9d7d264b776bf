"""The guards' desk in a real browser: a unit head records someone without a badge and
withdraws the record made in error; an inspector's record of the same person can only be
withdrawn by an inspector (here from the employee's page). Every record made here is
withdrawn, so the demo day the other browser tests read is unchanged."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from e2e_helpers import FORMULA_CODE, screenshot

pytestmark = pytest.mark.e2e


def _someone_of_the_heads_unit(factory) -> tuple[int, str, str]:
    from attendance.models import Employee, User

    with factory() as session:
        head = session.scalar(select(User).where(User.username == "thutruong"))
        employee = session.scalars(
            select(Employee).where(Employee.unit_id == head.unit_id, Employee.code != FORMULA_CODE,
                                   Employee.end_date.is_(None))
            .order_by(Employee.code)).first()
        return employee.id, employee.code, employee.full_name


def _record(page, code: str) -> None:
    page.goto(f"/entrance/no-badge?q={code}")
    page.locator("tr", has_text=code).get_by_role("button", name="Ghi nhận").click()
    expect(page.locator(".flash-success")).to_contain_text("không đeo thẻ")


def test_a_record_made_in_error_is_withdrawn_with_a_reason(sign_in, e2e_server):
    _, factory, _ = e2e_server
    employee_id, code, name = _someone_of_the_heads_unit(factory)
    head = sign_in("thutruong")
    _record(head, code)

    mine = head.locator("tr", has_text="thutruong").filter(has_text=code)
    mine.locator("summary").click()
    mine.locator("input[name=reason]").fill("Chọn nhầm người")
    mine.get_by_role("button", name="Hủy ghi nhận").click()
    expect(head.locator(".flash-success")).to_contain_text(
        f"Đã hủy ghi nhận không đeo thẻ của {name}")
    withdrawn = head.locator("tr", has_text="Chọn nhầm người")
    expect(withdrawn.locator(".status-rejected")).to_have_text("Đã hủy")
    expect(withdrawn).to_contain_text("thutruong")

    # An inspector's record of the same person: the head sees it and may not withdraw it.
    inspector = sign_in("thanhtra")
    _record(inspector, code)
    screenshot(inspector, "guard-desk")
    head.reload()
    theirs = head.locator("tr", has_text="thanhtra").filter(has_text=code)
    expect(theirs.locator(".status-approved")).to_have_text("Có hiệu lực")
    expect(theirs.get_by_role("button", name="Hủy ghi nhận")).to_have_count(0)

    # The inspector withdraws it from the employee's page, and stays there.
    inspector.goto(f"/employees/{employee_id}")
    section = inspector.locator("#no-badge")
    row = section.locator("tr", has_text="thanhtra").filter(has_text="Có hiệu lực")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("Đeo thẻ trong áo khoác")
    row.get_by_role("button", name="Hủy ghi nhận").click()
    expect(inspector.locator(".flash-success")).to_contain_text("Đã hủy ghi nhận")
    assert f"/employees/{employee_id}" in inspector.url
    expect(section.locator(".status-rejected")).to_have_count(2)
    expect(section.locator("tr", has_text="thanhtra").get_by_role(
        "button", name="Hủy ghi nhận")).to_have_count(0)


def test_an_inspector_withdraws_a_scan_from_the_employees_page(sign_in, e2e_server):
    """A scan on Sunday 22/11 (no working day, so no report changes) withdrawn with a reason;
    the unit head sees it withdrawn, without a form."""
    from datetime import datetime

    from attendance.models import Scan
    from attendance.models.chain import append

    _, factory, config = e2e_server
    employee_id, _, _ = _someone_of_the_heads_unit(factory)
    at = datetime(2026, 11, 22, 8, 5, 9, tzinfo=config.tz)
    with factory() as session:
        append(session, Scan(source="import:e2e", event_id="e2e-sunday", employee_id=employee_id,
                             status="accepted", scanned_at=at, station_time=at, received_at=at,
                             flags=""), "scan:import")
        session.commit()
    inspector = sign_in("thanhtra")
    inspector.goto(f"/employees/{employee_id}")
    row = inspector.locator("#scans tr", has_text="22/11/2026 08:05:09")
    expect(row).to_contain_text("Nhập từ tệp")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("Ảnh cho thấy người khác cầm thẻ")
    row.get_by_role("button", name="Hủy lượt quét").click()
    expect(inspector.locator(".flash-success")).to_contain_text("Đã hủy lượt quét thẻ của")
    expect(row.locator(".status-rejected")).to_have_text("Đã hủy")
    expect(row).to_contain_text("thanhtra: Ảnh cho thấy người khác cầm thẻ")
    row.scroll_into_view_if_needed()
    screenshot(inspector, "employee-scans")

    head = sign_in("thutruong")
    head.goto(f"/employees/{employee_id}")
    expect(head.locator("#scans tr", has_text="22/11/2026 08:05:09").locator(
        ".status-rejected")).to_have_text("Đã hủy")
    expect(head.get_by_role("button", name="Hủy lượt quét")).to_have_count(0)
