"""Reports as data (no templates here): daily, monthly, the violation log, repeat offenders.

``compile_daily`` gives the full picture (every employee's result, excused findings
included) for pages and exports; ``daily_json`` shapes it as the machine-readable report of
RULES.md, and ``daily_report`` does both. ``compile_monthly`` sums a month of days per
employee and per unit and ranks the units for emulation (thi đua); ``violations`` is the
inspectors' log of every finding, paginated; ``repeat_offenders`` flags those over the
config's thresholds. The definitions are written down in docs/rules.md. Exports (csv, xlsx,
pdf) live in ``attendance.exports``.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from datetime import UTC, date, datetime, timedelta
from itertools import groupby, islice

from sqlalchemy.orm import Session

from attendance import findings
from attendance.config import Config
from attendance.names import name_sort_key
from attendance.evaluation import (
    EmployeeRow, OrgTree, UnitRow, evaluate_range, gc_paused, load_employees,
)
from attendance.findings import finding_source
from attendance.org import org_tree
from attendance.rules import (
    ABSENT, ABSENT_FROM_POST, EARLY_LEAVE, FINDING_KINDS, LATE, MISSED_SESSION, MISSING_CHECKOUT,
    NO_BADGE, DayResult, ExcuseRef, UnitFigures, unit_figures,
)


@dataclass(slots=True)
class EmployeeDay:
    employee: EmployeeRow
    result: DayResult
    session_mode: bool


@dataclass
class UnitDay:
    unit: UnitRow
    employees: list[EmployeeDay] = field(default_factory=list)

    @cached_property
    def figures(self) -> UnitFigures:
        """Computed once the unit's employees are all in."""
        return unit_figures(e.result for e in self.employees)


@dataclass
class DailyReport:
    day: date
    units: list[UnitDay]
    tz_name: str
    as_of: datetime | None = None

    @property
    def totals(self) -> UnitFigures:
        return unit_figures(e.result for u in self.units for e in u.employees)


def _order_key(unit_day: UnitDay):
    compliance = unit_day.figures.badge_compliance
    below_target = compliance is not None and compliance < 1
    return (not below_target, compliance if below_target else 0, unit_day.unit.code)


def order_units(units: Iterable[UnitDay]) -> list[UnitDay]:
    """Units below the badge target (100%) first, worst first; then the rest by code."""
    return sorted(units, key=_order_key)


def compile_daily(session: Session, config: Config, day: date, unit_code: str | None = None, *,
                  unit_ids: Iterable[int] | None = None, as_of: datetime | None = None,
                  tree: OrgTree | None = None) -> DailyReport:
    """The daily report of ``unit_code`` and its sub-units (or of every unit).

    ``unit_ids`` limits the report to the units a user may see; ``as_of`` compiles a day
    still in progress as it stands at that instant (see ``in_progress_as_of``); ``tree``:
    the units, when the caller has them already. Raises ``LookupError`` for an unknown
    unit code.
    """
    tree = tree or org_tree(session)
    selected = tree.select(unit_code, unit_ids)
    by_unit: dict[int, UnitDay] = {}
    with gc_paused():
        for employee, _, result in evaluate_range(session, config, day, day, tree=tree,
                                                  unit_ids=selected, as_of=as_of):
            unit_day = by_unit.get(employee.unit_id)
            if unit_day is None:
                unit_day = by_unit[employee.unit_id] = UnitDay(tree.units[employee.unit_id])
            session_mode = config.schedule(employee.schedule).checkin_mode == "session"
            unit_day.employees.append(EmployeeDay(employee, result, session_mode))
        for unit_day in by_unit.values():
            unit_day.employees.sort(key=lambda e: e.employee.code)
        units = order_units(by_unit.values())
    return DailyReport(day, units, config.timezone, as_of)


def in_progress_as_of(config: Config, day: date, now: datetime) -> datetime | None:
    """``now`` when ``day`` is today or later in the deployment's timezone, else None.

    A report of today must not call absent those who have not arrived yet.
    """
    return now if day >= now.astimezone(config.tz).date() else None


def local_iso(instant: datetime, config_tz) -> str:
    return instant.astimezone(config_tz).isoformat(timespec="seconds")


