"""``attendance findings refresh``: (re)build the violation log's stored findings.

The scheduler keeps them current on its own (``findings.refresh``); this command does the
same at once and without its per-run limit (after an upgrade or a config change), or
rebuilds the days of ``--from``/``--to`` whether they are due or not.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from attendance import findings
from attendance.cli.context import AppContext, UserError, parse_date, pass_app
from attendance.jobs import FINDINGS_LOCK_KEY, advisory_lock


@click.group("findings")
def findings_group() -> None:
    """Nhật ký vi phạm đã tính sẵn (the violation log's stored findings)."""


@findings_group.command("refresh")
@click.option("--from", "first",
              help="Từ ngày, dd/mm/yyyy hoặc YYYY-MM-DD (mặc định: như --to).")
@click.option("--to", "last",
              help="Đến hết ngày, dd/mm/yyyy hoặc YYYY-MM-DD (mặc định: như --from).")
@pass_app
def refresh(app: AppContext, first: str | None, last: str | None) -> None:
    """Tính lại các ngày có dữ liệu thay đổi và lưu các ngày đã kết thúc; với --from/--to:
    tính lại mọi ngày trong khoảng đó."""
    config = app.config
    now = datetime.now(UTC)
    only = None
    if first or last:
        first_day = parse_date(first or last, "--from" if first else "--to")
        last_day = parse_date(last or first, "--to" if last else "--from")
        if first_day > last_day:
            raise UserError("--from phải trước hoặc bằng --to")
        settled = findings.last_settled_day(config, now)
        if last_day > settled:
            raise UserError(f"ngày {last_day.isoformat()} chưa kết thúc (được tính sau 1 giờ "
                            f"sáng hôm sau); ngày gần nhất có thể tính: {settled.isoformat()}")
        only = list(findings.days(first_day, last_day))
    with advisory_lock(app.session_factory, FINDINGS_LOCK_KEY, wait=True):
        run = findings.refresh(app.session_factory, config, now, max_days=None, only=only)
    click.echo(f"Đã tính lại {run.marks} mục có dữ liệu thay đổi; đã lưu {len(run.days)} ngày "
               f"({run.findings} vi phạm).")
