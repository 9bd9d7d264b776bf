"""The rules of RULES.md at each boundary it names, and the invariants it implies."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from attendance.calendar import Timetable
from attendance.rules import (
    ABSENT, AWAY, EARLY_LEAVE, GUARD, LATE, MISSED_SESSION, MISSING_CHECKOUT, NO_BADGE, PRESENT,
    SPOT_CHECK, WITHOUT_BADGE, ExcuseRef, Mark, Policy, evaluate_day, unit_figures,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 11, 23)
DAY_MODE = Policy()
SESSION_MODE = Policy(checkin_mode="session")


def at(hms: str) -> datetime:
    parts = [int(p) for p in hms.split(":")] + [0]
    return datetime(DAY.year, DAY.month, DAY.day, parts[0], parts[1], parts[2], tzinfo=TZ)


WINTER = Timetable(DAY, ((at("07:30"), at("12:00")), (at("13:00"), at("16:30"))))


def kinds(result, *, open_only=True):
    return sorted(f.kind for f in (result.open_findings() if open_only else result.findings))


def only(result, kind):
    found = result.open_findings(kind)
    assert len(found) == 1, result.findings
    return found[0]


# --- late, to the second ------------------------------------------------------------------

def test_on_time_at_the_end_of_the_grace():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:35:00"), at("16:30")])
    assert kinds(result) == []
    assert result.check_in == at("07:35:00")


def test_one_second_after_the_grace_is_five_minutes_late():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:35:01"), at("16:30")])
    late = only(result, LATE)
    assert late.minutes == 5 and late.at == at("07:35:01")


def test_late_minutes_count_from_the_session_start_rounded_down():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:42:59"), at("16:31")])
    assert only(result, LATE).minutes == 12


def test_arrival_before_the_start_is_not_late():
    assert kinds(evaluate_day(WINTER, DAY_MODE, scans=[at("06:59"), at("16:45")])) == []


def test_zero_grace_makes_one_second_late():
    policy = Policy(late_grace=timedelta(0))
    result = evaluate_day(WINTER, policy, scans=[at("07:30:01"), at("16:30")])
    assert only(result, LATE).minutes == 0


# --- opening point and repeats ------------------------------------------------------------

def test_scan_before_the_opening_point_does_not_count():
    # Opening: 07:30 - 120 min = 05:30.
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("05:29:59"), at("07:50"), at("16:30")])
    assert result.check_in == at("07:50")
    assert only(result, LATE).minutes == 20


def test_scan_at_the_opening_point_counts():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("05:30:00"), at("16:30")])
    assert result.check_in == at("05:30:00") and kinds(result) == []


def test_only_scans_before_opening_is_absent():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("04:00")])
    assert kinds(result) == [ABSENT]


def test_repeat_within_the_window_is_ignored_but_not_at_the_window():
    policy = Policy(min_presence=timedelta(seconds=30))
    # 07:20:59 is 59 s after 07:20:00: a repeat. 07:21:00 is 60 s after: it counts.
    repeat = evaluate_day(WINTER, policy, scans=[at("07:20:00"), at("07:20:59")])
    assert kinds(repeat) == [MISSING_CHECKOUT]
    counted = evaluate_day(WINTER, policy, scans=[at("07:20:00"), at("07:21:00")])
    assert counted.check_out == at("07:21:00")


def test_repeat_window_measures_from_the_last_counted_scan():
    policy = Policy(min_presence=timedelta(0))
    scans = [at("07:00:00"), at("07:00:40"), at("07:01:10")]
    result = evaluate_day(WINTER, policy, scans=scans)
    # 07:00:40 is ignored, so 07:01:10 is 70 s after the last counted scan and counts.
    assert result.check_out == at("07:01:10")


# --- check-out and early leave ------------------------------------------------------------

def test_checkout_needs_min_presence_after_checkin():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("07:49:59")])
    assert kinds(result) == [MISSING_CHECKOUT]
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("07:50:00")])
    assert result.check_out == at("07:50:00")
    assert only(result, EARLY_LEAVE).minutes == 520  # 07:50 to 16:30


def test_early_leave_grace_to_the_second():
    assert kinds(evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("16:25:00")])) == []
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("16:24:59")])
    early = only(result, EARLY_LEAVE)
    assert early.minutes == 5 and early.at == at("16:24:59")


def test_the_last_scan_is_the_checkout():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("11:58"), at("13:02"),
                                                   at("16:40")])
    assert result.check_out == at("16:40") and kinds(result) == []


def test_no_badge_record_is_an_arrival_but_never_a_checkout():
    marks = [Mark(at("07:25"), WITHOUT_BADGE, GUARD), Mark(at("16:40"), WITHOUT_BADGE, GUARD)]
    result = evaluate_day(WINTER, DAY_MODE, marks=marks)
    assert result.check_in == at("07:25")
    assert kinds(result) == [MISSING_CHECKOUT, NO_BADGE, NO_BADGE]
    assert result.present


def test_no_badge_record_can_be_late():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("16:40")],
                          marks=[Mark(at("08:00"), WITHOUT_BADGE, GUARD)])
    assert only(result, LATE).minutes == 30
    assert only(result, NO_BADGE).source == GUARD


# --- absence and spot checks --------------------------------------------------------------

def test_nothing_on_a_working_day_is_absent():
    result = evaluate_day(WINTER, DAY_MODE)
    assert kinds(result) == [ABSENT] and result.expected and not result.present


def test_nothing_on_a_day_off_is_nothing():
    result = evaluate_day(WINTER, DAY_MODE, working=False, scans=[at("08:00")])
    assert result.findings == () and not result.expected


def test_badge_scan_does_not_cancel_a_spot_check_without_badge():
    marks = [Mark(at("09:30"), WITHOUT_BADGE, SPOT_CHECK)]
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("16:35")], marks=marks)
    finding = only(result, NO_BADGE)
    assert finding.source == SPOT_CHECK and finding.at == at("09:30")


def test_spot_check_presence_with_badge_prevents_absent_but_is_no_checkin():
    result = evaluate_day(WINTER, DAY_MODE, marks=[Mark(at("09:30"), PRESENT, SPOT_CHECK)])
    assert kinds(result) == [] and result.check_in is None and not result.present


def test_absent_from_post():
    marks = [Mark(at("14:10"), AWAY, SPOT_CHECK)]
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("16:35")], marks=marks)
    assert kinds(result) == ["absent_from_post"]


# --- excuses ------------------------------------------------------------------------------

def test_whole_day_excuse_clears_everything_but_keeps_it_on_record():
    excuse = ExcuseRef("full", "leave", approved_by="truongphong", reason="ốm")
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("09:00")], excuses=[excuse])
    assert kinds(result) == []
    assert kinds(result, open_only=False) == [LATE, MISSING_CHECKOUT]
    assert all(f.excused_by == excuse for f in result.findings)
    assert not result.expected


def test_whole_day_excuse_clears_absence():
    result = evaluate_day(WINTER, DAY_MODE, excuses=[ExcuseRef("full")])
    assert kinds(result) == [] and kinds(result, open_only=False) == [ABSENT]


def test_morning_excuse_moves_the_checkin_comparison_to_the_afternoon():
    morning = [ExcuseRef("morning")]
    on_time = evaluate_day(WINTER, DAY_MODE, scans=[at("13:05:00"), at("16:30")], excuses=morning)
    assert kinds(on_time) == [] and on_time.expected and on_time.present
    late = evaluate_day(WINTER, DAY_MODE, scans=[at("13:05:01"), at("16:30")], excuses=morning)
    assert only(late, LATE).minutes == 5


def test_afternoon_excuse_moves_the_checkout_comparison_to_the_morning():
    afternoon = [ExcuseRef("afternoon")]
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:25"), at("11:55:00")], excuses=afternoon)
    assert kinds(result) == []
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:25"), at("11:54:59")], excuses=afternoon)
    assert only(result, EARLY_LEAVE).minutes == 5


def test_half_day_excuse_does_not_cover_an_absence():
    result = evaluate_day(WINTER, DAY_MODE, excuses=[ExcuseRef("morning")])
    assert kinds(result) == [ABSENT] and result.expected


def test_morning_and_afternoon_excuses_make_a_whole_day():
    result = evaluate_day(WINTER, DAY_MODE, excuses=[ExcuseRef("morning"), ExcuseRef("afternoon")])
    assert result.excused is not None and kinds(result) == []


def test_morning_and_afternoon_excuses_each_excuse_their_own_session():
    """QA's 13/11: a guard's no-badge record at 07:20 and no check-out, the morning excused
    (lý do khác, "<i>ok</i>") and the afternoon (nghỉ phép): the missing check-out of the
    afternoon names the afternoon's excuse, not the morning's; the day is excused by both."""
    morning = ExcuseRef("morning", "other", "truongphong", "<i>ok</i>", 90)
    afternoon = ExcuseRef("afternoon", "leave", "truongphong", "việc gia đình", 93)
    marks = [Mark(at("07:20"), WITHOUT_BADGE, GUARD)]
    expected = {
        # day mode: the record is the check-in; the day's check-out is missing
        DAY_MODE: ([], [(MISSING_CHECKOUT, 1, 93), (NO_BADGE, 0, 90)]),
        # session mode: each session's check-in (the record, a scan at 13:00), no check-out
        SESSION_MODE: ([at("13:00")], [(MISSING_CHECKOUT, 0, 90), (MISSING_CHECKOUT, 1, 93),
                                       (NO_BADGE, 0, 90)]),
    }
    for policy, (scans, findings) in expected.items():
        for excuses in ([morning, afternoon], [afternoon, morning]):
            result = evaluate_day(WINTER, policy, scans=scans, marks=marks, excuses=excuses)
            assert kinds(result) == [] and not result.expected
            assert sorted((f.kind, f.session, f.excused_by.id)
                          for f in result.findings) == findings, policy
            assert result.excuses == (morning, afternoon) == result.excused
    # An absence on such a day (no session of its own) names both, the morning's first.
    absent = evaluate_day(WINTER, DAY_MODE, excuses=[afternoon, morning])
    assert [(f.kind, f.excuses, f.excused_by) for f in absent.findings] == [
        (ABSENT, (morning, afternoon), morning)]


def test_a_whole_day_excuse_is_the_day_s_only_excuse_beside_a_half_day_one():
    full = ExcuseRef("full", "business_trip", id=1)
    morning = ExcuseRef("morning", "leave", id=2)
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("09:00")], excuses=[morning, full])
    assert result.excuses == (full,)
    assert {f.excused_by.id for f in result.findings} == {1}


def test_morning_excuse_clears_a_no_badge_record_of_the_morning_only():
    marks = [Mark(at("09:00"), WITHOUT_BADGE, GUARD), Mark(at("14:00"), WITHOUT_BADGE, SPOT_CHECK)]
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("12:50"), at("16:35")], marks=marks,
                          excuses=[ExcuseRef("morning")])
    assert [f.source for f in result.open_findings(NO_BADGE)] == [SPOT_CHECK]


# --- session mode -------------------------------------------------------------------------

def test_session_mode_each_session_has_its_own_checkin_and_checkout():
    scans = [at("07:20"), at("12:05"), at("13:10"), at("16:35")]
    result = evaluate_day(WINTER, SESSION_MODE, scans=scans)
    late = only(result, LATE)
    assert (late.session, late.minutes) == (1, 10)
    assert kinds(result) == [LATE]


def test_session_boundary_is_the_middle_of_the_gap():
    # Gap 12:00-13:00, boundary 12:30. A scan at 12:29:59 is the morning's check-out;
    # at 12:30:00 it belongs to the afternoon and is its check-in.
    before = evaluate_day(WINTER, SESSION_MODE,
                          scans=[at("07:20"), at("12:29:59"), at("13:00"), at("16:35")])
    assert kinds(before) == []
    assert before.check_out == at("16:35")
    after = evaluate_day(WINTER, SESSION_MODE, scans=[at("07:20"), at("12:30:00"), at("16:35")])
    assert kinds(after) == [MISSING_CHECKOUT]
    assert only(after, MISSING_CHECKOUT).session == 0


def test_session_mode_missed_session():
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("07:20"), at("11:59")])
    missed = only(result, MISSED_SESSION)
    assert missed.session == 1
    assert kinds(result) == [MISSED_SESSION]


def test_session_mode_early_leave_in_the_morning():
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("07:20"), at("11:30"), at("12:55"),
                                                       at("16:30")])
    early = only(result, EARLY_LEAVE)
    assert (early.session, early.minutes) == (0, 30)


def test_session_mode_nothing_at_all_is_absent_not_missed():
    assert kinds(evaluate_day(WINTER, SESSION_MODE)) == [ABSENT]


def test_session_mode_afternoon_excuse_clears_its_missed_session():
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("07:20"), at("11:59")],
                          excuses=[ExcuseRef("afternoon")])
    assert kinds(result) == []
    assert kinds(result, open_only=False) == [MISSED_SESSION]


def test_session_mode_last_session_runs_to_midnight():
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("07:20"), at("11:59"), at("13:00"),
                                                       at("23:59:59")])
    assert kinds(result) == [] and result.check_out == at("23:59:59")


# --- unit figures -------------------------------------------------------------------------

def test_unit_figures():
    results = [
        evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("16:35")]),            # fine
        evaluate_day(WINTER, DAY_MODE, scans=[at("07:50"), at("16:35")]),            # late
        evaluate_day(WINTER, DAY_MODE, scans=[at("16:35")],
                     marks=[Mark(at("07:10"), WITHOUT_BADGE, GUARD)]),              # no badge
        evaluate_day(WINTER, DAY_MODE),                                              # absent
        evaluate_day(WINTER, DAY_MODE, excuses=[ExcuseRef("full")]),                 # excused
        evaluate_day(WINTER, DAY_MODE, working=False),                               # day off
    ]
    figures = unit_figures(results)
    assert (figures.expected, figures.present) == (4, 3)
    assert figures.badge_compliance == 2 / 3
    assert figures.punctuality == 2 / 3


def test_rates_are_null_without_anyone_present():
    figures = unit_figures([evaluate_day(WINTER, DAY_MODE)])
    assert figures.badge_compliance is None and figures.punctuality is None


# --- properties ---------------------------------------------------------------------------

instants = st.integers(min_value=4 * 3600, max_value=24 * 3600 - 1).map(
    lambda s: datetime(DAY.year, DAY.month, DAY.day, tzinfo=TZ) + timedelta(seconds=s))
marks_strategy = st.builds(Mark, instants, st.sampled_from([WITHOUT_BADGE, PRESENT, AWAY]),
                           st.sampled_from([GUARD, SPOT_CHECK]))
excuse_strategy = st.lists(st.builds(ExcuseRef, st.sampled_from(["full", "morning", "afternoon"])),
                           max_size=2)
policies = st.sampled_from([DAY_MODE, SESSION_MODE])


@settings(max_examples=300, deadline=None)
@given(st.lists(instants, max_size=8), st.lists(marks_strategy, max_size=3), policies,
       excuse_strategy, st.randoms())
def test_findings_do_not_depend_on_arrival_order(scans, marks, policy, excuses, rnd):
    first = evaluate_day(WINTER, policy, scans=scans, marks=marks, excuses=excuses)
    rnd.shuffle(scans)
    rnd.shuffle(marks)
    assert evaluate_day(WINTER, policy, scans=scans, marks=marks, excuses=excuses) == first


@settings(max_examples=300, deadline=None)
@given(st.lists(instants, max_size=8), st.lists(marks_strategy, max_size=3), policies)
def test_an_excused_day_has_no_open_finding(scans, marks, policy):
    result = evaluate_day(WINTER, policy, scans=scans, marks=marks, excuses=[ExcuseRef("full")])
    assert result.open_findings() == [] and not result.expected


@settings(max_examples=300, deadline=None)
@given(st.lists(instants, max_size=8), st.lists(marks_strategy, max_size=3), policies,
       excuse_strategy)
def test_consistency_of_a_day(scans, marks, policy, excuses):
    result = evaluate_day(WINTER, policy, scans=scans, marks=marks, excuses=excuses)
    found = kinds(result, open_only=False)
    # absent excludes every arrival finding, and a present employee is never absent
    if ABSENT in found:
        assert result.check_in is None and not {LATE, EARLY_LEAVE, MISSING_CHECKOUT} & set(found)
    if result.present:
        assert not result.has_open(ABSENT)
    # minutes are never negative; a check-out is never before the check-in
    assert all(f.minutes is None or f.minutes >= 0 for f in result.findings)
    if result.check_out is not None:
        assert result.check_out >= result.check_in + policy.min_presence
    # every no-badge mark gives exactly one no_badge finding
    assert found.count(NO_BADGE) == sum(m.kind == WITHOUT_BADGE for m in marks)


after_opening = st.integers(min_value=5 * 3600 + 1800, max_value=23 * 3600).map(
    lambda s: datetime(DAY.year, DAY.month, DAY.day, tzinfo=TZ) + timedelta(seconds=s))


@settings(max_examples=200, deadline=None)
@given(st.lists(after_opening, min_size=1, max_size=8), policies)
def test_a_repeat_scan_changes_nothing(scans, policy):
    first = evaluate_day(WINTER, policy, scans=scans)
    repeated = scans + [s + timedelta(seconds=30) for s in scans]
    # a repeat of every scan 30 s later is inside the window unless another scan counted
    # in between; the check-in never moves
    assert evaluate_day(WINTER, policy, scans=repeated).check_in == first.check_in


# --- a day still in progress --------------------------------------------------------------

def test_in_progress_nobody_is_absent_before_the_day_is_over():
    result = evaluate_day(WINTER, DAY_MODE, as_of=at("10:00"))
    assert kinds(result) == [] and result.not_arrived and result.expected


def test_in_progress_no_checkout_finding_before_the_session_ends():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:50")], as_of=at("10:00"))
    assert kinds(result) == [LATE] and not result.not_arrived


def test_in_progress_ignores_evidence_after_the_instant():
    result = evaluate_day(WINTER, DAY_MODE, scans=[at("07:20"), at("10:30")], as_of=at("10:00"))
    assert result.check_out is None and kinds(result) == []


def test_in_progress_session_mode_judges_only_sessions_that_are_over():
    # At 14:00 the morning is over (missing check-out) and the afternoon is not.
    result = evaluate_day(WINTER, SESSION_MODE, scans=[at("07:20"), at("13:20")],
                          as_of=at("14:00"))
    assert [(f.kind, f.session) for f in result.open_findings()] == [
        (MISSING_CHECKOUT, 0), (LATE, 1)]


def test_as_of_after_the_last_session_is_the_whole_day():
    scans = [at("07:20")]
    assert evaluate_day(WINTER, DAY_MODE, scans=scans, as_of=at("16:30")) == \
        evaluate_day(WINTER, DAY_MODE, scans=scans)
