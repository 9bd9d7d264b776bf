"""The violation log's stored findings: equal to the rules' live evaluation, and never stale.

November (tests/report_factories.py) is stored as the scheduler would store it on 2/12;
then each kind of change to a past day — a late upload, a guard's or a spot check's record
entered afterwards, a correction, an excuse decided, an import, an employee moved or given
new dates or another schedule, a unit's schedule or place in the tree, the config — must
show in the log at once (the same rows as evaluating the rules from scratch), and again
after the scheduler has refreshed what the change marked.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from attendance import badges, findings, jobs
from attendance.config import parse_config
from attendance.excuses import decide_excuse, request_excuse, revoke_approval
from attendance.imports import import_employees, import_excuses, import_scans, import_units
from attendance.models import (
    DailyFinding, Employee, FindingDay, SpotCheck, SpotCheckFinding, StaleFinding, Unit,
)
from attendance.exports import violations_csv
from attendance.reports import (
    ABSENT, LATE, NO_BADGE, violation_json, violation_page, violations,
)
from attendance.scans import ScanItem, record_no_badge, record_scans
from attendance.spotchecks import correct_finding, record_spot_check
from factories import make_station
from report_factories import FIRST, LAST, local, november, scan

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 2/12 10:00 in Hà Nội
CONFIG_FILE = Path(__file__).parent.parent / "config" / "default.toml"


def live(session_factory, config, first=FIRST, last=LAST, **filters):
    """The log as the rules give it from the evidence alone (nothing stored is read)."""
    with session_factory() as session:
        session.execute(delete(FindingDay))
        rows, _ = violations(session, config, first, last, **filters)
        session.rollback()
    return rows


def log(session_factory, config, first=FIRST, last=LAST, **filters):
    with session_factory() as session:
        rows, total = violations(session, config, first, last, **filters)
    assert total == len(rows)
    return rows


def codes(rows):
    return [(r.employee.code, r.day.day, r.kind, r.status) for r in rows]


def refresh(session_factory, config, now=NOW):
    return findings.refresh(session_factory, config, now, max_days=None)


def marks(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(StaleFinding))


@pytest.fixture
def stored(session_factory, config):
    """November's evidence, stored up to 1/12 (the last day over at NOW); no mark left."""
    with session_factory() as session:
        people = november(session)
        session.commit()
        ids = {code: e.id for code, e in people.items()}
    run = refresh(session_factory, config)
    assert run.days[0] == date(2026, 12, 1) and run.days[-1] == date(2026, 11, 2)
    assert marks(session_factory) == 0
    return ids


def assert_current(session_factory, config, expected_codes=None):
    """The log equals the live evaluation now, and still after the scheduler's refresh,
    which leaves no mark and every day stored under the current fingerprint."""
    before = log(session_factory, config)
    assert before == live(session_factory, config)
    if expected_codes is not None:
        assert codes(before) == expected_codes
    refresh(session_factory, config)
    assert marks(session_factory) == 0
    with session_factory() as session:
        cover = findings.coverage(session, config, FIRST, LAST)
    assert cover.live_days == [FIRST]  # before the first scan (2/11): never stored
    assert not cover.stale_everywhere and not cover.stale_on
    assert log(session_factory, config) == before
    return before


NOVEMBER = [
    ("E001", 2, LATE, "open"), ("E001", 3, LATE, "open"), ("E001", 4, LATE, "open"),
    ("E002", 5, ABSENT, "open"), ("E002", 6, ABSENT, "excused"), ("E002", 9, NO_BADGE, "open"),
    ("E003", 10, "early_leave", "open"), ("E003", 11, "missing_checkout", "open"),
    ("E003", 12, "absent_from_post", "open"), ("E003", 16, LATE, "excused"),
    ("E004", 17, NO_BADGE, "open"),
]


def test_the_stored_log_equals_the_live_evaluation(session_factory, config, stored):
    with session_factory() as session:
        cover = findings.coverage(session, config, FIRST, LAST)
        assert cover.stored_days == list(findings.days(date(2026, 11, 2), LAST))
        assert session.scalar(select(func.count()).select_from(DailyFinding)) == 11 + 5
    assert codes(log(session_factory, config)) == NOVEMBER
    for filters in ({}, {"unit_code": "SNV"}, {"unit_code": "STC"}, {"kinds": [LATE]},
                    {"kinds": [NO_BADGE, ABSENT]}, {"status": "open"}, {"status": "excused"},
                    {"employee": "E003"}, {"unit_ids": {3}}, {"unit_ids": set()}):
        assert log(session_factory, config, **filters) == live(session_factory, config,
                                                               **filters), filters
    everything = live(session_factory, config)
    with session_factory() as session:
        for offset in range(0, 13):
            page = violation_page(session, config, FIRST, LAST, offset=offset, limit=4)
            assert page.rows == everything[offset:offset + 4] and page.total == 11


