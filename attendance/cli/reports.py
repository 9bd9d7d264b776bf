"""``attendance report daily|monthly``, ``attendance violations`` and ``attendance offenders``.

Each command compiles its report once and writes it as json, csv, xlsx or pdf, to a file
(``-o``) or to standard output (xlsx and pdf only when it is not a terminal). Today's date
is read here, at the edge, and passed in: a month in progress is counted up to yesterday,
the last day that is over (today's absences are not known before the day ends).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta, timezone

import click
from sqlalchemy import select

from attendance import exports
from attendance.calendar import YEARS
from attendance.cli.context import AppContext, UserError, parse_date, pass_app
from attendance.config import Config
from attendance.models import Employee, Unit
from attendance.reports import violations as violation_log
from attendance.reports import (
    EXCUSED, KIND_LABELS, OPEN, MonthlyReport, Offender, compile_daily, compile_monthly,
    count_text, daily_json, in_progress_as_of, kind_from_text, month_bounds, monthly_json,
    offenders_json, offenders_of, violations_json,
)

FORMATS = ["json", "csv", "xlsx", "pdf"]

_unit_option = click.option("--unit", "unit_code",
                            help="Mã đơn vị (kèm các đơn vị trực thuộc).")
_format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="json",
                              show_default=True)
_output_option = click.option("-o", "--output", type=click.Path(dir_okay=False),
                              help="Ghi ra tệp thay vì màn hình.")
_until_option = click.option("--until", "until",
                             help="Tính đến hết ngày (dd/mm/yyyy hoặc YYYY-MM-DD); "
                                  "mặc định: hôm qua.")


def _parse_as_of(text: str | None, config, day: date) -> datetime | None:
    """The instant a day is reported as of: given, or now for a day not over yet."""
    if text is None or text == "now":
        return in_progress_as_of(config, day, _now())
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise UserError(f"thời điểm không hợp lệ: {text!r} (cần ISO 8601 có múi giờ, hoặc now)")
    return instant


def _parse_month(text: str) -> date:
    """``YYYY-MM``, or ``mm/yyyy`` as the date options take ``dd/mm/yyyy``."""
    month, slash, year = text.strip().partition("/")
    if slash and month.isdigit() and year.isdigit():
        text = f"{year}-{int(month):02d}"
    try:
        first = month_bounds(text)[0]
    except (ValueError, OverflowError):  # month_bounds overflows on 9999-12
        first = None
    if first is None or first.year not in YEARS:
        raise UserError(f"tháng không hợp lệ: {text!r} (cần dạng YYYY-MM hoặc mm/yyyy, năm từ "
                        f"{YEARS[0]} đến {YEARS[-1]})")
    return first


def _today(config: Config) -> date:
    return _now().astimezone(config.tz).date()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _through(config: Config, until: str | None, option: str = "--until") -> date:
    return parse_date(until, option) if until else _today(config) - timedelta(days=1)


def _letterhead(session, config: Config, unit_code: str | None) -> dict:
    """A PDF's header and signature: the issuing unit's name, today, and its head's name."""
    unit_name = head = None
    if unit_code is not None:
        row = session.execute(select(Unit.name, Unit.head_id).where(Unit.code == unit_code)
                              ).first()
        if row is not None:
            unit_name = row.name
            if row.head_id is not None:
                head = session.execute(select(Employee.full_name)
                                       .where(Employee.id == row.head_id)).scalar_one_or_none()
    return {"unit_name": unit_name, "issued_on": _today(config), "signer_name": head}


def _month_report(session, config: Config, first: date, unit_code: str | None,
                  through: date) -> tuple[MonthlyReport, list[Offender]]:
    """The month compiled up to ``through``, and its repeat offenders."""
    try:
        compiled = compile_monthly(session, config, first, unit_code, through=through)
    except LookupError:
        raise _unknown_unit(unit_code) from None
    return compiled, offenders_of(compiled, config)


def _write(data: bytes | str, output: str | None, fmt: str) -> None:
    if isinstance(data, str):
        data = (data + "\n").encode("utf-8")
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        return
    if fmt in ("xlsx", "pdf") and sys.stdout.isatty():
        raise UserError(f"định dạng {fmt} cần tệp ra: thêm -o TỆP")
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _unknown_unit(unit_code: str | None) -> UserError:
    return UserError(f"không có đơn vị mã {unit_code!r}")


@click.group()
def report() -> None:
    """Báo cáo ngày, tháng (daily and monthly reports)."""


@report.command("daily")
@click.option("--date", "day", required=True, help="Ngày báo cáo, dd/mm/yyyy hoặc YYYY-MM-DD.")
@_unit_option
@_format_option
@_output_option
@click.option("--as-of", "as_of", metavar="now|ISO",
              help="Tính đến thời điểm này (không ghi nhận vắng trước khi hết giờ); mặc "
                   "định: bây giờ, với ngày chưa kết thúc.")
@pass_app
def daily(app: AppContext, day: str, unit_code: str | None, fmt: str, output: str | None,
          as_of: str | None) -> None:
    """Báo cáo ngày của đơn vị (daily report)."""
    the_day = parse_date(day, "--date")
    config = app.config
    with app.session() as session:
        try:
            compiled = compile_daily(session, config, the_day, unit_code,
                                     as_of=_parse_as_of(as_of, config, the_day))
        except LookupError:
            raise _unknown_unit(unit_code) from None
        if fmt == "json":
            data: bytes | str = _json(daily_json(compiled))
        elif fmt == "csv":
            data = exports.daily_csv(compiled)
        elif fmt == "xlsx":
            data = exports.daily_xlsx(compiled)
        else:
            data = exports.daily_pdf(compiled, config, **_letterhead(session, config, unit_code))
    _write(data, output, fmt)


