"""Import units, employees, scans and excuses from CSV or XLSX files (INTERFACES.md).

Every importer reads the whole file, validates every row against the database and the rest
of the file, and only then applies the good rows, so that a file is all-or-nothing unless
``skip_bad_rows`` is given. A bad row is reported with every problem it has, each naming its
column, so that one round of corrections is enough. Re-importing a file updates what changed
and never duplicates: units and employees are keyed by code, scans by a deterministic event
id, excuses by (employee, start, end, part, kind). Text is stored verbatim (NFC-normalized): a name that
looks like a spreadsheet formula or like HTML is data here, and is escaped where it is shown.

The functions take a session and never commit; the command line commits once. Each writes
one audit entry naming the file: its path, or ``filename`` when the path is not the name the
user knows (the admin page keeps an upload under a random name).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import email_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attendance import excuses, findings
from attendance.audit import record
from attendance.calendar import WorkCalendar
from attendance.config import Config, load_config
from attendance.messages import Message
from attendance.models.audit import AuditEntry
from attendance.models.chain import BulkChains
from attendance.models.excuses import KINDS as EXCUSE_KINDS
from attendance.models.excuses import PARTS as EXCUSE_PARTS
from attendance.models.excuses import Excuse, ExcuseDecision
from attendance.models.org import CATEGORIES, Employee, Unit
from attendance.models.scans import NoBadgeRecord, Scan, Station

Progress = Callable[[int, int], None]
Source = str | os.PathLike | Iterable[Mapping[str, Any]]

UNIT_COLUMNS = ("code", "name", "parent_code", "schedule")
UNIT_REQUIRED = ("code", "name")
EMPLOYEE_COLUMNS = (
    "code", "full_name", "unit_code", "position", "category",
    "card_number", "email", "start_date", "end_date", "head_of",
)
EMPLOYEE_REQUIRED = ("code", "full_name", "unit_code", "position", "category")
SCAN_COLUMNS = ("employee_code", "scanned_at", "station", "kind")
SCAN_REQUIRED = ("employee_code", "scanned_at", "kind")
EXCUSE_COLUMNS = ("employee_code", "start_date", "end_date", "part", "kind", "note")
EXCUSE_REQUIRED = ("employee_code", "start_date", "end_date")

SCAN_KINDS = ("badge", "no_badge")
# What each kind of import file holds, as the admin's import page and the audit log name it.
KIND_LABELS = {
    "units": "Đơn vị",
    "employees": "Cán bộ, công chức",
    "scans": "Lượt quét thẻ",
    "excuses": "Nghỉ phép, công tác",
}
IMPORT_SCAN_STREAM = "scan:import"
_CHUNK = 500


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, encoding, header); message in Vietnamese
    (a ``messages.Message`` where it has values)."""


@dataclass(frozen=True)
class RowError:
    """One problem of a row; a row may have several."""

    line: int  # the header is line 1
    column: str | None  # None: the row as a whole
    message: str  # a messages.Message where it has values

    @property
    def reason(self) -> str:
        if self.column is None:
            return self.message
        return Message("{column}: {message}", column=self.column, message=self.message)

    def __str__(self) -> str:
        return f"dòng {self.line}: {self.reason}"


@dataclass
class ImportResult:
    """What an import did. ``applied`` is False when errors stopped the whole file."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False
    notices: list[str] = field(default_factory=list)  # what the user should know, not errors

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> int:
        return len({error.line for error in self.errors})

    @property
    def skipped(self) -> int:
        """Rows not imported: the bad ones, or every row when the file was refused."""
        return self.bad_rows if self.applied else self.rows

    @property
    def imported(self) -> int:
        """Rows taken in: created, updated or found unchanged."""
        return self.rows - self.skipped

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "errors": len(self.errors),
        }

    def summary(self) -> str:
        """One Vietnamese line for the command line."""
        if not self.applied:
            return (f"Không nhập dòng nào: tệp có {self.bad_rows} dòng lỗi trên {self.rows} dòng "
                    "(dùng --skip-bad-rows để chỉ nhập các dòng hợp lệ).")
        counts = (f"thêm mới {self.created}, cập nhật {self.updated}, "
                  f"không thay đổi {self.unchanged}")
        if not self.skipped:
            return f"Đã nhập {self.rows} dòng: {counts}, bỏ qua 0."
        # "Processed", not "imported", for every row when some were skipped (as the admin page
        # says); how many of them were imported is said apart.
        return (f"Đã xử lý {self.rows} dòng: nhập {self.imported} dòng ({counts}), "
                f"bỏ qua {self.skipped} dòng lỗi.")


class _RowInvalid(Exception):
    """One problem of a row, raised by the cell parsers below."""

    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


class _Problems:
    """Every problem found on one row: each check runs even when an earlier one failed."""

    def __init__(self) -> None:
        self.found: list[_RowInvalid] = []

    def __bool__(self) -> bool:
        return bool(self.found)

    def add(self, column: str | None, message: str) -> None:
        self.found.append(_RowInvalid(column, message))

    def get(self, parse: Callable[..., Any], *args: Any) -> Any:
        """``parse(*args)``, or None when it refuses (and the problem is kept)."""
        try:
            return parse(*args)
        except _RowInvalid as problem:
            self.found.append(problem)
            return None


# ---------------------------------------------------------------------------------------
# Reading files


def _text(value: Any) -> str:
    """A cell as NFC text; numbers typed into a spreadsheet lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def _header_name(value: Any) -> str:
    return _text(value).lstrip("\ufeff").strip().lower()


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the (line number, cells) of each non-empty data row."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise _unreadable(path, exc) from None
    except UnicodeDecodeError:
        raise ImportFileError(Message("tệp {name} không phải UTF-8 (hãy lưu CSV dạng UTF-8)",
                                      name=path.name)) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Any]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            # A quoted cell may span lines; the line a row starts on is what a user sees.
            line = reader.line_num - sum(cell.count("\n") for cell in cells)
            if header is None:
                header = cells
                continue
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
    except csv.Error as exc:
        raise ImportFileError(Message("dòng {line}: tệp CSV không hợp lệ ({error})",
                                      line=reader.line_num, error=exc)) from None
    if header is None:
        raise _empty(path)
    return header, rows


