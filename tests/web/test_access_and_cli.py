"""attendance.access (scope, passwords, station keys) and the ``user``/``serve`` commands."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from attendance import access
from attendance.models import Employee, Unit, User
from factories import NOW, make_employee, make_unit, make_user


@pytest.fixture
def tree(db_session):
    s = db_session
    root = make_unit(s, "R", "Tỉnh")
    a = make_unit(s, "A", "Sở A", parent=root)
    a1 = make_unit(s, "A1", "Phòng A1", parent=a)
    a11 = make_unit(s, "A11", "Tổ A11", parent=a1)
    b = make_unit(s, "B", "Sở B", parent=root)
    ea = make_employee(s, a11, "EA")
    eb = make_employee(s, b, "EB")
    return s, {"root": root, "a": a, "a1": a1, "a11": a11, "b": b, "ea": ea, "eb": eb}


def test_scope_by_role(tree):
    s, t = tree
    admin = make_user(s, "ad", "admin")
    head = make_user(s, "hd", "unit_head", unit=t["a1"])
    staff = make_user(s, "st", "staff", employee=t["ea"])
    assert access.visible_unit_ids(s, admin) is None
    assert access.visible_unit_ids(s, head) == {t["a1"].id, t["a11"].id}
    assert access.visible_unit_ids(s, staff) == frozenset()
    assert access.can_see_employee(s, head, t["ea"]) and not access.can_see_employee(s, head, t["eb"])
    assert access.can_see_employee(s, staff, t["ea"]) and not access.can_see_employee(s, staff, t["eb"])
    assert set(s.scalars(select(Employee.code).where(access.employee_filter(s, head)))) == {"EA"}
    assert set(s.scalars(select(Employee.code).where(access.employee_filter(s, staff)))) == {"EA"}
    assert set(s.scalars(select(Unit.code).where(access.unit_filter(s, head)))) == {"A1", "A11"}
    assert set(s.scalars(select(Unit.code).where(access.unit_filter(s, staff)))) == set()
    head.active = False
    assert access.visible_unit_ids(s, head) == frozenset()
    assert not access.can_see_employee(s, head, t["ea"])


def test_create_user_rules(tree):
    s, t = tree
    with pytest.raises(access.AccessError, match="needs a unit"):
        access.create_user(s, username="hh", role="unit_head", password="x" * 10, now=NOW)
    with pytest.raises(access.AccessError, match="employee"):
        access.create_user(s, username="st", role="staff", password="x" * 10, now=NOW)
    with pytest.raises(access.AccessError, match="mật khẩu cần ít nhất"):
        access.create_user(s, username="in", role="inspector", password="short", now=NOW)
    with pytest.raises(access.AccessError, match="vai trò không hợp lệ"):
        access.create_user(s, username="in", role="king", password="x" * 10, now=NOW)
    make_user(s, "in", "inspector")
    with pytest.raises(access.AccessError, match="taken"):
        make_user(s, "in", "inspector")
    with pytest.raises(access.AccessError, match="tài khoản 'in'"):
        make_user(s, "IN", "admin")
    make_user(s, "st", "staff", employee=t["ea"])
    with pytest.raises(access.AccessError, match="cán bộ EA đã có tài khoản 'st'"):
        make_user(s, "st2", "staff", employee=t["ea"])
    with pytest.raises(access.AccessError, match="cán bộ EA đã có tài khoản 'st'"):
        make_user(s, "hh", "unit_head", unit=t["a"], employee=t["ea"])
    assert access.find_user(s, "IN").username == "in"
    assert access.find_user(s, "ST ").username == "st"
    assert access.find_user(s, "nobody") is None


def test_passwords_and_station_keys():
    stored = access.hash_password("mat-khau-123")
    assert access.verify_password(stored, "mat-khau-123")
    assert not access.verify_password(stored, "mat-khau-124")
    assert not access.verify_password(None, "anything")
    assert not access.verify_password("not-a-hash", "anything")
    key = access.new_station_key()
    assert len(key) >= 40 and access.station_key_matches(key, access.hash_station_key(key))
    assert len(access.hash_station_key(key)) == 64


def test_log_action_chains_entries(db_session):
    first = access.log_action(db_session, actor="a", action="x", at=NOW, details={"k": "v"})
    second = access.log_action(db_session, actor="a", action="y", at=NOW)
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash
    assert first.details == '{"k": "v"}'


def test_user_commands(cli, session_factory):
    with session_factory() as s:
        unit = make_unit(s, "SNV", "Sở Nội vụ")
        make_employee(s, unit, "E1", "Nguyễn Văn An")
        s.commit()
    result = cli("user", "add", "head", "--role", "unit_head", "--unit", "SNV",
                 "--password", "mat-khau-123")
    assert result.exit_code == 0, result.output
    result = cli("user", "add", "an", "--role", "staff", "--employee", "E1",
                 input="mat-khau-456\nmat-khau-456\n")
    assert result.exit_code == 0, result.output
    assert cli("user", "add", "x", "--role", "unit_head", "--password", "mat-khau-123") \
        .exit_code == 1
    assert cli("user", "add", "y", "--role", "staff", "--employee", "NOPE",
               "--password", "mat-khau-123").exit_code == 1
    # The same rules as the page: a username in another case, an employee's second account.
    result = cli("user", "add", "HEAD", "--role", "inspector", "--password", "mat-khau-123")
    assert result.exit_code == 1
    assert "Lỗi: tên đăng nhập 'HEAD' đã được dùng: tài khoản 'head'" in result.output
    result = cli("user", "add", "an2", "--role", "staff", "--employee", "E1",
                 "--password", "mat-khau-123")
    assert result.exit_code == 1
    assert "Lỗi: cán bộ E1 đã có tài khoản 'an'" in result.output
    # An employee code in another case, as on the page; the exact code when two differ so.
    result = cli("user", "add", "an3", "--role", "staff", "--employee", "e1",
                 "--password", "mat-khau-123")
    assert result.exit_code == 1 and "Lỗi: cán bộ E1 đã có tài khoản 'an'" in result.output
    with session_factory() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "SNV"))
        make_employee(s, unit, "Hd-7", "Đỗ Thị Hoa")
        make_employee(s, unit, "HD-7", "Đỗ Văn Hùng")
        make_employee(s, unit, "E2", "Lê Thị Lan")
        s.commit()
    result = cli("user", "add", "lan", "--role", "staff", "--employee", "e2",
                 "--password", "mat-khau-123")
    assert result.exit_code == 0, result.output
    result = cli("user", "add", "hoa", "--role", "staff", "--employee", "hd-7",
                 "--password", "mat-khau-123")
    assert result.exit_code == 1
    assert ("Lỗi: mã 'hd-7' khớp với 2 cán bộ: HD-7, Hd-7; hãy gõ đúng mã, phân biệt chữ hoa,"
            " chữ thường") in result.output
    # set-password finds the account as signing in does, whatever the case.
    result = cli("user", "set-password", "AN", "--password", "mat-khau-789")
    assert result.exit_code == 0, result.output
    assert "Đã đặt mật khẩu cho an." in result.output
    listing = cli("user", "list").output
    assert "head\tunit_head\tSNV" in listing and "an\tstaff\tE1" in listing
    assert "lan\tstaff\tE2" in listing
    with session_factory() as s:
        an = s.scalar(select(User).where(User.username == "an"))
        assert access.verify_password(an.password_hash, "mat-khau-789")


def test_serve_help(cli):
    result = cli("serve", "--help")
    assert result.exit_code == 0
    for option in ("--host", "--port", "--no-scheduler", "--demo-station"):
        assert option in result.output


def test_every_command_explains_itself_in_vietnamese(cli):
    """Each command's --help opens with Vietnamese (an English gloss may follow), as the
    command list of ``attendance --help`` does."""
    vietnamese = re.compile(r"[À-ỹĐđ]")
    pending, english = [()], []
    while pending:
        path = pending.pop()
        result = cli(*path, "--help")
        assert result.exit_code == 0, path
        description = result.output.split("\n\n", 2)[1]
        if not vietnamese.search(description):
            english.append(" ".join(path))
        if "Commands:" in result.output:
            listing = result.output.split("Commands:", 1)[1]
            pending += [path + (line.split()[0],) for line in listing.splitlines()
                        if line.startswith("  ") and not line.startswith("   ")]
    assert not english, english
