"""The unit picker in a real browser: the inspector's province (41 units) is searched as
they type, by name without tones, and the unit picked filters the violation log and the
daily report; with the script off, a code typed and submitted still filters.
Screenshot: docs/screenshots/unit-picker.png."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from e2e_helpers import screenshot

pytestmark = pytest.mark.e2e
LOG = "/violations?from=2026-11-01&to=2026-11-23"
SNV_UNITS = {"Sở Nội vụ", "Phòng Cải cách hành chính", "Phòng Tổ chức - Biên chế",
             "Thanh tra Sở", "Văn phòng Sở"}


def units_shown(page) -> set[str]:
    return set(page.locator('table.violations td[data-label="Đơn vị"]').all_inner_texts())


def test_inspector_types_a_unit_name_picks_it_and_sees_the_log_filtered(sign_in):
    inspector = sign_in("thanhtra")
    inspector.goto(LOG)
    assert not units_shown(inspector) <= SNV_UNITS  # the whole province to begin with
    box = inspector.locator(".unit-picker input[name=unit]")
    box.press_sequentially("noi vu", delay=30)  # no tones: "Nội vụ"
    options = inspector.locator(".unit-picker [role=option]")
    expect(options.first).to_be_visible()
    texts = options.all_inner_texts()
    assert "SNV Sở Nội vụ" in texts and "HNT-NV Phòng Nội vụ" in texts
    assert all("Nội vụ" in text for text in texts)
    screenshot(inspector, "unit-picker")
    options.filter(has_text="Sở Nội vụ").click()
    expect(box).to_have_value("SNV")
    expect(inspector.locator(".unit-picker [data-chosen]")).to_have_text("Sở Nội vụ")
    expect(inspector.locator(".unit-picker [role=listbox]")).to_be_hidden()

    inspector.click("form.filters button[type=submit]")
    inspector.wait_for_url("**unit=SNV**")
    assert parse_qs(urlparse(inspector.url).query)["unit"] == ["SNV"]
    shown = units_shown(inspector)
    assert shown and shown <= SNV_UNITS
    expect(box).to_have_value("SNV")


def test_the_keyboard_picks_a_unit_for_the_daily_report(sign_in):
    inspector = sign_in("thanhtra")
    inspector.goto("/reports/daily?date=2026-11-20")
    box = inspector.locator(".unit-picker input[name=unit]")
    box.press_sequentially("tam ky", delay=30)
    expect(inspector.locator(".unit-picker [role=option]").first).to_contain_text("TPTK")
    box.press("ArrowDown")
    box.press("Enter")  # picks
    expect(box).to_have_value("TPTK")
    box.press("Enter")  # submits
    expect(inspector.locator("h1")).to_contain_text("UBND thành phố Tam Kỳ")


def test_without_the_script_a_typed_code_filters(browser, e2e_server):
    base, _, _ = e2e_server
    context = browser.new_context(base_url=base, locale="vi-VN", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/auth/login")
        page.fill("#username", "thanhtra")
        page.fill("#password", "demo123")
        page.click("button[type=submit]")
        page.goto(LOG)
        page.fill(".unit-picker input[name=unit]", "SNV")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**unit=SNV**")
        shown = units_shown(page)
        assert shown and shown <= SNV_UNITS
        # A name instead of a code: the units it matches, as links.
        page.fill(".unit-picker input[name=unit]", "so noi vu")
        page.click("form.filters button[type=submit]")
        expect(page.locator("h1")).to_have_text("Không tìm thấy đơn vị")
        page.click("ul.unit-matches >> text=SNV · Sở Nội vụ")
        assert units_shown(page) <= SNV_UNITS
    finally:
        context.close()
