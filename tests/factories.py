"""Small factories for test data. Each adds to the session and flushes; none commits."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from attendance import access
from attendance.models import Employee, Station, Unit, User

_seq = itertools.count(1)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def make_unit(session: Session, code: str | None = None, name: str | None = None, *,
              parent: Unit | None = None, schedule: str | None = None) -> Unit:
    code = code or f"U{next(_seq)}"
    unit = Unit(code=code, name=name or f"Đơn vị {code}", parent=parent, schedule=schedule)
    session.add(unit)
    session.flush()
    return unit


def make_employee(session: Session, unit: Unit, code: str | None = None,
                  full_name: str | None = None, **fields) -> Employee:
    code = code or f"E{next(_seq):04d}"
    employee = Employee(code=code, full_name=full_name or f"Nguyễn Văn {code}", unit=unit,
                        **fields)
    session.add(employee)
    session.flush()
    return employee


def make_user(session: Session, username: str, role: str, *, password: str = "mat-khau-123",
              unit: Unit | None = None, employee: Employee | None = None,
              active: bool = True, language: str = "vi") -> User:
    user = access.create_user(
        session, username=username, role=role, password=password, now=NOW,
        unit_id=unit.id if unit else None, employee_id=employee.id if employee else None,
        language=language,
    )
    user.active = active
    session.flush()
    return user


def make_station(session: Session, unit: Unit, code: str | None = None, *,
                 key: str | None = None) -> tuple[Station, str]:
    """A registered station and its clear-text key."""
    key = key or access.new_station_key()
    station = Station(code=code or f"ST{next(_seq)}", unit_id=unit.id,
                      key_hash=access.hash_station_key(key), created_at=NOW, active=True)
    session.add(station)
    session.flush()
    return station, key
