"""Issuing reports: which are due, what they say, every version kept, what changed.

A unit's reports (each covers the unit and its sub-units, as its head reads them):
- ``morning`` (báo cáo đầu giờ), due at the unit's first session start + the morning
  cut-off: late arrivals, no-badge findings and those not yet arrived, as of the cut-off;
- ``daily`` (báo cáo ngày), due at the last session end + the evening delay: the
  machine-readable report of RULES.md (``reports.daily_json``);
- ``monthly`` (báo cáo tháng), due at the first session start of the month's first working
  day: the previous month (``reports.monthly_json``).
Only working days of the unit's schedule have morning and daily reports.

An issued report is a row of ``issued_reports`` with its version, content (canonical JSON)
and content hash. The key (kind, unit, period, version) is unique in the database, so a
report issued twice (two schedulers by mistake, a retried job) fails there and is skipped.
A later change to the data (an excuse approved, a late upload, evidence withdrawn) issues
the next version of a daily or monthly report with what changed: ``recheck`` each hour for
the last week's daily reports, ``recheck_history`` each night for older ones and the
monthly reports, back to the first day an excuse may still be requested for. Nothing here
commits except ``issue``, which commits each report on its own (one report, one unit of
work: a conflict on one must not undo the others).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections import defaultdict
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from attendance.calendar import Timetable, WorkCalendar
from attendance.config import Config
from attendance.evaluation import (
    EmployeeRow, OrgTree, UnitRow, days, load_employees, load_evidence,
)
from attendance.excuses import earliest_start
from attendance.models import Employee, IssuedReport, MailDelivery, Unit, User
from attendance.models.mail import PENDING
from attendance.org import org_tree
from attendance.reports import (
    DailyReport, compile_daily, compile_monthly, daily_json, local_iso, monthly_json,
    order_units, rank_units, shown_rate,
)
from attendance.rules import (
    ABSENT_FROM_POST, LATE, NO_BADGE, DayResult, ExcuseRef, Policy, evaluate_day,
)

MORNING, DAILY, MONTHLY = "morning", "daily", "monthly"
KINDS = (MORNING, DAILY, MONTHLY)
KIND_LABELS = {MORNING: "Báo cáo đầu giờ", DAILY: "Báo cáo ngày", MONTHLY: "Báo cáo tháng"}
# Issued more than this after its due time, a report is marked issued late (the tick runs
# every few minutes, so an on-time report is always well inside it).
LATE_AFTER = timedelta(minutes=15)
# How far back the scheduler looks for missed reports, and re-checks issued daily ones.
LOOKBACK_DAYS = 7


@dataclass(frozen=True)
class Slot:
    """One report that is due: its key, the day it covers, and when it was due."""

    kind: str
    unit_id: int
    period: str
    day: date
    due_at: datetime


def dump(content: dict) -> str:
    """Canonical JSON: the same content always gives the same text and hash."""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- what is due ---------------------------------------------------------------------------

class _Timetables:
    """Working days and timetables per schedule name, computed once per (name, day)."""

    def __init__(self, config: Config):
        self.config = config
        self.calendar = WorkCalendar(config)
        self._cache: dict[tuple[str, date], Timetable | None] = {}

    def on(self, name: str, day: date) -> Timetable | None:
        """The timetable of ``day``, or None when it is not a working day."""
        key = (name, day)
        if key not in self._cache:
            schedule = self.config.schedule(name)
            self._cache[key] = (self.calendar.timetable(day, schedule)
                                if self.calendar.is_working_day(day, schedule) else None)
        return self._cache[key]

    def first_working_day(self, name: str, month_first: date) -> date | None:
        day = month_first
        while day.month == month_first.month:
            if self.on(name, day) is not None:
                return day
            day += timedelta(days=1)
        return None


_TIMETABLE_CACHE: dict[int, tuple[Config, _Timetables]] = {}


def timetables_for(config: Config) -> _Timetables:
    """One ``_Timetables`` per config for the life of the process: the scheduler asks the
    same questions every few minutes, and building the holiday calendar is the slow part."""
    cached = _TIMETABLE_CACHE.get(id(config))
    if cached is None or cached[0] is not config:
        if len(_TIMETABLE_CACHE) > 8:
            _TIMETABLE_CACHE.clear()
        cached = _TIMETABLE_CACHE[id(config)] = (config, _Timetables(config))
    return cached[1]


class IssueMemo:
    """What this process already knows was issued, so that a tick with nothing due costs
    one query. Only positive knowledge is kept (issued reports are never deleted), so the
    memo can be behind the database but never wrong about it."""

    def __init__(self) -> None:
        self.started: datetime | None = None
        self.issued: set[tuple[str, int, str]] = set()

    def add(self, key: tuple[str, int, str]) -> None:
        if len(self.issued) > 200_000:
            self.issued.clear()
        self.issued.add(key)


_MEMOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def memo_for(session_factory: sessionmaker[Session]) -> IssueMemo:
    memo = _MEMOS.get(session_factory)
    if memo is None:
        memo = _MEMOS[session_factory] = IssueMemo()
    return memo


def service_start(session: Session, config: Config, memo: IssueMemo | None = None
                  ) -> date | None:
    """The local date of the first report ever issued (catch-up never goes before it)."""
    first = memo.started if memo is not None else None
    if first is None:
        first = session.scalar(select(IssuedReport.issued_at).order_by(IssuedReport.id)
                               .limit(1))
        if memo is not None:
            memo.started = first
    return first.astimezone(config.tz).date() if first else None


def unit_schedules(session: Session) -> dict[int, str]:
    """Each unit's schedule name, inherited from the nearest unit that names one."""
    rows = {r.id: r for r in session.execute(select(Unit.id, Unit.parent_id, Unit.schedule))}
    out: dict[int, str] = {}
    for unit_id in rows:
        path, current = [], unit_id
        while current is not None and current not in out and len(path) <= len(rows):
            path.append(current)
            row = rows[current]
            if row.schedule:
                out[current] = row.schedule
                break
            current = row.parent_id
        name = out.get(current, "default") if current is not None else "default"
        for item in path:
            out.setdefault(item, name)
    return out


