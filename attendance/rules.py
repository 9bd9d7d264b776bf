"""The working-hour rules of RULES.md, as pure functions.

``evaluate_day`` takes one employee's day — the timetable, the schedule's policy, the
accepted badge scans, the no-badge records and spot-check findings, the approved excuses —
and returns the findings. ``unit_figures`` turns the results of a unit's employees into
the unit's figures. Nothing here reads a clock or a database: time is an argument.

Choices where RULES.md is silent (also in docs/rules.md):
- The opening point (first session start − ``checkin_opens_minutes``) filters badge scans
  only; a guard's no-badge record is explicit evidence of arrival whenever it was made.
- A scan exactly on a session boundary (``session`` mode) belongs to the later session.
- A spot check that found someone present *without* a badge is a no-badge record, so it is
  an arrival (check-in) like a guard's record; one that found them present *with* a badge
  only proves presence: the day is not ``absent``, but it is not a check-in either.
- A spot check that found someone away from their post outside every session (the lunch
  break, before the first session, from the end of the last) is no finding: RULES.md says
  "during working hours". Sessions run from their start (included) to their end (not).
- No-badge and absent-from-post findings belong to the session whose part of the day
  (the same boundaries as ``session`` mode) holds their time; a half-day excuse of that
  session excuses them.
- A half-day excuse does not cover an absence: someone excused for the morning who never
  comes in the afternoon is ``absent``. A morning and an afternoon excuse make a whole day
  (``DayResult.excuses`` holds both); each finding still names its own session's excuse,
  and an absence on such a day (no session of its own) names both.
- A day still in progress (``as_of`` before the end of its last session) has no finding
  that only the end can tell: no ``absent`` (someone without a check-in has not arrived
  yet), and no early leave, missing check-out or missed session for a session not over.
  Evidence after ``as_of`` is not looked at.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from attendance.calendar import Timetable
from attendance.config import Schedule

LATE = "late"
EARLY_LEAVE = "early_leave"
MISSING_CHECKOUT = "missing_checkout"
NO_BADGE = "no_badge"
ABSENT_FROM_POST = "absent_from_post"
ABSENT = "absent"
MISSED_SESSION = "missed_session"
FINDING_KINDS = (LATE, EARLY_LEAVE, MISSING_CHECKOUT, NO_BADGE, ABSENT_FROM_POST, ABSENT,
                 MISSED_SESSION)

# Findings that only the end of their session can tell.
UNTIL_SESSION_END = frozenset({EARLY_LEAVE, MISSING_CHECKOUT, MISSED_SESSION})

# What a no-badge record or a spot-check finding says about the employee.
WITHOUT_BADGE = "without_badge"  # a guard's record, or a spot check: present without badge
PRESENT = "present"              # a spot check: present with badge
AWAY = "away"                    # a spot check: absent from post
GUARD = "guard"
SPOT_CHECK = "spot_check"


@dataclass(frozen=True, slots=True)
class Policy:
    """The parts of a schedule that the rules need, as timedeltas."""

    checkin_mode: str = "day"
    late_grace: timedelta = timedelta(minutes=5)
    early_leave_grace: timedelta = timedelta(minutes=5)
    checkin_opens: timedelta = timedelta(minutes=120)
    duplicate_window: timedelta = timedelta(seconds=60)
    min_presence: timedelta = timedelta(minutes=30)

    @classmethod
    def from_schedule(cls, schedule: Schedule) -> Policy:
        return cls(
            checkin_mode=schedule.checkin_mode,
            late_grace=timedelta(minutes=schedule.late_grace_minutes),
            early_leave_grace=timedelta(minutes=schedule.early_leave_grace_minutes),
            checkin_opens=timedelta(minutes=schedule.checkin_opens_minutes),
            duplicate_window=timedelta(seconds=schedule.duplicate_window_seconds),
            min_presence=timedelta(minutes=schedule.min_presence_minutes),
        )


@dataclass(frozen=True, slots=True)
class Mark:
    """A no-badge record or a spot-check finding about one employee at one instant."""

    at: datetime
    kind: str  # WITHOUT_BADGE, PRESENT or AWAY
    source: str  # GUARD or SPOT_CHECK


@dataclass(frozen=True, slots=True)
class ExcuseRef:
    """An approved excuse covering the day: ``part`` is full, morning or afternoon;
    ``reason`` is the approver's comment on the decision, ``note`` the employee's own reason
    for the leave (the excuse's note)."""

    part: str
    kind: str = "leave"
    approved_by: str | None = None
    reason: str | None = None
    id: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    session: int | None = None
    minutes: int | None = None
    at: datetime | None = None
    source: str | None = None
    # The approved excuses that cover it: a whole-day excuse, or its session's half-day one;
    # an absence on a day made whole by a morning and an afternoon excuse, both (in order).
    excuses: tuple[ExcuseRef, ...] = ()

    @property
    def excused_by(self) -> ExcuseRef | None:
        """The first of ``excuses`` (None when open)."""
        return self.excuses[0] if self.excuses else None

    @property
    def is_open(self) -> bool:
        return not self.excuses


@dataclass(frozen=True, slots=True)
class DayResult:
    working: bool
    # The approved excuses that together cover the whole day: one whole-day excuse, or the
    # half-day ones (morning, afternoon) in session order; empty when some of the day is not
    # excused. A morning and an afternoon excuse are two, never one of them for the day.
    excuses: tuple[ExcuseRef, ...] = ()
    check_in: datetime | None = None
    check_out: datetime | None = None
    findings: tuple[Finding, ...] = field(default=())
    in_progress: bool = False  # evaluated before the end of the day's last session
    seen: bool = False  # a record shows them at work (a spot check, a guard), scan or not
    started: bool = True  # False: evaluated before the day's check-in opened (a day to come)

    @property
    def excused(self) -> tuple[ExcuseRef, ...] | None:
        """The excuses of a day excused all day (``excuses``), None when it is not."""
        return self.excuses or None

    @property
    def not_arrived(self) -> bool:
        """Expected today, not seen at work yet, and the day begun but not over (an
        inspector who found them at their post has seen them arrive, though that is no
        check-in; nobody is "not arrived" on a day to come)."""
        return (self.in_progress and self.started and self.expected and self.check_in is None
                and not self.seen)

    @property
    def expected(self) -> bool:
        return self.working and self.excused is None

    @property
    def present(self) -> bool:
        return self.expected and self.check_in is not None

    def open_findings(self, kind: str | None = None) -> list[Finding]:
        return [f for f in self.findings if f.is_open and (kind is None or f.kind == kind)]

    def has_open(self, kind: str) -> bool:
        return any(f.is_open and f.kind == kind for f in self.findings)


_MINUTE = timedelta(minutes=1)


def _whole_minutes(delta: timedelta) -> int:
    return int(delta // _MINUTE)


def counted_scans(scans: Iterable[datetime], opens_at: datetime, window: timedelta) -> list[datetime]:
    """Scans that count: none before the opening point, none within ``window`` of the last."""
    counted: list[datetime] = []
    for scan in sorted(scans):
        if scan < opens_at:
            continue
        if counted and scan - counted[-1] < window:
            continue
        counted.append(scan)
    return counted


@dataclass(frozen=True, slots=True)
class DayFrame:
    """One timetable's instants under one policy, shared by every employee on it.

    They are computed in the local time zone (grace periods are wall-clock minutes) and
    kept in UTC, the zone of stored evidence: comparing two UTC instants is many times
    cheaper than comparing across zones, and gives the same answer.
    """

    opens_at: datetime
    sessions: tuple[tuple[datetime, datetime], ...]
    bounds: tuple[tuple[datetime, datetime], ...]  # each session's part of the day
    late_after: tuple[datetime, ...]     # per session: its start plus the late grace
    early_before: tuple[datetime, ...]   # per session: its end minus the early-leave grace
    end: datetime


@lru_cache(maxsize=256)
def _frame(timetable: Timetable, policy: Policy) -> DayFrame:
    opens_at = timetable.start - policy.checkin_opens

    def utc(instants: Iterable[datetime]) -> tuple[datetime, ...]:
        return tuple(i.astimezone(timezone.utc) for i in instants)

    return DayFrame(
        opens_at=opens_at.astimezone(timezone.utc),
        sessions=tuple(utc(s) for s in timetable.sessions),
        bounds=tuple(utc(b) for b in session_bounds(timetable, opens_at)),
        late_after=utc(start + policy.late_grace for start, _ in timetable.sessions),
        early_before=utc(end - policy.early_leave_grace for _, end in timetable.sessions),
        end=timetable.end.astimezone(timezone.utc),
    )


_recent_frames: dict[tuple[int, int], tuple[Timetable, Policy, DayFrame]] = {}


def day_frame(timetable: Timetable, policy: Policy) -> DayFrame:
    """The frame of ``timetable`` under ``policy``.

    A report asks for the same few timetables thousands of times: they are found by
    identity first (the entry holds the objects, so their ids are not reused), which is
    cheaper than hashing a timetable for the cache behind.
    """
    key = (id(timetable), id(policy))
    entry = _recent_frames.get(key)
    if entry is not None and entry[0] is timetable and entry[1] is policy:
        return entry[2]
    if len(_recent_frames) >= 256:
        _recent_frames.clear()
    frame = _frame(timetable, policy)
    _recent_frames[key] = (timetable, policy, frame)
    return frame


def session_bounds(timetable: Timetable, opens_at: datetime) -> list[tuple[datetime, datetime]]:
    """Each session's part of the day: from the previous boundary to the next.

    A boundary is the middle of the gap between two sessions; the first part starts at the
    opening point and the last one ends at midnight.
    """
    sessions = timetable.sessions
    cuts = [end + (next_start - end) / 2 for (_, end), (next_start, _) in zip(sessions, sessions[1:])]
    midnight = (timetable.start.replace(hour=0, minute=0, second=0, microsecond=0)
                + timedelta(days=1))
    lowers = [opens_at, *cuts]
    uppers = [*cuts, midnight]
    return list(zip(lowers, uppers))


def _session_of(instant: datetime, bounds: Sequence[tuple[datetime, datetime]]) -> int:
    for index, (_, upper) in enumerate(bounds):
        if instant < upper:
            return index
    return len(bounds) - 1


def _in_session(instant: datetime, sessions: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(start <= instant < end for start, end in sessions)


def _covered_sessions(excuses: Sequence[ExcuseRef], count: int) -> dict[int, ExcuseRef]:
    covered: dict[int, ExcuseRef] = {}
    for excuse in excuses:
        if excuse.part == "morning":
            covered.setdefault(0, excuse)
        elif excuse.part == "afternoon":
            covered.setdefault(count - 1, excuse)
    return covered


def _attendance(arrivals: list[datetime], scans: list[datetime], frame: DayFrame,
                policy: Policy, first: int, last: int):
    """Check-in, check-out and their findings for the stretch from session first to last."""
    findings: list[Finding] = []
    if not arrivals:
        return None, None, findings
    check_in = arrivals[0]
    if check_in > frame.late_after[first]:
        findings.append(Finding(LATE, first, _whole_minutes(check_in - frame.sessions[first][0]),
                                check_in))
    leaving = [s for s in scans if s - check_in >= policy.min_presence]
    check_out = leaving[-1] if leaving else None
    if check_out is None:
        findings.append(Finding(MISSING_CHECKOUT, last))
    elif check_out < frame.early_before[last]:
        findings.append(Finding(EARLY_LEAVE, last,
                                _whole_minutes(frame.sessions[last][1] - check_out), check_out))
    return check_in, check_out, findings


_DAY_OFF = DayResult(working=False)


def evaluate_day(
    timetable: Timetable,
    policy: Policy,
    *,
    working: bool = True,
    scans: Iterable[datetime] = (),
    marks: Iterable[Mark] = (),
    excuses: Sequence[ExcuseRef] = (),
    as_of: datetime | None = None,
) -> DayResult:
    """One employee's working day: findings from scans, marks and excuses.

    ``as_of`` evaluates the day as it stood at that instant (None: the day is over).
    """
    if not working:
        return _DAY_OFF
    frame = day_frame(timetable, policy)
    if as_of is not None and as_of >= frame.end:
        as_of = None
    if as_of is not None:
        scans = [s for s in scans if s <= as_of]
        marks = [m for m in marks if m.at <= as_of]
    sessions = frame.sessions
    count = len(sessions)
    full, covered, whole_day = None, {}, ()
    if excuses:
        full = next((e for e in excuses if e.part == "full"), None)
        covered = _covered_sessions(excuses, count)
        if full is not None:
            whole_day = (full,)
        elif len(covered) == count:
            # Half-day excuses that cover every session: the day is excused, by each of them
            # (a finding keeps the one of its own session).
            whole_day = tuple(dict.fromkeys(covered[i] for i in range(count)))

    counted = counted_scans(scans, frame.opens_at, policy.duplicate_window)
    findings: list[Finding] = []
    without_badge: list[Mark] = []
    if marks:
        marks = sorted(marks, key=lambda m: (m.at, m.kind, m.source))
        without_badge = [m for m in marks if m.kind == WITHOUT_BADGE]
        for mark in marks:
            if mark.kind == WITHOUT_BADGE:
                findings.append(Finding(NO_BADGE, _session_of(mark.at, frame.bounds), at=mark.at,
                                        source=mark.source))
            elif mark.kind == AWAY and _in_session(mark.at, sessions):
                # Away from one's post is a finding during working hours only (RULES.md):
                # not in the lunch break, nor before the first session or after the last.
                findings.append(Finding(ABSENT_FROM_POST, _session_of(mark.at, frame.bounds),
                                        at=mark.at, source=mark.source))

    check_in = check_out = None
    if policy.checkin_mode == "session":
        ins: list[datetime] = []
        outs: list[datetime] = []
        missed: list[int] = []
        for index, (lower, upper) in enumerate(frame.bounds):
            part_scans = [s for s in counted if lower <= s < upper]
            # The opening point filters badge scans only: a no-badge record made before it
            # is the first session's arrival, as in day mode.
            arrivals = sorted(part_scans + [m.at for m in without_badge
                                            if (index == 0 or lower <= m.at) and m.at < upper])
            got_in, got_out, session_findings = _attendance(arrivals, part_scans, frame, policy,
                                                            index, index)
            findings.extend(session_findings)
            if got_in is None:
                missed.append(index)
            else:
                ins.append(got_in)
            if got_out is not None:
                outs.append(got_out)
        if ins:
            findings.extend(Finding(MISSED_SESSION, index) for index in missed)
            check_in, check_out = min(ins), max(outs, default=None)
    else:
        worked = [i for i in range(count) if i not in covered] or list(range(count))
        arrivals = sorted(counted + [m.at for m in without_badge]) if without_badge else counted
        # In day mode a late arrival belongs to the first worked session, a leave to the last.
        check_in, check_out, day_findings = _attendance(arrivals, counted, frame, policy,
                                                        worked[0], worked[-1])
        findings.extend(day_findings)

    if as_of is not None:
        findings = [f for f in findings if f.kind not in UNTIL_SESSION_END
                    or sessions[f.session][1] <= as_of]
    elif not counted and not marks_show_presence(marks):
        findings.append(Finding(ABSENT))

    if full is not None or covered:
        findings = [_excused(f, full, covered, whole_day) for f in findings]
    return DayResult(working=True, excuses=whole_day, check_in=check_in, check_out=check_out,
                     findings=tuple(findings), in_progress=as_of is not None,
                     seen=marks_show_presence(marks),
                     started=as_of is None or as_of >= frame.opens_at)


def marks_show_presence(marks: Iterable[Mark]) -> bool:
    return any(m.kind in (WITHOUT_BADGE, PRESENT) for m in marks)


def _excused(finding: Finding, full: ExcuseRef | None, covered: dict[int, ExcuseRef],
             whole_day: tuple[ExcuseRef, ...]) -> Finding:
    """``finding`` marked with the excuses that cover it: a whole-day excuse, else the
    half-day excuse of its session. An absence (no session) is covered only when the whole
    day is; on a day made whole by half-day excuses it names each of them."""
    if full is not None:
        excuses: tuple[ExcuseRef, ...] = (full,)
    elif finding.session is not None:
        excuses = (covered[finding.session],) if finding.session in covered else ()
    else:
        excuses = whole_day
    if not excuses:
        return finding
    return Finding(finding.kind, finding.session, finding.minutes, finding.at, finding.source,
                   excuses)


@dataclass(frozen=True, slots=True)
class UnitFigures:
    expected: int
    present: int
    late: int
    no_badge: int

    @property
    def badge_compliance(self) -> float | None:
        return (self.present - self.no_badge) / self.present if self.present else None

    @property
    def punctuality(self) -> float | None:
        return (self.present - self.late) / self.present if self.present else None


def unit_figures(results: Iterable[DayResult]) -> UnitFigures:
    """Expected, present and the two rates of RULES.md for one unit's employees."""
    expected = present = late = no_badge = 0
    for result in results:
        if not result.expected:
            continue
        expected += 1
        if result.present:
            present += 1
            if result.findings:
                late += result.has_open(LATE)
                no_badge += result.has_open(NO_BADGE)
    return UnitFigures(expected, present, late, no_badge)
