"""The working calendar page: a schedule's settings and the effective days of a year."""

from __future__ import annotations

import re

import pytest

from web_helpers import use_english


def special_days(page: str) -> dict[str, tuple[str, str]]:
    """dd/mm/yyyy → (kind, note) of the table of special days; each row's kind is also
    written out, beside the letter of the month grid."""
    table = re.search(r'<table id="special-days">.*?</table>', page, re.DOTALL).group(0)
    rows = re.findall(r'<tr class="day-(\w+)">\s*<td[^>]*>([\d/]+)</td>'
                      r'\s*<td[^>]*><span class="cal-swatch cal-(\w+)"[^>]*>(\w*)</span>'
                      r' ([^<]+)</td>'
                      r'\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]*)</td>', table)
    assert rows
    for kind, _day, look, letter, label, _note in rows:
        assert (look, letter, label) == LABELS[kind], kind
    return {day: (kind, note) for kind, day, _look, _letter, _label, note in rows}


LABELS = {
    "holiday": ("holiday", "L", "Ngày lễ, Tết, ngày nghỉ bù"),
    "extra_holiday": ("local", "Đ", "Ngày nghỉ riêng của địa phương"),
    "swapped": ("worked", "B", "Ngày làm bù, ngày làm việc bổ sung"),
    "extra_workday": ("worked", "B", "Ngày làm bù, ngày làm việc bổ sung"),
}


def grid_cell(page: str, kind: str, day: int) -> str:
    """The month grid's cell of a day of that kind (the first such), as HTML."""
    cell = rf'<td class="day-{kind}[^"]*"[^>]*>{day}(?:<sup>|<span).*?</td>'
    return re.search(cell, page).group(0)


def test_2026_holidays_and_swapped_days(login_as):
    page = login_as("admin").get("/admin/calendar?year=2026&schedule=default")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    days = special_days(html)
    assert days["22/08/2026"] == ("swapped", "Ngày làm bù")
    assert days["31/08/2026"][0] == "holiday"
    assert days["02/09/2026"] == ("holiday", "Quốc khánh")
    assert days["24/11/2026"] == ("holiday", "Ngày Văn hóa Việt Nam")
    assert days["01/01/2026"] == ("holiday", "Tết Dương lịch")
    assert "23/11/2026" not in days  # an ordinary Monday
    # The schedule's settings and the month grid.
    assert "Chấm công theo" in html and "Cho phép đến muộn" in html
    assert re.search(r"\d\d:\d\d–\d\d:\d\d", html)
    assert html.count('class="card month"') == 12
    # Each kind of day has a colour (its class) and a letter or a pattern, and says what
    # it is to a screen reader; the legend explains them.
    swapped = grid_cell(html, "swapped", 22)
    assert 'class="day-swapped cal-worked"' in swapped and "22<sup>B</sup>" in swapped
    assert "Ngày làm bù, ngày làm việc bổ sung: Ngày làm bù" in swapped
    assert "<sup>L</sup>" in grid_cell(html, "holiday", 2) and "Quốc khánh" in grid_cell(
        html, "holiday", 2)
    saturday = grid_cell(html, "rest", 3)  # 3 January 2026
    assert 'cal-rest' in saturday and "<sup>" not in saturday
    assert "Ngày nghỉ hằng tuần" in saturday
    legend = re.search(r'<ul class="legend".*?</ul>', html, re.DOTALL).group(0)
    assert re.findall(r'cal-swatch cal-(\w+)" aria-hidden="true">(\w*)</span> ([^<]+)</li>',
                      legend) == [("holiday", "L", "Ngày lễ, Tết, ngày nghỉ bù"),
                                  ("local", "Đ", "Ngày nghỉ riêng của địa phương"),
                                  ("worked", "B", "Ngày làm bù, ngày làm việc bổ sung"),
                                  ("rest", "", "Ngày nghỉ hằng tuần")]
    assert 'class="day-working"' in html and "day-working cal-" not in html


def test_holiday_names_in_english(login_as):
    client = login_as("admin")
    use_english(client)
    html = client.get("/admin/calendar?year=2026&schedule=default").get_data(as_text=True)
    table = re.search(r'<table id="special-days">.*?</table>', html, re.DOTALL).group(0)
    notes = dict(re.findall(r'>([\d/]{10})</td>.*?<td data-label="Note">([^<]*)</td>', table,
                            re.DOTALL))
    assert notes["02/09/2026"] == "National Day"
    assert notes["17/02/2026"] == "Lunar New Year"
    assert notes["26/04/2026"] == "Hung Kings&#39; Commemoration Day"
    assert notes["22/08/2026"] == "Swapped working day"
    assert "National Day" in grid_cell(html, "holiday", 2) and "Quốc khánh" not in html


def test_the_deployment_own_days(app_with, config, province):
    from datetime import date

    from web_helpers import login

    local = config.model_copy(update={"extra_holidays": [date(2026, 11, 20)],
                                      "extra_workdays": [date(2026, 11, 28)]})
    app = app_with(local)
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    html = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    days = special_days(html)
    assert days["20/11/2026"] == ("extra_holiday", "Ngày nghỉ của địa phương")
    assert days["28/11/2026"] == ("extra_workday", "Ngày làm bù")
    assert "20<sup>Đ</sup>" in grid_cell(html, "extra_holiday", 20)


def test_schedules_by_their_names_else_their_ids_labelled(app_with, config, province,
                                                         login_as):
    from web_helpers import login

    html = login_as("admin").get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "<h2>Lịch: default</h2>" in html and '<option value="default" selected>Lịch: default<' \
        in html
    default = config.schedules["default"]
    named = config.model_copy(update={"schedules": {
        "default": default.model_copy(update={"name": "Lịch chung (sở, ban, ngành)"}),
        "phuong": default.model_copy(update={"name": "Lịch UBND phường, xã"})}})
    app = app_with(named)
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    html = client.get("/admin/calendar?year=2026&schedule=phuong").get_data(as_text=True)
    assert "<h2>Lịch UBND phường, xã</h2>" in html
    assert '<option value="default">Lịch chung (sở, ban, ngành)</option>' in html
    assert '<option value="phuong" selected>Lịch UBND phường, xã</option>' in html
    assert "Lịch: " not in html


@pytest.mark.parametrize("query, status", [("year=2026&schedule=nope", 404),
                                           ("year=99999", 400), ("", 200)])
def test_bad_queries(login_as, query, status):
    assert login_as("admin").get(f"/admin/calendar?{query}").status_code == status


def test_only_admins(login_as):
    assert login_as("inspector").get("/admin/calendar").status_code == 403