def unit_json(unit_day: UnitDay, tz) -> dict:
    lists: dict[str, list] = {name: [] for name in (
        LATE, EARLY_LEAVE, MISSING_CHECKOUT, NO_BADGE, ABSENT_FROM_POST, ABSENT, MISSED_SESSION)}
    excused: list[str] = []
    not_arrived: list[str] = []
    for entry in unit_day.employees:
        code, result = entry.employee.code, entry.result
        if not result.working:
            continue
        if result.excused is not None:
            excused.append(code)
            continue
        if result.not_arrived:
            not_arrived.append(code)

        def entry_of(item: dict, f, mode=entry.session_mode) -> dict:
            return {**item, "session": f.session} if mode else item

        no_badge_sources: list[str] = []
        for f in result.open_findings():
            if f.kind == LATE:
                lists[LATE].append(entry_of(
                    {"employee": code, "check_in": local_iso(f.at, tz), "minutes": f.minutes}, f))
            elif f.kind == EARLY_LEAVE:
                lists[EARLY_LEAVE].append(entry_of(
                    {"employee": code, "check_out": local_iso(f.at, tz), "minutes": f.minutes}, f))
            elif f.kind in (MISSING_CHECKOUT, MISSED_SESSION):
                lists[f.kind].append(entry_of({"employee": code}, f) if entry.session_mode
                                     else code)
            elif f.kind == NO_BADGE:
                if f.source not in no_badge_sources:
                    no_badge_sources.append(f.source)
                    lists[NO_BADGE].append({"employee": code, "source": f.source})
            elif f.kind == ABSENT_FROM_POST:
                lists[ABSENT_FROM_POST].append({"employee": code, "at": local_iso(f.at, tz)})
            elif f.kind == ABSENT:
                lists[ABSENT].append(code)
    figures = unit_day.figures
    return {
        "unit": unit_day.unit.code,
        "name": unit_day.unit.name,
        "expected": figures.expected,
        "present": figures.present,
        **lists,
        "excused": excused,
        "not_arrived": not_arrived,
        "badge_compliance": figures.badge_compliance,
        "punctuality": figures.punctuality,
    }


def daily_json(report: DailyReport) -> dict:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(report.tz_name)
    totals = report.totals
    return {
        "date": report.day.isoformat(),
        **({"as_of": local_iso(report.as_of, tz)} if report.as_of else {}),
        "units": [unit_json(u, tz) for u in report.units],
        "totals": {"expected": totals.expected, "present": totals.present,
                   "badge_compliance": totals.badge_compliance,
                   "punctuality": totals.punctuality},
    }


def daily_report(session: Session, config: Config, day: date, unit_code: str | None = None, *,
                 unit_ids: Iterable[int] | None = None, as_of: datetime | None = None) -> dict:
    """The machine-readable daily report of RULES.md."""
    return daily_json(compile_daily(session, config, day, unit_code, unit_ids=unit_ids,
                                    as_of=as_of))


# --- words a user reads ------------------------------------------------------------------

KIND_LABELS = {
    LATE: "đi muộn",
    EARLY_LEAVE: "về sớm",
    MISSING_CHECKOUT: "không quét thẻ khi về",
    NO_BADGE: "không đeo thẻ",
    ABSENT_FROM_POST: "vắng mặt tại vị trí làm việc",
    ABSENT: "vắng không lý do",
    MISSED_SESSION: "vắng buổi",
}
EXCUSED_LABEL = "nghỉ có lý do"
EXCUSED_ABSENCE_LABEL = "vắng có lý do"  # an absence finding that an excuse covers
SOURCE_LABELS = {"scan": "dữ liệu quét thẻ", "guard": "bảo vệ ghi nhận",
                 "spot_check": "kiểm tra đột xuất"}
EXCUSE_KIND_LABELS = {"leave": "nghỉ phép", "business_trip": "đi công tác",
                      "other": "lý do khác"}
EXCUSE_PART_LABELS = {"full": "cả ngày", "morning": "buổi sáng", "afternoon": "buổi chiều"}
STATUS_LABELS = {"open": "không có lý do", "excused": "có lý do đã duyệt"}
OPEN, EXCUSED = "open", "excused"
WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


