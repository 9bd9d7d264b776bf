"""Reports as files a user opens: CSV, XLSX and PDF, every word in Vietnamese.

Each writer takes the compiled report from ``attendance.reports`` and returns bytes; the
morning report (a snapshot at its cut-off) is written from its issued content instead.
- CSV is UTF-8 with a byte-order mark, so that Excel shows the diacritics; one table per
  file (the per-employee table of a day or a month, the violation log, the offenders).
- XLSX has a sheet per list, the header in row 1 (bold, frozen, with a filter), dates as
  dd/mm/yyyy, times as hh:mm:ss, rates as percentages.
- PDF is the official report in the Decree 30 frame of ``attendance.pdf``.
Text that a user could have typed (names, positions, unit names, notes, codes) never runs as a
formula: in CSV, ``neutralize`` prefixes a name such as ``=cmd|' /C calc'!A0`` with ``'``; in
XLSX, such text is a cell typed as a string, shown exactly as it is.
"""

from __future__ import annotations

import csv
import io
from itertools import chain, islice
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from attendance import pdf
from attendance.audit import action_label
from attendance.calendar import WorkCalendar
from attendance.config import Config
from attendance.models import AuditEntry
from attendance.names import name_sort_key
from attendance.reports import (
    ABSENT, ABSENT_FROM_POST, EARLY_LEAVE, EXCUSE_KIND_LABELS, EXCUSE_PART_LABELS, EXCUSED_LABEL,
    KIND_LABELS, LATE, MISSED_SESSION, MISSING_CHECKOUT, NO_BADGE, SOURCE_LABELS, STATUS_LABELS,
    WEEKDAY_NAMES, DailyReport, EmployeeDay, MonthlyReport, Offender, Violation,
    finding_source, format_day, month_bounds, percent_text, session_label,
)
from attendance.rules import ExcuseRef, Finding

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT, TIME_FORMAT, PERCENT_FORMAT = "dd/mm/yyyy", "hh:mm:ss", "0.0%"
# Table rows one PDF asked from the web holds (about 70 pages): reportlab lays out a long
# table in time that grows faster than its rows (1,000 rows 1.7 s, 2,000 rows 3.9 s, 4,000
# rows 9.2 s; bench/exports.py), so a longer violation log, or the daily or monthly report
# of a large province, is refused there; CSV and XLSX take any number of rows.
PDF_MAX_ROWS = 2_000


class TooManyRows(ValueError):
    """A report whose PDF would hold more than the ``max_rows`` asked (the web's
    ``PDF_MAX_ROWS``), refused before its layout; the scheduler's mail asks for no limit."""


def _check_rows(rows: int, max_rows: int | None) -> None:
    if max_rows is not None and rows > max_rows:
        raise TooManyRows(rows)


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralize(value: object) -> object:
    """Text that a spreadsheet would read as a formula, prefixed with ``'``; else unchanged."""
    return "'" + value if _formula_like(value) else value


# --- cells --------------------------------------------------------------------------------

def _local_time(instant: datetime | None, tz: ZoneInfo) -> time | None:
    if instant is None:
        return None
    return instant.astimezone(tz).time().replace(tzinfo=None, microsecond=0)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return format_day(value)
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float):
        return f"{percent_text(value)}%"
    return neutralize(value)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{percent_text(value)}%".replace(".", ",")


# Rows a sheet's column widths are measured on: the rest stream to the file unmeasured.
WIDTH_SAMPLE = 1_000


class _Book:
    """A workbook of plain tables: header row 1, frozen and filtered; widths that fit.

    Written in openpyxl's write-only mode, row by row: 71,000 rows of the violation log take
    seconds and tens of MB, where the ordinary mode took 44 s and 460 MB."""

    def __init__(self, title: str):
        self.workbook = Workbook(write_only=True)
        self.workbook.properties.title = title
        self.workbook.properties.creator = "Chấm công và kiểm tra đeo thẻ"

    @staticmethod
    def _format(value: object, index: int,
                percent_columns: Sequence[int]) -> tuple[str | None, int]:
        """A cell's number format (None: as it is) and the width its text takes."""
        if isinstance(value, datetime):
            return "dd/mm/yyyy hh:mm:ss", 19
        if isinstance(value, date):
            return DATE_FORMAT, 10
        if isinstance(value, time):
            return TIME_FORMAT, 8
        if index in percent_columns and value is not None:
            return PERCENT_FORMAT, 7
        return None, len(str(value)) if value is not None else 0

    @classmethod
    def _cells(cls, sheet, row: Sequence[object], percent_columns: Sequence[int],
               font: Font | None = None) -> list[object]:
        cells: list[object] = []
        for index, value in enumerate(row):
            fmt = cls._format(value, index, percent_columns)[0]
            text = _formula_like(value)
            if fmt is None and font is None and not text:
                cells.append(value)
                continue
            cell = WriteOnlyCell(sheet, value)
            if text:
                cell.data_type = "s"  # openpyxl took it for a formula: text it stays
            if fmt is not None:
                cell.number_format = fmt
            if font is not None:
                cell.font = font
            cells.append(cell)
        return cells

    def sheet(self, name: str, header: Sequence[str], rows: Iterable[Sequence[object]],
              *, percent_columns: Sequence[int] = (), total_row: bool = False) -> None:
        sheet = self.workbook.create_sheet(name[:31])
        rows = iter(rows)
        sample = list(islice(rows, WIDTH_SAMPLE))
        widths = [len(h) for h in header]
        for row in sample:
            for index, value in enumerate(row):
                widths[index] = max(widths[index], self._format(value, index, percent_columns)[1])
        # Before the first row: write-only sheets write their columns and panes first.
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)
        sheet.freeze_panes = "A2"
        head_cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, text)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            head_cells.append(cell)
        sheet.append(head_cells)
        count = 0
        previous = None
        for row in chain(sample, rows):
            if previous is not None:
                sheet.append(self._cells(sheet, previous, percent_columns))
            previous, count = row, count + 1
        if previous is not None:
            bold = Font(bold=True) if total_row else None
            sheet.append(self._cells(sheet, previous, percent_columns, bold))
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