def due_slots(session: Session, config: Config, now: datetime, *,
              lookback_days: int = LOOKBACK_DAYS, memo: IssueMemo | None = None) -> list[Slot]:
    """Every report due at ``now`` over the look-back (issued or not).

    The look-back starts ``lookback_days`` before today, but never before the day the
    first report was issued: a new installation starts its series today instead of
    back-filling a week of late reports. Nor before ``records_from`` (go-live): a morning
    report of a day before it would list everyone as not yet arrived, and mail it.
    """
    tz = config.tz
    today = now.astimezone(tz).date()
    started = service_start(session, config, memo)
    first = today if started is None else max(today - timedelta(days=lookback_days), started)
    if config.records_from:
        first = max(first, config.records_from)
    timetables = timetables_for(config)
    cutoff = timedelta(minutes=config.reports.morning_cutoff_minutes)
    delay = timedelta(minutes=config.reports.evening_delay_minutes)
    schedule_of = unit_schedules(session)
    slots: list[Slot] = []
    for day in days(first, today):
        for unit_id, name in schedule_of.items():
            timetable = timetables.on(name, day)
            if timetable is None:
                continue
            if timetable.start + cutoff <= now:
                slots.append(Slot(MORNING, unit_id, day.isoformat(), day, timetable.start + cutoff))
            if timetable.end + delay <= now:
                slots.append(Slot(DAILY, unit_id, day.isoformat(), day, timetable.end + delay))
    month_first = today.replace(day=1)
    previous = (month_first - timedelta(days=1)).replace(day=1)
    for unit_id, name in schedule_of.items():
        first_day = timetables.first_working_day(name, month_first)
        if first_day is None or first_day < first:
            continue
        due_at = timetables.on(name, first_day).start
        if due_at <= now:
            slots.append(Slot(MONTHLY, unit_id, previous.strftime("%Y-%m"), previous, due_at))
    return slots