@report.command("monthly")
@click.option("--month", required=True, help="Tháng báo cáo, YYYY-MM.")
@_unit_option
@_format_option
@_until_option
@_output_option
@pass_app
def monthly(app: AppContext, month: str, unit_code: str | None, fmt: str, until: str | None,
            output: str | None) -> None:
    """Báo cáo tháng: số liệu từng người, tỷ lệ và xếp hạng thi đua các đơn vị."""
    first = _parse_month(month)
    config = app.config
    through = _through(config, until)
    with app.session() as session:
        compiled, offenders = _month_report(session, config, first, unit_code, through)
        if fmt == "json":
            data: bytes | str = _json({**monthly_json(compiled),
                                       "repeat_offenders": offenders_json(
                                           first, offenders, config)["offenders"]})
        elif fmt == "csv":
            data = exports.monthly_csv(compiled)
        elif fmt == "xlsx":
            data = exports.monthly_xlsx(compiled, offenders)
        else:
            data = exports.monthly_pdf(compiled, config, offenders,
                                       **_letterhead(session, config, unit_code))
    _write(data, output, fmt)


@click.command("violations")
@click.option("--from", "first",
              help="Từ ngày (dd/mm/yyyy hoặc YYYY-MM-DD); mặc định: đầu tháng này.")
@click.option("--to", "last", help="Đến hết ngày (dd/mm/yyyy hoặc YYYY-MM-DD); mặc định: hôm qua.")
@_unit_option
@click.option("--type", "types", multiple=True,
              help="Loại vi phạm: late, early_leave, missing_checkout, no_badge, "
                   "absent_from_post, absent, missed_session (hoặc tên tiếng Việt); lặp lại được.")
@click.option("--employee", help="Mã cán bộ.")
@click.option("--status", type=click.Choice([OPEN, EXCUSED]),
              help="open: không có lý do; excused: có lý do đã duyệt.")
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="Số dòng tối đa.")
@_format_option
@_output_option
@pass_app
def violations(app: AppContext, first: str | None, last: str | None,
               unit_code: str | None, types: tuple[str, ...], employee: str | None,
               status: str | None, offset: int, limit: int | None, fmt: str,
               output: str | None) -> None:
    """Nhật ký vi phạm (violation log): mọi vi phạm, kể cả đã có lý do."""
    config = app.config
    last_day = _through(config, last, "--to")
    first_day = parse_date(first, "--from") if first else last_day.replace(day=1)
    if first_day > last_day:
        raise UserError("--from phải trước hoặc bằng --to")
    try:
        kinds = [kind_from_text(t) for t in types] or None
    except ValueError as exc:
        raise UserError(f"loại vi phạm không hợp lệ: {exc} (chọn một trong: "
                        f"{', '.join(f'{k} ({v})' for k, v in KIND_LABELS.items())})") from None
    # A PDF holds at most exports.PDF_MAX_ROWS rows unless --limit says how many, as on the
    # web: 71,000 rows took 13 minutes and 1.7 GB, beside the service on its machine.
    capped = fmt == "pdf" and limit is None
    with app.session() as session:
        try:
            rows, total = violation_log(session, config, first_day, last_day, unit_code=unit_code,
                                        kinds=kinds, employee=employee, status=status,
                                        offset=offset, now=_now(),
                                        limit=exports.PDF_MAX_ROWS + 1 if capped else limit)
        except LookupError:
            raise _unknown_unit(unit_code) from None
        if employee and not rows and session.scalar(
                select(Employee.id).where(Employee.code == employee)) is None:
            raise UserError(f"không có cán bộ mã {employee!r}")  # a typo, not a clean record
        if fmt == "json":
            data: bytes | str = _json(violations_json(rows, total, config, first=first_day,
                                                      last=last_day, offset=offset))
        elif fmt == "csv":
            data = exports.violations_csv(rows, config)
        elif fmt == "xlsx":
            data = exports.violations_xlsx(rows, config)
        else:
            try:
                data = exports.violations_pdf(rows, config, first=first_day, last=last_day,
                                              max_rows=exports.PDF_MAX_ROWS if capped else None,
                                              **_letterhead(session, config, unit_code))
            except exports.TooManyRows:
                raise UserError(
                    f"nhật ký có {count_text(total)} dòng, quá nhiều cho một tệp PDF (tối đa "
                    f"{count_text(exports.PDF_MAX_ROWS)}): hãy thu hẹp bộ lọc, chọn --limit và "
                    "--offset, hoặc dùng --format xlsx hay csv") from None
    _write(data, output, fmt)


@click.command("offenders")
@click.option("--month", required=True, help="Tháng, YYYY-MM.")
@_unit_option
@_until_option
@_format_option
@_output_option
@pass_app
def offenders(app: AppContext, month: str, unit_code: str | None, until: str | None, fmt: str,
              output: str | None) -> None:
    """Vi phạm nhiều lần trong tháng (repeat offenders) theo ngưỡng trong cấu hình."""
    first = _parse_month(month)
    config = app.config
    through = _through(config, until)
    with app.session() as session:
        _compiled, found = _month_report(session, config, first, unit_code, through)
        if fmt == "json":
            data: bytes | str = _json(offenders_json(first, found, config))
        elif fmt == "csv":
            data = exports.offenders_csv(first, found)
        elif fmt == "xlsx":
            data = exports.offenders_xlsx(first, found)
        else:
            data = exports.offenders_pdf(first, found, config,
                                         **_letterhead(session, config, unit_code))
    _write(data, output, fmt)
