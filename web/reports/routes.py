"""Views of the reports blueprint: the daily report (with its exports, issued versions and
evidence photos) and the monthly report with the emulation ranking of units."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from flask import abort, current_app, render_template, url_for
from sqlalchemy import select

from attendance import exports
from attendance.issuing import DETAIL_LABELS, FIGURE_LABELS, RATES
from attendance.excuses import APPROVED, KIND_LABELS, PART_LABELS
from attendance.models import Employee, Excuse, IssuedReport, Scan, Unit
from attendance.reports import (
    DailyReport, MonthlyReport, Offender, compile_daily, compile_monthly, daily_json,
    in_progress_as_of, local_iso, offenders_of,
)
from web.db import domain_config, get_db, now
from web.reports import REPORT_ROLES, bp
from web.reports.common import (
    day_arg, download, issuer, month_arg, pdf_refused, request_tree, today, unit_arg,
    unit_picker, yesterday,
)
from web.security import current_account, roles_required, visible_units

SOURCES = {"guard": "Bảo vệ ghi nhận", "spot_check": "Kiểm tra đột xuất"}
DAILY_FORMATS = ("xlsx", "pdf", "csv")
MONTHLY_FORMATS = ("xlsx", "pdf", "csv")
ISSUED_KINDS = {"morning": "Báo cáo đầu giờ", "daily": "Báo cáo ngày", "monthly": "Báo cáo tháng"}
LIST_LABELS = {
    "late": "Đi muộn", "early_leave": "Về sớm", "missing_checkout": "Không quét thẻ khi về",
    "no_badge": "Không đeo thẻ", "absent_from_post": "Vắng mặt tại vị trí làm việc",
    "absent": "Vắng không lý do", "missed_session": "Vắng buổi",
    "excused": "Nghỉ có lý do (cả ngày)", "not_arrived": "Chưa đến",
    "employees": "Số liệu cá nhân",
}
CHANGE_LABELS = {"added": "thêm", "removed": "bớt", "changed": "thay đổi"}
# What the issued versions' section of a report page labels its lines with.
ISSUED_LABELS = {"kinds": ISSUED_KINDS, "list_labels": LIST_LABELS,
                 "change_labels": CHANGE_LABELS, "figure_labels": FIGURE_LABELS, "rates": RATES,
                 "detail_labels": DETAIL_LABELS}


@bp.route("/daily")
@roles_required(*REPORT_ROLES)
def daily():
    day = day_arg()
    unit = unit_arg()
    compiled = _daily_report(day, unit)
    for unit_day in compiled.units:  # the page's lists by name, as its exports (not the JSON)
        unit_day.employees = exports.by_name(unit_day)
    report = daily_json(compiled)
    half_days = _half_day_excuses(day)
    for unit_json, unit_day in zip(report["units"], compiled.units, strict=True):
        # Seen at work (a spot check, a guard's no-badge record) with no check-in: in none
        # of the report's lists (RULES.md: present means a check-in); the page names them.
        unit_json["seen_no_check_in"] = [
            e.employee.code for e in unit_day.employees
            if e.result.expected and e.result.seen and e.result.check_in is None]
        # Excused for half of the day: in no list either (``excused`` is for the whole day),
        # yet the findings of that half are gone; the page says why.
        unit_json["half_day_excused"] = [
            {"employee": e.employee.code, "excuse": excuse} for e in unit_day.employees
            if e.result.expected for excuse in half_days.get(e.employee.id, ())]
    codes = {e.employee.code for u in compiled.units for e in u.employees}
    names = {e.employee.code: e.employee.full_name for u in compiled.units for e in u.employees}
    return render_template(
        "reports/daily.html", report=report, day=day, unit=unit, picker=unit_picker(unit),
        names=names, sources=SOURCES, previous_day=day - timedelta(days=1),
        part_labels=PART_LABELS, kind_labels=KIND_LABELS,
        next_day=day + timedelta(days=1), formats=DAILY_FORMATS,
        photos=_evidence_photos(day, codes),
        issued=_issued_versions(day.isoformat(), ("morning", "daily"), unit), **ISSUED_LABELS,
    )


def _half_day_excuses(day) -> dict[int, list[Excuse]]:
    """The approved morning and afternoon excuses of ``day``, by employee id."""
    found: dict[int, list[Excuse]] = {}
    for excuse in get_db().scalars(
            select(Excuse).where(Excuse.status == APPROVED, Excuse.part != "full",
                                 Excuse.start_date <= day, Excuse.end_date >= day)
            .order_by(Excuse.part.desc(), Excuse.id)):  # the morning's first
        found.setdefault(excuse.employee_id, []).append(excuse)
    return found


@bp.route("/daily/export/<fmt>")
@roles_required(*REPORT_ROLES)
def daily_export(fmt: str):
    if fmt not in DAILY_FORMATS:
        abort(404)
    day = day_arg()
    unit = unit_arg()
    compiled = _daily_report(day, unit)
    if fmt == "csv":
        data = exports.daily_csv(compiled)
    elif fmt == "xlsx":
        data = exports.daily_xlsx(compiled)
    else:
        unit_name, head = issuer(unit)
        try:
            data = exports.daily_pdf(compiled, domain_config(), unit_name=unit_name,
                                     issued_on=today(), signer_name=head,
                                     max_rows=exports.PDF_MAX_ROWS)
        except exports.TooManyRows:
            return pdf_refused("reports.daily", date=day.isoformat(),
                               unit=unit.code if unit else None)
    return download(data, fmt, f"bao-cao-ngay-{day.isoformat()}-{unit.code if unit else 'tat-ca'}")


@bp.route("/issued/<int:report_id>")
@roles_required(*REPORT_ROLES)
def issued(report_id: int):
    """One issued version as it was issued (its canonical JSON), for the user's units."""
    report = get_db().get(IssuedReport, report_id)
    visible = visible_units()
    if report is None or (visible is not None and report.unit_id not in visible):
        abort(404)
    unit = report.unit.code if report.unit else "tat-ca"
    return download(report.content.encode("utf-8"), "json",
                    f"{report.kind}-{report.period}-{unit}-v{report.version}")