# --- daily --------------------------------------------------------------------------------

PERSON_HEADER = ["Mã cán bộ", "Họ và tên", "Chức vụ", "Mã đơn vị", "Đơn vị"]


def by_name(unit_day) -> list[EmployeeDay]:
    """A unit's employees as Vietnamese lists sort them: by given name, then family and
    middle names (the report's JSON keeps them by code; its page and exports by name)."""
    return sorted(unit_day.employees,
                  key=lambda e: (name_sort_key(e.employee.full_name), e.employee.code))


def _person(entry_employee, unit) -> list[object]:
    return [entry_employee.code, entry_employee.full_name, entry_employee.position or "",
            unit.code, unit.name]


def _status(entry: EmployeeDay) -> str:
    result = entry.result
    if not result.working:
        return "không phải ngày làm việc"
    if result.excused is not None:
        return f"{EXCUSED_LABEL} ({_excuse_kinds(result.excused)})"
    if result.has_open(ABSENT):
        return KIND_LABELS[ABSENT]
    if result.in_progress and not result.started:
        return "chưa bắt đầu ngày làm việc"
    if result.not_arrived:
        return "chưa đến"
    if result.check_in is None:
        return "có mặt (không có giờ đến)"
    return "có mặt"


DAILY_DETAIL_HEADER = ["Ngày", *PERSON_HEADER, "Tình trạng", "Giờ đến", "Giờ về",
                       "Đi muộn (phút)", "Về sớm (phút)", "Không quét thẻ khi về",
                       "Không đeo thẻ (lần)", "Vắng mặt tại vị trí làm việc (lần)", "Vắng buổi"]


def _daily_detail_rows(report: DailyReport, tz: ZoneInfo):
    for unit_day in report.units:
        for entry in by_name(unit_day):
            result = entry.result
            opened = result.open_findings()

            def minutes(kind: str) -> int | None:
                found = [f.minutes or 0 for f in opened if f.kind == kind]
                return sum(found) if found else None

            def count(kind: str) -> int | None:
                return sum(1 for f in opened if f.kind == kind) or None

            missing = [f for f in opened if f.kind == MISSING_CHECKOUT]
            missed = [session_label(f.session) for f in opened if f.kind == MISSED_SESSION]
            yield [report.day, *_person(entry.employee, unit_day.unit), _status(entry),
                   _local_time(result.check_in, tz), _local_time(result.check_out, tz),
                   minutes(LATE), minutes(EARLY_LEAVE), "có" if missing else "",
                   count(NO_BADGE), count(ABSENT_FROM_POST), ", ".join(missed)]


def daily_csv(report: DailyReport) -> bytes:
    """One row per employee of the day: status, check-in and check-out, open findings."""
    return _csv(DAILY_DETAIL_HEADER, _daily_detail_rows(report, ZoneInfo(report.tz_name)))


SUMMARY_HEADER = ["Ngày", "Mã đơn vị", "Đơn vị", "Số người phải có mặt", "Có mặt", "Đi muộn",
                  "Không đeo thẻ", "Vắng không lý do", "Nghỉ có lý do", "Tỷ lệ đeo thẻ",
                  "Tỷ lệ đúng giờ"]


def _unit_summary(day: date, code: str, name: str, employees: list[EmployeeDay], figures):
    absent = sum(1 for e in employees if e.result.expected and e.result.has_open(ABSENT))
    excused = sum(1 for e in employees if e.result.working and e.result.excused is not None)
    return [day, code, name, figures.expected, figures.present, figures.late, figures.no_badge,
            absent, excused, figures.badge_compliance, figures.punctuality]


