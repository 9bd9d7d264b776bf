"""``attendance import units|employees|scans|excuses FILE [--skip-bad-rows]``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import IntegrityError

from attendance.cli.context import AppContext, UserError, pass_app, progress_enabled

#: Files with at least this many data rows get a progress bar (on a terminal only).
PROGRESS_MIN_ROWS = 2000

LABELS = {
    "units": "đơn vị",
    "employees": "cán bộ, công chức, viên chức, người lao động",
    "scans": "lượt quét thẻ",
    "excuses": "đơn nghỉ phép, đi công tác",
}


class _Rollback(Exception):
    """Leaves the unit of work without committing."""


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    if not progress_enabled():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(f"Đang nhập {label}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), transient=True)
    task = None

    def advance(done: int, total: int) -> None:
        nonlocal task
        if total < PROGRESS_MIN_ROWS:  # small files finish before a bar helps
            return
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done)

    try:
        yield advance
    finally:
        if task is not None:
            bar.stop()


def _run(app: AppContext, kind: str, path: str, skip_bad_rows: bool) -> None:
    from attendance import imports

    function = {
        "units": imports.import_units, "employees": imports.import_employees,
        "scans": imports.import_scans, "excuses": imports.import_excuses,
    }[kind]
    result = None
    try:
        with _progress_bar(LABELS[kind]) as progress, app.session() as session:
            result = function(session, path, skip_bad_rows=skip_bad_rows, progress=progress,
                              actor="cli", config=app.config)
            if not result.applied:
                raise _Rollback
    except imports.ImportFileError as exc:
        raise UserError(str(exc)) from None
    except IntegrityError as exc:  # a conflict validation could not foresee; nothing was kept
        raise UserError(f"không nhập được tệp (xung đột dữ liệu): {exc.orig}") from None
    except _Rollback:
        pass
    for error in result.errors:
        click.echo(str(error), err=True)
    for notice in result.notices:
        click.echo(f"Lưu ý: {notice}", err=True)
    click.echo(f"Nhập {LABELS[kind]} từ {click.format_filename(path)}: {result.summary()}")
    # Skipped rows are what --skip-bad-rows asks for, not a failure; a file refused whole,
    # or one with no good row to import, is.
    if result.skipped and not result.imported:
        raise click.exceptions.Exit(1)


def _subcommand(kind: str, help_text: str) -> click.Command:
    @click.command(kind, help=help_text)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--skip-bad-rows", is_flag=True,
                  help="Nhập các dòng hợp lệ và báo các dòng lỗi (import the good rows).")
    @pass_app
    def command(app: AppContext, file: str, skip_bad_rows: bool) -> None:
        _run(app, kind, file, skip_bad_rows)

    return command


@click.group("import")
def import_group() -> None:
    """Nhập dữ liệu từ CSV (UTF-8) hoặc XLSX; nhập lại chỉ cập nhật, không nhân đôi."""


import_group.add_command(_subcommand(
    "units", "Đơn vị: code,name,parent_code,schedule."))
import_group.add_command(_subcommand(
    "employees", "Cán bộ: code,full_name,unit_code,position,category"
                 "[,card_number,email,start_date,end_date,head_of]."))
import_group.add_command(_subcommand(
    "scans", "Lượt quét thẻ: employee_code,scanned_at,station,kind (badge | no_badge)."))
import_group.add_command(_subcommand(
    "excuses", "Nghỉ phép, công tác đã duyệt: employee_code,start_date,end_date,part,kind,note."))