@bp.route("/monthly")
@roles_required(*REPORT_ROLES)
def monthly():
    first = month_arg()
    unit = unit_arg()
    report, offenders = _monthly_report(first, unit)
    this_month = today().replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    people = []
    if unit is not None:
        people = [(u, p) for u in sorted(report.units, key=lambda u: u.unit.code)
                  for p in u.employees]
    names = {p.employee.code: p.employee.full_name for u in report.units for p in u.employees}
    return render_template(
        "reports/monthly.html", report=report, first=first, unit=unit, picker=unit_picker(unit),
        offenders=offenders, people=people, formats=MONTHLY_FORMATS, names=names,
        issued=_issued_versions(first.strftime("%Y-%m"), ("monthly",), unit), **ISSUED_LABELS,
        thresholds=domain_config().reports, previous_month=previous,
        next_month=following if following <= this_month else None,
        in_progress=first == this_month,
    )


@bp.route("/monthly/export/<fmt>")
@roles_required(*REPORT_ROLES)
def monthly_export(fmt: str):
    if fmt not in MONTHLY_FORMATS:
        abort(404)
    first = month_arg()
    unit = unit_arg()
    report, offenders = _monthly_report(first, unit)
    if fmt == "csv":
        data = exports.monthly_csv(report)
    elif fmt == "xlsx":
        data = exports.monthly_xlsx(report, offenders)
    else:
        unit_name, head = issuer(unit)
        try:
            data = exports.monthly_pdf(report, domain_config(), offenders, unit_name=unit_name,
                                       issued_on=today(), signer_name=head,
                                       max_rows=exports.PDF_MAX_ROWS)
        except exports.TooManyRows:
            return pdf_refused("reports.monthly", month=f"{first:%Y-%m}",
                               unit=unit.code if unit else None)
    return download(data, fmt, f"bao-cao-thang-{first:%Y-%m}-{unit.code if unit else 'tat-ca'}")