def _finding_rows(report: DailyReport, kind: str, tz: ZoneInfo):
    for unit_day in report.units:
        for entry in by_name(unit_day):
            for finding in entry.result.open_findings(kind):
                person = [report.day, *_person(entry.employee, unit_day.unit)]
                if kind in (LATE, EARLY_LEAVE):
                    yield [*person, session_label(finding.session),
                           _local_time(finding.at, tz), finding.minutes]
                elif kind == MISSING_CHECKOUT:
                    yield [*person, session_label(finding.session),
                           _local_time(_arrival(entry, finding), tz)]
                elif kind in (NO_BADGE, ABSENT_FROM_POST):
                    yield [*person, session_label(finding.session), _local_time(finding.at, tz),
                           SOURCE_LABELS.get(finding_source(finding, entry.result), "")]
                elif kind == MISSED_SESSION:
                    yield [*person, session_label(finding.session)]
                else:
                    yield person


def _arrival(entry: EmployeeDay, missing: Finding) -> datetime | None:
    """The arrival that a missing check-out follows, where the result tells it.

    In ``day`` mode it is the day's check-in. In ``session`` mode the result keeps only the
    day's first arrival: it is the session's own when no earlier session was attended (each
    has a missed-session finding); else a late arrival in the session gives it; else it is
    not known here, and the cell stays empty rather than show the morning's time."""
    result = entry.result
    if not entry.session_mode:
        return result.check_in
    missed = {f.session for f in result.findings if f.kind == MISSED_SESSION}
    if all(session in missed for session in range(missing.session or 0)):
        return result.check_in
    return next((f.at for f in result.findings
                 if f.kind == LATE and f.session == missing.session), None)


FINDING_SHEETS = {
    LATE: ["Buổi", "Giờ đến", "Số phút muộn"],
    EARLY_LEAVE: ["Buổi", "Giờ về", "Số phút về sớm"],
    MISSING_CHECKOUT: ["Buổi", "Giờ đến"],
    NO_BADGE: ["Buổi", "Thời điểm", "Nguồn ghi nhận"],
    ABSENT_FROM_POST: ["Buổi", "Thời điểm", "Nguồn ghi nhận"],
    ABSENT: [],
    MISSED_SESSION: ["Buổi"],
}


def _sheet_name(label: str) -> str:
    return label[:1].upper() + label[1:]


def _excuse_kinds(excuses: tuple[ExcuseRef, ...], with_part: bool = False) -> str:
    """The kind of a whole-day excuse ("nghỉ phép"); with its part when ``with_part``, and
    of a day made whole by half-day excuses ("lý do khác, buổi sáng; nghỉ phép, buổi
    chiều")."""
    if len(excuses) == 1 and not with_part:
        return EXCUSE_KIND_LABELS.get(excuses[0].kind, excuses[0].kind)
    return "; ".join(f"{EXCUSE_KIND_LABELS.get(e.kind, e.kind)}, "
                     f"{EXCUSE_PART_LABELS.get(e.part, e.part)}" for e in excuses)


# An excuse beside a finding: "Lý do" is the employee's own (the excuse's note), the
# approver's comment on the decision has its own column.
EXCUSE_HEADER = ["Loại lý do", "Người duyệt", "Lý do", "Ý kiến người duyệt"]


def _excuse_cells(excuses: tuple[ExcuseRef, ...], with_part: bool = False) -> list[str]:
    """The cells under EXCUSE_HEADER: each excuse's, joined by "; " (empty for none)."""
    approvers = dict.fromkeys(e.approved_by for e in excuses if e.approved_by)
    return [_excuse_kinds(excuses, with_part), "; ".join(approvers),
            "; ".join(e.note for e in excuses if e.note),
            "; ".join(e.reason for e in excuses if e.reason)]


def _excused_rows(report: DailyReport):
    for unit_day in report.units:
        for entry in by_name(unit_day):
            excuses = entry.result.excused
            if entry.result.working and excuses is not None:
                yield [report.day, *_person(entry.employee, unit_day.unit),
                       *_excuse_cells(excuses)]


def daily_xlsx(report: DailyReport) -> bytes:
    """"Tổng hợp" per unit, a per-employee "Chi tiết", then a sheet for each list."""
    tz = ZoneInfo(report.tz_name)
    book = _Book(f"Báo cáo ngày {format_day(report.day)}")
    summary = [_unit_summary(report.day, u.unit.code, u.unit.name, u.employees, u.figures)
               for u in report.units]
    everyone = [e for u in report.units for e in u.employees]
    summary.append(_unit_summary(report.day, "", "Tổng cộng", everyone, report.totals))
    book.sheet("Tổng hợp", SUMMARY_HEADER, summary, percent_columns=(9, 10), total_row=True)
    book.sheet("Chi tiết", DAILY_DETAIL_HEADER, _daily_detail_rows(report, tz))
    for kind, extra in FINDING_SHEETS.items():
        book.sheet(_sheet_name(KIND_LABELS[kind]), ["Ngày", *PERSON_HEADER, *extra],
                   _finding_rows(report, kind, tz))
    book.sheet(_sheet_name(EXCUSED_LABEL),
               ["Ngày", *PERSON_HEADER, *EXCUSE_HEADER],
               _excused_rows(report))
    return book.bytes()