def test_counting_stops_past_the_limit_or_the_page(session_factory, config, stored):
    with session_factory() as session:
        page = violation_page(session, config, FIRST, LAST, limit=2, count_limit=5)
        assert (page.total, page.exact, len(page.rows)) == (5, False, 2)  # "more than 5"
        page = violation_page(session, config, FIRST, LAST, offset=6, limit=2, count_limit=5)
        assert (page.total, page.exact) == (8, False)  # the page's end: a next page exists
        page = violation_page(session, config, FIRST, LAST, offset=8, limit=4, count_limit=5)
        assert (page.total, page.exact, len(page.rows)) == (11, True, 3)
        page = violation_page(session, config, FIRST, LAST, offset=7, limit=4, count_limit=5)
        assert (page.total, page.exact, len(page.rows)) == (11, True, 4)  # the last page
        page = violation_page(session, config, FIRST, LAST, offset=20, limit=4, count_limit=5)
        assert (page.total, page.exact, page.rows) == (11, True, [])  # past the end


def test_pages_merge_live_rows_among_stored_ones(session_factory, config, stored):
    """Marked employee-days in the middle of the range are evaluated live and merged into
    the stored rows at their place, on every page and for every count limit."""
    with session_factory() as session:
        employee = session.get(Employee, stored["E002"])
        scan(session, employee, local(date(2026, 11, 5), "07:50"))  # late, not absent
        findings.mark_stale(session, [(employee.id, date(2026, 11, 5))])
        findings.mark_stale(session, [(stored["E004"], date(2026, 11, 17))])
        session.commit()
    everything = live(session_factory, config)
    assert ("E002", 5, LATE, "open") in codes(everything)
    with session_factory() as session:
        cover = findings.coverage(session, config, FIRST, LAST)
        assert cover.stale_on == {date(2026, 11, 5): {"E002"}, date(2026, 11, 17): {"E004"}}
        for limit in (1, 2, 3, 5):
            for offset in range(0, 14):
                for count_limit in (None, 3):
                    page = violation_page(session, config, FIRST, LAST, offset=offset,
                                          limit=limit, count_limit=count_limit)
                    assert page.rows == everything[offset:offset + limit], (offset, limit)
                    if page.exact:
                        assert page.total == len(everything)
                    else:
                        assert page.total < len(everything)
    assert_current(session_factory, config)


# --- each kind of change ---------------------------------------------------------------------

def test_a_late_import_of_scans(session_factory, config, stored):
    """E002 was absent on 5/11; scans of that day imported afterwards make her late."""
    with session_factory() as session:
        import_scans(session, [
            {"employee_code": "E002", "scanned_at": local(date(2026, 11, 5), "07:41").isoformat(),
             "station": "CONG-1", "kind": "badge"},
            {"employee_code": "E002", "scanned_at": local(date(2026, 11, 5), "16:40").isoformat(),
             "station": "CONG-1", "kind": "badge"},
            {"employee_code": "E005", "scanned_at": local(date(2026, 11, 18), "09:00").isoformat(),
             "station": "CONG-1", "kind": "no_badge"},
        ], now=NOW)
        session.commit()
    rows = assert_current(session_factory, config)
    assert ("E002", 5, LATE, "open") in codes(rows)
    assert ("E002", 5, ABSENT, "open") not in codes(rows)
    assert ("E005", 18, NO_BADGE, "open") in codes(rows)


