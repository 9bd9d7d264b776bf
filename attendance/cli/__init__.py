"""The ``attendance`` command line.

Each subcommand lives in its own module and is imported only when it runs, so that
``attendance --help`` stays fast and a command's dependencies load only for that command.
"""

from __future__ import annotations

import errno
import importlib
import sys

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from attendance.cli import messages
from attendance.cli.context import AppContext, UserError
from attendance.config import ConfigError

COMMANDS = {
    "init-db": ("attendance.cli.db:init_db", "Tạo hoặc nâng cấp cơ sở dữ liệu (create or upgrade the schema)."),
    "demo": ("attendance.cli.demo:demo", "Nạp dữ liệu mẫu của một tỉnh (load the demo province)."),
    "serve": ("attendance.cli.serve:serve", "Chạy dịch vụ web (run the web service)."),
    "scheduler": ("attendance.cli.serve:scheduler", "Chạy bộ lập lịch báo cáo (run the scheduler)."),
    "import": ("attendance.cli.imports:import_group", "Nhập dữ liệu từ CSV/XLSX (import files)."),
    "badges": ("attendance.cli.badges:badges", "Cấp, thu hồi, in thẻ (badges)."),
    "keys": ("attendance.cli.badges:keys", "Khóa ký thẻ (badge signing keys)."),
    "station": ("attendance.cli.station:station", "Điểm quét thẻ (stations)."),
    "report": ("attendance.cli.reports:report", "Báo cáo ngày, tháng (reports)."),
    "violations": ("attendance.cli.reports:violations", "Nhật ký vi phạm (violation log)."),
    "offenders": ("attendance.cli.reports:offenders", "Vi phạm nhiều lần (repeat offenders)."),
    "findings": ("attendance.cli.findings:findings_group",
                 "Nhật ký vi phạm đã tính sẵn (stored findings of the violation log)."),
    "audit": ("attendance.cli.audit:audit", "Kiểm tra chuỗi băm (verify hash chains)."),
    "user": ("attendance.cli.users:user", "Tài khoản người dùng (users)."),
}


OS_ERRORS = {
    errno.ENOENT: "không có tệp hoặc thư mục này",
    errno.EACCES: "không có quyền",
    errno.EPERM: "không có quyền",
    errno.ENOSPC: "đĩa đã đầy",
    errno.EISDIR: "đây là một thư mục",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
}


class CommandError(click.ClickException):
    """Shown as one Vietnamese line on stderr, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"Lỗi: {self.format_message()}", err=True, file=file)


class LazyGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ConfigError, UserError) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:  # a file to read or write: -o into a folder that is not there
            if exc.errno == errno.EPIPE:  # `| head` stopped reading: click ends quietly
                raise
            reason = OS_ERRORS.get(exc.errno, exc.strerror or str(exc))
            name = f" {exc.filename}" if exc.filename else ""
            raise CommandError(f"tệp{name}: {reason}") from None
        except (OperationalError, ProgrammingError) as exc:
            detail = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            if 'database "' in detail and "does not exist" in detail:
                detail += (" — hãy tạo cơ sở dữ liệu này trên máy chủ PostgreSQL (createdb) rồi "
                           "chạy `attendance init-db` (create the database first)")
            elif "no such table" in detail or "does not exist" in detail:
                detail += " — hãy chạy `attendance init-db` trước (run init-db first)"
            raise CommandError(f"cơ sở dữ liệu: {detail}") from None

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section(messages.gettext("Commands")):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.option("--config", "config_path", envvar="ATTENDANCE_CONFIG", type=click.Path(dir_okay=False),
              help="Tệp cấu hình (TOML); mặc định: ATTENDANCE_CONFIG hoặc tệp có sẵn "
                   "(config file).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Chấm công và kiểm tra đeo thẻ — attendance and badge checks."""
    ctx.obj = AppContext(config_path)
    ctx.call_on_close(ctx.obj.close)


def main(argv: list[str] | None = None) -> int:
    messages.install()
    try:
        # Without standalone mode click returns ctx.exit(n)'s status instead of exiting.
        status = cli.main(args=argv, prog_name="attendance", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Đã hủy (aborted).", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