def _weekday(day: date) -> str:
    return WEEKDAY_NAMES[day.weekday()]


def _document(config: Config, unit_name: str | None, issued_on: date, subtitle: str,
              signer_name: str | None) -> pdf.Document:
    return pdf.Document(agency=config.agency, unit=unit_name or config.agency,
                        place=config.place, issued_on=issued_on, title="BÁO CÁO",
                        subtitle=subtitle, signer_name=signer_name)


def _finding_detail(entry: EmployeeDay, finding, tz: ZoneInfo) -> str:
    parts = []
    if finding.session is not None and (entry.session_mode or finding.kind in (
            NO_BADGE, ABSENT_FROM_POST)):
        parts.append(f"buổi {session_label(finding.session)}")
    if finding.at is not None:
        parts.append(f"lúc {finding.at.astimezone(tz):%H:%M:%S}")
    if finding.minutes is not None:
        parts.append(f"{finding.minutes} phút")
    if finding.kind in (NO_BADGE, ABSENT_FROM_POST):
        parts.append(SOURCE_LABELS.get(finding_source(finding, entry.result), ""))
    return ", ".join(p for p in parts if p)


def _violations_section(rows: list[list[object]]) -> list:
    """Section II of a day's PDF: rows of (STT, name, unit, violation, detail), or a line
    saying there is none."""
    if not rows:
        listing = pdf.paragraph("Không có cán bộ, công chức, viên chức, người lao động vi phạm.")
    else:
        listing = pdf.table(["STT", "Họ và tên", "Đơn vị", "Vi phạm", "Chi tiết"], rows,
                            [11, 45, 40, 32, 45], align=["c", "l", "l", "l", "l"])
    return [pdf.heading("II. Danh sách vi phạm"), listing]


def _day_off(config: Config, day: date) -> str | None:
    """Why nobody works on ``day``, when it is so for everyone: before the records begin, a
    holiday, or a weekend that is not a day made up for one."""
    calendar = WorkCalendar(config)
    if config.records_from and day < config.records_from:
        return f"trước ngày bắt đầu chấm công {format_day(config.records_from)}"
    if name := calendar.holiday_name(day):
        return name
    if day.weekday() >= 5 and not calendar.is_swapped_workday(day):
        return "ngày nghỉ hằng tuần"
    return None


def daily_pdf(report: DailyReport, config: Config, *, unit_name: str | None = None,
              issued_on: date | None = None, signer_name: str | None = None,
              max_rows: int | None = None) -> bytes:
    """The official daily report: figures per unit, the violations, those excused."""
    tz = ZoneInfo(report.tz_name)
    subtitle = ("Tình hình chấp hành thời giờ làm việc và đeo thẻ công chức "
                f"{_weekday(report.day)}, ngày {format_day(report.day)}")
    body = [pdf.heading("I. Tổng hợp theo đơn vị")]
    everyone = [e for u in report.units for e in u.employees]
    reason = _day_off(config, report.day)
    if everyone and reason and not any(e.result.working for e in everyone):
        # A report of zeros says why (the CSV and the page say it per person).
        body.append(pdf.paragraph(f"Ngày {format_day(report.day)} không phải ngày làm việc "
                                  f"({reason}): không có ai phải có mặt."))
    rows = [[index, u.unit.name, u.figures.expected, u.figures.present, u.figures.late,
             u.figures.no_badge, _unit_summary(report.day, "", "", u.employees, u.figures)[7],
             _percent(u.figures.badge_compliance), _percent(u.figures.punctuality)]
            for index, u in enumerate(report.units, start=1)]
    totals = report.totals
    rows.append(["", "Tổng cộng", totals.expected, totals.present, totals.late,
                 totals.no_badge, _unit_summary(report.day, "", "", everyone, totals)[7],
                 _percent(totals.badge_compliance), _percent(totals.punctuality)])
    body.append(pdf.table(
        ["STT", "Đơn vị", "Phải có mặt", "Có mặt", "Đi muộn", "Không đeo thẻ",
         "Vắng không lý do", "Tỷ lệ đeo thẻ", "Tỷ lệ đúng giờ"],
        rows, [11, 48, 16, 14, 14, 16, 16, 17, 17],
        align=["c", "l", "r", "r", "r", "r", "r", "r", "r"], total_row=True))

    violation_rows = []
    for unit_day in report.units:
        for entry in by_name(unit_day):
            for finding in entry.result.open_findings():
                violation_rows.append([
                    len(violation_rows) + 1,
                    f"{entry.employee.full_name} ({entry.employee.code})", unit_day.unit.name,
                    KIND_LABELS[finding.kind], _finding_detail(entry, finding, tz)])
    excused = list(_excused_rows(report))
    _check_rows(len(report.units) + len(violation_rows) + len(excused), max_rows)
    body += _violations_section(violation_rows)
    if excused:
        body.append(pdf.heading("III. Nghỉ có lý do"))
        body.append(pdf.table(
            ["STT", "Họ và tên", "Đơn vị", "Lý do", "Người duyệt"],
            [[i, f"{r[2]} ({r[1]})", r[5], "\n".join(filter(None, (r[6], r[8]))), r[7]]
             for i, r in enumerate(excused, 1)],
            [10, 45, 40, 35, 35], align=["c", "l", "l", "l", "l"]))
    document = _document(config, unit_name, issued_on or report.day, subtitle, signer_name)
    return pdf.official_pdf(document, body)


