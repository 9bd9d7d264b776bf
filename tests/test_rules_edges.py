"""Edge cases an office meets, each value worked out by hand from RULES.md (rules audit).

The timetable is the winter one (07:30-12:00, 13:00-16:30, grace 5 minutes, check-in opens
120 minutes before 07:30, so at 05:30) unless a test says otherwise.
"""

from __future__ import annotations

from datetime import date, datetime

from attendance.calendar import Timetable, WorkCalendar
from attendance.rules import (
    ABSENT, ABSENT_FROM_POST, AWAY, EARLY_LEAVE, GUARD, LATE, MISSED_SESSION, MISSING_CHECKOUT,
    NO_BADGE, PRESENT, SPOT_CHECK, WITHOUT_BADGE, ExcuseRef, Mark, Policy, evaluate_day,
    unit_figures,
)
from test_rules import DAY_MODE, SESSION_MODE, TZ, WINTER, at


def findings(result, *, open_only=True):
    """(kind, session, minutes) of the findings, in a stable order."""
    chosen = result.open_findings() if open_only else result.findings
    return sorted((f.kind, f.session, f.minutes) for f in chosen)


# --- day mode -----------------------------------------------------------------------------

def test_a_lunchtime_scan_with_no_evening_scan_is_the_check_out():
    """Day mode: "the last scan is the check-out for the last session". Out for lunch at
    12:05 and never scanned again: the check-out is 12:05, 265 minutes before 16:30."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("12:05")])
    assert result.check_out == at("12:05")
    assert findings(result) == [(EARLY_LEAVE, 1, 265)]


def test_lunch_out_and_back_with_no_evening_scan():
    """Out 11:58, back 13:02, nothing after: 13:02 is the last scan, so the check-out,
    208 minutes before 16:30."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("11:58"), at("13:02")])
    assert result.check_out == at("13:02")
    assert findings(result) == [(EARLY_LEAVE, 1, 208)]


def test_the_repeat_window_counts_from_the_last_scan_that_counted_not_from_one_before_opening():
    """05:29:30 is before the opening point (05:30) and does not count at all, so 05:30:10
    is not a repeat of it: it is the check-in."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("05:29:30"), at("05:30:10"), at("16:35")])
    assert result.check_in == at("05:30:10")
    assert findings(result) == []


def test_a_scan_at_midnight_does_not_count():
    """00:00:00 of the day is hours before the opening point: nothing else, so absent."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("00:00:00")])
    assert result.check_in is None and findings(result) == [(ABSENT, None, None)]


def test_a_morning_excuse_does_not_move_the_opening_point():
    """Excused for the morning: the check-in is compared with 13:00, but the opening point
    stays at 05:30 ("an excuse does not move this point"). 10:50 counts and is on time;
    05:29 does not count, so 16:35 is the check-in, 215 minutes after 13:00, with no
    check-out after it."""
    morning = [ExcuseRef("morning")]
    early = evaluate_day(WINTER, DAY_MODE, scans=[at("10:50"), at("16:35")], excuses=morning)
    assert early.check_in == at("10:50") and findings(early) == []
    before = evaluate_day(WINTER, DAY_MODE, scans=[at("05:29"), at("16:35")], excuses=morning)
    assert before.check_in == at("16:35")
    assert findings(before) == [(LATE, 1, 215), (MISSING_CHECKOUT, 1, None)]


def test_a_morning_excuse_and_a_late_afternoon_arrival():
    """Late minutes count from the start of the first session not excused (13:00), not from
    07:30; the morning's excuse does not excuse the afternoon's lateness."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("13:20:40"), at("16:35")],
                          excuses=[ExcuseRef("morning")])
    assert findings(result, open_only=False) == [(LATE, 1, 20)]
    assert result.expected and result.present


def test_an_afternoon_excuse_with_a_late_morning_and_an_early_noon():
    """Excused for the afternoon: in at 07:40 (10 minutes late), out at 11:50, compared
    with 12:00 (10 minutes early: before 11:55)."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:40"), at("11:50")],
                          excuses=[ExcuseRef("afternoon")])
    assert findings(result) == [(EARLY_LEAVE, 0, 10), (LATE, 0, 10)]


