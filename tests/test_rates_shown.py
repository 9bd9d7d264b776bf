"""A rate below the directive's 100% target is never shown or issued as 100% (rules audit).

A month of a large unit is thousands of present days: 2,199 of 2,200 with the badge is
99.95%, which one decimal rounds to "100,0%", and 29,999 of 30,000 rounds to 1.0 at four
decimals; the unit missed the target and is ranked below those that met it.
"""

from __future__ import annotations

from datetime import date

from attendance import exports, mail
from attendance.evaluation import UnitRow
from attendance.reports import MonthlyReport, UnitMonth, monthly_json, shown_rate


def unit(code: str, present: int, no_badge: int) -> UnitMonth:
    return UnitMonth(UnitRow(0, code, code, None, None), [], present, present, 0, no_badge, 0,
                     rank=None)


def test_shown_rate_never_rounds_a_missed_target_up_to_one():
    assert shown_rate(29_999 / 30_000, 4) == 0.9999
    assert shown_rate(2_199 / 2_200, 3) == 0.999
    assert shown_rate(1.0, 4) == 1.0 and shown_rate(None) is None
    assert shown_rate(37 / 38, 4) == round(37 / 38, 4)  # elsewhere: ordinary rounding
    assert shown_rate(1 / 30_000, 4) == 0.0


def test_exports_and_mails_show_99_9_not_100():
    assert exports._percent(2_199 / 2_200) == "99,9%"
    assert exports._percent(1.0) == "100,0%" and exports._percent(37 / 38) == "97,4%"
    assert exports._csv_cell(2_199 / 2_200) == "99.9%"
    assert mail.percent(2_199 / 2_200) == "99,9%" and mail.percent(None) == "—"


def test_monthly_json_keeps_a_missed_target_below_one():
    big, perfect = unit("SGD", 30_000, 1), unit("SNV", 400, 0)
    report = MonthlyReport(date(2026, 11, 1), date(2026, 11, 30), [perfect, big],
                           "Asia/Ho_Chi_Minh")
    data = monthly_json(report)
    rates = {u["unit"]: u["badge_compliance"] for u in data["units"]}
    assert rates == {"SNV": 1.0, "SGD": 0.9999}
    assert data["totals"]["badge_compliance"] == 0.9999
