"""The scheduler: job bodies (each owns its session) and the job list, kept as data.

Jobs (ids are stable; cron fields are in the deployment's timezone):

| id                | when                   | does                                              |
|-------------------|------------------------|---------------------------------------------------|
| reports.tick      | every 5 min, and at start | issues every report that is due and not issued: morning (first session + cut-off), end-of-day (last session + delay), monthly (first working day) — per unit and per its own schedule's timetable of the day (summer/winter periods differ), so one tick replaces a cron line per timetable; missed ones over the look-back are caught up, marked issued late |
| reports.recheck   | hourly at :20          | re-compiles the issued daily reports of the last 7 days; a change issues a new version listing it |
| reports.recheck_history | 01:40 daily      | the same for the older daily reports (kept, not mailed) and the monthly reports, back to the first day an excuse may still be requested for (60 days by default) |
| mail.deliver      | every 5 min (at :02, :07 …) | sends pending mails, retries failed ones with back-off |
| findings.refresh  | every 5 min (at :04, :09 …), and at start | the violation log's stored findings: re-computes the employee-days whose evidence changed, then stores each day once it is over (an hour after midnight), and re-does days computed under another config or release (at most 7 whole days a run, newest first) |
| evidence.purge    | 02:30 daily            | deletes evidence photos and citizens' feedback past retention |
| health.check      | 21:45 daily            | stations silent for a day, hash chains intact; stored as an audit entry |

Every job has ``coalesce=True`` (a backlog runs once), ``max_instances=1`` and a deliberate
``misfire_grace_time``: short for the frequent jobs (their next run comes soon and catches
up anyway), hours for the nightly ones (run late rather than skip a night).

Nothing is issued for a non-working day (no slot exists for it); the re-checks run on
working days only; purge, health check, mail delivery and the findings refresh run every day.

Exactly once: the database's unique key on (kind, unit, period, version) decides (see
``attendance.issuing``); on PostgreSQL the tick and the re-checks also take an advisory lock,
so that a second scheduler started by mistake waits its turn instead of racing. The
findings refresh replaces rows whole (idempotent) and takes its own advisory lock, which
``attendance findings refresh`` shares.
On SQLite (the embedded default) ``attendance serve`` starts ``attendance scheduler`` beside
it as a process of its own; otherwise ``attendance scheduler`` is run as its own service.
"""

from __future__ import annotations

import importlib
import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from attendance import audit, feedback, findings, issuing, mail
from attendance.calendar import WorkCalendar
from attendance.config import Config
from attendance.models import AuditEntry, Station

log = logging.getLogger("attendance.jobs")

ACTOR = "scheduler"
HEALTH_ACTION = "health.check"
# Any constants: the keys of the PostgreSQL advisory locks that serialize report issuing
# and the refresh of the stored findings.
ISSUE_LOCK_KEY = 0x43434B54  # "CCKT"
FINDINGS_LOCK_KEY = 0x56495048  # "VIPH"
SILENT_AFTER = timedelta(days=1)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def advisory_lock(session_factory: sessionmaker[Session], key: int, *,
                  wait: bool = False) -> Iterator[bool]:
    """On PostgreSQL, a session-level advisory lock held for the block; yields whether it
    is held (always True elsewhere: SQLite serializes writers itself)."""
    session = session_factory()
    try:
        if session.get_bind().dialect.name != "postgresql":
            yield True
            return
        if wait:
            session.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            got = True
        else:
            got = session.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
        try:
            yield bool(got)
        finally:
            if got:
                session.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        session.close()


# --- job bodies: (config, session_factory, now) ------------------------------------------

def tick(config: Config, session_factory: sessionmaker[Session], now: datetime | None = None,
         *, use_lock: bool = True) -> list:
    """Issue what is due (reports.tick). Returns the reports issued by this call."""
    now = now or utcnow()
    if not use_lock:
        return issuing.issue_due(session_factory, config, now)
    with advisory_lock(session_factory, ISSUE_LOCK_KEY) as held:
        if not held:
            log.info("another scheduler is issuing reports; this tick skips")
            return []
        return issuing.issue_due(session_factory, config, now)


