"""The violation log page and API on stored findings: late evidence shows at once, and a
count past the limit is said honestly ("Hơn … vi phạm")."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from attendance import badges, findings
from attendance.models import Employee, Excuse, FindingDay
from attendance.reports import violations
from conftest import NOW
from november_data import build
from report_factories import excuse, local, no_badge
from web.violations import query
from web_helpers import csrf_token, login

RANGE = "from=2026-11-01&to=2026-11-20"


@pytest.fixture
def keyring(make_keyring):
    return make_keyring(NOW - timedelta(days=60))


@pytest.fixture
def stored(session_factory, config, province, keyring):
    """November stored as the scheduler leaves it at 10:00 on 23/11 (through 22/11)."""
    build(session_factory)
    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "E-SNV"))
        issued = badges.issue_badges(session, [employee], keyring, now=NOW - timedelta(days=30),
                                     actor="test")
        payload = badges.badge_payload(issued.issued[0], keyring)
        session.commit()
    run = findings.refresh(session_factory, config, NOW, max_days=None)
    assert run.days[0] == date(2026, 11, 22)
    return payload


def total(client, args: str = "") -> str:
    html = client.get(f"/violations?{RANGE}{args}").get_data(as_text=True)
    return re.search(r"(Hơn )?([\d.]+) vi phạm từ ngày", html).group(0)


def api(client, args: str = "") -> dict:
    return client.get(f"/api/v1/violations?{RANGE}{args}").get_json()


def live_total(session_factory, config) -> int:
    with session_factory() as session:
        session.execute(delete(FindingDay))
        _, count = violations(session, config, date(2026, 11, 1), date(2026, 11, 20))
        session.rollback()
    return count


def test_late_evidence_and_decisions_show_on_the_page_and_the_api_at_once(
        app, login_as, session_factory, config, province, stored):
    inspector = login_as("inspector")
    assert total(inspector) == "7 vi phạm từ ngày"
    station = app.test_client()
    key = {"Authorization": f"Bearer {province.station_key}"}

    # E-SNV's badge scans of 6/11 (absent) arrive on 23/11 from a station that was offline.
    scans = [{"event_id": f"late-{hm}", "payload": stored, "queued_seconds": 1_400_000,
              "scanned_at": local(date(2026, 11, 6), hm).isoformat()}
             for hm in ("07:50", "16:40")]
    answer = station.post("/api/v1/scans", json={"scans": scans}, headers=key).get_json()
    assert [r["status"] for r in answer["results"]] == ["accepted", "accepted"]
    data = api(inspector, "&employee=E-SNV")
    assert [(v["date"], v["type"], v["minutes"]) for v in data["items"]] == [
        ("2026-11-06", "late", 20), ("2026-11-09", "absent", None)]

    # A guard's record of 10/11 sent late by the station's no-badge form.
    answer = station.post("/api/v1/station/no-badge", headers=key, json={
        "event_id": "guard-late", "employee": "E-STC", "queued_seconds": 1_100_000,
        "recorded_at": local(date(2026, 11, 10), "07:25").isoformat()})
    assert answer.status_code == 200
    assert total(inspector) == "8 vi phạm từ ngày" and api(inspector)["total"] == 8
    assert 8 == live_total(session_factory, config)

    # E-SNV's leave for 6/11, requested and approved: the late arrival is excused.
    staff = app.test_client()
    login(staff, "staff_snv")
    staff.post("/excuses/new", data={
        "csrf_token": csrf_token(staff, "/excuses/new"), "kind": "leave", "part": "full",
        "start_date": "2026-11-06", "end_date": "2026-11-06", "note": "Việc gia đình"})
    head = app.test_client()
    login(head, "head_snv")
    with session_factory() as session:
        excuse_id = session.scalar(select(Excuse.id).where(Excuse.status == "pending"))
    head.post(f"/excuses/{excuse_id}/decide", data={
        "csrf_token": csrf_token(head, "/excuses"), "decision": "approved", "reason": "Đồng ý"})
    excused = api(inspector, "&status=excused")
    assert [(v["date"], v["employee"], v["excuse"]["approved_by"]) for v in excused["items"]][0] \
        == ("2026-11-06", "E-SNV", "head_snv")
    assert total(inspector, "&status=excused") == "2 vi phạm từ ngày"

    # The scheduler then stores what changed; the log is the same.
    before = api(inspector)
    findings.refresh(session_factory, config, NOW)
    with session_factory() as session:
        assert not findings.coverage(session, config, date(2026, 11, 2), date(2026, 11, 20)
                                     ).stale_on
    assert api(inspector) == before


def test_a_count_past_the_limit_says_more_than(login_as, monkeypatch, stored):
    monkeypatch.setattr(query, "COUNT_LIMIT", 3)
    client = login_as("admin")
    html = client.get(f"/violations?{RANGE}&per_page=2").get_data(as_text=True)
    assert "Hơn 3 vi phạm từ ngày 01/11/2026 đến ngày 20/11/2026." in html
    assert "Trang 1<" in html and "page=2" in html and "Trang 1/" not in html
    data = api(client, "&per_page=2")
    assert (data["total"], data["total_exact"], data["pages"], len(data["items"])) == (
        3, False, 2, 2)
    # The last page counts to the end: the count is exact again.
    data = api(client, "&per_page=2&page=4")
    assert (data["total"], data["total_exact"], data["pages"], len(data["items"])) == (
        7, True, 4, 1)
    assert "Trang 4/4" in client.get(f"/violations?{RANGE}&per_page=2&page=4").get_data(
        as_text=True)


def test_a_withdrawn_no_badge_record_leaves_the_log_at_once(login_as, session_factory, config,
                                                             stored):
    """The guard's record of 5/11 (stored by the scheduler) withdrawn from the employee's
    page: gone from the log and its count at once, and the same after the next refresh."""
    inspector = login_as("inspector")
    assert ("2026-11-05", "E-STC", "no_badge") in [
        (v["date"], v["employee"], v["type"]) for v in api(inspector)["items"]]
    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "E-STC"))
    page = f"/employees/{employee.id}"
    html = inspector.get(page).get_data(as_text=True)
    record_id = re.search(r'/entrance/no-badge/(\d+)/withdraw', html).group(1)
    answer = inspector.post(f"/entrance/no-badge/{record_id}/withdraw", data={
        "csrf_token": csrf_token(inspector, page), "back": "employee",
        "reason": "Ghi nhầm người: anh Dũng đeo thẻ"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("#no-badge")
    assert "Đã hủy ghi nhận không đeo thẻ của Phạm Minh Dũng lúc 05/11/2026 07:20." in \
        inspector.get(answer.headers["Location"]).get_data(as_text=True)
    assert total(inspector) == "6 vi phạm từ ngày"
    assert ("2026-11-05", "E-STC", "no_badge") not in [
        (v["date"], v["employee"], v["type"]) for v in api(inspector)["items"]]
    assert live_total(session_factory, config) == 6
    findings.refresh(session_factory, config, NOW)
    assert total(inspector) == "6 vi phạm từ ngày"


def test_a_morning_and_an_afternoon_excuse_each_excuse_their_own_session(
        login_as, monkeypatch, session_factory, config, province):
    """QA's 13/11: E-STC in without a badge at 07:20 (a guard's record), no check-out; the
    morning excused (lý do khác, "<i>ok</i>"), the afternoon too (nghỉ phép). The afternoon's
    missing check-out names the afternoon's excuse, on stored findings and live, in the API
    and the CSV export."""
    import november_data
    friday = date(2026, 11, 13)
    monkeypatch.setitem(november_data.SPECIAL, ("E-STC", friday), [])
    build(session_factory)
    with session_factory() as session:
        employee = session.scalar(select(Employee).where(Employee.code == "E-STC"))
        no_badge(session, employee, local(friday, "07:20"))
        excuse(session, employee, friday, part="morning", kind="other", reason="<i>ok</i>")
        excuse(session, employee, friday, part="afternoon", reason="Việc gia đình")
        session.commit()
    inspector = login_as("inspector")
    args = "&employee=E-STC&status=excused"

    def seen():
        rows = [(v["date"], v["type"], v["session"], v["excuse"]["part"], v["excuse"]["reason"])
                for v in api(inspector, args)["items"]]
        export = inspector.get(f"/violations/export/csv?{RANGE}{args}")
        lines = [(r["Ngày"], r["Loại vi phạm"], r["Buổi"], r["Loại lý do"], r["Lý do"])
                 for r in csv.DictReader(io.StringIO(export.get_data().decode("utf-8-sig")))]
        page = inspector.get(f"/violations?{RANGE}{args}").get_data(as_text=True)
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
                 for row in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "13/11/2026" in row]
        return rows, lines, [c.split("Có lý do đã duyệt ")[1] for c in cells]

    expected = (
        [("2026-11-13", "no_badge", 0, "morning", "<i>ok</i>"),
         ("2026-11-13", "missing_checkout", 1, "afternoon", "Việc gia đình")],
        [("13/11/2026", "không đeo thẻ", "sáng", "lý do khác, buổi sáng", "<i>ok</i>"),
         ("13/11/2026", "không quét thẻ khi về", "chiều", "nghỉ phép, buổi chiều",
          "Việc gia đình")],
        ["Lý do khác, buổi sáng · Lê Văn Trưởng", "Nghỉ phép, buổi chiều · Lê Văn Trưởng"])
    assert seen() == expected  # live: nothing stored yet
    findings.refresh(session_factory, config, NOW, max_days=None)
    with session_factory() as session:
        assert session.get(FindingDay, friday) is not None
    assert seen() == expected  # from the stored findings
