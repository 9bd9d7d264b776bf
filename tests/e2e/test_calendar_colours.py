"""The admin's working calendar in a real browser, on the example province's 2026.

Holidays, swapped or extra working days, the province's own closure (24/3) and weekly rest
days are told apart at a glance: each has its own colour, readable text on it, and a letter
or a pattern that the legend explains; a month stays a seven-column grid on a phone; every
asset comes from the service itself. Screenshots: docs/screenshots/admin-calendar.png and
phone-admin-calendar.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e_helpers import screenshot

pytestmark = pytest.mark.e2e
PATH = "/admin/calendar?year=2026&schedule=default"
# A day of each kind in 2026 (config/example-province.toml): (kind class, month, day, letter).
SAMPLES = {
    "holiday": ("day-holiday", 9, 2, "L"),          # Quốc khánh
    "local": ("day-extra_holiday", 3, 24, "Đ"),     # the province's own closure
    "worked": ("day-swapped", 8, 22, "B"),          # a swapped working Saturday
    "rest": ("day-rest", 8, 23, ""),                # a Sunday
    "working": ("day-working", 8, 24, ""),          # an ordinary Monday
}


def _cell(page, month: int, day: int, kind: str):
    grid = page.locator("section.month").nth(month - 1)
    return grid.locator(f"td.{kind}").filter(has_text=re.compile(rf"^{day}(?!\d)")).first


def _style(cell) -> dict:
    return cell.evaluate("""c => { const s = getComputedStyle(c);
        return {bg: s.backgroundColor, image: s.backgroundImage, fg: s.color}; }""")


def _rgb(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", text)[:3])


def _contrast(fg: str, bg: str) -> float:
    def luminance(rgb):
        linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
                  for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(_rgb(fg)), luminance(_rgb(bg))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _foreign_requests(page, base: str) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(PATH)
    page.wait_for_load_state("networkidle")
    return [url for url in requests if not url.startswith(base)]


def test_each_kind_of_day_has_its_colour_letter_and_legend(sign_in, e2e_server):
    base, _, _ = e2e_server
    admin = sign_in("admin")
    assert _foreign_requests(admin, base) == []  # no CDN, no web font: all local
    expect(admin.locator("h1")).to_have_text("Lịch làm việc năm 2026")

    looks = {}
    for name, (kind, month, day, letter) in SAMPLES.items():
        cell = _cell(admin, month, day, kind)
        expect(cell).to_be_visible()
        expect(cell.locator("sup")).to_have_text(letter) if letter else expect(
            cell.locator("sup")).to_have_count(0)
        looks[name] = _style(cell)
        if name in ("holiday", "local", "worked"):  # text stays readable on the colour
            assert _contrast(looks[name]["fg"], looks[name]["bg"]) >= 4.5, name
    # Five kinds, five looks; the rest days are a pattern, the others plain colours.
    assert len({(s["bg"], s["image"]) for s in looks.values()}) == 5
    assert looks["rest"]["image"].startswith("repeating-linear-gradient")
    assert all(s["image"] == "none" for n, s in looks.items() if n != "rest")
    # The colours of the legend are those of the grid, each with its words.
    legend = admin.locator("ul.legend li")
    expect(legend).to_have_text(["L Ngày lễ, Tết, ngày nghỉ bù",
                                 "Đ Ngày nghỉ riêng của địa phương",
                                 "B Ngày làm bù, ngày làm việc bổ sung",
                                 "Ngày nghỉ hằng tuần"])
    for index, name in enumerate(("holiday", "local", "worked", "rest")):
        swatch = _style(legend.nth(index).locator(".cal-swatch"))
        assert (swatch["bg"], swatch["image"]) == (looks[name]["bg"], looks[name]["image"])
    # What a letter means is also said in words, in the cell and in the table of days.
    assert "Quốc khánh" in _cell(admin, 9, 2, "day-holiday").get_attribute("title")
    row = admin.locator("#special-days tr.day-extra_holiday")
    expect(row).to_contain_text("24/03/2026")
    expect(row).to_contain_text("Ngày nghỉ riêng của địa phương")

    admin.locator("ul.legend").scroll_into_view_if_needed()
    admin.evaluate("window.scrollBy(0, -60)")
    screenshot(admin, "admin-calendar")


def test_the_calendar_fits_a_phone(sign_in):
    phone = sign_in("admin", viewport={"width": 390, "height": 844}, is_mobile=True,
                    has_touch=True, device_scale_factor=1)
    phone.goto(PATH)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The settings: each label above its value, which has the card's width (not a word a line).
    label, value = (phone.locator(f"dl.facts {tag}").nth(1).bounding_box() for tag in ("dt", "dd"))
    assert value["y"] >= label["y"] + label["height"] and value["x"] == label["x"]
    assert value["width"] > 250
    # A week is still one row of seven days side by side, not a list of cells.
    august = phone.locator("section.month").nth(7)
    week = august.locator("tbody tr").nth(3)  # 17–23 August: the swapped Saturday is in it
    boxes = [week.locator("td").nth(i).bounding_box() for i in range(7)]
    assert len({round(box["y"]) for box in boxes}) == 1
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    assert boxes[-1]["x"] + boxes[-1]["width"] <= 390
    expect(august.locator("thead th")).to_have_count(7)
    expect(august.locator("thead")).to_be_visible()
    expect(week.locator("td.cal-worked sup")).to_have_text("B")
    legend = phone.locator("ul.legend")
    expect(legend).to_be_visible()
    legend.scroll_into_view_if_needed()
    phone.evaluate("window.scrollBy(0, -60)")
    screenshot(phone, "phone-admin-calendar")