def is_working_day(config: Config, now: datetime) -> bool:
    return WorkCalendar(config).is_working_day(now.astimezone(config.tz).date(),
                                               config.schedule(None))


def _revise(revise: Callable, config: Config, session_factory: sessionmaker[Session],
            now: datetime | None) -> list:
    now = now or utcnow()
    if not is_working_day(config, now):
        return []
    with advisory_lock(session_factory, ISSUE_LOCK_KEY) as held:
        return revise(session_factory, config, now) if held else []


def recheck(config: Config, session_factory: sessionmaker[Session],
            now: datetime | None = None) -> list:
    """New versions of the recent daily reports whose data changed (reports.recheck)."""
    return _revise(issuing.recheck, config, session_factory, now)


def recheck_history(config: Config, session_factory: sessionmaker[Session],
                    now: datetime | None = None) -> list:
    """New versions of the older daily reports and the monthly reports whose data changed
    (reports.recheck_history)."""
    return _revise(issuing.recheck_history, config, session_factory, now)


def refresh_findings(config: Config, session_factory: sessionmaker[Session],
                     now: datetime | None = None) -> findings.RefreshRun | None:
    """Keep the violation log's stored findings current (findings.refresh); None when
    another process holds the lock."""
    with advisory_lock(session_factory, FINDINGS_LOCK_KEY) as held:
        if not held:
            log.info("another process is refreshing the stored findings; this run skips")
            return None
        return findings.refresh(session_factory, config, now or utcnow())


def deliver(config: Config, session_factory: sessionmaker[Session],
            now: datetime | None = None) -> mail.DeliveryRun:
    """Send the pending mails (mail.deliver)."""
    return mail.deliver_pending(session_factory, config, now or utcnow())


def purge(config: Config, session_factory: sessionmaker[Session],
          now: datetime | None = None) -> int | None:
    """Delete evidence photos (via attendance.scans; their count is returned) and citizens'
    feedback past retention (evidence.purge)."""
    now = now or utcnow()
    with session_factory() as session:
        feedback.purge_feedback(session, config, now, actor=ACTOR)
        session.commit()
    try:
        purge_evidence = importlib.import_module("attendance.scans").purge_evidence
    except (ImportError, AttributeError):
        log.warning("attendance.scans.purge_evidence is not available; nothing purged")
        return None
    with session_factory() as session:
        deleted = purge_evidence(session, config, now)
        if deleted:
            audit.record(session, actor=ACTOR, action="evidence.purged", at=now,
                         details={"files": deleted,
                                  "retention_days": config.evidence_retention_days})
        session.commit()
    return deleted


@dataclass
class Health:
    silent_stations: list[str] = field(default_factory=list)
    chain_records: int = 0
    broken_link: str | None = None

    @property
    def ok(self) -> bool:
        return not self.silent_stations and self.broken_link is None


def check_health(session: Session, config: Config, now: datetime) -> Health:
    """Active stations not heard from for a day (on a working day), and the hash chains."""
    health = Health()
    if is_working_day(config, now):
        since = now - SILENT_AFTER
        health.silent_stations = list(session.scalars(
            select(Station.code).where(Station.active.is_(True))
            .where((Station.last_seen_at.is_(None)) | (Station.last_seen_at < since))
            .order_by(Station.code)))
    checked, broken = audit.verify_chains(session)
    health.chain_records = checked
    health.broken_link = str(broken) if broken else None
    return health


