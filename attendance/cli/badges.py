"""``attendance badges …`` (issue, revoke, reissue, payload, verify, print) and ``attendance keys …``.

The signing keys live in ``ATTENDANCE_KEYS_DIR`` or ``<instance>/keys`` (``--keys-dir`` on
either group overrides both). Every change to badges is one unit of work, committed at the
end of the command, with an entry in the audit log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import click
from sqlalchemy import func, select

from attendance.names import name_sort_key
from attendance import badges as service
from attendance.cli.context import AppContext, UserError, pass_app, progress_enabled
from attendance.models import Badge, Employee

ACTOR = "cli"
KEYS_DIR_META = "attendance.keys_dir"

_keys_dir_option = click.option(
    "--keys-dir", type=click.Path(file_okay=False), envvar=service.KEYS_DIR_ENV,
    help="Thư mục khóa ký thẻ (mặc định: ATTENDANCE_KEYS_DIR hoặc <instance>/keys).",
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _keyring() -> service.Keyring:
    return service.Keyring(click.get_current_context().meta.get(KEYS_DIR_META))


def _keyring_for_signing() -> service.Keyring:
    """The keyring, created with a first key if there is none yet (said on stderr)."""
    keyring = _keyring()
    if not keyring.exists:
        info = keyring.init(_now())
        click.echo(f"Chưa có khóa ký thẻ: đã tạo khóa {info.key_id} trong {keyring.directory}.",
                   err=True)
    return keyring


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except service.BadgeError as exc:
        raise UserError(str(exc)) from None


def _employees(session, refs: Sequence[str]) -> list[Employee]:
    found, missing = [], []
    for ref in refs:
        employee = service.find_employee(session, ref)
        (found if employee else missing).append(employee or ref)
    if missing:
        raise UserError(f"không có cán bộ, công chức mã {', '.join(missing)}")
    return found


def _unit_employees(session, unit_code: str, *, active_today: bool) -> list[Employee]:
    try:
        return service.unit_employees(session, unit_code,
                                      on=_now().date() if active_today else None)
    except LookupError:
        raise UserError(f"không có đơn vị mã {unit_code!r}") from None


@contextmanager
def _progress(label: str, total: int, enabled: bool) -> Iterator[Callable[[], None] | None]:
    if not (enabled and progress_enabled()):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


# --- badges ----------------------------------------------------------------------------


@click.group()
@_keys_dir_option
@click.pass_context
def badges(ctx: click.Context, keys_dir: str | None) -> None:
    """Thẻ công chức: cấp, thu hồi, in thẻ (badges)."""
    ctx.meta[KEYS_DIR_META] = keys_dir


@badges.command("issue")
@click.option("--all", "everyone", is_flag=True, help="Mọi người đang công tác.")
@click.option("--unit", "unit_code", help="Mã đơn vị (kèm các đơn vị trực thuộc).")
@click.argument("employees", nargs=-1)
@pass_app
def issue(app: AppContext, everyone: bool, unit_code: str | None, employees: tuple[str, ...]) -> None:
    """Cấp thẻ cho người chưa có thẻ đang hiệu lực (--all | --unit U | EMPLOYEE…)."""
    if sum((everyone, unit_code is not None, bool(employees))) != 1:
        raise UserError("chọn đúng một trong: --all, --unit MÃ_ĐƠN_VỊ, hoặc mã cán bộ")
    with _errors(), app.session() as session:
        if everyone:
            today = _now().date()
            people = [e for e in session.scalars(select(Employee).order_by(Employee.code))
                      if e.is_active_on(today)]
        elif unit_code is not None:
            people = _unit_employees(session, unit_code, active_today=True)
        else:
            people = _employees(session, employees)
        keyring = _keyring_for_signing()  # only once the selection is known to be right
        result = service.issue_badges(session, people, keyring, now=_now(), actor=ACTOR)
        for badge in result.issued if employees else ():
            click.echo(f"{badge.employee.code}\t{badge.employee.full_name}\t{badge.serial}")
        long_codes = [b.employee.code for b in result.issued
                      if service.payload_length(b.employee.code) > service.PAYLOAD_TARGET]
    click.echo(f"Đã cấp {len(result.issued)} thẻ mới (khóa {keyring.current_key_id}); "
               f"{len(result.already_had)} người đã có thẻ đang hiệu lực.")
    if long_codes:
        click.echo(f"Lưu ý: {len(long_codes)} mã cán bộ dài, mã QR dài hơn "
                   f"{service.PAYLOAD_TARGET} ký tự (ví dụ {long_codes[0]}).", err=True)


@badges.command("revoke")
@click.argument("employee")
@click.option("--reason", required=True, help="Lý do thu hồi (ghi vào nhật ký hệ thống).")
@pass_app
def revoke(app: AppContext, employee: str, reason: str) -> None:
    """Thu hồi thẻ đang hiệu lực; các lượt quét sau đó bị từ chối."""
    with _errors(), app.session() as session:
        person = _employees(session, [employee])[0]
        badge = service.revoke_badge(session, person, reason, now=_now(), actor=ACTOR)
        click.echo(f"Đã thu hồi thẻ {badge.serial} của {person.code} {person.full_name}.")


@badges.command("reissue")
@click.argument("employees", nargs=-1, required=True)
@click.option("--reason", default="cấp lại thẻ", show_default=True, help="Lý do cấp lại.")
@pass_app
def reissue(app: AppContext, employees: tuple[str, ...], reason: str) -> None:
    """Cấp lại thẻ (số sê-ri mới); thẻ cũ bị thu hồi ngay."""
    with _errors(), app.session() as session:
        people = _employees(session, employees)
        keyring = _keyring_for_signing()
        for person in people:
            badge = service.reissue_badge(session, person, keyring, reason=reason,
                                          now=_now(), actor=ACTOR)
            click.echo(f"{person.code}\t{person.full_name}\t{badge.serial}")


@badges.command("payload")
@click.argument("employee")
@click.option("--plain", is_flag=True, help="Chỉ chuỗi ký, không kèm địa chỉ public_base_url.")
@pass_app
def payload(app: AppContext, employee: str, plain: bool) -> None:
    """In nội dung mã QR của thẻ đang hiệu lực."""
    base_url = None if plain else app.config.public_base_url
    with _errors(), app.session() as session:
        person = _employees(session, [employee])[0]
        badge = service.active_badge(session, person)
        if badge is None:
            raise UserError(f"{person.code} chưa có thẻ đang hiệu lực "
                            "(chạy 'attendance badges issue')")
        click.echo(service.badge_payload(badge, _keyring(), base_url))


@badges.command("verify")
@click.argument("payload_text", metavar="PAYLOAD")
@pass_app
def verify(app: AppContext, payload_text: str) -> None:
    """Kiểm tra một mã QR: in tên cán bộ, hoặc lý do từ chối (mã thoát 1)."""
    with _errors(), app.session() as session:
        result = service.check_payload(session, payload_text, _keyring(), today=_now().date())
        person = (service.find_employee(session, result.employee_code)
                  if result.employee_code else None)
        name = person.full_name if person is not None else ""
    if result.ok:
        click.echo(f"Hợp lệ: {result.employee_code}\t{name}\tthẻ {result.serial}")
        return
    who = f" ({result.employee_code} {name}".rstrip() + ")" if result.employee_code else ""
    click.echo(f"Không hợp lệ: {service.REASONS[result.reason]}{who} [{result.reason}]")
    # Not ctx.exit(1): attendance.cli.main runs click with standalone_mode=False, which turns
    # ctx.exit's status into a return value that main() drops. SystemExit reaches the shell.
    sys.exit(1)


@badges.command("print")
@click.option("--unit", "unit_code", help="In cả đơn vị (kèm các đơn vị trực thuộc).")
@click.argument("employees", nargs=-1)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Tệp PDF (khổ A4, 8 thẻ một tờ).")
@click.option("--png-dir", type=click.Path(file_okay=False),
              help="Thêm một ảnh PNG 300 dpi cho mỗi thẻ (máy in thẻ).")
@pass_app
def print_cards(app: AppContext, unit_code: str | None, employees: tuple[str, ...], output: str,
                png_dir: str | None) -> None:
    """In thẻ ra PDF (--unit U | EMPLOYEE…) để gửi nhà in."""
    from attendance import cards as card_module
    from attendance.db import instance_path

    if (unit_code is None) == (not employees):
        raise UserError("chọn đúng một trong: --unit MÃ_ĐƠN_VỊ, hoặc mã cán bộ")
    keyring = _keyring()
    base_url = app.config.public_base_url
    with _errors(), app.session() as session:
        if unit_code is not None:
            people = _unit_employees(session, unit_code, active_today=True)
            people.sort(key=lambda e: (e.unit.code, name_sort_key(e.full_name)))
        else:
            people = _employees(session, employees)
        pairs = [(person, service.active_badge(session, person)) for person in people]
        without = [person.code for person, badge in pairs if badge is None]
        if without and employees:
            raise UserError(f"chưa có thẻ đang hiệu lực: {', '.join(without)} "
                            "(chạy 'attendance badges issue')")
        chosen = [badge for _, badge in pairs if badge is not None]
        if not chosen:
            raise UserError("không có thẻ nào để in (chạy 'attendance badges issue')")
        total = len(chosen) * (3 if png_dir else 2)
        with _progress("Đang in thẻ", total, enabled=unit_code is not None) as tick:
            cards = []
            for badge in chosen:
                cards.append(card_module.make_card(
                    badge, service.badge_payload(badge, keyring, base_url),
                    agency=app.config.agency, photo_dir=instance_path()))
                if tick:
                    tick()
            sheets = card_module.write_pdf(cards, output, on_card=tick)
            if png_dir:
                card_module.write_pngs(cards, png_dir, on_card=tick)
    click.echo(f"Đã in {len(cards)} thẻ trên {sheets} tờ A4: {output}")
    if png_dir:
        click.echo(f"Ảnh PNG 300 dpi: {Path(png_dir)}")
    if without:
        click.echo(f"Bỏ qua {len(without)} người chưa có thẻ: {', '.join(without[:10])}"
                   + ("…" if len(without) > 10 else ""), err=True)


# --- keys ------------------------------------------------------------------------------


@click.group()
@_keys_dir_option
@click.pass_context
def keys(ctx: click.Context, keys_dir: str | None) -> None:
    """Khóa ký thẻ: tạo, thay, ngừng dùng (badge signing keys)."""
    ctx.meta[KEYS_DIR_META] = keys_dir


@keys.command("init")
def keys_init() -> None:
    """Tạo khóa ký thẻ đầu tiên (chỉ máy chủ giữ khóa bí mật)."""
    with _errors():
        keyring = _keyring()
        info = keyring.init(_now())
    click.echo(f"Đã tạo khóa {info.key_id} trong {keyring.directory} (tệp khóa chỉ chủ sở hữu đọc được).")


@keys.command("rotate")
def keys_rotate() -> None:
    """Tạo khóa mới để ký thẻ từ nay; thẻ ký bằng khóa cũ vẫn hợp lệ."""
    with _errors():
        info = _keyring().rotate(_now())
    click.echo(f"Khóa ký thẻ mới: {info.key_id}. Thẻ đã cấp vẫn hợp lệ cho đến khi cấp lại "
               "hoặc khóa cũ bị ngừng dùng.")


@keys.command("retire")
@click.argument("key_id")
@click.option("--yes", is_flag=True,
              help="Không hỏi lại khi còn thẻ đang dùng khóa này (for scripts).")
@pass_app
def keys_retire(app: AppContext, key_id: str, yes: bool) -> None:
    """Ngừng dùng một khóa cũ: mọi thẻ ký bằng khóa đó bị từ chối."""
    with _errors():
        keyring = _keyring()
        retirable = any(k.key_id == key_id and not (k.retired or k.current)
                        for k in keyring.keys())
    with app.session() as session:
        affected = session.scalar(select(func.count(Badge.id)).where(
            Badge.key_id == key_id, Badge.revoked_at.is_(None)))
    if retirable and affected and not yes:
        # Every badge it signed is refused at once, at every gate: asked before, not after.
        click.confirm(f"{affected} thẻ đang hiệu lực ký bằng khóa {key_id} sẽ bị từ chối ngay "
                      "ở mọi điểm quét cho đến khi được cấp lại. Tiếp tục?", abort=True,
                      err=True)
    with _errors():
        info = keyring.retire(key_id, _now())
    click.echo(f"Đã ngừng dùng khóa {info.key_id}.")
    if affected:
        click.echo(f"{affected} thẻ đang hiệu lực ký bằng khóa này không còn hợp lệ; chạy "
                   "'attendance badges issue --all' để cấp lại.")


@keys.command("list")
@pass_app
def keys_list(app: AppContext) -> None:
    """Liệt kê các khóa: mã, ngày tạo, trạng thái, số thẻ đang dùng."""
    with _errors():
        infos = _keyring().keys()
    with app.session() as session:
        counts = dict(session.execute(
            select(Badge.key_id, func.count(Badge.id)).where(Badge.revoked_at.is_(None))
            .group_by(Badge.key_id)).all())
    tz = app.config.tz
    for info in infos:
        status = ("đang dùng" if info.current else
                  f"ngừng dùng {info.retired_at.astimezone(tz):%d/%m/%Y}" if info.retired else "còn hiệu lực")
        click.echo(f"{info.key_id}\ttạo {info.created_at.astimezone(tz):%d/%m/%Y %H:%M}\t{status}\t"
                   f"{counts.get(info.key_id, 0)} thẻ\t{info.public_key}")
