"""``attendance station …``: register stations (điểm quét thẻ), list them, purge old photos.

``station add`` prints the new key once, alone on stdout (so a script can capture it);
only its hash is stored, and an audit entry records who registered what.
"""

from __future__ import annotations

from datetime import datetime, timezone

import click
from sqlalchemy import select

from attendance import scans as service
from attendance.cli.context import AppContext, UserError, pass_app
from attendance.models import Station, Unit

ACTOR = "cli"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@click.group("station")
def station() -> None:
    """Điểm quét thẻ: đăng ký, liệt kê (stations: add, list, purge-evidence)."""


@station.command("add")
@click.argument("code")
@click.option("--unit", "unit_code", required=True, help="Mã đơn vị của điểm quét (unit code).")
@click.option("--name", help="Tên hoặc vị trí, ví dụ \"Cổng chính\" (name or place).")
@pass_app
def add(app: AppContext, code: str, unit_code: str, name: str | None) -> None:
    """Đăng ký điểm quét CODE và in khóa của nó một lần duy nhất (register; prints the key once)."""
    with app.session() as session:
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise UserError(f"không có đơn vị mã {unit_code!r}")
        try:
            registered, key = service.register_station(session, code, unit, name=name,
                                                       now=_now(), actor=ACTOR)
        except service.StationError as exc:
            raise UserError(str(exc)) from None
        label = registered.code
    click.echo(f"Đã đăng ký điểm quét {label} (đơn vị {unit_code}). Khóa của điểm quét, chỉ"
               " hiện một lần này — hãy lưu lại (attendance-station --key …):", err=True)
    click.echo(key)


@station.command("list")
@pass_app
def list_stations(app: AppContext) -> None:
    """Liệt kê các điểm quét và lần cuối liên lạc (list stations and when last seen)."""
    tz = app.config.tz
    with app.session() as session:
        rows = session.scalars(select(Station).order_by(Station.code)).all()
        if not rows:
            click.echo("Chưa có điểm quét nào.")
            return
        for row in rows:
            seen = (row.last_seen_at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S")
                    if row.last_seen_at else "chưa kết nối")
            state = "" if row.active else "\tđã ngừng"
            click.echo(f"{row.code}\t{row.unit.code}\t{row.name or ''}\t{seen}{state}")


@station.command("purge-evidence")
@pass_app
def purge_evidence(app: AppContext) -> None:
    """Xóa ảnh ghi nhận quá thời hạn lưu (delete evidence photos past the retention period)."""
    with app.session() as session:
        deleted = service.purge_evidence(session, app.config, _now())
    click.echo(f"Đã xóa {deleted} ảnh ghi nhận cũ hơn {app.config.evidence_retention_days} ngày.")