def missing_slots(session: Session, slots: Iterable[Slot], memo: IssueMemo | None = None
                  ) -> list[Slot]:
    """The slots without any issued version yet."""
    known = memo.issued if memo is not None else set()
    slots = [s for s in slots if (s.kind, s.unit_id, s.period) not in known]
    if not slots:
        return []
    # All three columns are in the unique key's index, in its order: no table scan.
    issued = set(session.execute(
        select(IssuedReport.kind, IssuedReport.unit_id, IssuedReport.period).where(
            IssuedReport.kind.in_({s.kind for s in slots}),
            IssuedReport.unit_id.in_({s.unit_id for s in slots}),
            IssuedReport.period.in_({s.period for s in slots})).distinct()).tuples())
    if memo is not None:
        for key in issued:
            memo.add(key)
    return [s for s in slots if (s.kind, s.unit_id, s.period) not in issued]


# --- what a report says ------------------------------------------------------------------

@dataclass
class MorningEntry:
    employee: EmployeeRow
    result: DayResult          # the day evaluated as of the cut-off
    excused: ExcuseRef | None  # a whole-day or morning excuse


def compile_morning(session: Session, config: Config, day: date,
                    tree: OrgTree | None = None) -> dict[int, list[MorningEntry]]:
    """Each unit's working employees, evaluated on the evidence up to their cut-off.

    The cut-off is per employee (their schedule's first session start + the morning
    cut-off), so a morning report compiled late (catch-up) still says what was known then.
    Late uploads from an offline station carry the station's time and so count when their
    scans were taken before the cut-off.
    """
    tree = tree or org_tree(session)
    employees = load_employees(session, tree, set(tree.units), day, day)
    evidence = load_evidence(session, config, employees, day, day, True)
    timetables = timetables_for(config)
    cutoff = timedelta(minutes=config.reports.morning_cutoff_minutes)
    out: dict[int, list[MorningEntry]] = defaultdict(list)
    for employee in employees:
        timetable = timetables.on(employee.schedule, day)
        if timetable is None or not employee.active_on(day):
            continue
        as_of = timetable.start + cutoff
        key = (employee.id, day)
        excuses = [ref for start, end, ref in evidence.excuses.get(employee.id, ())
                   if start <= day <= end]
        result = evaluate_day(
            timetable, Policy.from_schedule(config.schedule(employee.schedule)),
            scans=[s for s in evidence.scans.get(key, ()) if s <= as_of],
            marks=[m for m in evidence.marks.get(key, ()) if m.at <= as_of],
            excuses=excuses)
        morning_excuse = next((e for e in excuses if e.part in ("full", "morning")), None)
        out[employee.unit_id].append(MorningEntry(employee, result, morning_excuse))
    for entries in out.values():
        entries.sort(key=lambda e: e.employee.code)
    return out


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else shown_rate(part / whole, 4)


def morning_unit_json(unit: UnitRow, entries: list[MorningEntry], tz) -> dict:
    late, no_badge, away, not_arrived, excused = [], [], [], [], []
    expected = present = 0
    no_badge_present: set[str] = set()
    late_present: set[str] = set()
    for entry in entries:
        code, result = entry.employee.code, entry.result
        if result.excused is not None or entry.excused is not None:
            excused.append(code)
            continue
        expected += 1
        if result.check_in is not None:
            present += 1
        elif not result.seen:  # a spot check found them at work: arrived, though no check-in
            not_arrived.append(code)
        sources: list[str] = []
        for finding in result.open_findings():
            if finding.kind == LATE and finding.session in (None, 0):
                late.append({"employee": code, "check_in": local_iso(finding.at, tz),
                             "minutes": finding.minutes})
                late_present.add(code)
            elif finding.kind == NO_BADGE and finding.source not in sources:
                sources.append(finding.source)
                no_badge.append({"employee": code, "source": finding.source})
                if result.check_in is not None:
                    no_badge_present.add(code)
            elif finding.kind == ABSENT_FROM_POST:
                away.append({"employee": code, "at": local_iso(finding.at, tz)})
    return {"unit": unit.code, "name": unit.name, "expected": expected, "present": present,
            "late": late, "no_badge": no_badge, "absent_from_post": away,
            "not_arrived": not_arrived, "excused": excused,
            "badge_compliance": _rate(present - len(no_badge_present), present),
            "punctuality": _rate(present - len(late_present), present)}


