"""The demo province: size, four weeks of scans, both check-in modes, determinism, --if-empty."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select

from attendance.calendar import WorkCalendar
from attendance.config import load_config
from attendance.db import make_engine, make_session_factory
from attendance.demo import DEMO_PASSWORD, load_demo
from attendance.deployment import bind_config
from attendance.models import (
    AuditEntry,
    Employee,
    Excuse,
    ExcuseDecision,
    NoBadgeRecord,
    Scan,
    SpotCheckFinding,
    Station,
    Unit,
    User,
)
from web import create_app

EXAMPLE = Path(__file__).parent.parent / "config" / "example-province.toml"
TODAY = date(2026, 3, 27)  # the window holds the example's local holiday, 2026-03-24
NOW = datetime(2026, 4, 1, 3, 0, tzinfo=timezone.utc)


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_loads_a_province_with_four_weeks_of_scans(cli, database_url):
    result = cli("--config", str(EXAMPLE), "demo", "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    for username in ("admin", "thanhtra", "thutruong", "nhanvien"):
        assert f"{username} / {DEMO_PASSWORD}" in result.output

    config = load_config(EXAMPLE)
    engine = make_engine(database_url)
    try:
        session = make_session_factory(engine)()
        assert count(session, Employee) >= 300
        assert count(session, Unit, Unit.name.like("Sở%")) >= 5
        assert count(session, Unit, Unit.name.like("UBND huyện%")) == 1
        assert count(session, Unit, Unit.name.like("UBND phường%")) >= 2
        names = session.scalars(select(Employee.full_name)).all()
        assert all(unicodedata.is_normalized("NFC", n) for n in names)
        assert {"CB", "CC", "VC", "HĐ"} <= set(session.scalars(select(Employee.category)))

        # Both timetables: the default (day mode) and the wards' (session mode).
        assert config.schedules["phuong"].checkin_mode == "session"
        assert count(session, Unit, Unit.schedule == "phuong") >= 5

        # Four weeks of working days, up to and including TODAY, and only working days.
        tz = config.tz
        days = {s.astimezone(tz).date() for s in session.scalars(
            select(Scan.scanned_at).where(Scan.status == "accepted"))}
        calendar = WorkCalendar(config)
        expected = {TODAY - timedelta(days=n) for n in range(28)}
        expected = {d for d in expected if calendar.is_working_day(d, config.schedule(None))}
        assert days == expected and TODAY in days and date(2026, 3, 24) not in days
        assert len(days) >= 19

        # Session mode: ward staff scan four times on an ordinary day, office staff twice.
        ward = session.scalar(select(Unit).where(Unit.code == "TPTK-AM"))
        per_person = session.execute(
            select(Scan.employee_id, func.count()).join(Employee, Employee.id == Scan.employee_id)
            .where(Employee.unit_id == ward.id, Scan.status == "accepted")
            .group_by(Scan.employee_id)).all()
        assert max(n for _, n in per_person) >= 3 * len(days)

        assert count(session, NoBadgeRecord) > 0
        assert count(session, Excuse, Excuse.part != "full") > 0
        assert count(session, Excuse, Excuse.kind == "business_trip") > 0
        assert count(session, ExcuseDecision) > 0
        assert count(session, SpotCheckFinding, SpotCheckFinding.result != "present_with_badge") > 0
        assert count(session, Station) >= 10
        assert count(session, Scan, Scan.source.like("station:%")) == count(session, Scan)
        roles = dict(session.execute(select(User.username, User.role)).all())
        assert roles == {"admin": "admin", "thanhtra": "inspector", "thutruong": "unit_head",
                         "nhanvien": "staff"}
        staff = session.scalar(select(User).where(User.username == "nhanvien"))
        assert staff.employee_id is not None
        audit_rows = count(session, AuditEntry)
        session.close()
    finally:
        engine.dispose()

    # ``make run`` calls ``demo --if-empty`` every time: the second call changes nothing.
    again = cli("--config", str(EXAMPLE), "demo", "--if-empty")
    assert again.exit_code == 0 and "không nạp" in again.output
    refused = cli("--config", str(EXAMPLE), "demo")
    assert refused.exit_code == 1
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            assert count(session, AuditEntry) == audit_rows
    finally:
        engine.dispose()


def snapshot(session) -> list:
    """What the seed decides, by codes (ids differ between runs on PostgreSQL)."""
    employees = session.execute(select(
        Employee.code, Employee.full_name, Employee.position, Employee.category,
        Employee.card_number).order_by(Employee.code)).all()
    scans = session.execute(
        select(Employee.code, Scan.scanned_at, Scan.event_id, Scan.stream, Scan.seq)
        .outerjoin(Employee, Employee.id == Scan.employee_id).order_by(Scan.stream, Scan.seq)).all()
    excuses = session.execute(
        select(Employee.code, Excuse.start_date, Excuse.end_date, Excuse.part, Excuse.kind)
        .join(Employee, Employee.id == Excuse.employee_id)
        .order_by(Employee.code, Excuse.start_date)).all()
    marks = session.execute(
        select(Employee.code, NoBadgeRecord.recorded_at)
        .join(Employee, Employee.id == NoBadgeRecord.employee_id)
        .order_by(NoBadgeRecord.stream, NoBadgeRecord.seq)).all()
    return [employees, scans, excuses, marks]


def test_demo_is_deterministic_and_falls_back_to_the_default_schedule(db_session, config):
    # The embedded default config has no ward timetable: every unit keeps the default one.
    assert "phuong" not in config.schedules
    first = load_demo(db_session, config, seed=7, today=TODAY, now=NOW, weeks=1, badges=False)
    assert first.modes == ("day",) and first.badges is None
    assert count(db_session, Unit, Unit.schedule.is_not(None)) == 0
    before = snapshot(db_session)
    db_session.rollback()
    load_demo(db_session, config, seed=7, today=TODAY, now=NOW, weeks=1, badges=False)
    assert snapshot(db_session) == before
    db_session.rollback()
    load_demo(db_session, config, seed=8, today=TODAY, now=NOW, weeks=1, badges=False)
    assert snapshot(db_session)[0] != before[0]


def test_nothing_is_recorded_after_the_moment_of_loading(db_session):
    config = load_config(EXAMPLE)
    now = datetime(2026, 3, 27, 2, 30, tzinfo=timezone.utc)  # 09:30 in Việt Nam
    summary = load_demo(db_session, config, seed=1, today=TODAY, now=now, weeks=1, badges=False)
    assert summary.modes == ("day", "session")
    latest = db_session.scalar(select(func.max(Scan.scanned_at)))
    assert latest <= now
    assert latest.astimezone(config.tz).date() == TODAY


def test_no_one_is_absent_before_the_demo_begins(cli, session_factory, engine):
    """The demo's first day is the database's go-live: the month before it (no station was
    recording then) holds no absence in the reports or the violation log; a config that
    names its own go-live keeps it."""
    today = date(2026, 11, 23)
    with session_factory() as session:
        summary = load_demo(session, load_config(EXAMPLE), seed=3, today=today,
                            now=datetime(2026, 11, 23, 10, tzinfo=timezone.utc), weeks=1,
                            badges=False)
        session.commit()
    assert summary.first_day == date(2026, 11, 17)
    october = json.loads(cli("--config", str(EXAMPLE), "report", "monthly", "--month",
                             "2026-10", "--format", "json").stdout)
    assert october["repeat_offenders"] == [] and all(
        (u["expected"], u["absences"]) == (0, 0) for u in october["units"])
    november = json.loads(cli("--config", str(EXAMPLE), "report", "monthly", "--month",
                              "2026-11", "--until", "2026-11-23", "--format", "json").stdout)
    worked = {e["working_days"] for u in november["units"] for e in u["employees"]}
    assert max(worked) == 5  # 17 to 23 November, not the whole month
    day = json.loads(cli("--config", str(EXAMPLE), "report", "daily", "--date", "2026-11-16",
                         "--format", "json").stdout)
    assert all((u["expected"], u["absent"]) == (0, []) for u in day["units"])
    log = cli("--config", str(EXAMPLE), "violations", "--from", "2026-11-01", "--to",
              "2026-11-16", "--format", "csv").stdout.lstrip("\ufeff").splitlines()
    assert len(log) == 1  # the header alone
    assert cli("audit", "list", "--limit", "1").stdout.split("\t")[5].startswith(
        "Ngày: 23/11/2026; Ngày bắt đầu ghi nhận: 17/11/2026;")

    # The config's own go-live comes first; the web service binds the config as the CLI does.
    own = load_config(EXAMPLE).model_copy(update={"records_from": date(2026, 11, 2)})
    assert bind_config(own, engine).records_from == date(2026, 11, 2)
    assert bind_config(load_config(EXAMPLE), engine).records_from == date(2026, 11, 17)
    app = create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False),
                      "ATTENDANCE_CONFIG": str(EXAMPLE), "SECRET_KEY": "x"})
    assert app.extensions["attendance"]["config"].records_from == date(2026, 11, 17)
    app.extensions["attendance"]["engine"].dispose()