# --- morning ------------------------------------------------------------------------------
# The morning report (báo cáo đầu giờ) says what was known at the cut-off and is never
# re-issued, so its files are written from the issued content
# (``attendance.issuing.morning_contents``), with the employees' names by code.

MORNING_LISTS = {
    LATE: ["Giờ đến", "Số phút muộn"],
    NO_BADGE: ["Nguồn ghi nhận"],
    ABSENT_FROM_POST: ["Thời điểm"],
    "not_arrived": [],
    "excused": [],
}
# The lists of the issued reports (attendance.issuing), by name.
LIST_LABELS = {**KIND_LABELS, "not_arrived": "chưa đến", "excused": EXCUSED_LABEL}
MORNING_SUMMARY_HEADER = [
    "Ngày", "Mã đơn vị", "Đơn vị", "Số người phải có mặt", "Đã đến", "Chưa đến", "Đi muộn",
    "Không đeo thẻ", "Vắng mặt tại vị trí làm việc", "Nghỉ có lý do", "Tỷ lệ đeo thẻ",
    "Tỷ lệ đúng giờ",
]
MORNING_PERSON_HEADER = ["Ngày", "Mã cán bộ", "Họ và tên", "Mã đơn vị", "Đơn vị"]


def _clock(iso: str | None) -> time | None:
    """The local time of day of an ISO 8601 instant of the content."""
    if iso is None:
        return None
    return datetime.fromisoformat(iso).time().replace(tzinfo=None, microsecond=0)


def _code(item) -> str:
    return item if isinstance(item, str) else item["employee"]


def _morning_counts(unit: dict) -> list[int]:
    """Expected, arrived, then the number of people on each list (not arrived first)."""
    lists = ["not_arrived", *(name for name in MORNING_LISTS if name != "not_arrived")]
    return [unit["expected"], unit["present"],
            *(len({_code(item) for item in unit[name]}) for name in lists)]


def _morning_sums(content: dict) -> list[int]:
    counts = [_morning_counts(unit) for unit in content["units"]]
    return [sum(column) for column in zip(*counts)] if counts else [0] * (2 + len(MORNING_LISTS))


def _morning_rows(content: dict, names: Mapping[str, str], name: str):
    day = date.fromisoformat(content["date"])
    for unit in content["units"]:
        for item in unit[name]:
            code = _code(item)
            person = [day, code, names.get(code, code), unit["unit"], unit["name"]]
            if name == LATE:
                yield [*person, _clock(item["check_in"]), item["minutes"]]
            elif name == NO_BADGE:
                yield [*person, SOURCE_LABELS.get(item["source"], item["source"] or "")]
            elif name == ABSENT_FROM_POST:
                yield [*person, _clock(item["at"])]
            else:
                yield person


def morning_xlsx(content: dict, names: Mapping[str, str]) -> bytes:
    """"Tổng hợp" per unit, then a sheet for each list of the morning report."""
    day = date.fromisoformat(content["date"])
    book = _Book(f"Báo cáo đầu giờ ngày {format_day(day)}")
    summary = [[day, u["unit"], u["name"], *_morning_counts(u), u["badge_compliance"],
                u["punctuality"]] for u in content["units"]]
    totals = content["totals"]
    summary.append([day, "", "Tổng cộng", *_morning_sums(content), totals["badge_compliance"],
                    totals["punctuality"]])
    book.sheet("Tổng hợp", MORNING_SUMMARY_HEADER, summary, percent_columns=(10, 11),
               total_row=True)
    for name, extra in MORNING_LISTS.items():
        book.sheet(_sheet_name(LIST_LABELS[name]), [*MORNING_PERSON_HEADER, *extra],
                   _morning_rows(content, names, name))
    return book.bytes()


