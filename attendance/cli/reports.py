"""``attendance report daily|monthly``, ``attendance violations`` and ``attendance offenders``."""

from __future__ import annotations

import json
from datetime import date

import click

from attendance.cli.context import AppContext, UserError, pass_app
from attendance.reports import daily_report


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"ngày không hợp lệ: {text!r} (cần dạng YYYY-MM-DD)") from None


@click.group()
def report() -> None:
    """Báo cáo ngày, tháng (daily and monthly reports)."""


@report.command("daily")
@click.option("--date", "day", required=True, help="Ngày báo cáo, YYYY-MM-DD.")
@click.option("--unit", "unit_code", help="Mã đơn vị (kèm các đơn vị trực thuộc).")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Ghi ra tệp thay vì màn hình.")
@pass_app
def daily(app: AppContext, day: str, unit_code: str | None, fmt: str, output: str | None) -> None:
    """Báo cáo ngày của đơn vị (daily report)."""
    the_day = _parse_date(day)
    with app.session() as session:
        try:
            data = daily_report(session, app.config, the_day, unit_code)
        except LookupError:
            raise UserError(f"không có đơn vị mã {unit_code!r}") from None
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        click.echo(text)