def kind_from_text(text: str) -> str:
    """A finding kind from its code (``late``) or its Vietnamese label (``đi muộn``)."""
    cleaned = unicodedata.normalize("NFC", text.strip()).lower()
    if cleaned in KIND_LABELS:
        return cleaned
    for kind, label in KIND_LABELS.items():
        if label == cleaned:
            return kind
    raise ValueError(text)


def session_label(index: int | None) -> str:
    """Buổi sáng / buổi chiều for the usual two sessions; "buổi 3" beyond."""
    if index is None:
        return ""
    return ("sáng", "chiều")[index] if index < 2 else f"buổi {index + 1}"


def format_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def count_text(number: int) -> str:
    """A count as Vietnamese writes it: 71.439."""
    return f"{number:,}".replace(",", ".")


def month_bounds(month: date | str) -> tuple[date, date]:
    """The first and last dates of ``month`` (a date in it, or ``YYYY-MM``)."""
    if isinstance(month, str):
        try:
            year, number = (int(p) for p in month.split("-"))
            month = date(year, number, 1)
        except ValueError:
            raise ValueError(f"expected YYYY-MM, got {month!r}") from None
    first = month.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


# --- monthly report ----------------------------------------------------------------------

@dataclass
class EmployeeMonth:
    """One employee's month: counts of open findings (excused ones are not violations)."""

    employee: EmployeeRow
    working_days: int = 0      # working days while employed
    expected_days: int = 0     # working days not excused all day
    present_days: int = 0
    late_days: int = 0
    late_minutes: int = 0
    early_leaves: int = 0
    early_leave_minutes: int = 0
    missing_checkouts: int = 0
    no_badge: int = 0
    absences: int = 0
    absent_from_post: int = 0
    missed_sessions: int = 0
    excused_days: int = 0

    @property
    def violations(self) -> int:
        return (self.late_days + self.early_leaves + self.missing_checkouts + self.no_badge
                + self.absences + self.absent_from_post + self.missed_sessions)

    def add(self, result: DayResult) -> None:
        if not result.working:
            return
        self.working_days += 1
        if result.excused is not None:
            self.excused_days += 1
            return
        self.expected_days += 1
        self.present_days += result.present
        if not result.findings:
            return
        late = result.open_findings(LATE)
        if late:
            self.late_days += 1
            self.late_minutes += sum(f.minutes or 0 for f in late)
        for finding in result.open_findings():
            if finding.kind == EARLY_LEAVE:
                self.early_leaves += 1
                self.early_leave_minutes += finding.minutes or 0
            elif finding.kind == MISSING_CHECKOUT:
                self.missing_checkouts += 1
            elif finding.kind == NO_BADGE:
                self.no_badge += 1
            elif finding.kind == ABSENT:
                self.absences += 1
            elif finding.kind == ABSENT_FROM_POST:
                self.absent_from_post += 1
            elif finding.kind == MISSED_SESSION:
                self.missed_sessions += 1


@dataclass
class UnitMonth:
    """A unit's month. The figures are sums over the days of the daily figures of RULES.md."""

    unit: UnitRow
    employees: list[EmployeeMonth] = field(default_factory=list)
    expected: int = 0     # Σ over days of the daily "expected"
    present: int = 0      # Σ over days of the daily "present"
    late: int = 0         # Σ over days of present employees with an open late finding
    no_badge: int = 0     # Σ over days of present employees with an open no-badge finding
    absences: int = 0     # Σ over days of employees absent without reason
    rank: int | None = None

    @property
    def badge_compliance(self) -> float | None:
        return (self.present - self.no_badge) / self.present if self.present else None

    @property
    def punctuality(self) -> float | None:
        return (self.present - self.late) / self.present if self.present else None

    @property
    def absence_rate(self) -> float | None:
        return self.absences / self.expected if self.expected else None

    def add(self, result: DayResult) -> None:
        self.add_all((result,))

    def add_all(self, results: Sequence[DayResult]) -> None:
        """Several days at once (one employee's month): the same sums, one call."""
        figures = unit_figures(results)
        self.expected += figures.expected
        self.present += figures.present
        self.late += figures.late
        self.no_badge += figures.no_badge
        self.absences += sum(1 for r in results if r.expected and r.has_open(ABSENT))