def morning_pdf(content: dict, names: Mapping[str, str], config: Config, *,
                unit_name: str | None = None, issued_on: date | None = None,
                signer_name: str | None = None) -> bytes:
    """The official morning report: arrivals per unit, the violations so far, those not yet
    arrived and those excused."""
    day = date.fromisoformat(content["date"])
    subtitle = ("Tình hình đến làm việc và đeo thẻ công chức đầu giờ "
                f"{_weekday(day)}, ngày {format_day(day)}")
    body = [pdf.paragraph(f"Số liệu tính đến {config.reports.morning_cutoff_minutes} phút "
                          "sau giờ bắt đầu làm việc."),
            pdf.heading("I. Tổng hợp theo đơn vị")]
    units = content["units"]
    rows = [[index, u["name"], *_morning_counts(u)[:5], _percent(u["badge_compliance"]),
             _percent(u["punctuality"])] for index, u in enumerate(units, start=1)]
    totals = content["totals"]
    rows.append(["", "Tổng cộng", *_morning_sums(content)[:5],
                 _percent(totals["badge_compliance"]), _percent(totals["punctuality"])])
    body.append(pdf.table(
        ["STT", "Đơn vị", "Phải có mặt", "Đã đến", "Chưa đến", "Đi muộn", "Không đeo thẻ",
         "Tỷ lệ đeo thẻ", "Tỷ lệ đúng giờ"],
        rows, [11, 48, 16, 14, 14, 16, 16, 17, 17],
        align=["c", "l", "r", "r", "r", "r", "r", "r", "r"], total_row=True))

    violations = []
    for unit in units:
        for name in (LATE, NO_BADGE, ABSENT_FROM_POST):
            for item in unit[name]:
                if name == LATE:
                    detail = f"đến {_clock(item['check_in']):%H:%M:%S}, {item['minutes']} phút"
                elif name == NO_BADGE:
                    detail = SOURCE_LABELS.get(item["source"], item["source"] or "")
                else:
                    detail = f"lúc {_clock(item['at']):%H:%M:%S}"
                code = item["employee"]
                violations.append([len(violations) + 1, f"{names.get(code, code)} ({code})",
                                   unit["name"], KIND_LABELS[name], detail])
    body += _violations_section(violations)
    numbers = iter(("III", "IV"))
    for name in ("not_arrived", "excused"):
        people = [(code, unit["name"]) for unit in units for code in unit[name]]
        if people:
            body.append(pdf.heading(f"{next(numbers)}. {_sheet_name(LIST_LABELS[name])}"))
            body.append(pdf.table(
                ["STT", "Họ và tên", "Đơn vị"],
                [[i, f"{names.get(code, code)} ({code})", unit]
                 for i, (code, unit) in enumerate(people, 1)],
                [11, 80, 74], align=["c", "l", "l"]))
    document = _document(config, unit_name, issued_on or day, subtitle, signer_name)
    return pdf.official_pdf(document, body)


# --- monthly ------------------------------------------------------------------------------

MONTHLY_PERSON_HEADER = [
    "Tháng", *PERSON_HEADER, "Ngày làm việc", "Ngày có mặt", "Số ngày đi muộn",
    "Tổng số phút đi muộn", "Số lần về sớm", "Tổng số phút về sớm", "Không quét thẻ khi về",
    "Không đeo thẻ", "Vắng không lý do", "Vắng mặt tại vị trí làm việc", "Vắng buổi",
    "Nghỉ có lý do (ngày)",
]


def _month_label(report_or_first) -> str:
    first = report_or_first if isinstance(report_or_first, date) else report_or_first.first
    return f"{first:%m/%Y}"


def _person_month(person) -> list[object]:
    return [person.working_days, person.present_days, person.late_days, person.late_minutes,
            person.early_leaves, person.early_leave_minutes, person.missing_checkouts,
            person.no_badge, person.absences, person.absent_from_post, person.missed_sessions,
            person.excused_days]


def _monthly_person_rows(report: MonthlyReport):
    for unit in sorted(report.units, key=lambda u: u.unit.code):
        for person in unit.employees:
            yield [_month_label(report), *_person(person.employee, unit.unit),
                   *_person_month(person)]


def monthly_csv(report: MonthlyReport) -> bytes:
    """One row per employee with the month's counts."""
    return _csv(MONTHLY_PERSON_HEADER, _monthly_person_rows(report))


RANKING_HEADER = ["Xếp hạng", "Mã đơn vị", "Đơn vị", "Tổng ngày công phải có mặt",
                  "Lượt có mặt", "Lượt đi muộn", "Lượt không đeo thẻ", "Ngày vắng không lý do",
                  "Tỷ lệ đeo thẻ", "Tỷ lệ đúng giờ", "Tỷ lệ vắng không lý do"]


def _ranking_row(unit, rank_text: object) -> list[object]:
    return [rank_text, unit.unit.code, unit.unit.name, unit.expected, unit.present, unit.late,
            unit.no_badge, unit.absences, unit.badge_compliance, unit.punctuality,
            unit.absence_rate]


OFFENDER_HEADER = ["Tháng", *PERSON_HEADER, "Số ngày đi muộn", "Tổng số phút đi muộn",
                   "Vắng không lý do", "Lý do cảnh báo"]


def _offender_reason(offender: Offender) -> str:
    return "; ".join(
        f"đi muộn {offender.month.late_days} ngày" if r == LATE
        else f"vắng không lý do {offender.month.absences} ngày" for r in offender.reasons)


def _offender_rows(first: date, offenders: list[Offender]):
    for offender in offenders:
        person = offender.month
        yield [_month_label(first), *_person(person.employee, offender.unit), person.late_days,
               person.late_minutes, person.absences, _offender_reason(offender)]


