"""Today (dashboard): arrivals, units so far, stations online or silent, 30-day charts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from attendance.models import Station, Unit
from factories import make_employee, make_unit
from november_data import build
from web_helpers import csrf_token, use_english

EVIL = '<script>alert("x")</script>'
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)  # the web tests' clock: Monday 10:00


def test_home_of_admins_inspectors_and_heads_is_today(login_as, session_factory):
    build(session_factory)
    client = login_as("inspector")
    html = client.get("/").get_data(as_text=True)
    assert "Hôm nay 23/11/2026" in html
    assert client.get("/today").get_data(as_text=True).count("Lượt đến mới nhất") == 1
    # Latest arrivals first, with their unit and time.
    arrivals = html[html.index('id="arrivals"'):html.index("</tbody>", html.index('id="arrivals"'))]
    assert arrivals.index("07:50:00") < arrivals.index("07:25:00") < arrivals.index("07:20:00")
    assert "Lê Văn Cường" in arrivals and "Phạm Minh Dũng" in arrivals
    # Each unit so far today: SNV-P1's only person was late → punctuality 0%.
    units = html[html.index('id="units"'):]
    row = units[units.index("Phòng Công chức"):units.index("</tr>", units.index("Phòng Công chức"))]
    assert '<span class="muted">(SNV-P1)</span>' in row  # unit names repeat across a province
    assert re.findall(r">([\d,—%]+)<", row)[-2:] == ["100,0%", "0,0%"]


def test_unit_head_sees_only_their_units(login_as, session_factory):
    build(session_factory)
    client = login_as("head_snv")
    html = client.get("/").get_data(as_text=True)
    assert "Lê Văn Cường" in html and "Trần Thị Bình" in html
    assert "Phạm Minh Dũng" not in html and "Sở Tài chính" not in html
    live = client.get("/today/live.json").get_json()
    assert {a["employee"] for a in live["arrivals"]} == {"E-SNV", "E-P1"}
    assert {u["unit"] for u in live["units"]} == {"SNV", "SNV-P1"}
    assert live["totals"]["present"] == 2 and live["totals"]["late"] == 1


def test_staff_keep_their_own_home(login_as):
    client = login_as("staff_snv")
    assert "Lượt đến mới nhất" not in client.get("/").get_data(as_text=True)
    assert client.get("/today").status_code == 403
    assert client.get("/today/live.json").status_code == 403


def test_live_feed_follows_new_scans(login_as, session_factory, clock):
    ids = build(session_factory)
    client = login_as("admin")
    before = client.get("/today/live.json").get_json()
    assert before["arrivals"][0]["employee"] == "E-P1"
    assert before["arrivals"][0]["photo"] in (None, f"/scans/{ids['late_scan']}/photo")
    from report_factories import local, scan
    from november_data import TODAY
    from attendance.models import Employee

    with session_factory() as session:
        scan(session, session.get(Employee, ids["E-FX"]), local(TODAY, "09:58"))
        session.commit()
    after = client.get("/today/live.json").get_json()
    assert after["arrivals"][0]["employee"] == "E-FX"
    assert after["arrivals"][0]["time"] == "09:58:00"
    assert after["totals"]["present"] == before["totals"]["present"] + 1
    # A scan after "now" (a clock ahead of the server) is not shown yet.
    with session_factory() as session:
        scan(session, session.get(Employee, ids["E-SNV"]), local(TODAY, "11:00"))
        session.commit()
    assert client.get("/today/live.json").get_json()["arrivals"][0]["time"] == "09:58:00"


def test_stations_online_silent_or_off_hours(login_as, session_factory, clock, province):
    client = login_as("admin")

    def status() -> str:
        live = client.get("/today/live.json").get_json()
        (station,) = live["stations"]
        return station["status"]

    # Never seen, at 10:00 on a working day: silent.
    assert status() == "silent"
    assert "Mất tín hiệu" in client.get("/today").get_data(as_text=True)
    with session_factory() as session:
        session.get(Station, province["station"]).last_seen_at = NOW - timedelta(minutes=4)
        session.commit()
    assert status() == "online"
    clock.now = NOW + timedelta(minutes=11)  # not seen for 15 minutes
    assert status() == "silent"
    clock.now = NOW + timedelta(hours=11)  # 21:00: outside working hours
    assert status() == "off_hours"
    clock.now = NOW + timedelta(days=5)  # Saturday
    assert status() == "off_hours"


def test_head_does_not_see_other_units_stations(login_as, session_factory):
    with session_factory() as session:
        from factories import make_station

        make_station(session, session.scalar(select(Unit).where(Unit.code == "STC")), "CONG-STC")
        session.commit()
    live = login_as("head_snv").get("/today/live.json").get_json()
    assert [s["code"] for s in live["stations"]] == ["CONG-SNV"]


def test_thirty_day_charts(login_as, session_factory):
    build(session_factory)
    html = login_as("admin").get("/").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 2
    # Lateness trend: 2/11, E-P1 late among the four present → 25,0% (a decimal comma, as
    # in the PDF reports).
    assert "02/11: 25,0% (1/4)" in html
    # 10/11: E-FX late among four → 25,0%; a day with nobody late shows 0,0%.
    assert "10/11: 25,0% (1/4)" in html and "12/11: 0,0% (0/4)" in html
    # Badge compliance by unit, lowest first: STC had a no-badge day.
    chart = html[html.rindex('<svg class="chart"'):]
    assert chart.index("Sở Tài chính") < chart.index("Sở Nội vụ")
    assert "Sở Tài chính: 96,7%" in chart  # 2 people × 15 days present, once without badge


def test_percentages_have_a_decimal_point_in_english(login_as, session_factory):
    build(session_factory)
    client = login_as("admin")
    client.post("/auth/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    html = client.get("/").get_data(as_text=True)
    assert "Sở Tài chính: 96.7%" in html and "96,7%" not in html


def test_counts_in_english_agree_with_their_number(login_as, app, monkeypatch):
    client = login_as("admin")
    use_english(client)
    html = client.get("/").get_data(as_text=True)
    assert "(refreshes every 15 seconds)" in html
    assert "Lateness, last 30 days<" in html and "Badge compliance by unit, last 30 days<" in html
    monkeypatch.setitem(app.config, "DASHBOARD_REFRESH_SECONDS", 1)
    assert "(refreshes every 1 second)" in client.get("/").get_data(as_text=True)


def test_names_in_charts_and_tables_are_escaped(login_as, session_factory, province):
    with session_factory() as session:
        unit = make_unit(session, "EVIL", EVIL, parent=session.get(Unit, province["SNV"]))
        employee = make_employee(session, unit, "E-EVIL", EVIL)
        from report_factories import local, scan
        from november_data import TODAY

        scan(session, employee, local(TODAY - timedelta(days=3), "07:20"))
        scan(session, employee, local(TODAY, "07:40"))
        session.commit()
    client = login_as("admin")
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(") >= 3  # arrivals, units today, compliance chart
    live = client.get("/today/live.json")
    assert live.get_json()["arrivals"][0]["full_name"] == EVIL  # JSON; the script uses textContent


def test_dashboard_script_is_served_from_the_project(login_as, client):
    html = login_as("admin").get("/").get_data(as_text=True)
    src = re.search(r'<script src="([^"]+)"', html).group(1)
    assert src == "/today/static/dashboard.js"
    with client.get(src) as script:
        assert script.status_code == 200 and b"textContent" in script.data
        assert b"innerHTML" not in script.data


def day_off_notice(html: str) -> str | None:
    found = re.search(r'<p class="flash flash-warning" role="status" id="day-off">(.*?)</p>',
                      html, re.DOTALL)
    return " ".join(found.group(1).split()) if found else None


def test_a_working_day_has_no_day_off_notice(login_as):
    assert day_off_notice(login_as("admin").get("/").get_data(as_text=True)) is None


def test_a_public_holiday_is_named(login_as, clock):
    clock.now = datetime(2026, 9, 2, 3, 0, tzinfo=timezone.utc)  # Wednesday, Quốc khánh
    client = login_as("inspector")
    html = client.get("/").get_data(as_text=True)
    assert "Hôm nay 02/09/2026" in html
    assert day_off_notice(html) == ("Hôm nay không phải ngày làm việc: Quốc khánh. "
                                    "Không ai phải có mặt.")
    use_english(client)
    assert day_off_notice(client.get("/").get_data(as_text=True)) == (
        "Today is not a working day: National Day. No one is expected at work.")


def test_a_weekend_says_which_day(login_as, clock):
    clock.now = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # Sunday
    client = login_as("head_snv")
    assert day_off_notice(client.get("/").get_data(as_text=True)) == (
        "Hôm nay không phải ngày làm việc: Chủ Nhật, ngày nghỉ hằng tuần. "
        "Không ai phải có mặt.")
    client.post("/auth/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    assert day_off_notice(client.get("/").get_data(as_text=True)) == (
        "Today is not a working day: Sunday, a weekly rest day. No one is expected at work.")


def test_the_deployment_own_holiday(app_with, config, province):
    from datetime import date

    from web_helpers import login

    local = config.model_copy(update={"extra_holidays": [date(2026, 11, 23)]})
    app = app_with(local)
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    assert day_off_notice(client.get("/").get_data(as_text=True)) == (
        "Hôm nay không phải ngày làm việc: Ngày nghỉ của địa phương. "
        "Không ai phải có mặt.")
    use_english(client)
    assert day_off_notice(client.get("/").get_data(as_text=True)) == (
        "Today is not a working day: Local holiday. No one is expected at work.")


def test_no_notice_while_one_of_the_users_units_works(app_with, config, clock, province,
                                                      session_factory):
    """A unit on a six-day schedule works on Saturday: the admin, who sees it, gets no
    notice; the head of Sở Nội vụ (five days) does."""
    from web_helpers import login

    six_days = config.schedules["default"].model_copy(
        update={"workdays": ["mon", "tue", "wed", "thu", "fri", "sat"]})
    local = config.model_copy(update={"schedules": {**config.schedules, "six": six_days}})
    with session_factory() as session:
        session.get(Unit, province["STC"]).schedule = "six"
        session.commit()
    clock.now = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)  # Saturday
    app = app_with(local)
    admin, head = app.test_client(), app.test_client()
    assert login(admin, "admin").status_code == 302
    assert login(head, "head_snv").status_code == 302
    assert day_off_notice(admin.get("/").get_data(as_text=True)) is None
    assert day_off_notice(head.get("/").get_data(as_text=True)) == (
        "Hôm nay không phải ngày làm việc: Thứ Bảy, ngày nghỉ hằng tuần. "
        "Không ai phải có mặt.")