def _daily_report(day, unit: Unit | None) -> DailyReport:
    """The day's report over the user's units (up to now while the day is in progress)."""
    config = domain_config()
    return compile_daily(get_db(), config, day, unit.code if unit else None,
                         unit_ids=visible_units(), as_of=in_progress_as_of(config, day, now()),
                         tree=request_tree())


def _monthly_report(first, unit: Unit | None) -> tuple[MonthlyReport, list[Offender]]:
    """The month over the user's units, up to yesterday, and its repeat offenders."""
    config = domain_config()
    report = compile_monthly(get_db(), config, first, unit.code if unit else None,
                             unit_ids=visible_units(), through=yesterday())
    return report, offenders_of(report, config)


def _evidence_photos(day, codes: set[str]) -> dict[tuple[str, str], str]:
    """(employee code, local ISO time) → the URL of the photo of the scan at that time.

    Empty when the photo route is not installed; only scans with a stored photo appear.
    """
    if not codes or "entrance.scan_photo" not in current_app.view_functions:
        return {}
    tz = domain_config().tz
    start = datetime.combine(day, time(), tz)
    rows = get_db().execute(
        select(Scan.id, Employee.code, Scan.scanned_at)
        .join(Employee, Employee.id == Scan.employee_id)
        .where(Scan.counted(), Scan.evidence_path.is_not(None),
               Scan.scanned_at >= start, Scan.scanned_at < start + timedelta(days=1),
               Employee.code.in_(sorted(codes)))
    ).all()
    return {(r.code, local_iso(r.scanned_at, tz)): url_for("entrance.scan_photo", scan_id=r.id)
            for r in rows}


def _issued_versions(period: str, kinds: tuple[str, ...], unit: Unit | None) -> list[dict]:
    """The issued versions of the period's reports of ``kinds`` for the unit shown (or the
    user's top units), each with what changed from the version before."""
    db = get_db()
    if unit is not None:
        unit_ids = [unit.id]
    else:
        account = current_account()
        visible = visible_units()
        if account.role == "unit_head" and account.unit_id is not None:
            unit_ids = [account.unit_id]
        else:
            unit_ids = [u.id for u in db.scalars(select(Unit).where(Unit.parent_id.is_(None)))
                        if visible is None or u.id in visible]
    if not unit_ids:
        return []
    rows = db.scalars(
        select(IssuedReport)
        .where(IssuedReport.unit_id.in_(unit_ids), IssuedReport.period == period,
               IssuedReport.kind.in_(kinds))
        .order_by(IssuedReport.unit_id, IssuedReport.kind, IssuedReport.version)
    ).all()
    out = []
    for row in rows:
        changes = json.loads(row.changes) if row.changes else {}
        out.append({"report": row, "changes": _change_lines(changes),
                    "figures": _figure_lines(changes)})
    return out


def _change_lines(changes: dict) -> list[tuple[str, str, str, list[tuple[str, dict]]]]:
    """(unit code, list name, change, [(employee code, details that changed)]) of a
    version's ``changes``."""
    lines = []
    for code, change in changes.get("units", {}).items():
        for name, moves in change.get("lists", {}).items():
            details = moves.get("details", {})
            for move in CHANGE_LABELS:
                if moves.get(move):
                    lines.append((code, name, move,
                                  [(person, details.get(person, {})) for person in moves[move]]))
    return lines


def _figure_lines(changes: dict) -> list[tuple[str, str, object, object]]:
    """(unit code, figure, before, after) of a version's ``changes``."""
    return [(code, name, before, after)
            for code, change in changes.get("units", {}).items()
            for name, (before, after) in change.get("figures", {}).items()]
