"""``attendance demo [--if-empty] [--seed N] [--today D]``: load the demo province (D as
dd/mm/yyyy or YYYY-MM-DD)."""

from __future__ import annotations

import time

import click

from attendance.cli.context import AppContext, UserError, parse_date, pass_app


def _parse_day(_ctx, _param, value: str | None):
    return None if value is None else parse_date(value, "--today")


@click.command("demo")
@click.option("--if-empty", is_flag=True,
              help="Không làm gì nếu cơ sở dữ liệu đã có đơn vị (do nothing unless empty).")
@click.option("--seed", type=int, default=None, show_default="2026",
              help="Hạt giống ngẫu nhiên: cùng hạt giống, cùng dữ liệu (random seed).")
@click.option("--today", callback=_parse_day, metavar="dd/mm/yyyy",
              help="Ngày cuối của dữ liệu mẫu (mặc định: hôm nay theo múi giờ cấu hình).")
@click.option("--no-badges", is_flag=True, help="Không cấp thẻ (skip issuing badges).")
@pass_app
def demo(app: AppContext, if_empty: bool, seed: int | None, today, no_badges: bool) -> None:
    """Nạp dữ liệu mẫu của một tỉnh: đơn vị, cán bộ, thẻ, điểm quét, bốn tuần quét thẻ."""
    from attendance.demo import DEFAULT_SEED, demo_needed, load_demo

    config = app.config
    started = time.perf_counter()
    with app.session() as session:
        if not demo_needed(session):
            if if_empty:
                click.echo("Cơ sở dữ liệu đã có dữ liệu: không nạp dữ liệu mẫu.")
                return
            raise UserError("cơ sở dữ liệu đã có dữ liệu; dữ liệu mẫu chỉ nạp vào cơ sở dữ liệu "
                            "trống (dùng --if-empty để bỏ qua)")
        summary = load_demo(session, config, seed=DEFAULT_SEED if seed is None else seed,
                            today=today, badges=not no_badges)
    elapsed = time.perf_counter() - started
    click.echo(f"Đã nạp dữ liệu mẫu trong {elapsed:.1f} giây: "
               f"{summary.units} đơn vị, {summary.employees} cán bộ, {summary.stations} điểm quét thẻ.")
    click.echo(f"Từ {summary.first_day:%d/%m/%Y} đến {summary.last_day:%d/%m/%Y} "
               f"({summary.working_days} ngày làm việc): {summary.scans} lượt quét thẻ, "
               f"{summary.no_badge} lượt không đeo thẻ, {summary.excuses} đơn nghỉ phép/công tác, "
               f"{summary.spot_checks} cuộc kiểm tra đột xuất ({summary.findings} kết quả).")
    if summary.badges is None:
        click.echo("Chưa cấp thẻ (chức năng thẻ chưa có trong bản cài đặt này).")
    elif summary.badges:
        click.echo(f"Đã cấp {summary.badges} thẻ công chức.")
    click.echo("Tài khoản dùng thử (tên đăng nhập / mật khẩu):")
    for account in summary.accounts:
        click.echo(f"  {account.username} / {account.password}  — {account.description}")
