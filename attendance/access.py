"""Access control: who may see what, and how people and stations prove who they are.

Framework-free, so the web service and the command line share it:

- scope: an admin or an inspector sees every unit; a unit head sees their unit and its
  sub-units; a staff member sees only their own employee record;
- passwords are hashed with Argon2id (argon2-cffi); station keys are random tokens of
  which only the SHA-256 hex digest is stored (``Station.key_hash``);
- ``create_user`` / ``set_password`` / ``log_action`` are operations that take a session
  and never commit;
- a username is unique whatever its case (``head_stc`` and ``HEAD_STC`` are one name, kept
  as first typed; ``find_user`` signs in under either): checked here, and guaranteed by a
  unique index on ``lower(username)`` against two creations at the same moment (the
  upgrade that adds it stops on a database holding such a pair, until one is renamed);
- an employee record has one account at most, checked here in the transaction that adds
  the account.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from attendance.audit import record
from attendance.models import Employee, Unit, User
from attendance.models.users import ROLES
from attendance.org import org_tree

ALL_UNIT_ROLES = frozenset({"admin", "inspector"})
ROLE_LABELS = {
    "admin": "Quản trị hệ thống",
    "inspector": "Cán bộ kiểm tra",
    "unit_head": "Thủ trưởng đơn vị",
    "staff": "Cán bộ, công chức, viên chức",
}
MIN_PASSWORD_LENGTH = 8
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
AUDIT_STREAM = "audit"


class AccessError(ValueError):
    """A request the rules refuse (bad role, unknown unit, weak password); the message says why."""


class UsernameTaken(AccessError):
    """The username is another account's, whatever the case: ``owner`` is that account's."""

    def __init__(self, username: str, owner: str):
        super().__init__(f"tên đăng nhập {username!r} đã được dùng: tài khoản {owner!r} "
                         "(username taken, whatever the case)")
        self.owner = owner


# --- passwords ----------------------------------------------------------------------------

# Module-level so tests can swap in cheap parameters (see tests/web/conftest.py).
password_hasher = PasswordHasher()
_dummy_hash: str | None = None


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. With no hash (unknown user) a dummy hash is still
    checked, so the answer takes as long as for a real user (no user enumeration by timing)."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = password_hasher.hash(secrets.token_hex(16))
        password_hash = _dummy_hash
        password = password + "\0never-matches"
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    try:
        return password_hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_password_strength(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(f"mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự "
                          "(password too short)")
    if username and password.casefold() == username.casefold():
        raise AccessError("mật khẩu không được trùng tên đăng nhập (password equals the username)")


# --- station keys -------------------------------------------------------------------------


def new_station_key() -> str:
    """A fresh random station key; show it once, store only ``hash_station_key(key)``.

    The prefix keeps a key from starting with "-", which a command line would take for an
    option (``attendance-station --key -x…``), and says what the secret is when found.
    """
    return "st_" + secrets.token_urlsafe(32)


def hash_station_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def station_key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_station_key(key), key_hash)


# --- scope --------------------------------------------------------------------------------


def subtree_unit_ids(session: Session, unit_ids: int | Iterable[int]) -> frozenset[int]:
    """The given units and all their descendants, from the kept unit tree
    (:func:`attendance.org.org_tree`: one small query while the units do not change)."""
    tree = org_tree(session)
    roots = [unit_ids] if isinstance(unit_ids, int) else unit_ids
    return frozenset(u for root in roots for u in tree.subtree(root))


def sees_all_units(user: User) -> bool:
    return user.active and user.role in ALL_UNIT_ROLES


def visible_unit_ids(session: Session, user: User) -> frozenset[int] | None:
    """The ids of the units whose data ``user`` may see; ``None`` means every unit.

    A staff member sees no unit as such (only their own record, see ``can_see_employee``).
    """
    if not user.active:
        return frozenset()
    if user.role in ALL_UNIT_ROLES:
        return None
    if user.role == "unit_head" and user.unit_id is not None:
        return subtree_unit_ids(session, user.unit_id)
    return frozenset()


def can_see_unit(session: Session, user: User, unit_id: int) -> bool:
    visible = visible_unit_ids(session, user)
    return visible is None or unit_id in visible


def can_see_employee(session: Session, user: User, employee: Employee) -> bool:
    if not user.active:
        return False
    if user.role == "staff":
        return user.employee_id is not None and employee.id == user.employee_id
    return can_see_unit(session, user, employee.unit_id)


def unit_filter(session: Session, user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting ``select(Unit)`` to what ``user`` may see."""
    visible = visible_unit_ids(session, user)
    if visible is None:
        return true()
    return Unit.id.in_(sorted(visible)) if visible else false()