def test_an_afternoon_excuse_and_no_check_out_is_the_morning_s_missing_checkout():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:25")], excuses=[ExcuseRef("afternoon")])
    assert findings(result) == [(MISSING_CHECKOUT, 0, None)]


def test_two_scans_a_minute_apart_at_the_door():
    """07:20:00 and 07:21:00 both count (60 s is not less than the window), but 07:21 is
    not 30 minutes after the check-in, so it is no check-out."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20:00"), at("07:21:00")])
    assert result.check_in == at("07:20:00") and result.check_out is None
    assert findings(result) == [(MISSING_CHECKOUT, 1, None)]


def test_a_guard_record_then_the_badge_fetched_from_the_car():
    """A guard records them at 07:33 without a badge (the check-in: on time, within the
    grace); they scan the badge at 07:40 and leave at 16:31: a no-badge finding only."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:40"), at("16:31")],
                          marks=[Mark(at("07:33"), WITHOUT_BADGE, GUARD)])
    assert result.check_in == at("07:33") and result.check_out == at("16:31")
    assert findings(result) == [(NO_BADGE, 0, None)]


def test_away_from_post_on_a_day_with_no_arrival_is_also_absent():
    """An inspector finding someone away is no "spot-check presence": with no scan and no
    no-badge record, the day is absent as well (RULES.md: absent is "no scan, no no-badge
    record and no spot-check presence")."""
    result = evaluate_day(WINTER, DAY_MODE, marks=[Mark(at("09:00"), AWAY, SPOT_CHECK)])
    assert findings(result) == [(ABSENT, None, None), (ABSENT_FROM_POST, 0, None)]



# --- session mode -------------------------------------------------------------------------

THREE = Timetable(date(2026, 11, 23), ((at("07:00"), at("11:00")), (at("13:00"), at("17:00")),
                                       (at("18:00"), at("20:00"))))


def test_three_sessions_split_in_the_middle_of_each_gap():
    """Boundaries 12:00 (11:00-13:00) and 17:30 (17:00-18:00). 17:29:59 is the second
    session's (its check-in, 269 minutes late); 17:30:00 the third's."""
    before = evaluate_day(THREE, SESSION_MODE,
                          scans=[at("06:55"), at("11:00"), at("17:29:59"), at("20:00")])
    assert findings(before) == [(LATE, 1, 269), (LATE, 2, 120), (MISSING_CHECKOUT, 1, None),
                                (MISSING_CHECKOUT, 2, None)]
    on = evaluate_day(THREE, SESSION_MODE,
                      scans=[at("06:55"), at("11:00"), at("17:30:00"), at("20:00")])
    assert findings(on) == [(MISSED_SESSION, 1, None)]


def test_session_mode_an_afternoon_only_day():
    """Nothing in the morning, in at 13:20 and never out: late 20, no check-out, and the
    morning is a missed session (the day has a check-in in another session)."""
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("13:20")])
    assert findings(result) == [(LATE, 1, 20), (MISSED_SESSION, 0, None),
                                (MISSING_CHECKOUT, 1, None)]
    assert result.present


def test_session_mode_morning_excused_afternoon_worked():
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("12:50"), at("16:35")],
                          excuses=[ExcuseRef("morning")])
    assert findings(result) == []
    assert findings(result, open_only=False) == [(MISSED_SESSION, 0, None)]


# --- seasonal timetables ------------------------------------------------------------------

def test_the_timetable_changes_on_the_periods_first_day(config):
    """Summer 16/4-15/10 starts at 07:00, winter 16/10-15/4 at 07:30: an arrival at 07:20
    is 20 minutes late on Thursday 15/10/2026 and on time on Friday 16/10/2026; 07:06:00 is
    on time on Wednesday 15/4/2026 and 6 minutes late on Thursday 16/4/2026."""
    calendar, schedule = WorkCalendar(config), config.schedule("default")
    policy = Policy.from_schedule(schedule)

    def late(day: date, hms: str) -> list:
        arrival = datetime.combine(day, datetime.strptime(hms, "%H:%M:%S").time(), TZ)
        result = evaluate_day(calendar.timetable(day, schedule), policy,
                              scans=[arrival, datetime.combine(day, at("17:00").timetz())])
        return [f.minutes for f in result.open_findings(LATE)]

    assert late(date(2026, 10, 15), "07:20:00") == [20]
    assert late(date(2026, 10, 16), "07:20:00") == []
    assert late(date(2026, 4, 15), "07:06:00") == []
    assert late(date(2026, 4, 16), "07:06:00") == [6]