def _unreadable(path: Path, exc: OSError) -> ImportFileError:
    return ImportFileError(Message("không đọc được tệp {path}: {error}", path=path,
                                   error=exc.strerror))


def _empty(path: Path) -> ImportFileError:
    return ImportFileError(Message("tệp {name} trống (cần một dòng tiêu đề)", name=path.name))


_ZERO_PADDED = re.compile(r"^0+$")


def _xlsx_value(cell: Any) -> Any:
    """A cell's value; a whole number shown zero-padded (format ``000000``) as the text shown.

    Codes typed into a number cell lose their leading zeros, and clerks get them back with a
    custom format; the code is what they see (000101), not the number stored (101).
    """
    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and float(value).is_integer() and value >= 0:
        fmt = getattr(cell, "number_format", None) or ""
        if _ZERO_PADDED.match(fmt):
            return str(int(value)).zfill(len(fmt))
    return value


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    try:
        # Not data_only: a cell holding "=cmd|..." is read as the text it holds, never run.
        workbook = load_workbook(path, read_only=True, data_only=False)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    except Exception as exc:  # openpyxl raises assorted errors on damaged files
        raise ImportFileError(Message("tệp {name} không phải XLSX hợp lệ ({error})",
                                      name=path.name, error=exc)) from None
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        for line, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_xlsx_value(cell) for cell in row]
            if header is None:
                header = cells
                continue
            if any(_text(cell) for cell in cells):
                rows.append((line, cells))
    finally:
        workbook.close()
    if header is None:
        raise _empty(path)
    return header, rows


def _records(source: Source, columns: tuple[str, ...], required: tuple[str, ...]
             ) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Rows as dicts keyed by column name, with the line each came from."""
    if isinstance(source, (str, os.PathLike)):
        header, table = _read_table(Path(source))
        names = [_header_name(cell) for cell in header]
        while names and not names[-1]:
            names.pop()
        records = []
        for line, cells in table:
            extra = [c for c in cells[len(names):] if _text(c)]
            if extra:
                records.append((line, {"__error__": Message(
                    "thừa ô ngoài các cột của tiêu đề")}))
                continue
            records.append((line, {name: cells[i] if i < len(cells) else None
                                   for i, name in enumerate(names)}))
    else:
        records = []
        names = []
        for line, row in enumerate(source, start=2):
            row = {_header_name(k): v for k, v in row.items()}
            for key in row:
                if key not in names:
                    names.append(key)
            records.append((line, row))
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise ImportFileError(Message(
            "dòng 1: cột không hợp lệ: {unknown} (các cột: {columns})",
            unknown=", ".join(unknown) or Message("(trống)"), columns=", ".join(columns)))
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ImportFileError(Message("dòng 1: cột bị lặp: {columns}",
                                      columns=", ".join(duplicated)))
    missing = [c for c in required if c not in names]
    if missing and (isinstance(source, (str, os.PathLike)) or records):
        raise ImportFileError(Message("dòng 1: thiếu cột bắt buộc: {columns}",
                                      columns=", ".join(missing)))
    return names, records


# ---------------------------------------------------------------------------------------
# Parsing cells


def parse_day(text: str) -> date | None:
    """A date written YYYY-MM-DD or dd/mm/yyyy (as the pages show dates), else None."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _parse_date(value: Any, column: str) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    day = parse_day(text)
    if day is not None:
        return day
    raise _RowInvalid(column, Message("ngày không hợp lệ {text!r} (cần YYYY-MM-DD hoặc "
                                      "dd/mm/yyyy)", text=text))


