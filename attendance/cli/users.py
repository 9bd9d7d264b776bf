"""``attendance user``: accounts for the web service (add, set-password, rename, list)."""

from __future__ import annotations

from datetime import datetime, timezone

import click
from sqlalchemy import select

from attendance import access
from attendance.cli.context import AppContext, UserError, pass_app
from attendance.models import Unit, User
from attendance.models.users import ROLES


@click.group("user")
def user() -> None:
    """Tài khoản người dùng: admin, inspector, unit_head (kèm --unit), staff (kèm --employee)."""


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return click.prompt("Mật khẩu (password)", hide_input=True, confirmation_prompt=True)


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", help="Mã đơn vị (bắt buộc với unit_head).")
@click.option("--employee", "employee_code", help="Mã cán bộ (bắt buộc với staff).")
@click.option("--password", help="Mật khẩu; không ghi thì hệ thống hỏi.")
@pass_app
def add(app: AppContext, username: str, role: str, unit_code: str | None,
        employee_code: str | None, password: str | None) -> None:
    """Tạo tài khoản (add a user)."""
    with app.session() as session:
        unit = employee = None
        if unit_code:
            unit = session.scalar(select(Unit).where(Unit.code == unit_code))
            if unit is None:
                raise UserError(f"không có đơn vị {unit_code!r} (unknown unit)")
        if employee_code:
            found = access.employees_by_code(session, employee_code)  # any case, as the page
            if not found:
                raise UserError(f"không có cán bộ {employee_code!r} (unknown employee)")
            if len(found) > 1:
                raise UserError(
                    f"mã {employee_code!r} khớp với {len(found)} cán bộ:"
                    f" {', '.join(e.code for e in found)}; hãy gõ đúng mã, phân biệt chữ hoa,"
                    " chữ thường (ambiguous employee code)")
            employee = found[0]
            employee_code = employee.code
        now = datetime.now(timezone.utc)
        try:
            created = access.create_user(
                session, username=username, role=role, password=_password(password), now=now,
                unit_id=unit.id if unit else None, employee_id=employee.id if employee else None,
            )
        except access.AccessError as exc:
            raise UserError(str(exc)) from None
        access.log_action(session, actor="cli", action="user.created", at=now,
                          target=f"user:{created.username}",
                          details={"role": role, "unit": unit_code, "employee": employee_code})
        username = created.username  # stripped
    click.echo(f"Đã tạo tài khoản {username} ({role}).")


@user.command("set-password")
@click.argument("username")
@click.option("--password", help="Mật khẩu mới; không ghi thì hệ thống hỏi.")
@pass_app
def set_password(app: AppContext, username: str, password: str | None) -> None:
    """Đặt mật khẩu; các phiên đăng nhập đang mở bị đăng xuất (set a password)."""
    with app.session() as session:
        account = access.find_user(session, username)  # whatever the case, as signing in
        if account is None:
            raise UserError(f"không có tài khoản {username!r} (unknown user)")
        try:
            access.set_password(account, _password(password))
        except access.AccessError as exc:
            raise UserError(str(exc)) from None
        access.log_action(session, actor="cli", action="auth.password_set",
                          at=datetime.now(timezone.utc), target=f"user:{account.username}")
        username = account.username
    click.echo(f"Đã đặt mật khẩu cho {username}.")


@user.command("rename")
@click.argument("username")
@click.argument("new_username")
@pass_app
def rename(app: AppContext, username: str, new_username: str) -> None:
    """Đổi tên đăng nhập (tên cũ viết đúng như `attendance user list`); người dùng đăng
    nhập bằng tên mới (rename an account)."""
    with app.session() as session:
        # The exact name: before usernames were unique whatever their case, a database may
        # hold head_stc and HEAD_STC, and `attendance init-db` asks to rename one of them.
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            raise UserError(f"không có tài khoản {username!r}; ghi đúng tên như "
                            "`attendance user list` (unknown user)")
        try:
            access.rename_user(session, account, new_username)
        except access.AccessError as exc:
            raise UserError(str(exc)) from None
        access.log_action(session, actor="cli", action="user.renamed",
                          at=datetime.now(timezone.utc), target=f"user:{account.username}",
                          details={"before": username, "after": account.username})
        new_username = account.username
    click.echo(f"Đã đổi tên đăng nhập {username} thành {new_username}.")


@user.command("list")
@pass_app
def list_users(app: AppContext) -> None:
    """Liệt kê các tài khoản (list the users)."""
    with app.session() as session:
        for account in session.scalars(select(User).order_by(User.username)):
            scope = account.unit.code if account.unit else (
                account.employee.code if account.employee else "")
            state = "" if account.active else " (đã khóa)"
            click.echo(f"{account.username}\t{account.role}\t{scope}{state}")