def test_the_opening_point_follows_the_day_s_timetable(config):
    """Summer opens at 05:00, winter at 05:30: a scan at 05:10 counts on 15/10/2026 but
    not on 16/10/2026."""
    calendar, schedule = WorkCalendar(config), config.schedule("default")
    policy = Policy.from_schedule(schedule)
    for day, counts in ((date(2026, 10, 15), True), (date(2026, 10, 16), False)):
        early = datetime.combine(day, at("05:10").timetz())
        result = evaluate_day(calendar.timetable(day, schedule), policy, scans=[early])
        assert (result.check_in == early) is counts, day


# --- unit figures -------------------------------------------------------------------------

def test_rates_are_null_when_the_only_person_seen_has_no_check_in():
    """An inspector found them at their post with their badge, but they never scanned:
    expected, not absent, not present; with nobody present both rates are null."""
    seen = evaluate_day(WINTER, DAY_MODE, marks=[Mark(at("09:30"), PRESENT, SPOT_CHECK)])
    figures = unit_figures([seen, evaluate_day(WINTER, DAY_MODE, excuses=[ExcuseRef("full")])])
    assert (figures.expected, figures.present) == (1, 0)
    assert figures.badge_compliance is None and figures.punctuality is None


def test_a_half_day_excused_person_is_expected_and_counts_in_the_rates():
    """Morning excused, in at 13:20 (late) without a badge (a guard's record at 13:20):
    expected and present; both rates 0/1 beside nobody else."""
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("16:35")],
                          marks=[Mark(at("13:20"), WITHOUT_BADGE, GUARD)],
                          excuses=[ExcuseRef("morning")])
    figures = unit_figures([result])
    assert (figures.expected, figures.present) == (1, 1)
    assert figures.badge_compliance == 0 and figures.punctuality == 0


# --- absent from post: only during working hours ------------------------------------------

def test_away_from_post_counts_only_during_working_hours():
    """RULES.md: absent_from_post is "a spot check found them away from their post during
    working hours". An inspector passing at 12:15 (the lunch break, 12:00-13:00), at 07:00
    (before 07:30) or at 16:45 (after 16:30) finds no violation; at 07:30:00, 11:59:59 and
    16:29:59 they are inside a session and it is one."""
    scans = [at("07:20"), at("16:35")]
    for hms, counts in (("07:00", False), ("07:30:00", True), ("11:59:59", True),
                        ("12:15", False), ("13:00", True), ("16:29:59", True),
                        ("16:30:00", False), ("16:45", False)):
        for policy in (DAY_MODE, SESSION_MODE):
            result = evaluate_day(WINTER, policy, scans=scans,
                                  marks=[Mark(at(hms), AWAY, SPOT_CHECK)])
            assert bool(result.open_findings(ABSENT_FROM_POST)) is counts, (hms, policy)
    # The visit outside working hours still proves nothing about presence: no scans, away
    # at 12:15, is absent and nothing else.
    result = evaluate_day(WINTER, DAY_MODE, marks=[Mark(at("12:15"), AWAY, SPOT_CHECK)])
    assert findings(result) == [(ABSENT, None, None)]


# --- a guard's record before the opening point --------------------------------------------

def test_a_guard_record_before_the_opening_point_is_an_arrival_in_both_modes():
    """docs/rules.md: the opening point filters badge scans only, a guard's no-badge record
    counts whenever it was made. At 05:00 (opening 05:30) it is the check-in in day mode,
    and in session mode the first session's check-in too (it was not: the 11:59 scan became
    a check-in 269 minutes late with no check-out)."""
    marks = [Mark(at("05:00"), WITHOUT_BADGE, GUARD)]
    day = evaluate_day(WINTER, DAY_MODE, scans=[at("11:59"), at("13:00"), at("16:35")],
                       marks=marks)
    session = evaluate_day(WINTER, SESSION_MODE, scans=[at("11:59"), at("13:00"), at("16:35")],
                           marks=marks)
    for result in (day, session):
        assert result.check_in == at("05:00") and result.check_out == at("16:35")
        assert findings(result) == [(NO_BADGE, 0, None)]