def _required_date(row: Mapping[str, Any], column: str) -> date:
    day = _parse_date(row.get(column), column)
    if day is None:
        raise _RowInvalid(column, "bắt buộc, không được để trống")
    return day


def _parse_instant(value: Any, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        # A spreadsheet's date-time cell cannot hold an offset: it is the local time of the
        # deployment, as the clerk who typed it read it. Text must still carry its offset.
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(timezone.utc)
    text = _text(value)
    if not text:
        raise _RowInvalid("scanned_at", "bắt buộc, không được để trống")
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise _RowInvalid("scanned_at", Message(
            "thời điểm không hợp lệ {text!r} (cần ISO 8601, ví dụ 2026-11-23T07:42:10+07:00)",
            text=text)) from None
    if instant.tzinfo is None:
        raise _RowInvalid("scanned_at", Message(
            "thiếu múi giờ trong {text!r} (cần ISO 8601 có độ lệch, ví dụ "
            "2026-11-23T07:42:10+07:00)", text=text))
    return instant.astimezone(timezone.utc)


def normalize_category(value: Any) -> str:
    """CB, CC, VC or HĐ; HD (without the stroke) is accepted and stored as HĐ."""
    text = _text(value).upper()
    if text == "HD":
        text = "HĐ"
    if text not in CATEGORIES:
        raise _RowInvalid("category", Message(
            "loại cán bộ không hợp lệ {text!r} (chỉ nhận {categories})", text=_text(value),
            categories=", ".join(CATEGORIES)))
    return text


def email_problem(text: str) -> str | None:
    """Why ``text`` is not an e-mail address, in Vietnamese; None when it is one.

    Only the form is checked (by email-validator), never DNS: offices run on closed
    networks. The local part must be ASCII, as not every office's mail server speaks
    SMTPUTF8; a Vietnamese domain name is fine.
    """
    try:
        email_validator.validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except email_validator.EmailNotValidError:
        return Message("địa chỉ thư điện tử không hợp lệ {text!r}", text=text)
    return None


def _email(row: Mapping[str, Any]) -> str | None:
    text = _optional(row, "email", 255)
    problem = text and email_problem(text)
    if problem:
        raise _RowInvalid("email", problem)
    return text


def _required(row: Mapping[str, Any], column: str) -> str:
    text = _text(row.get(column))
    if not text:
        raise _RowInvalid(column, "bắt buộc, không được để trống")
    return text


def _bounded(text: str, column: str, limit: int) -> str:
    if len(text) > limit:
        raise _RowInvalid(column, Message("dài quá {max} ký tự", max=limit))
    return text


def _required_text(row: Mapping[str, Any], column: str, limit: int) -> str:
    return _bounded(_required(row, column), column, limit)


def _optional(row: Mapping[str, Any], column: str, limit: int) -> str | None:
    text = _text(row.get(column))
    return _bounded(text, column, limit) if text else None


def scan_event_id(employee_code: str, scanned_at: datetime, station: str, kind: str) -> str:
    """The deterministic id that makes re-importing a scan a no-op."""
    instant = scanned_at.astimezone(timezone.utc).isoformat()
    key = f"{_text(employee_code)}|{instant}|{_text(station)}|{kind}"
    return hashlib.sha256(key.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(timezone.utc)


AUDIT_TARGET_LENGTH = AuditEntry.__table__.c.target.type.length


def _audit(session: Session, kind: str, source: Source, result: ImportResult, actor: str,
           now: datetime) -> None:
    target = str(source) if isinstance(source, (str, os.PathLike)) else None
    if target and len(target) > AUDIT_TARGET_LENGTH:  # the end of a long path: its name
        target = "…" + target[1 - AUDIT_TARGET_LENGTH:]
    record(session, actor=actor, action=f"import.{kind}", at=now, target=target,
           details={"kind": kind, **result.counts()})


def _check_rows(records: list[tuple[int, dict[str, Any]]],
                check: Callable[[int, Mapping[str, Any], _Problems], None], result: ImportResult,
                progress: Progress | None, total: int | None = None) -> None:
    """Run ``check(line, row, problems)`` on every row, in order; a row that could not be
    read, and every problem ``check`` finds on a row, become errors of ``result``. ``check``
    takes a row in only when it found no problem."""
    for done, (line, row) in enumerate(records, start=1):
        _tick(progress, done, total or len(records))
        if "__error__" in row:
            result.errors.append(RowError(line, None, row["__error__"]))
            continue
        problems = _Problems()
        check(line, row, problems)
        result.errors.extend(RowError(line, p.column, p.message) for p in problems.found)


def _employee(row: Mapping[str, Any], employees: Mapping[str, Employee]) -> Employee:
    code = _required(row, "employee_code")
    if code not in employees:
        raise _RowInvalid("employee_code", Message("không có cán bộ mã {code}", code=code))
    return employees[code]


def _duplicate_code(code: str, line: int) -> Message:
    return Message("mã {code} trùng trong tệp (đã có ở dòng {line})", code=code, line=line)


def _no_unit(code: str) -> Message:
    return Message("đơn vị {unit} không tồn tại", unit=code)


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done % 200 == 0 or done == total):
        progress(done, total)


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _finish(result: ImportResult, skip_bad_rows: bool) -> bool:
    """Whether to apply the good rows; sorts the errors by line."""
    result.errors.sort(key=lambda e: e.line)
    return not result.errors or skip_bad_rows


# ---------------------------------------------------------------------------------------
# Units


def import_units(session: Session, source: Source, *, skip_bad_rows: bool = False,
                 progress: Progress | None = None, config: Config | None = None,
                 actor: str = "import", now: datetime | None = None,
                 filename: str | None = None) -> ImportResult:
    """Create or update units by code: ``code,name,parent_code,schedule``."""
    config = config or load_config()
    names, records = _records(source, UNIT_COLUMNS, UNIT_REQUIRED)
    result = ImportResult("units", rows=len(records))
    existing = {u.code: u for u in session.scalars(select(Unit))}
    by_id = {u.id: u for u in existing.values()}

    parsed: dict[str, dict[str, Any]] = {}

    def check(line: int, row: Mapping[str, Any], problems: _Problems) -> None:
        code = problems.get(_required_text, row, "code", 40)
        if code in parsed:
            problems.add("code", _duplicate_code(code, parsed[code]["line"]))
        name = problems.get(_required_text, row, "name", 255)
        parent = _text(row.get("parent_code")) or None
        if parent is not None and parent == code:
            problems.add("parent_code", "đơn vị không thể là cấp trên của chính nó")
        schedule = problems.get(_optional, row, "schedule", 60)
        if schedule and schedule not in config.schedules:
            problems.add("schedule", Message(
                "lịch làm việc {schedule!r} không có trong cấu hình (có: {known})",
                schedule=schedule, known=", ".join(sorted(config.schedules))))
        if problems:
            return
        parsed[code] = {"line": line, "name": name, "parent": parent, "schedule": schedule,
                        "has_schedule": "schedule" in names, "has_parent": "parent_code" in names}

    _check_rows(records, check, result, progress)

    # Parents must exist in the database or on a good row of the file; a row whose parent
    # is refused is refused too, so repeat until nothing changes.
    in_file = {_text(row.get("code")) for _line, row in records if "__error__" not in row}
    _drop_orphans(parsed, existing, in_file, result)

    def db_parent(code: str) -> str | None:
        unit = existing.get(code)
        if unit is None or unit.parent_id is None:
            return None
        return by_id[unit.parent_id].code

    def parent_of(code: str) -> str | None:
        info = parsed.get(code)
        if info is not None and (info["has_parent"] or code not in existing):
            return info["parent"]
        return db_parent(code)

    # Cycles, over the tree as it would be after the import.
    cyclic = []
    for code in parsed:
        chain = [code]
        current = parent_of(code)
        while current is not None and current not in chain:
            chain.append(current)
            current = parent_of(current)
        if current is not None:
            loop = " → ".join(chain[chain.index(current):] + [current])
            result.errors.append(RowError(parsed[code]["line"], "parent_code", Message(
                "vòng lặp đơn vị cấp trên ({loop})", loop=loop)))
            cyclic.append(code)
    for code in cyclic:
        del parsed[code]
    _drop_orphans(parsed, existing, in_file, result)

    if not _finish(result, skip_bad_rows):
        return result
    units = dict(existing)
    for code, info in parsed.items():
        unit = units.get(code)
        if unit is None:
            unit = Unit(code=code, name=info["name"], schedule=info["schedule"])
            session.add(unit)
            units[code] = unit
            result.created += 1
            info["new"] = True
        else:
            info["new"] = False
            info["before"] = (unit.name, unit.schedule, db_parent(code))
            unit.name = info["name"]
            if info["has_schedule"]:
                unit.schedule = info["schedule"]
    for code, info in parsed.items():
        unit = units[code]
        if info["has_parent"] or info["new"]:
            unit.parent = units[info["parent"]] if info["parent"] else None
        if not info["new"]:
            after = (unit.name, unit.schedule, unit.parent.code if unit.parent else None)
            if after == info["before"]:
                result.unchanged += 1
            else:
                result.updated += 1
    result.applied = True
    session.flush()
    _audit(session, "units", filename or source, result, actor, _now(now))
    return result


def _drop_orphans(parsed: dict[str, dict[str, Any]], existing: Mapping[str, Unit],
                  in_file: set[str], result: ImportResult) -> None:
    changed = True
    while changed:
        changed = False
        for code, info in list(parsed.items()):
            parent = info["parent"]
            if parent is None or parent in parsed or parent in existing:
                continue
            reason = (Message("đơn vị cấp trên {unit} bị lỗi trong tệp", unit=parent)
                      if parent in in_file
                      else Message("đơn vị cấp trên {unit} không tồn tại", unit=parent))
            result.errors.append(RowError(info["line"], "parent_code", reason))
            del parsed[code]
            changed = True


# ---------------------------------------------------------------------------------------
# Employees


def import_employees(session: Session, source: Source, *, skip_bad_rows: bool = False,
                     progress: Progress | None = None, config: Config | None = None,
                     actor: str = "import", now: datetime | None = None,
                     filename: str | None = None) -> ImportResult:
    """Create or update employees by code (INTERFACES.md columns).

    Optional columns left out of the header keep their stored values; an empty cell in a
    present column clears it, except ``head_of``, where empty means "no change". New staff
    who count from before today, once stations record, get a notice (``_backdated``).
    """
    config = config or load_config()
    names, records = _records(source, EMPLOYEE_COLUMNS, EMPLOYEE_REQUIRED)
    present = set(names)
    result = ImportResult("employees", rows=len(records))
    units = {u.code: u for u in session.scalars(select(Unit))}
    employees = {e.code: e for e in session.scalars(select(Employee))}
    cards = {e.card_number: e.code for e in employees.values() if e.card_number}

    parsed: list[dict[str, Any]] = []
    seen_codes: dict[str, int] = {}
    seen_cards: dict[str, int] = {}
    seen_heads: dict[str, int] = {}

    def check(line: int, row: Mapping[str, Any], problems: _Problems) -> None:
        code = problems.get(_required_text, row, "code", 40)
        if code in seen_codes:
            problems.add("code", _duplicate_code(code, seen_codes[code]))
        full_name = problems.get(_required_text, row, "full_name", 255)
        unit_code = problems.get(_required, row, "unit_code")
        if unit_code is not None and unit_code not in units:
            problems.add("unit_code", _no_unit(unit_code))
        item: dict[str, Any] = {
            "line": line, "code": code, "full_name": full_name, "unit": units.get(unit_code),
            "position": problems.get(_optional, row, "position", 255),
            "category": problems.get(normalize_category, row.get("category")),
        }
        if "card_number" in present:
            card = problems.get(_optional, row, "card_number", 40)
            if card:
                owner = cards.get(card)
                if card in seen_cards:
                    problems.add("card_number", Message(
                        "số thẻ {card} trùng trong tệp (dòng {line})", card=card,
                        line=seen_cards[card]))
                elif owner is not None and owner != code:
                    problems.add("card_number", Message("số thẻ {card} đã cấp cho {owner}",
                                                        card=card, owner=owner))
            item["card_number"] = card
        if "email" in present:
            item["email"] = problems.get(_email, row)
        for column in ("start_date", "end_date"):
            if column in present:
                item[column] = problems.get(_parse_date, row.get(column), column)
        start = item.get("start_date", employees[code].start_date if code in employees else None)
        end = item.get("end_date", employees[code].end_date if code in employees else None)
        if start and end and end < start:
            problems.add("end_date", "ngày kết thúc trước ngày bắt đầu")
        head_of = _text(row.get("head_of")) if "head_of" in present else ""
        if head_of:
            if head_of not in units:
                problems.add("head_of", _no_unit(head_of))
            elif head_of in seen_heads:
                problems.add("head_of", Message("đơn vị {unit} đã có thủ trưởng ở dòng {line}",
                                                unit=head_of, line=seen_heads[head_of]))
            else:
                item["head_of"] = units[head_of]
        if problems:
            return
        seen_codes[code] = line
        if item.get("card_number"):
            seen_cards[item["card_number"]] = line
        if head_of:
            seen_heads[head_of] = line
        parsed.append(item)

    _check_rows(records, check, result, progress)

    if not _finish(result, skip_bad_rows):
        return result
    fields = ("full_name", "unit", "position", "category", "card_number", "email",
              "start_date", "end_date")
    created: list[Employee] = []
    moved: list[str] = []
    for item in parsed:
        employee = employees.get(item["code"])
        if employee is None:
            employee = Employee(code=item["code"])
            session.add(employee)
            employees[item["code"]] = employee
            created.append(employee)
            before = None
            result.created += 1
        else:
            before = tuple(getattr(employee, f) for f in fields)
            if item["unit"] is not employee.unit:
                moved.append(employee.code)
        for name in fields:
            if name in item:
                setattr(employee, name, item[name])
        head_changed = False
        if "head_of" in item and item["head_of"].head is not employee:
            item["head_of"].head = employee
            head_changed = True
        if before is not None:
            after = tuple(getattr(employee, f) for f in fields)
            if after == before and not head_changed:
                result.unchanged += 1
            else:
                result.updated += 1
    result.applied = True
    session.flush()
    now = _now(now)
    # Before any scan (setting up) there is no past for the changes to rewrite.
    first_scan = session.scalar(select(func.min(Scan.scanned_at)))
    if first_scan is not None:
        notice = _backdated(created, config, first_scan, now.astimezone(config.tz).date())
        if notice:
            result.notices.append(notice)
        if moved:
            result.notices.append(Message(
                "{count} cán bộ chuyển đơn vị: báo cáo xem lại những ngày đã qua sẽ tính họ vào "
                "đơn vị mới, kể cả trước ngày chuyển (báo cáo đã phát hành giữ nguyên). Mã: "
                "{codes}", count=len(moved), codes=_first_ten(moved)))
    _audit(session, "employees", filename or source, result, actor, now)
    return result


def _first_ten(items: list[str]) -> str:
    """The first ten of a notice's list, "…" for the rest."""
    return ", ".join(items[:10]) + (" …" if len(items) > 10 else "")


def _backdated(created: list[Employee], config: Config, first_scan: datetime,
               today: date) -> Message | None:
    """A notice for new staff who count from before today: with no ``start_date`` (or a past
    one) they are expected, and absent, on every working day the stations have recorded
    (since ``first_scan``), and the reports of those days change."""
    if not created:
        return None
    recorded_from = max(first_scan.astimezone(config.tz).date(), config.records_from or date.min)
    since = {e.code: max(e.start_date or date.min, recorded_from) for e in created}
    codes = sorted(code for code, day in since.items() if day < today)
    if not codes:
        return None
    return Message(
        "{count} cán bộ mới được tính từ trước hôm nay (không có ngày bắt đầu, hoặc ngày bắt "
        "đầu đã qua): các ngày làm việc đã qua, từ ngày {since}, sẽ tính là vắng không lý do "
        "và báo cáo của những ngày đó sẽ thay đổi. Nếu họ mới đến, hãy ghi cột start_date. "
        "Mã: {codes}", count=len(codes), since=min(since[c] for c in codes).strftime("%d/%m/%Y"),
        codes=_first_ten(codes))


# ---------------------------------------------------------------------------------------
# Scans


def import_scans(session: Session, source: Source, *, skip_bad_rows: bool = False,
                 progress: Progress | None = None, config: Config | None = None,
                 actor: str = "import", now: datetime | None = None,
                 filename: str | None = None) -> ImportResult:
    """Historic or offline scans: ``employee_code,scanned_at,station,kind``; idempotent.

    ``badge`` rows become accepted scans (source ``import:<station>``), ``no_badge`` rows
    become guards' no-badge records; both are chained like live records, so an instant
    still to come (past the stations' allowed clock skew) is a bad row. A date-time cell
    of an XLSX file (which has no offset) is taken in the deployment's timezone.
    """
    config = config or load_config()
    _names, records = _records(source, SCAN_COLUMNS, SCAN_REQUIRED)
    result = ImportResult("scans", rows=len(records))
    now = _now(now)
    employee_codes = {_text(row.get("employee_code")) for _line, row in records} - {""}
    employees: dict[str, Employee] = {}
    for chunk in _chunks(sorted(employee_codes)):
        for employee in session.scalars(select(Employee).where(Employee.code.in_(chunk))):
            employees[employee.code] = employee
    unit_codes = dict(session.execute(select(Unit.id, Unit.code)).all())
    stations = {s.code: s.id for s in session.scalars(select(Station))}

    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    latest = now + timedelta(seconds=config.clock_skew_seconds)  # a clock a little ahead

    def check(line: int, row: Mapping[str, Any], problems: _Problems) -> None:
        employee = problems.get(_employee, row, employees)
        instant = problems.get(_parse_instant, row.get("scanned_at"), config.tz)
        if instant is not None and instant > latest:  # chained: it could never be taken back
            problems.add("scanned_at", Message(
                "thời điểm {when} chưa tới; không nhập lượt quét chưa xảy ra",
                when=f"{instant.astimezone(config.tz):%d/%m/%Y %H:%M:%S}"))
        station = problems.get(_bounded, _text(row.get("station")), "station", 100)
        kind = (problems.get(_required, row, "kind") or "").lower()
        if kind and kind not in SCAN_KINDS:
            problems.add("kind", Message("loại {kind!r} không hợp lệ (chỉ nhận badge, no_badge)",
                                         kind=kind))
        if problems:
            return
        event_id = scan_event_id(employee.code, instant, station, kind)
        if event_id in seen:
            result.unchanged += 1  # the same scan twice in one file is one scan
            return
        seen.add(event_id)
        parsed.append({"line": line, "employee": employee, "at": instant,
                       "station": station, "kind": kind, "event_id": event_id})

    total = 2 * len(records)  # checking, then writing
    _check_rows(records, check, result, progress, total)

    if not _finish(result, skip_bad_rows):
        return result
    known: set[str] = set()
    badge_ids = [p["event_id"] for p in parsed if p["kind"] == "badge"]
    for chunk in _chunks(badge_ids):
        known.update(session.scalars(select(Scan.event_id).where(
            Scan.event_id.in_(chunk), Scan.source.like("import:%"))))
    nobadge_ids = [p["event_id"] for p in parsed if p["kind"] == "no_badge"]
    for chunk in _chunks(nobadge_ids):
        known.update(session.scalars(select(NoBadgeRecord.event_id).where(
            NoBadgeRecord.event_id.in_(chunk))))
    with BulkChains(session) as chains:
        for done, item in enumerate(parsed, start=1):
            _tick(progress, len(records) + done * len(records) // max(len(parsed), 1), total)
            if item["event_id"] in known:
                result.unchanged += 1
                continue
            employee = item["employee"]
            if item["kind"] == "badge":
                chains.append_row(Scan, dict(
                    source=f"import:{item['station']}", station_id=stations.get(item["station"]),
                    event_id=item["event_id"], employee_id=employee.id, status="accepted",
                    scanned_at=item["at"], station_time=item["at"], received_at=now, flags="",
                ), IMPORT_SCAN_STREAM)
            else:
                record = NoBadgeRecord(
                    employee_id=employee.id, recorded_at=item["at"], source="guard",
                    place=item["station"] or None, recorded_by=actor, event_id=item["event_id"],
                    void=False,
                )
                chains.append(record, f"nobadge:{unit_codes[employee.unit_id]}")
            result.created += 1
    findings.mark_stale(session, [(p["employee"].id, p["at"]) for p in parsed
                                  if p["event_id"] not in known])
    result.applied = True
    _audit(session, "scans", filename or source, result, actor, now)
    return result


# ---------------------------------------------------------------------------------------
# Excuses


def _open_excuse(session: Session, employee_id: int, *key: Any) -> bool:
    """Whether the employee has this excuse (dates, part, kind) not revoked."""
    start, end, part, kind = key
    return session.scalar(select(Excuse.id).where(
        Excuse.employee_id == employee_id, Excuse.start_date == start, Excuse.end_date == end,
        Excuse.part == part, Excuse.kind == kind, Excuse.status != excuses.REVOKED).limit(1)
    ) is not None


def import_excuses(session: Session, source: Source, *, skip_bad_rows: bool = False,
                   progress: Progress | None = None, config: Config | None = None,
                   actor: str = "import", now: datetime | None = None,
                   filename: str | None = None) -> ImportResult:
    """Approved leave and business trips: ``employee_code,start_date,end_date,part,kind,note``.

    An excuse is the same excuse when employee, dates, part and kind match; re-importing it
    updates the note, and approves it if it was pending or rejected, never if a head revoked
    its approval (a bad row: the file must not undo that decision). A row repeated in the
    file counts once, as a repeated scan does; the same excuse again with another note is a
    bad row (which note is meant?). The dates follow the rules of a request
    (``attendance.excuses.check_dates``): within the horizon, and on at least one working day
    of the employee; a file may bring excuses from any time before today.
    """
    config = config or load_config()
    _names, records = _records(source, EXCUSE_COLUMNS, EXCUSE_REQUIRED)
    result = ImportResult("excuses", rows=len(records))
    now = _now(now)
    today = now.astimezone(config.tz).date()
    calendar = WorkCalendar(config)
    employees = {e.code: e for e in session.scalars(select(Employee))}
    rows = excuses.employee_rows(session)
    unit_codes = dict(session.execute(select(Unit.id, Unit.code)).all())

    parsed: list[dict[str, Any]] = []
    seen: dict[tuple, tuple[int, str | None]] = {}  # excuse -> (its first line, its note)
    revoked = set(session.execute(  # few: a head's decision the file must not undo
        select(Excuse.employee_id, Excuse.start_date, Excuse.end_date, Excuse.part, Excuse.kind)
        .where(Excuse.status == excuses.REVOKED)).tuples())

    def check(line: int, row: Mapping[str, Any], problems: _Problems) -> None:
        employee = problems.get(_employee, row, employees)
        start = problems.get(_required_date, row, "start_date")
        end = problems.get(_required_date, row, "end_date")
        part = _text(row.get("part")).lower() or "full"
        if part not in EXCUSE_PARTS:
            problems.add("part", Message(
                "{part!r} không hợp lệ (chỉ nhận full, morning, afternoon)", part=part))
        elif start and end:
            try:
                excuses.check_dates(config, calendar, employee and rows[employee.id], start, end,
                                    part, today)
            except excuses.ExcuseError as exc:
                problems.add(exc.column, exc.args[0])
        kind = _text(row.get("kind")).lower() or "leave"
        if kind not in EXCUSE_KINDS:
            problems.add("kind", Message(
                "{kind!r} không hợp lệ (chỉ nhận leave, business_trip, other)", kind=kind))
        note = _text(row.get("note")) or None
        if problems:
            return
        key = (employee.code, start, end, part, kind)
        if key in seen:
            first, first_note = seen[key]
            if note == first_note:
                result.unchanged += 1  # the same excuse twice in one file is one excuse
            else:
                problems.add(None, Message("trùng với dòng {line} nhưng ghi chú khác",
                                           line=first))
            return
        seen[key] = (line, note)
        if (employee.id, start, end, part, kind) in revoked and not _open_excuse(
                session, employee.id, start, end, part, kind):
            problems.add(None, "đơn này đã bị hủy duyệt, không duyệt lại từ tệp "
                               "(người được nghỉ nộp đơn mới)")
            return
        parsed.append({"employee": employee, "start": start, "end": end, "part": part,
                       "kind": kind, "note": note})

    _check_rows(records, check, result, progress)

    if not _finish(result, skip_bad_rows):
        return result
    ids = sorted({item["employee"].id for item in parsed})
    existing: dict[tuple, Excuse] = {}
    standing: dict[int, list[Excuse]] = {}  # pending or approved, by employee id
    for chunk in _chunks(ids):
        for excuse in session.scalars(select(Excuse).where(Excuse.employee_id.in_(chunk))
                                      .order_by(Excuse.id)):
            key = (excuse.employee_id, excuse.start_date, excuse.end_date, excuse.part, excuse.kind)
            if excuse.status != excuses.REVOKED:
                existing.setdefault(key, excuse)
            if excuse.status in (excuses.PENDING, excuses.APPROVED):
                standing.setdefault(excuse.employee_id, []).append(excuse)
    to_approve: list[Excuse] = []
    for item in parsed:
        employee = item["employee"]
        key = (employee.id, item["start"], item["end"], item["part"], item["kind"])
        excuse = existing.get(key)
        if excuse is None:
            excuse = Excuse(employee_id=employee.id, start_date=item["start"], end_date=item["end"],
                            part=item["part"], kind=item["kind"], note=item["note"],
                            requested_by=actor, requested_at=now, status="approved")
            session.add(excuse)
            existing[key] = excuse
            standing.setdefault(employee.id, []).append(excuse)
            to_approve.append(excuse)
            result.created += 1
            continue
        changed = False
        if excuse.note != item["note"]:
            excuse.note = item["note"]
            changed = True
        if excuse.status != "approved":
            excuse.status = "approved"
            to_approve.append(excuse)
            changed = True
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()  # the decisions' hashes cover the excuse ids
    units_of = {e.id: e.unit_id for e in employees.values()}
    with BulkChains(session) as chains:
        for excuse in to_approve:
            unit_code = unit_codes[units_of[excuse.employee_id]]
            chains.append(ExcuseDecision(excuse_id=excuse.id, decision="approved", decided_by=actor,
                                         reason=excuse.note or "Nhập từ tệp", decided_at=now),
                          f"excuse:{unit_code}")
    findings.mark_stale(session, [(excuse.employee_id, day) for excuse in to_approve
                                  for day in findings.days(excuse.start_date, excuse.end_date)])
    notice = _overlapping(to_approve, standing, {e.id: e.code for e in employees.values()})
    if notice:
        result.notices.append(notice)
    result.applied = True
    _audit(session, "excuses", filename or source, result, actor, now)
    return result


def _overlapping(approved: list[Excuse], standing: dict[int, list[Excuse]],
                 codes: dict[int, str]) -> Message | None:
    """A notice for excuses the file approved that cover a day (or half-day) which another
    pending or approved excuse of the same employee covers. The form refuses such a request;
    a file is HR's record and is kept whole, but a head should take back what is now extra
    (the same leave filed twice, an old version of a trip)."""
    clashing = [excuse for excuse in approved
                if any(other is not excuse and excuses.overlap(excuse, other)
                       for other in standing.get(excuse.employee_id, ()))]
    if not clashing:
        return None
    shown = [f"{codes[e.employee_id]} ({excuses.span(e)})" for e in clashing]
    return Message(
        "{count} đơn trong tệp trùng thời gian với đơn khác (đang chờ duyệt hoặc đã duyệt) "
        "của cùng người; cả hai đều được giữ. Nếu đơn nào là thừa, trưởng đơn vị hãy từ chối "
        "hoặc hủy duyệt nó. Đơn: {excuses}", count=len(clashing),
        excuses=_first_ten(shown))
