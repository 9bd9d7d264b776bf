"""The working calendar page: a schedule's settings and the effective days of a year."""

from __future__ import annotations

import re

import pytest

from web import create_app


def special_days(page: str) -> dict[str, tuple[str, str]]:
    table = re.search(r'<table id="special-days">.*?</table>', page, re.DOTALL).group(0)
    rows = re.findall(r'<tr class="day-(\w+)">\s*<td[^>]*>([\d/]+)</td>\s*<td[^>]*>[^<]*</td>'
                      r'\s*<td[^>]*>([^<]*)</td>', table)
    return {day: (kind, note) for kind, day, note in rows}


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
    assert re.search(r'class="day-swapped"[^>]*>22<sup>B</sup>', html)


def test_the_deployment_own_days(database_url, config, clock, province, client):
    from datetime import date

    from web_helpers import login

    local = config.model_copy(update={"extra_holidays": [date(2026, 11, 20)],
                                      "extra_workdays": [date(2026, 11, 28)]})
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": database_url,
                      "DOMAIN_CONFIG": local, "CLOCK": clock})
    try:
        client = app.test_client()
        assert login(client, "admin").status_code == 302
        html = client.get("/admin/calendar?year=2026").get_data(as_text=True)
        days = special_days(html)
        assert days["20/11/2026"] == ("extra_holiday", "Ngày nghỉ của địa phương")
        assert days["28/11/2026"] == ("extra_workday", "Ngày làm bù")
    finally:
        app.extensions["attendance"]["engine"].dispose()


@pytest.mark.parametrize("query, status", [("year=2026&schedule=nope", 404),
                                           ("year=99999", 400), ("", 200)])
def test_bad_queries(login_as, query, status):
    assert login_as("admin").get(f"/admin/calendar?{query}").status_code == status


def test_only_admins(login_as):
    assert login_as("inspector").get("/admin/calendar").status_code == 403