def test_a_stations_late_upload(session_factory, config, stored, tmp_path):
    """A station that was offline on 5/11 uploads E002's two scans of that day on 2/12: the
    stored absence gives way to a late arrival at once."""
    keyring = badges.Keyring(tmp_path / "keys")
    keyring.init(NOW - timedelta(days=60))
    with session_factory() as session:
        e002 = session.get(Employee, stored["E002"])
        issued = badges.issue_badges(session, [e002], keyring, now=NOW - timedelta(days=40),
                                     actor="test")
        payload = badges.badge_payload(issued.issued[0], keyring)
        station, _ = make_station(session, e002.unit, "CONG-SNV")
        items = [ScanItem(event_id=f"offline-{hhmm}", payload=payload,
                          station_time=local(date(2026, 11, 5), hhmm),
                          queued_seconds=(NOW - local(date(2026, 11, 5), hhmm)).total_seconds())
                 for hhmm in ("07:41", "16:40")]
        results = record_scans(session, station, items, keyring=keyring, config=config, now=NOW,
                               evidence_root=tmp_path / "evidence")
        session.commit()
    assert [r.status for r in results] == ["accepted", "accepted"]
    rows = assert_current(session_factory, config)
    assert ("E002", 5, LATE, "open") in codes(rows)
    assert ("E002", 5, ABSENT, "open") not in codes(rows)


def test_a_guards_record_entered_afterwards(session_factory, config, stored):
    """A guard's no-badge record of E002 on 5/11, uploaded on 2/12: present, without badge."""
    with session_factory() as session:
        employee = session.get(Employee, stored["E002"])
        record_no_badge(session, employee, recorded_at=local(date(2026, 11, 5), "07:25"),
                        event_id="guard-late-1", place="Cổng", recorded_by="bao-ve")
        session.commit()
    rows = assert_current(session_factory, config)
    assert ("E002", 5, NO_BADGE, "open") in codes(rows)
    assert ("E002", 5, ABSENT, "open") not in codes(rows)


def test_a_spot_check_afterwards_and_its_correction(session_factory, config, stored):
    with session_factory() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "STC"))
        employee = session.get(Employee, stored["E005"])
        record_spot_check(session, unit, "thanh-tra", local(date(2026, 11, 19), "10:00"),
                          [(employee, "absent_from_post", None)])
        session.commit()
    rows = assert_current(session_factory, config)
    assert ("E005", 19, "absent_from_post", "open") in codes(rows)

    with session_factory() as session:  # the inspector corrects the record of 17/11
        wrong = session.scalar(select(SpotCheckFinding).join(SpotCheck).where(
            SpotCheckFinding.employee_id == stored["E004"]))
        correct_finding(session, wrong, "present_with_badge", "Nhầm người",
                        corrected_by="thanh-tra", now=NOW)
        session.commit()
    rows = assert_current(session_factory, config)
    assert ("E004", 17, NO_BADGE, "open") not in codes(rows)


def test_excuses_approved_and_rejected(session_factory, config, stored):
    """E002's absence of 5/11 excused on 2/12 (a rejection changes nothing); then an
    import approves a leave for E001 over 2–4/11, which excuses his three late arrivals."""
    with session_factory() as session:
        employee = session.get(Employee, stored["E002"])
        for decision in ("rejected", "approved"):
            excuse = request_excuse(session, config, employee, start_date=date(2026, 11, 5),
                                    end_date=date(2026, 11, 5), part="full", kind="other",
                                    note="Ốm", requested_by="E002", now=NOW, today=NOW.date())
            decide_excuse(session, excuse, decision, "Lê Văn Trưởng", "Xem xét", NOW)
            session.commit()
            expected = "excused" if decision == "approved" else "open"
            assert ("E002", 5, ABSENT, expected) in codes(log(session_factory, config))
    assert_current(session_factory, config)
    with session_factory() as session:
        import_excuses(session, [{"employee_code": "E001", "start_date": "2026-11-02",
                                  "end_date": "2026-11-04", "part": "full", "kind": "leave",
                                  "note": "Nghỉ phép"}], now=NOW)
        session.commit()
    rows = assert_current(session_factory, config)
    assert [s for c, d, k, s in codes(rows) if c == "E001"] == ["excused"] * 3


def test_a_revoked_approval_shows_the_findings_again(session_factory, config, stored):
    """E002's absence of 5/11, excused on 2/12, is open again once the approval is revoked."""
    with session_factory() as session:
        excuse = request_excuse(session, config, session.get(Employee, stored["E002"]),
                                start_date=date(2026, 11, 5), end_date=date(2026, 11, 5),
                                part="full", kind="other", note="Ốm", requested_by="E002",
                                now=NOW, today=NOW.date())
        decide_excuse(session, excuse, "approved", "Lê Văn Trưởng", None, NOW)
        session.commit()
        refresh(session_factory, config)  # the excused absence is stored, the marks consumed
        assert marks(session_factory) == 0
        assert ("E002", 5, ABSENT, "excused") in codes(log(session_factory, config))
        revoke_approval(session, excuse, by="Lê Văn Trưởng", actor="truong",
                        reason="Không có giấy khám bệnh", now=NOW)
        session.commit()
    assert ("E002", 5, ABSENT, "open") in codes(log(session_factory, config))
    assert_current(session_factory, config)


