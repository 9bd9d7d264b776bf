"""``attendance audit verify`` and ``attendance audit list``."""

import click
from sqlalchemy import select

from attendance.audit import action_label, verify_chains
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


@audit.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Số mục mới nhất (the newest entries).")
@click.option("--format", "fmt", type=click.Choice(["text", "csv"]), default="text",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Ghi ra tệp thay vì màn hình.")
@pass_app
def list_entries(app: AppContext, limit: int, fmt: str, output: str | None) -> None:
    """Các mục mới nhất của nhật ký hệ thống, mới nhất trước; thao tác ghi bằng tên tiếng
    Việt kèm mã, chi tiết theo từng mục có tên (the latest audit entries, each action with its
    label and code, its details as labelled fields as the audit log page shows them; the csv
    keeps the details as recorded, JSON)."""
    from attendance import exports
    from attendance.audit_details import detail_fields, fields_text, shown_target
    from attendance.cli.reports import _write
    from attendance.models import AuditEntry

    tz = app.config.tz
    with app.session() as session:
        entries = session.scalars(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
        if fmt == "csv":
            _write(exports.audit_csv(entries, tz), output, fmt)
            return
        if not entries:
            click.echo("Nhật ký hệ thống chưa có mục nào.")
            return
        _write("\n".join(
            "\t".join((f"#{e.seq}", f"{e.at.astimezone(tz):%d/%m/%Y %H:%M:%S}", e.actor,
                       f"{action_label(e.action)} [{e.action}]", shown_target(e.action, e.target),
                       fields_text(detail_fields(e.details, tz))))
            for e in entries), output, fmt)
