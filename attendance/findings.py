"""The violation log, materialized: each day's findings stored once the day is over.

The log (``attendance.reports.violations``) used to run the rules for every employee-day of
its range on every request. Now a day that is over is evaluated once and its findings are
stored in ``daily_findings`` with the log's sort keys, so that a page of the log is an
indexed query. What the table answers, and what is still evaluated live:

- **Materialized days** (``finding_days``): each with the fingerprint of what it was
  computed under — the code of the rules and the config's calendar, timetables and
  policies for that date (``fingerprint``). A day whose fingerprint differs from the
  running config's (a holiday added, a schedule changed, a new release) is evaluated live
  until the scheduler computes it again; so are today and every day not materialized yet.
- **Stale employee-days** (``stale_findings``): a writer of evidence that changes a past
  day — a late upload, a guard's record or a spot check entered after the fact, a
  correction, an excuse decided — marks the employee-day in its own transaction
  (``mark_stale``); an org change (a move, new active dates, a schedule; a unit's schedule
  or parent) marks the employee for every day, by a listener in
  ``attendance.models.findings``. The log evaluates marked employee-days live and leaves
  their stored rows out, so it never shows a stale finding; the scheduler computes them
  again and consumes the marks (``refresh_stale``).

The scheduler job (``refresh``) first refreshes the marked employee-days, then
materializes the days that are over and not stored under the current fingerprint, newest
first, back to the first scan (at most ``HISTORY_DAYS``). A day is materialized only
``SETTLE`` after its midnight, which is why a writer may skip marking evidence dated within
``RECENT`` of its own clock (a live scan): its transaction ends long before the day is read.
Every refresh is idempotent: a day's or an employee-day's rows are replaced whole.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from attendance import calendar as calendar_module
from attendance import evaluation, rules
from attendance.calendar import WorkCalendar
from attendance.config import Config
from attendance.db import lock_for_write
from attendance.evaluation import EmployeeRow, OrgTree, days, evaluate_range, local_bounds
from attendance.models import (
    DailyFinding, Employee, Excuse, ExcuseDecision, FindingDay, Scan, StaleFinding,
)
from attendance.models.findings import LOG_ORDER
from attendance.org import org_tree
from attendance.rules import FINDING_KINDS, LATE, NO_BADGE, DayResult, ExcuseRef, Finding, Policy

KIND_RANK = {kind: rank for rank, kind in enumerate(FINDING_KINDS)}
WHOLE_DAY = -1  # the stored session of a finding of no session (an absence)
SETTLE = timedelta(hours=1)  # a day is materialized this long after its midnight, not before
RECENT = timedelta(minutes=10)  # evidence this close to its writer's clock needs no mark
HISTORY_DAYS = 400  # how far back the scheduler keeps days materialized (the log: 366)
DAYS_PER_RUN = 7  # whole days materialized per scheduler run at most (newest first)
MARKS_PER_RUN = 50_000  # marks consumed per scheduler run at most
STALE_LIMIT = 2000  # more employees stale than this on a day: the log evaluates it whole


def finding_source(finding: Finding, result: DayResult) -> str:
    """Where a finding comes from: a guard, a spot check, or the badge scans themselves."""
    if finding.source:
        return finding.source
    if finding.kind == LATE and finding.at is not None:
        # A late arrival recorded by a guard without a badge is the guard's record.
        for other in result.findings:
            if other.kind == NO_BADGE and other.at == finding.at and other.source:
                return other.source
    return "scan"


# --- what a day was computed under ---------------------------------------------------------

def _code_version() -> str:
    digest = hashlib.sha256()
    for module in (rules, evaluation, calendar_module):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


CODE_VERSION = _code_version()
_CALENDARS: dict[int, tuple[Config, WorkCalendar, dict[date, str]]] = {}


def fingerprint(config: Config, day: date) -> str:
    """What decides ``day``'s findings besides the evidence and the org: the rules' code,
    the timezone, whether the day precedes ``records_from`` and, per schedule, whether the
    day is worked, its sessions and policy."""
    cached = _CALENDARS.get(id(config))
    if cached is None or cached[0] is not config:
        if len(_CALENDARS) > 8:
            _CALENDARS.clear()
        cached = _CALENDARS[id(config)] = (config, WorkCalendar(config), {})
    _, calendar, known = cached
    if day not in known:
        parts: list = [CODE_VERSION, config.timezone,
                       bool(config.records_from and day < config.records_from)]
        for name in sorted(config.schedules):
            schedule = config.schedules[name]
            working = calendar.is_working_day(day, schedule)
            sessions = calendar.timetable(day, schedule).sessions if working else ()
            parts.append((name, working, [(s.isoformat(), e.isoformat()) for s, e in sessions],
                          Policy.from_schedule(schedule)))
        known[day] = hashlib.sha256(repr(parts).encode()).hexdigest()
    return known[day]


def last_settled_day(config: Config, now: datetime) -> date:
    """The last day whose midnight is at least ``SETTLE`` before ``now``."""
    return (now - SETTLE).astimezone(config.tz).date() - timedelta(days=1)


# --- marking ---------------------------------------------------------------------------------

def mark_stale(session: Session, changes: Iterable[tuple[int | None, date | datetime | None]],
               *, now: datetime | None = None) -> None:
    """Mark employee-days whose evidence just changed, in the caller's transaction.

    Each change is ``(employee id, local date or instant)``, or ``(employee id, None)`` for
    every day; an instant is enough for a writer that does not know the timezone. With
    ``now`` (the writer's clock), instants within ``RECENT`` of it are skipped: their day
    is still going on, or ended so recently that this transaction commits long before the
    day is read (``SETTLE`` after its midnight). Never commits.
    """
    rows: set[tuple[int, date | None, datetime | None]] = set()
    for employee_id, when in changes:
        if employee_id is None:
            continue
        if isinstance(when, datetime):
            if now is None or when <= now - RECENT:
                rows.add((employee_id, None, when))
        else:
            rows.add((employee_id, when, None))
    if rows:
        session.execute(insert(StaleFinding), [
            {"employee_id": employee_id, "day": day, "at": at}
            for employee_id, day, at in sorted(rows, key=str)])


@dataclass
class Marks:
    """Stale marks as employee codes: for every day, and per local day."""

    ids: list[int] = field(default_factory=list)
    everywhere: set[str] = field(default_factory=set)
    on: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))


def load_marks(session: Session, config: Config, first: date | None = None,
               last: date | None = None, limit: int | None = None) -> Marks:
    """The marks touching ``first``…``last`` (every mark when no range is given)."""
    query = (select(StaleFinding.id, StaleFinding.day, StaleFinding.at, Employee.code)
             .join(Employee, Employee.id == StaleFinding.employee_id)
             .order_by(StaleFinding.id).limit(limit))
    if first is not None:
        lower, upper = local_bounds(config, first, last)
        query = query.where(or_(
            StaleFinding.day.between(first, last),
            and_(StaleFinding.at >= lower, StaleFinding.at < upper),
            and_(StaleFinding.day.is_(None), StaleFinding.at.is_(None))))
    marks = Marks()
    for mark_id, day, at, code in session.execute(query):
        marks.ids.append(mark_id)
        if day is None and at is None:
            marks.everywhere.add(code)
        else:
            marks.on[day or at.astimezone(config.tz).date()].add(code)
    return marks


# --- what the table answers ------------------------------------------------------------------

@dataclass
class Coverage:
    """For a range: the days the table answers, the rest (evaluated live), and the
    employee-days to evaluate live within the stored days (codes)."""

    stored_days: list[date]
    live_days: list[date]
    stale_everywhere: set[str]
    stale_on: dict[date, set[str]]


def coverage(session: Session, config: Config, first: date, last: date) -> Coverage:
    fingerprints = dict(session.execute(
        select(FindingDay.day, FindingDay.fingerprint).where(FindingDay.day.between(first, last))
    ).all())
    stored = [d for d in days(first, last) if fingerprints.get(d) == fingerprint(config, d)]
    marks = load_marks(session, config, stored[0], stored[-1]) if stored else Marks()
    if len(marks.everywhere) > STALE_LIMIT:
        stored = []
    crowded = {d for d, codes in marks.on.items() if len(codes) > STALE_LIMIT}
    stored = [d for d in stored if d not in crowded]
    kept = set(stored)
    return Coverage(
        stored_days=stored,
        live_days=[d for d in days(first, last) if d not in kept],
        stale_everywhere=marks.everywhere if stored else set(),
        stale_on={d: codes - marks.everywhere for d, codes in marks.on.items()
                  if d in kept and codes - marks.everywhere})


def runs(sorted_days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive stretches of ``sorted_days`` as (first, last)."""
    start = previous = None
    for day in sorted_days:
        if previous is not None and day == previous + timedelta(days=1):
            previous = day
            continue
        if start is not None:
            yield start, previous
        start = previous = day
    if start is not None:
        yield start, previous


class StoredLog:
    """The stored findings of a range that the log may show: outside the live days and
    the stale employee-days, within the filters; in the log's order."""

    ORDER = tuple(getattr(DailyFinding, name) for name in LOG_ORDER)

    def __init__(self, session: Session, cover: Coverage, *, unit_ids: set[int] | None,
                 kinds: Iterable[str] | None, employee: str | None, status: str | None):
        self.session = session
        self.empty = not cover.stored_days
        if self.empty:
            return
        stored = cover.stored_days
        where = [DailyFinding.day.between(stored[0], stored[-1])]
        gaps = [d for d in cover.live_days if stored[0] < d < stored[-1]]
        if gaps:
            where.append(DailyFinding.day.not_in(gaps))
        if unit_ids is not None:
            where.append(DailyFinding.unit_id.in_(sorted(unit_ids)))
        if kinds is not None:
            where.append(DailyFinding.kind.in_(sorted(KIND_RANK[k] for k in kinds)))
        if employee is not None:
            where.append(DailyFinding.employee_code == employee)
        if status == "open":
            where.append(DailyFinding.excuse_id.is_(None))
        elif status == "excused":
            where.append(DailyFinding.excuse_id.is_not(None))
        stale = [and_(DailyFinding.day == d, DailyFinding.employee_code.in_(sorted(codes)))
                 for d, codes in sorted(cover.stale_on.items())]
        if cover.stale_everywhere:
            stale.append(DailyFinding.employee_code.in_(sorted(cover.stale_everywhere)))
        if stale:
            where.append(~or_(*stale))
        self.where = where

    def count(self, limit: int | None = None) -> int:
        """The number of rows, counted up to ``limit`` + 1 at most (None: all)."""
        if self.empty:
            return 0
        rows = select(DailyFinding.id).where(*self.where).limit(
            None if limit is None else limit + 1).subquery()
        return self.session.scalar(select(func.count()).select_from(rows))

    def rows(self, offset: int = 0, limit: int | None = None) -> list:
        """The rows (plain, with the table's columns) from ``offset``, in the log's order."""
        if self.empty:
            return []
        columns = select(*DailyFinding.__table__.columns)
        if limit is None:
            return self.session.execute(
                columns.where(*self.where).order_by(*self.ORDER).offset(offset or None)).all()
        # A page: its ids first, from the log's index alone (page 2,000 skips 99,950 rows
        # without reading them from the table: 17 ms instead of 45 at 10 million rows),
        # then its rows.
        page = (select(DailyFinding.id).where(*self.where).order_by(*self.ORDER)
                .offset(offset or None).limit(limit).subquery())
        return self.session.execute(
            columns.join(page, page.c.id == DailyFinding.id).order_by(*self.ORDER)).all()


def excuse_refs(session: Session, excuse_ids: Iterable[int]) -> dict[int, ExcuseRef]:
    """The excuses of stored findings as the rules saw them (with the latest decision)."""
    wanted = sorted(set(excuse_ids))
    if not wanted:
        return {}
    latest = (select(func.max(ExcuseDecision.id)).where(ExcuseDecision.excuse_id == Excuse.id)
              .correlate(Excuse).scalar_subquery())
    query = (select(Excuse.id, Excuse.part, Excuse.kind, Excuse.note, ExcuseDecision.decided_by,
                    ExcuseDecision.reason)
             .outerjoin(ExcuseDecision, ExcuseDecision.id == latest)
             .where(Excuse.id.in_(wanted)))
    return {r.id: ExcuseRef(r.part, r.kind, r.decided_by, r.reason, r.id, r.note)
            for r in session.execute(query)}


# --- materializing -----------------------------------------------------------------------------

def finding_rows(employee: EmployeeRow, unit_code: str, day: date,
                 result: DayResult) -> Iterator[dict]:
    for finding in result.findings:
        excuse_ids = [e.id for e in finding.excuses] + [None, None]
        yield {"day": day, "unit_id": employee.unit_id, "unit_code": unit_code,
               "employee_id": employee.id, "employee_code": employee.code,
               "session": WHOLE_DAY if finding.session is None else finding.session,
               "kind": KIND_RANK[finding.kind], "minutes": finding.minutes, "at": finding.at,
               "source": finding_source(finding, result),
               "excuse_id": excuse_ids[0], "second_excuse_id": excuse_ids[1]}


def _store(session: Session, config: Config, tree: OrgTree, first: date, last: date,
           codes: list[str] | None = None) -> int:
    """Evaluate ``first``…``last`` (for ``codes``, or everyone) and insert the findings."""
    batch: list[dict] = []
    stored = 0
    for employee, day, result in evaluate_range(session, config, first, last, tree=tree,
                                                employee_codes=codes):
        batch.extend(finding_rows(employee, tree.units[employee.unit_id].code, day, result))
        if len(batch) >= 5000:
            session.execute(insert(DailyFinding), batch)
            stored += len(batch)
            batch = []
    if batch:
        session.execute(insert(DailyFinding), batch)
    return stored + len(batch)


def _consume(session: Session, mark_ids: list[int]) -> None:
    for start in range(0, len(mark_ids), 1000):
        session.execute(delete(StaleFinding).where(
            StaleFinding.id.in_(mark_ids[start:start + 1000])))


def materialize_day(session: Session, config: Config, day: date, now: datetime) -> int:
    """Store ``day``'s findings afresh; returns how many. Never commits.

    The day's marks are consumed: they are read before the evidence, so whatever they
    stand for is in what is stored (a mark committed later stays for the next refresh).
    """
    lock_for_write(session)
    lower, upper = local_bounds(config, day, day)
    consumed = list(session.scalars(select(StaleFinding.id).where(or_(
        StaleFinding.day == day, and_(StaleFinding.at >= lower, StaleFinding.at < upper)))))
    session.execute(delete(DailyFinding).where(DailyFinding.day == day))
    stored = _store(session, config, org_tree(session), day, day)
    session.execute(delete(FindingDay).where(FindingDay.day == day))
    session.execute(insert(FindingDay), [{"day": day, "fingerprint": fingerprint(config, day),
                                          "computed_at": now}])
    _consume(session, consumed)
    return stored


def refresh_stale(session: Session, config: Config) -> int:
    """Compute the marked employee-days of the stored days again and consume the marks
    (those of days not stored need nothing: a day is evaluated whole when materialized).
    Days with more than ``STALE_LIMIT`` employees marked are dropped from the stored days
    instead, to be stored again whole. Returns the number of marks consumed. Never
    commits."""
    lock_for_write(session)
    marks = load_marks(session, config, limit=MARKS_PER_RUN)
    if not marks.ids:
        return 0
    stored = sorted(session.scalars(select(FindingDay.day)))
    # Too many employees to re-compute one by one (a unit high in the tree changed its
    # schedule): forget the days instead; the scheduler stores them again, whole.
    crowded = [d for d, codes in marks.on.items() if len(codes) > STALE_LIMIT]
    if len(marks.everywhere) > STALE_LIMIT:
        crowded, marks.everywhere = stored, set()
    if crowded:
        session.execute(delete(FindingDay).where(FindingDay.day.in_(crowded)))
        stored = sorted(set(stored) - set(crowded))
    tree = org_tree(session)
    everywhere = sorted(marks.everywhere)
    for start in range(0, len(everywhere), 1000):
        codes = everywhere[start:start + 1000]
        session.execute(delete(DailyFinding).where(DailyFinding.employee_code.in_(codes)))
        for first, last in runs(stored):
            _store(session, config, tree, first, last, codes)
    kept = set(stored)
    for day, codes in sorted(marks.on.items()):
        codes = sorted(codes - marks.everywhere)
        if day not in kept or not codes:
            continue
        for start in range(0, len(codes), 1000):
            chunk = codes[start:start + 1000]
            session.execute(delete(DailyFinding).where(
                DailyFinding.day == day, DailyFinding.employee_code.in_(chunk)))
            _store(session, config, tree, day, day, chunk)
    _consume(session, marks.ids)
    return len(marks.ids)


def due_days(session: Session, config: Config, now: datetime, *,
             history_days: int = HISTORY_DAYS) -> list[date]:
    """Days that are over and not stored under the current fingerprint, newest first, from
    the first accepted scan (at most ``history_days`` back)."""
    first_scan = session.scalar(select(func.min(Scan.scanned_at)).where(
        Scan.status == "accepted"))
    if first_scan is None:
        return []
    last = last_settled_day(config, now)
    first = max(first_scan.astimezone(config.tz).date(),
                last - timedelta(days=history_days - 1))
    stored = dict(session.execute(
        select(FindingDay.day, FindingDay.fingerprint).where(FindingDay.day.between(first, last))
    ).all())
    return [d for d in reversed(list(days(first, last)))
            if stored.get(d) != fingerprint(config, d)]


@dataclass
class RefreshRun:
    marks: int = 0
    days: list[date] = field(default_factory=list)
    findings: int = 0


def refresh(session_factory: sessionmaker[Session], config: Config, now: datetime, *,
            max_days: int | None = DAYS_PER_RUN, only: Iterable[date] | None = None
            ) -> RefreshRun:
    """The scheduler's work (``findings.refresh``): marked employee-days first, then the
    days due (or the days ``only``, whether due or not), each day in its own transaction.

    The caller keeps a second refresher out (``attendance.jobs.advisory_lock``).
    """
    run = RefreshRun()
    with session_factory() as session:
        run.marks = refresh_stale(session, config)
        session.commit()
        todo = sorted(only, reverse=True) if only is not None else due_days(session, config, now)
        session.rollback()  # on SQLite, end the read before each day takes the write lock
        for day in todo[:max_days]:
            run.findings += materialize_day(session, config, day, now)
            session.commit()
            run.days.append(day)
    return run