def test_employees_move_leave_join_and_change_schedule(session_factory, config, stored):
    """A move changes the unit the log files E003 under (and its order); a new end date
    ends E001's findings; a new employee is absent every working day; a schedule of its
    own changes E004's findings."""
    data = tomllib.loads(CONFIG_FILE.read_text())
    data["schedules"]["som"] = {**data["schedules"]["default"], "late_grace_minutes": 0}
    data["schedules"]["som"]["periods"] = [
        {"from": "01-01", "to": "12-31", "sessions": ["07:00-11:00", "13:00-16:00"]}]
    config = parse_config(data)
    refresh(session_factory, config)  # the new config: every day computed again
    with session_factory() as session:
        stc = session.scalar(select(Unit).where(Unit.code == "STC"))
        session.get(Employee, stored["E003"]).unit_id = stc.id
        session.get(Employee, stored["E001"]).end_date = date(2026, 11, 3)
        session.add(Employee(code="E006", full_name="Võ Thị Mới", unit_id=stc.id,
                             category="CC", start_date=date(2026, 11, 25)))
        session.get(Employee, stored["E004"]).schedule = "som"
        session.commit()
    rows = assert_current(session_factory, config)
    assert [r.day.day for r in rows if r.employee.code == "E001"] == [2, 3]
    assert {r.unit.code for r in rows if r.employee.code == "E003"} == {"STC"}
    assert [r.day.day for r in rows if r.employee.code == "E006"] == [25, 26, 27, 30]
    assert LATE in {r.kind for r in rows if r.employee.code == "E004"}  # 07:20 for 07:00
    assert log(session_factory, config, unit_code="SNV") == live(session_factory, config,
                                                               unit_code="SNV")


def test_units_change_schedule_place_and_name(session_factory, config, stored):
    data = tomllib.loads(CONFIG_FILE.read_text())
    data["schedules"]["muon"] = {**data["schedules"]["default"]}
    data["schedules"]["muon"]["periods"] = [
        {"from": "01-01", "to": "12-31", "sessions": ["08:00-12:00", "13:30-17:30"]}]
    config = parse_config(data)
    refresh(session_factory, config)
    with session_factory() as session:
        session.scalar(select(Unit).where(Unit.code == "SNV")).schedule = "muon"  # and PTC
        session.commit()
    rows = assert_current(session_factory, config)
    assert ("E001", 2, LATE, "open") not in codes(rows)  # 07:42 is early for 08:00
    with session_factory() as session:
        ptc = session.scalar(select(Unit).where(Unit.code == "PTC"))
        ptc.parent = session.scalar(select(Unit).where(Unit.code == "STC"))  # default again
        ptc.name = "Phòng Tổ chức cán bộ"
        session.commit()
    rows = assert_current(session_factory, config)
    assert {r.unit.name for r in rows if r.employee.code == "E003"} == {"Phòng Tổ chức cán bộ"}
    assert ("E003", 10, "early_leave", "open") in codes(rows)


def test_org_imports_mark_what_they_change(session_factory, config, stored):
    with session_factory() as session:
        import_units(session, [{"code": "PTC", "name": "Phòng Tổ chức", "parent_code": "STC"}],
                     config=config, now=NOW)
        import_employees(session, [{"code": "E002", "full_name": "Trần Thị Bích",
                                    "unit_code": "STC", "position": "Chuyên viên",
                                    "category": "CC", "end_date": "2026-11-05"}], now=NOW)
        session.commit()
    rows = assert_current(session_factory, config)
    assert [(r.unit.code, r.day.day) for r in rows if r.employee.code == "E002"] == [
        ("STC", 5)]