def employee_filter(session: Session, user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting ``select(Employee)`` to what ``user`` may see."""
    if not user.active:
        return false()
    if user.role == "staff":
        return Employee.id == user.employee_id if user.employee_id is not None else false()
    visible = visible_unit_ids(session, user)
    if visible is None:
        return true()
    return Employee.unit_id.in_(sorted(visible)) if visible else false()


# --- users --------------------------------------------------------------------------------


def find_user(session: Session, username: str) -> User | None:
    """The account of ``username`` (as typed to sign in), whatever its case: one at most,
    since usernames are unique whatever their case (the exact spelling is looked up first,
    by the index on the name)."""
    username = username.strip()
    exact = session.scalar(select(User).where(User.username == username))
    if exact is not None or not username.isascii():  # usernames are ASCII (USERNAME_RE)
        return exact
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def username_owner(session: Session, username: str, other_than: User | None = None,
                   ) -> User | None:
    """The account already called ``username``, whatever the case, if any (besides
    ``other_than``)."""
    query = select(User).where(func.lower(User.username) == username.strip().lower())
    if other_than is not None and other_than.id is not None:
        query = query.where(User.id != other_than.id)
    return session.scalars(query.order_by(User.id)).first()


def employees_by_code(session: Session, code: str) -> list[Employee]:
    """The employee whose code is ``code`` as typed, else those whose code differs from it
    only in case ("cb0001" finds "CB0001"), by code: one is the employee meant, several
    are for the admin to tell apart by typing the exact code.

    Case is ignored for ASCII letters only, as in ``find_user`` (SQLite's ``lower`` folds
    no others): a code with other letters is typed exactly.
    """
    code = code.strip()
    exact = session.scalar(select(Employee).where(Employee.code == code))
    if exact is not None or not code or not code.isascii():
        return [exact] if exact is not None else []
    found = session.scalars(select(Employee).where(func.lower(Employee.code) == code.lower()))
    return sorted(found, key=lambda e: e.code)  # the same order on every database's collation


def employee_account(session: Session, employee_id: int) -> User | None:
    """The account linked to the employee record, if any."""
    return session.scalars(select(User).where(User.employee_id == employee_id)
                           .order_by(User.id)).first()


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str,
    now: datetime,
    unit_id: int | None = None,
    employee_id: int | None = None,
    language: str = "vi",
) -> User:
    """Add a user; a unit head needs a unit, a staff member an employee record.

    The username must not be taken in any case, nor the employee record by another account.
    """
    username = _free_username(session, username)
    if role not in ROLES:
        raise AccessError(f"vai trò không hợp lệ {role!r} (một trong: {', '.join(ROLES)})")
    if role == "unit_head" and unit_id is None:
        raise AccessError("thủ trưởng đơn vị cần có đơn vị (a unit head needs a unit)")
    if role == "staff" and employee_id is None:
        raise AccessError("tài khoản cán bộ cần gắn với hồ sơ cán bộ (a staff member needs an "
                          "employee record)")
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise AccessError(f"không có đơn vị số {unit_id} (unknown unit id)")
    if employee_id is not None:
        employee = session.get(Employee, employee_id)
        if employee is None:
            raise AccessError(f"không có cán bộ số {employee_id} (unknown employee id)")
        linked = employee_account(session, employee_id)
        if linked is not None:
            raise AccessError(f"cán bộ {employee.code} đã có tài khoản {linked.username!r} "
                              "(one account per employee)")
    check_password_strength(password, username)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_id if role == "unit_head" else None,
        employee_id=employee_id,
        active=True,
        created_at=now,
        language=language,
    )
    _save_username(session, user, username)
    return user


def _free_username(session: Session, username: str, user: User | None = None) -> str:
    """``username`` stripped, if it is well formed and no other account's in any case."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccessError("tên đăng nhập gồm 2–80 chữ cái, chữ số hoặc . _ @ - (username: 2-80 "
                          "letters, digits or . _ @ -)")
    owner = username_owner(session, username, other_than=user)
    if owner is not None:
        raise UsernameTaken(username, owner.username)
    return username


def _save_username(session: Session, user: User, username: str) -> None:
    """Write ``user``, new or renamed ``username``; another account given the name
    meanwhile, in any case, is refused by the database's index: ``UsernameTaken``, and the
    session goes on without this change."""
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        owner = username_owner(session, username, other_than=user)
        if owner is None:
            raise
        raise UsernameTaken(username, owner.username) from None


def rename_user(session: Session, user: User, username: str) -> None:
    """Give ``user`` a new username (well formed, no other account's in any case); it signs
    in under the new name only. Never commits."""
    user.username = username = _free_username(session, username, user)
    _save_username(session, user, username)


def set_password(user: User, password: str) -> None:
    check_password_strength(password, user.username)
    user.password_hash = hash_password(password)


# Kept under this name for the web and CLI callers; the audit log lives in attendance.audit.
log_action = record