def _subtree_units(tree: OrgTree, unit_id: int, present: Iterable[int]) -> list[int]:
    present = set(present)
    return [i for i in tree.subtree(unit_id) if i in present]


def morning_contents(session: Session, config: Config, day: date, tree: OrgTree,
                     unit_ids: Iterable[int]) -> dict[int, dict]:
    """The morning report content of each unit in ``unit_ids`` (with its sub-units)."""
    entries = compile_morning(session, config, day, tree)
    tz = config.tz
    per_unit = {uid: morning_unit_json(tree.units[uid], rows, tz) for uid, rows in entries.items()}
    out = {}
    for unit_id in unit_ids:
        parts = [per_unit[i] for i in _subtree_units(tree, unit_id, per_unit)]
        parts.sort(key=lambda p: p["unit"])
        expected = sum(p["expected"] for p in parts)
        present = sum(p["present"] for p in parts)
        no_badge = sum(len({n["employee"] for n in p["no_badge"]} - set(p["not_arrived"]))
                       for p in parts)
        late = sum(len({n["employee"] for n in p["late"]}) for p in parts)
        unit = tree.units[unit_id]
        out[unit_id] = {
            "kind": MORNING, "date": day.isoformat(), "unit": unit.code, "name": unit.name,
            "units": parts,
            "totals": {"expected": expected, "present": present,
                       "badge_compliance": _rate(present - no_badge, present),
                       "punctuality": _rate(present - late, present)},
        }
    return out


def daily_reports(session: Session, config: Config, day: date, tree: OrgTree,
                  unit_ids: Iterable[int]) -> dict[int, DailyReport]:
    """Each unit's daily report (with its sub-units), from one compile of every unit."""
    report = compile_daily(session, config, day)
    by_unit = {u.unit.id: u for u in report.units}
    return {unit_id: DailyReport(day, order_units(by_unit[i] for i in
                                                  _subtree_units(tree, unit_id, by_unit)),
                                 report.tz_name)
            for unit_id in unit_ids}


def daily_content(report: DailyReport, unit: UnitRow) -> dict:
    return {"kind": DAILY, "unit": unit.code, "name": unit.name, **daily_json(report)}


def daily_contents(session: Session, config: Config, day: date, tree: OrgTree,
                   unit_ids: Iterable[int]) -> dict[int, dict]:
    return {unit_id: daily_content(report, tree.units[unit_id])
            for unit_id, report in daily_reports(session, config, day, tree, unit_ids).items()}


def monthly_contents(session: Session, config: Config, month: date, tree: OrgTree,
                     unit_ids: Iterable[int]) -> dict[int, dict]:
    """Each unit's monthly report: its sub-units ranked among themselves.

    One compile of every unit the reports cover; each report takes its own units from it
    (a unit's figures are its own employees' whatever report shows them) and ranks them.
    """
    subtrees = {unit_id: set(tree.subtree(unit_id)) for unit_id in unit_ids}
    whole = compile_monthly(session, config, month, unit_ids=set().union(*subtrees.values()))
    out = {}
    for unit_id, subtree in subtrees.items():
        unit = tree.units[unit_id]
        own = rank_units([copy(u) for u in whole.units if u.unit.id in subtree])
        out[unit_id] = {"kind": MONTHLY, "unit": unit.code, "name": unit.name,
                        **monthly_json(replace(whole, units=own))}
    return out


def contents_for(session: Session, config: Config, kind: str, day: date, tree: OrgTree,
                 unit_ids: Iterable[int]) -> dict[int, dict]:
    if kind == MORNING:
        return morning_contents(session, config, day, tree, unit_ids)
    if kind == DAILY:
        return daily_contents(session, config, day, tree, unit_ids)
    return monthly_contents(session, config, day, tree, unit_ids)


# --- what changed ------------------------------------------------------------------------

