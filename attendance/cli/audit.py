"""``attendance audit verify``."""

import click

from attendance.audit import verify_chains
from attendance.cli.context import AppContext, pass_app


@click.group()
def audit() -> None:
    """Nhật ký hệ thống và chuỗi băm (audit log and hash chains)."""


@audit.command("verify")
@pass_app
def verify(app: AppContext) -> None:
    """Kiểm tra chuỗi băm của lượt quét, ghi nhận và nhật ký (exit 1 if broken)."""
    with app.session() as session:
        checked, broken = verify_chains(session)
    if broken is not None:
        click.echo(f"Chuỗi bị phá vỡ tại: {broken}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"Toàn vẹn: đã kiểm tra {checked} bản ghi, không có liên kết nào bị phá vỡ.")
