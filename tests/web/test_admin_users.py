"""Editing users: role and scope, deactivating and reactivating, with audit entries."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

from sqlalchemy import insert, select
from web_helpers import csrf_token, login

from attendance.models import AuditEntry, User


def user(session_factory, username) -> User:
    with session_factory() as session:
        return session.scalar(select(User).where(User.username == username))


def last_audit(session_factory) -> AuditEntry:
    with session_factory() as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()


def edit(client, user_id, **fields):
    token = csrf_token(client, f"/admin/users/{user_id}/edit")
    return client.post(f"/admin/users/{user_id}/edit", data={"csrf_token": token, **fields})


def set_active(client, user_id, active):
    token = csrf_token(client, "/admin/users")
    return client.post(f"/admin/users/{user_id}/active",
                       data={"csrf_token": token, "active": "1" if active else "0"})


def test_change_role_and_scope(login_as, session_factory, app):
    admin = login_as("admin")
    inspector = user(session_factory, "inspector")
    page = admin.get(f"/admin/users/{inspector.id}/edit").get_data(as_text=True)
    assert "Sửa tài khoản inspector" in page
    assert edit(admin, inspector.id, role="unit_head").status_code == 400  # needs a unit
    assert edit(admin, inspector.id, role="unit_head", unit="NOPE").status_code == 400
    assert edit(admin, inspector.id, role="unit_head", unit="STC").status_code == 303
    changed = user(session_factory, "inspector")
    assert changed.role == "unit_head" and changed.unit_id is not None
    entry = last_audit(session_factory)
    assert entry.action == "user.role_changed" and entry.target == "user:inspector"
    details = json.loads(entry.details)
    assert details["before"]["role"] == "inspector"
    assert details["after"] == {"role": "unit_head", "unit": "STC", "employee": None}
    # The new scope applies: the former inspector no longer sees SNV's employees.
    other = app.test_client()
    assert login(other, "inspector").status_code == 302
    employees = other.get("/employees").get_data(as_text=True)
    assert "Phạm Minh Dũng" in employees and "Trần Thị Bình" not in employees


def test_deactivate_and_reactivate(login_as, session_factory, app):
    admin = login_as("admin")
    head = user(session_factory, "head_snv")
    signed_in = app.test_client()
    assert login(signed_in, "head_snv").status_code == 302
    assert set_active(admin, head.id, False).status_code == 303
    assert not user(session_factory, "head_snv").active
    assert last_audit(session_factory).action == "user.deactivated"
    assert "Đã khóa" in admin.get("/admin/users").get_data(as_text=True)
    # The open session ends and signing in again is refused.
    assert signed_in.get("/today").status_code == 302
    assert login(app.test_client(), "head_snv").status_code != 302
    assert set_active(admin, head.id, True).status_code == 303
    assert user(session_factory, "head_snv").active
    assert last_audit(session_factory).action == "user.reactivated"
    assert login(app.test_client(), "head_snv").status_code == 302


def test_admin_cannot_lock_themselves_out(login_as, session_factory):
    admin = login_as("admin")
    me = user(session_factory, "admin")
    set_active(admin, me.id, False)
    assert user(session_factory, "admin").active
    assert edit(admin, me.id, role="inspector").status_code == 400
    assert user(session_factory, "admin").role == "admin"
    assert "Khóa tài khoản" not in admin.get(f"/admin/users/{me.id}/edit").get_data(as_text=True)


def test_csrf_and_roles(login_as, session_factory):
    staff = user(session_factory, "staff_snv")
    admin = login_as("admin")
    response = admin.post(f"/admin/users/{staff.id}/active", data={"active": "0"})
    assert response.status_code == 400
    assert user(session_factory, "staff_snv").active
    admin.post("/auth/logout", data={"csrf_token": csrf_token(admin, "/")})
    head = login_as("head_snv")
    assert head.get(f"/admin/users/{staff.id}/edit").status_code == 403
    token = csrf_token(head, "/")
    assert head.post(f"/admin/users/{staff.id}/active",
                     data={"csrf_token": token, "active": "0"}).status_code == 403
    assert user(session_factory, "staff_snv").active


def new_user(client, username, role, **fields):
    form = {"csrf_token": csrf_token(client, "/admin/users/new"), "username": username,
            "role": role, "unit": "", "employee": "", "password": "mat-khau-789",
            "confirm": "mat-khau-789", **fields}
    return client.post("/admin/users/new", data=form)


def usernames(session_factory) -> list[str]:
    with session_factory() as session:
        return sorted(session.scalars(select(User.username)))


def test_a_username_is_taken_whatever_its_case(login_as, session_factory, app):
    admin = login_as("admin")
    before = usernames(session_factory)
    response = new_user(admin, "HEAD_SNV", "unit_head", unit="STC")
    assert response.status_code == 400
    assert "Tên đăng nhập đã được dùng: đã có tài khoản head_snv" in \
        response.get_data(as_text=True)
    assert usernames(session_factory) == before
    # The account kept the spelling it was made with; any other one signs in as it.
    assert new_user(admin, "Head_STC", "unit_head", unit="STC").status_code == 302
    assert "Head_STC" in usernames(session_factory)
    assert new_user(admin, "head_stc", "inspector").status_code == 400
    other = app.test_client()
    assert login(other, "HEAD_STC", "mat-khau-789").status_code == 302
    assert "Head_STC" in other.get("/").get_data(as_text=True)
    assert last_audit(session_factory).actor == "Head_STC"


def test_two_creations_at_once_differing_in_case(login_as, session_factory, engine):
    """Another transaction adds RACE_USER, not yet committed, while the admin's form adds
    race_user: the form's check cannot see it; the database refuses the second once the
    first commits, and the form says the name is taken, as when it could see it."""
    admin = login_as("admin")
    before = usernames(session_factory)
    other = engine.connect()
    try:
        other.execute(insert(User).values(
            username="RACE_USER", password_hash="x", role="inspector", active=True,
            created_at=datetime(2026, 11, 23, tzinfo=timezone.utc), language="vi"))
        # The form's INSERT waits for this transaction (its lock, or the index's entry).
        committing = threading.Timer(1.0, other.commit)
        committing.start()
        response = new_user(admin, "race_user", "inspector")
        committing.join()
    finally:
        other.close()
    assert response.status_code == 400
    assert "Tên đăng nhập đã được dùng: đã có tài khoản RACE_USER" in \
        response.get_data(as_text=True)
    assert usernames(session_factory) == sorted([*before, "RACE_USER"])


def test_one_account_per_employee(login_as, session_factory, province):
    admin = login_as("admin")
    before = usernames(session_factory)
    response = new_user(admin, "binh2", "staff", employee="E-SNV")
    assert response.status_code == 400
    assert "Cán bộ E-SNV đã có tài khoản staff_snv; mỗi cán bộ chỉ có một tài khoản" in \
        response.get_data(as_text=True)
    assert usernames(session_factory) == before
    # Nor may an edit link a second account to them; the account itself is edited as before.
    inspector = user(session_factory, "inspector")
    response = edit(admin, inspector.id, role="inspector", employee="E-SNV")
    assert response.status_code == 400
    assert "Cán bộ E-SNV đã có tài khoản staff_snv" in response.get_data(as_text=True)
    assert user(session_factory, "inspector").employee_id is None
    staff = user(session_factory, "staff_snv")
    assert edit(admin, staff.id, role="staff", employee="E-SNV").status_code == 303
    # Someone without an account gets one.
    assert new_user(admin, "cuong", "staff", employee="E-P1").status_code == 302
    assert user(session_factory, "cuong").employee_id == province["e_p1"]


def test_a_password_too_long_says_so(login_as):
    long = "x" * 1025
    response = new_user(login_as("admin"), "dai_qua", "inspector", password=long, confirm=long)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Mật khẩu dài quá 1024 ký tự" in html and "ít nhất 8 ký tự" not in html


def test_an_employee_code_is_found_whatever_its_case(login_as, session_factory, province):
    """Typing "e-p1" links the account to employee E-P1 (the users list then names them);
    when two codes differ only in case, the exact one is needed and the message says so."""
    from factories import make_employee

    from attendance.models import Unit

    admin = login_as("admin")
    assert new_user(admin, "cuong", "staff", employee=" e-p1 ").status_code == 302
    assert user(session_factory, "cuong").employee_id == province["e_p1"]
    row = next(r for r in admin.get("/admin/users").get_data(as_text=True).split("<tr>")
               if ">cuong<" in r)
    assert "Lê Văn Cường" in row
    assert json.loads(last_audit(session_factory).details)["employee"] == "E-P1"
    inspector = user(session_factory, "inspector")
    assert edit(admin, inspector.id, role="inspector", employee="e-stc").status_code == 303
    assert user(session_factory, "inspector").employee_id == province["e_stc"]
    assert json.loads(last_audit(session_factory).details)["after"]["employee"] == "E-STC"
    # Two records whose codes differ only in case: the exact code picks one, another
    # spelling is refused with both codes named.
    with session_factory() as session:
        stc = session.get(Unit, province["STC"])
        make_employee(session, stc, "Hd-7", "Đỗ Thị Hoa")
        make_employee(session, stc, "HD-7", "Đỗ Văn Hùng")
        session.commit()
    before = usernames(session_factory)
    for typed in ("hd-7", "hD-7"):
        response = new_user(admin, "hoa", "staff", employee=typed)
        assert response.status_code == 400
        assert ("Mã này khớp với 2 cán bộ: HD-7, Hd-7. "
                "Hãy gõ đúng mã, phân biệt chữ hoa, chữ thường.") in response.get_data(as_text=True)
    response = edit(admin, inspector.id, role="inspector", employee="hd-7")
    assert response.status_code == 400 and "HD-7, Hd-7." in response.get_data(as_text=True)
    assert usernames(session_factory) == before
    assert new_user(admin, "hoa", "staff", employee="Hd-7").status_code == 302
    with session_factory() as session:
        hoa = session.scalar(select(User).where(User.username == "hoa"))
        assert hoa.employee.full_name == "Đỗ Thị Hoa"
    assert "Không có cán bộ có mã này" in new_user(
        admin, "nobody", "staff", employee="hd7").get_data(as_text=True)