# What a new version lists as changed, per kind (morning reports are never revised): the
# lists of employees (an entry is keyed by its employee, and session) and the unit figures.
CHANGES = {
    DAILY: (("late", "early_leave", "missing_checkout", "no_badge", "absent_from_post", "absent",
             "missed_session", "not_arrived", "excused"),
            ("expected", "present", "badge_compliance", "punctuality")),
    # A monthly report's one list is its table of employees, a row per person.
    MONTHLY: (("employees",),
              ("rank", "expected", "present", "late", "no_badge", "absences", "badge_compliance",
               "punctuality")),
}
FIGURE_LABELS = {
    "rank": "Hạng", "expected": "Phải có mặt", "present": "Có mặt", "late": "Đi muộn",
    "no_badge": "Không đeo thẻ", "absences": "Vắng không lý do",
    "badge_compliance": "Tỷ lệ đeo thẻ", "punctuality": "Tỷ lệ đúng giờ",
}
RATES = ("badge_compliance", "punctuality")
# The details of a changed entry: a person's monthly counts, a late arrival's minutes…
DETAIL_LABELS = {
    "working_days": "Ngày làm việc", "present_days": "Ngày có mặt",
    "late_days": "Số ngày đi muộn", "late_minutes": "Tổng số phút đi muộn",
    "early_leaves": "Về sớm", "early_leave_minutes": "Số phút về sớm",
    "missing_checkouts": "Không quét thẻ khi về", "no_badge": "Không đeo thẻ",
    "absences": "Vắng không lý do", "absent_from_post": "Vắng mặt tại vị trí làm việc",
    "missed_sessions": "Vắng buổi", "excused_days": "Nghỉ có lý do (ngày)",
    "minutes": "Số phút", "check_in": "Giờ đến", "check_out": "Giờ về", "at": "Thời điểm",
    "source": "Nguồn ghi nhận",
}


def _entry_key(item) -> str:
    if isinstance(item, str):
        return item
    session = item.get("session")
    return item["employee"] if session is None else f"{item['employee']}#{session}"


def _employee(item) -> str:
    return item if isinstance(item, str) else item["employee"]


def _details(before: dict, after: dict) -> dict[str, list]:
    return {key: [before.get(key), after.get(key)] for key in after
            if key in DETAIL_LABELS and before.get(key) != after.get(key)}


def diff_contents(old: dict, new: dict, kind: str = DAILY) -> dict:
    """What changed between two versions: per unit and list, who was added or removed.

    ``{"units": {"SNV": {"lists": {"absent": {"added": [], "removed": ["E003"]}},
    "figures": {"present": [9, 10]}}}, "units_added": [], "units_removed": []}``; an entry
    whose details changed (minutes late after a late upload; a person's monthly counts) is
    listed as ``changed``, with ``details``: ``{"E002": {"absences": [19, 14]}}``.
    """
    list_names, figure_names = CHANGES[kind]
    old_units = {u["unit"]: u for u in old.get("units", ())}
    new_units = {u["unit"]: u for u in new.get("units", ())}
    units: dict[str, dict] = {}
    for code in sorted(old_units.keys() | new_units.keys()):
        before, after = old_units.get(code, {}), new_units.get(code, {})
        lists = {}
        for name in list_names:
            was = {_entry_key(i): i for i in before.get(name, ())}
            now = {_entry_key(i): i for i in after.get(name, ())}
            changed = sorted((k for k in now.keys() & was.keys() if now[k] != was[k]),
                             key=lambda k: (_employee(now[k]), k))
            change = {
                "added": sorted({_employee(now[k]) for k in now.keys() - was.keys()}),
                "removed": sorted({_employee(was[k]) for k in was.keys() - now.keys()}),
                "changed": sorted({_employee(now[k]) for k in changed}),
                # per changed entry's employee, each detail that changed: [before, after]
                "details": {_employee(now[k]): _details(was[k], now[k]) for k in changed
                            if isinstance(now[k], dict)},
            }
            change = {k: v for k, v in change.items() if v}
            if change:
                lists[name] = change
        figures = {name: [before.get(name), after.get(name)] for name in figure_names
                   if before.get(name) != after.get(name)}
        if lists or figures:
            units[code] = {k: v for k, v in (("lists", lists), ("figures", figures)) if v}
    return {"units": units,
            "units_added": sorted(new_units.keys() - old_units.keys()),
            "units_removed": sorted(old_units.keys() - new_units.keys())}