def monthly_xlsx(report: MonthlyReport, offenders: list[Offender] | None = None) -> bytes:
    """"Xếp hạng thi đua" of the units, "Theo cán bộ", and "Vi phạm nhiều lần"."""
    book = _Book(f"Báo cáo tháng {_month_label(report)}")
    rows = [_ranking_row(u, u.rank if u.rank is not None else "chưa xếp hạng")
            for u in report.units]
    rows.append(_ranking_row(report.totals, "Tổng cộng"))
    book.sheet("Xếp hạng thi đua", RANKING_HEADER, rows, percent_columns=(8, 9, 10),
               total_row=True)
    book.sheet("Theo cán bộ", MONTHLY_PERSON_HEADER, _monthly_person_rows(report))
    if offenders is not None:
        book.sheet("Vi phạm nhiều lần", OFFENDER_HEADER, _offender_rows(report.first, offenders))
    return book.bytes()


def monthly_pdf(report: MonthlyReport, config: Config, offenders: list[Offender] | None = None,
                *, unit_name: str | None = None, issued_on: date | None = None,
                signer_name: str | None = None, max_rows: int | None = None) -> bytes:
    """The official monthly report: the ranking, the employees with violations, offenders."""
    subtitle = ("Tình hình chấp hành thời giờ làm việc và đeo thẻ công chức "
                f"tháng {_month_label(report)}")
    body = [pdf.paragraph(f"Số liệu từ ngày {format_day(report.first)} đến ngày "
                          f"{format_day(report.last)}." if report.started
                          else "Chưa có số liệu: chưa hết ngày nào của tháng này."),
            pdf.heading("I. Xếp hạng thi đua các đơn vị")]
    rows = [[u.rank if u.rank is not None else "—", u.unit.name, u.expected, u.present,
             _percent(u.badge_compliance), _percent(u.punctuality), u.absences]
            for u in report.units]
    totals = report.totals
    rows.append(["", "Tổng cộng", totals.expected, totals.present,
                 _percent(totals.badge_compliance), _percent(totals.punctuality),
                 totals.absences])
    body.append(pdf.table(
        ["Hạng", "Đơn vị", "Ngày công phải có mặt", "Lượt có mặt", "Tỷ lệ đeo thẻ",
         "Tỷ lệ đúng giờ", "Ngày vắng không lý do"],
        rows, [14, 55, 20, 18, 18, 18, 20], align=["c", "l", "r", "r", "r", "r", "r"],
        total_row=True))
    body.append(pdf.paragraph(
        "Thứ tự xếp hạng: tỷ lệ đeo thẻ cao hơn đứng trước; bằng nhau thì tỷ lệ đúng giờ cao "
        "hơn; bằng nhau nữa thì tỷ lệ ngày vắng không lý do thấp hơn. Các tỷ lệ tính trên "
        "tổng số lượt có mặt của các ngày làm việc trong tháng.", "note"))

    body.append(pdf.heading("II. Cán bộ, công chức, viên chức, người lao động vi phạm"))
    people = [(u, p) for u in sorted(report.units, key=lambda u: u.unit.code)
              for p in u.employees if p.violations]
    _check_rows(len(report.units) + len(people) + len(offenders or ()), max_rows)
    if people:
        body.append(pdf.table(
            ["STT", "Họ và tên\nĐơn vị", "Đi muộn (ngày / phút)", "Về sớm",
             "Không quét thẻ khi về", "Không đeo thẻ", "Vắng không lý do",
             "Vắng mặt tại vị trí", "Vắng buổi"],
            [[i, f"{p.employee.full_name} ({p.employee.code})\n{u.unit.name}",
              f"{p.late_days} / {p.late_minutes}", p.early_leaves, p.missing_checkouts,
              p.no_badge, p.absences, p.absent_from_post, p.missed_sessions]
             for i, (u, p) in enumerate(people, 1)],
            [10, 58, 20, 14, 18, 15, 15, 17, 14],
            align=["c", "l", "c", "r", "r", "r", "r", "r", "r"]))
    else:
        body.append(pdf.paragraph("Không có vi phạm trong tháng."))

    if offenders:
        body.append(pdf.heading("III. Vi phạm nhiều lần"))
        body.append(pdf.table(
            ["STT", "Họ và tên", "Đơn vị", "Lý do cảnh báo"],
            [[i, f"{o.month.employee.full_name} ({o.month.employee.code})", o.unit.name,
              _offender_reason(o)] for i, o in enumerate(offenders, 1)],
            [10, 50, 45, 60], align=["c", "l", "l", "l"]))
    document = _document(config, unit_name, issued_on or report.last, subtitle, signer_name)
    return pdf.official_pdf(document, body)


# --- repeat offenders ---------------------------------------------------------------------

def offenders_csv(month: date | str, offenders: list[Offender]) -> bytes:
    first, _ = month_bounds(month)
    return _csv(OFFENDER_HEADER, _offender_rows(first, offenders))