@dataclass
class MonthlyReport:
    first: date
    last: date              # the last day counted (the month's end, or ``through``)
    units: list[UnitMonth]  # in ranking order; unranked units (no one present) last
    tz_name: str

    @property
    def month(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def started(self) -> bool:
        """Whether a day of the month is counted: not for a month to come, nor on its first
        day (``last`` is then the day before ``first``)."""
        return self.last >= self.first

    @property
    def totals(self) -> UnitMonth:
        total = UnitMonth(UnitRow(0, "", "", None, None))
        for unit in self.units:
            total.expected += unit.expected
            total.present += unit.present
            total.late += unit.late
            total.no_badge += unit.no_badge
            total.absences += unit.absences
        return total


def ranking_key(unit: UnitMonth) -> tuple:
    """Emulation order: badge compliance, then punctuality (both higher first), then the
    share of expected days absent without reason (lower first); ties share a rank."""
    return (-(unit.badge_compliance or 0), -(unit.punctuality or 0), unit.absence_rate or 0)


def rank_units(units: Iterable[UnitMonth]) -> list[UnitMonth]:
    """Rank units with someone present (1, 1, 3 … for ties); the others follow, unranked."""
    ranked = sorted((u for u in units if u.present), key=lambda u: (ranking_key(u), u.unit.code))
    previous, rank = None, 0
    for position, unit in enumerate(ranked, start=1):
        key = ranking_key(unit)
        if key != previous:
            rank, previous = position, key
        unit.rank = rank
    rest = sorted((u for u in units if not u.present), key=lambda u: u.unit.code)
    for unit in rest:
        unit.rank = None
    return ranked + rest


def _range_end(last: date, through: date | None) -> date:
    return last if through is None else min(last, through)


def compile_monthly(session: Session, config: Config, month: date | str,
                    unit_code: str | None = None, *, unit_ids: Iterable[int] | None = None,
                    through: date | None = None) -> MonthlyReport:
    """The monthly report of ``unit_code`` and its sub-units (or of every unit).

    ``through`` stops the month early (pass today for the current month, so that days
    still to come are not counted as absences). One ``evaluate_range`` for the whole month.
    """
    first, last = month_bounds(month)
    last = _range_end(last, through)
    tree = org_tree(session)
    selected = tree.select(unit_code, unit_ids)
    units: dict[int, UnitMonth] = {}
    people: dict[int, EmployeeMonth] = {}
    if last >= first:
        with gc_paused():
            # An employee's days come one after another: their unit adds them at once.
            for _, items in groupby(
                    evaluate_range(session, config, first, last, tree=tree, unit_ids=selected),
                    key=lambda item: item[0].id):
                employees, _, results = zip(*items)
                employee = employees[0]
                unit = units.get(employee.unit_id)
                if unit is None:
                    unit = units[employee.unit_id] = UnitMonth(tree.units[employee.unit_id])
                person = people.get(employee.id)
                if person is None:
                    person = people[employee.id] = EmployeeMonth(employee)
                    unit.employees.append(person)
                for result in results:
                    person.add(result)
                unit.add_all(results)
    for unit in units.values():
        unit.employees.sort(key=lambda p: (name_sort_key(p.employee.full_name), p.employee.code))
    return MonthlyReport(first, max(last, first - timedelta(days=1)),
                         rank_units(units.values()), config.timezone)


def shown_rate(value: float | None, places: int = 4) -> float | None:
    """A rate rounded to ``places`` decimals, except that a rate below 1 is never rounded up
    to 1: the directive's target is 100%, and a unit that missed it (29,999 of 30,000) must
    not read as if it met it. None stays None (nobody present)."""
    if value is None:
        return None
    shown = round(value, places)
    return round(1 - 10 ** -places, places) if value < 1 and shown >= 1 else shown


def percent_text(value: float) -> str:
    """A rate as a percentage with one decimal and a decimal point ("97.4"); below 1, never
    "100.0" (see ``shown_rate``)."""
    return f"{shown_rate(value, 3) * 100:.1f}"


def _rate(value: float | None) -> float | None:
    return shown_rate(value, 4)


def employee_month_json(person: EmployeeMonth) -> dict:
    return {
        "employee": person.employee.code,
        "full_name": person.employee.full_name,
        "working_days": person.working_days,
        "present_days": person.present_days,
        "late_days": person.late_days,
        "late_minutes": person.late_minutes,
        "early_leaves": person.early_leaves,
        "early_leave_minutes": person.early_leave_minutes,
        "missing_checkouts": person.missing_checkouts,
        "no_badge": person.no_badge,
        "absences": person.absences,
        "absent_from_post": person.absent_from_post,
        "missed_sessions": person.missed_sessions,
        "excused_days": person.excused_days,
    }


def monthly_json(report: MonthlyReport) -> dict:
    def figures(unit: UnitMonth) -> dict:
        return {"expected": unit.expected, "present": unit.present, "late": unit.late,
                "no_badge": unit.no_badge, "absences": unit.absences,
                "badge_compliance": _rate(unit.badge_compliance),
                "punctuality": _rate(unit.punctuality)}

    return {
        "month": report.month,
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "ranking_order": ["badge_compliance desc", "punctuality desc", "absence_rate asc"],
        "units": [{"unit": u.unit.code, "name": u.unit.name, "rank": u.rank, **figures(u),
                   "employees": [employee_month_json(p) for p in u.employees]}
                  for u in report.units],
        "totals": figures(report.totals),
    }


# --- repeat offenders --------------------------------------------------------------------

@dataclass
class Offender:
    unit: UnitRow
    month: EmployeeMonth
    reasons: list[str]  # finding kinds over their threshold: "late", "absent"


def offenders_of(report: MonthlyReport, config: Config) -> list[Offender]:
    thresholds = config.reports
    out = []
    for unit in sorted(report.units, key=lambda u: u.unit.code):
        for person in unit.employees:
            reasons = []
            if person.late_days >= thresholds.repeat_late_days:
                reasons.append(LATE)
            if person.absences >= thresholds.repeat_absences:
                reasons.append(ABSENT)
            if reasons:
                out.append(Offender(unit.unit, person, reasons))
    return out


def repeat_offenders(session: Session, config: Config, month: date | str,
                     unit_ids: Iterable[int] | None = None, *, unit_code: str | None = None,
                     through: date | None = None) -> list[Offender]:
    """Employees over the config's thresholds in ``month`` (late days, absences).

    The system flags; the unit head and the inspectors decide.
    """
    report = compile_monthly(session, config, month, unit_code, unit_ids=unit_ids,
                             through=through)
    return offenders_of(report, config)


def offenders_json(month: date | str, offenders: list[Offender], config: Config) -> dict:
    first, _ = month_bounds(month)
    return {
        "month": f"{first:%Y-%m}",
        "thresholds": {"late_days": config.reports.repeat_late_days,
                       "absences": config.reports.repeat_absences},
        "offenders": [{"unit": o.unit.code, "unit_name": o.unit.name, "reasons": o.reasons,
                       **employee_month_json(o.month)} for o in offenders],
    }


# --- violation log -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Violation:
    """One finding of the log, open or excused."""

    day: date
    employee: EmployeeRow
    unit: UnitRow
    kind: str
    session: int | None
    minutes: int | None
    at: datetime | None
    source: str
    excuses: tuple[ExcuseRef, ...]  # rules.Finding.excuses: two for some absences

    @property
    def excuse(self) -> ExcuseRef | None:
        return self.excuses[0] if self.excuses else None

    @property
    def status(self) -> str:
        return EXCUSED if self.excuses else OPEN

    @property
    def label(self) -> str:
        """The finding's kind as a user reads it: an excused absence is not "vắng không lý
        do" beside "có lý do đã duyệt"."""
        if self.kind == ABSENT and self.excuses:
            return EXCUSED_ABSENCE_LABEL
        return KIND_LABELS[self.kind]


@dataclass
class ViolationPage:
    """A page of the log and the number of rows matching; when ``exact`` is False, counting
    stopped there and there are more than ``total``."""

    rows: list[Violation]
    total: int
    exact: bool = True


_MIN_AT = datetime.min.replace(tzinfo=UTC)


def _order(row: Violation) -> tuple:
    """The log's order (as ``findings.StoredLog.ORDER``): date, unit, employee, session,
    kind, then instant and source."""
    return (row.day, row.unit.code, row.employee.code,
            findings.WHOLE_DAY if row.session is None else row.session,
            findings.KIND_RANK[row.kind], row.at or _MIN_AT, row.source)


def _check_filters(kinds: Iterable[str] | None, status: str | None) -> set[str] | None:
    if status not in (None, OPEN, EXCUSED):
        raise ValueError(f"unknown status {status!r}")
    wanted = set(kinds) if kinds is not None else None
    if wanted is not None and not wanted <= set(FINDING_KINDS):
        raise ValueError(f"unknown kinds {sorted(wanted - set(FINDING_KINDS))}")
    return wanted


def _evaluated(session: Session, config: Config, tree: OrgTree, selected: set[int],
               cover: findings.Coverage, employee: str | None, kinds: set[str] | None,
               status: str | None, as_of: datetime | None) -> list[Violation]:
    """The rows of the log that the stored findings do not answer, from the rules."""
    spans: list[tuple[date, date, set[str] | None]] = [
        (a, b, None) for a, b in findings.runs(cover.live_days)]
    if cover.stale_everywhere:
        spans += [(a, b, cover.stale_everywhere) for a, b in findings.runs(cover.stored_days)]
    spans += [(day, day, codes) for day, codes in sorted(cover.stale_on.items())]
    rows: list[Violation] = []
    for first, last, codes in spans:
        if employee is not None:
            codes = {employee} if codes is None or employee in codes else set()
        if codes is not None and not codes:
            continue
        for person, day, result in evaluate_range(
                session, config, first, last, tree=tree, unit_ids=selected,
                employee_codes=None if codes is None else sorted(codes), as_of=as_of):
            for finding in result.findings:
                if kinds is not None and finding.kind not in kinds:
                    continue
                if status is not None and (OPEN if finding.is_open else EXCUSED) != status:
                    continue
                rows.append(Violation(day, person, tree.units[person.unit_id], finding.kind,
                                      finding.session, finding.minutes, finding.at,
                                      finding_source(finding, result), finding.excuses))
    rows.sort(key=_order)
    return rows


def _from_stored(session: Session, tree: OrgTree, first: date, last: date,
                 stored: list) -> list[Violation]:
    codes = sorted({row.employee_code for row in stored})
    people = {}
    for start in range(0, len(codes), 1000):
        people.update((p.id, p) for p in load_employees(
            session, tree, set(tree.units), first, last, codes[start:start + 1000]))
    excuses = findings.excuse_refs(session, (i for r in stored
                                             for i in (r.excuse_id, r.second_excuse_id) if i))
    return [Violation(row.day, people[row.employee_id], tree.units[row.unit_id],
                      FINDING_KINDS[row.kind],
                      None if row.session == findings.WHOLE_DAY else row.session,
                      row.minutes, row.at, row.source,
                      tuple(excuses[i] for i in (row.excuse_id, row.second_excuse_id) if i))
            for row in stored if row.employee_id in people]  # else: changed since read


def _merged_page(window: list[Violation], start: int, live: list[Violation], offset: int,
                 limit: int, reached_end: bool) -> list[Violation]:
    """Rows ``offset``…``offset + limit`` of the stored rows and ``live`` merged in order,
    from ``window``, the stored rows from position ``start`` (``offset - len(live)`` or 0)
    to ``offset + limit``. A live row before the window stands before ``offset``; one
    after it (when the stored rows go on) after the page."""
    if not window:
        return live[offset:offset + limit] if start == 0 else []
    first, last = _order(window[0]), _order(window[-1])
    before = 0 if start == 0 else sum(1 for row in live if _order(row) < first)
    rest = [row for row in live[before:] if reached_end or _order(row) < last]
    merged = heapq.merge(window, rest, key=_order)
    skip = offset - start - before
    return list(islice(merged, skip, skip + limit))


def violation_page(session: Session, config: Config, first: date, last: date, *,
                   unit_ids: Iterable[int] | None = None, kinds: Iterable[str] | None = None,
                   employee: str | None = None, status: str | None = None, offset: int = 0,
                   limit: int | None = None, unit_code: str | None = None,
                   count_limit: int | None = None, tree: OrgTree | None = None,
                   now: datetime | None = None) -> ViolationPage:
    """The violation log between ``first`` and ``last``: a page of rows and the total.

    ``unit_ids`` limits it to those units (a user's scope); ``unit_code`` to a unit and its
    sub-units; ``kinds`` to finding kinds; ``employee`` to an employee code; ``status`` to
    ``open`` or ``excused``. Rows are ordered by date, unit, employee, session and kind.
    Days that are over come from the stored findings (``attendance.findings``), the rest
    from the rules. ``count_limit`` stops counting past that many rows (or past the page).
    ``tree``: the units, when the caller has them already. ``now``: the clock, with which
    the log stops at today and shows today as it stands (no absence before the day is
    over); None treats every day of the range as over.
    """
    wanted = _check_filters(kinds, status)
    if now is not None:
        last = min(last, now.astimezone(config.tz).date())
        if last < first:
            return ViolationPage([], 0)
    tree = tree or org_tree(session)
    selected = tree.select(unit_code, unit_ids)
    cover = findings.coverage(session, config, first, last)
    live = _evaluated(session, config, tree, selected, cover, employee, wanted, status, now)
    stored = findings.StoredLog(
        session, cover, unit_ids=None if len(selected) == len(tree.units) else selected,
        kinds=wanted, employee=employee, status=status)
    if limit is None:  # everything (exports): no count needed
        rows = list(heapq.merge(_from_stored(session, tree, first, last, stored.rows()), live,
                                key=_order))
        return ViolationPage(rows[offset:], len(rows))
    bound = None if count_limit is None else max(count_limit, offset + limit)
    start = max(0, offset - len(live))
    wanted_rows = offset + limit - start
    if bound is not None and bound > count_limit:
        # A page past the count limit: one row more than the page says whether rows follow
        # it, instead of counting every row before it (page 2,000: 100,000 rows).
        found = stored.rows(start, wanted_rows + 1)
        if len(found) > wanted_rows:
            counted, found = bound + 1, found[:wanted_rows]
        elif found or start == 0:
            counted = start + len(found)
        else:  # past the end
            counted = stored.count(bound)
    else:
        counted = stored.count(bound)
        found = stored.rows(start, wanted_rows) if offset < counted + len(live) else []
    exact = bound is None or counted <= bound
    rows = _merged_page(_from_stored(session, tree, first, last, found), start, live, offset,
                        limit, reached_end=len(found) < wanted_rows)
    return ViolationPage(rows, counted + len(live) if exact else bound, exact)


def violations(session: Session, config: Config, first: date, last: date, *,
               unit_ids: Iterable[int] | None = None, kinds: Iterable[str] | None = None,
               employee: str | None = None, status: str | None = None, offset: int = 0,
               limit: int | None = None, unit_code: str | None = None,
               now: datetime | None = None) -> tuple[list[Violation], int]:
    """The violation log (see ``violation_page``): a page of rows and the exact total."""
    page = violation_page(session, config, first, last, unit_ids=unit_ids, kinds=kinds,
                          employee=employee, status=status, offset=offset, limit=limit,
                          unit_code=unit_code, now=now)
    return page.rows, page.total


def _excuse_json(excuse: ExcuseRef) -> dict:
    return {"id": excuse.id, "kind": excuse.kind, "part": excuse.part,
            "approved_by": excuse.approved_by, "reason": excuse.reason}


def violation_json(row: Violation, tz) -> dict:
    return {
        "date": row.day.isoformat(),
        "employee": row.employee.code,
        "full_name": row.employee.full_name,
        "unit": row.unit.code,
        "unit_name": row.unit.name,
        "type": row.kind,
        "type_label": row.label,
        "session": row.session,
        "minutes": row.minutes,
        "at": local_iso(row.at, tz) if row.at is not None else None,
        "source": row.source,
        "status": row.status,
        # The first excuse, as before; ``excuses`` has them all (an absence on a day made
        # whole by a morning and an afternoon excuse has two).
        "excuse": None if row.excuse is None else _excuse_json(row.excuse),
        "excuses": [_excuse_json(e) for e in row.excuses],
    }


def violations_json(rows: list[Violation], total: int, config: Config, *, first: date,
                    last: date, offset: int = 0) -> dict:
    tz = config.tz
    return {"from": first.isoformat(), "to": last.isoformat(), "total": total,
            "offset": offset, "violations": [violation_json(r, tz) for r in rows]}