# --- issuing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    role: str  # unit_head | inspector


def recipients(session: Session, unit_id: int, kind: str, *, is_root: bool) -> list[Recipient]:
    """Who is mailed a unit's report: its head; for a top unit's daily and monthly
    reports (the roll-up of the whole province), the inspectors too. One row per address."""
    out: dict[str, Recipient] = {}
    head = session.execute(
        select(Employee.email, Employee.full_name).join(Unit, Unit.head_id == Employee.id)
        .where(Unit.id == unit_id)).first()
    if head and head.email:
        out[head.email.strip().lower()] = Recipient(head.email.strip(), head.full_name,
                                                    "unit_head")
    if is_root and kind in (DAILY, MONTHLY):
        rows = session.execute(
            select(Employee.email, Employee.full_name).join(User, User.employee_id == Employee.id)
            .where(User.role == "inspector", User.active.is_(True), Employee.email.is_not(None))
            .order_by(User.username))
        for email, name in rows:
            if email.strip():
                out.setdefault(email.strip().lower(), Recipient(email.strip(), name, "inspector"))
    return list(out.values())


def _wants_mail(kind: str, period: str, content: dict, now: datetime, tz) -> bool:
    if not content.get("units"):
        return False  # a unit with nobody to report on
    if kind == MORNING:
        # A morning report caught up after its day is history, not news: kept, not mailed.
        return period == now.astimezone(tz).date().isoformat()
    return True


def issue(session_factory: sessionmaker[Session], config: Config, *, kind: str, unit_id: int,
          period: str, content: dict, now: datetime, due_at: datetime | None,
          previous: IssuedReport | None = None, is_root: bool = False,
          mail: bool = True) -> IssuedReport | None:
    """Store one version of a report and its deliveries, and commit; None if it exists.

    The unique key (kind, unit, period, version) makes the database the judge: when two
    schedulers race for the same report, the second insert fails and is skipped here.
    """
    text = dump(content)
    version = previous.version + 1 if previous else 1
    changes = (dump(diff_contents(json.loads(previous.content), content, kind)) if previous
               else None)
    late = due_at is not None and now - due_at > LATE_AFTER
    with session_factory() as session:
        report = IssuedReport(kind=kind, unit_id=unit_id, period=period, version=version,
                              content=text, content_hash=content_hash(text), changes=changes,
                              issued_at=now, issued_late=late)
        session.add(report)
        try:
            session.flush()
            if mail and config.mail is not None and _wants_mail(kind, period, content, now,
                                                                config.tz):
                for r in recipients(session, unit_id, kind, is_root=is_root):
                    session.add(MailDelivery(report_id=report.id, recipient=r.email,
                                             recipient_name=r.name, role=r.role,
                                             status=PENDING, attempts=0, created_at=now,
                                             next_attempt_at=now))
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
        return report


def issue_due(session_factory: sessionmaker[Session], config: Config, now: datetime, *,
              lookback_days: int = LOOKBACK_DAYS) -> list[IssuedReport]:
    """Issue every report that is due and not yet issued (on time, or late: catch-up)."""
    issued: list[IssuedReport] = []
    memo = memo_for(session_factory)
    with session_factory() as session:
        todo = missing_slots(session, due_slots(session, config, now, memo=memo,
                                                lookback_days=lookback_days), memo)
        if not todo:
            return issued
        tree = org_tree(session)
        groups: dict[tuple[str, date], list[Slot]] = defaultdict(list)
        for slot in todo:
            groups[(slot.kind, slot.day)].append(slot)
        for (kind, day), slots in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
            contents = contents_for(session, config, kind, day, tree,
                                    [s.unit_id for s in slots])
            # End the read before writing: on SQLite every transaction takes the write lock.
            session.rollback()
            for slot in slots:
                report = issue(session_factory, config, kind=kind, unit_id=slot.unit_id,
                               period=slot.period, content=contents[slot.unit_id], now=now,
                               due_at=slot.due_at,
                               is_root=tree.units[slot.unit_id].parent_id is None)
                memo.add((kind, slot.unit_id, slot.period))  # by us, or by a rival
                if report is not None:
                    issued.append(report)
    return issued


