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


def test_the_upgrade_stops_on_usernames_differing_only_in_case(cli, engine, session_factory):
    """A database from before the unique index, holding head and HEAD (and an, An, AN): the
    upgrade names them and changes nothing; once renamed (``user rename``), it goes on and
    the database refuses such a pair from then on."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from attendance import migrate

    def revision() -> str:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT version_num FROM alembic_version"))

    with engine.begin() as connection:
        config = migrate.alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with session_factory() as s:  # as the forms could not prevent (access.create_user does)
        s.add_all(User(username=name, password_hash="x", role="inspector", created_at=NOW)
                  for name in ("head", "an", "HEAD", "An", "AN", "lan"))
        s.commit()
    result = cli("init-db")
    assert result.exit_code == 1 and revision() == "0004"
    assert ("các tài khoản sau chỉ khác nhau ở chữ hoa, chữ thường: an, An, AN; head, HEAD. "
            "Hãy đổi tên cho mỗi nhóm chỉ còn một tài khoản (`attendance user rename TÊN_CŨ "
            "TÊN_MỚI`") in result.output
    assert result.output.startswith("Lỗi: ") and len(result.output.splitlines()) == 1
    # Renaming: the exact name; not to a name taken in another case.
    assert "không có tài khoản 'Head'" in cli("user", "rename", "Head", "truong").output
    refused = cli("user", "rename", "An", "LAN")
    assert refused.exit_code == 1 and "tài khoản 'lan'" in refused.output
    for old, new in (("HEAD", "head2"), ("An", "an_le"), ("AN", "an.nguyen")):
        renamed = cli("user", "rename", old, new)
        assert renamed.exit_code == 0 and f"Đã đổi tên đăng nhập {old} thành {new}." in \
            renamed.output
    assert "Đổi tên đăng nhập [user.renamed]\tuser:an.nguyen\tTrước khi sửa: AN; " \
        "Sau khi sửa: an.nguyen" in cli("audit", "list", "--limit", "1").output
    assert cli("init-db").exit_code == 0 and revision() == "0005"
    with session_factory() as s:
        s.add(User(username="Lan", password_hash="x", role="inspector", created_at=NOW))
        with pytest.raises(IntegrityError):
            s.commit()