def health_check(config: Config, session_factory: sessionmaker[Session],
                 now: datetime | None = None) -> Health | None:
    """The nightly health check (health.check): stored as an audit entry for the admins;
    once per local day (a second scheduler finds today's entry and skips)."""
    now = now or utcnow()
    target = f"health:{now.astimezone(config.tz).date().isoformat()}"
    with session_factory() as session:
        if session.scalar(select(AuditEntry.id).where(AuditEntry.action == HEALTH_ACTION,
                                                      AuditEntry.target == target)):
            return None
        health = check_health(session, config, now)
        session.rollback()  # verify_chains expunged what it read; start clean for the write
        audit.record(session, actor=ACTOR, action=HEALTH_ACTION, at=now, target=target,
                     details={"ok": health.ok, "silent_stations": health.silent_stations,
                              "chain_records": health.chain_records,
                              "broken_link": health.broken_link})
        session.commit()
    if not health.ok:
        log.warning("health check: silent stations %s; broken link %s",
                    health.silent_stations, health.broken_link)
    return health


# --- the job list ------------------------------------------------------------------------

@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable
    cron: dict
    misfire_grace_time: int  # seconds
    run_at_start: bool = False
    description: str = ""


JOBS: tuple[JobSpec, ...] = (
    JobSpec("reports.tick", tick, {"minute": "*/5"}, misfire_grace_time=4 * 60,
            run_at_start=True,
            description="Báo cáo đầu giờ, báo cáo ngày, báo cáo tháng đến hạn (và bù báo cáo "
                        "bị lỡ)"),
    JobSpec("reports.recheck", recheck, {"minute": "20"}, misfire_grace_time=30 * 60,
            description="Lập bản cập nhật khi số liệu của báo cáo ngày đã phát hành thay đổi"),
    JobSpec("reports.recheck_history", recheck_history, {"hour": "1", "minute": "40"},
            misfire_grace_time=6 * 3600,
            description="Lập bản cập nhật của báo cáo tháng và báo cáo ngày cũ khi số liệu "
                        "thay đổi (giải trình duyệt muộn, dữ liệu gửi muộn)"),
    JobSpec("mail.deliver", deliver, {"minute": "2-59/5"}, misfire_grace_time=4 * 60,
            run_at_start=True, description="Gửi thư báo cáo, gửi lại thư lỗi"),
    JobSpec("findings.refresh", refresh_findings, {"minute": "4-59/5"},
            misfire_grace_time=4 * 60, run_at_start=True,
            description="Cập nhật nhật ký vi phạm: tính lại ngày có dữ liệu thay đổi, lưu "
                        "ngày đã kết thúc"),
    JobSpec("evidence.purge", purge, {"hour": "2", "minute": "30"},
            misfire_grace_time=6 * 3600,
            description="Xóa ảnh ghi nhận và góp ý của người dân quá thời hạn lưu"),
    JobSpec("health.check", health_check, {"hour": "21", "minute": "45"},
            misfire_grace_time=6 * 3600,
            description="Kiểm tra điểm quét thẻ im lặng và chuỗi băm nhật ký"),
)


def _run(spec: JobSpec, config: Config, session_factory: sessionmaker[Session]) -> None:
    try:
        spec.func(config, session_factory)
    except Exception:  # logged here; APScheduler would only print it
        log.exception("job %s failed", spec.id)
        raise


def add_jobs(scheduler, config: Config, session_factory: sessionmaker[Session],
             jobs: tuple[JobSpec, ...] = JOBS) -> None:
    from apscheduler.triggers.cron import CronTrigger

    for spec in jobs:
        options = {}
        if spec.run_at_start:
            options["next_run_time"] = datetime.now(config.tz)
        scheduler.add_job(
            _run, CronTrigger(timezone=config.tz, **spec.cron), args=(spec, config,
                                                                       session_factory),
            id=spec.id, name=spec.description or spec.id, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=spec.misfire_grace_time,
            **options)


def build_scheduler(config: Config, session_factory: sessionmaker[Session], *,
                    blocking: bool = False):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=config.tz)
    add_jobs(scheduler, config, session_factory)
    return scheduler


def run_scheduler(config: Config, session_factory: sessionmaker[Session]) -> None:
    """``attendance scheduler``: run the jobs until SIGTERM or Ctrl-C."""
    scheduler = build_scheduler(config, session_factory, blocking=True)

    def stop(_signum, _frame):
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler started (%s)", ", ".join(spec.id for spec in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