def latest_versions(session: Session, kind: str, periods: Iterable[str]
                    ) -> dict[tuple[int, str], IssuedReport]:
    latest: dict[tuple[int, str], IssuedReport] = {}
    rows = session.scalars(select(IssuedReport).where(IssuedReport.kind == kind,
                                                      IssuedReport.period.in_(list(periods))))
    for row in rows:
        key = (row.unit_id, row.period)
        if key not in latest or row.version > latest[key].version:
            latest[key] = row
    return latest


def _period_day(kind: str, period: str) -> date:
    return date.fromisoformat(f"{period}-01" if kind == MONTHLY else period)


def revise(session_factory: sessionmaker[Session], config: Config, now: datetime, kind: str,
           periods: Iterable[str], *, mail: bool = True) -> list[IssuedReport]:
    """Re-compile the issued reports of ``kind`` for ``periods``; issue a new version of
    each that changed (an approved excuse, a late upload, a record withdrawn), listing
    what changed. Morning reports are snapshots as of their cut-off and are not revised.
    """
    issued: list[IssuedReport] = []
    with session_factory() as session:
        tree = org_tree(session)
        by_period: dict[str, list[IssuedReport]] = defaultdict(list)
        for (unit_id, period), row in latest_versions(session, kind, periods).items():
            if unit_id in tree.units:
                by_period[period].append(row)
        for period in sorted(by_period):
            rows = by_period[period]
            contents = contents_for(session, config, kind, _period_day(kind, period), tree,
                                    [r.unit_id for r in rows])
            # End the read before writing; the rows stay loaded.
            session.expunge_all()
            session.rollback()
            for row in rows:
                content = contents[row.unit_id]
                if content_hash(dump(content)) == row.content_hash:
                    continue
                report = issue(session_factory, config, kind=kind, unit_id=row.unit_id,
                               period=period, content=content, now=now, due_at=None,
                               previous=row, mail=mail,
                               is_root=tree.units[row.unit_id].parent_id is None)
                if report is not None:
                    issued.append(report)
    return issued


def recheck(session_factory: sessionmaker[Session], config: Config, now: datetime, *,
            lookback_days: int = LOOKBACK_DAYS) -> list[IssuedReport]:
    """The hourly re-check: the daily reports of the last ``lookback_days`` days, each new
    version mailed."""
    today = now.astimezone(config.tz).date()
    periods = [d.isoformat() for d in days(today - timedelta(days=lookback_days), today)]
    return revise(session_factory, config, now, DAILY, periods)


def recheck_history(session_factory: sessionmaker[Session], config: Config, now: datetime
                    ) -> list[IssuedReport]:
    """The nightly re-check of what can still change after the hourly one stops looking:
    back to the first day an excuse may still be requested for (``excuses.max_past_days``),
    the older daily reports and the monthly reports of the months before this one.

    A revised daily report of weeks ago is kept, not mailed (history, which the head who
    approved the excuse knows of); a revised monthly report is mailed: its ranking of units
    (thi đua) is what it is read for.
    """
    old_days, months = history_periods(config, now.astimezone(config.tz).date())
    return (revise(session_factory, config, now, DAILY, old_days, mail=False)
            + revise(session_factory, config, now, MONTHLY, months))


def history_periods(config: Config, today: date) -> tuple[list[str], list[str]]:
    """The days (before the hourly re-check's) and the months before this one that
    :func:`recheck_history` looks at on ``today``."""
    first = earliest_start(config, today)
    old_days = [d.isoformat() for d in days(first, today - timedelta(days=LOOKBACK_DAYS + 1))]
    months = sorted({d.strftime("%Y-%m") for d in days(first, today.replace(day=1)
                                                        - timedelta(days=1))})
    return old_days, months