def test_a_config_change_is_seen_without_any_mark(session_factory, config, stored):
    """An extra holiday on 5/11 and a grace of 15 minutes: the days stored under the old
    config are evaluated live until the scheduler stores them again."""
    data = tomllib.loads(CONFIG_FILE.read_text())
    data["extra_holidays"] = ["2026-11-05"]
    data["schedules"]["default"]["late_grace_minutes"] = 15
    changed = parse_config(data)
    rows = log(session_factory, changed)
    assert rows == live(session_factory, changed)
    assert ("E002", 5, ABSENT, "open") not in codes(rows)
    assert [d for c, d, k, s in codes(rows) if c == "E001"] == []  # 12, 10, 5 minutes late
    with session_factory() as session:
        assert findings.coverage(session, changed, FIRST, LAST).stored_days == []
    assert_current(session_factory, changed)
    assert log(session_factory, config) == live(session_factory, config)  # the old one too


def test_new_rules_code_is_a_config_change_too(session_factory, config, stored, monkeypatch):
    monkeypatch.setattr(findings, "CODE_VERSION", "another release")
    findings._CALENDARS.clear()
    with session_factory() as session:
        assert findings.coverage(session, config, FIRST, LAST).stored_days == []
    assert codes(log(session_factory, config)) == NOVEMBER


# --- writers and the scheduler -------------------------------------------------------------

def test_live_evidence_is_not_marked_late_evidence_is(session_factory, config, stored):
    with session_factory() as session:
        findings.mark_stale(session, [(stored["E001"], NOW - timedelta(minutes=3)),
                                      (stored["E002"], NOW - timedelta(hours=30)),
                                      (None, NOW - timedelta(days=3))], now=NOW)
        findings.mark_stale(session, [(stored["E003"], NOW - timedelta(minutes=3))])
        session.commit()
        assert session.scalars(select(StaleFinding.employee_id).order_by(
            StaleFinding.employee_id)).all() == [stored["E002"], stored["E003"]]


def test_the_job_stores_a_day_an_hour_after_it_ends_once(session_factory, config):
    with session_factory() as session:
        november(session)
        session.commit()
    at = lambda day, hm: local(day, hm).astimezone(UTC)  # noqa: E731
    run = jobs.refresh_findings(config, session_factory, at(date(2026, 11, 12), "00:59"))
    assert run.days == [date(2026, 11, 10), date(2026, 11, 9), date(2026, 11, 8),
                        date(2026, 11, 7), date(2026, 11, 6), date(2026, 11, 5),
                        date(2026, 11, 4)]  # seven a run, newest first
    run = jobs.refresh_findings(config, session_factory, at(date(2026, 11, 12), "01:00"))
    assert run.days == [date(2026, 11, 11), date(2026, 11, 3), date(2026, 11, 2)]
    assert jobs.refresh_findings(config, session_factory,
                                 at(date(2026, 11, 12), "01:05")).days == []
    with session_factory() as session:
        assert session.scalar(select(func.min(FindingDay.day))) == date(2026, 11, 2)
        # Each day's rows were replaced whole: nothing twice.
        assert session.scalar(select(func.count()).select_from(DailyFinding)) == 8


def test_the_scheduler_lists_the_job():
    spec = next(s for s in jobs.JOBS if s.id == "findings.refresh")
    assert spec.func is jobs.refresh_findings and spec.run_at_start


