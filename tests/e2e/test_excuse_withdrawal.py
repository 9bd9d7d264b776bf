"""Taking an excuse back in a real browser: the staff member withdraws a pending request;
the unit head revokes an approval, with a reason, and the staff member sees why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from e2e_helpers import has_route

pytestmark = pytest.mark.e2e


def _request(page, day: str, note: str) -> None:
    page.goto("/excuses/new")
    page.select_option("#kind", "leave")
    page.fill("#start_date", day)
    page.fill("#end_date", day)
    page.select_option("#part", "full")
    page.fill("#note", note)
    page.click("button[type=submit].primary")
    expect(page.locator(".flash-success")).to_contain_text("đang chờ duyệt")


def _status(factory, note: str) -> str:
    from attendance.models import Excuse

    with factory() as session:
        return session.scalar(select(Excuse.status).where(Excuse.note == note))


def test_staff_withdraw_and_the_head_revokes_an_approval(sign_in, e2e_server):
    _, factory, _ = e2e_server
    staff = sign_in("nhanvien")
    if not has_route(staff, "/excuses"):
        pytest.skip("the excuses pages (web/excuses) are not installed yet")

    # A request still pending: its author withdraws it from its page.
    _request(staff, "2026-11-27", "Khám sức khỏe (e2e rút đơn)")
    staff.click("#withdraw")
    expect(staff.locator(".flash-success")).to_contain_text("Đã rút đơn.")
    expect(staff.locator(".status-withdrawn")).to_have_text("Đã rút")
    expect(staff.locator("#withdraw")).to_have_count(0)
    assert _status(factory, "Khám sức khỏe (e2e rút đơn)") == "withdrawn"

    # An approval taken back: the head gives the reason, the staff member reads it.
    note = "Đi công tác (e2e hủy duyệt)"
    _request(staff, "2026-11-25", note)
    expect(staff.locator("#revoke")).to_have_count(0)
    head = sign_in("thutruong")
    head.goto("/excuses")
    head.locator("tr", has_text=note).locator("a").first.click()
    head.click("button[value=approved]")
    expect(head.locator(".flash-success")).to_contain_text("Đã duyệt đơn của")
    head.goto("/excuses?status=approved")
    head.locator("tr", has_text=note).locator("a").first.click()
    head.fill("#reason", "Chuyến công tác đã hoãn")
    head.click("#revoke")
    expect(head.locator(".flash-success")).to_contain_text("Đã hủy duyệt đơn của")
    expect(head.locator(".status-revoked").first).to_have_text("Đã hủy duyệt")
    assert _status(factory, note) == "revoked"

    staff.goto("/excuses")
    row = staff.locator("tr", has_text="25/11/2026")
    expect(row.locator(".status-revoked")).to_have_text("Đã hủy duyệt")
    row.locator("a").first.click()
    expect(staff.locator("main")).to_contain_text("Chuyến công tác đã hoãn")