def offenders_xlsx(month: date | str, offenders: list[Offender]) -> bytes:
    first, _ = month_bounds(month)
    book = _Book(f"Vi phạm nhiều lần tháng {_month_label(first)}")
    book.sheet("Vi phạm nhiều lần", OFFENDER_HEADER, _offender_rows(first, offenders))
    return book.bytes()


def offenders_pdf(month: date | str, offenders: list[Offender], config: Config, *,
                  unit_name: str | None = None, issued_on: date | None = None,
                  signer_name: str | None = None) -> bytes:
    first, last = month_bounds(month)
    subtitle = f"Danh sách vi phạm nhiều lần tháng {_month_label(first)}"
    body = [pdf.paragraph(
        f"Ngưỡng cảnh báo: đi muộn từ {config.reports.repeat_late_days} ngày trở lên trong "
        f"tháng; vắng không lý do từ {config.reports.repeat_absences} ngày trở lên. Hệ thống "
        "chỉ cảnh báo; việc xem xét, xử lý do thủ trưởng đơn vị quyết định.")]
    if offenders:
        body.append(pdf.table(
            ["STT", "Họ và tên", "Đơn vị", "Đi muộn (ngày / phút)", "Vắng không lý do",
             "Lý do cảnh báo"],
            [[i, f"{o.month.employee.full_name} ({o.month.employee.code})", o.unit.name,
              f"{o.month.late_days} / {o.month.late_minutes}", o.month.absences,
              _offender_reason(o)] for i, o in enumerate(offenders, 1)],
            [10, 42, 38, 20, 18, 40], align=["c", "l", "l", "c", "r", "l"]))
    else:
        body.append(pdf.paragraph("Không có cán bộ vượt ngưỡng cảnh báo trong tháng."))
    document = _document(config, unit_name, issued_on or last, subtitle, signer_name)
    return pdf.official_pdf(document, body)


# --- violation log ------------------------------------------------------------------------

VIOLATION_HEADER = ["Ngày", *PERSON_HEADER, "Loại vi phạm", "Buổi", "Thời điểm", "Số phút",
                    "Nguồn ghi nhận", "Trạng thái", *EXCUSE_HEADER]


def _violation_rows(rows: Iterable[Violation], tz: ZoneInfo):
    for row in rows:
        yield [row.day, *_person(row.employee, row.unit), row.label,
               session_label(row.session), _local_time(row.at, tz), row.minutes,
               SOURCE_LABELS.get(row.source, row.source), STATUS_LABELS[row.status],
               *_excuse_cells(row.excuses, with_part=True)]


def violations_csv(rows: Iterable[Violation], config: Config) -> bytes:
    return _csv(VIOLATION_HEADER, _violation_rows(rows, config.tz))


def violations_xlsx(rows: Iterable[Violation], config: Config) -> bytes:
    book = _Book("Nhật ký vi phạm")
    book.sheet("Nhật ký vi phạm", VIOLATION_HEADER, _violation_rows(rows, config.tz))
    return book.bytes()


def violations_pdf(rows: list[Violation], config: Config, *, first: date, last: date,
                   unit_name: str | None = None, issued_on: date | None = None,
                   signer_name: str | None = None, max_rows: int | None = None) -> bytes:
    _check_rows(len(rows), max_rows)
    tz = config.tz
    subtitle = f"Nhật ký vi phạm từ ngày {format_day(first)} đến ngày {format_day(last)}"
    body = []
    if rows:
        body.append(pdf.table(
            ["STT", "Ngày", "Họ và tên", "Đơn vị", "Vi phạm", "Chi tiết", "Trạng thái"],
            [[i, format_day(r.day), f"{r.employee.full_name} ({r.employee.code})", r.unit.name,
              r.label,
              ", ".join(p for p in (
                  f"lúc {r.at.astimezone(tz):%H:%M:%S}" if r.at else "",
                  f"{r.minutes} phút" if r.minutes is not None else "",
                  SOURCE_LABELS.get(r.source, "")) if p),
              STATUS_LABELS[r.status]] for i, r in enumerate(rows, 1)],
            [9, 19, 34, 28, 24, 30, 21], align=["c", "c", "l", "l", "l", "l", "l"]))
    else:
        body.append(pdf.paragraph("Không có vi phạm trong khoảng thời gian này."))
    document = _document(config, unit_name, issued_on or last, subtitle, signer_name)
    return pdf.official_pdf(document, body)


# --- the audit log -------------------------------------------------------------------------

AUDIT_HEADER = ["Số thứ tự", "Thời điểm", "Người thực hiện", "Thao tác", "Mã thao tác",
                "Đối tượng", "Chi tiết"]


def audit_csv(entries: Iterable[AuditEntry], tz: ZoneInfo) -> bytes:
    """Audit entries as CSV: each action by its Vietnamese label, and its code beside it."""
    return _csv(AUDIT_HEADER, ([e.seq, e.at.astimezone(tz), e.actor, action_label(e.action),
                                e.action, e.target, e.details] for e in entries))