def test_cli_refreshes_a_range_and_the_log_follows_at_once(session_factory, config, cli):
    with session_factory() as session:
        people = november(session)
        session.commit()
        e002 = people["E002"].id
    result = cli("findings", "refresh", "--from", "2026-11-02", "--to", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "đã lưu 19 ngày (11 vi phạm)" in result.output
    result = cli("findings", "refresh", "--from", "2099-01-01")
    assert result.exit_code == 1 and "chưa kết thúc" in result.output
    span = ("--from", "2026-11-01", "--to", "2026-11-20", "--format", "json")
    assert json.loads(cli("violations", *span).output)["total"] == 11
    with session_factory() as session:
        excuse = request_excuse(session, config, session.get(Employee, e002),
                                start_date=date(2026, 11, 5), end_date=date(2026, 11, 5),
                                part="full", kind="other", note="Ốm", requested_by="E002",
                                now=NOW, today=NOW.date())
        decide_excuse(session, excuse, "approved", "Lê Văn Trưởng", None, NOW)
        session.commit()
    data = json.loads(cli("violations", *span, "--status", "excused").output)
    assert [(v["employee"], v["date"]) for v in data["violations"]] == [
        ("E002", "2026-11-05"), ("E002", "2026-11-06"), ("E003", "2026-11-16")]


def test_the_demo_province_stored_equals_live_for_every_finding(session_factory):
    """The demo province (both check-in modes, half days, business trips, guards' records,
    spot checks): every finding of its four weeks, stored and evaluated, is the same."""
    from attendance.config import load_config
    from attendance.demo import load_demo

    config = load_config(Path(__file__).parent.parent / "config" / "example-province.toml")
    today, now = date(2026, 3, 27), datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
    with session_factory() as session:
        load_demo(session, config, today=today, now=now, badges=False)
        session.commit()
    run = findings.refresh(session_factory, config, now, max_days=None)
    first, last = run.days[-1], run.days[0]
    assert (first, last) == (date(2026, 3, 2), date(2026, 3, 31))  # from the first scan
    assert run.findings > 300
    stored_rows = log(session_factory, config, first, last)
    with session_factory() as session:
        assert findings.coverage(session, config, first, last).live_days == []
    assert stored_rows == live(session_factory, config, first, last)
    assert {r.kind for r in stored_rows} >= {LATE, ABSENT, NO_BADGE, "missed_session"}
    assert {r.status for r in stored_rows} == {"open", "excused"}


def test_a_day_with_many_marks_is_stored_again_whole(session_factory, config, stored,
                                                     monkeypatch):
    monkeypatch.setattr(findings, "STALE_LIMIT", 1)
    with session_factory() as session:
        findings.mark_stale(session, [(stored["E001"], date(2026, 11, 2)),
                                      (stored["E002"], date(2026, 11, 2))])
        session.commit()
        assert date(2026, 11, 2) in findings.coverage(session, config, FIRST, LAST).live_days
    assert codes(log(session_factory, config)) == NOVEMBER
    assert refresh(session_factory, config).days == [date(2026, 11, 2)]
    with session_factory() as session:  # a unit high in the tree: every day, whole
        for code in ("E001", "E002"):
            session.get(Employee, stored[code]).schedule = "default"
        session.commit()
        assert findings.coverage(session, config, FIRST, LAST).stored_days == []
    assert codes(log(session_factory, config)) == NOVEMBER
    assert len(refresh(session_factory, config).days) == 30
    assert_current(session_factory, config, NOVEMBER)


def test_an_absence_excused_by_a_morning_and_an_afternoon_cites_both(session_factory, config,
                                                                     stored):
    """E002's absence of 5/11, then a morning and an afternoon excuse of that day approved:
    one absence, excused by both, live and stored alike; the JSON keeps ``excuse`` (the
    morning's) and lists both in ``excuses``; the CSV names both in each excuse column."""
    with session_factory() as session:
        employee = session.get(Employee, stored["E002"])
        for part, kind, reason in (("morning", "other", "Khám bệnh"),
                                   ("afternoon", "leave", "Việc gia đình")):
            excuse = request_excuse(session, config, employee, start_date=date(2026, 11, 5),
                                    end_date=date(2026, 11, 5), part=part, kind=kind,
                                    note=reason, requested_by="E002", now=NOW, today=NOW.date())
            decide_excuse(session, excuse, "approved", f"Trưởng phòng {part}", reason, NOW)
        session.commit()
    rows = assert_current(session_factory, config)
    [absence] = [r for r in rows if (r.employee.code, r.day.day) == ("E002", 5)]
    assert (absence.kind, absence.status) == (ABSENT, "excused")
    assert [(e.part, e.kind, e.approved_by, e.reason) for e in absence.excuses] == [
        ("morning", "other", "Trưởng phòng morning", "Khám bệnh"),
        ("afternoon", "leave", "Trưởng phòng afternoon", "Việc gia đình")]
    shown = violation_json(absence, config.tz)
    assert shown["excuse"] == shown["excuses"][0] and len(shown["excuses"]) == 2
    assert [e["part"] for e in shown["excuses"]] == ["morning", "afternoon"]
    assert violation_json(rows[0], config.tz)["excuses"] == []  # an open finding
    text = violations_csv([absence], config).decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["Loại lý do"], row["Người duyệt"], row["Lý do"]) == (
        "lý do khác, buổi sáng; nghỉ phép, buổi chiều",
        "Trưởng phòng morning; Trưởng phòng afternoon", "Khám bệnh; Việc gia đình")
