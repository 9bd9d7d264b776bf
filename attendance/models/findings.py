"""The violation log, materialized: every finding of every day that is over.

Derived data, rebuilt from the evidence at any time (``attendance.findings``): no foreign
keys, so that refreshing a day and partitioning the table by month stay cheap.

- ``daily_findings``: one row per finding, with the log's sort keys (the employee's unit
  and the two codes) stored beside it, so that one index serves ``ORDER BY … LIMIT``;
- ``finding_days``: the days materialized, each with the fingerprint of the config and
  code it was computed under (a day whose fingerprint differs is computed live);
- ``stale_findings``: employee-days whose evidence changed after they were materialized,
  written in the same transaction as the evidence; computed live until refreshed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Index, Integer, SmallInteger, String, event, insert, inspect, select, text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from attendance.db import Base
from attendance.models.org import Employee, Unit

# Codes compare as Python compares str (code point order); PostgreSQL's default collation
# would not (it ignores punctuation at first), and the log merges live rows into these.
SortKey = String(40).with_variant(String(40, collation="C"), "postgresql")


# The log's order: date, unit, employee, session, kind (then instant and source).
LOG_ORDER = ("day", "unit_code", "employee_code", "session", "kind", "at", "source")
EXCUSED = text("excuse_id IS NOT NULL")


class DailyFinding(Base):
    __tablename__ = "daily_findings"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    day: Mapped[date]
    unit_id: Mapped[int]  # the employee's unit when computed; refreshed when they move
    unit_code: Mapped[str] = mapped_column(SortKey)
    employee_id: Mapped[int]
    employee_code: Mapped[str] = mapped_column(SortKey)
    session: Mapped[int] = mapped_column(SmallInteger)  # -1: the whole day (an absence)
    kind: Mapped[int] = mapped_column(SmallInteger)  # index in rules.FINDING_KINDS (log order)
    minutes: Mapped[int | None]
    at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(12))  # scan | guard | spot_check
    excuse_id: Mapped[int | None]  # the approved excuse that covers it: status "excused"
    # An absence on a day made whole by a morning and an afternoon excuse: the afternoon's
    # (``excuse_id`` holds the morning's); a finding has two excuses at most.
    second_excuse_id: Mapped[int | None]

    __table_args__ = (
        # On PostgreSQL the index also holds the id and the filtered columns, so that the
        # rows a deep page skips are counted in the index alone (StoredLog.rows); on
        # SQLite every index holds the rowid (the id) already.
        Index("ix_daily_findings_log", *LOG_ORDER,
              postgresql_include=["id", "unit_id", "excuse_id"]),
        # The excused few (status "excused"), in the same order.
        Index("ix_daily_findings_excused", *LOG_ORDER, postgresql_where=EXCUSED,
              sqlite_where=EXCUSED),
        Index("ix_daily_findings_unit_day", "unit_id", "day"),
        Index("ix_daily_findings_employee_code_day", "employee_code", "day"),
        Index("ix_daily_findings_kind_day", "kind", "day"),
    )


class FindingDay(Base):
    __tablename__ = "finding_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]


class StaleFinding(Base):
    """An employee-day to compute again: ``day`` (a local date) or ``at`` (an instant,
    for writers that do not know the timezone); neither: every day (an org change)."""

    __tablename__ = "stale_findings"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    employee_id: Mapped[int]
    day: Mapped[date | None] = mapped_column(index=True)
    at: Mapped[datetime | None] = mapped_column(index=True)


# --- org changes ---------------------------------------------------------------------------

# An employee's findings depend on their unit (the log's scope and order, and the schedule
# it inherits), their active dates and their own schedule; a unit's schedule and place in
# the tree decide the schedule its staff inherit. Org data are edited as ORM objects in
# several places (imports, the demo, admin pages to come), so one listener marks every
# such change, in the same transaction.
EMPLOYEE_FIELDS = ("unit", "unit_id", "start_date", "end_date", "schedule")
UNIT_FIELDS = ("parent", "parent_id", "schedule")


def _changed(obj, fields: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


def _staff_of(connection, unit_ids: set[int]) -> set[int]:
    """Employees of ``unit_ids`` and of every unit below them."""
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in connection.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    seen, stack = set(), list(unit_ids)
    while stack:
        unit_id = stack.pop()
        if unit_id not in seen:
            seen.add(unit_id)
            stack.extend(children.get(unit_id, ()))
    return set(connection.scalars(select(Employee.id).where(Employee.unit_id.in_(sorted(seen)))))


@event.listens_for(Session, "after_flush")
def _mark_org_changes(session: Session, _context) -> None:
    employees: set[int] = set()
    units: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Employee):
            employees.add(obj.id)  # evaluated for every past day from now on
    for obj in session.dirty:
        if isinstance(obj, Employee) and _changed(obj, EMPLOYEE_FIELDS):
            employees.add(obj.id)
        elif isinstance(obj, Unit) and _changed(obj, UNIT_FIELDS):
            units.add(obj.id)
    if not employees and not units:
        return
    connection = session.connection()
    if units:
        employees |= _staff_of(connection, units)
    if employees:
        connection.execute(insert(StaleFinding), [
            {"employee_id": employee_id, "day": None, "at": None}
            for employee_id in sorted(employees)])
