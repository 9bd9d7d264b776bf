"""The scheduler under a simulated clock: each unit's reports on time, every working day,
exactly once; catch-up after a stop; new versions when the data changes; the job list.

The jobs are driven with an injected ``now`` at the fire times of their own cron triggers
(never by sleeping); the real APScheduler is started once to check the registration.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from attendance import issuing, jobs
from attendance.db import make_engine, make_session_factory
from attendance.models import AuditEntry, IssuedReport, Station, Unit
from report_factories import add_employee, add_unit, excuse, local, no_badge, scan, spot_check

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TICK = next(spec for spec in jobs.JOBS if spec.id == "reports.tick")
UNITS = ("UBND", "SNV", "PTC", "STC")


def at(day: date, hms: str) -> datetime:
    return local(day, hms)


def fire_times(spec: jobs.JobSpec, config, start: datetime, end: datetime):
    """The instants at which APScheduler would run ``spec`` between start and end."""
    trigger = CronTrigger(timezone=config.tz, **spec.cron)
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        yield moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))


def drive(config, session_factory, start: datetime, end: datetime, **options) -> int:
    count = 0
    for moment in fire_times(TICK, config, start, end):
        jobs.tick(config, session_factory, moment, **options)
        count += 1
    return count


@pytest.fixture
def province(session_factory):
    """UBND → SNV → PTC, UBND → STC; a few staff (no scans needed to be reported on)."""
    with session_factory() as session:
        root = add_unit(session, "UBND", "Ủy ban nhân dân tỉnh")
        snv = add_unit(session, "SNV", "Sở Nội vụ", root)
        ptc = add_unit(session, "PTC", "Phòng Tổ chức", snv)
        stc = add_unit(session, "STC", "Sở Tài chính", root)
        people = {
            "E001": add_employee(session, "E001", "Nguyễn Văn An", snv),
            "E002": add_employee(session, "E002", "Trần Thị Bích", snv),
            "E003": add_employee(session, "E003", "Lê Hoàng Cường", ptc),
            "E004": add_employee(session, "E004", "Phạm Thị Dung", stc),
        }
        session.commit()
        return {"units": {u.code: u.id for u in (root, snv, ptc, stc)},
                "people": {code: e.id for code, e in people.items()}}


def reports(session_factory, **where) -> list[IssuedReport]:
    with session_factory() as session:
        query = select(IssuedReport)
        for name, value in where.items():
            query = query.where(getattr(IssuedReport, name) == value)
        return list(session.scalars(query.order_by(IssuedReport.id)))


def working_days_of_august() -> list[date]:
    """August 2026 as the Ministry set it: Saturday 22/8 worked in exchange for Monday 31/8
    (before Quốc khánh 1–2/9)."""
    out = []
    day = date(2026, 8, 1)
    while day < date(2026, 9, 1):
        if (day.weekday() < 5 and day != date(2026, 8, 31)) or day == date(2026, 8, 22):
            out.append(day)
        day += timedelta(days=1)
    return out


def test_a_month_of_scheduler_time_issues_each_report_once_per_unit_per_working_day(
        config, session_factory, province):
    ticks = drive(config, session_factory, at(date(2026, 8, 1), "00:00"),
                  at(date(2026, 9, 3), "00:00"))
    assert ticks == 33 * 24 * 12

    issued = reports(session_factory)
    codes = {v: k for k, v in province["units"].items()}
    per_slot = Counter((r.kind, codes[r.unit_id], r.period) for r in issued)
    assert max(per_slot.values()) == 1  # never twice
    expected_days = {d.isoformat() for d in working_days_of_august()}
    assert len(expected_days) == 21
    for kind in ("morning", "daily"):
        for unit in UNITS:
            got = {period for (k, u, period) in per_slot if k == kind and u == unit}
            assert got == expected_days, (kind, unit)
    assert "2026-08-22" in expected_days  # the swapped working Saturday
    for day_off in ("2026-08-31", "2026-09-01", "2026-09-02", "2026-08-23", "2026-08-29"):
        assert not any(p == day_off for (_, _, p) in per_slot)
    # The monthly report of July, on the first working day of August (Monday 3/8).
    monthly = [r for r in issued if r.kind == "monthly"]
    assert sorted(codes[r.unit_id] for r in monthly) == sorted(UNITS)
    assert {r.period for r in monthly} == {"2026-07"}
    assert {r.issued_at.astimezone(TZ) for r in monthly} == {at(date(2026, 8, 3), "07:00")}
    # On time: each within one tick of its due time, none marked late; all version 1.
    assert not any(r.issued_late for r in issued) and {r.version for r in issued} == {1}
    morning = next(r for r in issued if r.kind == "morning" and r.period == "2026-08-22")
    daily = next(r for r in issued if r.kind == "daily" and r.period == "2026-08-22")
    assert morning.issued_at.astimezone(TZ) == at(date(2026, 8, 22), "08:00")  # 07:00 + 60
    assert daily.issued_at.astimezone(TZ) == at(date(2026, 8, 22), "18:00")    # 17:00 + 60


def test_the_winter_timetable_moves_the_report_times(config, session_factory, province):
    day = date(2026, 11, 2)  # winter: 07:30–12:00, 13:00–16:30
    drive(config, session_factory, at(day, "00:00"), at(day + timedelta(days=1), "00:00"))
    issued = reports(session_factory, unit_id=province["units"]["SNV"])
    times = {r.kind: r.issued_at.astimezone(TZ) for r in issued}
    # 2/11 is also November's first working day: October's monthly report at 07:30.
    assert times == {"monthly": at(day, "07:30"), "morning": at(day, "08:30"),
                     "daily": at(day, "17:30")}


def test_a_scheduler_stopped_across_report_times_catches_up_when_started(
        config, session_factory, province):
    monday, tuesday, wednesday = date(2026, 8, 3), date(2026, 8, 4), date(2026, 8, 5)
    drive(config, session_factory, at(monday, "00:00"), at(tuesday, "00:00"))
    # Down from Monday midnight until Wednesday 10:00: Tuesday's two reports and
    # Wednesday's morning report were due meanwhile.
    jobs.tick(config, session_factory, at(wednesday, "10:00"))
    snv = province["units"]["SNV"]
    issued = {(r.kind, r.period): r for r in reports(session_factory, unit_id=snv)}
    assert set(issued) == {("monthly", "2026-07"), ("morning", "2026-08-03"),
                           ("daily", "2026-08-03"), ("morning", "2026-08-04"),
                           ("daily", "2026-08-04"), ("morning", "2026-08-05")}
    late = {key for key, r in issued.items() if r.issued_late}
    assert late == {("morning", "2026-08-04"), ("daily", "2026-08-04"),
                    ("morning", "2026-08-05")}
    assert issued[("daily", "2026-08-04")].issued_at.astimezone(TZ) == at(wednesday, "10:00")
    # Back in service: the rest of the week follows on time, without a gap or a repeat.
    drive(config, session_factory, at(wednesday, "10:00"), at(date(2026, 8, 8), "00:00"))
    days = Counter(r.period for r in reports(session_factory, unit_id=snv, kind="daily"))
    assert days == {f"2026-08-0{d}": 1 for d in range(3, 8)}


def test_catch_up_is_bounded_and_a_new_installation_starts_today(
        config, session_factory, province):
    # A first start on a Thursday afternoon issues that day's morning report (late), not
    # a week of history.
    jobs.tick(config, session_factory, at(date(2026, 8, 6), "15:00"))
    issued = reports(session_factory, unit_id=province["units"]["SNV"])
    assert [(r.kind, r.period, r.issued_late) for r in issued] == [
        ("morning", "2026-08-06", True)]
    # Down for three weeks: at most seven days back are caught up.
    jobs.tick(config, session_factory, at(date(2026, 8, 28), "09:00"))
    periods = {r.period for r in reports(session_factory, unit_id=province["units"]["SNV"],
                                          kind="daily")}
    assert min(periods) == "2026-08-21" and "2026-08-22" in periods
    assert "2026-08-20" not in periods


def test_no_report_is_issued_for_a_day_before_go_live(config, session_factory, province):
    # Stations and accounts are set up the week before records_from: nobody is on record
    # yet, so no morning report calls everyone "not arrived", and no mail goes out.
    live = config.model_copy(update={"records_from": date(2026, 8, 5)})
    drive(live, session_factory, at(date(2026, 8, 3), "00:00"), at(date(2026, 8, 6), "00:00"))
    issued = reports(session_factory, unit_id=province["units"]["SNV"])
    assert [(r.kind, r.period) for r in issued] == [("morning", "2026-08-05"),
                                                    ("daily", "2026-08-05")]
    # July's monthly report was due on 3/8, before go-live: July is not on record.
    assert not reports(session_factory, kind="monthly")


def test_issuing_version_one_twice_fails_at_the_database(config, session_factory, province):
    snv = province["units"]["SNV"]
    now = at(date(2026, 8, 3), "18:00")
    first = issuing.issue(session_factory, config, kind="daily", unit_id=snv,
                          period="2026-08-03", content={"units": []}, now=now, due_at=now)
    again = issuing.issue(session_factory, config, kind="daily", unit_id=snv,
                          period="2026-08-03", content={"units": [], "x": 1}, now=now, due_at=now)
    assert first is not None and first.version == 1 and again is None
    with session_factory() as session:  # the key itself, without the helper
        session.add(IssuedReport(kind="daily", unit_id=snv, period="2026-08-03", version=1,
                                 content="{}", content_hash="0" * 64, issued_at=now))
        with pytest.raises(IntegrityError):
            session.flush()
    assert len(reports(session_factory)) == 1


@pytest.mark.parametrize("use_lock", [True, False], ids=["advisory-lock", "unique-key-only"])
def test_two_schedulers_on_one_database_issue_no_duplicate(
        config, database_url, session_factory, province, use_lock):
    """Two schedulers (threads, each with its own engine and connections) tick the same
    clock at once over two days, as two processes started by mistake would."""
    moments = list(fire_times(TICK, config, at(date(2026, 8, 3), "06:00"),
                              at(date(2026, 8, 5), "00:00")))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scheduler():
        engine = make_engine(database_url)
        factory = make_session_factory(engine)
        try:
            for moment in moments:
                barrier.wait(timeout=60)
                jobs.tick(config, factory, moment, use_lock=use_lock)
        except BaseException as exc:  # reported below, with the thread's traceback lost
            errors.append(exc)
            barrier.abort()
        finally:
            engine.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with session_factory() as session:
        duplicates = session.execute(
            select(IssuedReport.kind, IssuedReport.unit_id, IssuedReport.period,
                   IssuedReport.version, func.count())
            .group_by(IssuedReport.kind, IssuedReport.unit_id, IssuedReport.period,
                      IssuedReport.version).having(func.count() > 1)).all()
        total = session.scalar(select(func.count()).select_from(IssuedReport))
    assert duplicates == []
    # Two working days x (morning + daily) x 4 units, and July's monthly report x 4.
    assert total == 2 * 2 * 4 + 4


def _content(report: IssuedReport) -> dict:
    return json.loads(report.content)


def _unit(content: dict, code: str) -> dict:
    return next(u for u in content["units"] if u["unit"] == code)


def test_morning_report_lists_late_no_badge_and_not_yet_arrived_as_of_the_cutoff(
        config, session_factory, province):
    day = date(2026, 8, 4)  # summer: 07:00–11:30, 13:30–17:00; cut-off 08:00
    with session_factory() as session:
        people = {c: session.get(__import__("attendance.models", fromlist=["Employee"]).Employee,
                                 i) for c, i in province["people"].items()}
        scan(session, people["E001"], at(day, "07:12:30"))   # late 12 min
        no_badge(session, people["E002"], at(day, "06:55"))  # arrived without badge
        scan(session, people["E003"], at(day, "08:30"))      # after the cut-off
        excuse(session, people["E004"], day, part="morning", reason="Khám bệnh")
        # Found at her desk by an inspector at 07:40, no badge scan: arrived, no check-in.
        seen = add_employee(session, "E005", "Võ Thị Én",
                            session.get(Unit, province["units"]["PTC"]))
        spot_check(session, seen, at(day, "07:40"), "present_with_badge")
        session.commit()
    drive(config, session_factory, at(day, "00:00"), at(day + timedelta(days=1), "00:00"))
    morning = _content(reports(session_factory, kind="morning",
                               unit_id=province["units"]["UBND"])[0])
    snv, ptc, stc = _unit(morning, "SNV"), _unit(morning, "PTC"), _unit(morning, "STC")
    assert snv["late"] == [{"employee": "E001", "check_in": "2026-08-04T07:12:30+07:00",
                            "minutes": 12}]
    assert snv["no_badge"] == [{"employee": "E002", "source": "guard"}]
    assert (snv["present"], snv["not_arrived"]) == (2, [])
    assert ptc["not_arrived"] == ["E003"] and ptc["late"] == []  # unknown at 08:00
    assert ptc["present"] == 0  # E005 was seen, not checked in
    assert stc["excused"] == ["E004"] and stc["not_arrived"] == []
    assert morning["totals"]["expected"] == 4
    daily = _content(reports(session_factory, kind="daily", unit_id=province["units"]["UBND"])[0])
    assert [e["employee"] for e in _unit(daily, "PTC")["late"]] == ["E003"]
    # The PTC report covers PTC only; SNV's covers SNV and PTC.
    snv_daily = _content(reports(session_factory, kind="daily",
                                 unit_id=province["units"]["SNV"])[0])
    assert {u["unit"] for u in snv_daily["units"]} == {"SNV", "PTC"}


def test_a_later_change_issues_a_new_version_that_lists_what_changed(
        config, session_factory, province):
    day = date(2026, 8, 4)
    drive(config, session_factory, at(day, "00:00"), at(day, "19:00"))
    first = reports(session_factory, kind="daily", unit_id=province["units"]["SNV"])
    assert [r.version for r in first] == [1]
    assert set(_unit(_content(first[0]), "SNV")["absent"]) == {"E001", "E002"}
    recheck_at = at(date(2026, 8, 5), "09:20")
    assert jobs.recheck(config, session_factory, recheck_at) == []  # nothing changed yet

    with session_factory() as session:
        from attendance.models import Employee

        excuse(session, session.get(Employee, province["people"]["E002"]), day,
               kind="business_trip", reason="Họp tại Bộ Nội vụ")
        # A late upload from an offline station: E001 was in at 07:03 after all.
        scan(session, session.get(Employee, province["people"]["E001"]), at(day, "07:03"))
        session.commit()
    new = jobs.recheck(config, session_factory, recheck_at)
    units = {r.unit_id for r in new}
    assert units == {province["units"]["SNV"], province["units"]["UBND"]}  # not PTC, STC
    snv = next(r for r in new if r.unit_id == province["units"]["SNV"])
    assert snv.version == 2 and snv.issued_late is False
    assert snv.content_hash != first[0].content_hash
    changes = json.loads(snv.changes)["units"]["SNV"]
    assert changes["lists"]["absent"] == {"removed": ["E001", "E002"]}
    assert changes["lists"]["excused"] == {"added": ["E002"]}
    assert changes["lists"]["missing_checkout"] == {"added": ["E001"]}
    assert changes["figures"]["present"] == [0, 1]
    # Both versions are kept; re-checking again issues nothing.
    assert jobs.recheck(config, session_factory, recheck_at + timedelta(hours=1)) == []
    kept = reports(session_factory, kind="daily", unit_id=province["units"]["SNV"])
    assert [r.version for r in kept] == [1, 2]


def _july(session_factory, province):
    """E001 on time every working day of July 2026, E003 late on the 31st; E002 and E004
    never came."""
    from attendance.models import Employee

    with session_factory() as session:
        e001 = session.get(Employee, province["people"]["E001"])
        e003 = session.get(Employee, province["people"]["E003"])
        for day in (d for d in (date(2026, 7, n) for n in range(1, 32)) if d.weekday() < 5):
            scan(session, e001, at(day, "06:55"))
            scan(session, e001, at(day, "17:05"))
        scan(session, e003, at(date(2026, 7, 31), "07:20"))
        scan(session, e003, at(date(2026, 7, 31), "17:05"))
        session.commit()


def test_each_unit_s_monthly_report_is_its_own_compile(config, session_factory, province):
    """The month is compiled once for every unit; each unit's report is what compiling it
    alone gives (its sub-units ranked among themselves)."""
    from attendance.org import org_tree
    from attendance.reports import compile_monthly, monthly_json

    _july(session_factory, province)
    with session_factory() as session:
        tree = org_tree(session)
        together = issuing.monthly_contents(session, config, date(2026, 7, 1), tree,
                                            list(tree.units))
        for unit_id, unit in tree.units.items():
            alone = compile_monthly(session, config, "2026-07", unit.code)
            assert together[unit_id] == {"kind": "monthly", "unit": unit.code,
                                         "name": unit.name, **monthly_json(alone)}
    ubnd = together[province["units"]["UBND"]]
    assert [(u["unit"], u["rank"]) for u in ubnd["units"]] == [
        ("SNV", 1), ("PTC", 2), ("STC", None)]
    assert [(u["unit"], u["rank"]) for u in together[province["units"]["SNV"]]["units"]] == [
        ("SNV", 1), ("PTC", 2)]


def test_an_excuse_approved_after_the_month_revises_its_monthly_report_that_night(
        config, session_factory, province):
    _july(session_factory, province)
    monday = date(2026, 8, 3)  # the first working day of August: July's report is due
    jobs.tick(config, session_factory, at(monday, "09:00"))
    first = reports(session_factory, kind="monthly", unit_id=province["units"]["SNV"])
    assert [(r.period, r.version) for r in first] == [("2026-07", 1)]
    before = _unit(_content(first[0]), "SNV")
    bich = next(p for p in before["employees"] if p["employee"] == "E002")
    assert bich["absences"] == 23 and bich["excused_days"] == 0

    with session_factory() as session:  # the head approves Bích's leave of 30–31/7
        from attendance.models import Employee

        excuse(session, session.get(Employee, province["people"]["E002"]), date(2026, 7, 30),
               date(2026, 7, 31))
        session.commit()
    assert jobs.recheck(config, session_factory, at(monday, "10:20")) == []  # daily only
    new = jobs.recheck_history(config, session_factory, at(monday + timedelta(days=1), "01:40"))
    assert {(r.kind, r.unit_id) for r in new} == {
        ("monthly", province["units"]["SNV"]), ("monthly", province["units"]["UBND"])}
    snv = next(r for r in new if r.unit_id == province["units"]["SNV"])
    assert (snv.period, snv.version, snv.issued_late) == ("2026-07", 2, False)
    after = _unit(_content(snv), "SNV")
    bich = next(p for p in after["employees"] if p["employee"] == "E002")
    assert bich["absences"] == 21 and bich["excused_days"] == 2
    changes = json.loads(snv.changes)["units"]
    assert list(changes) == ["SNV"]
    assert changes["SNV"]["lists"] == {"employees": {
        "changed": ["E002"],
        "details": {"E002": {"absences": [23, 21], "excused_days": [0, 2]}}}}
    assert changes["SNV"]["figures"]["absences"] == [before["absences"], before["absences"] - 2]
    assert changes["SNV"]["figures"]["expected"] == [before["expected"], before["expected"] - 2]
    # Nothing changed since: the next nights issue nothing.
    assert jobs.recheck_history(config, session_factory,
                                at(monday + timedelta(days=2), "01:40")) == []


def test_the_nightly_recheck_reaches_back_as_far_as_an_excuse_may(
        config, session_factory, province):
    """A daily report older than the hourly re-check's week is revised at night, until the
    day is older than an excuse may be requested for (60 days)."""
    from attendance.models import Employee

    day = date(2026, 7, 20)
    jobs.tick(config, session_factory, at(day, "19:00"))
    assert [r.version for r in reports(session_factory, kind="daily",
                                       unit_id=province["units"]["SNV"])] == [1]
    with session_factory() as session:
        excuse(session, session.get(Employee, province["people"]["E002"]), day)
        session.commit()
    later = date(2026, 8, 4)
    assert jobs.recheck(config, session_factory, at(later, "09:20")) == []  # over a week ago
    new = jobs.recheck_history(config, session_factory, at(later, "01:40"))
    assert {(r.kind, r.period, r.version) for r in new} == {("daily", "2026-07-20", 2)}
    assert {r.unit_id for r in new} == {province["units"]["SNV"], province["units"]["UBND"]}
    changes = json.loads(new[0].changes)["units"]["SNV"]["lists"]
    assert changes["absent"] == {"removed": ["E002"]} and changes["excused"] == {"added": ["E002"]}

    def excused_later(code: str, moment: datetime) -> list[IssuedReport]:
        with session_factory() as session:
            excuse(session, session.get(Employee, province["people"][code]), day)
            session.commit()
        return jobs.recheck_history(config, session_factory, moment)

    # 60 days after the day (a Friday), an excuse may still be requested: revised.
    assert {r.version for r in excused_later("E001", at(day + timedelta(days=60), "01:40"))} \
        == {3}
    # 63 days after (a Monday), no longer: the report stays as it was.
    assert excused_later("E003", at(day + timedelta(days=63), "01:40")) == []


def test_nothing_runs_on_a_day_off_but_the_purge_and_the_health_check(
        config, session_factory, province):
    sunday = date(2026, 8, 9)
    with session_factory() as session:
        session.add(Station(code="CONG-1", unit_id=province["units"]["SNV"], key_hash="x" * 64,
                            created_at=at(sunday, "00:00"), active=True,
                            last_seen_at=at(date(2026, 8, 7), "17:00")))
        session.commit()
    drive(config, session_factory, at(sunday, "00:00"), at(sunday, "23:59"))
    assert reports(session_factory) == []
    assert jobs.recheck(config, session_factory, at(sunday, "10:20")) == []
    health = jobs.health_check(config, session_factory, at(sunday, "21:45"))
    assert health.ok  # a station is not expected to speak on a Sunday
    assert jobs.purge(config, session_factory, at(sunday, "02:30")) == 0

    monday = date(2026, 8, 10)
    health = jobs.health_check(config, session_factory, at(monday, "21:45"))
    assert health.silent_stations == ["CONG-1"] and health.broken_link is None
    assert health.chain_records >= 1  # Sunday's entry at least
    assert jobs.health_check(config, session_factory, at(monday, "22:00")) is None  # once
    with session_factory() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == jobs.HEALTH_ACTION).order_by(AuditEntry.id)).all()
    assert [e.target for e in entries] == ["health:2026-08-09", "health:2026-08-10"]
    assert json.loads(entries[-1].details)["silent_stations"] == ["CONG-1"]


def test_the_health_check_finds_a_broken_audit_chain(config, session_factory, province):
    from sqlalchemy import text

    monday = date(2026, 8, 10)
    jobs.health_check(config, session_factory, at(monday, "21:45"))
    with session_factory() as session:  # behind the application's back
        session.execute(text("UPDATE audit_log SET actor = 'ke-gian'"))
        session.commit()
    health = jobs.health_check(config, session_factory, at(monday + timedelta(days=1), "21:45"))
    assert health.broken_link is not None and "audit_log" in health.broken_link


def test_the_real_apscheduler_registers_the_job_list(config, session_factory):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = jobs.build_scheduler(config, session_factory)
    assert isinstance(scheduler, BackgroundScheduler)
    scheduler.start(paused=True)  # registered, nothing runs
    try:
        registered = {job.id: job for job in scheduler.get_jobs()}
        assert set(registered) == {"reports.tick", "reports.recheck", "reports.recheck_history",
                                   "mail.deliver", "findings.refresh", "evidence.purge",
                                   "health.check"}
        for spec in jobs.JOBS:
            job = registered[spec.id]
            assert str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == spec.misfire_grace_time > 1
        assert "minute='*/5'" in str(registered["reports.tick"].trigger)
        assert "hour='2', minute='30'" in str(registered["evidence.purge"].trigger)
        assert "hour='1', minute='40'" in str(registered["reports.recheck_history"].trigger)
    finally:
        scheduler.shutdown(wait=False)


def test_unit_reports_follow_the_unit_s_own_schedule(config, session_factory):
    """A unit on a Saturday-working schedule has reports on Saturdays; the others not."""
    import tomllib
    from pathlib import Path

    from attendance.config import parse_config

    data = tomllib.loads((Path(__file__).parent.parent / "config" / "default.toml").read_text())
    data["schedules"]["mot_cua"] = {
        "workdays": ["tue", "wed", "thu", "fri", "sat"],
        "periods": [{"from": "01-01", "to": "12-31", "sessions": ["07:30-11:30", "13:30-17:30"]}],
    }
    config = parse_config(data)
    with session_factory() as session:
        root = add_unit(session, "UBND", "Ủy ban nhân dân tỉnh")
        session.add(Unit(code="MC", name="Bộ phận một cửa", parent_id=root.id, schedule="mot_cua"))
        session.commit()
    saturday = date(2026, 8, 8)
    drive(config, session_factory, at(saturday, "00:00"), at(saturday, "23:59"))
    issued = reports(session_factory)
    assert sorted((r.kind, r.issued_at.astimezone(TZ).strftime("%H:%M")) for r in issued) == [
        ("daily", "18:30"), ("morning", "08:30")]
